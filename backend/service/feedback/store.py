"""The one data-access module for corrections: SQLite (a file under DATA_DIR) or PostgreSQL (DATABASE_URL).

    store = FeedbackStore(database_url_for(settings.data_dir, settings.database_url))
    row_id = store.add(Correction(pixels, label=4, predicted=9, model_id="mlp-...", strokes=None))
    store.stats(); store.rows(after_id=0, limit=1000)

Written with SQLAlchemy Core; the schema is made and upgraded by the Alembic migrations in
migrations/ the first time the store is used (`ensure_ready`), under a lock, so several workers
starting together migrate once. A row is one drawing: 784 bytes (0 = background, 255 = ink), the
strokes the page drew it with (JSON, optional), the label the person gave, the model's answer, the
model's id and a UTC timestamp. Nothing about who sent it (no address, no cookie) is stored.

SQLite, several processes writing: WAL (readers never wait for the writer), synchronous=FULL (a
commit is on disk before `add` returns, so a 201 survives a crash of the machine, not just of the
process), a busy timeout (a writer waits for the lock instead of failing with "database is locked"),
and every write transaction starts with BEGIN IMMEDIATE: it takes the write lock up front, because a
deferred transaction that reads first and writes later can fail at once, whatever the timeout, when
another process committed in between. PostgreSQL needs none of that.

Any failure of the database (unreachable, locked past the timeout, read-only, disk full) becomes
StoreUnavailable; the cap on the number of rows, StoreFull. What this module leaves out: HTTP,
validation of what a client sent (payloads.py) and dataset files (backend/recognition/corrections.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from backend.nn.shapes import N_CLASSES, N_INPUTS

# alembic logs each of its plugins at INFO whenever it runs: noise in every worker's start-up log
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

SQLITE_FILE = "feedback.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "feedback_schema_version"
# pg_advisory_xact_lock key for the migrations: any constant the application owns ("fdbk" in ASCII)
MIGRATION_LOCK_KEY = 0x6664626B

metadata = sa.MetaData()
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("pixels", sa.LargeBinary, nullable=False),
    sa.Column("strokes", sa.Text, nullable=True),
    sa.Column("label", sa.SmallInteger, nullable=False),
    sa.Column("predicted", sa.SmallInteger, nullable=False),
    sa.Column("model_id", sa.String(64), nullable=False),
)


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or written right now; the message says why."""


class StoreFull(RuntimeError):
    """The table holds FEEDBACK_MAX_ROWS rows already."""


@dataclass(frozen=True)
class Correction:
    """One drawing and what the person said it is. pixels: (784,) float in [0, 1] or uint8."""

    pixels: np.ndarray
    label: int
    predicted: int
    model_id: str
    strokes: list[Any] | None = None


@dataclass(frozen=True)
class Row:
    id: int
    created_at: datetime
    pixels: np.ndarray  # (784,) uint8, 0 = background, 255 = ink
    label: int
    predicted: int
    model_id: str
    strokes: list[Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "pixels": self.pixels.tolist(),
            "label": self.label,
            "predicted": self.predicted,
            "model_id": self.model_id,
            "strokes": self.strokes,
        }


def database_url_for(data_dir: Path, database_url: str = "") -> str:
    """DATABASE_URL when set (postgresql://... is read with psycopg 3), else the SQLite file in data_dir."""
    if database_url:
        for prefix in ("postgresql://", "postgres://"):
            if database_url.startswith(prefix):
                return "postgresql+psycopg://" + database_url[len(prefix) :]
        return database_url
    return f"sqlite:///{Path(data_dir).resolve() / SQLITE_FILE}"


def to_bytes(pixels: np.ndarray) -> bytes:
    """(784,) in [0, 1] (or uint8 already) -> 784 bytes, rounded to the 256 grey levels MNIST has."""
    pixels = np.asarray(pixels).reshape(N_INPUTS)
    if pixels.dtype != np.uint8:
        pixels = np.rint(np.clip(pixels, 0.0, 1.0) * 255).astype(np.uint8)
    return pixels.tobytes()


class FeedbackStore:
    """Adds, counts and lists corrections in one database; safe to share between threads."""

    def __init__(self, url: str, max_rows: int = 1_000_000, busy_timeout_ms: int = 10_000) -> None:
        self.url = sa.make_url(url)
        self.max_rows = max_rows
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # SQLite: one writer per process at a time. SQLite's busy handler polls and is not fair, so with
        # many threads of several processes polling one lock, a writer can starve past the busy timeout;
        # queued on a lock here instead, at most one thread per process polls SQLite's.
        self._write_lock = threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        self._ready = False
        self._ready_lock = threading.Lock()
        if self.is_sqlite:
            self.engine = _sqlite_engine(self.url, busy_timeout_ms)
        else:
            # pre_ping: a connection left from before a database restart is replaced, not handed out broken
            self.engine = sa.create_engine(self.url, pool_pre_ping=True, pool_size=4, max_overflow=8, connect_args={"connect_timeout": 5})

    def describe(self) -> str:
        """The database without its password, for logs."""
        return self.url.render_as_string(hide_password=True)

    def ensure_ready(self) -> None:
        """Create or upgrade the schema the first time; StoreUnavailable if the database cannot be reached or written."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            with _unavailable_on_error("create the feedback schema in"):
                if self.is_sqlite and self.url.database:
                    Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
                self.migrate()
            self._ready = True

    def migrate(self) -> None:
        """Run the Alembic migrations up to the newest, once even when several processes start together."""
        with self.engine.begin() as connection:  # SQLite: BEGIN IMMEDIATE, so one process migrates at a time
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(connection), "head")

    def add(self, correction: Correction) -> int:
        """Insert one row and commit it; its id. StoreFull at the cap, StoreUnavailable on a database failure."""
        self.ensure_ready()
        values = {
            "created_at": datetime.now(UTC),
            "pixels": to_bytes(correction.pixels),
            "strokes": None if correction.strokes is None else json.dumps(correction.strokes, separators=(",", ":")),
            "label": int(correction.label),
            "predicted": int(correction.predicted),
            "model_id": correction.model_id,
        }
        with self._write_lock, _unavailable_on_error("write to"), self.engine.begin() as connection:
            # count and insert in one transaction (on SQLite under the write lock, so the cap is exact)
            if connection.execute(sa.select(sa.func.count()).select_from(feedback)).scalar_one() >= self.max_rows:
                raise StoreFull(f"the feedback store is full ({self.max_rows} rows)")
            return int(connection.execute(feedback.insert().values(**values).returning(feedback.c.id)).scalar_one())

    def stats(self) -> dict[str, Any]:
        """{"total", "by_label", "by_predicted", "model_right"}: counts by digit ("0".."9") and the share labelled as predicted."""
        self.ensure_ready()
        query = sa.select(feedback.c.label, feedback.c.predicted, sa.func.count()).group_by(feedback.c.label, feedback.c.predicted)
        with _unavailable_on_error("read from"), self._reading() as connection:
            counts = connection.execute(query).all()
        by_label = dict.fromkeys(map(str, range(N_CLASSES)), 0)
        by_predicted = dict.fromkeys(map(str, range(N_CLASSES)), 0)
        right = 0
        for label, predicted, n in counts:
            by_label[str(label)] += n
            by_predicted[str(predicted)] += n
            right += n if label == predicted else 0
        total = sum(by_label.values())
        return {"total": total, "by_label": by_label, "by_predicted": by_predicted, "model_right": right / total if total else None}

    def rows(self, after_id: int = 0, limit: int = 1000) -> list[Row]:
        """Up to `limit` rows with id > after_id, in id order (page through with the last id seen)."""
        self.ensure_ready()
        query = sa.select(feedback).where(feedback.c.id > after_id).order_by(feedback.c.id).limit(limit)
        with _unavailable_on_error("read from"), self._reading() as connection:
            return [_row(record) for record in connection.execute(query).mappings()]

    def count(self) -> int:
        self.ensure_ready()
        with _unavailable_on_error("read from"), self._reading() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(feedback)).scalar_one())

    def _reading(self) -> sa.Connection:
        """A connection for reads only: on SQLite its transactions start with a plain BEGIN (WAL readers never wait for the writer)."""
        return self.engine.connect().execution_options(read_only=True)

    def close(self) -> None:
        self.engine.dispose()


def alembic_config(connection: sa.Connection) -> Config:
    """Alembic's configuration for the feedback migrations, run on `connection` (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_table", VERSION_TABLE)
    config.attributes["connection"] = connection
    return config


def _row(record: Any) -> Row:
    created = record["created_at"]
    if created.tzinfo is None:  # SQLite keeps no time zone; every timestamp written is UTC
        created = created.replace(tzinfo=UTC)
    return Row(
        id=int(record["id"]),
        created_at=created,
        pixels=np.frombuffer(bytes(record["pixels"]), dtype=np.uint8).copy(),
        label=int(record["label"]),
        predicted=int(record["predicted"]),
        model_id=record["model_id"],
        strokes=None if record["strokes"] is None else json.loads(record["strokes"]),
    )


class _unavailable_on_error:
    """Turns any database error (sqlalchemy.exc.DBAPIError and kin) into StoreUnavailable naming what failed."""

    def __init__(self, doing: str) -> None:
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: object) -> None:
        if isinstance(error, sa.exc.SQLAlchemyError | OSError):
            detail = getattr(error, "orig", None) or error
            raise StoreUnavailable(f"cannot {self.doing} the feedback database: {str(detail).strip().splitlines()[0]}") from error


def _sqlite_engine(url: sa.URL, busy_timeout_ms: int) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own BEGIN handling is off: the "begin" listener below says how transactions start
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        # a write transaction takes the write lock up front (see the module docstring); a read needs none
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")

    return engine

"""The feedback store against a real SQLite file and a real PostgreSQL server: schema, rows, stats, cap, failures."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from backend.nn.shapes import N_INPUTS
from backend.service.feedback.store import (
    SQLITE_FILE,
    VERSION_TABLE,
    Correction,
    FeedbackStore,
    StoreFull,
    StoreUnavailable,
    alembic_config,
    database_url_for,
    metadata,
)


def correction(label: int = 4, predicted: int = 9, seed: int = 0, strokes=None) -> Correction:
    return Correction(np.random.default_rng(seed).random(N_INPUTS), label=label, predicted=predicted, model_id="mlp-test", strokes=strokes)


def open_store(tmp_path: Path, database_url: str, **options) -> FeedbackStore:
    return FeedbackStore(database_url_for(tmp_path, database_url), **options)


def test_first_use_creates_the_schema_and_a_second_store_finds_it(tmp_path: Path, database_url: str) -> None:
    first = open_store(tmp_path, database_url)
    first.ensure_ready()
    with first.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        version = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one()
    assert {"feedback", VERSION_TABLE} <= tables
    assert version == "0001"
    first.add(correction())
    second = open_store(tmp_path, database_url)  # a restart: migrating again changes nothing, loses nothing
    assert second.count() == 1


def test_a_row_comes_back_as_it_was_written(tmp_path: Path, database_url: str) -> None:
    store = open_store(tmp_path, database_url)
    sent = correction(label=7, predicted=1, strokes=[[[10.5, 20], [11, 21.25]], [[3, 4]]])
    row_id = store.add(sent)
    [row] = store.rows()
    assert row.id == row_id
    assert (row.label, row.predicted, row.model_id) == (7, 1, "mlp-test")
    assert row.strokes == [[[10.5, 20], [11, 21.25]], [[3, 4]]]
    assert row.pixels.dtype == np.uint8 and row.pixels.shape == (N_INPUTS,)
    np.testing.assert_array_equal(row.pixels, np.rint(sent.pixels * 255).astype(np.uint8))
    assert row.created_at.tzinfo is not None


def test_rows_page_through_in_id_order(tmp_path: Path, database_url: str) -> None:
    store = open_store(tmp_path, database_url)
    ids = [store.add(correction(label=d % 10, seed=d)) for d in range(5)]
    first_page = store.rows(limit=2)
    rest = store.rows(after_id=first_page[-1].id, limit=10)
    assert [r.id for r in first_page + rest] == ids
    assert [r.label for r in first_page + rest] == [0, 1, 2, 3, 4]


def test_stats_count_by_label_and_prediction(tmp_path: Path, database_url: str) -> None:
    store = open_store(tmp_path, database_url)
    assert store.stats() == {
        "total": 0,
        "by_label": dict.fromkeys("0123456789", 0),
        "by_predicted": dict.fromkeys("0123456789", 0),
        "model_right": None,
    }
    for label, predicted in [(4, 9), (4, 4), (7, 1), (3, 3)]:
        store.add(correction(label, predicted))
    stats = store.stats()
    assert stats["total"] == 4
    assert stats["by_label"] == {**dict.fromkeys("0123456789", 0), "4": 2, "7": 1, "3": 1}
    assert stats["by_predicted"] == {**dict.fromkeys("0123456789", 0), "9": 1, "4": 1, "1": 1, "3": 1}
    assert stats["model_right"] == 0.5


def test_the_cap_refuses_rows_beyond_it(tmp_path: Path, database_url: str) -> None:
    store = open_store(tmp_path, database_url, max_rows=3)
    for seed in range(3):
        store.add(correction(seed=seed))
    with pytest.raises(StoreFull, match="3 rows"):
        store.add(correction())
    assert store.count() == 3


def test_threads_writing_at_once_all_land(tmp_path: Path, database_url: str) -> None:
    store = open_store(tmp_path, database_url)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(25):
                store.add(correction(label=worker % 10, seed=worker * 100 + i))
        except BaseException as err:  # surfaced by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count() == 200
    assert len({row.id for row in store.rows(limit=1000)}) == 200


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    store = open_store(tmp_path, "")
    store.add(correction())
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
    assert (tmp_path / SQLITE_FILE).is_file()


def test_sqlite_locked_past_the_timeout_is_unavailable_then_recovers(tmp_path: Path) -> None:
    store = open_store(tmp_path, "", busy_timeout_ms=100)
    store.add(correction())
    holder = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # e.g. a backup tool holding the write lock
    try:
        with pytest.raises(StoreUnavailable, match="database is locked"):
            store.add(correction())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.add(correction())
    assert store.count() == 2


def test_sqlite_reads_go_on_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    store = open_store(tmp_path, "", busy_timeout_ms=100)
    store.add(correction(label=5))
    holder = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert store.stats()["by_label"]["5"] == 1
        assert [row.label for row in store.rows()] == [5]
        with pytest.raises(StoreUnavailable, match="database is locked"):
            store.add(correction())  # only the writer waits
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_data_dir_that_cannot_be_made_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = open_store(blocker / "data", "")
    with pytest.raises(StoreUnavailable, match="cannot create the feedback schema"):
        store.add(correction())


def test_a_file_that_is_not_a_database_is_unavailable_naming_the_problem(tmp_path: Path) -> None:
    (tmp_path / SQLITE_FILE).write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(StoreUnavailable, match="not a database"):
        open_store(tmp_path, "").add(correction())


def test_postgres_going_away_is_unavailable_and_coming_back_recovers(postgres, tmp_path: Path) -> None:
    store = open_store(tmp_path, postgres.fresh_database())
    store.add(correction())
    postgres.stop()
    try:
        with pytest.raises(StoreUnavailable, match="cannot write to the feedback database"):
            store.add(correction())
    finally:
        postgres.start()
    store.add(correction())
    assert store.count() == 2


def test_postgres_made_read_only_is_unavailable(postgres, tmp_path: Path) -> None:
    url = postgres.fresh_database()
    store = open_store(tmp_path, url)
    store.add(correction())
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(database_url_for(tmp_path, postgres.url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
        # the operator also ends the open sessions, so every new one is read-only
        connection.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    admin.dispose()
    with pytest.raises(StoreUnavailable, match="read-only transaction"):
        store.add(correction())
    assert store.count() == 1


def test_the_table_the_code_uses_is_the_one_the_migrations_make(tmp_path: Path, database_url: str) -> None:
    store = open_store(tmp_path, database_url)
    store.ensure_ready()
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}), metadata)
    assert differences == []


def test_the_migration_goes_down_and_up_again(tmp_path: Path, database_url: str) -> None:
    store = open_store(tmp_path, database_url)
    store.add(correction())
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    with store.engine.connect() as connection:
        assert "feedback" not in sa.inspect(connection).get_table_names()
    store.migrate()
    assert store.count() == 0
    store.add(correction())
    assert store.count() == 1

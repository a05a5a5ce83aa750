"""The service's settings: one typed, frozen object read from environment variables.

Every knob of the running service lives here, with its default and its limits, so `main.py`, the
routes and `serve.py` never parse environment variables themselves. What this module leaves out:
anything about the model itself (that is the model card's job) and the process manager's own flags
beyond host, port, workers, log level and the shutdown grace period.

    MODEL_DIR        folder holding model.npz + model.json       (default: the repo's model_weights/)
    FRONTEND_DIR     folder served at "/"                         (default: the repo's frontend/)
    HOST, PORT       where `python -m backend.serve` listens      (127.0.0.1, 8000)
    WORKERS          worker processes of `python -m backend.serve` (2: one per core of the target box)
    CORS_ORIGINS     comma-separated origins allowed cross-origin (none: same origin only)
    BATCH_MAX        most images in one /predict/batch or V2 infer (1000)
    BODY_MAX_BYTES   request-body cap                             (sized for the largest legal batch)
    IMAGE_MAX_PIXELS most pixels (width x height) of an upload    (12 megapixels: a phone photo; decoding a colour
                     PNG takes about 8.5 bytes a pixel, so ~100 MB per worker at this limit)
    IMAGE_DECODE_TIMEOUT_S  CPU seconds an upload may take to decode (2; 422 beyond)
    BUFFERED_MAX_BYTES  request bytes one worker holds at once, all requests together (1.5 x BODY_MAX_BYTES); 503 beyond
    PARSE_OFFLOAD_MIN_BYTES  JSON bodies this large are parsed in a helper process, off the event loop's GIL (1 MB; 0: never)
    MAX_HEAD_BYTES   request line + headers                      (32 KiB; 431 beyond)
    MAX_HEADERS      headers per request                          (100; 431 beyond)
    HEAD_TIMEOUT_S   seconds for the request line + headers to arrive (5; 408 and close)
    BODY_TIMEOUT_S   seconds a request body may go without a byte (5; the connection is closed)
    MIN_UPLOAD_BYTES_PER_S  average rate a request body must keep once MIN_UPLOAD_GRACE_S have passed (500; 0: none);
                     a slower one gets 408 and is closed (a trickle of a byte every few seconds never trips BODY_TIMEOUT_S)
    MIN_UPLOAD_GRACE_S  seconds a request body may take before MIN_UPLOAD_BYTES_PER_S applies (10)
    MODEL_NAME       the name of the default model (MODEL_DIR's top level) in ?model= and the V2 protocol (mnist)
    ADMIN_TOKEN      bearer token for POST /admin/reload, V2 load and the feedback export (none: those calls are refused)
    RELOAD_POLL_S    seconds between checks of MODEL_DIR for new weights, per worker (2; 0: never)
    MODEL_CARD_DETAILS  public: /model leaves out the software versions, training commands and folders; full: all (public)
    LOG_LEVEL        critical / error / warning / info / debug   (info)
    SHUTDOWN_TIMEOUT_S  seconds SIGTERM waits for in-flight requests (10)
    ACCESS_LOG       uvicorn's line per request                   (false)
    DATA_DIR         where the SQLite feedback database lives      (the repo's .data/)
    DATABASE_URL     a PostgreSQL server for feedback instead, e.g. postgresql://user:pw@host/db (none: SQLite)
    ADMIN_TOKEN      bearer token of the admin routes (raw feedback rows); unset: those routes do not exist
    FEEDBACK_RATE    corrections per second one client may send on average, per worker; 0: no limit (0.5)
    FEEDBACK_BURST   corrections one client may send at once before FEEDBACK_RATE applies (20)
    FEEDBACK_MAX_ROWS  most rows the feedback table may hold (1,000,000; about 1 GB with strokes)
    FEEDBACK_BUSY_TIMEOUT_MS  how long a SQLite writer waits for the lock before /feedback answers 503 (10,000)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from backend.nn.shapes import N_INPUTS
from backend.paths import DATA_CACHE_DIR, FRONTEND_DIR, MODEL_DIR

SERVICE_NAME = "draw-a-digit"
SERVICE_VERSION = "0.1.0"
LOG_FORMAT = "%(levelname)s:     %(name)s: %(message)s"  # uvicorn's own layout, so the service's lines read alike
UNUSABLE_WEIGHTS = "cannot serve, the weights are unusable: %s"  # logged by whichever loads them first
# A number in a compact JSON body is at most 23 characters (the repr of any float64 in [0, 1], e.g.
# "2.2250738585072014e-308") plus ", ": 25 bytes covers every legal pixel value written compactly.
BYTES_PER_NUMBER = 25
BODY_HEADROOM_BYTES = 64 * 1024  # brackets, keys, whitespace

DATABASE_URL_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://", "sqlite:///")

LogLevel = Literal["critical", "error", "warning", "info", "debug"]


def body_cap_for(batch_max: int) -> int:
    """Bytes needed by the largest legal JSON request: batch_max images of 784 numbers each."""
    return batch_max * N_INPUTS * BYTES_PER_NUMBER + BODY_HEADROOM_BYTES


class SettingsError(ValueError):
    """An environment variable that does not parse; the message names it."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    model_dir: Path = MODEL_DIR
    frontend_dir: Path = FRONTEND_DIR
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(2, ge=1, le=64)
    cors_origins: tuple[str, ...] = ()
    batch_max: int = Field(1000, ge=1, le=100_000)
    body_max_bytes: int = Field(0, ge=0, description="0 means: sized from batch_max")
    image_max_pixels: int = Field(12_000_000, ge=1)
    image_decode_timeout_s: float = Field(2.0, gt=0)
    buffered_max_bytes: int = Field(0, ge=0, description="0 means: 1.5 x body_max_bytes")
    parse_offload_min_bytes: int = Field(1_000_000, ge=0)
    max_head_bytes: int = Field(32 * 1024, ge=1024)
    max_headers: int = Field(100, ge=10)
    head_timeout_s: float = Field(5.0, gt=0)
    body_timeout_s: float = Field(5.0, gt=0)
    min_upload_bytes_per_s: float = Field(500.0, ge=0)
    min_upload_grace_s: float = Field(10.0, gt=0)
    model_name: str = Field("mnist", pattern=r"^[A-Za-z0-9_.-]+$")
    reload_poll_s: float = Field(2.0, ge=0)
    model_card_details: Literal["public", "full"] = "public"
    log_level: LogLevel = "info"
    shutdown_timeout_s: float = Field(10.0, gt=0)
    access_log: bool = False  # one log line per request costs throughput; /metrics counts requests anyway
    data_dir: Path = DATA_CACHE_DIR
    database_url: SecretStr = SecretStr("")  # may hold a password: never shown in a repr or a log
    admin_token: SecretStr = SecretStr("")
    feedback_rate: float = Field(0.5, ge=0)
    feedback_burst: int = Field(20, ge=1)
    feedback_max_rows: int = Field(1_000_000, ge=1)
    feedback_busy_timeout_ms: int = Field(10_000, ge=0)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(origin.strip() for origin in value.split(",") if origin.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            # "*" would let any site read the API's answers; list origins one by one instead
            if not origin.startswith(("http://", "https://")) or origin.rstrip("/").count("/") != 2:
                raise ValueError(f"{origin!r} is not an origin like https://example.org")
        return tuple(origin.rstrip("/") for origin in origins)

    @field_validator("database_url")
    @classmethod
    def _database_is_one_we_speak(cls, url: SecretStr) -> SecretStr:
        value = url.get_secret_value()
        if value and not value.startswith(DATABASE_URL_SCHEMES):
            # the message shows only the scheme: the rest may hold a password
            raise ValueError(
                f"{value.split(':', 1)[0]!r} is not a database this service uses; give postgresql://user:password@host/db or sqlite:///path"
            )
        return url

    @model_validator(mode="after")
    def _size_body_cap(self) -> Settings:
        needed = body_cap_for(self.batch_max)
        if self.body_max_bytes == 0:
            object.__setattr__(self, "body_max_bytes", needed)
        elif self.body_max_bytes < needed:
            raise ValueError(
                f"BODY_MAX_BYTES={self.body_max_bytes} is below the {needed} bytes that a legal batch of "
                f"BATCH_MAX={self.batch_max} images may need"
            )
        if self.buffered_max_bytes == 0:
            object.__setattr__(self, "buffered_max_bytes", self.body_max_bytes * 3 // 2)
        elif self.buffered_max_bytes < self.body_max_bytes:
            raise ValueError(
                f"BUFFERED_MAX_BYTES={self.buffered_max_bytes} is below BODY_MAX_BYTES={self.body_max_bytes}: no large request could ever be read"
            )
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from environment variables named like the fields in upper case; unset means default."""
        environ = os.environ if environ is None else environ
        values = {name: environ[name.upper()] for name in cls.model_fields if name.upper() in environ}
        if "log_level" in values:
            values["log_level"] = values["log_level"].lower()
        try:
            return cls(**values)
        except ValidationError as err:
            problems = "; ".join(f"{str(e['loc'][0]).upper() if e['loc'] else 'settings'}: {e['msg']}" for e in err.errors())
            raise SettingsError(f"invalid settings from the environment: {problems}") from None

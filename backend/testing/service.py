"""Helpers for the service's tests: settings pointing at the shipped weights, an ASGI client, digits.

Plain functions (imported by tests/routes/conftest.py and the top-level service tests) rather than
fixtures in tests/conftest.py, so the service's test set-up stays in files of its own.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image, ImageDraw

from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.openset import hidden_width, load_open_set
from backend.service.app import create_app
from backend.service.settings import Settings

INDEX_HTML = "<!doctype html><title>test page</title><script type=module src=app.js></script>"


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for the shipped weights, a small known page in tmp_path/frontend, feedback in tmp_path/data."""
    frontend = tmp_path / "frontend"
    frontend.mkdir(exist_ok=True)
    (frontend / "index.html").write_text(INDEX_HTML)
    (frontend / "app.js").write_text("export const ready = true;\n")
    return Settings(**{"model_dir": MODEL_DIR, "frontend_dir": frontend, "data_dir": tmp_path / "data", **overrides})


@asynccontextmanager
async def serve_asgi(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to create_app(settings) in-process, with its lifespan run around it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            yield client


def stroke_digit_png(
    strokes: list[list[tuple[int, int]]],
    size: tuple[int, int] = (300, 400),
    width: int = 30,
    ink: int = 0,
    paper: int = 255,
    fmt: str = "PNG",
    mode: str = "L",
) -> bytes:
    """A picture of a digit drawn with thick strokes (pen-on-paper style by default), encoded as PNG or JPEG."""
    image = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill=ink, width=width, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


SEVEN = [[(60, 80), (240, 80), (130, 350)]]
ONE = [[(150, 60), (150, 340)]]


def mnist_png(pixels: np.ndarray, scale: int = 8) -> bytes:
    """An MNIST image (784,) in [0, 1] as a PNG, upscaled `scale` times (white digit on black)."""
    image = Image.fromarray(np.round(pixels.reshape(28, 28) * 255).astype(np.uint8), "L")
    buffer = io.BytesIO()
    image.resize((28 * scale, 28 * scale), Image.NEAREST).save(buffer, "PNG")
    return buffer.getvalue()


class ShippedReference:
    """The shipped model as the service answers with it, computed straight from backend.nn and
    backend.recognition (no service code): calibrated probabilities (B, 10) and is_digit (B,)."""

    def __init__(self) -> None:
        self.model, card = load_model(MODEL_DIR)
        self.open_set = load_open_set(MODEL_DIR, digit_model_id=card["model_id"], hidden_width=hidden_width(self.model))

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        return self.open_set.calibrate(self.model.predict_proba(images))

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.predict_proba(images).argmax(axis=1)

    def is_digit(self, images: np.ndarray) -> np.ndarray:
        _, hidden = self.model.predict_proba_and_hidden(images)
        return self.open_set.is_digit(images, self.predict_proba(images), hidden if self.open_set.needs_hidden else None, self.model)

"""Corrections as a dataset file: the drawings people labelled, written and read as a checked .npz.

    sha256 = save_corrections(path, Corrections(images, labels, predicted, ids, model_ids, created_at))
    data = load_corrections(path)            # CorrectionsError naming the file if anything is off
    data.inputs()                            # (N, 784) float32 in [0, 1], as the network takes them

Arrays: images (N, 784) uint8 (0 = background, 255 = ink, MNIST's layout), labels and predicted (N,)
uint8, ids (N,) int64 (the database rows), model_ids and created_at (N,) unicode. The file is
written atomically (a temporary file, then a rename) and its SHA-256 beside it in `<file>.sha256`
(sha256sum's format); loading checks that digest when the file is there, and reads with
allow_pickle=False. What this module leaves out: the database (backend/service/feedback/store.py)
and how the data is used (scripts/evaluate.py, scripts/train.py).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.nn.shapes import N_CLASSES, N_INPUTS

FIELDS = ("images", "labels", "predicted", "ids", "model_ids", "created_at")


class CorrectionsError(ValueError):
    """A corrections file that is missing, corrupt or not what it claims; the message names the file."""


@dataclass(frozen=True)
class Corrections:
    images: np.ndarray  # (N, 784) uint8
    labels: np.ndarray  # (N,) uint8, 0..9
    predicted: np.ndarray  # (N,) uint8, 0..9
    ids: np.ndarray  # (N,) int64
    model_ids: np.ndarray  # (N,) str
    created_at: np.ndarray  # (N,) str, ISO 8601 UTC

    def __len__(self) -> int:
        return len(self.labels)

    def inputs(self) -> np.ndarray:
        """(N, 784) float32 in [0, 1]."""
        return self.images.astype(np.float32) / 255.0

    def subset(self, index: np.ndarray) -> Corrections:
        return Corrections(*(getattr(self, name)[index] for name in FIELDS))


def digest_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_corrections(path: Path, data: Corrections) -> str:
    """Write data to path (.npz) and its SHA-256 to path + ".sha256", both atomically; returns the digest."""
    path = Path(path)
    check(data, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False) as tmp:
        np.savez_compressed(tmp, **{name: getattr(data, name) for name in FIELDS})
    os.replace(tmp.name, path)
    sha256 = digest_of(path)
    sidecar = path.with_name(path.name + ".sha256")
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{sidecar.name}.", suffix=".tmp", delete=False) as tmp:
        tmp.write(f"{sha256}  {path.name}\n")
    os.replace(tmp.name, sidecar)
    return sha256


def load_corrections(path: Path) -> Corrections:
    path = Path(path)
    if not path.is_file():
        raise CorrectionsError(f"{path}: no such corrections file")
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.is_file():
        expected = sidecar.read_text().split()[0] if sidecar.read_text().split() else ""
        if digest_of(path) != expected:
            raise CorrectionsError(f"{path}: its SHA-256 does not match {sidecar.name}: the file was changed or is corrupt")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in FIELDS if name not in archive.files]
            if missing:
                raise CorrectionsError(f"{path}: not a corrections file, it lacks {', '.join(missing)}")
            data = Corrections(*(archive[name] for name in FIELDS))
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        if isinstance(err, CorrectionsError):
            raise
        raise CorrectionsError(f"{path}: cannot be read as .npz: {err}") from None
    check(data, path)
    return data


def check(data: Corrections, path: Path) -> None:
    n = len(data.labels)
    if data.images.dtype != np.uint8 or data.images.shape != (n, N_INPUTS):
        raise CorrectionsError(f"{path}: images must be ({n}, {N_INPUTS}) uint8, got {data.images.shape} {data.images.dtype}")
    for name in ("labels", "predicted"):
        values = getattr(data, name)
        if values.dtype != np.uint8 or values.shape != (n,) or (n and values.max() >= N_CLASSES):
            raise CorrectionsError(f"{path}: {name} must be {n} digits 0-9 as uint8")
    for name in ("ids", "model_ids", "created_at"):
        if getattr(data, name).shape != (n,):
            raise CorrectionsError(f"{path}: {name} must hold {n} entries, got shape {getattr(data, name).shape}")
    if data.ids.dtype.kind != "i" or data.model_ids.dtype.kind != "U" or data.created_at.dtype.kind != "U":
        raise CorrectionsError(f"{path}: ids must be integers, model_ids and created_at text")


def from_rows(rows: list[dict]) -> Corrections:
    """Rows as GET /feedback/rows (or store.Row.as_dict) gives them -> Corrections."""
    return Corrections(
        images=np.array([row["pixels"] for row in rows], dtype=np.uint8).reshape(len(rows), N_INPUTS),
        labels=np.array([row["label"] for row in rows], dtype=np.uint8),
        predicted=np.array([row["predicted"] for row in rows], dtype=np.uint8),
        ids=np.array([row["id"] for row in rows], dtype=np.int64),
        model_ids=np.array([row["model_id"] for row in rows], dtype=np.str_).reshape(len(rows)),
        created_at=np.array([row["created_at"] for row in rows], dtype=np.str_).reshape(len(rows)),
    )


def split_held_out(data: Corrections, fraction: float) -> tuple[Corrections, Corrections]:
    """(to train on, held out): a row's side depends only on its id, so it stays there in every later export.

    Multiplicative hashing (Knuth's 2654435761) spreads consecutive ids evenly over [0, 2**32).
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"the held-out fraction must be in [0, 1), got {fraction}")
    position = (data.ids.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)
    held_out = position < np.uint64(int(fraction * 2**32))
    return data.subset(~held_out), data.subset(held_out)

"""Corrections files: written atomically with their digest, read back checked, refused naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.nn.shapes import N_INPUTS
from backend.recognition.corrections import (
    Corrections,
    CorrectionsError,
    digest_of,
    from_rows,
    load_corrections,
    save_corrections,
    split_held_out,
)


def sample(n: int = 5) -> Corrections:
    rng = np.random.default_rng(1)
    rows = [
        {
            "id": i + 1,
            "pixels": rng.integers(0, 256, N_INPUTS).tolist(),
            "label": i % 10,
            "predicted": (i + 3) % 10,
            "model_id": "mlp-abc",
            "created_at": "2026-11-30T06:00:00+00:00",
        }
        for i in range(n)
    ]
    return from_rows(rows)


def test_saved_file_reads_back_equal_with_its_digest(tmp_path: Path) -> None:
    data = sample()
    path = tmp_path / "out" / "feedback.npz"
    sha256 = save_corrections(path, data)
    assert (tmp_path / "out" / "feedback.npz.sha256").read_text() == f"{sha256}  feedback.npz\n"
    assert digest_of(path) == sha256
    assert sorted(p.name for p in path.parent.iterdir()) == ["feedback.npz", "feedback.npz.sha256"]  # no temporary left
    back = load_corrections(path)
    for name in ("images", "labels", "predicted", "ids", "model_ids", "created_at"):
        np.testing.assert_array_equal(getattr(back, name), getattr(data, name))
    assert back.inputs().dtype == np.float32 and back.inputs().max() <= 1.0


def test_an_empty_export_is_a_valid_file(tmp_path: Path) -> None:
    save_corrections(tmp_path / "empty.npz", from_rows([]))
    assert len(load_corrections(tmp_path / "empty.npz")) == 0


def test_a_changed_file_is_refused_by_its_digest(tmp_path: Path) -> None:
    path = tmp_path / "feedback.npz"
    save_corrections(path, sample())
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(CorrectionsError, match=r"feedback\.npz: its SHA-256 does not match"):
        load_corrections(path)


def test_a_file_that_is_not_npz_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "junk.npz"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(CorrectionsError, match=r"junk\.npz: cannot be read"):
        load_corrections(path)


def test_an_npz_missing_fields_or_with_bad_labels_is_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "partial.npz", images=np.zeros((1, N_INPUTS), np.uint8))
    with pytest.raises(CorrectionsError, match=r"partial\.npz: not a corrections file, it lacks labels"):
        load_corrections(tmp_path / "partial.npz")
    data = sample(2)
    fields = {name: getattr(data, name) for name in ("images", "predicted", "ids", "model_ids", "created_at")}
    np.savez(tmp_path / "bad.npz", labels=np.array([3, 12], np.uint8), **fields)
    with pytest.raises(CorrectionsError, match="labels must be 2 digits"):
        load_corrections(tmp_path / "bad.npz")


def test_held_out_rows_depend_only_on_their_id() -> None:
    data = sample(400)
    kept, held = split_held_out(data, 0.25)
    assert len(kept) + len(held) == 400
    assert set(kept.ids.tolist()).isdisjoint(held.ids.tolist())
    assert 60 < len(held) < 140  # about a quarter
    _, held_again = split_held_out(data.subset(np.arange(200, 400)), 0.25)  # a later export with other rows
    assert set(held_again.ids.tolist()) == {i for i in held.ids.tolist() if i > 200}
    with pytest.raises(ValueError, match="held-out fraction"):
        split_held_out(data, 1.0)

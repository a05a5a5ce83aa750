"""Saving and loading: bit-exact round trips, and clear refusals of anything damaged or mismatched."""

import json

import numpy as np
import pytest

from backend.nn.model import Model
from backend.nn.network import Network, NetworkConfig
from backend.nn.weights import (
    CARD_FILE,
    WEIGHTS_FILE,
    WeightsError,
    load_model,
    save_model,
)


def make_model(n_members=1, seed=0):
    rng = np.random.default_rng(seed)
    return Model([Network.initialise(NetworkConfig((784, 16, 10)), rng) for _ in range(n_members)])


@pytest.fixture
def saved(tmp_path):
    model = make_model(2)
    save_model(model, tmp_path, {"test_accuracy": 0.5})
    return model, tmp_path


def test_round_trip_is_bit_exact(saved):
    model, folder = saved
    loaded, card = load_model(folder)
    for a, b in zip(model.members, loaded.members):
        for p, q in zip(a.parameters, b.parameters):
            assert p.dtype == q.dtype == np.float32
            np.testing.assert_array_equal(p, q)
    x = np.random.default_rng(1).random((3, 784), dtype=np.float32)
    np.testing.assert_array_equal(model.predict_proba(x), loaded.predict_proba(x))
    assert card["test_accuracy"] == 0.5
    assert card["n_parameters"] == 2 * (784 * 16 + 16 + 16 * 10 + 10)
    assert card["members"][0]["layer_sizes"] == [784, 16, 10]
    assert card["model_id"].startswith("mlp-")


def test_save_leaves_no_temporary_files(saved):
    _, folder = saved
    assert sorted(p.name for p in folder.iterdir()) == [CARD_FILE, WEIGHTS_FILE]


def test_truncated_weights_are_refused(saved):
    _, folder = saved
    data = (folder / WEIGHTS_FILE).read_bytes()
    (folder / WEIGHTS_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match=r"model\.npz: SHA-256 .* does not match"):
        load_model(folder)


def test_a_flipped_byte_is_refused(saved):
    _, folder = saved
    data = bytearray((folder / WEIGHTS_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="corrupt, truncated or replaced"):
        load_model(folder)


def rewrite_with_card_hash(folder, arrays):
    """Write arbitrary arrays and re-sign the card, to reach the checks behind the hash."""
    import hashlib

    np.savez(folder / WEIGHTS_FILE, **arrays)
    card = json.loads((folder / CARD_FILE).read_text())
    card["weights_sha256"] = hashlib.sha256((folder / WEIGHTS_FILE).read_bytes()).hexdigest()
    (folder / CARD_FILE).write_text(json.dumps(card))


def current_arrays(folder):
    with np.load(folder / WEIGHTS_FILE) as f:
        return {k: f[k] for k in f.files}


def test_shape_mismatch_with_the_card_is_refused(saved):
    _, folder = saved
    arrays = current_arrays(folder)
    arrays["member0.W1"] = arrays["member0.W1"][:, :100]
    rewrite_with_card_hash(folder, arrays)
    with pytest.raises(WeightsError, match=r"member0\.W1 is float32\(16, 100\), the card implies float32\(16, 784\)"):
        load_model(folder)


def test_missing_extra_and_non_finite_arrays_are_refused(saved):
    _, folder = saved
    arrays = current_arrays(folder)
    del arrays["member1.b2"]
    rewrite_with_card_hash(folder, arrays)
    with pytest.raises(WeightsError, match=r"member1\.b2 is missing"):
        load_model(folder)
    arrays = current_arrays(folder) | {"member1.b2": np.zeros(10, np.float32), "member2.W1": np.zeros(1, np.float32)}
    rewrite_with_card_hash(folder, arrays)
    with pytest.raises(WeightsError, match="arrays not described by the card"):
        load_model(folder)
    arrays = current_arrays(folder)
    del arrays["member2.W1"]
    arrays["member0.b1"] = np.full(16, np.nan, np.float32)
    rewrite_with_card_hash(folder, arrays)
    with pytest.raises(WeightsError, match="NaN or infinite"):
        load_model(folder)


def test_pickled_object_arrays_are_never_loaded(saved):
    _, folder = saved
    arrays = current_arrays(folder)
    arrays["member0.W1"] = np.array([{"evil": 1}], dtype=object)
    rewrite_with_card_hash(folder, arrays)
    with pytest.raises(WeightsError, match=r"model\.npz: not a readable \.npz archive"):
        load_model(folder)


def test_not_a_zip_is_refused(saved):
    _, folder = saved
    rewrite = b"this is not a zip file"
    (folder / WEIGHTS_FILE).write_bytes(rewrite)
    card = json.loads((folder / CARD_FILE).read_text())
    import hashlib

    card["weights_sha256"] = hashlib.sha256(rewrite).hexdigest()
    (folder / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="not a readable .npz archive"):
        load_model(folder)


def test_card_problems_are_refused(saved):
    _, folder = saved
    (folder / CARD_FILE).write_text("{not json")
    with pytest.raises(WeightsError, match=r"model\.json: not valid JSON"):
        load_model(folder)
    (folder / CARD_FILE).write_text(json.dumps({"format_version": 1}))
    with pytest.raises(WeightsError, match="lacks"):
        load_model(folder)
    (folder / CARD_FILE).write_text("[1, 2]")
    with pytest.raises(WeightsError, match="not a JSON object"):
        load_model(folder)


def test_missing_files_are_named(tmp_path, saved):
    with pytest.raises(WeightsError, match=r"model\.json: model card not found"):
        load_model(tmp_path / "nowhere")
    _, folder = saved
    (folder / WEIGHTS_FILE).unlink()
    with pytest.raises(WeightsError, match=r"model\.npz: weights file not found"):
        load_model(folder)


def test_a_failed_save_keeps_the_previous_model(saved, monkeypatch):
    model, folder = saved
    before = (folder / WEIGHTS_FILE).read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", crash)
    with pytest.raises(OSError, match="disk full"):
        save_model(make_model(1, seed=5), folder, {})
    assert (folder / WEIGHTS_FILE).read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == [CARD_FILE, WEIGHTS_FILE]
    load_model(folder)  # still a consistent pair

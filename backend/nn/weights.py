"""Saving and loading a model: weights in `model.npz`, and a JSON model card `model.json` beside it.

The card describes the architecture of each member network, the input convention, the training
recipe and the measured accuracy, and records the SHA-256 of the weights file. Loading refuses, with
a message naming the file and the problem: a missing file, a weights file whose hash is not the one
its card records (corrupt, truncated or swapped), a card that is not valid JSON or lacks fields,
arrays missing, extra, of the wrong shape or dtype, or holding NaN/Inf.

Both files are written to a temporary name in the same folder and then renamed, so a crash never
leaves a half-written file in place. Arrays are loaded with allow_pickle=False: a weights file can
hold numbers only, never code.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .model import Model
from .network import Network, NetworkConfig

WEIGHTS_FILE = "model.npz"
CARD_FILE = "model.json"
FORMAT_VERSION = 1


class WeightsError(ValueError):
    """A weights file or model card that cannot be used; the message names the file."""


def array_key(member: int, kind: str, layer: int) -> str:
    """Name of one array in the .npz: e.g. 'member0.W1' (layers count from 1, as in the math)."""
    return f"member{member}.{kind}{layer}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def member_description(net: Network) -> dict[str, Any]:
    cfg = net.config
    return {
        "layer_sizes": list(cfg.layer_sizes),
        "activation": cfg.activation,
        "output_activation": cfg.output_activation,
        "n_parameters": cfg.n_parameters,
    }


def save_model(model: Model, directory: str | os.PathLike, card: dict[str, Any]) -> Path:
    """Write model.npz and model.json atomically into `directory`; return the card path.

    `card` holds whatever the caller measured (training recipe, accuracy...); architecture, hash and
    format fields are filled in here so they always agree with the arrays.
    """
    directory = Path(directory)
    arrays = {}
    for m, net in enumerate(model.members):
        for l, (w, b) in enumerate(zip(net.weights, net.biases), start=1):
            arrays[array_key(m, "W", l)] = np.ascontiguousarray(w, dtype=np.float32)
            arrays[array_key(m, "b", l)] = np.ascontiguousarray(b, dtype=np.float32)

    def card_for(sha: str) -> dict[str, Any]:
        return {
            **card,
            "format_version": FORMAT_VERSION,
            "model_id": f"mlp-{sha[:12]}",
            "members": [member_description(net) for net in model.members],
            "n_parameters": model.n_parameters,
            "weights_file": WEIGHTS_FILE,
            "weights_sha256": sha,
        }

    return write_weights_and_card(directory, arrays, card_for, WEIGHTS_FILE, CARD_FILE)


def write_weights_and_card(
    directory: Path, arrays: dict[str, np.ndarray], card_for: Callable[[str], dict[str, Any]], weights_name: str, card_name: str
) -> Path:
    """Write `arrays` as directory/weights_name (.npz) and card_for(its SHA-256) as directory/card_name (JSON).

    Both are written under temporary names first and renamed into place only once both are complete,
    so an interrupted save never leaves a half-written file; returns the card's path.
    """
    directory.mkdir(parents=True, exist_ok=True)
    weights_tmp = _temporary_path(directory, weights_name)
    card_tmp = _temporary_path(directory, card_name)
    try:
        with open(weights_tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
        card_tmp.write_text(json.dumps(card_for(file_sha256(weights_tmp)), indent=2) + "\n")
        os.replace(weights_tmp, directory / weights_name)
        os.replace(card_tmp, directory / card_name)
    finally:
        weights_tmp.unlink(missing_ok=True)
        card_tmp.unlink(missing_ok=True)
    return directory / card_name


def _temporary_path(directory: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; the weights must stay readable by a service user
    return Path(tmp)


def load_card(directory: str | os.PathLike) -> dict[str, Any]:
    path = Path(directory) / CARD_FILE
    if not path.is_file():
        raise WeightsError(f"{path}: model card not found")
    try:
        card = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WeightsError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(card, dict):
        raise WeightsError(f"{path}: model card is not a JSON object")
    missing = [k for k in ("format_version", "members", "weights_sha256") if k not in card]
    if missing or not isinstance(card["members"], list) or not card["members"]:
        raise WeightsError(f"{path}: model card lacks {missing or 'a non-empty members list'}")
    if card["format_version"] != FORMAT_VERSION:
        raise WeightsError(f"{path}: format_version {card['format_version']}, this code reads {FORMAT_VERSION}")
    return card


def load_model(directory: str | os.PathLike) -> tuple[Model, dict[str, Any]]:
    """Load and check a saved model; raise WeightsError naming the file on any problem."""
    directory = Path(directory)
    card = load_card(directory)
    weights_path = directory / card.get("weights_file", WEIGHTS_FILE)
    if not weights_path.is_file():
        raise WeightsError(f"{weights_path}: weights file not found")
    sha = file_sha256(weights_path)
    if sha != card["weights_sha256"]:
        raise WeightsError(
            f"{weights_path}: SHA-256 {sha} does not match the {card['weights_sha256']} recorded in "
            f"{directory / CARD_FILE} (corrupt, truncated or replaced)"
        )
    arrays = read_arrays(weights_path)
    members = [_build_member(m, spec, arrays, weights_path) for m, spec in enumerate(card["members"])]
    leftover = set(arrays) - {array_key(m, k, l) for m, net in enumerate(members) for l in range(1, len(net.weights) + 1) for k in "Wb"}
    if leftover:
        raise WeightsError(f"{weights_path}: arrays not described by the card: {sorted(leftover)}")
    return Model(members), card


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz file, read without pickle; WeightsError naming the file if it is not one."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise WeightsError(f"{path}: not a readable .npz archive ({err})") from None


def _build_member(m: int, spec: dict[str, Any], arrays: dict[str, np.ndarray], path: Path) -> Network:
    try:
        config = NetworkConfig(
            layer_sizes=tuple(spec["layer_sizes"]),
            activation=spec["activation"],
            output_activation=spec["output_activation"],
        )
    except (KeyError, TypeError, ValueError) as err:
        raise WeightsError(f"{path}: member {m} of the card is not a valid architecture ({err})") from None
    weights, biases = [], []
    sizes = config.layer_sizes
    for l in range(1, len(sizes)):
        for kind, shape, into in (("W", (sizes[l], sizes[l - 1]), weights), ("b", (sizes[l],), biases)):
            key = array_key(m, kind, l)
            if key not in arrays:
                raise WeightsError(f"{path}: array {key} is missing")
            array = arrays[key]
            if array.shape != shape or array.dtype != np.float32:
                raise WeightsError(f"{path}: array {key} is {array.dtype}{array.shape}, the card implies float32{shape}")
            if not np.isfinite(array).all():
                raise WeightsError(f"{path}: array {key} holds NaN or infinite values")
            into.append(array)
    return Network(config, weights, biases)

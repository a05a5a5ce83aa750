"""Digits cut out of numbers the way segment.py cuts them (number_pieces.py): framed like MNIST, labelled
with the digit they hold, and that digit is what the network reads in them."""

from __future__ import annotations

import numpy as np
import pytest

from backend.nn.shapes import N_INPUTS
from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition import number_pieces as pieces_module
from backend.recognition.number_pieces import number_pieces
from backend.recognition.preprocess import centre_of_mass


@pytest.fixture(scope="module")
def digits(mnist_data):
    return mnist_data.validation.images[:300], mnist_data.validation.labels[:300]


def test_pieces_are_framed_like_mnist_and_labelled_with_digits_of_the_set(digits):
    images, labels = digits
    pieces, piece_labels = number_pieces(images, labels, 60, np.random.default_rng(0))
    assert pieces.shape == (60, N_INPUTS) and pieces.dtype == np.float32
    assert pieces.min() >= 0 and pieces.max() <= 1
    assert set(piece_labels.tolist()) <= set(labels.tolist())
    for piece in pieces:
        rows, cols = centre_of_mass(piece.reshape(28, 28))
        assert abs(rows - 14) < 2.5 and abs(cols - 14) < 2.5


@pytest.mark.parametrize(
    "touching_only, n, seed, least_read",
    [(False, 300, 1, 0.95), (True, 150, 2, 0.9)],
    ids=["every kind of gap", "cut from touching digits"],
)
def test_the_network_reads_the_labelled_digit_in_its_pieces(digits, monkeypatch, touching_only, n, seed, least_read):
    images, labels = digits
    if touching_only:
        monkeypatch.setattr(pieces_module, "ALONE", 0.0)
        monkeypatch.setattr(pieces_module, "TOUCHING", 1.0)
    model, _ = load_model(MODEL_DIR)
    pieces, piece_labels = number_pieces(images, labels, n, np.random.default_rng(seed))
    assert (model.predict_proba(pieces).argmax(axis=1) == piece_labels).mean() >= least_read


def test_a_piece_that_cannot_hold_enough_of_its_digit_is_not_kept(digits, monkeypatch):
    images, _ = digits
    monkeypatch.setattr(pieces_module, "ALONE", 0.0)
    monkeypatch.setattr(pieces_module, "MIN_COVERAGE", 1.01)  # no piece holds more than all of its digit
    rng = np.random.default_rng(3)
    assert all(pieces_module._piece(images, k, rng) is None for k in range(30))


def test_no_pieces_asked_for_gives_an_empty_set(digits):
    images, labels = digits
    pieces, piece_labels = number_pieces(images, labels, 0, np.random.default_rng(0))
    assert pieces.shape == (0, N_INPUTS) and piece_labels.shape == (0,)

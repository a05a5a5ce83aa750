import numpy as np

from backend.nn.augment import (
    NO_AUGMENTATION,
    AugmentConfig,
    augment,
    bilinear_sample,
    dilate,
    erode,
    gaussian_matrix,
    smooth_fields,
)


def test_augmented_digits_stay_digits(mnist_data):
    images = mnist_data.train.images[:500]
    out = augment(images, np.random.default_rng(0), AugmentConfig())
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert not np.array_equal(out, images)
    # distorted, not destroyed: the ink survives and stays roughly where it was
    assert 0.7 < out.sum() / images.sum() < 1.3
    index = np.arange(784) // 28
    drift = np.abs((out * index).sum(1) / out.sum(1) - (images * index).sum(1) / images.sum(1))
    assert np.median(drift) < 2.0 and drift.max() < 6.0


def test_each_epoch_gets_fresh_distortions(mnist_data):
    rng = np.random.default_rng(0)
    images = mnist_data.train.images[:10]
    assert not np.array_equal(augment(images, rng, AugmentConfig()), augment(images, rng, AugmentConfig()))


def test_no_augmentation_is_the_identity(mnist_data):
    images = mnist_data.train.images[:20]
    np.testing.assert_allclose(augment(images, np.random.default_rng(0), NO_AUGMENTATION), images, atol=1e-6)


def test_bilinear_sampling_shifts_and_interpolates():
    img = np.zeros((1, 28, 28), np.float32)
    img[0, 10, 10] = 1.0
    rows, cols = np.meshgrid(np.arange(28.0), np.arange(28.0), indexing="ij")
    shifted = bilinear_sample(img, (rows - 2)[None].astype(np.float32), cols[None].astype(np.float32))
    assert shifted[0, 12, 10] == 1.0 and shifted.sum() == 1.0
    half = bilinear_sample(img, (rows + 0.5)[None].astype(np.float32), cols[None].astype(np.float32))
    assert half[0, 9, 10] == half[0, 10, 10] == 0.5
    outside = bilinear_sample(img, (rows + 100)[None].astype(np.float32), cols[None].astype(np.float32))
    assert outside.sum() == 0


def test_smoothing_matches_the_two_sided_matrix_product():
    fields = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28)).astype(np.float32)
    g = gaussian_matrix(28, 4.0)
    np.testing.assert_allclose(smooth_fields(fields, g), g @ fields @ g.T, atol=1e-5)


def test_stroke_width_changes():
    img = np.zeros((1, 28, 28), np.float32)
    img[0, 10:18, 13:15] = 1.0  # a bar two pixels wide
    assert dilate(img).sum() > img.sum() > erode(img).sum()

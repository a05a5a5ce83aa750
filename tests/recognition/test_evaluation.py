from backend.nn.weights import load_model
from backend.paths import MODEL_DIR
from backend.recognition.evaluation import (
    DISTORTIONS,
    Distortion,
    distort,
    robustness_report,
)
from backend.recognition.preprocess import centre_of_mass


def test_distortions_move_the_ink_and_recentring_brings_it_back(mnist_data):
    images = mnist_data.test.images[:50]
    moved = distort(images, Distortion("x", shift=(4.0, -4.0), recentre=False))
    framed = distort(images, Distortion("x", shift=(4.0, -4.0)))
    for before, after, again in zip(images, moved, framed):
        cy0, cx0 = centre_of_mass(before.reshape(28, 28))
        cy1, cx1 = centre_of_mass(after.reshape(28, 28))
        assert cy1 - cy0 > 2 and cx0 - cx1 > 2  # less than 4: ink pushed past the 28x28 window is cut off
        assert abs(centre_of_mass(again.reshape(28, 28))[0] - 14) <= 0.6


def test_thinner_and_thicker_change_the_amount_of_ink(mnist_data):
    images = mnist_data.test.images[:50]
    thin = distort(images, Distortion("t", stroke="thinner", recentre=False))
    thick = distort(images, Distortion("t", stroke="thicker", recentre=False))
    assert thin.sum() < images.sum() < thick.sum()


def test_robustness_report_scores_every_distortion(mnist_data):
    model, _ = load_model(MODEL_DIR)
    test = mnist_data.test
    report = robustness_report(model, test.images[:300], test.labels[:300])
    assert set(report) == {d.name for d in DISTORTIONS}
    assert report["shifted_4px"] > 0.95 and report["shifted_4px"] > report["shifted_4px_uncentred"]
    assert all(0 <= v <= 1 for v in report.values())

"""The Fréchet distance against closed forms, including singular (rank-deficient) covariances."""

import numpy as np
import pytest

from wgan.errors import ConfigError
from wgan.metrics import frechet_distance, frechet_distance_from_samples
from wgan.metrics.frechet import psd_sqrt


def test_identical_gaussians_are_at_distance_zero():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    cov = a @ a.T
    mu = rng.normal(size=4)
    assert frechet_distance(mu, cov, mu, cov) == pytest.approx(0.0, abs=1e-10)


def test_identical_singular_gaussians_are_at_distance_zero():
    w = np.array([[1.0, -2.0, 0.5, 3.0]])  # a line in 4-D: rank 1
    cov = w.T @ w
    assert frechet_distance(np.ones(4), cov, np.ones(4), cov) == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("m1, s1, m2, s2", [(0.0, 1.0, 0.0, 2.0), (1.0, 0.5, -2.0, 3.0), (0.3, 0.0, 0.0, 1.5)])
def test_one_dimensional_closed_form(m1, s1, m2, s2):
    # W2^2 between N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2; sigma arguments are variances
    expected = (m1 - m2) ** 2 + (s1 - s2) ** 2
    assert frechet_distance([m1], [[s1**2]], [m2], [[s2**2]]) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_commuting_diagonal_covariances():
    v1, v2 = np.array([1.0, 4.0, 0.0, 9.0]), np.array([2.0, 1.0, 3.0, 0.0])
    mu1, mu2 = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0, 3.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected, rel=1e-10)


def test_two_lines_rank_one_covariances():
    # S1 = a a^T, S2 = b b^T: tr((S1^1/2 S2 S1^1/2)^1/2) = |a . b|, so d^2 = |mu|^2 + |a|^2 + |b|^2 - 2 |a . b|
    rng = np.random.default_rng(3)
    for _ in range(5):
        a, b, dmu = rng.normal(size=6), rng.normal(size=6), rng.normal(size=6)
        expected = dmu @ dmu + a @ a + b @ b - 2 * abs(a @ b)
        got = frechet_distance(dmu, np.outer(a, a), np.zeros(6), np.outer(b, b))
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_symmetric_in_its_arguments_for_singular_covariances():
    rng = np.random.default_rng(4)
    w1, w2 = rng.normal(size=(1, 5)), rng.normal(size=(3, 5))
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    d12 = frechet_distance(mu1, w1.T @ w1, mu2, w2.T @ w2)
    d21 = frechet_distance(mu2, w2.T @ w2, mu1, w1.T @ w1)
    assert d12 == pytest.approx(d21, rel=1e-9)


def test_psd_sqrt_squares_back_and_clips_round_off():
    w = np.array([[1.0, 2.0, 2.0]])
    cov = w.T @ w - 1e-15 * np.eye(3)  # PSD up to round-off: tiny negative eigenvalues
    r = psd_sqrt(cov)
    assert np.isfinite(r).all()
    np.testing.assert_allclose(r @ r, w.T @ w, atol=1e-7)


def test_from_samples_uses_unbiased_covariances():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(50, 3))
    assert frechet_distance_from_samples(x, x) == pytest.approx(0.0, abs=1e-10)
    y = x + np.array([1.0, 0.0, 0.0])  # a pure shift: distance is the squared shift
    assert frechet_distance_from_samples(x, y) == pytest.approx(1.0, rel=1e-9)
    z = 2 * x  # a scaling: unbiased covariance C, 4C -> tr C + 4 tr C - 2 * 2 tr C = tr C, plus |mean|^2
    c = np.cov(x, rowvar=False, ddof=1)
    expected = np.sum(x.mean(0) ** 2) + np.trace(c)
    assert frechet_distance_from_samples(x, z) == pytest.approx(expected, rel=1e-9)


def test_bad_shapes_are_config_errors():
    with pytest.raises(ConfigError, match="shape"):
        frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ConfigError, match="different dimensions"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ConfigError, match="NaN"):
        frechet_distance(np.array([np.nan]), [[1.0]], [0.0], [[1.0]])
    with pytest.raises(ConfigError, match="n >= 2"):
        frechet_distance_from_samples(np.zeros((1, 3)), np.zeros((5, 3)))

"""Exact W1 (POT network simplex) and mode coverage (unrolled-GAN / VEEGAN / PacGAN protocol)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

from wgan.metrics import ModeStats, mode_stats, w1_exact


def _points(n, d, seed):
    return np.random.default_rng(seed).normal(size=(n, d))


def test_w1_self_is_zero():
    """W1(P, P) = 0 exactly."""
    x = _points(50, 2, 0)
    assert w1_exact(x, x) == 0.0


def test_w1_self_is_zero_far_from_origin():
    """The cost is computed as ||a - b|| directly, so coincident points cost exactly 0 anywhere."""
    x = _points(50, 2, 0) + 1000.0
    assert w1_exact(x, x) == 0.0


@pytest.mark.parametrize("t", [(3.0, 4.0), (-0.5, 0.1), (0.0, 1e-3)])
def test_w1_translation_is_shift_norm(t):
    """W1(P, P + t) = ||t||: Jensen gives E||x - y|| >= ||E(x - y)|| = ||t||, and the shift coupling
    attains it."""
    x = _points(40, 2, 1)
    shift = np.array(t)
    assert w1_exact(x, x + shift) == pytest.approx(float(np.linalg.norm(shift)), rel=1e-9, abs=1e-12)


def test_w1_one_d_matches_scipy():
    """In 1-D, W1 is the L1 distance between quantile functions (scipy.stats.wasserstein_distance)."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=60)
    b = rng.exponential(size=60) + 0.3
    expected = scipy.stats.wasserstein_distance(a, b)
    assert w1_exact(a[:, None], b[:, None]) == pytest.approx(expected, rel=1e-9)


def test_w1_one_d_unequal_sizes_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=30), rng.normal(loc=1.0, size=45)
    assert w1_exact(a[:, None], b[:, None]) == pytest.approx(scipy.stats.wasserstein_distance(a, b), rel=1e-9)


def test_w1_symmetric_and_accepts_torch():
    x, y = _points(30, 3, 4), _points(25, 3, 5) + 1.0
    d = w1_exact(x, y)
    assert d == pytest.approx(w1_exact(y, x), rel=1e-9)
    assert w1_exact(torch.from_numpy(x), torch.from_numpy(y).float()) == pytest.approx(d, rel=1e-6)
    assert d > 0


def test_w1_two_points_closed_form():
    """Two Diracs: W1(delta_a, delta_b) = ||a - b||."""
    assert w1_exact(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])) == pytest.approx(5.0)


def test_w1_errors():
    with pytest.raises(ValueError, match="dimension"):
        w1_exact(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        w1_exact(np.zeros(4), np.zeros(4))


# ---------------------------------------------------------------- mode coverage

MODES = torch.tensor([[math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)] for k in range(8)])
STD = 0.02


def _at_modes(idx: list[int]) -> torch.Tensor:
    return MODES[idx].clone()


def _far(n: int) -> torch.Tensor:
    return torch.full((n, 2), 10.0)


def test_all_modes_covered():
    """Samples exactly at every mode, several each: all 8 covered, every sample high quality."""
    s = mode_stats(_at_modes(list(range(8)) * 5), MODES, STD)
    assert isinstance(s, ModeStats)
    assert s.modes_covered == 8 and s.n_modes == 8
    assert s.high_quality_share == 1.0
    assert s.counts == [5] * 8
    assert s.as_dict() == {"modes_covered": 8, "n_modes": 8, "high_quality_share": 1.0}


def test_three_of_eight_modes():
    """A collapsed generator on 3 modes covers exactly 3."""
    s = mode_stats(_at_modes([0, 3, 5] * 10), MODES, STD)
    assert s.modes_covered == 3
    assert s.high_quality_share == 1.0
    assert s.counts == [10, 0, 0, 10, 0, 10, 0, 0]


def test_far_samples_are_not_high_quality():
    s = mode_stats(_far(20), MODES, STD)
    assert s.modes_covered == 0
    assert s.high_quality_share == 0.0
    assert s.counts == [0] * 8


def test_high_quality_radius_is_k_std():
    """High quality means within k = 3 std (Euclidean) of the nearest mode."""
    inside = MODES[[0]] + torch.tensor([[2.9 * STD, 0.0]])
    outside = MODES[[1]] + torch.tensor([[0.0, 3.1 * STD]])
    s = mode_stats(torch.cat([inside, outside]), MODES, STD)
    assert s.high_quality_share == 0.5
    assert s.counts[0] == 1 and s.counts[1] == 0
    assert mode_stats(outside, MODES, STD, k=4.0).high_quality_share == 1.0


def test_coverage_threshold_boundary():
    """A mode is covered with >= min_share * n / K high-quality samples: n = 160, K = 8 -> threshold 2."""
    # mode 0: 2 samples (exactly the threshold), mode 1: 1 sample (below), 157 samples far from all modes
    x = torch.cat([_at_modes([0, 0, 1]), _far(157)])
    s = mode_stats(x, MODES, STD)
    assert s.counts[:2] == [2, 1]
    assert s.modes_covered == 1
    assert s.high_quality_share == pytest.approx(3 / 160)
    # one more far sample: n = 168 makes the threshold 2.1, so mode 0 is no longer covered
    assert mode_stats(torch.cat([x, _far(8)]), MODES, STD).modes_covered == 0
    # a larger min_share raises the bar: 0.2 * 160 / 8 = 4
    assert mode_stats(torch.cat([_at_modes([0] * 4 + [1] * 3), _far(153)]), MODES, STD,
                      min_share=0.2).modes_covered == 1


def test_coverage_needs_at_least_one_sample():
    """With a threshold below 1 (few samples), a mode still needs one high-quality sample."""
    s = mode_stats(torch.cat([_at_modes([2, 6]), _far(6)]), MODES, STD)  # threshold 0.1 * 8 / 8 = 0.1
    assert s.modes_covered == 2

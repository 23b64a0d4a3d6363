"""Closed forms of wgan.metrics.parallel_lines and the analytic helpers of the reproductions."""

import math

import numpy as np
import pytest

from wgan.experiments.generator_gradients import generator_loss_curves
from wgan.experiments.simultaneous_gradients import play_xy
from wgan.metrics import w1_exact
from wgan.metrics.parallel_lines import (
    earth_mover,
    earth_mover_plan,
    parallel_lines_divergences,
    parallel_lines_js,
    parallel_lines_kl,
    parallel_lines_tv,
    parallel_lines_w1,
)


@pytest.mark.parametrize("theta", [-2.5, -1.0, -1e-9, 1e-9, 0.3, 7.0])
def test_parallel_lines_closed_forms_off_zero(theta):
    assert parallel_lines_w1(theta) == pytest.approx(abs(theta), abs=0, rel=1e-15)
    assert parallel_lines_js(theta) == pytest.approx(math.log(2))
    assert parallel_lines_kl(theta) == math.inf
    assert parallel_lines_tv(theta) == 1.0


def test_parallel_lines_closed_forms_at_zero():
    d = parallel_lines_divergences(0.0)
    assert d == {"w1": 0.0, "js": 0.0, "kl": 0.0, "tv": 0.0}
    assert all(isinstance(v, float) for v in d.values())


def test_parallel_lines_vectorised():
    t = np.array([-1.0, 0.0, 0.5])
    np.testing.assert_array_equal(parallel_lines_w1(t), [1.0, 0.0, 0.5])
    np.testing.assert_allclose(parallel_lines_js(t), [math.log(2), 0.0, math.log(2)])
    np.testing.assert_array_equal(parallel_lines_kl(t), [np.inf, 0.0, np.inf])
    np.testing.assert_array_equal(parallel_lines_tv(t), [1.0, 0.0, 1.0])


def test_four_piles_cost_five_and_plan_marginals():
    p, q = np.array([3.0, 2.0, 1.0, 4.0]), np.array([1.0, 2.0, 4.0, 3.0])
    cost, plan = earth_mover_plan(p, q)
    assert cost == pytest.approx(5.0, abs=1e-12)
    assert earth_mover(p, q) == pytest.approx(5.0, abs=1e-12)
    np.testing.assert_allclose(plan.sum(1), p)
    np.testing.assert_allclose(plan.sum(0), q)
    # Weng's running-sum formula for piles on a line: W = sum |cumsum(P - Q)|
    assert cost == pytest.approx(np.abs(np.cumsum(p - q)).sum())
    # the same masses as unit points through the library's W1 metric (uniform weights, total 1)
    pts = lambda m: np.repeat(np.arange(4.0), m.astype(int))[:, None]  # noqa: E731
    assert w1_exact(pts(p), pts(q)) == pytest.approx(0.5, abs=1e-12)


def test_earth_mover_two_dimensional_positions():
    # one unit of mass moved along the diagonal of a 3-4-5 triangle
    assert earth_mover([1.0], [1.0], x=[[0.0, 0.0]], y=[[3.0, 4.0]]) == pytest.approx(5.0)


@pytest.mark.parametrize("p,q,match", [([1.0, 2.0], [1.0, 1.0], "total mass"),
                                       ([-1.0, 2.0], [0.5, 0.5], "nonnegative")])
def test_earth_mover_rejects_bad_masses(p, q, match):
    with pytest.raises(ValueError, match=match):
        earth_mover(p, q)


def test_generator_loss_curves_match_closed_forms():
    d = np.array([1e-4, 0.01, 0.3, 0.5, 0.9])
    c = generator_loss_curves(d)
    np.testing.assert_allclose(c["minimax_loss"], np.log1p(-d), rtol=1e-10)
    np.testing.assert_allclose(c["ns_loss"], -np.log(d), rtol=1e-10)
    np.testing.assert_allclose(c["minimax_grad_logit"], -d, rtol=1e-10)
    np.testing.assert_allclose(c["ns_grad_logit"], -(1 - d), rtol=1e-10)


def test_xy_game_simultaneous_radius_and_alternating_invariant():
    eta, n = 0.1, 50
    sim = play_xy("simultaneous", n, eta, 1.0, 0.0)
    r = np.linalg.norm(sim, axis=1)
    np.testing.assert_allclose(r, (1 + eta**2) ** (np.arange(n + 1) / 2), rtol=1e-12)
    alt = play_xy("alternating", n, eta, 1.0, 0.0)
    q = alt[:, 0] ** 2 + alt[:, 1] ** 2 - eta * alt[:, 0] * alt[:, 1]
    np.testing.assert_allclose(q, 1.0, rtol=1e-12)
    # first steps by hand: simultaneous (1, 0) -> (1, 0.1); alternating (1, 0) -> x = 1, y = 0.1
    np.testing.assert_allclose(sim[1], [1.0, 0.1])
    np.testing.assert_allclose(sim[2], [1.0 - 0.01, 0.2])
    np.testing.assert_allclose(alt[2], [1.0 - 0.01, 0.1 + 0.1 * 0.99])
    with pytest.raises(ValueError, match="schedule"):
        play_xy("random", 1)  # type: ignore[arg-type]

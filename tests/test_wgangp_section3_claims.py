"""The WGAN-GP claims of sec. 2.3-4 reproduced by proposition-1, two-sided-penalty, deep-critic-bn and
other-constraints: their criteria fail on the wrong critics and pass on the right ones (measured where the criterion
measures something), the exact-coupling identity fails on a damaged potential, and each reproduction's --quick run
writes its results (a smoke test, seconds)."""

import numpy as np
import pytest
import torch

from wgan.data import make_sampler
from wgan.diagnostics.layers import compute_activation_grad_norms
from wgan.experiments import Context, deep_critic_bn, other_constraints, proposition_1, run_experiment
from wgan.experiments import _fixed_critics as fc
from wgan.experiments._deep_runs import converged, layer_ratio
from wgan.io import read_json
from wgan.nets import MLP

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny nets: one torch thread (conftest)


def _points(n: int = 200, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    real = make_sampler("8gaussians").sample(n, g)
    fake = make_sampler("8gaussians").sample(n, g) + torch.randn(n, 2, generator=g)
    return real, fake


# ---------------------------------------------------------------------------------------------- proposition-1
def test_exact_potential_is_tight_on_coupled_pairs_and_unit_along_their_lines():
    real, fake = _points()
    m, _ = proposition_1._exact_checks(real, fake, seed=0)
    assert proposition_1.identity_holds(m)
    assert m["pairs"] >= 200 and abs(m["w1"] - fc.exact_transport(real, fake).dual) < 1e-9


def test_identity_check_fails_on_a_damaged_potential(monkeypatch):
    real, fake = _points()
    exact = fc.exact_transport

    def damaged(r, f):
        t = exact(r, f)
        t.f_real = t.f_real * 0.9  # no longer tight on the coupled pairs
        return t

    monkeypatch.setattr(proposition_1, "exact_transport", damaged)
    m, _ = proposition_1._exact_checks(real, fake, seed=0)
    assert not proposition_1.identity_holds(m) and m["max_coupled_gap"] > 1e-3


def test_line_norm_criterion_measured_on_critics():
    real, fake = _points()
    t = fc.exact_transport(real, fake)
    pts, direction, w = fc.line_points(real, fake, t, 4, seed=1)
    exact = fc.weighted_mean(fc.line_gradients(fc.mcshane(real, fake, t), pts, direction)[0], w)
    torch.manual_seed(0)
    untrained = fc.weighted_mean(fc.line_gradients(MLP(2, 1, depth=3, width=32, squeeze=True), pts, direction)[0], w)
    numbers = {"seeds": 3, "steps": 1, "worst_dual_gap": 0.0}
    assert proposition_1.norm_near_one(numbers | {"lowest_seed_norm": exact, "highest_seed_norm": exact})
    assert not proposition_1.norm_near_one(numbers | {"lowest_seed_norm": untrained,
                                                      "highest_seed_norm": untrained})


def test_affine_r2_is_one_for_an_affine_map_and_low_for_noise():
    x = np.linspace(0, 1, 50)
    assert fc.affine_r2(3 * x + 1, x) == pytest.approx(1.0)
    assert fc.affine_r2(np.random.default_rng(0).normal(size=50), x) < 0.2


# ---------------------------------------------------------------------------------------------- deep-critic-bn
def test_convergence_needs_the_w1_halved_and_finite():
    assert converged([2.0, 1.5, 0.9], 0.5)
    assert not converged([2.0, 1.5, 1.1], 0.5)
    assert not converged([2.0, 1.0, float("nan")], 0.5)


def test_often_counts_failures_against_half_the_seeds():
    m = {"seeds": 3, "steps": 500, "clip-bn-shallow/failed": 0, "gp-deep/failed": 0}
    assert deep_critic_bn.often_fail(m | {"clip-bn-deep/failed": 2})
    assert not deep_critic_bn.often_fail(m | {"clip-bn-deep/failed": 1})


# ---------------------------------------------------------------------------------------------- other-constraints
def test_constraint_problem_criterion_on_measured_critics():
    g = torch.Generator().manual_seed(0)
    real = make_sampler("swissroll").sample(128, g)
    fake = real + torch.randn(128, 2, generator=g)
    torch.manual_seed(0)
    free = MLP(2, 1, depth=12, width=32, init="he", squeeze=True)
    torch.manual_seed(0)
    bounded = MLP(2, 1, depth=12, width=32, init="he", squeeze=True)
    from wgan.constraints import l2_clip_

    l2_clip_(bounded, other_constraints.unit_bound(32))  # every unit at the norm clipping at 0.01 allows
    ratio = lambda D: layer_ratio(compute_activation_grad_norms(D, real, fake)[None].tolist())  # noqa: E731
    flat, vanishing = ratio(free), ratio(bounded)
    assert not other_constraints.explodes_or_vanishes(flat)
    assert other_constraints.explodes_or_vanishes(vanishing)
    m = {"l2-clip/ratios": [vanishing] * 3, "l2-clip/gp_minus_r2_low": -0.1}
    assert other_constraints.problems(m, "l2-clip")
    assert not other_constraints.problems(m | {"l2-clip/ratios": [flat] * 3}, "l2-clip")
    assert other_constraints.problems(m | {"l2-clip/ratios": [flat] * 3, "l2-clip/gp_minus_r2_low": 0.05}, "l2-clip")


def test_every_method_is_a_valid_config():
    from wgan.config import Config, apply_sets
    from wgan.resolve import resolve

    for k in (*other_constraints.REFERENCES, *other_constraints.CONSTRAINTS):
        resolve(apply_sets(Config(), other_constraints.method_sets(k, 64)), check_data=False)


# ---------------------------------------------------------------------------------------------- --quick smoke
@pytest.mark.parametrize("name", ["proposition-1", "two-sided-penalty", "deep-critic-bn", "other-constraints"])
def test_quick_run_writes_its_results(tmp_path, name):
    run_experiment(name, Context(out=tmp_path, quick=True))
    saved = read_json(tmp_path / "results.json")
    assert saved["reproduction"] == name and saved["quick"] is True and saved["claims"]
    for c in saved["claims"]:
        assert c["verdict"] in ("IDENTITY", "INCONCLUSIVE")  # one seed: every trained claim is gated
    for fig in saved["figures"]:
        assert (tmp_path / fig).stat().st_size > 1000

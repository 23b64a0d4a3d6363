"""The WGAN claims of issue 24 (optimizer-stability, failed-run-loss, generator-robustness, better-critic-gradients):
their per-run criteria on constructed curves and points (each must be able to fail and to pass), the exact
gradient of the optimal critic, and a --quick smoke run of each reproduction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from wgan.experiments import Context, run_experiment
from wgan.experiments import _wgan_stability as stab
from wgan.experiments import better_critic_gradients as bcg
from wgan.experiments import failed_run_loss as frl
from wgan.experiments import generator_robustness as gr
from wgan.experiments import optimizer_stability as osr
from wgan.experiments._tracking import spearman_p
from wgan.io import read_json
from wgan.nets import MLP

pytestmark = pytest.mark.usefixtures("one_thread")

FLOOR = 0.05
STEADY = [1.4 * 0.85 ** k for k in range(21)]  # a run that keeps improving


# ---------------------------------------------------------------------------------------------- instability
def test_a_steadily_improving_run_is_stable():
    assert stab.worsening(STEADY, FLOOR) == 1.0 and not stab.unstable(STEADY, FLOOR)


def test_samples_getting_worse_is_instability():
    w1 = STEADY[:10] + [STEADY[9] * 3] * 11  # W1 triples from its best mid-run
    assert stab.worsening(w1, FLOOR) == pytest.approx(3.0) and stab.unstable(w1, FLOOR)
    blown = [1.4, 20.0] + [27.0] * 19  # the high-lr run: samples fly off at once
    assert stab.unstable(blown, FLOOR)


def test_noise_below_the_floor_is_not_instability():
    w1 = [0.1, 0.06, 0.13, 0.06, 0.14]  # doubles, but by less than 5 floors
    assert not stab.unstable(w1, FLOOR)


def test_at_times_needs_more_unstable_seeds_than_rmsprop():
    m = {"rmsprop/unstable": 0, "adam/unstable": 1}
    assert osr.more_unstable(m, "adam")
    assert not osr.more_unstable(m | {"rmsprop/unstable": 1}, "adam")
    assert not osr.more_unstable(m | {"adam/unstable": 0}, "adam")


# ---------------------------------------------------------------------------------------------- failed run
def test_constant_means_no_trend_in_the_second_half():
    rng = np.random.default_rng(0)
    assert frl.flat([0.0] * 21)  # a dead critic
    assert frl.flat([1.4, 22.0] + [32.18450927734375] * 10 + [32.184509277343754] * 9)  # constant up to rounding
    assert frl.flat([0.5] + list(0.2 + 0.01 * rng.standard_normal(20)))  # noise around a level
    assert not frl.flat(STEADY)  # a working run's loss still falls in its second half
    assert not frl.flat(list(np.linspace(0, 1, 21)))


def test_failed_means_w1_never_halved():
    assert frl.failed([1.4, 21.7] + [27.3] * 19)
    assert not frl.failed(STEADY)


def test_a_flat_loss_does_not_track_but_a_falling_one_does():
    w1 = STEADY
    assert spearman_p([0.0] * 21, w1) == 1.0
    assert spearman_p([0.01 * v for v in w1], w1) < 1e-4


# ---------------------------------------------------------------------------------------------- optimal critic
def test_the_potential_gradient_is_autograd_through_pots_w1():
    assert bcg.exact_gradient_check(seed=1) >= bcg.IDENT_COS


def test_a_translated_set_has_the_translation_as_its_optimal_direction():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(50, 2, generator=g).double() * 3
    shift = torch.tensor([0.01, 0.0], dtype=torch.float64)
    dirs, _, _, w1, agree = bcg.optimal_directions((real + shift).numpy(), real.numpy())
    assert w1 == pytest.approx(0.01, rel=1e-6)
    assert np.allclose(dirs, [1.0, 0.0]) and agree == 1.0
    probe = real + 0.5 * shift
    # f(x) = -x_1 rises towards the data at slope 1: optimal; its mirror is as bad as can be; a constant does nothing
    assert bcg.critic_quality(lambda x: -x[:, 0], real, real + shift, w1, probe) == pytest.approx(1.0)
    assert bcg.critic_quality(lambda x: x[:, 0], real, real + shift, w1, probe) == pytest.approx(-1.0)
    assert bcg.critic_quality(lambda x: 0 * x[:, 0], real, real + shift, w1, probe) == 0.0


def test_the_gradient_cosine_tells_a_good_critic_from_a_bad_one():
    torch.manual_seed(0)
    gen = MLP(2, 2, depth=1, width=8)
    z = torch.randn(40, 2)
    with torch.no_grad():
        fake = gen(z).numpy().astype(np.float64)
    real = fake - np.array([1.0, 0.0])  # the data sit one unit to the left of every generated point
    dirs, *_ = bcg.optimal_directions(fake, real)
    exact = bcg.exact_generator_gradient(gen, z, dirs)
    good = bcg.critic_generator_gradient(gen, lambda x: -x[:, 0], z)  # optimal: rises to the left
    bad = bcg.critic_generator_gradient(gen, lambda x: x[:, 0], z)
    assert bcg.cosine(good, exact) == pytest.approx(1.0, abs=1e-5)
    assert bcg.cosine(bad, exact) == pytest.approx(-1.0, abs=1e-5)


def test_rank_corr_of_rising_and_falling_pairs():
    assert bcg.rank_corr([0, 0.5, 0.9], [0.1, 0.2, 0.4]) == pytest.approx(1.0)
    assert bcg.rank_corr([0, 0.5, 0.9], [0.4, 0.2, 0.1]) == pytest.approx(-1.0)


# ---------------------------------------------------------------------------------------------- mode coverage
def test_modes_covered_counts_classes_with_half_their_uniform_share():
    assert gr.modes_covered(np.full(10, 0.1)) == 10
    collapsed = np.array([0.7, 0.2, 0.04, 0.06] + [0.0] * 6)
    assert gr.modes_covered(collapsed) == 3


def test_class_shares_of_a_constant_classifier():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    with torch.no_grad():
        net[1].weight.zero_()
        net[1].bias.copy_(torch.tensor([0.0, 1.0, 0.0]))
    shares = gr.class_shares(torch.randn(20, 1, 2, 2), net)
    assert shares.tolist() == [0.0, 1.0, 0.0]


# ---------------------------------------------------------------------------------------------- smoke runs
@pytest.mark.parametrize("name", ["optimizer-stability", "failed-run-loss", "better-critic-gradients",
                                  "generator-robustness"])
def test_quick_run(name, tmp_path):
    result = run_experiment(name, Context(out=tmp_path, quick=True))
    saved = read_json(tmp_path / "results.json")
    assert saved["reproduction"] == name and saved["quick"] is True and saved["claims"]
    for fig in result.figures:
        assert (tmp_path / fig).stat().st_size > 1000
    if name == "better-critic-gradients":
        ident = next(c for c in result.claims if c.name == "optimal-potential-gradient")
        assert ident.status == "IDENTITY"

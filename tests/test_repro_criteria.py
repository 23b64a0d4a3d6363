"""Every empirical criterion of the reproductions can fail (issue 12): each criterion is a function of measured
numbers, called here with control inputs that must make it fail -- measured on noise, untrained or clipped
networks and shuffled curves where the criterion measures something, numbers otherwise -- and with an input
that must pass, so that neither outcome is built in. (Many Paths' criteria: tests/test_many_paths.py.)"""


import numpy as np
import pytest
import torch

from wgan.data import make_sampler
from wgan.diagnostics.layers import compute_activation_grad_norms, compute_weight_share_near
from wgan.experiments import _deep_critic as deep_runs
from wgan.experiments import (
    _toy_runs,
    char_lm,
    critic_overfitting,
    em_vs_js,
    generator_gradients,
    gradient_norms,
    image_objectives,
    improved_techniques,
    loss_curves,
    mixture_of_gaussians,
    optimal_critic,
    parallel_lines_gan,
    value_surfaces,
    weight_histograms,
)
from wgan.metrics import mode_stats, w1_exact
from wgan.metrics.parallel_lines import parallel_lines_js, parallel_lines_w1
from wgan.nets import MLP
from wgan.penalties import clip_weights_, input_gradient_norms

N = 1000


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny nets: one torch thread (conftest)


# ---------------------------------------------------------------------------------------------- mixture
def _verdict(fake: torch.Tensor) -> bool:
    """The mixture criterion on one seed's samples, as at every late evaluation point and at the end."""
    s = make_sampler("8gaussians")
    return mixture_of_gaussians.covers_modes(_toy_runs.min_mode_share(fake, s.modes),
                                             _toy_runs.ring_share(fake, s.modes))


NOISE = {
    "N(0, I)": lambda g: torch.randn(N, 2, generator=g),
    "N(0, 0.25 I)": lambda g: 0.5 * torch.randn(N, 2, generator=g),
    "U[-2, 2]^2": lambda g: 4 * torch.rand(N, 2, generator=g) - 2,
}


@pytest.mark.parametrize("noise", list(NOISE))
def test_mixture_criterion_fails_on_pure_noise(noise):
    s = make_sampler("8gaussians")
    fake = NOISE[noise](torch.Generator().manual_seed(1))
    k = _toy_runs._loose_k(s.modes, s.mode_std)
    assert mode_stats(fake, s.modes, s.mode_std, k=k).modes_covered == 8  # noise "reaches" every mode
    assert not _verdict(fake)  # but misses the ring


def test_mixture_and_loss_curves_size_their_own_steps(tmp_path):
    """The mixture's gate needs a W1 plateau (2,000 steps did not reach one); loss-curves keeps its 2,000 steps:
    each reproduction's protocol table shows its own cpu steps, and --budget paper the official 100,000."""
    from wgan.experiments import Context, full_table

    def steps(name: str, **kw) -> str:
        return next(r["ours"] for r in full_table(name, Context(out=tmp_path, **kw)) if r["setting"] == "steps")

    assert steps("mixture-of-gaussians") == f"{mixture_of_gaussians.MIXTURE_CPU_STEPS} generator steps" != \
        steps("loss-curves") == "2000 generator steps"
    assert steps("mixture-of-gaussians", budget="paper") == steps("loss-curves", budget="paper") == \
        "100000 generator steps"


def test_mixture_criterion_judges_coverage_not_sharpness():
    s = make_sampler("8gaussians")
    g = torch.Generator().manual_seed(5)
    data = s.sample(N, g)
    assert _verdict(data)  # the mixture itself passes
    # WGAN Fig. 2's described progress: mass along the ring, not yet on the bumps -- not sharp, but no collapse
    angle = 2 * torch.pi * torch.rand(N, generator=g)
    radius = s.modes.norm(dim=1).mean()
    ring = torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)
    assert mode_stats(ring, s.modes, s.mode_std).high_quality_share < 0.5  # the old criterion failed it
    assert _verdict(ring)
    # sharp samples on 7 of the 8 modes: a missing mode is collapse
    seven = s.modes[torch.randint(0, 7, (N,), generator=g)] + s.mode_std * torch.randn(N, 2, generator=g)
    assert not _verdict(seven)
    # 80% of the mass on one mode, the rest spread: the other modes get less than half their share
    lopsided = torch.cat([data[:200], s.modes[0] + s.mode_std * torch.randn(800, 2, generator=g)])
    assert not _verdict(lopsided)


# ---------------------------------------------------------------------------------------------- loss curves
def _tracking_curves(n: int = 21) -> tuple[list[float], list[float]]:
    """A run whose W1 falls quickly then keeps improving slowly with wiggles, and an estimate that follows it."""
    rng = np.random.default_rng(0)
    steps = np.arange(n)
    w1 = 2.0 * np.exp(-steps / 2) + 0.3 * np.exp(-steps / 15) + 0.01 * rng.standard_normal(n)
    estimate = 1.5 * w1 + 0.05 + 0.002 * rng.standard_normal(n)
    return estimate.tolist(), w1.tolist()


def test_loss_curve_criteria_fail_on_a_shuffled_curve():
    est, w1 = _tracking_curves()
    assert loss_curves.spearman_p(est, w1) < 1e-4  # positive control: the estimate follows W1
    rng = np.random.default_rng(3)
    shuffled = list(est)
    rng.shuffle(shuffled)
    assert loss_curves.spearman_p(shuffled, w1) > loss_curves.ALPHA  # a shuffled curve fails
    assert loss_curves.spearman_p([1.0] * len(w1), w1) == 1.0  # a flat curve fails
    m = {"seeds": 3, "wgan/max_p": max(loss_curves.spearman_p(est, w1), loss_curves.spearman_p(shuffled, w1))}
    assert not loss_curves.tracks(m, "wgan")  # every seed must track


def test_js_criterion_passes_a_flat_estimate_and_fails_a_tracking_one():
    est, w1 = _tracking_curves()
    rng = np.random.default_rng(4)
    flat = (np.log(2) - 0.01 * np.abs(rng.standard_normal(len(w1)))).tolist()  # near log 2 throughout
    poor = loss_curves.spearman_p(flat, w1) >= loss_curves.ALPHA or loss_curves._rising_or_flat(flat)
    assert poor
    # an estimate that falls with W1
    assert not (loss_curves.spearman_p(est, w1) >= loss_curves.ALPHA or loss_curves._rising_or_flat(est))
    assert loss_curves.js_poor({"seeds": 3, "ns-gan/seeds_poor": 2})
    assert not loss_curves.js_poor({"seeds": 3, "ns-gan/seeds_poor": 1})


def test_whole_run_rho_is_inflated_by_the_initial_drop():
    """Why the second-half rho is reported beside the whole-run test: two curves that only share the initial drop
    correlate over the whole run but not after it."""
    rng = np.random.default_rng(0)
    steps = np.arange(21)
    w1 = (2.0 * np.exp(-steps / 4) + 0.03 * rng.standard_normal(21)).tolist()
    est = (1.0 * np.exp(-steps / 4) + 0.03 * rng.standard_normal(21)).tolist()
    assert loss_curves._spearman(est[1:], w1[1:]) > 0.85
    assert loss_curves.spearman_after_drop(est, w1) < 0.7


# ---------------------------------------------------------------------------------------------- critic studies
def _distance_critic(reference: torch.Tensor):
    """f(x) = -min_j ||x - reference_j||: 1-Lipschitz, the shape of the optimal critic against data + noise."""
    def f(x: torch.Tensor) -> torch.Tensor:
        return -torch.cdist(x, reference).min(dim=1).values
    return f


def test_value_surfaces_criterion_fails_for_an_untrained_penalised_critic():
    s = make_sampler("8gaussians")
    g = torch.Generator().manual_seed(0)
    real = s.sample(300, g)
    fake = real + torch.randn(300, 2, generator=g)
    extent = value_surfaces.extent_of(real)
    w1 = w1_exact(real, fake)
    good = value_surfaces.normalised_dual(_distance_critic(s.sample(2000, g)), real, fake, extent)["normalised"]
    torch.manual_seed(0)
    untrained = value_surfaces.normalised_dual(MLP(2, 1, depth=3, width=64, squeeze=True), real, fake,
                                               extent)["normalised"]
    assert value_surfaces.gp_closer(good, untrained, w1)  # positive control
    assert not value_surfaces.gp_closer(untrained, good, w1)  # an untrained "GP" critic fails


def _deep_critic(seed: int, clip: float | None) -> MLP:
    torch.manual_seed(seed)
    D = MLP(2, 1, depth=12, width=32, init="he", squeeze=True)
    if clip is not None:
        clip_weights_(D, clip)
    return D


def test_gradient_norm_criteria_fail_on_the_wrong_critic():
    s = make_sampler("swissroll")
    g = torch.Generator().manual_seed(0)
    real = s.sample(128, g)
    fake = real + torch.randn(128, 2, generator=g)
    ratio = lambda D: gradient_norms._ratio(compute_activation_grad_norms(D, real, fake)[None])  # noqa: E731
    unclipped, clipped = ratio(_deep_critic(0, None)), ratio(_deep_critic(0, 0.01))
    assert not gradient_norms.explodes_or_vanishes(unclipped)  # an unclipped He-init critic: flat
    assert gradient_norms.stays_flat(unclipped)
    assert gradient_norms.explodes_or_vanishes(clipped) and not gradient_norms.stays_flat(clipped)


def test_weight_histogram_criteria_fail_on_the_wrong_critic():
    unclipped, clipped = _deep_critic(1, None), _deep_critic(1, 0.01)
    assert not weight_histograms.piles_at_c(compute_weight_share_near(unclipped, 0.01))
    assert weight_histograms.piles_at_c(compute_weight_share_near(clipped, 0.01))
    assert weight_histograms.no_pile_at_extremes(deep_runs._share_at_extremes(unclipped))
    assert not weight_histograms.no_pile_at_extremes(deep_runs._share_at_extremes(clipped))


# ---------------------------------------------------------------------------------------------- divergences
def test_em_vs_js_criteria_fail_when_the_estimates_are_swapped():
    small, big = 0.1, 1.0
    w = {t: float(parallel_lines_w1(t)) for t in (0.0, small, big)}
    js = {t: float(parallel_lines_js(t)) for t in (0.0, small, big)}
    err = lambda est: max(abs(est[t] - abs(t)) for t in est)  # noqa: E731
    assert em_vs_js.critic_tracks_w(err(w), w[small] / w[big])  # W itself passes
    assert not em_vs_js.critic_tracks_w(err(js), js[small] / js[big])  # a JS-shaped "critic" fails
    assert em_vs_js.js_estimate_jumps(js[0.0], js[small] / js[big])
    assert not em_vs_js.js_estimate_jumps(w[0.0], w[small] / w[big])  # a W-shaped "discriminator" fails


# ---------------------------------------------------------------------------------------------- gradients
def test_optimal_critic_criteria_fail_on_the_wrong_networks():
    fakes = -2.0 + 0.5 * torch.randn(2000, 1, generator=torch.Generator().manual_seed(0))
    grid = torch.linspace(-5, 5, 401).unsqueeze(1)
    torch.manual_seed(0)
    disc = MLP(1, 1, depth=3, width=64, squeeze=True)
    prob = lambda x: torch.sigmoid(disc(x))  # noqa: E731 -- an untrained discriminator: not saturated
    untrained, _ = input_gradient_norms(prob, fakes, create_graph=False)
    assert not optimal_critic.gradient_vanishes(float(untrained.mean()))
    saturated = lambda x: torch.sigmoid(20 * (x - 1)).squeeze(1)  # noqa: E731 -- rejects the fakes with certainty
    sat, _ = input_gradient_norms(saturated, fakes, create_graph=False)
    sat_grid, _ = input_gradient_norms(saturated, grid, create_graph=False)
    assert optimal_critic.gradient_vanishes(float(sat.mean()))
    assert not optimal_critic.gradient_usable(float(sat.mean()), float(sat.mean()))
    assert float(sat.mean() / sat_grid.max()) < 1e-3  # a saturated function's slope share at the fakes (reported)
    assert optimal_critic.gradient_usable(1.0, 1.0)  # a linear 1-Lipschitz critic


def test_training_criteria_fail_for_a_generator_that_did_not_move():
    assert generator_gradients.ns_reaches_data(4.0, 0.1)
    assert not generator_gradients.ns_reaches_data(4.0, 4.0)  # nothing moved
    assert parallel_lines_gan.converges_onto_line(0.003, 1.0) and not parallel_lines_gan.converges_onto_line(1.0, 1.0)
    assert parallel_lines_gan.matches_data(0.05, 1.0) and not parallel_lines_gan.matches_data(1.0, 1.0)


# ---------------------------------------------------------------------------------------------- images, text, tricks
def test_comparison_criteria_fail_on_ties_and_reversals():
    assert image_objectives.gp_beats_clipping(81.0, 445.0)
    assert not image_objectives.gp_beats_clipping(100.0, 100.0) and not image_objectives.gp_beats_clipping(445.0, 81.0)
    assert improved_techniques.more_modes(6.0, 2.0) and not improved_techniques.more_modes(2.0, 2.0)
    js = {1: 0.3, 2: 0.5, 3: 0.7, 4: 0.9}
    assert char_lm.beats_every_n({n: v - 0.1 for n, v in js.items()}, js)
    assert not char_lm.beats_every_n(js, js)  # an unmoved generator / an equal run
    assert not char_lm.beats_every_n({**js, 4: 0.8}, {n: v - 0.05 for n, v in js.items()})


def test_char_lm_primary_metric_is_not_won_by_padding_or_one_sample():
    """The authors' padded metric rewarded an all-padding generator on this corpus; the primary criterion fails
    an all-padding, a single-sample and an unmoved generator."""
    good = char_lm.LM_LEARNS.positive_control()
    assert char_lm.learns(good)
    assert not char_lm.learns(good | {"distinct_wgan_gp": 1 / 640})  # every sample the same (all padding included)
    assert not char_lm.learns(good | {"js1_text_end": good["js1_text_start"]})  # 1-grams did not move
    vs = char_lm.LM_NOT_COMPARABLE.positive_control()
    assert char_lm.not_comparable(vs)
    # an NS-GAN with varied samples and JS within 2 SE of WGAN-GP's at every n: comparable
    close = vs | {"distinct_ns_gan": 0.9} | {f"js{n}_text_ns_gan": vs[f"js{n}_text_wgan_gp"] + 0.03
                                              for n in range(1, 5)}
    assert not char_lm.not_comparable(close)
    # NS-GAN collapsed, but so did WGAN-GP: not a win
    assert not char_lm.not_comparable(close | {"distinct_ns_gan": 0.001, "distinct_wgan_gp": 0.001})


def test_char_lm_learns_is_decided_only_once_the_curve_stopped_falling():
    steps = [0, 150, 300, 450, 600, 750, 900, 1050, 1200, 1350, 1500]
    # the last quarter starts at the first evaluation at or after 1125 (step 1200): 0.5 -> 0.45 is a 10% drop
    assert char_lm.late_drop(steps, [1, .9, .8, .7, .6, .5, .5, .5, .5, .5, .45]) == pytest.approx(0.1)
    assert char_lm.late_drop(steps, [1] * 10 + [1.1]) == pytest.approx(-0.1)  # rose: not learning any more
    unmoved = char_lm.LM_LEARNS.negative_control()
    assert char_lm.LM_LEARNS.judge(unmoved).status == "DOES NOT HOLD"  # settled without learning
    assert char_lm.LM_LEARNS.judge(unmoved | {"js_text_late_drop": 0.06}).status == "INCONCLUSIVE"  # still falling
    learned = char_lm.LM_LEARNS.positive_control()
    assert char_lm.LM_LEARNS.judge(learned | {"js_text_late_drop": 0.3}).status == "HOLDS"  # learned already
    assert char_lm.LM_LEARNS.judge(learned | {"seeds": 2}).status == "INCONCLUSIVE"


def test_overfitting_gap_and_memorisation_probe():
    co = critic_overfitting
    # the probe passes only on a gap above 2 standard errors
    assert co.memorises(1.0, 0.1) and not co.memorises(0.1, 0.2) and not co.memorises(-1.0, 0.1)
    # the late gap: validation minus training loss over the last quarter (here the last 2 of 4 evaluations)
    r = co.CriticLosses("x", 10, steps=[0, 1, 2, 3], train=[0.0, 0.0, -1.0, -2.0], val=[0.0, 0.0, 0.0, 0.0])
    assert co.late_gaps([r]) == [1.5]


def test_settled_gate_uses_an_absolute_eps_for_values_near_zero():
    from wgan.experiments._settled import settling
    from wgan.experiments.optimal_critic import settled
    from wgan.experiments.value_surfaces import settled_over

    # a loss that travelled from 1.0 to 1e-4 and still moves by 70% of its (tiny) value: settled (abs < 1% of 1.0)
    near_zero = settling([1.0, 0.1, 1e-3, 1.7e-4, 1e-4], 1.7e-4, 1e-4)
    assert near_zero.relative > 0.5 and near_zero.settled
    # a value still climbing steadily: unsettled on both counts
    climbing = settling([0.1, 0.2, 0.3, 0.4, 0.5], 0.4, 0.5)
    assert not climbing.settled and climbing.over > 1
    # a large value with a small relative change: settled by the relative rule alone
    assert settling([10.0, 100.0, 100.5], 100.0, 100.5).settled
    # optimal-critic's tenths: a loss decaying like 1/t towards 0 (a saturating discriminator's log loss) moves
    # by ~11% of its value over the last tenth, but by far less than 1% of the way it came: settled
    decay = settled([1 / (1 + i) for i in range(1000)])
    assert decay.relative > 0.05 and decay.settled
    # a steady descent does not settle
    assert not settled([1.0 - i / 1000 for i in range(1000)]).settled
    # value-surfaces' checkpoints
    assert settled_over([0.01, 0.02, 0.021, 0.0211]) < 1 and settled_over([0.1, 0.2, 0.3, 0.4]) > 1




# ---------------------------------------------------------------------------------------------- issue 23's gates
@pytest.mark.parametrize("case", ["baseline never reached the data", "no collapse", "too short", "one seed"])
def test_minibatch_discrimination_gate_refuses_a_run_that_cannot_show_collapse(case):
    m = improved_techniques._toy_it(3.0)  # a decisive run: minibatch discrimination 3 modes ahead
    assert improved_techniques.IT_MBD.judge(m).status == "HOLDS"
    bad = {"baseline never reached the data": {"25gaussians/ns_gan_min_modes": 0.0},  # off the data: not collapse
           "no collapse": {"8gaussians/ns_gan_min_modes": 8.0},  # NS-GAN alone covered every mode in every seed
           "too short": {"25gaussians/wgan_gp_max_modes": 10.0},  # no model reached every mode in these steps
           "one seed": {"seeds": 1}}[case]
    claim = improved_techniques.IT_MBD.judge(m | bad)
    assert claim.status == "INCONCLUSIVE" and claim.gate.shortfall


@pytest.mark.parametrize("case", ["not run", "baseline never reached the data", "no collapse", "too short",
                                  "not recorded", "one seed"])
def test_stacked_mnist_gate_is_the_toy_gate_on_1000_modes(case):
    """The protocol table's gate holds for the Stacked MNIST part too: a run in which the WGAN-GP reference hits 30
    of 1,000 modes compares how far training got, not collapse, and cannot publish DOES NOT HOLD."""
    m = improved_techniques._stacked_it(0.0)  # decisive and negative: no difference in modes
    assert improved_techniques.IT_STACKED.judge(m).status == "DOES NOT HOLD"
    assert improved_techniques.IT_STACKED.judge(improved_techniques._stacked_it(5.0)).status == "HOLDS"
    bad = {"not run": {"stacked/ran": False},
           "baseline never reached the data": {"stacked/ns_gan_min_modes": 0.0},
           "no collapse": {"stacked/ns_gan_min_modes": 1000.0},
           "too short": {"stacked/wgan_gp_max_modes": 30.0},
           "not recorded": {"stacked/wgan_gp_max_modes": None},
           "one seed": {"seeds": 1}}[case]
    claim = improved_techniques.IT_STACKED.judge({k: v for k, v in (m | bad).items() if v is not None})
    assert claim.status == "INCONCLUSIVE" and claim.gate.shortfall


def test_critic_tracks_w_is_inconclusive_until_every_critic_settled():
    exact = em_vs_js._closed_form_estimates("w")
    assert em_vs_js.EM_CRITIC.judge(exact).status == "HOLDS"
    moving = em_vs_js.EM_CRITIC.judge(exact | {"w_settle_over": 3.0})
    assert moving.status == "INCONCLUSIVE" and "not trained to optimality" in moving.gate.shortfall
    assert em_vs_js.EM_CRITIC.judge(em_vs_js._closed_form_estimates("js", over=3.0)).status == "INCONCLUSIVE"
    assert em_vs_js.EM_CRITIC.judge(em_vs_js._closed_form_estimates("js")).status == "DOES NOT HOLD"


@pytest.mark.parametrize("arm", ["adam", "high-lr"])
def test_no_unstable_seed_decides_at_times_only_after_enough_seed_steps(arm):
    from wgan.experiments import optimizer_stability as os_

    spec = {"adam": os_.ADAM, "high-lr": os_.HIGH}[arm]
    short = spec.judge(os_._m(arm, 0))  # 3 seeds x 600 steps, no event: far too few seed-steps for 'at times'
    assert short.status == "INCONCLUSIVE" and "seed-steps" in short.gate.shortfall
    long = spec.judge(os_._m(arm, 0, seeds=3, steps=os_.PAPER_RUN_STEPS))  # three paper-length runs, no event
    assert long.status == "DOES NOT HOLD"
    assert spec.judge(os_._m(arm, 1)).status == "HOLDS"  # one event in a short run decides: it happened


def test_the_full_set_control_needs_the_subset_to_overfit():
    spec = critic_overfitting.CO_FULL
    decisive = {**critic_overfitting._co(1.0, 1.0), "subset_minus_full_low": -0.2}
    assert spec.judge(decisive).status == "DOES NOT HOLD"  # the subset overfits, the full set as much
    flat = spec.judge(decisive | {"gap_subset_low": -0.46})  # the subset run never overfitted: nothing to contrast
    assert flat.status == "INCONCLUSIVE" and "no overfitting" in flat.gate.shortfall

"""Many Paths to Equilibrium sec. 4: the line data, the closed-form metric, and the quick reproductions."""

from dataclasses import asdict

import numpy as np
import pytest
import torch

from wgan.config import apply_sets
from wgan.data import LineData
from wgan.ensemble import Ensemble
from wgan.experiments import Context, get, run_experiment
from wgan.experiments._many_paths import (
    EXP1,
    EXP2,
    MODELS,
    Plan,
    Setting,
    claims_from,
    experiment_config,
    make_plan,
    member_distances,
    setting_summary,
    train_ensemble,
)
from wgan.io import read_json
from wgan.metrics import frechet_distance, frechet_distance_from_samples
from wgan.resolve import resolve
from wgan.stats import summarize

pytestmark = pytest.mark.usefixtures("one_thread")


def test_line_data_lies_on_its_line_with_the_stated_gaussian():
    data = LineData(6, sigma=2.0, seed=1)
    x = data.sample(20_000, torch.Generator().manual_seed(0)).double().numpy()
    centred = x - data.b_r.double().numpy()
    # every point is b_r + t w_r: the centred points have rank 1
    s = np.linalg.svd(centred, compute_uv=False)
    assert s[1] / s[0] < 1e-5
    mu, cov = data.gaussian()
    assert np.linalg.matrix_rank(cov) == 1
    np.testing.assert_allclose(x.mean(0), mu, atol=0.1)
    assert frechet_distance_from_samples(x, x[::-1]) == pytest.approx(0.0, abs=1e-9)
    # the sample estimate approaches the closed form (2nd moment error ~ 1/sqrt(n))
    assert frechet_distance(mu, cov, x.mean(0), np.cov(x, rowvar=False)) < 0.02 * np.trace(cov)


def test_line_data_is_fixed_by_its_seed():
    a, b, c = LineData(4, seed=3), LineData(4, seed=3), LineData(4, seed=4)
    assert torch.equal(a.w_r, b.w_r) and torch.equal(a.b_r, b.b_r)
    assert not torch.equal(a.w_r, c.w_r)


@pytest.mark.parametrize("setting", [EXP1, Setting(dim=6, latent=3)])
def test_member_distance_is_the_closed_form_of_the_generator(setting):
    sampler = setting.sampler()
    ens = Ensemble(experiment_config(setting, "ns-gan"), range(3), sampler)
    with torch.no_grad():  # member 0: the data's own line -> distance 0 (latent padded with zero columns)
        w = torch.zeros(setting.dim, setting.latent_for(setting.dim))
        w[:, 0] = sampler.w_r[0] * sampler.sigma
        ens.g_params["out.weight"][0] = w
        ens.g_params["out.bias"][0] = sampler.b_r
    fd = member_distances(ens, sampler)
    assert fd[0] == pytest.approx(0.0, abs=1e-6)
    # member 1 against a large sample of its own generator: parameters and samples agree
    z = torch.randn(1, 40_000, ens.latent_dim, generator=torch.Generator().manual_seed(0))
    fake = ens.generate(z.expand(ens.S, -1, -1).contiguous())[1].double().numpy()
    real = sampler.sample(40_000, torch.Generator().manual_seed(1)).double().numpy()
    assert fd[1] == pytest.approx(frechet_distance_from_samples(real, fake), rel=0.05)
    assert fd[1] > 0.1


def test_the_paper_budget_is_the_papers_steps_and_runs(tmp_path):
    # sec. 4.3: 200,000 steps for every variant; sec. 4.4: 1,000 runs per setting
    p = make_plan(Context(out=tmp_path, budget="paper"))
    assert (p.steps, p.dim_steps, p.n_critic_steps, p.seeds) == (200_000, 200_000, 200_000, 1000)
    assert p.n_critics == (1, 5, 10, 100)


def test_overcomplete_latent_rule():
    assert EXP2.latent_for(10) == 5 and EXP2.latent_for(2) == 2 and EXP2.latent_for(3) == 2
    assert EXP1.latent_for(40) == 1


def test_plan_follows_the_command_line(tmp_path):
    p = make_plan(Context(out=tmp_path, seeds=7, steps=400))
    assert p.seeds == 7 and p.steps == 400 and p.dim_steps == 200 and p.n_critic_steps == 50
    assert make_plan(Context(out=tmp_path)).seeds >= 100  # paper-like seed counts by default
    assert make_plan(Context(out=tmp_path, quick=True)).steps < 20


@pytest.mark.parametrize("name", ["many-paths-exp1", "many-paths-exp2"])
def test_quick_reproduction_writes_results_and_figures(name, tmp_path):
    assert get(name).paper.startswith("Many Paths")
    result = run_experiment(name, Context(out=tmp_path, quick=True))
    saved = read_json(tmp_path / "results.json")
    assert saved["reproduction"] == name and saved["quick"] is True
    assert len(result.figures) == 3
    for f in result.figures:
        assert (tmp_path / f).read_bytes()[:4] == b"\x89PNG"
    names = {c["name"] for c in saved["claims"]}
    assert {"ns-gan-learns-the-manifold", "penalties-help-ns-gan", "wgan-gp-beats-clipping"} <= names
    lr = saved["data"]["lr"]
    assert set(lr["models"]) == {"ns-gan", "gan-gp", "dragan-ns", "wgan", "wgan-gp"}
    assert all(len(m["summaries"]) == len(lr["x"]) for m in lr["models"].values())
    assert saved["protocol"]["plan"]["seeds"] == 2
    table = saved["protocol"]["table"]
    assert all(set(row) == {"setting", "paper", "source", "ours", "why"} for row in table)
    rows = {row["setting"]: row for row in table}
    assert {"n_critic", "optimiser", "betas", "seeds", "steps", "statistic", "baseline"} <= set(rows)
    assert "5 for every model" in rows["n_critic"]["ours"] and rows["betas"]["ours"].startswith("(0.5, 0.9)")
    s = saved["data"]["lr"]["models"]["ns-gan"]["summaries"][0]
    assert {"mean", "mean_lo", "mean_hi", "median", "n_diverged"} <= set(s)
    assert (tmp_path / "runs" / "lr-ns-gan.json").exists()  # kept: a rerun resumes from the finished ensembles
    assert torch.get_num_threads() == 1  # the fixture's; the reproduction restores what it found


@pytest.mark.parametrize("model", MODELS)
def test_the_paper_protocol_for_every_model(model):
    # sec. 4.3: k = 5 discriminator updates per generator update; sec. 5: Adam (0.5, 0.9) -- for every variant
    cfg = resolve(experiment_config(EXP1, model))
    assert cfg.objective.n_critic == 5
    assert (cfg.optim.name, cfg.optim.beta1, cfg.optim.beta2) == ("adam", 0.5, 0.9)
    presets = resolve(experiment_config(EXP1, model, protocol="presets"))
    assert (presets.objective.n_critic, presets.optim.name) != (5, "adam") or presets.optim.beta1 != 0.5


def test_a_diverged_member_counts_at_its_last_finite_distance():
    setting = Setting(dim=3, latent=1, width=8, batch_size=16, data_seed=5)
    cfg = apply_sets(experiment_config(setting, "gan-gp", n_critic=1), ["optim.name=sgd"])
    r = train_ensemble(cfg, setting.sampler(), [0, 1, 2], 12, [1e-3, 10.0, 1e3], check_every=1)
    final, filled = np.array(r["final"]), np.array(r["filled"])
    assert np.isfinite(final[0]) and not np.isfinite(final[1:]).any()  # SGD at lr 10 and 1000 blows up
    assert np.isfinite(filled).all() and filled[0] == final[0]
    s = setting_summary(final, filled)
    assert s.n == 3 and s.n_diverged == 2 and s.mean == pytest.approx(filled.mean())  # all members in the mean
    assert summarize(final).n_diverged == 2 and summarize(final).mean == pytest.approx(final[0])  # the old: dropped


# ---------------------------------------------------------------- verdicts and their negative controls
PLAN = Plan(steps=10, seeds=40, lrs=(1e-3, 3e-3, 1e-2), dims=(2, 20), n_critics=(1, 5, 10, 100), n_critic_steps=5,
            fixed_lr=3e-3)
# per model, per learning rate: the typical distance of a member (random generator: ~10)
TYPICAL = {"ns-gan": (5.0, 0.5, 2.0), "gan-gp": (2.0, 0.3, 0.5), "dragan-ns": (2.0, 0.3, 0.6),
           "wgan": (8.0, 3.0, 4.0), "wgan-gp": (3.0, 0.5, 1.0)}


def _rows(typical, rng, n=PLAN.seeds):
    return [t * np.exp(0.3 * rng.standard_normal(n)) for t in typical]


def _settled_curve(start, end):
    """A mean distance at the tenths of training that halves its way to ``end`` every tenth (settled at the end)."""
    return [end + (start - end) * 0.5 ** k for k in range(1, 10)] + [end]


def _blocks(values=None, k_values=None, diverged=None, curves=_settled_curve):
    """Sweep blocks as the reproduction builds them, from members' distances (finals; ``diverged``: model ->
    (how many members diverged at every lr, their last finite distance); ``curves(start, end)``: each lr cell's
    mean distance at the tenths of training, None for a block recorded without them)."""
    rng = np.random.default_rng(0)
    random = 10 + rng.random(PLAN.seeds)
    values = values or {m: _rows(t, rng) for m, t in TYPICAL.items()}

    def entry(rows, bad=None):
        out = []
        for v in rows:
            final, filled = np.array(v, dtype=float), np.array(v, dtype=float)
            if bad is not None:
                final[:bad[0]], filled[:bad[0]] = np.nan, bad[1]
            out.append(asdict(setting_summary(final, filled)))
        return {"summaries": out, "filled": [list(np.array(v, dtype=float)) if bad is None else
                                             list(np.where(np.arange(len(v)) < bad[0], bad[1], v)) for v in rows]}

    lr = {"x": list(PLAN.lrs), "random_init": asdict(summarize(random)),
          "models": {m: entry(v, (diverged or {}).get(m)) for m, v in values.items()}}
    if curves is not None:
        for m in lr["models"].values():
            m["curves"] = [curves(float(np.mean(random)), s["mean"]) for s in m["summaries"]]
    dim = {"x": list(PLAN.dims), "models": {m: entry(v[:2]) for m, v in values.items()},
           "random_init_by_dim": [asdict(summarize(random))] * len(PLAN.dims)}
    ones = np.ones(PLAN.seeds)
    # the paper's k sweep (App. A.2): NS-GAN much worse at k = 100, GAN-GP a little
    k_values = k_values or {"ns-gan": [0.2 * ones, 0.2 * ones, 0.3 * ones, 2.0 * ones],
                            "gan-gp": [0.2 * ones, 0.2 * ones, 0.2 * ones, 0.3 * ones]}
    nc = {"x": list(PLAN.n_critics), "steps": PLAN.n_critic_steps, "random_init": asdict(summarize(random)),
          "models": {m: entry(v) for m, v in k_values.items()}}
    return lr, dim, nc, random


def _verdicts(lr, dim, nc):
    return {c.name: c.holds for c in claims_from(lr, dim, nc, PLAN)}


def test_the_verdicts_hold_where_the_paper_says():
    rng = np.random.default_rng(0)
    values = {m: _rows(t, rng) for m, t in TYPICAL.items()}
    values["dragan-ns"] = [v * (1 + 1e-3 * rng.standard_normal(v.size)) for v in values["gan-gp"]]  # sec. 4.4: alike
    assert _verdicts(*_blocks(values)[:3]) == {
        "ns-gan-learns-the-manifold": True, "every-model-beats-the-random-generator": True,
        "penalties-help-ns-gan": True, "penalties-equivalent-somewhere": True, "wasserstein-models-robust": True,
        "wgan-gp-beats-clipping": True,
        "ns-gan-worse-at-k100": True, "gan-gp-scales-better": True,
        "distance-vs-dimension": None}


def test_a_random_generator_fails_every_criterion_it_enters():
    # negative control: a "model" that is a random generator (its members' distances are the random init's)
    rng = np.random.default_rng(1)
    random = _blocks()[3]
    values = {m: _rows(t, rng) for m, t in TYPICAL.items()}
    v = _verdicts(*_blocks(values | {"ns-gan": [random] * 3})[:3])
    assert v["ns-gan-learns-the-manifold"] is False and v["every-model-beats-the-random-generator"] is False
    v = _verdicts(*_blocks(values | {"gan-gp": [random] * 3})[:3])
    assert v["penalties-help-ns-gan"] is False and v["every-model-beats-the-random-generator"] is False
    v = _verdicts(*_blocks(values | {"wgan-gp": [random] * 3})[:3])
    assert v["wgan-gp-beats-clipping"] is False
    v = _verdicts(*_blocks(values | {"wgan": [random] * 3})[:3])
    assert v["wasserstein-models-robust"] is False


def test_the_k_claims_fail_where_k_100_does_not_hurt_or_hurts_gan_gp_as_much():
    ones = np.ones(PLAN.seeds)
    flat = [0.2 * ones] * 4  # k = 100 as good as k = 1, 5, 10
    v = _verdicts(*_blocks(k_values={"ns-gan": flat, "gan-gp": flat})[:3])
    assert v["ns-gan-worse-at-k100"] is False and v["gan-gp-scales-better"] is False
    worse = [0.2 * ones] * 3 + [2.0 * ones]
    v = _verdicts(*_blocks(k_values={"ns-gan": worse, "gan-gp": worse})[:3])
    assert v["ns-gan-worse-at-k100"] is True and v["gan-gp-scales-better"] is False
    # the old criterion ("NS-GAN still learns at k = 100") asked the opposite of the paper's sentence
    claims = {c.name: c for c in claims_from(*_blocks(k_values={"ns-gan": worse, "gan-gp": worse})[:3], PLAN)}
    assert claims["ns-gan-worse-at-k100"].status == "HOLDS"


def test_a_sweep_that_has_not_left_the_random_level_is_inconclusive():
    rng = np.random.default_rng(1)
    random = _blocks()[3]
    values = {m: _rows(t, rng) for m, t in TYPICAL.items()}
    slow = values | {"ns-gan": [random] + values["ns-gan"][1:]}  # the smallest lr still at the random level
    claims = {c.name: c for c in claims_from(*_blocks(slow)[:3], PLAN)}
    assert claims["penalties-help-ns-gan"].status == "INCONCLUSIVE"
    assert "has not left the random generator" in claims["penalties-help-ns-gan"].gate.shortfall
    assert claims["ns-gan-learns-the-manifold"].status == "HOLDS"  # decided at the best lr, not gated on the smallest


def test_a_sweep_still_improving_at_the_end_is_inconclusive():
    # every cell left the random level, but falls steadily to its end: the sweep compares speeds, not end states
    def linear(start, end):
        return [start + (end - start) * k / 10 for k in range(1, 11)]

    claims = {c.name: c for c in claims_from(*_blocks(curves=linear)[:3], PLAN)}
    for name in ("penalties-help-ns-gan", "wasserstein-models-robust", "wgan-gp-beats-clipping"):
        assert claims[name].status == "INCONCLUSIVE", name
        assert "still improving" in claims[name].gate.shortfall
    assert claims["ns-gan-learns-the-manifold"].status == "HOLDS"  # not an lr-sweep comparison
    # a cell whose mean rises at the end (instability) is where it ends, not a shortfall of steps
    def rising(start, end):
        return _settled_curve(start, end)[:-1] + [end * 1.5]

    claims = {c.name: c for c in claims_from(*_blocks(curves=rising)[:3], PLAN)}
    assert claims["penalties-help-ns-gan"].gate.passed
    # a block without curves (recorded before the gate existed) cannot show that training stopped improving
    claims = {c.name: c for c in claims_from(*_blocks(curves=None)[:3], PLAN)}
    assert claims["penalties-help-ns-gan"].status == "INCONCLUSIVE"


def test_shuffled_labels_fail_the_comparisons():
    rng = np.random.default_rng(2)
    values = {m: _rows(t, rng) for m, t in TYPICAL.items()}
    swapped = values | {"ns-gan": values["gan-gp"], "gan-gp": values["ns-gan"]}
    assert _verdicts(*_blocks(swapped)[:3])["penalties-help-ns-gan"] is False
    swapped = values | {"wgan": values["wgan-gp"], "wgan-gp": values["wgan"]}
    assert _verdicts(*_blocks(swapped)[:3])["wgan-gp-beats-clipping"] is False


def test_diverged_members_count_against_a_model():
    # 4 of GAN-GP's 40 members diverge at every lr with a last finite distance of 40 (4x a random generator):
    # its mean -- the paper's statistic -- loses to NS-GAN, though its median (of the finite ones) still wins
    lr, dim, nc, _ = _blocks(diverged={"gan-gp": (4, 40.0)})
    claim = next(c for c in claims_from(lr, dim, nc, PLAN) if c.name == "penalties-help-ns-gan")
    assert claim.holds is False
    assert claim.measured["geo_median_gan-gp"] <= claim.measured["geo_median_ns-gan"]
    assert claim.measured["diverged_gan-gp"] == 4 * len(PLAN.lrs)  # failures counted over the sweep


# ---------------------------------------------------------------- GAN-GP vs DRAGAN-NS (sec. 4.4): equivalence
def _equivalence(gp_rows, dr_rows):
    rng = np.random.default_rng(3)
    values = {m: _rows(t, rng) for m, t in TYPICAL.items()} | {"gan-gp": gp_rows, "dragan-ns": dr_rows}
    return next(c for c in claims_from(*_blocks(values)[:3], PLAN) if c.name == "penalties-equivalent-somewhere")


def test_equal_penalties_are_equivalent_and_a_shifted_one_is_not():
    rng = np.random.default_rng(4)
    base = _rows(TYPICAL["gan-gp"], rng)
    # the same members up to a tiny paired jitter: equivalent at every learned setting
    same = _equivalence(base, [v * (1 + 1e-4 * rng.standard_normal(v.size)) for v in base])
    assert same.status == "HOLDS" and same.measured["n_equivalent"] >= 1
    assert same.interval.low > -same.measured["closest_margin"] and same.interval.high < same.measured["closest_margin"]
    # DRAGAN-NS 50% worse on every member: different at every learned setting -> DOES NOT HOLD
    worse = _equivalence(base, [1.5 * v for v in base])
    assert worse.status == "DOES NOT HOLD" and worse.measured["n_different"] == worse.measured["n_learned"] > 0
    # unpaired noise as large as the members themselves: nothing decided -> INCONCLUSIVE, with the seeds needed
    noisy = _equivalence(base, [v * np.exp(0.3 * rng.standard_normal(v.size)) for v in base])
    assert noisy.status == "INCONCLUSIVE" and "--seeds" in noisy.gate.budget


def test_equivalence_needs_both_models_to_have_learned():
    random = _blocks()[3]
    claim = _equivalence([random] * 3, [random] * 3)  # identical random generators: "equal", but nothing learned
    assert claim.measured["n_learned"] == 0 and claim.status == "INCONCLUSIVE"

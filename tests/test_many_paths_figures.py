"""Many Paths Figs. 3-4 (``many-paths-2d``), sec. 5 Color MNIST (``many-paths-color-mnist``) and WGAN-GP Table 3
(``cifar10-inception``): their criteria on constructed runs, and the ``--quick`` smoke runs."""

import numpy as np
import pytest

from wgan.experiments import Context, run_experiment
from wgan.experiments import cifar10_inception as c10
from wgan.experiments import many_paths_2d as mp2d
from wgan.experiments import many_paths_color_mnist as cm
from wgan.io import read_json

pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------------------------------------- Figs. 3-4
def _run(final_ratio, final_var, steps=2000, paper_steps=20_000, n=10, still_falling=False):
    """A figure's run record as train_figure makes it: per model the members' distances (initial 1.0, final as
    given) and total variances (data's 1.0) at 21 evaluation points."""
    at = list(range(0, steps + 1, steps // 20))
    models = {}
    for model in mp2d.MODELS:
        r = np.full(n, final_ratio[model]) if np.isscalar(final_ratio[model]) else np.asarray(final_ratio[model])
        v = np.full(n, final_var[model]) if np.isscalar(final_var[model]) else np.asarray(final_var[model])
        t = np.linspace(0, 1, len(at))[:, None]
        curve = 1.0 - (1.0 - r) * (t if still_falling else np.minimum(1.0, 2 * t))
        models[model] = {"fd": curve.tolist(), "total_var": (1.0 + (v - 1.0) * t).tolist()}
    return {"steps": steps, "paper_steps": paper_steps, "eval_steps": at, "models": models, "data_total_var": 1.0}


def _claims(run3, run4):
    m3, m4 = mp2d.figure_measured(run3, 10), mp2d.figure_measured(run4, 10)
    return {c.name: c for c in mp2d._claims_for(m3, m4)}


CONVERGED = {m: 0.01 for m in mp2d.MODELS}
FULL_VAR = {m: 1.0 for m in mp2d.MODELS}


def test_converged_models_pass_and_a_model_that_never_learns_fails():
    c = _claims(_run(CONVERGED, FULL_VAR), _run(CONVERGED, FULL_VAR))
    assert c["fig3-models-converge"].status == "HOLDS" and c["fig4-models-converge"].status == "HOLDS"
    stuck = CONVERGED | {"ns-gan": 0.4}  # NS-GAN trains (0.4 of its initial distance) then stops: not converged
    c = _claims(_run(stuck, FULL_VAR), _run(CONVERGED, FULL_VAR))
    assert c["fig3-models-converge"].status == "DOES NOT HOLD"
    assert c["fig3-models-converge"].interval.estimate == 0.0  # the share of seeds NS-GAN converged on


def test_a_model_still_learning_or_untrained_is_inconclusive():
    slow = CONVERGED | {"gan-gp": 0.3}
    c = _claims(_run(slow, FULL_VAR, still_falling=True), _run(CONVERGED, FULL_VAR))
    claim = c["fig3-models-converge"]
    assert claim.status == "INCONCLUSIVE" and "still falling" in claim.gate.shortfall
    untouched = CONVERGED | {"dragan-ns": 0.95}  # a random generator: flat, but never trained
    c = _claims(_run(untouched, FULL_VAR), _run(CONVERGED, FULL_VAR))
    assert c["fig3-models-converge"].status == "INCONCLUSIVE"
    # at the figure's own steps the same run decides
    c = _claims(_run(untouched, FULL_VAR, steps=20_000), _run(CONVERGED, FULL_VAR))
    assert c["fig3-models-converge"].status == "DOES NOT HOLD"


def test_collapse_claim_needs_a_collapsed_ns_gan_and_penalties_that_do_not_collapse():
    ns_collapses = FULL_VAR | {"ns-gan": [0.01, 0.01] + [1.0] * 8}
    c = _claims(_run(CONVERGED, FULL_VAR), _run(CONVERGED, ns_collapses, paper_steps=10_000))
    assert c["fig4-penalty-prevents-collapse"].status == "HOLDS"
    both = ns_collapses | {"gan-gp": [0.01, 0.01] + [1.0] * 8}  # GAN-GP collapses on the same seeds
    c = _claims(_run(CONVERGED, FULL_VAR), _run(CONVERGED, both, paper_steps=10_000))
    assert c["fig4-penalty-prevents-collapse"].status == "DOES NOT HOLD"
    c = _claims(_run(CONVERGED, FULL_VAR), _run(CONVERGED, FULL_VAR, paper_steps=10_000))  # no poor init drawn
    assert c["fig4-penalty-prevents-collapse"].status == "INCONCLUSIVE"


def test_the_2d_budgets_are_the_figures_steps(tmp_path):
    paper = Context(out=tmp_path, budget="paper")
    assert (mp2d.fig_steps(paper, mp2d.FIG3), mp2d.fig_steps(paper, mp2d.FIG4)) == (20_000, 10_000)
    cpu = Context(out=tmp_path)
    assert mp2d.fig_steps(cpu, mp2d.FIG3) < 20_000 and mp2d.n_seeds(cpu) >= 3


def test_quick_2d_run_draws_both_figures(tmp_path):
    result = run_experiment("many-paths-2d", Context(out=tmp_path, quick=True))
    assert [f for f in result.figures] == ["many-paths-2d-fig3.png", "many-paths-2d-fig4.png"]
    assert all((tmp_path / f).read_bytes()[:4] == b"\x89PNG" for f in result.figures)
    saved = read_json(tmp_path / "results.json")
    fd = np.array(saved["data"]["fig3"]["models"]["ns-gan"]["fd"])
    assert fd.shape == (len(saved["data"]["fig3"]["eval_steps"]), 3) and np.isfinite(fd).all()
    # member i of every model starts from the same networks: the same initial distance
    inits = [saved["data"]["fig4"]["models"][m]["fd"][0] for m in mp2d.MODELS]
    assert inits[0] == inits[1] == inits[2]


# ---------------------------------------------------------------------------------------------- Color MNIST
def _neg_w(ns, gp, dr, n=27):
    rng = np.random.default_rng(0)
    return {"ns-gan": list(ns + rng.normal(0, 0.2, n)), "gan-gp": list(gp + rng.normal(0, 0.2, n)),
            "dragan-ns": list(dr + rng.normal(0, 0.2, n))}


def test_color_mnist_criterion_on_constructed_sweeps():
    # NS-GAN with a bad tail of settings, the penalised models flat: HOLDS
    ns = np.r_[np.full(12, -12.0), np.full(15, -3.0)]
    m, interval = cm.measured_from(_neg_w(ns, np.full(27, -3.0), np.full(27, -3.2)), 27, 3, cm.PAPER_STEPS, -40.0)
    assert cm.ROBUST.judge(m, interval=interval).status == "HOLDS" and interval.low > 0
    # DRAGAN-NS with the bad tail instead: fails
    m, interval = cm.measured_from(_neg_w(np.full(27, -3.0), np.full(27, -3.0), ns), 27, 3, cm.PAPER_STEPS, -40.0)
    assert cm.ROBUST.judge(m, interval=interval).status == "DOES NOT HOLD"
    # the CPU slice (3 settings) cannot decide
    m, interval = cm.measured_from(_neg_w(ns[:3], np.full(3, -3.0), np.full(3, -3.2), n=3), 3, 3, 300, -40.0)
    assert cm.ROBUST.judge(m, interval=interval).status == "INCONCLUSIVE"


def test_color_mnist_budget_is_the_papers_sweep(tmp_path):
    p = cm.plan(Context(out=tmp_path, budget="paper"))
    assert len(p["lrs"]) * len(p["latents"]) == cm.PAPER_SETTINGS == 27 and p["steps"] == 100_000
    with pytest.raises(Exception, match="--data"):
        cm.run(Context(out=tmp_path))  # no MNIST folder, no --quick: a one-line error


def test_quick_color_mnist_run(tmp_path):
    run_experiment("many-paths-color-mnist", Context(out=tmp_path, quick=True))
    saved = read_json(tmp_path / "results.json")
    (claim,) = saved["claims"]
    assert claim["verdict"] == "INCONCLUSIVE"  # a smoke test: one setting, one seed
    assert all(np.isfinite(r["w"]) for rs in saved["data"]["runs"].values() for r in rs)


# ---------------------------------------------------------------------------------------------- CIFAR-10 IS
def test_table3_numbers_are_the_positive_controls_and_the_other_methods_fail():
    unsup = {"ALI": 5.34, "BEGAN": 5.62, "DCGAN": 6.16, "Improved GAN (-L+HA)": 6.86, "EGAN-Ent-VI": 7.07,
             "DFM": 7.72}
    assert all(not c10.UNSUPERVISED.decide(c10._measured(v)) for v in unsup.values())
    assert c10.UNSUPERVISED.judge(c10._measured(7.86)).status == "HOLDS"
    sup = {"SteinGAN": 6.35, "DCGAN (with labels)": 6.58, "Improved GAN": 8.09, "AC-GAN": 8.25,
           "SGAN-no-joint": 8.37}
    assert all(not c10.SUPERVISED.decide(c10._measured(v)) for v in sup.values())
    assert c10.SUPERVISED.judge(c10._measured(8.42)).status == "HOLDS"
    # a wrong Inception network (the test images do not score ~11.25) makes the run unable to decide
    assert c10.UNSUPERVISED.judge(c10._measured(7.9, real_is=3.0)).status == "INCONCLUSIVE"


def test_cifar_budget_and_table(tmp_path):
    p = c10.plan(Context(out=tmp_path, budget="paper"))
    assert (p["steps"], p["width"], p["n_is"]) == (100_000, 128, 50_000)
    sets = c10.arm_sets("supervised", "cifar10", p, 0, "cuda", "")
    assert "generator.norm=cond-batch" in sets and "objective.acgan_generator_scale=0.1" in sets


def test_quick_cifar_run_on_synthetic_images(tmp_path):
    run_experiment("cifar10-inception", Context(out=tmp_path, quick=True))
    saved = read_json(tmp_path / "results.json")
    assert {c["verdict"] for c in saved["claims"]} == {"INCONCLUSIVE"}
    runs = saved["data"]["runs"]
    assert set(runs) == {"unsupervised", "supervised"} and all(np.isfinite(r["is"]) for rs in runs.values()
                                                                  for r in rs)

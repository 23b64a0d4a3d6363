"""Every reproduction of issue 3 (part 1) in quick mode: results.json, figures, and the claims' direction
where the quick setting is large enough to show it (fixed seeds); mechanics elsewhere."""

import math

import pytest
import torch

from wgan.experiments import Context, all_experiments, run_experiment
from wgan.io import read_json

NAMES = ("value-surfaces", "gradient-norms", "weight-histograms", "mixture-of-gaussians", "loss-curves")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = {}
    for name in NAMES:
        folder = tmp_path_factory.mktemp(name)
        result = run_experiment(name, Context(out=folder, quick=True))
        out[name] = (folder, result)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_registered_and_writes_results(results, name):
    exp = all_experiments()[name]
    assert exp.paper and exp.figure and exp.claim
    folder, result = results[name]
    saved = read_json(folder / "results.json")
    assert saved["reproduction"] == name and saved["quick"] is True
    assert saved["protocol"] and saved["claims"]
    assert any(r["setting"] == "n_critic" for r in saved["protocol"]["table"])
    for fig in result.figures:
        assert (folder / fig).stat().st_size > 1000
    for c in saved["claims"]:
        assert c["criterion"] and c["measured"] and c["holds"] in (True, False, None)


def _claims(results, name):
    return {c.name: c for c in results[name][1].claims}


def test_gradient_norms_direction(results):
    claims = _claims(results, "gradient-norms")
    ratios = claims["clipping-explodes-or-vanishes"].measured
    assert set(ratios) == {"seeds", "ratio_clip_0.1", "ratio_clip_0.01", "ratio_clip_0.001"}
    # 12 clipped layers: orders of magnitude even in the tiny setting; the penalty stays within 10x.
    assert ratios["ratio_clip_0.01"] < 1e-3
    assert ratios["ratio_clip_0.001"] < ratios["ratio_clip_0.01"] < ratios["ratio_clip_0.1"]
    assert claims["clipping-explodes-or-vanishes"].holds is True
    assert claims["penalty-stays-flat"].holds is True
    norms = results["gradient-norms"][1].data["gp"]["norms"]
    assert all(len(row) == 12 for row in norms)  # one norm per hidden layer


def test_weight_histograms_direction(results):
    claims = _claims(results, "weight-histograms")
    assert claims["clipping-piles-at-c"].measured["share_clip"] > 0.5
    assert claims["penalty-does-not"].measured["share_gp_at_own_extremes"] < 0.05
    assert claims["clipping-piles-at-c"].holds and claims["penalty-does-not"].holds


def test_value_surfaces_mechanics(results):
    # The quick critics are far from optimal, so only the measurement is checked, not the direction.
    claim = _claims(results, "value-surfaces")["normalised-dual"]
    for data in ("8gaussians", "25gaussians", "swissroll"):
        assert claim.measured[f"{data}/w1"] > 0
        assert math.isfinite(claim.measured[f"{data}/clip_normalised"])
        assert math.isfinite(claim.measured[f"{data}/gp_normalised"])
    for runs in results["value-surfaces"][1].data.values():
        for r in runs.values():
            assert r["lipschitz"] > 0 and -1e-9 <= r["shape_r2"] <= 1 + 1e-9
            assert r["normalised"] == pytest.approx(r["dual"] / r["lipschitz"])
    assert _claims(results, "value-surfaces")["penalty-captures-the-shape"].status == "INCONCLUSIVE"  # 1 seed


def test_exact_potential_is_the_optimal_critic():
    from wgan.experiments.value_surfaces import affine_r2, exact_potential
    from wgan.metrics import w1_exact

    g = torch.Generator().manual_seed(0)
    real = torch.randn(200, 2, generator=g)
    fake = real + torch.randn(200, 2, generator=g)
    f = exact_potential(real, fake)
    assert float(f[:200].mean() - f[200:].mean()) == pytest.approx(w1_exact(real, fake), rel=1e-6)  # its dual is W1
    # 1-Lipschitz on the points
    pts = torch.cat([real, fake]).double()
    assert float(((f[:, None] - f[None, :]).abs() - torch.cdist(pts, pts)).max()) <= 1e-9
    assert affine_r2(3 * f - 2, f) == pytest.approx(1.0)  # scale and offset do not matter


def test_mixture_and_loss_curves_mechanics(results):
    mix = results["mixture-of-gaussians"][1]
    for runs in mix.data.values():
        t = runs[0]
        assert t["steps"][0] == 0 and len(t["w1"]) == len(t["steps"]) == len(t["modes_covered"])
        assert all(0 <= m <= 8 for m in t["modes_covered"] + t["modes_reached"])
        assert all(m_c <= m_r for m_c, m_r in zip(t["modes_covered"], t["modes_reached"], strict=True))
        assert all(0 <= v <= 1 / 8 for v in t["min_mode_share"]) and all(0 <= v <= 1 for v in t["ring_share"])
    verdicts = {c.name: c.status for c in mix.claims}
    assert verdicts["no-mode-collapse"] == "INCONCLUSIVE"  # one quick seed and 40 steps: the gate refuses
    curves = results["loss-curves"][1]
    assert set(curves.data) == {"wgan", "wgan-gp", "ns-gan", "m-gan"}
    # the same runs as mixture-of-gaussians (shared in one process): identical measurements
    assert curves.data["wgan"][0]["w1"] == mix.data["wgan"][0]["w1"]
    for c in curves.claims:
        assert all(-1 <= v <= 1 or math.isnan(v) for k, v in c.measured.items() if k.startswith("rho"))
        assert all(0 <= v <= 1 for k, v in c.measured.items() if k.endswith("max_p"))


def test_toy_runs_are_kept_and_read_back_exactly(tmp_path):
    """mixture-of-gaussians and loss-curves keep each (objective, seed) run in OUT/runs/: a second start reuses it
    (nothing trained) and measures exactly as the run trained, snapshots included; another setting trains anew."""
    from dataclasses import asdict, replace

    from wgan.experiments import RESUMED
    from wgan.experiments._common import clear_process_caches
    from wgan.experiments._toy_runs import cached_trajectory, toy_setting

    ctx = Context(out=tmp_path, quick=True)
    s = replace(toy_setting(ctx), steps=6, n_points=2, n_eval=50)
    first = cached_trajectory(ctx, "wgan-gp", s, 0, (0, 6))
    clear_process_caches()  # nothing in memory: what comes back is read from the file
    trained = RESUMED.trained
    again = cached_trajectory(ctx, "wgan-gp", s, 0, (0, 6))
    assert RESUMED.trained == trained  # reused, not trained
    a, b = asdict(first), asdict(again)
    snaps_a, snaps_b = a.pop("snapshots"), b.pop("snapshots")
    assert a == b and snaps_a.keys() == snaps_b.keys() == {0, 6}
    assert all(snaps_b[k].dtype == snaps_a[k].dtype and (snaps_b[k] == snaps_a[k]).all() for k in snaps_a)
    cached_trajectory(ctx, "wgan-gp", replace(s, steps=8), 0, (0, 8))
    assert RESUMED.trained == trained + 1  # a different setting is not the kept run

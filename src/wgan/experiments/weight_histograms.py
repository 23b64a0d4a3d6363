"""``weight-histograms``: WGAN-GP (Gulrajani et al. 2017) sec. 3.2, Fig. 1b (right).

The weights of the deep swissroll critics of :mod:`._deep_critic` (and of a 3-layer clipped critic that does
train): the share within 1% of the ends of the clipping range, and within 1% of the extremes of the range the
gradient-penalty critic's weights occupy.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from . import Context, Result, register
from ._claims import ClaimSpec
from ._common import WGAN_GP, single_thread
from ._deep_critic import (
    DEEP_MIN_SEEDS,
    REF_C,
    deep_gate,
    deep_protocol,
    deep_rows,
    deep_run,
    deep_seeds,
    deep_setting,
)
from ._protocol import Row

PILED_MIN, EXTREMES_MAX = 0.5, 0.05


def piles_at_c(share_near_c: float) -> bool:
    """Claim 1: more than half of the clipped critic's weights within 1% of +-c."""
    return share_near_c > PILED_MIN


def no_pile_at_extremes(*shares_at_own_extremes: float) -> bool:
    """Claim 2: under 5% of each GP critic's weights within 1% of the ends of its own range."""
    return max(shares_at_own_extremes) < EXTREMES_MAX


FIG1B_RIGHT = ("Weight clipping (top) pushes weights towards two values (the extremes of the clipping range), unlike "
               "gradient penalty (bottom).")


def _wh(clip: float, gp: float, seeds: int = 3) -> dict[str, Any]:
    return {"seeds": seeds, "share_clip": clip, "share_gp_at_own_extremes": gp, "share_gp_toy_at_own_extremes": gp}


WH_CLIP = ClaimSpec(
    "clipping-piles-at-c", "WGAN-GP", FIG1B_RIGHT, "sec. 3, Fig. 1b (right, caption)",
    f"every seed: share of the clipped critic's (c = 0.01) weights within 1% of +-c at the end of training > "
    f"{PILED_MIN:g} (threshold ours)", decide=lambda m: piles_at_c(m["share_clip"]), gate=deep_gate, trained=True,
    adequacy=f"at least {DEEP_MIN_SEEDS} seeds", negative_control=lambda: _wh(0.02, 0.0),  # uniform in (-c, c)
    positive_control=lambda: _wh(0.935, 0.0),
    positive_source="constructed: 93.5% at +-c (the two spikes of Fig. 1b's top histogram)",
    inadequate_control=lambda: _wh(0.935, 0.0, seeds=1))
WH_GP = ClaimSpec(
    "penalty-does-not", "WGAN-GP", FIG1B_RIGHT, "sec. 3, Fig. 1b (right, caption)",
    f"every seed: share of the GP critic's weights within 1% of the ends of their own range +-max|w| < "
    f"{EXTREMES_MAX:g}, with lambda 10 and with lambda 0.1 (threshold ours)",
    decide=lambda m: no_pile_at_extremes(m["share_gp_at_own_extremes"], m["share_gp_toy_at_own_extremes"]),
    gate=deep_gate, trained=True, adequacy=f"at least {DEEP_MIN_SEEDS} seeds",
    negative_control=lambda: _wh(0.935, 0.6), positive_control=lambda: _wh(0.935, 0.0001),
    positive_source="constructed: a unimodal histogram (Fig. 1b bottom), almost no weight at its extremes",
    inadequate_control=lambda: _wh(0.935, 0.0001, seeds=1))
WH_PUSHED = ClaimSpec(
    "pushed-by-training", "WGAN-GP", "", "sec. 3, Fig. 1b (right; measured beside it)",
    "share of the weights strictly inside (-c, c) after the first step that sit within 1% of +-c at the end; "
    "12-layer critic, and a 3-layer critic trained the same way (descriptive: separates training from the first "
    "clip of the He-initialised weights)", kind="descriptive")


def weight_histograms_table(ctx: Context) -> list[Row]:
    return deep_rows(ctx) + [
        Row("statistic", "histogram of the critic's weights", "WGAN-GP Fig. 1b (right)",
            "critic weight matrices (biases excluded): share within 1% of +-c (clipping) and of +-max|w| (GP)", ""),
        Row("criterion", "none (a figure)", "WGAN-GP sec. 3",
            f"clipped: share near +-0.01 > {PILED_MIN:g}; GP (lambda 10 and 0.1): share at own extremes < "
            f"{EXTREMES_MAX:g}", "an unclipped critic fails the first, a clipped one the second (tests)"),
    ]


@register("weight-histograms", WGAN_GP, "Fig. 1b (right)",
          "Weight clipping pushes the critic's weights to the two ends of the clipping range; the gradient "
          "penalty does not", table=weight_histograms_table, claims=(WH_CLIP, WH_GP, WH_PUSHED))
def weight_histograms(ctx: Context) -> Result:
    with single_thread():
        return _weight_histograms(ctx)


def _weight_histograms(ctx: Context) -> Result:
    s = deep_setting(ctx)
    seed, seeds = 0, deep_seeds(ctx)
    per_seed = {m: [deep_run(m, s, k, ctx.device) for k in range(seeds)]
                for m in ctx.track((f"clip {REF_C}", "gp", "gp-toy"), "critics", lambda m: f"{m}, {seeds} seed(s)")}
    runs = {m: rs[0] for m, rs in per_seed.items()}
    clip = runs[f"clip {REF_C}"]
    # The 12-layer clipped critic barely trains (its gradients vanish), so also a 3-layer critic that does:
    # does training itself push weights that start inside (-c, c) out to +-c?
    shallow_s = replace(s, depth=3)
    shallow = deep_run(f"clip {REF_C}", shallow_s, seed, ctx.device)
    fig_name = "weight-histograms.png"
    c1 = WH_CLIP.judge({"seeds": seeds,
                        "share_clip": min(r["share_near_c"][-1] for r in per_seed[f"clip {REF_C}"]),
                        "share_clip_after_first_step": clip["share_near_c_first_step"]})
    c2 = WH_GP.judge({"seeds": seeds,
                      "share_gp_at_own_extremes": max(r["share_at_extremes"][-1] for r in per_seed["gp"]),
                      "share_gp_near_0.01": max(r["share_near_c"][-1] for r in per_seed["gp"]),
                      "share_gp_toy_at_own_extremes": max(r["share_at_extremes"][-1] for r in per_seed["gp-toy"])})
    c3 = WH_PUSHED.judge({"pushed_12_layers": clip["pushed_to_c"], "pushed_3_layers": shallow["pushed_to_c"],
                          "share_clip_3_layers": shallow["share_near_c"][-1],
                          "generator_w1_12_layers": clip["w1_final"], "generator_w1_3_layers": shallow["w1_final"]})
    runs_all = runs | {f"clip {REF_C}, 3 layers": shallow}
    _plot_histograms(runs_all, ctx.out / fig_name)
    data = {m: {"marks": r["marks"], "share_near_c": r["share_near_c"], "share_at_extremes": r["share_at_extremes"],
                "share_near_c_first_step": r["share_near_c_first_step"], "pushed_to_c": r["pushed_to_c"],
                "hist_counts": r["hist_counts"].tolist(), "hist_edges": r["hist_edges"].tolist(),
                "train_s": r["train_s"], "w1_final": r["w1_final"]} for m, r in runs_all.items()}
    protocol = deep_protocol(s, seed) | {"seeds": list(range(seeds)), "figure_seed": seed} | {
        "measure": "weight matrices of the critic only (biases excluded); share = fraction with "
                   "| |w| - c | <= 0.01 c",
        "note": "the He-initialised weights start far outside +-0.01, so the first clip already puts most "
                "weights at +-c (reported as share_clip_after_first_step)"}
    return Result([c1, c2, c3], protocol, [fig_name], data)


def _plot_histograms(runs: dict[str, dict[str, Any]], path) -> None:
    import matplotlib.pyplot as plt

    from ..diagnostics.plots import save_figure

    fig, axes = plt.subplots(len(runs), 1, figsize=(6, 2.7 * len(runs)))
    for ax, (m, r) in zip(axes, runs.items(), strict=True):
        e = r["hist_edges"]
        gp = m.startswith("gp")
        ax.bar(e[:-1], r["hist_counts"], width=np.diff(e), align="edge", color="tab:green" if gp else "tab:blue")
        ax.set_yscale("log")
        if gp:
            title = {"gp": "gradient penalty (lambda 10)", "gp-toy": "gradient penalty (lambda 0.1)"}[m] + ", 12 layers"
        else:
            title = f"weight clipping, c = {REF_C}, {'3' if '3 layers' in m else '12'} layers"
        ax.set_title(f"{title}: {100 * r['share_at_extremes'][-1]:.1f}% of weights within 1% of +-max|w|",
                     fontsize=9)
        ax.set_ylabel("count")
    axes[-1].set_xlabel("critic weight")
    fig.suptitle("WGAN-GP Fig. 1b (right): critic weights after training on swissroll", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)

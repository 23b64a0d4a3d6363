"""``gradient-norms``: WGAN-GP (Gulrajani et al. 2017) sec. 3.2, Fig. 1b (left).

On the deep swissroll critics of :mod:`._deep_critic`: per-layer norms of the gradient of the critic loss with
respect to the activations, and their first/last-layer ratio -- exploding or vanishing under weight clipping,
flat under the gradient penalty.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import Context, Result, register
from ._claims import ClaimSpec
from ._common import WGAN_GP, single_thread
from ._deep_critic import DEEP_MIN_SEEDS, deep_gate, deep_protocol, deep_rows, deep_run, deep_seeds, deep_setting
from ._protocol import Row

# ---------------------------------------------------------------------------------------------- Fig. 1b
CLIPS = (0.1, 0.01, 0.001)


def _ratio(norms: np.ndarray) -> float:
    """First/last hidden-layer gradient-norm ratio, geometric mean over measurement points. norms: (M, depth)."""
    logs = np.log10(np.maximum(norms, 1e-300))
    return float(10 ** (logs[:, 0] - logs[:, -1]).mean())


GRAD_RATIO_BAND = (0.1, 10.0)  # first/last-layer gradient-norm ratio: inside = flat, outside = explode/vanish


def explodes_or_vanishes(ratio: float) -> bool:
    """The clipping criterion on one first/last hidden-layer gradient-norm ratio: outside [0.1, 10]."""
    return not (GRAD_RATIO_BAND[0] <= ratio <= GRAD_RATIO_BAND[1])


def stays_flat(ratio: float) -> bool:
    return GRAD_RATIO_BAND[0] <= ratio <= GRAD_RATIO_BAND[1]


FIG1B_LEFT = ("Gradient norms of deep WGAN critics during training on toy datasets either explode or vanish when using "
              "weight clipping, but not when using a gradient penalty.")


def _most_central(ratios: list[float]) -> float:
    """The seed's ratio nearest 1 (in log): the one closest to failing 'explodes or vanishes'."""
    return min(ratios, key=lambda r: abs(math.log10(max(r, 1e-300))))


def _least_central(ratios: list[float]) -> float:
    return max(ratios, key=lambda r: abs(math.log10(max(r, 1e-300))))


def _gn(clip: float, gp: float, seeds: int = 3) -> dict[str, Any]:
    return {"seeds": seeds, **{f"ratio_clip_{c}": clip for c in CLIPS}, "ratio_gp": gp, "ratio_gp_toy": gp}


GN_CLIP = ClaimSpec(
    "clipping-explodes-or-vanishes", "WGAN-GP", FIG1B_LEFT, "sec. 3.2, Fig. 1b (left, caption)",
    f"for every c in {{0.1, 0.01, 0.001}} and every seed: the first/last hidden-layer ratio of ||dL/dh|| lies "
    f"outside [{GRAD_RATIO_BAND[0]:g}, {GRAD_RATIO_BAND[1]:g}] (more than 10x change over 12 layers; band ours)",
    decide=lambda m: all(explodes_or_vanishes(m[f"ratio_clip_{c}"]) for c in CLIPS), gate=deep_gate, trained=True,
    adequacy=f"at least {DEEP_MIN_SEEDS} seeds", negative_control=lambda: _gn(1.3, 1.0),
    positive_control=lambda: _gn(1e-11, 1.0),
    positive_source="constructed: a 1e-11 ratio, the order Fig. 1b (left) shows for c = 0.01 over 12 layers",
    inadequate_control=lambda: _gn(1e-11, 1.0, seeds=1))
GN_GP = ClaimSpec(
    "penalty-stays-flat", "WGAN-GP", FIG1B_LEFT, "sec. 3.2, Fig. 1b (left, caption)",
    f"every seed: the GP critic's first/last hidden-layer ratio of ||dL/dh|| lies inside [{GRAD_RATIO_BAND[0]:g}, "
    f"{GRAD_RATIO_BAND[1]:g}], with Algorithm 1's lambda 10 and with the authors' toy lambda 0.1",
    decide=lambda m: all(stays_flat(m[k]) for k in ("ratio_gp", "ratio_gp_toy")), gate=deep_gate, trained=True,
    adequacy=f"at least {DEEP_MIN_SEEDS} seeds", negative_control=lambda: _gn(1e-11, 1e-6),
    positive_control=lambda: _gn(1e-11, 1.0), positive_source="constructed: a flat profile (ratio 1)",
    inadequate_control=lambda: _gn(1e-11, 1.0, seeds=1))


def gradient_norms_table(ctx: Context) -> list[Row]:
    s = deep_setting(ctx)
    return deep_rows(ctx) + [
        Row("statistic", "per-layer norm of the critic loss's gradient w.r.t. each layer's activations, log scale",
            "WGAN-GP Fig. 1b (left)", f"||dL/dh_l|| on {s.n_probe} fixed data and generated points; first/last "
            "hidden-layer ratio, geometric mean over the measurement points", ""),
        Row("criterion", "none (a figure)", "WGAN-GP sec. 3", "every clipped critic's ratio outside [0.1, 10]; both "
            "GP critics' inside", "an unclipped untrained critic fails the first, a clipped untrained one the "
            "second (tests)"),
    ]


@register("gradient-norms", WGAN_GP, "Fig. 1b (left)",
          "Gradient norms of deep WGAN critics explode or vanish across layers with weight clipping, "
          "not with the gradient penalty", table=gradient_norms_table, claims=(GN_CLIP, GN_GP))
def gradient_norms(ctx: Context) -> Result:
    with single_thread():
        return _gradient_norms(ctx)


def _gradient_norms(ctx: Context) -> Result:
    s = deep_setting(ctx)
    seed, seeds = 0, deep_seeds(ctx)
    methods = [f"clip {c}" for c in CLIPS] + ["gp", "gp-toy"]
    per_seed = {m: [deep_run(m, s, k, ctx.device) for k in range(seeds)]
                for m in ctx.track(methods, "critics", lambda m: f"{m}, {seeds} seed(s)")}
    runs = {m: rs[0] for m, rs in per_seed.items()}
    all_ratios = {m: [_ratio(r["norms"]) for r in rs] for m, rs in per_seed.items()}
    ratios = {m: _ratio(r["norms"]) for m, r in runs.items()}
    fig_name = "gradient-norms.png"
    _plot_grad_norms(runs, ctx.out / fig_name)
    clip_claim = GN_CLIP.judge({"seeds": seeds} | {f"ratio_clip_{m.split()[1]}": _most_central(all_ratios[m])
                                                   for m in methods if m.startswith("clip")})
    gp_claim = GN_GP.judge({"seeds": seeds, "ratio_gp": _least_central(all_ratios["gp"]),
                            "ratio_gp_toy": _least_central(all_ratios["gp-toy"])})
    data = {m: {"marks": r["marks"], "norms": r["norms"].tolist(), "ratio_first_last": ratios[m],
                "train_s": r["train_s"], "w1_final": r["w1_final"]} for m, r in runs.items()}
    protocol = deep_protocol(s, seed) | {"seeds": list(range(seeds)), "ratios_per_seed": all_ratios,
                                         "figure_seed": seed} | {
        "measure": f"||dL/dh_l||_F, L = E f(fake) - E f(real) (no penalty term) on {s.n_probe} fixed data and "
                   f"{s.n_probe} generated points, h_l = output of hidden block l; ratio = geometric mean over "
                   "the measurement points of norm(layer 1) / norm(layer 12)"}
    return Result([clip_claim, gp_claim], protocol, [fig_name], data)


def _plot_grad_norms(runs: dict[str, dict[str, Any]], path) -> None:
    import matplotlib.pyplot as plt

    from ..diagnostics.plots import save_figure

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for m, r in runs.items():
        mean = 10 ** np.log10(np.maximum(r["norms"], 1e-300)).mean(0)  # (depth,) geometric mean over time
        label = {"gp": "gradient penalty, lambda 10", "gp-toy": "gradient penalty, lambda 0.1"}.get(
            m, f"weight clipping, c = {m.split()[-1]}")
        ax.plot(np.arange(1, len(mean) + 1), mean, "o-", label=label, ms=4)
    ax.set_yscale("log")
    ax.set_xlabel("critic hidden layer")
    ax.set_ylabel("||d critic loss / d activations||")
    ax.set_title("WGAN-GP Fig. 1b (left): 12-layer critics on swissroll", fontsize=10)
    ax.legend(fontsize=8)
    save_figure(fig, path)

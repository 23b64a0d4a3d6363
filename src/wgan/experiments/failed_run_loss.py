"""``failed-run-loss``: WGAN (Arjovsky, Chintala, Bottou 2017) sec. 4.3, Fig. 4 (lower half): a clipped WGAN whose
MLP generator and critic train at a substantially high learning rate fails, and its loss is as constant as its
samples.

The runs of :mod:`._wgan_stability` (8 Gaussians, MLPs): the high-learning-rate arm (RMSProp 5e-3 on both players)
against the reference arm (RMSProp 5e-5, Algorithm 1). Tracking is judged with ``loss-curves``'s own measure
(:mod:`._tracking`: one-sided Spearman between the critic's estimate and the exact W1 over the points after step 0,
and its "after the initial drop" second half of a curve).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from . import Context, Result, register
from ._claims import ClaimSpec, Gate, count_interval, gate_from, too_few_seeds
from ._common import one_thread
from ._protocol import Row
from ._tracking import ALPHA, after_drop, spearman_p
from ._wgan_stability import (
    ARMS,
    HIGH_LR,
    WGAN,
    StabilitySetting,
    stability_rows,
    stability_setting,
    train_arms,
    traj_numbers,
    trend_p,
)

ARMS_HERE = ("rmsprop", "high-lr")
MIN_SEEDS, FAILED = 3, 0.5
CAPTION = ("Lower half: both the generator and the discriminator are MLPs with substantially high learning rates (so "
           "training failed).")
CONSTANT = "Loss is constant and samples are constant as well."


def failed(w1: list[float]) -> bool:
    """Training failed: W1 never fell below :data:`FAILED` x its step-0 value (at any point after step 0)."""
    return bool(min(w1[1:]) > FAILED * w1[0])


def flat(values: list[float]) -> bool:
    """Constant: no monotone trend over the second half of the curve (:func:`._tracking.after_drop`), two-sided
    Spearman against the step p >= alpha (a curve that does not vary at all is constant)."""
    return trend_p(after_drop(values)) >= ALPHA


def majority(k: int, n: int) -> bool:
    return k > n / 2


def _gate_ref(m: dict[str, Any], what: str) -> Gate:
    short = too_few_seeds(m, MIN_SEEDS)
    if not m[f"rmsprop/{what}"] == m["seeds"]:
        name = "has a trend in its second half (estimate and W1)" if what == "trending" else "tracks W1"
        short.append(f"the reference arm (RMSProp 5e-5) {name} in {m[f'rmsprop/{what}']} of {m['seeds']} seeds, "
                     "not all: the test cannot tell a working run from a failed one here")
    return gate_from(short, f"--seeds {MIN_SEEDS} and more generator steps than {m['steps']}")


def _m(k: int, seeds: int = 3, ref: int | None = None, key: str = "failed_constant") -> dict[str, Any]:
    ref = seeds if ref is None else ref
    return {"seeds": seeds, "steps": 600, f"high-lr/{key}": k, "rmsprop/trending": ref, "rmsprop/tracking": ref}


CONST = ClaimSpec(
    "failed-run-constant", "WGAN", CONSTANT, "sec. 4.3, Fig. 4 (caption, lower half)",
    f"high learning rate ({HIGH_LR:g} = 100 x alpha, both players), in a majority of seeds: training failed (W1 never "
    f"below {FAILED:g} x its step-0 value) and both the critic's estimate ('loss') and the W1 of the samples are "
    f"constant: no monotone trend over the second half of the run (two-sided Spearman against the step, p >= "
    f"{ALPHA:g})", decide=lambda m: majority(m["high-lr/failed_constant"], m["seeds"]),
    gate=lambda m: _gate_ref(m, "trending"),
    adequacy=f"at least {MIN_SEEDS} seeds, and the same test finds the trend of a working run: every seed of the "
             "reference arm (RMSProp 5e-5) has a significant trend in the second half of both its estimate and its W1",
    trained=True, negative_control=lambda: _m(1), positive_control=lambda: _m(3),
    positive_source="constructed: every high-learning-rate seed flat in loss and samples, as Fig. 4 (lower half)",
    inadequate_control=lambda: _m(3, ref=1))
TRACK = ClaimSpec(
    "failed-run-does-not-track", "WGAN", CAPTION, "sec. 4.3, Fig. 4 (caption, lower half)",
    f"in a majority of the high-learning-rate seeds the critic's estimate does not track the W1 of the samples by "
    f"loss-curves's test (one-sided Spearman over the points after step 0, p >= {ALPHA:g}), while every reference "
    "seed does (gate)", decide=lambda m: majority(m["high-lr/not_tracking"], m["seeds"]),
    gate=lambda m: _gate_ref(m, "tracking"),
    adequacy=f"at least {MIN_SEEDS} seeds, and every reference seed (RMSProp 5e-5) tracks W1 by the same test "
             f"(p < {ALPHA:g})", trained=True, negative_control=lambda: _m(0, key="not_tracking"),
    positive_control=lambda: _m(3, key="not_tracking"),
    positive_source="constructed: no high-learning-rate seed tracks (a flat loss against flat samples)",
    inadequate_control=lambda: _m(3, ref=2, key="not_tracking"))


def failed_run_loss_table(ctx: Context) -> list[Row]:
    s = stability_setting(ctx, cpu_steps=2000)
    return stability_rows(ctx, s, ARMS_HERE, ensemble=True) + [
        Row("statistic", "the critic's loss on training batches over generator iterations, median-filtered, next to "
            "samples", "WGAN Fig. 4; WassersteinGAN/README.md (medfilt of -Loss_D)",
            f"-critic loss on {s.n_eval} fixed held-out points and the exact W1 of {s.n_eval} samples, at step 0 and "
            f"{s.n_points} evenly spaced steps; no filter",
            "sample quality measured exactly instead of seen; held-out points instead of the running batch loss"),
        Row("criterion", "none (a figure)", "WGAN Fig. 4",
            f"constant: no trend in the second half (two-sided Spearman vs step, p >= {ALPHA:g}); failed: W1 never "
            f"below {FAILED:g} x its start; tracking: loss-curves's one-sided test (p < {ALPHA:g}); majorities of "
            "seeds, gated on the reference arm passing the opposite test",
            "the figure shows one run; 'constant' needs a test that a working run fails"),
    ]


@register("failed-run-loss", WGAN, "sec. 4.3, Fig. 4 lower half (on toy data)",
          "A WGAN trained at substantially high learning rates fails, and its loss is constant, as its samples",
          table=failed_run_loss_table, claims=(CONST, TRACK))
@one_thread
def failed_run_loss(ctx: Context) -> Result:
    s = stability_setting(ctx, cpu_steps=2000)
    runs = train_arms(ctx, s, ARMS_HERE, ensemble=True)  # on the CPU, each arm's seeds as one ensemble
    per: dict[str, list[dict[str, Any]]] = {}
    for arm, ts in runs.items():
        per[arm] = [{"failed": failed(t.w1), "estimate_flat": flat(t.estimate), "w1_flat": flat(t.w1),
                     "estimate_trend_p": trend_p(after_drop(t.estimate)), "w1_trend_p": trend_p(after_drop(t.w1)),
                     "tracking_p": spearman_p(t.estimate[1:], t.w1[1:]),
                     "w1_start": t.w1[0], "w1_end": t.w1[-1]} for t in ts]
    hi, ref = per["high-lr"], per["rmsprop"]
    m: dict[str, Any] = {"seeds": s.seeds, "steps": s.steps,
                         "high-lr/failed_constant": sum(r["failed"] and r["estimate_flat"] and r["w1_flat"]
                                                        for r in hi),
                         "high-lr/failed": sum(r["failed"] for r in hi),
                         "high-lr/not_tracking": sum(r["tracking_p"] >= ALPHA for r in hi),
                         "rmsprop/trending": sum(not r["estimate_flat"] and not r["w1_flat"] for r in ref),
                         "rmsprop/tracking": sum(r["tracking_p"] < ALPHA for r in ref),
                         "high-lr/max_tracking_p": max(r["tracking_p"] for r in hi),
                         "rmsprop/max_tracking_p": max(r["tracking_p"] for r in ref)}
    c1 = CONST.judge({k: v for k, v in m.items() if "tracking" not in k},
                     interval=count_interval(m["high-lr/failed_constant"], s.seeds,
                                             "share of high-lr seeds failed with a constant loss and samples"))
    c2 = TRACK.judge({k: v for k, v in m.items() if k not in ("high-lr/failed_constant", "rmsprop/trending")},
                     interval=count_interval(m["high-lr/not_tracking"], s.seeds,
                                             "share of high-lr seeds whose loss does not track W1"))
    fig = "failed-run-loss.png"
    _plot(runs, s, ctx.out / fig)
    protocol = {"setting": s.__dict__, "arms": {a: ARMS[a][0] for a in ARMS_HERE}}
    data = {a: [traj_numbers(t) | p for t, p in zip(ts, per[a], strict=True)] for a, ts in runs.items()}
    return Result([c1, c2], protocol, [fig], data)


def _plot(runs: dict[str, list], s: StabilitySetting, path: Path) -> None:
    import matplotlib.pyplot as plt

    from ..diagnostics.plots import save_figure

    fig, axes = plt.subplots(2, len(runs), figsize=(5.0 * len(runs), 6.0), sharex=True)
    for j, (arm, ts) in enumerate(runs.items()):
        for t in ts:
            axes[0, j].plot(t.steps[1:], t.estimate[1:], "o-", ms=2, label=f"seed {t.seed}")
            axes[1, j].plot(t.steps[1:], [v if math.isfinite(v) else np.nan for v in t.w1[1:]], "s--", ms=2)
        axes[0, j].set_title(ARMS[arm][0], fontsize=9)
        axes[0, j].set_ylabel("-critic loss (estimate)")
        axes[1, j].set_ylabel("exact W1 of samples")
        axes[1, j].set_yscale("log")
        axes[1, j].set_xlabel("generator step")
        axes[0, j].legend(fontsize=7)
    fig.suptitle(f"WGAN Fig. 4 (lower half) on 8 Gaussians: {s.steps} generator steps", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)

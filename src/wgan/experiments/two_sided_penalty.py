"""``two-sided-penalty``: WGAN-GP (Gulrajani et al. 2017) sec. 4, "Two-sided penalty" -- pulling the critic's
gradient norm towards 1 (``(||g|| - 1)^2``, the library's ``gp``) instead of only keeping it below 1
(``max(0, ||g|| - 1)^2``, the library's one-sided ``lp``) "seems not to constrain the critic too much".

A constraint on the critic shows in what the critic can reach: its dual value ``E f(real) - E f(fake)``, the
quantity it maximises, on fixed evaluation points. Both critics are trained to (near) optimality against the
fixed generator data + N(0, I) of Fig. 1a on 8 Gaussians and the Swiss roll, with Algorithm 1's settings; the
two-sided critic's dual value is compared with the one-sided one's, seed by seed (the same seeds: the same data
and evaluation points), and both with the exact W1 (POT).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import Context, Result, register
from ._budget import count, pick, seeds
from ._claims import ClaimSpec, Gate, gate_from, mean_interval, too_few_seeds
from ._common import TOY, WGAN_GP, single_thread
from ._fixed_critics import (
    FixedSetting,
    affine_r2,
    critic_values,
    exact_transport,
    fixed_critic,
    fixed_rows,
)
from ._protocol import Row

DATASETS = ("8gaussians", "swissroll")
PENALTIES = {"two-sided": "gp", "one-sided": "lp"}
GAP_MAX = 0.1  # "not too much": the two-sided critic's dual value at most 10% of W1 below the one-sided one's
TRAINED, MIN_SEEDS = 0.1, 3  # trained: every critic's dual value within 10% of the exact W1

QUOTE = "Empirically this seems not to constrain the critic too much"


def setting(ctx: Context) -> FixedSetting:
    return FixedSetting(width=pick(ctx, quick=32, cpu=64, paper=512), depth=3,
                        steps=count(ctx, quick=60, cpu=1500, paper=500_000),
                        batch=pick(ctx, quick=128, cpu=256, paper=256), n_eval=pick(ctx, quick=200, cpu=1000,
                                                                                   paper=1000), checkpoints=5)


def not_constrained(m: dict[str, Any]) -> bool:
    """On every data set the two-sided critic's dual value is at most :data:`GAP_MAX` x W1 below the one-sided
    one's (mean over seeds of the per-seed difference over the exact W1)."""
    return all(m[f"{d}/gap_mean"] >= -GAP_MAX for d in DATASETS)


def _gate(m: dict[str, Any]) -> Gate:
    short = too_few_seeds(m, MIN_SEEDS)
    if not m["worst_dual_gap"] <= TRAINED:
        short.append(f"a critic's dual value is {m['worst_dual_gap']:.1%} of the exact W1 away from it (at most "
                     f"{TRAINED:.0%} asked): not trained to optimality, so a gap would be the optimiser's, not the "
                     "constraint's")
    return gate_from(short, f"--seeds {MIN_SEEDS} and more critic steps than {m['steps']}")


def _control(gap: float, seeds: int = 3, trained: float = 0.0) -> dict[str, Any]:
    return {"seeds": seeds, "steps": 1500, "worst_dual_gap": trained} | {f"{d}/gap_mean": gap for d in DATASETS}


CLAIM = ClaimSpec(
    "two-sided-does-not-constrain-much", "WGAN-GP", QUOTE, "sec. 4 (Two-sided penalty)",
    f"on each of {', '.join(DATASETS)} against data + N(0, I), lambda 10: the two-sided (gp) critic's dual value "
    "E f(real) - E f(fake) on fixed evaluation points minus the one-sided (lp) critic's of the same seed, over the "
    f"exact W1, is at least -{GAP_MAX:g} on average over seeds (at most 10% of W1 lower; threshold ours)",
    decide=not_constrained, gate=_gate, trained=True,
    adequacy=f"at least {MIN_SEEDS} seeds, and every critic's dual value within {TRAINED:.0%} of the exact W1 "
             "(both near the optimal critic, so a gap is the constraint's, not the optimiser's)",
    negative_control=lambda: _control(-0.3), positive_control=lambda: _control(0.0),
    positive_source="constructed: equal dual values (gap 0); the paper gives no numbers; negative: a two-sided "
                    "critic 30% of W1 below the one-sided one",
    inadequate_control=lambda: _control(0.0, trained=0.5),
    extras=("per data set: both critics' dual values over the exact W1, and their shape R^2 against the exact "
            "potential",))


def table(ctx: Context) -> list[Row]:
    s = setting(ctx)
    cpu = "" if ctx.budget == "paper" and not ctx.quick else "CPU cost; --budget paper runs the paper's value"
    return [
        Row("data", "not stated for this remark; the toy sets of Fig. 1a: 8gaussians, 25gaussians, swissroll",
            f"WGAN-GP sec. 4; {TOY}:19, 173-226", f"{', '.join(DATASETS)} against the fixed generator data + N(0, I)",
            "two of the three toy sets (CPU cost)"),
        *fixed_rows(s, 32),
        Row("objective", "WGAN-GP, lambda 10; two-sided (||g|| - 1)^2 vs one-sided max(0, ||g|| - 1)^2 (the "
            "appendix's one-sided experiments)", f"WGAN-GP sec. 4, Algorithm 1; {TOY}:71-83",
            "wgan-gp with objective.penalty = gp and = lp, lambda 10", ""),
        Row("optimiser", "Adam", "WGAN-GP Algorithm 1", "torch.optim.Adam", ""),
        Row("lr", "1e-4", "WGAN-GP Algorithm 1", "1e-4", ""),
        Row("betas", "(0, 0.9)", "WGAN-GP Algorithm 1", "(0, 0.9)", ""),
        Row("n_critic", "fixed generator: only critic steps", f"{TOY}:21, 237-245", f"{s.steps} critic steps", cpu),
        Row("steps", "100,000 iterations x 5 critic steps (gan_toy)", f"{TOY}:25, 27", f"{s.steps} critic steps", cpu),
        Row("seeds", "not stated", "WGAN-GP sec. 4", f"{seeds(ctx, quick=1, cpu=3, paper=3)} (--seeds), paired: "
            "both penalties see the same data and evaluation points per seed", "issue 23: at least 3 seeds"),
        Row("statistic", "none (an observation)", "WGAN-GP sec. 4",
            f"dual value E f(real) - E f(fake) on {s.n_eval} + {s.n_eval} fixed points; (two-sided - one-sided) / "
            "exact W1 per seed; shape R^2 against the exact potential beside", ""),
        Row("criterion", "none", "WGAN-GP sec. 4", f"mean gap >= -{GAP_MAX:g} on every data set, gated on 3 seeds "
            f"and every dual value within {TRAINED:.0%} of W1", "a gap of -0.3 fails, 0 passes (tests)"),
    ]


@register("two-sided-penalty", WGAN_GP, "sec. 4 (Two-sided penalty)",
          "The two-sided penalty does not constrain the critic much more than the one-sided one: the critic "
          "reaches about the same dual value", table=table, claims=(CLAIM,))
def two_sided_penalty(ctx: Context) -> Result:
    with single_thread():
        return _run(ctx)


def _run(ctx: Context) -> Result:
    s = setting(ctx)
    n_seeds = seeds(ctx, quick=1, cpu=3, paper=3)
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {d: {k: [] for k in PENALTIES} for d in DATASETS}
    items = [(d, k, seed) for d in DATASETS for seed in range(n_seeds) for k in PENALTIES]
    for data, kind, seed in ctx.track(items, "critics", lambda r: f"{r[0]}, {r[1]}, seed {r[2]}"):
        fit = fixed_critic(data, ["objective.name=wgan-gp", f"objective.penalty={PENALTIES[kind]}",
                                  "objective.penalty_weight=10"], s, seed, ctx.device)
        t = exact_transport(fit["real"], fit["fake"])
        runs[data][kind].append({
            "seed": seed, "dual": fit["duals"][-1], "duals": fit["duals"], "marks": fit["marks"], "w1": t.w1,
            "shape_r2": affine_r2(critic_values(fit["D"], fit["real"], fit["fake"]),
                                  np.concatenate([t.f_real, t.f_fake])),
            "train_s": fit["train_s"]})
    m: dict[str, Any] = {"seeds": n_seeds, "steps": s.steps,
                         "worst_dual_gap": max(abs(r["dual"] / r["w1"] - 1) for by in runs.values() for rs in
                                               by.values() for r in rs)}
    intervals = []
    for d in DATASETS:
        gaps = [(a["dual"] - b["dual"]) / a["w1"]
                for a, b in zip(runs[d]["two-sided"], runs[d]["one-sided"], strict=True)]
        iv = mean_interval(gaps, f"{d}: (two-sided - one-sided dual value) / W1")
        intervals.append(iv)
        m[f"{d}/gap_mean"] = iv.estimate
        m[f"{d}/gap_low"], m[f"{d}/gap_high"] = iv.low, iv.high
        for k in PENALTIES:
            m[f"{d}/{k}_dual_over_w1"] = float(np.mean([r["dual"] / r["w1"] for r in runs[d][k]]))
            m[f"{d}/{k}_shape_r2"] = float(np.mean([r["shape_r2"] for r in runs[d][k]]))
    claim = CLAIM.judge(m, interval=min(intervals, key=lambda i: i.estimate))
    fig = "two-sided-penalty.png"
    _plot(runs, ctx.out / fig)
    protocol = {"critic": f"MLP {s.depth} x {s.width}, He init, no norm; wgan-gp lambda 10, Adam 1e-4 (0, 0.9), "
                          f"batch {s.batch}, {s.steps} critic steps",
                "penalties": "gp: (||g|| - 1)^2, lp: max(0, ||g|| - 1)^2, both at real-fake interpolates",
                "eval": f"{s.n_eval} data and {s.n_eval} data + noise points fixed per seed; dual measured at 5 "
                        "evenly spaced points", "seeds": list(range(n_seeds))}
    return Result([claim], protocol, [fig], {"runs": runs})


def _plot(runs: dict[str, dict[str, list[dict[str, Any]]]], path) -> None:
    import matplotlib.pyplot as plt

    from ..diagnostics.plots import save_figure

    fig, axes = plt.subplots(1, len(DATASETS), figsize=(5 * len(DATASETS), 3.8))
    for ax, d in zip(np.atleast_1d(axes), DATASETS, strict=True):
        for k, color in (("two-sided", "C0"), ("one-sided", "C1")):
            for i, r in enumerate(runs[d][k]):
                ax.plot(r["marks"], np.array(r["duals"]) / r["w1"], "o-", color=color, ms=3,
                        label=f"{k} ({PENALTIES[k]})" if i == 0 else None)
        ax.axhline(1.0, color="k", lw=0.8, ls="--")
        ax.set_xlabel("critic steps")
        ax.set_ylabel("dual value / exact W1")
        ax.set_title(d, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle("WGAN-GP sec. 4: two-sided vs one-sided penalty, critics against data + N(0, I)", fontsize=10)
    save_figure(fig, path)

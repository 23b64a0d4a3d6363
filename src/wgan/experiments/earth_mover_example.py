"""``earth-mover-example``: From GAN to WGAN (Weng 2019), sec. "Wasserstein distance".

The four-pile example P = (3, 2, 1, 4), Q = (1, 2, 4, 3) at unit spacing costs W = 5, computed exactly by POT;
and the continuous parallel-lines value W = |theta|, recovered by the library's exact W1 on samples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..diagnostics.plots import plt, save_figure
from ..metrics.parallel_lines import (
    earth_mover_plan,
    parallel_lines_w1,
)
from ..metrics.wasserstein import w1_exact
from . import Context, Result, register
from ._budget import pick
from ._claims import ClaimSpec
from ._common import one_thread
from ._protocol import Row, not_applicable

# ---------------------------------------------------------------------------------------------- earth-mover-example
PILES_P = (3.0, 2.0, 1.0, 4.0)
PILES_Q = (1.0, 2.0, 4.0, 3.0)


def earth_mover_table(ctx: Context) -> list[Row]:
    n = pick(ctx, quick=300, cpu=2000, paper=2000)
    return [
        Row("data", "piles P = (3, 2, 1, 4), Q = (1, 2, 4, 3) at unit spacing; parallel lines (0, Z), (theta, Z)",
            "Weng 2019, sec. 'Wasserstein distance'; WGAN Example 1",
            f"the same; {n} samples per line, Z ~ U[0, 1] independent", ""),
        *not_applicable("nets", "init", "objective", "optimiser", "lr", "betas", "n_critic", "batch", "steps",
                        "seeds", "eval_mode"),
        Row("statistic", "W = 5 by the running-sum derivation; W = |theta|", "Weng 2019",
            "POT's exact solver (ot.emd), the library's w1_exact on the same masses as points, Weng's running sum; "
            "exact W1 of the line samples", ""),
        Row("criterion", "none (a worked example)", "Weng 2019",
            "identities (checks of the code): W = 5 within 1e-9; sample W1 in [|theta|, |theta| + floor]", ""),
    ]


EM_PILES = ClaimSpec(
    "four-piles-w-equals-5", "Weng", "Finally the Earth Mover’s distance is $W = \\sum \\vert \\delta_i \\vert = 5$.",
    "'What is Wasserstein distance?', Fig. 7",
    "POT exact earth mover (ot.emd) == 5 within 1e-9; the library's w1_exact on the same masses as 10 points each "
    "== 5 / 10",
    decide=lambda m: bool(abs(m["w_pot"] - 5) < 1e-9 and abs(m["w1_exact_points_x10"] - 5) < 1e-9),
    kind="identity",
    statement="the cheapest plan moving P = (3, 2, 1, 4) onto Q = (1, 2, 4, 3) at unit spacing costs 5")
EM_LINES = ClaimSpec(
    "parallel-lines-w-equals-abs-theta", "Weng", "W(P, Q) &= |\\theta|",
    "'Why Wasserstein is better than JS or KL divergence?', Fig. 8",
    "exact W1 of n vs n samples lies in [|theta|, |theta| + floor] at every theta, floor = W1 of two independent P0 "
    "samples", decide=lambda m: bool(m["within"]), kind="identity",
    statement="for P0 = (0, Z) and P_theta = (theta, Z), W = |theta|")


@register("earth-mover-example", paper="From GAN to WGAN (Weng 2019)",
          figure="'What is Wasserstein distance?' Fig. 7; 'Why Wasserstein is better', Fig. 8",
          claim="moving piles P = (3, 2, 1, 4) onto Q = (1, 2, 4, 3) at unit spacing costs W = 5; for parallel "
                "lines W = |theta|", table=earth_mover_table, claims=(EM_PILES, EM_LINES))
@one_thread
def earth_mover_example(ctx: Context) -> Result:
    # -- the four piles, by POT's exact solver (unnormalised masses: total 10)
    cost, plan = earth_mover_plan(np.array(PILES_P), np.array(PILES_Q))
    # the same distributions as 10 unit points each, through the library's W1 metric (uniform weights: / 10)
    pts_p = np.repeat(np.arange(4.0), np.array(PILES_P, dtype=int))[:, None]  # (10, 1)
    pts_q = np.repeat(np.arange(4.0), np.array(PILES_Q, dtype=int))[:, None]  # (10, 1)
    w1_points = w1_exact(pts_p, pts_q)
    # Weng's running-sum derivation: delta_{i+1} = delta_i + P_i - Q_i, W = sum |delta|
    deltas = np.cumsum(np.array(PILES_P) - np.array(PILES_Q))
    hand = float(np.abs(deltas).sum())

    # -- parallel lines on samples: |theta| <= W1(samples) <= |theta| + floor (cost >= |dx| for every pair;
    #    triangle inequality through the shifted P0 sample)
    n = pick(ctx, quick=300, cpu=2000, paper=2000)
    thetas = [0.0, 0.25, 0.5, 1.0] if ctx.quick else [-1.0, -0.5, -0.25, -0.1, 0.0, 0.1, 0.25, 0.5, 1.0]
    rng = np.random.default_rng(0)
    z_a, z_b = rng.random(n), rng.random(n)
    floor = w1_exact(np.stack([np.zeros(n), z_a], 1), np.stack([np.zeros(n), z_b], 1))
    rows = []
    for t in thetas:
        est = w1_exact(np.stack([np.zeros(n), z_a], 1), np.stack([np.full(n, t), z_b], 1))
        rows.append({"theta": t, "w1_samples": est, "w1_closed": float(parallel_lines_w1(t))})
    within = all(abs(r["theta"]) - 1e-9 <= r["w1_samples"] <= abs(r["theta"]) + floor + 1e-9 for r in rows)
    max_err = max(abs(r["w1_samples"] - abs(r["theta"])) for r in rows)
    fig_name = "earth-mover-example.png"
    _plot_earth_mover(plan, rows, floor, ctx.out / fig_name)
    claims = [
        EM_PILES.judge({"w_pot": cost, "w1_exact_points_x10": 10 * w1_points, "w_running_sum": hand}),
        EM_LINES.judge({"max_abs_error": max_err, "floor": floor, "n_samples": n, "within": bool(within)}),
    ]
    protocol = {
        "piles": {"P": PILES_P, "Q": PILES_Q, "positions": [0, 1, 2, 3], "ground_cost": "|i - j|"},
        "parallel_lines": {"thetas": thetas, "n_samples": n, "z": "U[0, 1], independent for the two samples",
                           "metric": "w1_exact (POT network simplex)"},
        "deviations": "none: both values are exact computations",
    }
    return Result(claims, protocol, [fig_name], {"plan": plan.tolist(), "deltas": deltas.tolist(), "rows": rows})


def _plot_earth_mover(plan: np.ndarray, rows: list[dict[str, Any]], floor: float, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    ax = axes[0]
    pos = np.arange(4)
    ax.bar(pos - 0.2, PILES_P, width=0.4, color="tab:blue", label="P")
    ax.bar(pos + 0.2, PILES_Q, width=0.4, color="tab:orange", label="Q")
    for i in range(4):
        for j in range(4):
            if i != j and plan[i, j] > 0:
                ax.annotate("", xy=(j + 0.2, 4.6 + 0.15 * i), xytext=(i - 0.2, 4.6 + 0.15 * i),
                            arrowprops={"arrowstyle": "->", "color": "k"})
                ax.text((i + j) / 2, 4.7 + 0.15 * i, f"{plan[i, j]:g}", fontsize=8, ha="center")
    ax.set_xticks(pos)
    ax.set_ylim(0, 5.6)
    w = float((plan * np.abs(pos[:, None] - pos)).sum())
    ax.set_title(f"four piles: optimal plan (arrows: mass moved), W = {w:g}")
    ax.legend(fontsize=8, loc="upper left")
    ax = axes[1]
    th = np.array([r["theta"] for r in rows])
    grid = np.linspace(th.min(), th.max(), 201)
    ax.plot(grid, np.abs(grid), color="tab:blue", label="W = |theta|")
    ax.fill_between(grid, np.abs(grid), np.abs(grid) + floor, color="tab:blue", alpha=0.15,
                    label=f"+ data-vs-data floor ({floor:.3f})")
    ax.plot(th, [r["w1_samples"] for r in rows], "o", color="k", mfc="none", label="w1_exact on samples")
    ax.set_xlabel("theta")
    ax.set_title("parallel lines: exact W1 on samples")
    ax.legend(fontsize=8)
    save_figure(fig, path)

"""``parallel-lines``: Many Paths to Equilibrium (Fedus et al. 2018) Fig. 1 -- the module is named
``parallel_lines_gan`` because :mod:`wgan.metrics.parallel_lines` holds the closed forms.

The data lie on a line, the generator starts as a parallel line; JS is log 2 for every offset (no gradient), yet
the non-saturating GAN (the library's :class:`~wgan.Trainer`) moves the generator onto the data line.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..diagnostics.plots import plt, save_figure
from ..metrics.parallel_lines import parallel_lines_js
from ..objectives import Objective
from ..training.trainer import Trainer
from . import Context, Result, register
from ._budget import pick, seeds, steps
from ._claims import ClaimSpec, Gate, gate_from, mean_interval, too_few_seeds
from ._common import dcgan_rows, fit_measuring, one_thread, points_gan_trainer, write_points
from ._protocol import Row

# ---------------------------------------------------------------------------------------------- parallel-lines
OFFSET_SHARE_MAX, W1_SHARE_MAX = 0.1, 0.2


def converges_onto_line(offset_end: float, offset_start: float) -> bool:
    return abs(offset_end) < OFFSET_SHARE_MAX * abs(offset_start)


def matches_data(w1_end: float, w1_start: float) -> bool:
    return w1_end < W1_SHARE_MAX * w1_start


PL_MIN_SEEDS = 3


def _pl_seeds(m: dict[str, Any]) -> list[str]:
    return too_few_seeds(m, PL_MIN_SEEDS)


def _pl_gate(m: dict[str, Any]) -> Gate:
    short = _pl_seeds(m)
    return gate_from(short, f"--seeds {PL_MIN_SEEDS}")


def _pl_match_gate(m: dict[str, Any]) -> Gate:
    """The distribution along the line can be judged once the generator is on the line."""
    short = _pl_seeds(m)
    if not converges_onto_line(m["offset_end"], m["offset_start"]):
        short.append(f"the generator is not on the data line yet (offset {m['offset_end']:.3g} of "
                     f"{m['offset_start']:g})")
    return gate_from(short, f"--seeds {PL_MIN_SEEDS} and more generator steps than {m['steps']} "
                     "(Fig. 1 shows the run at step 12,500)")


def _pl(off: float, w1_end: float, seeds: int = 3) -> dict[str, Any]:
    return {"seeds": seeds, "steps": 1500, "offset_start": 1.0, "offset_end": off, "w1_start": 1.0, "w1_end": w1_end}


PL_JS = ClaimSpec(
    "js-gives-no-gradient", "Many Paths", "In the same setting, minimization of Jensen-Shannon divergence would fail.",
    "sec. 3, Fig. 1 (caption)", "central difference of the closed-form JS at the starting offset == 0",
    decide=lambda m: m["d_js_d_offset"] == 0.0, kind="identity",
    statement="JS(P_data, P_offset) = log 2 for every offset != 0, so its gradient w.r.t. the offset is 0")
PL_ONTO = ClaimSpec(
    "ns-gan-converges-onto-line", "Many Paths", "When run in practice with a non-saturating GAN, the GAN succeeds.",
    "sec. 3, Fig. 1 (caption)",
    f"median over seeds: |mean x-offset of 2000 generated points| after training < {OFFSET_SHARE_MAX:g} x the "
    "starting offset", decide=lambda m: converges_onto_line(m["offset_end"], m["offset_start"]), gate=_pl_gate,
    adequacy=f"at least {PL_MIN_SEEDS} seeds", trained=True,
    negative_control=lambda: _pl(1.0, 1.0), positive_control=lambda: _pl(0.003, 0.05),
    positive_source="constructed: the generator on the data line, as Fig. 1's last panel shows (no numbers given)",
    inadequate_control=lambda: _pl(0.003, 0.05, seeds=1))
PL_MATCH = ClaimSpec(
    "ns-gan-matches-data", "Many Paths",
    "Here the GAN model (red points) converges upon the one dimensional synthetic data distribution (blue points).",
    "sec. 3, Fig. 1 (caption)",
    f"median over seeds: exact W1(2000 generated, 2000 data) after training < {W1_SHARE_MAX:g} x W1 at start",
    decide=lambda m: matches_data(m["w1_end"], m["w1_start"]), gate=_pl_match_gate, trained=True,
    adequacy=f"at least {PL_MIN_SEEDS} seeds, and the generator on the data line (the onto-line criterion): the "
             "distribution along the line is judged once it is there",
    negative_control=lambda: _pl(0.003, 0.5), positive_control=lambda: _pl(0.003, 0.05),
    positive_source="constructed: on the line with the data's spread (W1 near its floor)",
    inadequate_control=lambda: _pl(0.5, 0.05))


# the figure's last panel: "(c) Step 12500" (Fedus et al. Fig. 1); was 1,500 before the verdict rerun, at which W1
# had not settled (0.208 vs the 0.200 bar, median of 3 seeds)
FIGURE_STEPS = 12_500


def parallel_lines_table(ctx: Context) -> list[Row]:
    n_steps = steps(ctx, quick=150, cpu=FIGURE_STEPS, paper=FIGURE_STEPS)
    n_seeds = seeds(ctx, quick=1, cpu=3, paper=3)
    return [
        Row("data", "points on a line; the generator's line parallel to it", "Fedus et al. Fig. 1",
            "(0, y), y ~ N(0, 1), 20,000 points", ""),
        Row("nets", "not stated", "Fedus et al. Fig. 1", "generator G(z) = A z + b started at A = (0, 1), b = (1, 0); "
            "discriminator MLP 2 -> 2 x 64 ReLU -> 1", "a linear generator"),
        Row("init", "not stated", "", "generator as above; discriminator PyTorch default", ""),
        Row("objective", "non-saturating GAN", "Fedus et al. sec. 2, Fig. 1", "preset ns-gan", ""),
        *dcgan_rows("2e-3", "to fit the step budget"),
        Row("batch", "not stated", "", "128", ""),
        Row("steps", "12,500 (the last panel, \"Step 12500\")", "Fedus et al. Fig. 1 (c)", f"{n_steps} generator steps",
            "" if n_steps == FIGURE_STEPS else "fewer (--steps); the figure's last panel is at step 12,500"),
        Row("seeds", "one", "Fedus et al. Fig. 1", str(n_seeds), "more seeds for an interval"),
        Row("eval_mode", "n/a: no batch norm", "", "n/a", ""),
        Row("statistic", "the generator's line over training", "Fedus et al. Fig. 1",
            "median over seeds: |mean x-offset| of 2000 generated points; exact W1 to the data; the closed-form JS "
            "and its gradient", ""),
        Row("criterion", "none (a figure)", "Fedus et al. Fig. 1",
            f"JS gradient = 0: identity (a check of the code); offset < {OFFSET_SHARE_MAX:g} x start; W1 < "
            f"{W1_SHARE_MAX:g} x start", "a generator that did not move fails both (tests)"),
    ]


@register("parallel-lines", paper="Many Paths to Equilibrium (Fedus et al. 2018)", figure="Fig. 1",
          claim="a non-saturating GAN whose generator starts as a line parallel to the data line converges onto "
                "it, although the JS divergence is log 2 for every offset and gives no gradient",
          table=parallel_lines_table, claims=(PL_JS, PL_ONTO, PL_MATCH))
@one_thread
def parallel_lines(ctx: Context) -> Result:
    n_steps = steps(ctx, quick=150, cpu=FIGURE_STEPS, paper=FIGURE_STEPS)
    n_seeds = seeds(ctx, quick=1, cpu=3, paper=3)
    offset0, lr = 1.0, 2e-3
    ctx.out.mkdir(parents=True, exist_ok=True)
    y = np.random.default_rng(0).standard_normal(20_000)
    data_file = write_points(ctx.out / "parallel-lines-data.npy", np.stack([np.zeros_like(y), y], 1))  # (N, 2)
    record_every = max(1, n_steps // 50)
    runs = []
    for seed in ctx.track(range(n_seeds), "training", lambda x: f"seed {x}"):
        tr = points_gan_trainer(data_file, "ns-gan", seed, latent_dim=1, lr=lr, critic_width=64, critic_depth=2,
                                batch=128, eval_n=pick(ctx, quick=1000, cpu=2000, paper=2000), steps=n_steps)
        with torch.no_grad():  # G(z) = (offset0, z): the data line (0, y) shifted by offset0
            tr.G.out.weight.copy_(torch.tensor([[0.0], [1.0]]))
            tr.G.out.bias.copy_(torch.tensor([offset0, 0.0]))
        w1_0 = tr.evaluate()["eval/w1"]
        hist: dict[str, list[float]] = {"step": [], "offset": [], "js_estimate": []}

        def record(trainer: Trainer, _trained_s: float = 0.0, h: dict[str, list[float]] = hist) -> None:
            with torch.no_grad():
                fake = trainer.generate(1024, seed=7)  # (1024, 2)
                real = trainer.sampler.sample(1024, torch.Generator().manual_seed(8))
                loss = Objective("non-saturating").critic_loss(trainer.D(real), trainer.D(fake))
            h["step"].append(trainer.step)
            h["offset"].append(float(fake[:, 0].mean()))
            h["js_estimate"].append(float(Objective("non-saturating").divergence_estimate(float(loss))))

        fit_measuring(tr, [k for k in range(n_steps + 1) if k % record_every == 0 or k == n_steps], record)
        ev = tr.evaluate()
        with torch.no_grad():
            fake = tr.generate(2000, seed=11)
        runs.append({"seed": seed, "w1_start": w1_0, "w1_end": ev["eval/w1"], "w1_floor": ev["eval/w1_floor"],
                     "offset_end": float(fake[:, 0].mean()), "width_x_end": float(fake[:, 0].std()),
                     "y_mean_end": float(fake[:, 1].mean()), "y_std_end": float(fake[:, 1].std()),
                     "history": hist})
        if seed == 0:
            last_fake = fake[:500].numpy()
            real = tr.sampler.sample(500, torch.Generator().manual_seed(3)).numpy()
    off = float(np.median([abs(r["offset_end"]) for r in runs]))
    w1e = float(np.median([r["w1_end"] for r in runs]))
    w1s = float(np.median([r["w1_start"] for r in runs]))
    floor = float(runs[0]["w1_floor"])
    js_grad = (float(parallel_lines_js(offset0 + 1e-3)) - float(parallel_lines_js(offset0 - 1e-3))) / 2e-3
    fig_name = "parallel-lines.png"
    _plot_parallel_lines(runs, real, last_fake, offset0, ctx.out / fig_name)
    pl = {"seeds": n_seeds, "steps": n_steps, "offset_start": offset0, "offset_end": off}
    claims = [
        PL_JS.judge({"js_at_start": float(parallel_lines_js(offset0)), "d_js_d_offset": js_grad}),
        PL_ONTO.judge(pl | {"js_estimate_start": float(np.median([r["history"]["js_estimate"][0] for r in runs])),
                            "js_estimate_max": float(np.median([max(r["history"]["js_estimate"]) for r in runs]))},
                      interval=mean_interval([abs(r["offset_end"]) for r in runs], "|offset| at the end")),
        PL_MATCH.judge(pl | {"w1_start": w1s, "w1_end": w1e, "w1_floor": floor,
                             "y_mean_end": float(np.median([r["y_mean_end"] for r in runs])),
                             "y_std_end": float(np.median([r["y_std_end"] for r in runs])), "y_std_data": 1.0},
                       interval=mean_interval([r["w1_end"] for r in runs], "W1 at the end")),
    ]
    protocol = {
        "data": "(0, y), y ~ N(0, 1): 20,000 points (PointSet file)",
        "generator": f"G(z) = A z + b (MLP depth 0, z ~ N(0, 1)) started at A = (0, 1), b = ({offset0}, 0): the "
                     "data line shifted by the offset",
        "critic": "MLP 2 -> 2 x 64 ReLU -> 1", "objective": f"preset ns-gan with lr {lr}", "steps": n_steps,
        "seeds": n_seeds, "batch": 128,
        "w1": "exact W1 (POT) of 1000 (quick) / 2000 generated vs data points, Trainer.evaluate",
        "js_estimate": "log 2 - L/2 of the current discriminator on 1024 real + 1024 fake points "
                       "(Objective.divergence_estimate)",
        "deviations": f"lr {lr} instead of the DCGAN 2e-4 to fit the step budget; a linear generator "
                      "(the paper's generator architecture is not reproduced)",
    }
    return Result(claims, protocol, [fig_name], {"runs": runs})


def _plot_parallel_lines(runs: list[dict[str, Any]], real: np.ndarray, fake: np.ndarray, offset0: float,
                         path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    ax = axes[0]
    ax.scatter(real[:, 0], real[:, 1], s=3, c="orange", label="data (0, y)")
    ax.axvline(offset0, color="lime", ls="--", label=f"generator at start (x = {offset0})")
    ax.scatter(fake[:, 0], fake[:, 1], s=3, c="green", label="generator after training")
    ax.set_xlim(-0.5, offset0 + 0.5)
    ax.set_title("data line and generator")
    ax.legend(fontsize=7)
    ax = axes[1]
    for r in runs:
        ax.plot(r["history"]["step"], r["history"]["offset"], label=f"seed {r['seed']}")
    ax.axhline(0, color="gray", ls=":")
    ax.set_xlabel("generator step")
    ax.set_title("x-offset of the generated line")
    ax.legend(fontsize=7)
    ax = axes[2]
    for r in runs:
        ax.plot(r["history"]["step"], r["history"]["js_estimate"], label=f"seed {r['seed']}")
    ax.axhline(math.log(2), color="gray", ls="--", label="log 2 (JS of disjoint lines)")
    ax.set_xlabel("generator step")
    ax.set_title("discriminator's JS estimate log 2 - L/2")
    ax.legend(fontsize=7)
    save_figure(fig, path)

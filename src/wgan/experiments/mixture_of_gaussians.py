"""``mixture-of-gaussians``: WGAN (Arjovsky, Chintala, Bottou 2017) sec. 4.1 / Fig. 2 on the 8-Gaussians mixture.

WGAN (clipping), WGAN-GP, NS-GAN and M-GAN trained on 8 Gaussians (:mod:`._toy_runs`); sample snapshots over
training and modes covered over time. The claim ("WGAN is able to learn the distribution without mode
collapse") is judged by how evenly the generated mass covers the modes and whether it sits on their ring.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from . import Context, Result, register
from ._claims import ClaimSpec, Gate, count_interval, gate_from
from ._common import scatter_panel, single_thread
from ._protocol import Row
from ._toy_runs import (
    RING_BAND,
    RING_SHARE_MIN,
    WGAN,
    Trajectory,
    cached_trajectory,
    kept_samples,
    late_eval_steps,
    min_mode_share,
    ring_share,
    snapshot_steps,
    toy_protocol,
    toy_rows,
    toy_setting,
    traj_dict,
)

OBJECTIVES = ("wgan", "wgan-gp", "ns-gan", "m-gan")


# ---------------------------------------------------------------------------------------------- mixture
HQ_SHARE_MIN = 0.5  # the share of samples within 3 std of some mode (modes_3std's "high quality"), reported
EVEN_FRACTION = 0.5  # every mode's Voronoi cell holds at least half its fair share 1/K
PLATEAU_DROP, MIN_LATE_POINTS, MIN_SEEDS = 0.05, 5, 3
# the cpu budget's generator steps (of gan_toy.py's 100,000): at 2,000 the published run's W1 still fell 8% (WGAN) and
# 11% (WGAN-GP) over the last quarter, so the gate could not pass; a one-seed pilot to 16,000 steps (the page) had
# WGAN's W1 level off by about 8,000-10,000
MIXTURE_CPU_STEPS = 10_000
STEPS_WHY = (f"CPU cost: {MIXTURE_CPU_STEPS:,} steps, past where a one-seed pilot's W1 levelled off (the adequacy "
             "gate checks the plateau in every run)")


def covers_modes(min_share: float, ring: float, n_modes: int = 8) -> bool:
    """No mode collapse on the mixture: every mode holds at least :data:`EVEN_FRACTION` of its fair share of the
    samples and at least :data:`RING_SHARE_MIN` of them lie on the modes' ring."""
    return bool(min_share >= EVEN_FRACTION / n_modes and ring >= RING_SHARE_MIN)


def _mixture_decide(m: dict[str, Any], arm: str = "wgan") -> bool:
    return covers_modes(m[f"{arm}/min_mode_share_late_min"], m[f"{arm}/ring_share_min"], m["n_modes"])


def _mixture_gate(m: dict[str, Any], arm: str = "wgan") -> Gate:
    short = []
    if m["seeds"] < MIN_SEEDS:
        short.append(f"{m['seeds']} seed(s) of {MIN_SEEDS}")
    if m["late_points"] < MIN_LATE_POINTS:
        short.append(f"{m['late_points']} evaluation point(s) in the last quarter of training, fewer than "
                     f"{MIN_LATE_POINTS} (a rotating collapse needs several snapshots to rule out)")
    if not m[f"{arm}/w1_late_drop"] < PLATEAU_DROP:
        short.append(f"{arm}'s W1 (mean over seeds) still fell by {m[f'{arm}/w1_late_drop']:.0%} over the last "
                     f"quarter (not below {PLATEAU_DROP:.0%}): training has not settled")
    return gate_from(short, f"--seeds {MIN_SEEDS} and more generator steps than {m['steps']} "
                     "(the authors' toy code trains 100,000; time grows linearly in the steps)")


def mixture_measured(late: dict[str, list[list[torch.Tensor]]], modes: torch.Tensor, steps: int,
                     w1_late_drop: dict[str, float]) -> dict[str, Any]:
    """The claim's numbers from each arm's samples at the late evaluation points (``late[arm][seed]``: the
    samples of the last quarter's points, the last one final)."""
    m: dict[str, Any] = {"n_modes": len(modes), "steps": steps, "seeds": min(len(v) for v in late.values()),
                         "late_points": min(len(p) for v in late.values() for p in v)}
    for arm, per_seed in late.items():
        m[f"{arm}/min_mode_share_late_min"] = min(min_mode_share(x, modes) for pts in per_seed for x in pts)
        m[f"{arm}/ring_share_min"] = min(ring_share(pts[-1], modes) for pts in per_seed)
        m[f"{arm}/w1_late_drop"] = w1_late_drop[arm]
    return m


def _mixture_control(kind: str, seeds: int = 3, points: int = 5, drop: float = 0.0) -> dict[str, Any]:
    """Measured numbers of constructed samples: ``circle`` (WGAN Fig. 2's described progress: mass along the ring
    through the modes, not yet on the bumps), ``data`` (the mixture itself) or ``collapsed`` (all mass on 3 of the
    8 modes, the rotating collapse sec. 4.1 describes for a normal GAN)."""
    from ..data import make_sampler

    s = make_sampler("8gaussians")
    g = torch.Generator().manual_seed(0)
    radius = float(s.modes.norm(dim=1).mean())

    def draw() -> torch.Tensor:
        if kind == "circle":
            angle = 2 * torch.pi * torch.rand(1000, generator=g)
            r = radius * (1 + 0.05 * torch.randn(1000, generator=g))
            return torch.stack([r * angle.cos(), r * angle.sin()], dim=1)
        if kind == "data":
            return s.sample(1000, g)
        idx = torch.randint(0, 3, (1000,), generator=g)  # modes 0, 1, 2 only
        return s.modes[idx] + s.mode_std * torch.randn(1000, 2, generator=g)

    late = {"wgan": [[draw() for _ in range(points)] for _ in range(seeds)]}
    return mixture_measured(late, s.modes, 2000, {"wgan": drop})


MIXTURE_NO_COLLAPSE = ClaimSpec(
    "no-mode-collapse", "WGAN", "WGAN is able to learn the distribution without mode collapse.",
    "sec. 4.1, Fig. 2 (caption)",
    f"WGAN (weight clipping), every seed, at every evaluation point of the last quarter of training: each of the 8 "
    f"modes is the nearest mode of at least {EVEN_FRACTION:g}/8 of the samples (how evenly the mass covers the "
    f"modes), and at the end at least {RING_SHARE_MIN:g} of the samples lie within {RING_BAND:g} R of the modes' "
    "ring (the mass sits on the data's structure, which noise misses). Sharpness (modes_3std, high-quality share) "
    "and W1 are reported apart: the caption calls the circle stage before the bumps progress, not collapse",
    decide=_mixture_decide, gate=_mixture_gate, trained=True,
    adequacy=f"at least {MIN_SEEDS} seeds, at least {MIN_LATE_POINTS} evaluation points in the last quarter, and "
             f"WGAN's W1 (mean over seeds) fell by less than {PLATEAU_DROP:.0%} over the last quarter",
    negative_control=lambda: _mixture_control("collapsed"), positive_control=lambda: _mixture_control("circle"),
    positive_source="constructed: the state Fig. 2's caption describes as WGAN's progress ('first the low "
                    "dimensional structure of the data (the approximate circle) before matching the specific bumps'): "
                    "angles uniform, radius R (1 + 0.05 N(0, 1)); the paper gives no numbers",
    inadequate_control=lambda: _mixture_control("circle", seeds=1, drop=0.3),
    statement="WGAN training shows no mode collapse on the mixture of Gaussians")
MIXTURE_GP_KEEPS = ClaimSpec(
    "wgan-gp-no-mode-collapse", "WGAN", "", "sec. 4.1, Fig. 2 (our extension to WGAN-GP)",
    "the same criterion for WGAN-GP", decide=lambda m: _mixture_decide(m, "wgan-gp"),
    gate=lambda m: _mixture_gate(m, "wgan-gp"), trained=True, ours=True,
    adequacy="as for WGAN, on WGAN-GP's runs",
    negative_control=lambda: _rename(_mixture_control("collapsed")),
    positive_control=lambda: _rename(_mixture_control("data")), positive_source="constructed: the mixture's samples",
    inadequate_control=lambda: _rename(_mixture_control("data", points=2)))
MIXTURE_SHARPNESS = ClaimSpec(
    "sharpness-and-w1", "WGAN", "", "sec. 4.1, Fig. 2 (measured beside the claim)",
    "final modes covered by sharp samples (modes_3std), high-quality share and exact W1 against the data-vs-data "
    "floor, mean over seeds, all four objectives: how far each run has got from the circle to the bumps",
    kind="descriptive")


def _rename(m: dict[str, Any]) -> dict[str, Any]:
    return {k.replace("wgan/", "wgan-gp/"): v for k, v in m.items()}


def mixture_table(ctx: Context) -> list[Row]:
    s = toy_setting(ctx, cpu_steps=MIXTURE_CPU_STEPS)
    return toy_rows(s, STEPS_WHY) + [
        Row("statistic", "snapshots of one run ('approximately finds the correct distribution, without any mode "
            "collapse')", "WGAN sec. 4.1, Fig. 2",
            f"per seed, on {s.n_eval} generated points at every evaluation point of the last quarter: the smallest "
            "share of samples nearest one mode and the share on the modes' ring; modes_3std, high-quality share, "
            "exact W1 and its floor reported apart", ""),
        Row("criterion", "none (a visual statement)", "WGAN sec. 4.1, Fig. 2",
            f"WGAN, every seed: every mode nearest to >= {EVEN_FRACTION:g}/8 of the samples at each late evaluation "
            f"point, >= {RING_SHARE_MIN:g} of the samples within {RING_BAND:g} R of the ring at the end; gated on "
            f"{MIN_SEEDS} seeds and a W1 plateau (< {PLATEAU_DROP:.0%} drop over the last quarter)",
            "issue 23: the earlier criterion (every mode covered by sharp samples, high-quality share >= 0.5, W1 <= 3 "
            "x floor) failed the circle stage Fig. 2's caption calls progress; sharpness is not collapse. Pure noise "
            "fails the ring share, samples on 3 of 8 modes the evenness (tests)"),
    ]


@register("mixture-of-gaussians", WGAN, "sec. 4.1, Fig. 2 (8 Gaussians snapshots, modes over time)",
          "WGAN shows no mode collapse: the generated mass covers all 8 modes evenly and sits on the data's ring; "
          "WGAN-GP (ours), NS-GAN and M-GAN shown alongside", table=mixture_table,
          claims=(MIXTURE_NO_COLLAPSE, MIXTURE_GP_KEEPS, MIXTURE_SHARPNESS))
def mixture_of_gaussians(ctx: Context) -> Result:
    with single_thread():
        return _mixture_of_gaussians(ctx)


def _late(t: Trajectory) -> list[int]:
    """Indices of the evaluation points in the last quarter of training (the last one included)."""
    return [i for i, st in enumerate(t.steps) if st >= 0.75 * t.steps[-1] and st > 0]


def _mixture_of_gaussians(ctx: Context) -> Result:
    from ..data import make_sampler

    s = toy_setting(ctx, cpu_steps=MIXTURE_CPU_STEPS)
    snaps = snapshot_steps(s)
    late_steps = late_eval_steps(s)
    runs: dict[str, list] = {o: [] for o in OBJECTIVES}
    for o, seed in ctx.track([(o, seed) for o in OBJECTIVES for seed in range(s.seeds)], "training",
                             lambda r: f"{r[0]}, seed {r[1]}"):
        runs[o].append(cached_trajectory(ctx, o, s, seed, kept_samples(s)))
    fig_name = "mixture-of-gaussians.png"
    _plot_mixture(runs, snaps, ctx.out / fig_name)
    modes = make_sampler("8gaussians").modes
    arms = ("wgan", "wgan-gp")
    drop = {}
    for o in arms:
        w1 = np.mean([[t.w1[i] for i in _late(t)] for t in runs[o]], axis=0)  # (late points,) mean over seeds
        drop[o] = float((w1[0] - w1[-1]) / w1[0]) if len(w1) > 1 and w1[0] > 0 else 0.0
    late = {o: [[torch.as_tensor(t.snapshots[t.steps[i]]) for i in _late(t)] for t in runs[o]] for o in arms}
    measured = mixture_measured(late, modes, s.steps, drop)
    ok_seeds = {o: [covers_modes(min(t.min_mode_share[i] for i in _late(t)), t.ring_share[-1]) for t in runs[o]]
                for o in arms}
    claims = [
        MIXTURE_NO_COLLAPSE.judge({k: v for k, v in measured.items() if not k.startswith("wgan-gp/")},
                                  interval=count_interval(sum(ok_seeds["wgan"]), len(ok_seeds["wgan"]),
                                                          "share of WGAN seeds passing")),
        MIXTURE_GP_KEEPS.judge({k: v for k, v in measured.items() if not k.startswith("wgan/")},
                               interval=count_interval(sum(ok_seeds["wgan-gp"]), len(ok_seeds["wgan-gp"]),
                                                       "share of WGAN-GP seeds passing")),
        MIXTURE_SHARPNESS.judge(
            {**{f"{o}/modes_covered": float(np.mean([t.modes_covered[-1] for t in ts])) for o, ts in runs.items()},
             **{f"{o}/high_quality_share": float(np.mean([t.high_quality_share[-1] for t in ts]))
                for o, ts in runs.items()},
             **{f"{o}/min_mode_share": float(np.mean([t.min_mode_share[-1] for t in ts])) for o, ts in runs.items()},
             **{f"{o}/w1": float(np.mean([t.w1[-1] for t in ts])) for o, ts in runs.items()},
             "w1_floor": runs["wgan"][0].w1_floor}),
    ]
    data = {o: [traj_dict(t) for t in ts] for o, ts in runs.items()}
    protocol = toy_protocol(s) | {
        "snapshot_steps": list(snaps), "late_steps": list(late_steps),
        "deviations": f"{s.steps} generator steps with {s.width}-wide networks (2 CPU cores); the authors' toy "
                      "runs are 512 wide and much longer, so the clipped WGAN in particular is far from converged"}
    return Result(claims, protocol, [fig_name], data)


def _plot_mixture(runs: dict[str, list[Trajectory]], snaps: tuple[int, ...], path) -> None:
    import matplotlib.pyplot as plt

    from ..data import make_sampler
    from ..diagnostics.plots import save_figure

    modes = make_sampler("8gaussians").modes.numpy()
    n_obj = len(runs)
    fig = plt.figure(figsize=(2.4 * len(snaps) + 4.5, 2.4 * n_obj))
    grid = fig.add_gridspec(n_obj, len(snaps) + 2)
    for row, (o, ts) in enumerate(runs.items()):
        t = ts[0]
        for col, step in enumerate(snaps):
            ax = fig.add_subplot(grid[row, col])
            scatter_panel(ax, t.snapshots[step], modes)
            if row == 0:
                ax.set_title(f"step {step}", fontsize=9)
            if col == 0:
                ax.set_ylabel(o, fontsize=10)
    ax = fig.add_subplot(grid[:, len(snaps):])
    for o, ts in runs.items():
        line = ax.plot(ts[0].steps, np.mean([t.modes_covered for t in ts], 0), "o-", ms=3, label=f"{o} (3 std)")
        ax.plot(ts[0].steps, np.mean([t.modes_reached for t in ts], 0), "--", color=line[0].get_color(), lw=1,
                label=f"{o} (reached)")
    ax.set_xlabel("generator step")
    ax.set_ylabel("modes (of 8)")
    ax.set_ylim(-0.3, 8.3)
    ax.legend(fontsize=7)
    ax.set_title("modes covered over training", fontsize=9)
    fig.suptitle("8 Gaussians: generated samples (green) over training, modes (orange x)", fontsize=11)
    save_figure(fig, path)

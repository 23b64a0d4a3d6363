"""``optimizer-stability``: WGAN (Arjovsky, Chintala, Bottou 2017) sec. 4.3, the negative result on optimisers.

The clipped WGAN on 8 Gaussians (:mod:`._wgan_stability`) with four optimiser arms: RMSProp at Algorithm 1's
5e-5 (the reference), Adam with beta1 = 0.5 (the authors' ``main.py --adam``), Adam with beta1 = 0 (the quote's
"(with beta1 > 0)" contrast) and RMSProp at a high learning rate. A run is *unstable* when its samples got worse:
the exact W1 of its samples rose to at least twice the best it had reached before (:func:`._wgan_stability.unstable`).
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
from ._wgan_stability import (
    ARMS,
    PAPER_STEPS,
    RISE,
    RISE_FLOORS,
    WGAN,
    StabilitySetting,
    stability_rows,
    stability_setting,
    train_arms,
    traj_numbers,
    unstable,
    worsening,
)

ARMS_HERE = ("rmsprop", "adam", "adam-b0", "high-lr")
MIN_SEEDS, BASE_TRAINS = 3, 0.5
QUOTE = ("WGAN training becomes unstable at times when one uses a momentum based optimizer such as Adam (Kingma & "
         "Ba, 2014) (with $\\beta_1 > 0$) on the critic, or when one uses high learning rates")


def more_unstable(m: dict[str, Any], arm: str) -> bool:
    """'At times': at least one seed of ``arm`` unstable, and more of them than of the RMSProp reference."""
    return m[f"{arm}/unstable"] >= 1 and m[f"{arm}/unstable"] > m["rmsprop/unstable"]


# "At times" is a rare-event claim: one unstable run shows it, but no unstable run shows nothing unless the arm
# was watched long enough to have met an event at the rate the sentence implies. Decided from the text before
# rerunning (issue 23): the least rate "becomes unstable at times" can mean is the one a practitioner meets --
# one unstable episode per training run of the paper's length (PAPER_RUN_STEPS generator steps: the setting's
# --budget paper length, gan_toy.py's 100,000 iterations), events taken as Poisson in generator steps. An arm
# unstable at that rate shows at least one event in E seed-steps with probability 1 - exp(-E / PAPER_RUN_STEPS);
# 95% needs E >= ln(20) x PAPER_RUN_STEPS (about 3 paper-length runs). With fewer seed-steps, an arm with no more
# unstable seeds than the reference cannot say the sentence is wrong: INCONCLUSIVE with the exposure needed.
PAPER_RUN_STEPS, DETECT = PAPER_STEPS, 0.95
EXPOSURE_NEEDED = math.ceil(-math.log(1 - DETECT) * PAPER_RUN_STEPS)


def _gate_for(arm: str):
    def gate(m: dict[str, Any]) -> Gate:
        short = too_few_seeds(m, MIN_SEEDS)
        if not m["rmsprop/w1_end_over_start"] <= BASE_TRAINS:
            short.append(f"the RMSProp reference did not train: its W1 ended at {m['rmsprop/w1_end_over_start']:.2f}"
                         f" x its step-0 value (not <= {BASE_TRAINS:g})")
        exposure = m["seeds"] * m["steps"]
        if not more_unstable(m, arm) and exposure < EXPOSURE_NEEDED:
            short.append(f"no more unstable seeds than the reference in {exposure:,} seed-steps ({m['seeds']} x "
                         f"{m['steps']:,}): an arm unstable 'at times' -- once per paper-length run of "
                         f"{PAPER_RUN_STEPS:,} generator steps -- shows an event there with probability only "
                         f"{1 - math.exp(-exposure / PAPER_RUN_STEPS):.1%}; {DETECT:.0%} needs "
                         f"{EXPOSURE_NEEDED:,} seed-steps")
        return gate_from(short, f"--seeds {MIN_SEEDS} and at least {EXPOSURE_NEEDED:,} seed-steps per arm (e.g. "
                         f"--budget paper: {MIN_SEEDS} seeds x {PAPER_RUN_STEPS:,} generator steps with main.py's "
                         "512-unit MLPs; size it with --estimate --budget paper)")

    return gate


def _m(arm: str, n: int, base: int = 0, seeds: int = 3, trained: float = 0.2, steps: int = 600) -> dict[str, Any]:
    return {"seeds": seeds, "steps": steps, f"{arm}/unstable": n, "rmsprop/unstable": base,
            "rmsprop/w1_end_over_start": trained}


ADEQUACY = (f"at least {MIN_SEEDS} seeds; the RMSProp reference trains (mean over seeds of its final W1 at most "
            f"{BASE_TRAINS:g} x its step-0 W1), so that 'becomes unstable' has a stable run to differ from; and, "
            "where the arm shows no more unstable seeds than the reference, enough seed-steps to have met an event "
            f"at the least rate 'at times' means (once per paper-length run of {PAPER_RUN_STEPS:,} generator steps, "
            f"Poisson): {EXPOSURE_NEEDED:,} seed-steps for {DETECT:.0%} ('at times' is a rare-event claim)")
CRIT = (f"a run is unstable when the exact W1 of its samples rose to >= {RISE:g} x the best W1 it had reached "
        f"before (and by >= {RISE_FLOORS:g} x the data-vs-data floor); 'at times': at least one seed of the arm "
        "unstable, and more seeds than of the RMSProp reference (same seeds, same steps)")
ADAM = ClaimSpec(
    "adam-unstable-at-times", "WGAN", QUOTE, "sec. 4.3",
    f"Adam (beta1 0.5, lr 5e-5, main.py --adam): {CRIT}", decide=lambda m: more_unstable(m, "adam"),
    gate=_gate_for("adam"), adequacy=ADEQUACY, trained=True,
    negative_control=lambda: _m("adam", 1, base=1, steps=PAPER_RUN_STEPS),  # as often as RMSProp, long runs
    positive_control=lambda: _m("adam", 1), positive_source="constructed: one Adam seed of three unstable, no "
    "RMSProp seed ('at times'); the paper gives no count",
    inadequate_control=lambda: _m("adam", 0))  # no event in 3 x 600 seed-steps: too short to say 'never'

HIGH = ClaimSpec(
    "high-lr-unstable-at-times", "WGAN", QUOTE, "sec. 4.3",
    f"RMSProp at a high learning rate (5e-3 = 100 x alpha, both players): {CRIT}",
    decide=lambda m: more_unstable(m, "high-lr"), gate=_gate_for("high-lr"), adequacy=ADEQUACY, trained=True,
    negative_control=lambda: _m("high-lr", 0, steps=PAPER_RUN_STEPS), positive_control=lambda: _m("high-lr", 3),
    positive_source="constructed: every high-learning-rate seed unstable, as Fig. 4's failed run",
    inadequate_control=lambda: _m("high-lr", 3, seeds=1))
BETA0 = ClaimSpec(
    "adam-beta1-0", "WGAN", "", "sec. 4.3 (measured beside: the quote's '(with beta1 > 0)')",
    "unstable seeds of Adam with beta1 = 0 (lr 5e-5), next to the other arms; largest W1 rise per arm",
    kind="descriptive")


def optimizer_stability_table(ctx: Context) -> list[Row]:
    s = stability_setting(ctx, cpu_steps=600)
    return stability_rows(ctx, s, ARMS_HERE) + [
        Row("statistic", "none: the instability is reported from experience ('the loss blew up and samples got "
            "worse')", "WGAN sec. 4.3",
            f"exact W1 of {s.n_eval} samples vs {s.n_eval} data points at step 0 and {s.n_points} evenly spaced "
            "steps; per run the largest rise of W1 over the best it had reached before",
            "sample quality measured exactly instead of seen"),
        Row("criterion", "none (a negative result from experience)", "WGAN sec. 4.3", CRIT,
            "'at times': one unstable run suffices, but it must happen more often than with RMSProp; issue 23: "
            f"no event decides only after {EXPOSURE_NEEDED:,} seed-steps (an event once per {PAPER_RUN_STEPS:,}-step "
            "run met with 95% probability), else INCONCLUSIVE"),
    ]


@register("optimizer-stability", WGAN, "sec. 4.3 (Adam and high learning rates; on toy data)",
          "WGAN training becomes unstable at times with Adam (beta1 > 0) on the critic or with high learning rates",
          table=optimizer_stability_table, claims=(ADAM, HIGH, BETA0))
@one_thread
def optimizer_stability(ctx: Context) -> Result:
    s = stability_setting(ctx, cpu_steps=600)
    runs = train_arms(ctx, s, ARMS_HERE)
    m: dict[str, Any] = {"seeds": s.seeds, "steps": s.steps}
    for arm, ts in runs.items():
        m[f"{arm}/unstable"] = sum(unstable(t.w1, t.w1_floor) for t in ts)
        m[f"{arm}/max_rise"] = float(np.max([worsening(t.w1, t.w1_floor) for t in ts]))
        m[f"{arm}/w1_end_over_start"] = float(np.mean([t.w1[-1] / t.w1[0] for t in ts]))

    def arm_m(*arms: str) -> dict[str, Any]:
        return {k: v for k, v in m.items() if "/" not in k or k.split("/")[0] in arms}

    c1 = ADAM.judge(arm_m("adam", "rmsprop"), interval=count_interval(m["adam/unstable"], s.seeds,
                                                                        "share of Adam seeds unstable"))
    c2 = HIGH.judge(arm_m("high-lr", "rmsprop"), interval=count_interval(m["high-lr/unstable"], s.seeds,
                                                                           "share of high-lr seeds unstable"))
    c3 = BETA0.judge({k: v for k, v in m.items() if k.endswith(("/unstable", "/max_rise"))})
    fig = "optimizer-stability.png"
    _plot(runs, s, ctx.out / fig)
    protocol = {"setting": s.__dict__, "arms": {a: ARMS[a][0] for a in ARMS_HERE},
                "unstable": f"W1 >= {RISE:g} x its best before, and >= {RISE_FLOORS:g} floors above it"}
    data = {a: [traj_numbers(t) for t in ts] for a, ts in runs.items()}
    return Result([c1, c2, c3], protocol, [fig], data)


def _plot(runs: dict[str, list], s: StabilitySetting, path: Path) -> None:
    import matplotlib.pyplot as plt

    from ..diagnostics.plots import save_figure

    fig, axes = plt.subplots(1, len(runs), figsize=(4.0 * len(runs), 3.4), sharey=True)
    for ax, (arm, ts) in zip(axes, runs.items(), strict=True):
        for t in ts:
            ax.plot(t.steps, np.minimum(t.w1, 1e3), "o-", ms=2, label=f"seed {t.seed}"
                    + (" (unstable)" if unstable(t.w1, t.w1_floor) else ""))
        ax.axhline(ts[0].w1_floor, color="gray", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_title(ARMS[arm][0], fontsize=9)
        ax.set_xlabel("generator step")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("exact W1 of the samples")
    fig.suptitle(f"WGAN sec. 4.3 on 8 Gaussians: clipped WGAN, {s.steps} generator steps, by optimiser", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)

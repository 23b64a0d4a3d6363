"""``other-constraints``: WGAN-GP (Gulrajani et al. 2017) sec. 3 -- besides elementwise clipping the authors "also
tried other weight constraints (L2 norm clipping, weight normalization), as well as soft constraints (L1 and L2
weight decay) and found that they exhibit similar problems".

The problems of sec. 3 are measured as the clipping reproductions measure them, on critics trained against the
fixed generator data + N(0, I) (the setting of Fig. 1a) with the library's constraints (:mod:`wgan.constraints`):

* exploding or vanishing gradients (sec. 3.2, Fig. 1b, as ``gradient-norms``): a 12-hidden-layer ReLU critic on
  the Swiss roll; the ratio of the critic loss's gradient norm w.r.t. the first and the last hidden layer's
  activations outside [0.1, 10];
* capacity underuse (sec. 3.1, Fig. 1a, as ``value-surfaces``): a 3-layer critic on 8 Gaussians; the share of the
  exact optimal critic's variance (POT's potential) an affine map of the critic explains (R^2), below the
  gradient-penalty critic's.

Elementwise clipping (c = 0.01) and the gradient penalty (lambda 10) are measured the same way beside them: the
run can decide only if clipping shows a problem there and the penalty does not.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..diagnostics.layers import compute_activation_grad_norms
from . import Context, Result, register
from ._budget import count, pick, seeds
from ._claims import ClaimSpec, Gate, gate_from, mean_interval, too_few_seeds
from ._common import TOY, WGAN_GP, WGAN_TOY, single_thread
from ._fixed_critics import (
    FixedSetting,
    affine_r2,
    critic_values,
    effective_weight_norm,
    exact_transport,
    fixed_critic,
)
from ._protocol import Row

C = 0.01  # WGAN's clipping bound: the references' and, scaled per unit, the hard constraints' strength
DECAY = 1e-3  # lambda of both weight decays (ours: the paper gives none)
BAND = (0.1, 10.0)  # first/last hidden-layer gradient-norm ratio: inside = flat (gradient-norms' band)
DEEP, SHALLOW = 12, 3
MIN_SEEDS, MOVED = 3, 0.1
CONSTRAINTS = ("l2-clip", "weight-norm", "l1-decay", "l2-decay")
REFERENCES = ("clip", "gp")
QUOTE = ("we also tried other weight constraints (L2 norm clipping, weight normalization), as well as soft "
         "constraints (L1 and L2 weight decay) and found that they exhibit similar problems")


def unit_bound(width: int) -> float:
    """The L2 norm of a unit whose ``width`` incoming weights all sit at +-c: the bound elementwise clipping at c
    puts on a hidden unit, used as the L2 clip and the weight-norm scale."""
    return C * math.sqrt(width)


def method_sets(method: str, width: int) -> list[str]:
    """The config sets of one method: the constraints train as WGAN's clipped critic does (RMSProp 5e-5)."""
    free = [*WGAN_TOY, "objective.clip=0"]
    return {
        "clip": [*WGAN_TOY, f"objective.clip={C}"],
        "gp": ["objective.name=wgan-gp"],  # Algorithm 1: lambda 10, Adam 1e-4 (0, 0.9)
        "l2-clip": [*WGAN_TOY, f"objective.clip={unit_bound(width):.6g}", "objective.clip_kind=l2"],
        "weight-norm": [*free, "critic.weight_norm=true", f"critic.weight_norm_scale={unit_bound(width):.6g}"],
        "l1-decay": [*free, f"objective.weight_decay={DECAY:g}", "objective.weight_decay_kind=l1"],
        "l2-decay": [*free, f"objective.weight_decay={DECAY:g}", "objective.weight_decay_kind=l2"],
    }[method]


def settings(ctx: Context) -> tuple[FixedSetting, FixedSetting]:
    """(deep critics on the Swiss roll, 3-layer critics on 8 Gaussians)."""
    width = pick(ctx, quick=16, cpu=64, paper=512)
    # cpu: 1500 deep critic steps, the fewest at which both decayed critics' weight norms had moved 10% (seed 0,
    # the slowest seed at 1000 steps: l1 0.081 -> 0.108, l2 0.078 -> 0.105 at 1500); the 3-layer critics keep 1000
    deep = FixedSetting(width=width, depth=DEEP, steps=count(ctx, quick=20, cpu=1500, paper=500_000),
                        batch=pick(ctx, quick=64, cpu=64, paper=256), n_eval=pick(ctx, quick=128, cpu=256, paper=256),
                        checkpoints=2)
    shallow = FixedSetting(width=pick(ctx, quick=16, cpu=64, paper=512), depth=SHALLOW,
                           steps=count(ctx, quick=20, cpu=1000, paper=500_000),
                           batch=pick(ctx, quick=128, cpu=256, paper=256),
                           n_eval=pick(ctx, quick=100, cpu=1000, paper=2000), checkpoints=2)
    return deep, shallow


# ---------------------------------------------------------------------------------------------- criterion
def explodes_or_vanishes(ratio: float) -> bool:
    return not (BAND[0] <= ratio <= BAND[1])


def problems(m: dict[str, Any], k: str) -> bool:
    """Method ``k`` shows a problem of clipping: every seed's gradient ratio outside :data:`BAND`, or its shape
    R^2 below the penalised critic's (the 95% interval of the paired difference above 0)."""
    return all(explodes_or_vanishes(r) for r in m[f"{k}/ratios"]) or m[f"{k}/gp_minus_r2_low"] > 0


def similar_problems(m: dict[str, Any]) -> bool:
    return all(problems(m, k) for k in CONSTRAINTS)


def _gate(m: dict[str, Any]) -> Gate:
    short = too_few_seeds(m, MIN_SEEDS)
    if not problems(m, "clip"):
        short.append("elementwise clipping shows neither problem in this setting, so the measurement cannot see "
                     "them")
    if any(explodes_or_vanishes(r) for r in m["gp/ratios"]):
        short.append("the gradient-penalty critic's gradients explode or vanish too: the setting, not the "
                     "constraint, makes them")
    still = [k for k in ("l1-decay", "l2-decay") if m[f"{k}/weight_change"] < MOVED]
    if still:
        short.append(f"the weight norm of the {', '.join(still)} critics changed by less than {MOVED:.0%} from "
                     "their initialisation: the soft constraint has not acted yet")
    return gate_from(short, f"--seeds {MIN_SEEDS} and more critic steps than {m['steps']}")


def _control(kind: str, seeds: int = 3) -> dict[str, Any]:
    """Constructed numbers: ``all`` every constraint's gradients vanish (the 1e-11 ratio Fig. 1b shows for
    clipping); ``none`` every constraint flat and as good as the penalty; ``one`` only weight decay escapes."""
    m: dict[str, Any] = {"seeds": seeds, "steps": 1000, "clip/ratios": [1e-11] * 3, "clip/gp_minus_r2_low": 0.2,
                         "gp/ratios": [1.0] * 3, "gp/gp_minus_r2_low": 0.0}
    for k in CONSTRAINTS:
        bad = kind == "all" or (kind == "one" and k != "l2-decay")
        m[f"{k}/ratios"] = [1e-11 if bad else 1.0] * 3
        m[f"{k}/gp_minus_r2_low"] = 0.2 if bad else -0.05
        m[f"{k}/weight_change"] = 0.5
    return m


CLAIM = ClaimSpec(
    "other-constraints-show-similar-problems", "WGAN-GP", QUOTE, "sec. 3",
    f"each of L2 norm clipping (every unit's norm <= {C:g} sqrt(width)), weight normalisation (every unit's norm = "
    f"{C:g} sqrt(width), fixed), L1 and L2 weight decay (lambda {DECAY:g}; values ours) shows at least one problem "
    "of clipping: on every seed the first/last hidden-layer ratio of ||dL/dh|| of a 12-layer critic outside "
    f"[{BAND[0]:g}, {BAND[1]:g}] (as gradient-norms), or a shape R^2 against the exact optimal critic below the "
    "gradient-penalty critic's, the 95% interval of the paired difference above 0 (as value-surfaces)",
    decide=similar_problems, gate=_gate, trained=True,
    adequacy=f"at least {MIN_SEEDS} seeds; elementwise clipping (c {C:g}) shows a problem in the same measurement "
             f"and the gradient penalty's gradients stay flat; both decayed critics' weight norms moved at least "
             f"{MOVED:.0%} from their initialisation",
    negative_control=lambda: _control("one"), positive_control=lambda: _control("all"),
    positive_source="constructed: every constraint with the 1e-11 gradient ratio Fig. 1b shows for clipping at "
                    "c = 0.01 (the paper gives no numbers for these constraints); negative: weight decay flat and as "
                    "good as the penalty",
    inadequate_control=lambda: _control("all") | {"clip/ratios": [1.0] * 3, "clip/gp_minus_r2_low": -0.1},
    extras=("per method: the gradient ratios per seed, shape R^2, the weights' norm change",))


def table(ctx: Context) -> list[Row]:
    deep, shallow = settings(ctx)
    cpu = "" if ctx.budget == "paper" and not ctx.quick else "CPU cost; --budget paper runs the paper's value"
    return [
        Row("data", "not stated for these constraints; Fig. 1a: 8gaussians (and others) against real data + N(0, 1); "
            "Fig. 1b: swissroll", f"WGAN-GP sec. 3, Fig. 1; {TOY}:21, 191-226",
            "capacity: 8gaussians; gradients: swissroll; both against the fixed generator data + N(0, I)",
            "Fig. 1b trains the generator too; against a fixed generator (Fig. 1a's setting) each constraint acts on "
            "the critic alone, and 36 critics stay affordable"),
        Row("nets", "critic MLPs, gan_toy DIM 512; Fig. 1a 3 hidden layers, Fig. 1b 12, no batch norm",
            f"WGAN-GP sec. 3.1-3.2; {TOY}:20, 53-58", f"{DEEP} x {deep.width} (gradients), {SHALLOW} x {shallow.width} "
            "(capacity), no norm", cpu),
        Row("init", "tflib 'he' uniform; output glorot uniform", f"{TOY}:37; tflib/ops/linear.py:55-66",
            "the same (critic.init = he)", ""),
        Row("objective", "WGAN with L2 norm clipping, weight normalisation, L1 or L2 weight decay (no definitions or "
            "values given); clipping c = 0.01; gradient penalty lambda 10", f"WGAN-GP sec. 3, Algorithm 1; {TOY}:126",
            f"wgan + objective.clip_kind = l2 (per unit, bound {C:g} sqrt(width)); critic.weight_norm (scale fixed at "
            f"the same); objective.weight_decay = {DECAY:g} (l1, l2) without clipping; references wgan (clip {C:g}) "
            "and wgan-gp (lambda 10)", "the paper defines none: per-unit bounds equal to what clipping at 0.01 "
            "allows a hidden unit; the decay's lambda is ours"),
        Row("optimiser", "clipping: RMSProp (TensorFlow's in gan_toy); penalty: Adam", f"{TOY}:89-120",
            "every weight constraint: rmsprop_tf (as clipping); penalty: torch.optim.Adam",
            "the constrained critics train as the clipped one"),
        Row("lr", "clipping 5e-5; penalty 1e-4", f"{TOY}:90, 110", "the same", ""),
        Row("betas", "penalty (0, 0.9)", "WGAN-GP Algorithm 1", "(0, 0.9)", ""),
        Row("n_critic", "fixed generator: only critic steps", f"{TOY}:21, 237-245",
            f"{deep.steps} (gradients), {shallow.steps} (capacity) critic steps", cpu),
        Row("batch", "256", f"{TOY}:26", f"{deep.batch} (gradients, as gradient-norms), {shallow.batch} (capacity)",
            cpu if deep.batch != 256 else ""),
        Row("steps", "100,000 iterations x 5 critic steps", f"{TOY}:25, 27",
            f"{deep.steps} and {shallow.steps} critic steps",
            cpu + ("; the deep critics' count is the fewest at which the decayed critics' weight norms moved "
                   f"{MOVED:.0%} (the gate) when sized" if cpu else "")),
        Row("seeds", "not stated", "WGAN-GP sec. 3", f"{seeds(ctx, quick=1, cpu=3, paper=3)} (--seeds), paired "
            "across methods", "issue 23: at least 3 seeds"),
        Row("eval_mode", "n/a: no batch norm", f"{TOY}:53-58", "n/a", ""),
        Row("statistic", "gradient norms per layer (Fig. 1b), value surfaces (Fig. 1a)", "WGAN-GP Fig. 1",
            f"ratio ||dL/dh_1|| / ||dL/dh_{DEEP}|| at the end on {deep.n_eval} + {deep.n_eval} points; shape R^2 "
            f"against POT's potential on {shallow.n_eval} + {shallow.n_eval} points",
            "the statistics of gradient-norms and value-surfaces"),
        Row("criterion", "none ('similar problems')", "WGAN-GP sec. 3", "every constraint shows one of the two "
            "problems (gradients on every seed, or capacity by interval), gated on clipping showing one and the "
            "penalty staying flat", "weight decay escaping both fails; all vanishing passes (tests)"),
    ]


@register("other-constraints", WGAN_GP, "sec. 3",
          "L2 norm clipping, weight normalisation and L1/L2 weight decay show the problems of weight clipping "
          "(exploding or vanishing gradients, or capacity underuse)", table=table, claims=(CLAIM,))
def other_constraints(ctx: Context) -> Result:
    with single_thread():
        return _run(ctx)


def _run(ctx: Context) -> Result:
    deep, shallow = settings(ctx)
    n_seeds = seeds(ctx, quick=1, cpu=3, paper=3)
    methods = (*REFERENCES, *CONSTRAINTS)
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in methods}
    items = [(k, seed) for seed in range(n_seeds) for k in methods]
    for k, seed in ctx.track(items, "critics", lambda r: f"{r[0]}, seed {r[1]}"):
        fit = fixed_critic("swissroll", method_sets(k, deep.width), deep, seed, ctx.device)
        norms = compute_activation_grad_norms(fit["D"], fit["real"], fit["fake"])  # (12,)
        ratio = float(norms[0] / max(norms[-1], 1e-300))
        cap = fixed_critic("8gaussians", method_sets(k, shallow.width), shallow, seed, ctx.device)
        t = exact_transport(cap["real"], cap["fake"])
        r2 = affine_r2(critic_values(cap["D"], cap["real"], cap["fake"]), np.concatenate([t.f_real, t.f_fake]))
        runs[k].append({"seed": seed, "ratio": ratio, "layer_norms": norms.tolist(), "shape_r2": r2,
                        "weight_change": abs(effective_weight_norm(fit["D"]) / fit["init_weight_norm"] - 1),
                        "dual_deep": fit["duals"][-1], "dual_shallow": cap["duals"][-1], "w1_shallow": t.w1,
                        "train_s": fit["train_s"] + cap["train_s"]})
    m: dict[str, Any] = {"seeds": n_seeds, "steps": max(deep.steps, shallow.steps)}
    intervals = []
    for k in methods:
        m[f"{k}/ratios"] = [r["ratio"] for r in runs[k]]
        diff = [g["shape_r2"] - r["shape_r2"] for g, r in zip(runs["gp"], runs[k], strict=True)]
        iv = mean_interval(diff, f"{k}: shape R^2, gradient penalty minus {k}")
        m[f"{k}/gp_minus_r2_low"] = iv.low if n_seeds > 1 else iv.estimate
        m[f"{k}/shape_r2"] = float(np.mean([r["shape_r2"] for r in runs[k]]))
        m[f"{k}/weight_change"] = float(min(r["weight_change"] for r in runs[k]))
        if k in CONSTRAINTS:
            intervals.append(iv)
    claim = CLAIM.judge(m, interval=min(intervals, key=lambda i: i.low if math.isfinite(i.low) else i.estimate))
    fig = "other-constraints.png"
    _plot(runs, ctx.out / fig)
    protocol = {
        "methods": {k: method_sets(k, deep.width) for k in methods},
        "gradients": f"swissroll vs data + N(0, I), critic MLP {DEEP} x {deep.width}, {deep.steps} critic steps, "
                     f"batch {deep.batch}; ||dL/dh_l|| (L = E f(fake) - E f(real)) on {deep.n_eval} + {deep.n_eval} "
                     "fixed points at the end",
        "capacity": f"8gaussians vs data + N(0, I), critic MLP {SHALLOW} x {shallow.width}, {shallow.steps} critic "
                    f"steps, batch {shallow.batch}; R^2 of an affine map of the critic onto POT's potential on "
                    f"{shallow.n_eval} + {shallow.n_eval} points",
        "weight_change": "| norm of the deep critic's effective weight matrices at the end / at initialisation - 1 |",
        "seeds": list(range(n_seeds))}
    return Result([claim], protocol, [fig], {"runs": runs})


def _plot(runs: dict[str, list[dict[str, Any]]], path) -> None:
    import matplotlib.pyplot as plt

    from ..diagnostics.plots import save_figure

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    for i, (k, rs) in enumerate(runs.items()):
        norms = np.exp(np.mean([np.log(np.maximum(r["layer_norms"], 1e-300)) for r in rs], axis=0))
        ax.plot(np.arange(1, len(norms) + 1), norms, "o-", ms=3, label=k)
        bx.scatter([i] * len(rs), [r["shape_r2"] for r in rs], s=12)
    ax.set_yscale("log")
    ax.set_xlabel("critic hidden layer")
    ax.set_ylabel("||dL/dh|| (geometric mean over seeds)")
    ax.set_title(f"{DEEP}-layer critics, swissroll vs data + N(0, I)", fontsize=9)
    ax.legend(fontsize=7)
    bx.set_xticks(range(len(runs)), list(runs), rotation=30, fontsize=8)
    bx.set_ylabel("shape R^2 against the exact potential")
    bx.set_title(f"{SHALLOW}-layer critics, 8gaussians vs data + N(0, I)", fontsize=9)
    fig.suptitle("WGAN-GP sec. 3: other weight constraints", fontsize=10)
    save_figure(fig, path)

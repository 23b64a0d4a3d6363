"""The deep swissroll critics shared by ``gradient-norms`` and ``weight-histograms`` (WGAN-GP, Gulrajani et al.
2017, sec. 3.2, Fig. 1b): 12-layer ReLU MLP generator and critic, trained with weight clipping (c in {0.1, 0.01,
0.001}) or the gradient penalty through the library's :class:`~wgan.Trainer` (``fit`` without a run folder);
:func:`deep_run` measures per-layer gradient norms and the critic's weights at evenly spaced steps. Runs are
cached per process, so the two reproductions run together train them once.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..config import Config, apply_sets
from ..diagnostics.layers import (
    compute_activation_grad_norms,
    compute_weight_histogram,
    compute_weight_share_near,
)
from ..training.trainer import Trainer
from . import Context
from . import _budget as budget
from ._claims import Gate
from ._common import TOY, WGAN_GP_TOY, WGAN_TOY, clip_gp_rows, fit_cadence, fit_measuring, process_cache
from ._protocol import Row

REF_C = 0.01  # the clipping bound the weight histograms are compared at (WGAN Algorithm 1 default)


@dataclass(frozen=True)
class DeepSetting:
    width: int
    depth: int
    steps: int  # generator steps (5 critic steps each)
    batch: int
    n_measure: int  # evenly spaced measurement points
    n_probe: int  # real and fake points the layer gradients are measured on


def deep_setting(ctx: Context) -> DeepSetting:
    """The deep critics' setting (``--quick``: tiny; ``--budget paper``: gan_toy's DIM 512 and batch 256; the
    figure states no step count, so the paper budget keeps ours)."""
    width = budget.pick(ctx, quick=32, cpu=256, paper=512)  # gan_toy.py:20
    batch = budget.pick(ctx, quick=64, cpu=64, paper=256)  # gan_toy.py:26
    steps = budget.steps(ctx, quick=20, cpu=200, paper=200)
    if ctx.quick:
        return DeepSetting(width=width, depth=12, steps=steps, batch=batch, n_measure=2, n_probe=128)
    return DeepSetting(width=width, depth=12, steps=steps, batch=batch, n_measure=5, n_probe=256)


_DEEP_CACHE: dict[tuple, dict[str, Any]] = process_cache()


def deep_run(method: str, s: DeepSetting, seed: int, device: str) -> dict[str, Any]:
    """Train the 12-layer swissroll WGAN under ``method`` ("clip 0.01", ..., "gp"); measure the critic.

    Cached per process (gradient-norms and weight-histograms share runs when run together, as in the tests).
    """
    key = (method, s, seed, device)
    if key in _DEEP_CACHE:
        return _DEEP_CACHE[key]
    if method == "gp":
        obj = ["objective.name=wgan-gp"]  # Algorithm 1: lambda 10, Adam beta (0, 0.9)
    elif method == "gp-toy":
        obj = WGAN_GP_TOY  # the authors' 2-D settings: lambda 0.1, Adam beta (0.5, 0.9)
    else:
        obj = [*WGAN_TOY, f"objective.clip={float(method.split()[1])}"]
    cfg = apply_sets(Config(), obj + [
        "data.name=swissroll", f"generator.depth={s.depth}", f"critic.depth={s.depth}",
        f"generator.width={s.width}", f"critic.width={s.width}", "generator.init=he", "critic.init=he",
        "critic.norm=none", "generator.norm=none", f"data.batch_size={s.batch}", f"train.steps={s.steps}",
        f"eval.n_samples={s.n_probe}", f"train.seed={seed}", f"train.device={device}", *fit_cadence(s.steps)])
    trainer = Trainer(cfg)
    c = REF_C if method.startswith("gp") else cfg.objective.clip
    marks = np.linspace(0, s.steps, s.n_measure + 1)[1:].round().astype(int)
    repeats = Counter(marks.tolist())  # a step listed twice (few steps) is measured twice
    norms, shares, shares_ext = [], [], []
    start = time.perf_counter()
    share_first_step = None
    inside = None  # weights strictly inside the 1% band around +-c after the first step, (P,) bool

    def measure(trainer: Trainer, _trained_s: float) -> None:
        nonlocal share_first_step, inside
        if trainer.step == 1:
            share_first_step = compute_weight_share_near(trainer.D, c)
            inside = (_flat_weights(trainer.D).abs() - c).abs() > 0.01 * c
        for _ in range(repeats[trainer.step]):
            real, _ = trainer.reference_data()  # (n_probe, 2), fixed per seed
            fake = trainer.generate(s.n_probe, seed=30_000 + seed)  # (n_probe, 2), the current generator
            norms.append(compute_activation_grad_norms(trainer.D, real, fake))  # (depth,)
            shares.append(compute_weight_share_near(trainer.D, c))
            shares_ext.append(_share_at_extremes(trainer.D))

    fit_measuring(trainer, {1, *repeats}, measure)
    counts, edges = compute_weight_histogram(trainer.D, bins=80)
    w_end = _flat_weights(trainer.D)
    pushed = float(((w_end[inside].abs() - c).abs() <= 0.01 * c).double().mean()) if inside.any() else float("nan")
    out = {"marks": marks.tolist(), "norms": np.stack(norms), "share_near_c": shares, "c": c,
           "share_at_extremes": shares_ext, "share_near_c_first_step": share_first_step, "pushed_to_c": pushed,
           "hist_counts": counts, "hist_edges": edges, "train_s": time.perf_counter() - start,
           "w1_final": trainer.evaluate()["eval/w1"]}
    _DEEP_CACHE[key] = out
    return out


def _flat_weights(module) -> torch.Tensor:
    """All weight-matrix entries of ``module`` as one ``(P,)`` tensor (biases excluded)."""
    return torch.cat([p.detach().reshape(-1) for n, p in module.named_parameters() if n.endswith("weight")])


def _share_at_extremes(module) -> float:
    """Share of weights within 1% of +-max|w| (the ends of the range the weights actually occupy)."""
    wmax = max(float(p.detach().abs().max()) for n, p in module.named_parameters() if n.endswith("weight"))
    return compute_weight_share_near(module, wmax)


def deep_protocol(s: DeepSetting, seed: int) -> dict[str, Any]:
    """The protocol entries of the deep runs (networks, data, methods, deviations)."""
    return {
        "networks": f"generator and critic: MLP {s.depth} hidden ReLU layers x {s.width}, no batch norm, "
                    "He init (the authors' toy code)",
        "data": "swissroll", "generator_steps": s.steps, "critic_steps_per_generator_step": 5,
        "batch_size": s.batch, "seeds": [seed], "measurement_steps": f"{s.n_measure} evenly spaced, last = end",
        "clip": "objective wgan: TensorFlow's RMSProp (rmsprop_tf, as gan_toy.py) lr 5e-5, clip c applied to every "
                "critic parameter",
        "gp": "objective wgan-gp (Algorithm 1): Adam lr 1e-4, betas (0, 0.9), lambda 10",
        "gp-toy": "objective wgan-gp with the authors' toy values (gan_toy.py): Adam lr 1e-4, betas (0.5, 0.9), "
                  "lambda 0.1",
        "deviations": f"width {s.width} and {s.steps} generator steps (2 CPU cores); the authors' toy networks "
                      "are 512 wide and train far longer. The direction of the clipped gradients depends on "
                      "c * sqrt(width), so a narrower network shifts each c towards vanishing",
    }


def deep_rows(ctx: Context) -> list[Row]:
    """The rows shared by gradient-norms and weight-histograms (the same runs)."""
    s = deep_setting(ctx)
    return [
        Row("data", "swissroll", "WGAN-GP Fig. 1b caption; " + f"{TOY}:191-200", "swissroll (gan_toy's construction)",
            ""),
        Row("nets", "generator and critic: 12-layer ReLU MLPs, no batch norm (width not stated; gan_toy's DIM 512)",
            f"WGAN-GP Fig. 1b caption; {TOY}:20", f"12 hidden ReLU layers x {s.width}, no batch norm",
            "width: CPU cost; --budget paper runs the paper's value"),
        Row("init", "tflib 'he' uniform; output glorot uniform", f"{TOY}:37; tflib/ops/linear.py:55-66",
            "the same (init = he)", ""),
        *clip_gp_rows("5"),
        Row("batch", "256 (gan_toy)", f"{TOY}:26", str(s.batch), "CPU cost; --budget paper runs the paper's value"),
        Row("steps", "not stated", "WGAN-GP Fig. 1b", f"{s.steps} generator steps, measured at {s.n_measure} "
            "evenly spaced points", "the figure states no step count"),
        Row("seeds", "one run", "WGAN-GP Fig. 1b", f"{deep_seeds(ctx)} (--seeds; the "
            "figure: seed 0), each claim decided on its worst seed", "issue 23: at least 3 seeds"),
        Row("eval_mode", "n/a: no batch norm", "WGAN-GP Fig. 1b", "n/a", ""),
    ]


DEEP_MIN_SEEDS = 3


def deep_seeds(ctx: Context) -> int:
    """How many seeds the deep runs use (``--seeds``, else 1 quick, 3 full)."""
    return budget.seeds(ctx, quick=1, cpu=DEEP_MIN_SEEDS, paper=DEEP_MIN_SEEDS)


def deep_gate(m: dict[str, Any]) -> Gate:
    """The adequacy gate of both reproductions' claims: at least :data:`DEEP_MIN_SEEDS` seeds."""
    ok = m["seeds"] >= DEEP_MIN_SEEDS
    return Gate(ok, "" if ok else f"{m['seeds']} seed(s), fewer than {DEEP_MIN_SEEDS}", f"--seeds {DEEP_MIN_SEEDS}")

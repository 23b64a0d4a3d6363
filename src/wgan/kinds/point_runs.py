"""The ``points`` data kind: toy distributions and Fedus et al.'s manifold data, samples that are vectors.

A run evaluates itself with the exact 1-Wasserstein distance (POT) between ``eval.n_samples`` generated and
as many data points, next to its floor (W1 between two independent data samples of that size, computed once per
data sample and kept under the user cache: :mod:`wgan.metrics.w1_floor`): protocol ``w1_exact_2k``, and
precision, recall, density and coverage of the same generated points against the same data sample on the
coordinates, k = 5 (``prdc2k_5nn_coords``, :mod:`wgan.metrics.prdc`). Mixtures (8/25 Gaussians) also report mode
coverage (``modes_3std``). Two-dimensional data gets a scatter plot of data and samples over the critic's value
surface every ``train.sample_every`` steps.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from ..metrics import mode_stats, w1_exact
from ..metrics.prdc import POINTS_K, points_protocol, prdc
from ..metrics.w1_floor import w1_floor
from .base import KINDS, DataKind, Run

REF_SEEDS = (10_000, 20_000)  # + train.seed: the two reference data samples (floor = W1 between them)
EVAL_SEED = 30_000  # + train.seed: the generated sample W1 is measured on
PLOT_SEED = 40_000  # + train.seed: the generated points drawn in the toy plots


def reference_data(trainer: Run) -> tuple[torch.Tensor, torch.Tensor]:
    """Two independent ``eval.n_samples``-point data samples, fixed per seed (cached with their W1, the floor, which
    :func:`wgan.metrics.w1_floor.w1_floor` also keeps across runs: it depends only on these two samples)."""
    cache = trainer.eval_cache
    if "ref" not in cache:
        n, s = trainer.cfg.eval.n_samples, trainer.cfg.train.seed
        a = trainer.sampler.sample(n, torch.Generator().manual_seed(REF_SEEDS[0] + s))
        b = trainer.sampler.sample(n, torch.Generator().manual_seed(REF_SEEDS[1] + s))
        cache["ref"] = (a, b)
        cache["floor"] = w1_floor(a, b)
    return cache["ref"]


def evaluate(trainer: Run) -> dict[str, float]:
    """Exact W1 (``w1_exact_2k`` protocol), its data-vs-data floor, precision/recall/density/coverage
    (``prdc2k_5nn_coords``) and, for mixtures, mode stats."""
    ref, _ = reference_data(trainer)
    fake = trainer.generate(trainer.cfg.eval.n_samples, seed=EVAL_SEED + trainer.cfg.train.seed)
    out: dict[str, float] = {}
    if torch.isfinite(fake).all():
        out["eval/w1"] = w1_exact(fake, ref)
    else:
        out["eval/w1"] = math.inf
    out["eval/w1_floor"] = trainer.eval_cache["floor"]
    if len(ref) > POINTS_K:  # k nearest neighbours need more than k points (else the protocol says why)
        out.update({f"eval/{key}": v for key, v in prdc(ref, fake, POINTS_K).as_dict().items()})
    sampler = trainer.sampler
    if sampler.modes is not None:
        ms = mode_stats(fake, sampler.modes, sampler.mode_std)
        out["eval/modes_covered"] = ms.modes_covered
        out["eval/n_modes"] = ms.n_modes
        out["eval/high_quality_share"] = ms.high_quality_share
    return out


def summary(trainer: Run, ev: dict[str, float]) -> dict[str, Any]:
    """``w1``, ``w1_floor``, ``w1_over_floor``, ``precision``, ``recall``, ``density``, ``coverage``, mode
    statistics and the protocol."""
    n = trainer.cfg.eval.n_samples
    w1, floor = ev["eval/w1"], ev["eval/w1_floor"]
    # a zero floor (the two data samples coincide: data with very few distinct points) has no ratio to give
    ratio = w1 / floor if floor > 0 else None
    return {
        "w1": w1,
        "w1_floor": floor,
        "w1_over_floor": ratio,
        **{k.split("/", 1)[1]: v for k, v in ev.items() if k not in ("eval/w1", "eval/w1_floor")},
        "protocol": {
            "w1": f"w1_exact_2k: exact W1 (POT) between {n} generated and {n} data points; floor = W1 between "
                  f"two independent {n}-point data samples" + ("" if ratio is not None else "; the floor is 0 "
                  "(both data samples are the same points), so w1_over_floor is null: compare w1 itself"),
            "prdc": points_protocol(n, n, POINTS_K) if "eval/precision" in ev else
                    f"not measured: k = {POINTS_K} nearest neighbours need more than {POINTS_K} points; eval.n_samples "
                    f"is {n}",
            "modes": "modes_3std: high quality = within 3 std of the nearest mode; a mode is covered "
                     "with >= 10% of its uniform share of high-quality samples",
        },
    }


def save_samples(trainer: Run, folder: Path) -> None:
    """``folder/step-NNNNNNN.png`` for 2-D data; higher-dimensional points have no picture (said once a run)."""
    if trainer.sampler.dim == 2:
        save_toy_plot(trainer, Path(folder) / f"step-{trainer.step:07d}.png")
    elif not trainer.eval_cache.get("said_no_picture", False):
        from ..console import say

        trainer.eval_cache["said_no_picture"] = True
        say(f"note: {trainer.sampler.dim}-D points have no sample picture (only 2-D data is drawn); the exact W1 "
            "is logged as for 2-D, and `wgan sample RUN --out samples.npy` writes samples")


def save_toy_plot(trainer: Run, path: Path) -> None:
    """Data and generated points over the critic's value surface."""
    from ..diagnostics.plots import plot_toy, run_title
    from ..diagnostics.surfaces import critic_surface

    real, _ = reference_data(trainer)
    lo, hi = real.min(0).values, real.max(0).values
    pad = 0.25 * (hi - lo).max()
    extent = (float(lo[0] - pad), float(hi[0] + pad), float(lo[1] - pad), float(hi[1] + pad))
    fake = trainer.generate(512, seed=PLOT_SEED + trainer.cfg.train.seed)
    surface = critic_surface(trainer.D, extent, device=trainer.device)
    plot_toy(real[:512], fake, surface, extent, path, title=f"{run_title(trainer.cfg)}, step {trainer.step}")


def headline(summary: dict[str, Any], steps: str, took: str) -> str:
    """``W1 = ... (data-vs-data floor ..., ratio) after N steps; modes covered ...``."""
    ratio = summary.get("w1_over_floor")  # None when the floor is 0
    ratio = f"{ratio:.2f}x floor" if ratio is not None else "no ratio to a zero floor"
    line = f"W1 = {summary['w1']:.4f}  (data-vs-data floor {summary['w1_floor']:.4f}, {ratio})  {steps}"
    if "modes_covered" in summary:
        line += (f"; modes covered {summary['modes_covered']}/{summary['n_modes']}, "
                 f"high-quality samples {100 * summary['high_quality_share']:.1f}%")
    return line + took


KINDS.add("points", DataKind(evaluate, summary, headline, save_samples, sample_formats=(".npy", ".csv", ".png")))

"""Swiss-roll WGANs with a deep MLP critic under any constraint given as config sets, shared by ``deep-critic-bn``
and ``other-constraints`` (WGAN-GP, Gulrajani et al. 2017, sec. 3). Unlike :mod:`._deep_critic` (the fixed
methods of Fig. 1b, read only here), the method is a list of config sets, so batch norm, layer norm and the
constraints of :mod:`wgan.constraints` can be trained the same way.

:func:`deep_wgan` trains through the library's :class:`~wgan.Trainer` (``fit`` without a run folder) and measures
at evenly spaced steps (step 0 included): the generator's exact W1 to the data (the Trainer's seeded evaluation)
and, when asked, the per-layer norms of the critic loss's gradient w.r.t. the activations (Fig. 1b's statistic).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config, apply_sets
from ..diagnostics.layers import compute_activation_grad_norms
from ..training.trainer import Trainer
from ._common import fit_cadence, fit_measuring


@dataclass(frozen=True)
class DeepRunSetting:
    critic_depth: int
    generator_depth: int
    width: int
    steps: int  # generator steps
    batch: int
    n_eval: int  # points of the exact W1 and of the layer-gradient probe
    n_measure: int  # evenly spaced measurement points after step 0


def deep_wgan(sets: list[str], s: DeepRunSetting, seed: int, device: str = "cpu", layer_norms: bool = False,
              data: str = "swissroll") -> dict[str, Any]:
    """Train one WGAN with the method's config ``sets`` and measure it (module docstring)."""
    cfg = apply_sets(Config(), list(sets) + [
        f"data.name={data}", f"generator.depth={s.generator_depth}", f"critic.depth={s.critic_depth}",
        f"generator.width={s.width}", f"critic.width={s.width}", "generator.init=he", "critic.init=he",
        "generator.norm=none", f"data.batch_size={s.batch}", f"train.steps={s.steps}",
        f"eval.n_samples={s.n_eval}", f"train.seed={seed}", f"train.device={device}", *fit_cadence(s.steps)])
    trainer = Trainer(cfg)
    marks = sorted({0, *np.linspace(0, s.steps, s.n_measure + 1).round().astype(int).tolist()})
    w1, norms = [], []

    def measure(tr: Trainer, _trained_s: float) -> None:
        w1.append(float(tr.evaluate()["eval/w1"]))
        if layer_norms and tr.step > 0:
            real, _ = tr.reference_data()  # (n_eval, 2), fixed per seed
            fake = tr.generate(s.n_eval, seed=30_000 + seed)  # (n_eval, 2)
            norms.append(compute_activation_grad_norms(tr.D, real, fake))  # (depth,)

    start = time.perf_counter()
    fit_measuring(trainer, marks, measure)
    return {"seed": seed, "marks": marks, "w1": w1, "norms": np.stack(norms).tolist() if norms else [],
            "train_s": time.perf_counter() - start, "trainer": trainer}


def layer_ratio(norms: list[list[float]]) -> float:
    """First/last hidden-layer gradient-norm ratio, geometric mean over the measurement points (``norms``:
    ``(M, depth)``), as gradient-norms (Fig. 1b) computes it."""
    a = np.log10(np.maximum(np.asarray(norms, float), 1e-300))
    return float(10 ** (a[:, 0] - a[:, -1]).mean())


def converged(w1: list[float], share: float) -> bool:
    """A run converged: its final exact W1 is finite and at most ``share`` of its W1 at step 0."""
    return math.isfinite(w1[-1]) and w1[-1] <= share * w1[0]

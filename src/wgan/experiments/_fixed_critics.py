"""Critics trained against the *fixed* generator "data + N(0, I)" of WGAN-GP Fig. 1a, and the exact optimal
transport between the two sample sets, shared by ``proposition-1``, ``two-sided-penalty`` and
``other-constraints`` (WGAN-GP, Gulrajani et al. 2017).

* :func:`fixed_critic` trains a 2-D critic through the library's :class:`~wgan.Trainer` (``generator.net =
  data-plus-noise``: every step is a critic step) with the config sets of one method, and records its dual value
  ``E f(real) - E f(fake)`` on fixed evaluation points at evenly spaced steps;
* :func:`exact_transport` gives POT's exact coupling of the two evaluation sets, its cost (the exact W1) and a
  Kantorovich potential (the c-transform of POT's dual ``u``), :func:`mcshane` that potential's 1-Lipschitz
  extension to the plane;
* :func:`line_gradients` the critic's input gradient at points on the segments between coupled pairs, with its
  norm and its cosine with the segment's direction (Proposition 1);
* :func:`affine_r2`, :func:`settled_change`.

(The value-surfaces reproduction computes the same potential and R^2 for itself; a reproduction never imports
another, so they are written here once more for these three.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..config import Config, apply_sets
from ..training.trainer import Trainer
from ._common import TOY
from ._protocol import Row


@dataclass(frozen=True)
class FixedSetting:
    width: int
    depth: int
    steps: int  # critic steps
    batch: int
    n_eval: int  # data and data + noise evaluation points
    checkpoints: int  # dual value measured this many times (evenly spaced, last = end)


def fixed_critic(data: str, sets: list[str], s: FixedSetting, seed: int, device: str = "cpu") -> dict[str, Any]:
    """Train a critic on ``data`` against data + N(0, I) with the config ``sets`` of one method; returns the
    trainer, the evaluation points ``real``/``fake`` ``(n_eval, 2)``, the dual value at each checkpoint and the
    training time."""
    cfg = apply_sets(Config(), list(sets) + [
        f"data.name={data}", "generator.net=data-plus-noise", "generator.noise_std=1.0", "objective.n_critic=1",
        f"train.steps={s.steps}", f"critic.depth={s.depth}", f"critic.width={s.width}", "critic.init=he",
        f"data.batch_size={s.batch}", f"eval.n_samples={s.n_eval}", f"train.seed={seed}", f"train.device={device}"])
    trainer = Trainer(cfg)
    real, _ = trainer.reference_data()  # (n_eval, 2), fixed per seed
    fake = trainer.generate(s.n_eval, seed=30_000 + seed)  # (n_eval, 2): data + N(0, I)
    marks = np.linspace(0, s.steps, s.checkpoints + 1)[1:].round().astype(int)
    duals, w0 = [], effective_weight_norm(trainer.D)
    start = time.perf_counter()
    for m in marks:  # a loop, not Trainer.fit: fit's final evaluation is not needed here
        while trainer.step < m:
            trainer.train_step()
        duals.append(dual_value(trainer.D, real, fake))
    return {"trainer": trainer, "D": trainer.D, "real": real, "fake": fake, "marks": marks.tolist(),
            "duals": duals, "train_s": time.perf_counter() - start, "init_weight_norm": w0}


def effective_weight_norm(D: torch.nn.Module) -> float:
    """The Euclidean norm of all the weights the critic's linear layers compute with (a weight-normalised
    layer's normalised ones)."""
    with torch.no_grad():
        return float(sum(float(m.weight.pow(2).sum()) for m in D.modules()
                         if isinstance(m, torch.nn.Linear)) ** 0.5)


def dual_value(D: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor) -> float:
    """``E f(real) - E f(fake)`` on the given points."""
    with torch.no_grad():
        return float(D(real).mean() - D(fake).mean())


def settled_change(duals: list[float], back: int = 2) -> float:
    """Relative change of the dual value over the last ``back`` checkpoints (|d[-1] - d[-1-back]| / |d[-1]|)."""
    if len(duals) <= back:
        return float("inf")
    return abs(duals[-1] - duals[-1 - back]) / max(abs(duals[-1]), 1e-12)


@dataclass
class Transport:
    """POT's exact W1 transport between uniform sample sets ``real`` ``(n, 2)`` and ``fake`` ``(m, 2)``."""

    plan: np.ndarray  # (n, m) coupling, each row summing to 1/n
    cost: np.ndarray  # (n, m) Euclidean distances
    w1: float  # sum plan * cost
    f_real: np.ndarray  # (n,) a Kantorovich potential on the real points
    f_fake: np.ndarray  # (m,) ... and on the fake points (1-Lipschitz on the union)
    dual: float  # mean f_real - mean f_fake (equals w1 up to round-off)


def exact_transport(real: torch.Tensor, fake: torch.Tensor) -> Transport:
    """The exact coupling (``ot.emd``) and a potential from its dual ``u``: ``f(y_j) = max_i u_i - |x_i - y_j|``,
    then ``f(x_i) = min_j f(y_j) + |x_i - y_j|`` (the c-transforms, which make it 1-Lipschitz on the points and
    keep the dual optimal)."""
    import ot

    x, y = real.double().numpy(), fake.double().numpy()
    cost = ot.dist(x, y, metric="euclidean")  # (n, m)
    plan, log = ot.emd(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), cost, log=True)
    f_fake = np.max(log["u"][:, None] - cost, axis=0)  # (m,)
    f_real = np.min(f_fake[None, :] + cost, axis=1)  # (n,)
    return Transport(plan, cost, float((plan * cost).sum()), f_real, f_fake, float(f_real.mean() - f_fake.mean()))


def coupled_pairs(t: Transport, tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs ``(i, j)`` the coupling moves mass between (``plan > tol``) and their masses."""
    i, j = np.nonzero(t.plan > tol)
    return i, j, t.plan[i, j]


def mcshane(real: torch.Tensor, fake: torch.Tensor, t: Transport):
    """The potential's 1-Lipschitz extension ``f(z) = min_k f(p_k) + |z - p_k|`` over the points ``p`` (a function
    of ``(N, 2)`` tensors, float64, differentiable almost everywhere)."""
    pts = torch.cat([real, fake]).double()
    vals = torch.from_numpy(np.concatenate([t.f_real, t.f_fake]))

    def f(z: torch.Tensor) -> torch.Tensor:
        return (vals[None, :] + torch.cdist(z.double(), pts)).min(dim=1).values

    return f


def line_points(real: torch.Tensor, fake: torch.Tensor, t: Transport, n_t: int, seed: int
                ) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """``n_t`` points ``x_s = s x + (1 - s) y`` per coupled pair (``s`` uniform in (0.05, 0.95), seeded), the unit
    direction ``(x - y) / |x - y|`` towards the real end, and each point's weight (its pair's mass / ``n_t``)."""
    i, j, mass = coupled_pairs(t)
    g = torch.Generator().manual_seed(seed)
    s = 0.05 + 0.9 * torch.rand(len(i), n_t, 1, generator=g, dtype=torch.float64)  # (P, n_t, 1)
    x, y = real.double()[i][:, None, :], fake.double()[j][:, None, :]  # (P, 1, 2)
    pts = (s * x + (1 - s) * y).reshape(-1, 2)  # (P n_t, 2)
    d = x - y
    direction = (d / d.norm(dim=-1, keepdim=True).clamp_min(1e-30)).expand(-1, n_t, -1).reshape(-1, 2)
    weights = np.repeat(mass / n_t, n_t)
    return pts, direction, weights


def line_gradients(fn, pts: torch.Tensor, direction: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The norm of ``fn``'s input gradient at ``pts`` ``(N, 2)`` and its cosine with ``direction`` ``(N, 2)``
    (``fn``: a network, fed float32, or a float64 function such as :func:`mcshane`'s)."""
    x = (pts.float() if isinstance(fn, torch.nn.Module) else pts.double()).clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(x).sum(), x)
    g = g.double()
    norm = g.norm(dim=1)
    cos = (g * direction.double()).sum(1) / norm.clamp_min(1e-30)
    return norm.detach().numpy(), cos.detach().numpy()


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float((values * weights).sum() / weights.sum())


def affine_r2(values: np.ndarray, target: np.ndarray) -> float:
    """R^2 of the best affine map ``a f + b`` of a critic's ``values`` onto ``target`` (the exact potential)."""
    v, t = np.asarray(values, float).ravel(), np.asarray(target, float).ravel()
    a = np.stack([v, np.ones_like(v)], axis=1)
    coef, *_ = np.linalg.lstsq(a, t, rcond=None)
    total = ((t - t.mean()) ** 2).sum()
    return float(1 - ((t - a @ coef) ** 2).sum() / total) if total > 0 else 0.0


def critic_values(D: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return torch.cat([D(real), D(fake)]).flatten().double().numpy()


def fixed_rows(s: FixedSetting, quick_width: int, paper_width: int = 512) -> list[Row]:
    """Protocol rows of the fixed-generator critics (the setting of WGAN-GP Fig. 1a, gan_toy.py)."""
    return [
        Row("nets", f"critic MLP 3 hidden ReLU layers x {paper_width}, no batch norm; generator fixed at real data "
            "+ N(0, 1) (FIXED_GENERATOR)", f"{TOY}:20-21, 42-44, 53-58",
            f"critic MLP {s.depth} x {s.width}, no batch norm; generator data + N(0, I) on the critic step's own "
            "real batch (DataPlusNoise)", "" if s.width == paper_width else "CPU cost; --budget paper runs the "
            "paper's value"),
        Row("init", "tflib 'he' uniform; output glorot uniform", f"{TOY}:37; tflib/ops/linear.py:55-66",
            "the same (critic.init = he)", ""),
        Row("batch", "256", f"{TOY}:26", str(s.batch), "" if s.batch == 256 else "quick run"),
        Row("eval_mode", "n/a: no batch norm", f"{TOY}:53-58", "n/a", ""),
    ]

"""Per-layer and whole-critic diagnostics behind WGAN-GP Fig. 1 (Gulrajani et al. 2017, sec. 3).

* :func:`compute_activation_grad_norms` -- Fig. 1b (left): the norm of the gradient of the critic loss
  with respect to the activations of every hidden layer of an :class:`~wgan.nets.mlp.MLP`, read through
  forward hooks on ``MLP.hidden``. Under weight clipping these explode or vanish with depth.
* :func:`compute_weight_share_near` / :func:`compute_weight_histogram` -- Fig. 1b (right): weight clipping
  piles the critic's weights up at the two ends ``+-c`` of the clipping range.
* :func:`compute_lipschitz_estimate` -- the largest input-gradient norm ``max_x ||grad_x D(x)||`` over a set
  of points, a lower bound of the critic's Lipschitz constant. ``(E f(real) - E f(fake)) / L`` is then
  the dual value of the rescaled, (empirically) 1-Lipschitz critic ``f / L`` -- a lower bound of W1 when
  ``L`` is the true constant (Kantorovich-Rubinstein duality; WGAN eq. 2), used in Fig. 1a's study.

Every function returns numbers or NumPy arrays; drawing is left to :mod:`wgan.diagnostics.plots` callers.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..objectives import Objective
from ..penalties import input_gradient_norms


def _hidden_blocks(critic: nn.Module) -> nn.ModuleList:
    hidden = getattr(critic, "hidden", None)
    if not isinstance(hidden, nn.ModuleList) or len(hidden) == 0:
        raise ValueError(f"{type(critic).__name__} has no non-empty `hidden` ModuleList of layer blocks; per-layer "
                         "diagnostics need a wgan.nets.MLP critic with depth >= 1")
    return hidden


def compute_activation_grad_norms(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                                  objective: Objective | None = None) -> np.ndarray:
    """``||dL/dh_l||_F`` for every hidden layer ``l`` of ``critic``; returns ``(depth,)``, first layer first.

    ``L`` is the objective's critic loss (default: the Wasserstein loss ``E f(fake) - E f(real)``, WGAN
    Algorithm 1) on one forward pass over ``real`` and ``fake`` ``(B, D)`` together; ``h_l`` ``(2B, width)`` is
    the output of hidden block ``l`` (after its activation). The penalty term is deliberately left out, so
    the same quantity is compared across constraints (clipping vs gradient penalty).
    """
    blocks = _hidden_blocks(critic)
    objective = objective or Objective("wasserstein")
    acts: list[torch.Tensor] = []

    def keep(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        acts.append(output)

    handles = [b.register_forward_hook(keep) for b in blocks]
    try:
        x = torch.cat([real, fake]).detach()  # (2B, D)
        out = critic(x)  # (2B,)
    finally:
        for h in handles:
            h.remove()
    n = real.shape[0]
    loss = objective.critic_loss(out[:n], out[n:])
    grads = torch.autograd.grad(loss, acts)  # one (2B, width) tensor per hidden block
    return np.array([float(g.detach().double().norm()) for g in grads])


def _weights(module: nn.Module, include_bias: bool) -> torch.Tensor:
    ps = [p.detach().reshape(-1) for name, p in module.named_parameters() if include_bias or name.endswith("weight")]
    if not ps:
        raise ValueError(f"{type(module).__name__} has no weight parameters")
    return torch.cat(ps).double().cpu()


def compute_weight_share_near(module: nn.Module, c: float, rel_tol: float = 0.01, include_bias: bool = False
                              ) -> float:
    """Share of ``module``'s weights with ``| |w| - c | <= rel_tol * c``, i.e. within 1% (default) of ``+-c``.

    Weight matrices only unless ``include_bias`` (clipping clamps biases too, but they are few and the
    paper's histogram is of weights).
    """
    if c <= 0:
        raise ValueError(f"c must be positive, got {c}")
    w = _weights(module, include_bias)
    return float(((w.abs() - c).abs() <= rel_tol * c).double().mean())


def compute_weight_histogram(module: nn.Module, bins: int = 60, limit: float | None = None,
                             include_bias: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of ``module``'s weights over ``[-limit, limit]`` (default: the largest ``|w|``).

    Returns ``(counts (bins,), edges (bins + 1,))``; weights outside the range are not counted.
    """
    w = _weights(module, include_bias).numpy()
    lim = float(np.abs(w).max()) if limit is None else float(limit)
    lim = lim if lim > 0 else 1.0
    counts, edges = np.histogram(w, bins=bins, range=(-lim, lim))
    return counts, edges


def compute_lipschitz_estimate(critic: nn.Module, points: torch.Tensor, chunk: int = 4096) -> float:
    """``max ||grad_x critic(x)||_2`` over ``points`` ``(N, ...)``: a lower bound of the Lipschitz constant."""
    best = 0.0
    for i in range(0, points.shape[0], chunk):
        norms, _ = input_gradient_norms(critic, points[i:i + chunk], create_graph=False)  # (chunk,)
        best = max(best, float(norms.max()))
    return best


def grid_points(extent: tuple[float, float, float, float], n: int = 64) -> torch.Tensor:
    """An ``n x n`` grid over ``extent = (xmin, xmax, ymin, ymax)`` as ``(n * n, 2)`` points."""
    xs = torch.linspace(extent[0], extent[1], n)
    ys = torch.linspace(extent[2], extent[3], n)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)


__all__ = ["compute_activation_grad_norms", "compute_weight_share_near", "compute_weight_histogram",
           "compute_lipschitz_estimate", "grid_points"]

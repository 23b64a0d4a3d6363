"""Gradient penalties, the points they are evaluated at, and weight clipping.

* ``gp``     -- lambda * E[(||grad D(x_hat)||_2 - 1)^2], x_hat = eps x + (1 - eps) x_fake, one
  eps ~ U[0, 1] per sample (Gulrajani et al. 2017, Algorithm 1, lines 6-8).
* ``lp``     -- the one-sided form lambda * E[max(0, ||grad D(x_hat)||_2 - 1)^2] at the same points
  (same paper, appendix; Petzka et al. 2018).
* ``dragan`` -- the two-sided form at points perturbed around the data,
  x_hat = alpha x + (1 - alpha)(x + delta), delta = c * std(x) * U[0, 1] elementwise, alpha ~ U[0, 1] per
  sample, c = 0.5 (Kodali et al. 2017; Fedus et al. 2018, Many Paths to Equilibrium, sec. 2).

Gradients are flattened over every non-batch dimension, so the same code is right for ``(B, D)``
points, ``(B, C, H, W)`` images and ``(B, T, V)`` one-hot sequences: the norm is over the whole sample.

Weight clipping (Arjovsky et al. 2017, Algorithm 1, line 7) is a constraint applied after each critic
optimiser step, never a term of a loss: see ``clip_weights_``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

PENALTIES: dict[str, str] = {
    "none": "no penalty",
    "gp": "two-sided (||grad|| - 1)^2 at real/fake interpolates (WGAN-GP)",
    "lp": "one-sided max(0, ||grad|| - 1)^2 at real/fake interpolates (WGAN-LP)",
    "dragan": "two-sided (||grad|| - 1)^2 at points perturbed around the data (DRAGAN)",
}


def safe_norm(x: torch.Tensor) -> torch.Tensor:
    """Euclidean norm over all non-batch dims, ``(B, ...) -> (B,)``, exact, with a zero (not NaN)
    gradient where ``x`` is exactly zero (d sqrt(s)/ds is infinite at s = 0)."""
    sq = x.reshape(x.shape[0], -1).pow(2).sum(dim=1)
    positive = sq > 0
    # sqrt of a clamped copy keeps the unused branch's gradient finite; where() then selects exactly.
    return torch.where(positive, sq.clamp_min(torch.finfo(sq.dtype).tiny).sqrt(), torch.zeros_like(sq))


def input_gradient_norms(
    critic: Callable[[torch.Tensor], torch.Tensor], points: torch.Tensor, create_graph: bool = True,
    scale: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample ``||grad_x D(x)||_2`` at ``points`` ``(B, ...)``; returns ``(norms (B,), outputs (B,))``.

    With ``create_graph`` the norms can be differentiated w.r.t. the critic's parameters (double
    backward), as a penalty requires.

    ``scale`` is a mixed-precision loss scale (``GradScaler.get_scale()``), PyTorch's documented AMP recipe
    for gradient penalties: differentiate ``scale * D(x)`` so float16 intermediate gradients do not underflow,
    then multiply the input gradient by ``1 / scale`` before the norm, which is taken in float32.
    """
    points = points.detach().requires_grad_(True)
    out = critic(points)
    total = out.sum() if scale == 1.0 else out.float().sum() * scale
    (grad,) = torch.autograd.grad(total, points, create_graph=create_graph)
    if scale != 1.0:
        grad = grad.float() * (1.0 / scale)
    return safe_norm(grad), out


def interpolates(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
    """x_hat = eps real + (1 - eps) fake with one eps ~ U[0, 1] per sample (shape ``(B, 1, ..., 1)``)."""
    if real.shape != fake.shape:
        raise ValueError(f"real and fake batches differ in shape: {tuple(real.shape)} vs {tuple(fake.shape)}")
    eps_shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(eps_shape, generator=generator, device=real.device, dtype=real.dtype)
    return eps * real + (1 - eps) * fake


def dragan_points(real: torch.Tensor, scale: float = 0.5, generator: torch.Generator | None = None
                  ) -> torch.Tensor:
    """x_hat = alpha x + (1 - alpha)(x + delta), delta = scale * std(x) * U[0, 1] elementwise."""
    delta = scale * real.std() * torch.rand(real.shape, generator=generator, device=real.device,
                                            dtype=real.dtype)
    alpha_shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    alpha = torch.rand(alpha_shape, generator=generator, device=real.device, dtype=real.dtype)
    return real + (1 - alpha) * delta


@dataclass(frozen=True)
class Penalty:
    """A gradient penalty: where its points come from and its form. ``weight`` is lambda."""

    name: Literal["gp", "lp", "dragan"]
    weight: float
    target: float = 1.0
    dragan_scale: float = 0.5

    @property
    def one_sided(self) -> bool:
        return self.name == "lp"

    def points(self, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None
               ) -> torch.Tensor:
        if self.name == "dragan":
            return dragan_points(real, self.dragan_scale, generator)
        return interpolates(real, fake, generator)

    def from_norms(self, norms: torch.Tensor) -> torch.Tensor:
        """E[(||g|| - target)^2] (two-sided) or E[max(0, ||g|| - target)^2] (one-sided), unweighted."""
        gap = norms - self.target
        if self.one_sided:
            gap = gap.clamp_min(0)
        return gap.pow(2).mean()

    def __call__(self, critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                 generator: torch.Generator | None = None, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(unweighted penalty, per-sample gradient norms (B,))``; multiply by ``weight``.
        ``scale``: a mixed-precision loss scale, see :func:`input_gradient_norms`."""
        norms, _ = input_gradient_norms(critic, self.points(real, fake, generator), create_graph=True, scale=scale)
        return self.from_norms(norms), norms


def make_penalty(name: str, weight: float, dragan_scale: float = 0.5) -> Penalty | None:
    if name not in PENALTIES:
        raise ValueError(f"unknown penalty {name!r}; choose one of: {', '.join(PENALTIES)}")
    if name == "none":
        return None
    return Penalty(name, float(weight), dragan_scale=dragan_scale)  # type: ignore[arg-type]


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` to [-c, c] in place (WGAN Algorithm 1, line 7: all of the
    critic's parameters, as the authors' code does)."""
    for p in module.parameters():
        p.clamp_(-c, c)


def warn_if_batchnorm(critic: nn.Module, penalty: Penalty | None) -> bool:
    """Warn when a gradient penalty meets batch normalisation in the critic; returns True if it warned.

    The penalty constrains the gradient norm of each sample independently; batch norm makes each output
    depend on the whole batch, so that per-sample gradient is no longer the one penalised (Gulrajani et
    al. 2017, sec. 4, "No critic batch normalization").
    """
    if penalty is None:
        return False
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in critic.modules()):
        warnings.warn(
            "the critic uses batch normalisation together with a gradient penalty, which makes the "
            "penalised per-sample gradient wrong (WGAN-GP sec. 4); use layer norm instead "
            "(critic.norm = \"layer\")",
            UserWarning,
            stacklevel=2,
        )
        return True
    return False

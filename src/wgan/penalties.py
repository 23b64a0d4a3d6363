"""Gradient penalties, the points they are evaluated at, and weight clipping.

* ``gp``     -- lambda * E[(||grad D(x_hat)||_2 - 1)^2], x_hat = eps x + (1 - eps) x_fake, one
  eps ~ U[0, 1] per sample (Gulrajani et al. 2017, Algorithm 1, lines 6-8).
* ``lp``     -- the one-sided form lambda * E[max(0, ||grad D(x_hat)||_2 - 1)^2] at the same points
  (same paper, appendix; Petzka et al. 2018).
* ``dragan`` -- the two-sided form at points perturbed around the data,
  x_hat = alpha x + (1 - alpha)(x + delta), delta = c * std(x) * U[0, 1] elementwise, alpha ~ U[0, 1] per
  sample, c = 0.5 (Kodali et al. 2017; Fedus et al. 2018, Many Paths to Equilibrium, sec. 2).
* ``r1`` / ``r2`` -- the zero-centred gamma / 2 * E[||grad D(x)||_2^2] at the real points (R1), resp. the
  generated points (R2) (Mescheder, Geiger, Nowozin 2018, "Which Training Methods for GANs do actually
  Converge?", eq. 9 and 10). They draw no random numbers. ``objective.penalty_weight`` is gamma: the term added
  to the critic's loss is ``weight * from_norms = gamma * (1/2) E||g||^2`` (:attr:`PenaltyKind.factor` = 1/2,
  :attr:`PenaltyKind.target` = 0), so a weight of 10 is the paper's gamma = 10, not lambda = 10 of WGAN-GP.

Each penalty is a :class:`PenaltyKind` registered once (:func:`register`, :data:`REGISTRY`): its name and
description (``wgan list``, :data:`PENALTIES`), the random numbers it draws (:meth:`PenaltyKind.draws`, in a
fixed order), where its points lie (:meth:`PenaltyKind.points`, for one model's batch or an ensemble's stacked
batches), its form (two- or one-sided) and the paths that can run it (:data:`PATHS`: eager, compiled,
ensemble). The eager step, the compiled step and the ensemble all call these through :class:`Penalty`; a path
a penalty does not list refuses it by name (:func:`require`).

Gradients are flattened over every non-batch dimension, so the same code is right for ``(B, D)``
points, ``(B, C, H, W)`` images and ``(B, T, V)`` one-hot sequences: the norm is over the whole sample.

Weight clipping (Arjovsky et al. 2017, Algorithm 1, line 7) is a constraint applied after each critic
optimiser step, never a term of a loss: see ``clip_weights_``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from .errors import ConfigError


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


# ---------------------------------------------------------------------------------------------- registry
# The paths that run a penalty: each calls the penalty's own draws and points (never a re-derivation of them).
# A penalty lists the paths it can run on; any other refuses it by name (:func:`require`). value: (what the
# path is, how to train without it).
PATHS: dict[str, tuple[str, str]] = {
    "eager": ("the eager training step (wgan.training.steps)", ""),
    "compiled": ("the compiled training step (train.compile = true)", "set train.compile = false"),
    "ensemble": ("the vectorised ensemble (wgan.ensemble)", "train such runs with wgan.Trainer"),
}


class PenaltyKind:
    """One penalty's definition, registered once with :func:`register`: its name and one-line description
    (``wgan list``, error messages), its random draws, where its points lie, its form and the paths that can
    run it. Stateless: the configured weight and scale live in :class:`Penalty`, which every path calls.

    ``members``: ``False`` for one model's batch ``(B, ...)``; ``True`` for an ensemble's stacked batches
    ``(S, B, ...)`` (every per-sample draw gets one value per member and sample; every statistic of the
    batch, e.g. dragan's std, is taken per member).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    where: ClassVar[str] = "at the penalty's points"  # where the penalised gradient norms are taken (plots)
    one_sided: ClassVar[bool] = False  # max(0, ||g|| - target)^2 instead of (||g|| - target)^2
    # the unweighted penalty is factor * E[(||g|| - target)^2]: 1 and 1 for the WGAN-GP family (the norm pulled
    # to 1), 0 and 1/2 for the zero-centred R1 / R2 (gamma / 2 * E||g||^2, with objective.penalty_weight = gamma)
    target: ClassVar[float] = 1.0
    factor: ClassVar[float] = 1.0
    # the points are eps * real + (1 - eps) * fake with eps = draws[0] (one per sample): the ensemble's fused
    # maths then interpolates the critic's hidden pre-activations instead of building the points
    interpolates: ClassVar[bool] = False
    paths: ClassVar[frozenset[str]] = frozenset(PATHS)

    @staticmethod
    def draws(real: torch.Tensor, generator: torch.Generator | None, members: bool = False
              ) -> tuple[torch.Tensor, ...]:
        """The penalty's random numbers for the batch ``real``, drawn from ``generator`` in a fixed order."""
        raise NotImplementedError

    @staticmethod
    def points(penalty: Penalty | None, real: torch.Tensor, fake: torch.Tensor, draws: tuple[torch.Tensor, ...],
               members: bool = False) -> torch.Tensor:
        """The points ``x_hat`` (the shape of ``real``) where the input gradient is penalised."""
        raise NotImplementedError


REGISTRY: dict[str, type[PenaltyKind]] = {}


def register(kind: type[PenaltyKind]) -> type[PenaltyKind]:
    """Class decorator: add a :class:`PenaltyKind` to :data:`REGISTRY` (and so to :data:`PENALTIES`)."""
    name = getattr(kind, "name", "")
    if not name or name == "none" or name in REGISTRY:
        raise ValueError(f"cannot register penalty {name!r}: the name is empty, 'none' or taken")
    if not getattr(kind, "description", ""):
        raise ValueError(f"penalty {name!r} needs a one-line description")
    if "eager" not in kind.paths or not kind.paths <= set(PATHS):
        raise ValueError(f"penalty {name!r}: paths must include 'eager' and be among {', '.join(PATHS)}")
    REGISTRY[name] = kind
    return kind


class _PenaltyTable(Mapping[str, str]):
    """``name -> description`` of ``"none"`` and every registered penalty, read live from :data:`REGISTRY`."""

    def __getitem__(self, name: str) -> str:
        return "no penalty" if name == "none" else REGISTRY[name].description

    def __iter__(self) -> Iterator[str]:
        return iter(["none", *REGISTRY])

    def __len__(self) -> int:
        return 1 + len(REGISTRY)


PENALTIES: Mapping[str, str] = _PenaltyTable()


def require(name: str | None, path: str) -> None:
    """Raise a ConfigError naming the penalty ``name`` if it cannot run on ``path`` (a key of :data:`PATHS`)."""
    if name in (None, "none") or name not in REGISTRY or path in REGISTRY[name].paths:
        return
    what, fix = PATHS[path]
    can = [k for k, v in REGISTRY.items() if path in v.paths]
    raise ConfigError(f"penalty {name!r} cannot run on {what}; penalties that can: {', '.join(can) or 'none'}"
                      + (f" (or {fix})" if fix else ""))


def _one_per_sample(real: torch.Tensor, members: bool) -> tuple[int, ...]:
    """The shape of a per-sample draw: ``(B, 1, ..., 1)``, or ``(S, B, 1, ..., 1)`` for stacked members."""
    k = 2 if members else 1
    return tuple(real.shape[:k]) + (1,) * (real.dim() - k)


def _uniform(shape: tuple[int, ...], real: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)


class _Interpolates(PenaltyKind):
    """Points x_hat = eps real + (1 - eps) fake, one eps ~ U[0, 1] per sample (WGAN-GP Algorithm 1, line 6)."""

    interpolates = True

    @staticmethod
    def draws(real: torch.Tensor, generator: torch.Generator | None, members: bool = False
              ) -> tuple[torch.Tensor, ...]:
        return (_uniform(_one_per_sample(real, members), real, generator),)

    @staticmethod
    def points(penalty: Penalty | None, real: torch.Tensor, fake: torch.Tensor, draws: tuple[torch.Tensor, ...],
               members: bool = False) -> torch.Tensor:
        if real.shape != fake.shape:
            raise ValueError(f"real and fake batches differ in shape: {tuple(real.shape)} vs {tuple(fake.shape)}")
        (eps,) = draws
        return eps * real + (1 - eps) * fake


@register
class GradientPenalty(_Interpolates):
    name = "gp"
    description = "two-sided (||grad|| - 1)^2 at real/fake interpolates (WGAN-GP)"
    where = "at real-fake interpolates (the penalty's points)"


@register
class LipschitzPenalty(_Interpolates):
    name = "lp"
    description = "one-sided max(0, ||grad|| - 1)^2 at real/fake interpolates (WGAN-LP)"
    where = "at real-fake interpolates (the penalty's points)"
    one_sided = True


@register
class DraganPenalty(PenaltyKind):
    """Points x_hat = x + (1 - alpha) delta, delta = scale * std(x) * U[0, 1] elementwise, alpha ~ U[0, 1] per
    sample: the real batch perturbed, the fakes unused (Kodali et al. 2017)."""

    name = "dragan"
    description = "two-sided (||grad|| - 1)^2 at points perturbed around the data (DRAGAN)"
    where = "around the data (the DRAGAN penalty's points)"

    @staticmethod
    def draws(real: torch.Tensor, generator: torch.Generator | None, members: bool = False
              ) -> tuple[torch.Tensor, ...]:
        u = _uniform(tuple(real.shape), real, generator)  # the delta-uniforms first, then alpha
        return u, _uniform(_one_per_sample(real, members), real, generator)

    @staticmethod
    def points(penalty: Penalty | None, real: torch.Tensor, fake: torch.Tensor | None,
               draws: tuple[torch.Tensor, ...], members: bool = False) -> torch.Tensor:
        u, alpha = draws
        scale = penalty.dragan_scale if penalty is not None else 0.5
        if members:  # each member's own std(x): (S, 1, ..., 1)
            std = real.reshape(real.shape[0], -1).std(dim=1).view(-1, *([1] * (real.dim() - 1)))
        else:
            std = real.std()
        return real + (1 - alpha) * (scale * std * u)


class _ZeroCentred(PenaltyKind):
    """gamma / 2 * E||grad D(x)||^2 at one batch's own points (Mescheder et al. 2018, eq. 9-10): no draws, no
    interpolation, the norm pulled to 0."""

    target = 0.0
    factor = 0.5

    @staticmethod
    def draws(real: torch.Tensor, generator: torch.Generator | None, members: bool = False
              ) -> tuple[torch.Tensor, ...]:
        return ()


@register
class R1Penalty(_ZeroCentred):
    name = "r1"
    description = "zero-centred gamma/2 ||grad||^2 at the real points (R1, Mescheder et al. 2018)"
    where = "at the real points (the R1 penalty's points)"

    @staticmethod
    def points(penalty: Penalty | None, real: torch.Tensor, fake: torch.Tensor | None,
               draws: tuple[torch.Tensor, ...], members: bool = False) -> torch.Tensor:
        return real


@register
class R2Penalty(_ZeroCentred):
    name = "r2"
    description = "zero-centred gamma/2 ||grad||^2 at the generated points (R2, Mescheder et al. 2018)"
    where = "at the generated points (the R2 penalty's points)"

    @staticmethod
    def points(penalty: Penalty | None, real: torch.Tensor, fake: torch.Tensor,
               draws: tuple[torch.Tensor, ...], members: bool = False) -> torch.Tensor:
        return fake


def interpolates(real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
    """x_hat = eps real + (1 - eps) fake with one eps ~ U[0, 1] per sample (shape ``(B, 1, ..., 1)``)."""
    if real.shape != fake.shape:
        raise ValueError(f"real and fake batches differ in shape: {tuple(real.shape)} vs {tuple(fake.shape)}")
    return _Interpolates.points(None, real, fake, _Interpolates.draws(real, generator))


def dragan_points(real: torch.Tensor, scale: float = 0.5, generator: torch.Generator | None = None
                  ) -> torch.Tensor:
    """x_hat = alpha x + (1 - alpha)(x + delta), delta = scale * std(x) * U[0, 1] elementwise."""
    return DraganPenalty.points(Penalty("dragan", 0.0, dragan_scale=scale), real, None,
                                DraganPenalty.draws(real, generator))


@dataclass(frozen=True)
class Penalty:
    """A configured gradient penalty: a registered kind (:data:`REGISTRY`) with its weight (lambda; gamma for
    r1 / r2). The eager step calls it; the compiled step and the ensemble call its :meth:`draws` /
    :meth:`points` (and their ``batched_`` forms) and :meth:`from_norms`, so a penalty's points are written once,
    in its kind. ``target``: the norm the penalty pulls to; None takes the kind's (:attr:`PenaltyKind.target`)."""

    name: str
    weight: float
    target: float | None = None
    dragan_scale: float = 0.5

    def __post_init__(self) -> None:
        if self.name not in REGISTRY:
            raise ValueError(f"unknown penalty {self.name!r}; choose one of: {', '.join(PENALTIES)}")

    @property
    def kind(self) -> type[PenaltyKind]:
        return REGISTRY[self.name]

    @property
    def one_sided(self) -> bool:
        return self.kind.one_sided

    def require(self, path: str) -> None:
        """A ConfigError naming this penalty if ``path`` (a key of :data:`PATHS`) cannot run it."""
        require(self.name, path)

    def draws(self, real: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, ...]:
        """The random numbers for one model's batch ``real`` ``(B, ...)``."""
        return self.kind.draws(real, generator)

    def points(self, real: torch.Tensor, fake: torch.Tensor, draws: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """x_hat ``(B, ...)`` from the batch and :meth:`draws`."""
        return self.kind.points(self, real, fake, draws)

    def batched_draws(self, real: torch.Tensor, generator: torch.Generator | None = None
                      ) -> tuple[torch.Tensor, ...]:
        """:meth:`draws` for stacked members' batches ``(S, B, ...)`` in one call per draw."""
        return self.kind.draws(real, generator, members=True)

    def batched_points(self, real: torch.Tensor, fake: torch.Tensor, draws: tuple[torch.Tensor, ...]
                       ) -> torch.Tensor:
        """:meth:`points` for stacked members ``(S, B, ...)``: member ``s`` gets the points of its own batch."""
        return self.kind.points(self, real, fake, draws, members=True)

    def from_norms(self, norms: torch.Tensor) -> torch.Tensor:
        """factor * E[(||g|| - target)^2] (two-sided) or factor * E[max(0, ||g|| - target)^2] (one-sided),
        unweighted; factor and the default target are the kind's (1 and 1 for gp / lp / dragan, 1/2 and 0 for
        r1 / r2)."""
        gap = norms - (self.kind.target if self.target is None else self.target)
        if self.one_sided:
            gap = gap.clamp_min(0)
        sq = gap.pow(2).mean()
        return sq if self.kind.factor == 1.0 else self.kind.factor * sq

    def __call__(self, critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                 generator: torch.Generator | None = None, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(unweighted penalty, per-sample gradient norms (B,))``; multiply by ``weight``.
        ``scale``: a mixed-precision loss scale, see :func:`input_gradient_norms`."""
        x_hat = self.points(real, fake, self.draws(real, generator))
        norms, _ = input_gradient_norms(critic, x_hat, create_graph=True, scale=scale)
        return self.from_norms(norms), norms


def make_penalty(name: str, weight: float, dragan_scale: float = 0.5) -> Penalty | None:
    if name not in PENALTIES:
        raise ValueError(f"unknown penalty {name!r}; choose one of: {', '.join(PENALTIES)}")
    if name == "none":
        return None
    return Penalty(name, float(weight), dragan_scale=dragan_scale)


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` to [-c, c] in place (WGAN Algorithm 1, line 7: all of the
    critic's parameters, as the authors' code does)."""
    for p in module.parameters():
        p.clamp_(-c, c)


def warn_if_batchnorm(critic: nn.Module, penalty: Penalty | None) -> bool:
    """Warn when batch normalisation in the critic meets a gradient penalty or spectral normalisation; returns
    True if it warned.

    The penalty constrains the gradient norm of each sample independently; batch norm makes each output
    depend on the whole batch, so that per-sample gradient is no longer the one penalised (Gulrajani et
    al. 2017, sec. 4, "No critic batch normalization"). Spectral normalisation (wgan.nets.spectral) bounds each
    weight matrix, but batch norm divides by the batch's standard deviation, which nothing bounds, so the critic
    is no longer Lipschitz-bounded by its layers.
    """
    from .nets.spectral import spectral_layers

    if not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in critic.modules()):
        return False
    reasons = []
    if penalty is not None:
        reasons.append("a gradient penalty, which makes the penalised per-sample gradient wrong (WGAN-GP sec. 4)")
    if spectral_layers(critic):
        reasons.append("spectral normalisation, whose bound on each layer the division by the batch's standard "
                       "deviation undoes")
    if not reasons:
        return False
    warnings.warn(f"the critic uses batch normalisation together with {' and with '.join(reasons)}; use layer norm "
                  "instead (critic.norm = \"layer\")", UserWarning, stacklevel=2)
    return True

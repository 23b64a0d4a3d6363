"""Differentiable augmentation of the critic's inputs (``train.augment``): DiffAugment, Zhao, Liu, Lin, Zhu and Han
2020, "Differentiable Augmentation for Data-Efficient GAN Training".

The critic is trained on ``D(T(x))`` for real images and ``D(T(G(z)))`` for generated ones, and the generator
against ``D(T(G(z)))``, where ``T`` is a random transformation made of differentiable tensor operations, so the
generator's gradient flows through it. On a few thousand images this keeps the critic from memorising the
training set (the overfitting WGAN-GP sec. 5.6 shows), without the generator learning the augmentation: it never
sees ``T`` in its data, only through the critic, and the same ``T`` acts on both batches.

The three policies of the paper, written here from its description:

* ``color`` -- per image: brightness ``+ b``, ``b ~ U[-0.5, 0.5)``; saturation ``m_c + s (x - m_c)``,
  ``s ~ U[0, 2)``, ``m_c`` the pixel's mean over the channels (an identity on one-channel images); contrast
  ``m + c (x - m)``, ``c ~ U[0.5, 1.5)``, ``m`` the image's mean over all its values; in that order. The
  images are in the data's units ([-1, 1]), as the authors' are.
* ``translation`` -- per image: shift by ``(dy, dx)`` whole pixels, each uniform over ``[-r, r]`` with ``r`` 1/8
  of the image's height (width) rounded half up (28 -> 4, 32 -> 4); what moves out is lost, what moves in is 0.
* ``cutout`` -- per image: zero a square of half the image's size (rounded half up: 28 -> 14) whose centre is a
  pixel drawn uniformly over the image; the square is clipped at the border (DeVries and Taylor 2017's cutout,
  which DiffAugment uses), so the zeroed share is 1/4 for a centre far enough inside and less near a border.

``train.augment`` lists policies separated by commas (``"translation,cutout,color"``); they apply in the order
written (the authors' order is ``color,translation,cutout``). ``""`` (the default) is off. Real and generated
batches get independent draws (each image its own), from the run's ``augment`` stream
(:class:`wgan.training.state.Streams`, saved in checkpoints, so a resumed run is bit-identical; a stream of its own
so that switching augmentation on changes no other draw of the run: the same data batches, noise and penalty
points).

**The penalty's points.** A gradient penalty is taken where the critic is used, on the augmented batches: WGAN-GP
interpolates ``eps T(x) + (1 - eps) T(G(z))``, R1 is at ``T(x)``, R2 at ``T(G(z))``, DRAGAN perturbs ``T(x)``. The
reason: with augmentation the critic compares the distributions of ``T(x)`` and ``T(G(z))`` -- its loss never
evaluates it anywhere else -- and the WGAN-GP argument (the optimal critic has gradient norm 1 on the lines between
coupled points of the two distributions it compares, WGAN-GP sec. 4 / Proposition 1) is about those two
distributions; a penalty on lines between un-augmented images would constrain the critic where its loss does not
look. This is also what the DiffAugment authors do: the discriminator only ever sees ``T(.)``, its regulariser
included.

Every training path runs it or refuses it by name: the eager steps (:mod:`wgan.training.steps`) and the compiled
steps (:mod:`wgan.training.compiled`: the draws are made eagerly from the stream, :meth:`Augment.apply` runs inside
the compiled program) run it; the vectorised ensemble (:mod:`wgan.ensemble`, points only) refuses it
(``unsupported_settings``); point and text runs refuse it (:func:`check_kind`). Feature matching
(``tricks.feature_matching``) compares the critic's features of ``T(x)`` and ``T(G(z))``; instance noise is added
before ``T``. The held-out measurements (``loss/critic_val``, ``loss/critic_trainset``) and every evaluation score the
critic on un-augmented images.

A policy is one registered function ``apply(x, draws) -> x`` with the function that makes its draws
(:func:`policy`, :data:`POLICIES`): ``wgan list``, the errors' lists of valid names and the tests read the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..errors import ConfigError
from ..registry import Registry

Draws = tuple[torch.Tensor, ...]
Apply = Callable[[torch.Tensor, Draws], torch.Tensor]


@dataclass(frozen=True)
class Policy:
    """One augmentation: ``draws(x, generator)`` makes its random numbers for the batch ``x`` ``(B, C, H, W)`` (a
    fixed order, from ``generator``), ``apply(x, draws)`` transforms ``x`` with them (differentiably in ``x``)."""

    description: str
    draws: Callable[[torch.Tensor, torch.Generator | None], Draws]
    apply: Apply


POLICIES: Registry[Policy] = Registry("train.augment policy")


def policy(name: str, description: str, draws: Callable[[torch.Tensor, torch.Generator | None], Draws]
           ) -> Callable[[Apply], Apply]:
    """Decorator: register ``apply`` under ``name`` with its one-line ``description`` and its ``draws``."""
    return POLICIES.register(name, lambda apply: Policy(description, draws, apply))


def _uniform(x: torch.Tensor, generator: torch.Generator | None, n: int = 1) -> torch.Tensor:
    """``(B, n)`` float32 uniforms on [0, 1) on ``x``'s device (float32 whatever ``x``'s dtype: the same numbers
    under mixed precision)."""
    return torch.rand((x.shape[0], n), generator=generator, device=x.device)


def _integers(x: torch.Tensor, low: int, high: int, generator: torch.Generator | None) -> torch.Tensor:
    """``(B,)`` integers uniform on ``[low, high]``."""
    return torch.randint(low, high + 1, (x.shape[0],), generator=generator, device=x.device)


def half_up(size: int, fraction: float) -> int:
    """``size * fraction`` rounded half up: the translation radius (1/8) and the cutout side (1/2)."""
    return int(size * fraction + 0.5)


# ---------------------------------------------------------------------------------------------- the policies
def _color_draws(x: torch.Tensor, generator: torch.Generator | None) -> Draws:
    return (_uniform(x, generator, 3),)  # (B, 3): brightness, saturation, contrast, each U[0, 1)


@policy("color", "per image: brightness + U[-0.5, 0.5), saturation x U[0, 2), contrast x U[0.5, 1.5)", _color_draws)
def color(x: torch.Tensor, draws: Draws) -> torch.Tensor:
    (u,) = draws
    u = u.to(x.dtype).view(-1, 3, 1, 1, 1)  # (B, 3, 1, 1, 1)
    x = x + (u[:, 0] - 0.5)  # brightness
    m = x.mean(dim=1, keepdim=True)  # (B, 1, H, W): each pixel's mean over the channels
    x = m + (x - m) * (2 * u[:, 1])  # saturation
    m = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1): the image's mean
    return m + (x - m) * (u[:, 2] + 0.5)  # contrast


def _translation_draws(x: torch.Tensor, generator: torch.Generator | None) -> Draws:
    ry, rx = half_up(x.shape[-2], 1 / 8), half_up(x.shape[-1], 1 / 8)
    return _integers(x, -ry, ry, generator), _integers(x, -rx, rx, generator)  # dy (B,), dx (B,)


@policy("translation", "per image: shift by up to 1/8 of the image's size in each direction, zeros moved in",
        _translation_draws)
def translation(x: torch.Tensor, draws: Draws) -> torch.Tensor:
    """``out[b, :, i, j] = x[b, :, i - dy[b], j - dx[b]]`` where that pixel exists, else 0."""
    dy, dx = draws
    B, C, H, W = x.shape
    rows = torch.arange(H, device=x.device) - dy.view(-1, 1)  # (B, H): the source row of each output row
    cols = torch.arange(W, device=x.device) - dx.view(-1, 1)  # (B, W)
    inside = (((rows >= 0) & (rows < H)).view(B, 1, H, 1) & ((cols >= 0) & (cols < W)).view(B, 1, 1, W))
    out = x.gather(2, rows.clamp(0, H - 1).view(B, 1, H, 1).expand(B, C, H, W))
    out = out.gather(3, cols.clamp(0, W - 1).view(B, 1, 1, W).expand(B, C, H, W))
    return out * inside.to(x.dtype)


def _cutout_draws(x: torch.Tensor, generator: torch.Generator | None) -> Draws:
    return _integers(x, 0, x.shape[-2] - 1, generator), _integers(x, 0, x.shape[-1] - 1, generator)  # cy, cx (B,)


def cutout_mask(shape: torch.Size | tuple[int, ...], cy: torch.Tensor, cx: torch.Tensor) -> torch.Tensor:
    """``(B, 1, H, W)``: 0 on the square of side ``half_up(H, 1/2)`` x ``half_up(W, 1/2)`` whose centre pixel is
    ``(cy, cx)`` (rows ``cy - h // 2`` to ``cy - h // 2 + h - 1``), clipped at the border; 1 elsewhere."""
    B, _, H, W = shape
    h, w = half_up(H, 1 / 2), half_up(W, 1 / 2)
    rows = torch.arange(H, device=cy.device) - (cy.view(-1, 1) - h // 2)  # (B, H): the row's place in the square
    cols = torch.arange(W, device=cx.device) - (cx.view(-1, 1) - w // 2)
    hole = ((rows >= 0) & (rows < h)).view(B, 1, H, 1) & ((cols >= 0) & (cols < w)).view(B, 1, 1, W)
    return ~hole


@policy("cutout", "per image: zero a square of half the image's size at a random centre (clipped at the border)",
        _cutout_draws)
def cutout(x: torch.Tensor, draws: Draws) -> torch.Tensor:
    cy, cx = draws
    return x * cutout_mask(x.shape, cy, cx).to(x.dtype)


# ---------------------------------------------------------------------------------------------- configured
def parse(text: str) -> tuple[str, ...]:
    """The policy names of ``train.augment`` (comma-separated; ``""`` = none). An unknown or repeated name is a
    one-line ConfigError listing the valid ones."""
    names = tuple(n.strip() for n in text.split(",")) if text.strip() else ()
    for i, name in enumerate(names):
        if not name:
            raise ConfigError(f"train.augment = {text!r} has an empty policy name; write policies separated by "
                              f"commas, e.g. \"translation,cutout,color\" (valid: {', '.join(POLICIES)})")
        POLICIES.lookup(name)  # unknown train.augment policy 'x' (did you mean ...?); valid: ...
        if name in names[:i]:
            raise ConfigError(f"train.augment = {text!r} names {name!r} twice; name each policy once")
    return names


def check_kind(text: str, kind: str, data: str) -> None:
    """A ConfigError when ``train.augment`` is set for data of a kind other than images."""
    if parse(text) and kind != "images":
        raise ConfigError(f"train.augment applies to image runs; data {data!r} is {kind} data: set train.augment = "
                          "\"\" (DiffAugment's colour, translation and cutout act on (C, H, W) images)")


@dataclass(frozen=True)
class Augment:
    """The configured augmentation ``T``: the policies of ``train.augment`` in their order. Every path makes the
    draws with :meth:`draws` (eagerly, from the run's stream) and applies them with :meth:`apply` (eager steps, and
    inside the compiled programs)."""

    names: tuple[str, ...]

    def draws(self, x: torch.Tensor, generator: torch.Generator | None = None) -> tuple[Draws, ...]:
        """Each policy's draws for the batch ``x`` ``(B, C, H, W)``, in the policies' order."""
        if x.dim() != 4:
            raise ValueError(f"train.augment acts on image batches (B, C, H, W), got shape {tuple(x.shape)}")
        return tuple(POLICIES[n].draws(x, generator) for n in self.names)

    def apply(self, x: torch.Tensor, draws: tuple[Draws, ...]) -> torch.Tensor:
        """``T(x)`` with the given draws (differentiable in ``x``); the shape and dtype of ``x``."""
        for name, d in zip(self.names, draws, strict=True):
            x = POLICIES[name].apply(x, d)
        return x

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.apply(x, self.draws(x, generator))


def make_augment(text: str) -> Augment | None:
    """The :class:`Augment` of ``train.augment``, or None when it is off (``""``)."""
    names = parse(text)
    return Augment(names) if names else None


__all__ = ["POLICIES", "Augment", "Policy", "check_kind", "color", "cutout", "cutout_mask", "half_up",
           "make_augment", "parse", "policy", "translation"]

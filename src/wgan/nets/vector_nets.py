"""The network families on vectors of any shape: ``mlp`` (generator and critic; on images it is reshaped by
:func:`wgan.nets.image_nets.adapt_mlp`) and ``data-plus-noise``, the parameter-free generator of WGAN-GP
Fig. 1a; each registered in :mod:`wgan.nets.families`."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .families import CRITICS, GENERATORS, VECTOR_NORMS, Family
from .mlp import ACTIVATIONS, MLP


class DataPlusNoise(nn.Module):
    """The "fixed generator" of WGAN-GP Fig. 1a: G(z) = x + z with x a data sample and z ~ N(0, std^2 I).

    It has no parameters, so the training loop trains only the critic. In the critic step the loop perturbs
    that step's own real batch (:meth:`perturb`), as the authors' code does (gan_toy.py:42-44, 60-61:
    ``real_data + N(0, 1)`` on the same placeholder), so the penalty's interpolates lie between each real
    point and its own perturbation. Called as ``G(z)`` (evaluation, samples) it draws its data from
    ``sample_real(n)``, a fresh ``(n, D)`` batch the loop binds to its data sampler and a seeded stream.
    """

    def __init__(self, dim: int, std: float = 1.0) -> None:
        super().__init__()
        self.dim, self.std = dim, std
        self.latent_dim = dim  # z has the data's shape
        self.sample_real: Callable[[int], torch.Tensor] | None = None

    def perturb(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:  # (B, D), (B, D) -> (B, D)
        """The fake batch of a critic step: the step's real batch ``x`` plus ``std * z``."""
        return x + self.std * z.to(x)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (B, D) -> (B, D)
        if self.sample_real is None:
            raise RuntimeError("DataPlusNoise.sample_real is not bound to a data sampler")
        return self.sample_real(z.shape[0]).to(z) + self.std * z


def _flat(shape: int | tuple[int, ...]) -> int:
    return shape if isinstance(shape, int) else math.prod(shape)


def _shape(shape: int | tuple[int, ...]) -> tuple[int, ...]:
    return shape if isinstance(shape, tuple) else (shape,)


def build_mlp_generator(cfg, shape: int | tuple[int, ...]) -> nn.Module:
    """The MLP generator; image samples are reshaped to ``(B, C, H, W)`` after a tanh."""
    from .image_nets import adapt_mlp  # (image_nets builds on the MLP: imported when used)

    mlp = MLP(cfg.latent_dim, _flat(shape), cfg.depth, cfg.width, cfg.activation, cfg.norm, init=cfg.init)
    return adapt_mlp(mlp, _shape(shape), "generator")


def build_mlp_critic(cfg, shape: int | tuple[int, ...]) -> nn.Module:
    """The MLP critic; image samples are flattened first."""
    from .image_nets import adapt_mlp

    mlp = MLP(_flat(shape), 1, cfg.depth, cfg.width, cfg.activation, cfg.norm, squeeze=True, init=cfg.init)
    return adapt_mlp(mlp, _shape(shape), "critic", getattr(cfg, "n_classes", 0))


GENERATORS.add("mlp", Family("multilayer perceptron (depth, width, activation, norm)", build_mlp_generator,
                             VECTOR_NORMS, tuple(ACTIVATIONS)))
GENERATORS.add("data-plus-noise", Family(
    "fixed generator G(z) = real + noise_std * N(0, I), for critic studies (WGAN-GP Fig. 1a)",
    lambda cfg, shape: DataPlusNoise(_flat(shape), cfg.noise_std), VECTOR_NORMS, tuple(ACTIVATIONS)))
CRITICS.add("mlp", Family("multilayer perceptron (depth, width, activation, norm); output (B,)", build_mlp_critic,
                          VECTOR_NORMS, tuple(ACTIVATIONS)))

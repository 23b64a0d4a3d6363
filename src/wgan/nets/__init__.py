"""Network families, registered by name. Each builder takes the data dimension and its config section."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .conv1d import build_sequence_critic, build_sequence_generator
from .image_nets import IMAGE_CRITICS, IMAGE_GENERATORS, adapt_mlp, build_image_critic, build_image_generator
from .mlp import MLP


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


# Training holds each parameter about four times: the weight, its gradient and two Adam moments (float32).
TRAINING_COPIES = 4


def _checked(section: str, cfg, build: Callable[[], nn.Module]) -> nn.Module:
    """``build()`` after a dry run on the meta device (no memory): a configuration the family rejects
    becomes a one-line ConfigError naming the section, and networks too large for the machine's memory
    are refused with their size before a byte is allocated (wgan.limits)."""
    from ..errors import ConfigError
    from ..limits import need_memory

    try:
        with torch.device("meta"):
            probe = build()
    except ValueError as e:  # the family's own check of depth, width, image size, norm, ...
        raise ConfigError(str(e) if f"{section}." in str(e) else f"{section}.net = {cfg.net!r}: {e}") from None
    except (RuntimeError, NotImplementedError, TypeError):  # an op without a meta kernel: no estimate
        return build()
    n = sum(p.numel() for p in probe.parameters()) + sum(b.numel() for b in probe.buffers())
    need_memory(TRAINING_COPIES * 4 * n, f"the {section} ({cfg.net}, {section}.width = {cfg.width}, "
                f"{section}.depth = {cfg.depth}: {n:.3g} parameters, held {TRAINING_COPIES}x in training)",
                f"lower {section}.width or {section}.depth")
    return build()


def build_generator(cfg, shape: int | tuple[int, ...]) -> nn.Module:
    """The generator for data samples of ``shape`` (an int for vectors); output ``(B, *shape)``.
    Configurations the family rejects or that do not fit in memory raise ConfigError (:func:`_checked`)."""
    return _checked("generator", cfg, lambda: _build_generator(cfg, shape))


def build_critic(cfg, shape: int | tuple[int, ...]) -> nn.Module:
    """The critic for data samples of ``shape``; output ``(B,)``. Checked like :func:`build_generator`."""
    return _checked("critic", cfg, lambda: _build_critic(cfg, shape))


def _build_generator(cfg, shape: int | tuple[int, ...]) -> nn.Module:
    data_dim = _flat(shape)
    if cfg.net == "mlp":  # images: reshaped to (B, C, H, W) after a tanh
        mlp = MLP(cfg.latent_dim, data_dim, cfg.depth, cfg.width, cfg.activation, cfg.norm, init=cfg.init)
        return adapt_mlp(mlp, shape if isinstance(shape, tuple) else (shape,), "generator")
    if cfg.net in IMAGE_GENERATORS:
        return build_image_generator(cfg, shape)
    if cfg.net == "data-plus-noise":
        return DataPlusNoise(data_dim, cfg.noise_std)
    if cfg.net == "conv1d":
        return build_sequence_generator(cfg, shape)
    raise ValueError(f"unknown generator net {cfg.net!r}; choose one of: {', '.join(GENERATORS)}")


def _build_critic(cfg, shape: int | tuple[int, ...]) -> nn.Module:
    data_dim = _flat(shape)
    if cfg.net == "mlp":  # images: flattened first
        mlp = MLP(data_dim, 1, cfg.depth, cfg.width, cfg.activation, cfg.norm, squeeze=True, init=cfg.init)
        return adapt_mlp(mlp, shape if isinstance(shape, tuple) else (shape,), "critic", getattr(cfg, "n_classes", 0))
    if cfg.net in IMAGE_CRITICS:
        return build_image_critic(cfg, shape)
    if cfg.net == "conv1d":
        return build_sequence_critic(cfg, shape)
    raise ValueError(f"unknown critic net {cfg.net!r}; choose one of: {', '.join(CRITICS)}")


_PER_SAMPLE = (nn.Linear, nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.ELU, nn.Softplus, nn.LayerNorm, nn.Identity,
               nn.Sequential, nn.ModuleList, MLP,
               # convolutions, pooling, resizing and lookups act on each sample alone
               nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.AvgPool1d, nn.AvgPool2d,
               nn.Upsample, nn.Flatten, nn.Unflatten, nn.Embedding, nn.Sigmoid)


def is_per_sample(module: nn.Module) -> bool:
    """True when every output row depends on its own input row only (no batch norm, no minibatch
    features), so several batches can go through the network as one. A whitelist: a module type not
    listed here counts as batch-dependent unless it sets ``per_sample = True``."""
    return all(isinstance(m, _PER_SAMPLE) or getattr(m, "per_sample", False) is True for m in module.modules())


GENERATORS = {
    "mlp": "multilayer perceptron (depth, width, activation, norm)",
    "data-plus-noise": "fixed generator G(z) = real + noise_std * N(0, I), for critic studies (WGAN-GP Fig. 1a)",
    "conv1d": "text: latent -> (width, L) -> depth 1-D residual blocks -> softmax over the vocabulary (WGAN-GP LM)",
    **IMAGE_GENERATORS,  # dcgan, resnet, resnet64, mnist-conv (wgan.nets.image_nets)
}
CRITICS = {"mlp": "multilayer perceptron (depth, width, activation, norm); output (B,)",
           "conv1d": "text: one-hot/softmax (L, V) -> 1x1 conv -> depth 1-D residual blocks -> linear (WGAN-GP LM)",
           **IMAGE_CRITICS}

__all__ = ["MLP", "DataPlusNoise", "build_generator", "build_critic", "is_per_sample", "GENERATORS", "CRITICS"]

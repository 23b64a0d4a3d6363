"""Network families, registered by name where each is defined (:mod:`wgan.nets.families`): ``build_generator``
and ``build_critic`` dispatch through the registries. A new family is one module that registers itself in
:data:`GENERATORS` / :data:`CRITICS`, imported below."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils import parametrize

from .families import CRITICS, GENERATORS, Family, net_options
from .mlp import MLP
from .spectral import POWER_ITERATION, spectral_normalise
from .vector_nets import DataPlusNoise  # first: `wgan list` shows families in the order they register

# isort: split
from . import conv1d, image_nets  # noqa: F401  (each registers its families)

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
    return _checked("generator", cfg, lambda: GENERATORS.lookup(cfg.net).build(cfg, shape))


def build_critic(cfg, shape: int | tuple[int, ...]) -> nn.Module:
    """The critic for data samples of ``shape``; output ``(B,)``. Checked like :func:`build_generator`. With
    ``cfg.spectral_norm`` every linear and convolutional layer of every family is spectrally normalised
    (:mod:`wgan.nets.spectral`), with ``cfg.weight_norm`` weight-normalised with a fixed scale
    (:mod:`wgan.constraints`)."""

    def build() -> nn.Module:
        net = CRITICS.lookup(cfg.net).build(cfg, shape)
        if getattr(cfg, "spectral_norm", False):
            spectral_normalise(net, cfg.spectral_norm_iterations)
        if getattr(cfg, "weight_norm", False):
            from ..constraints import weight_normalise

            weight_normalise(net, cfg.weight_norm_scale)
        return net

    return _checked("critic", cfg, build)


_PER_SAMPLE = (nn.Linear, nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.ELU, nn.Softplus, nn.LayerNorm, nn.Identity,
               nn.Sequential, nn.ModuleList, MLP,
               # convolutions, pooling, resizing and lookups act on each sample alone
               nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.AvgPool1d, nn.AvgPool2d,
               nn.Upsample, nn.Flatten, nn.Unflatten, nn.Embedding, nn.Sigmoid,
               # weight parametrisations (spectral norm: a ModuleDict of ParametrizationLists) compute weights from
               # weights, never mixing rows of the data
               nn.ModuleDict, parametrize.ParametrizationList, POWER_ITERATION)


def is_per_sample(module: nn.Module) -> bool:
    """True when every output row depends on its own input row only (no batch norm, no minibatch
    features), so several batches can go through the network as one. A whitelist: a module type not
    listed here counts as batch-dependent unless it sets ``per_sample = True``."""
    return all(isinstance(m, _PER_SAMPLE) or getattr(m, "per_sample", False) is True for m in module.modules())


__all__ = ["CRITICS", "GENERATORS", "MLP", "DataPlusNoise", "Family", "build_critic", "build_generator",
           "is_per_sample", "net_options"]

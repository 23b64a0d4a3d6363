"""Image network families by name: builders from a ``GeneratorConfig`` / ``CriticConfig`` and the sample
shape ``(C, H, W)``, the choices each family accepts (for ``wgan.resolve.resolve``), and the MLP adapted to
images (WGAN Fig. 7/8, WGAN-GP Fig. 2: "a 4-layer 512-unit ReLU MLP generator").

Contract of every image critic: ``forward(x) -> (B,)``, ``features(x) -> (B, F)`` with
``forward(x) == head(features(x))``, and ``class_logits(features) -> (B, n_classes)`` when ``n_classes > 0``.
Every image generator: ``forward(z, y=None) -> (B, C, H, W)`` in [-1, 1] and a ``latent_dim`` attribute.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .blocks import FeatureCritic
from .dcgan import DCGAN_ACTIVATIONS, DCGANCritic, DCGANGenerator, dcgan_extra_layers
from .families import CRITICS, GENERATORS, Family, registry
from .mlp import ACTIVATIONS, MLP
from .resnet import (
    BottleneckResNetCritic,
    BottleneckResNetGenerator,
    MNISTConvCritic,
    MNISTConvGenerator,
    ResNetCritic,
    ResNetGenerator,
)

IMAGE_GENERATOR_NORMS: tuple[str, ...] = ("none", "batch", "cond-batch")
IMAGE_CRITIC_NORMS: tuple[str, ...] = ("none", "layer", "batch")
# the image families this module registers: name -> description
IMAGE_GENERATORS: dict[str, str] = {}
IMAGE_CRITICS: dict[str, str] = {}


def _need_images(section: str, net: str, shape: int | tuple[int, ...]) -> None:
    if not image_shape(shape):
        raise ValueError(f"{section}.net = {net!r} is an image network and needs (C, H, W) samples, got shape "
                         f"{shape!r}; use {section}.net = 'mlp' for this data")


def _generator_kw(cfg) -> dict:
    return {"latent_dim": cfg.latent_dim, "width": cfg.width, "norm": cfg.norm, "activation": cfg.activation,
            "n_classes": cfg.n_classes}


def _critic_kw(cfg) -> dict:
    return {"width": cfg.width, "norm": cfg.norm, "activation": cfg.activation, "n_classes": cfg.n_classes}


def _family(section: str, name: str, description: str, make: Callable[[Any, tuple[int, ...]], nn.Module],
            activations: tuple[str, ...] = tuple(ACTIVATIONS)) -> None:
    """Register image family ``name`` of ``section``: ``make(cfg, shape)`` after a check that the samples are
    images."""

    def build(cfg, shape: int | tuple[int, ...]) -> nn.Module:
        _need_images(section, cfg.net, shape)
        return make(cfg, shape)  # type: ignore[arg-type]

    norms = IMAGE_GENERATOR_NORMS if section == "generator" else IMAGE_CRITIC_NORMS
    family = registry(section).add(name, Family("images: " + description, build, norms, activations))
    (IMAGE_GENERATORS if section == "generator" else IMAGE_CRITICS)[name] = family.description


_family("generator", "dcgan", "WGAN authors' DCGAN (4x4 transposed convs, norm batch/none/cond-batch, width = ngf, "
        "extra_layers, constant_width, activation relu/tanh/gated)",
        lambda cfg, shape: DCGANGenerator(shape, extra_layers=cfg.extra_layers, constant_width=cfg.constant_width,
                                          **_generator_kw(cfg)), DCGAN_ACTIVATIONS)
_family("generator", "resnet", "WGAN-GP CIFAR ResNet (linear -> 4x4, depth up blocks per resolution, width 128)",
        lambda cfg, shape: ResNetGenerator(shape, depth=cfg.depth, doubling=False, **_generator_kw(cfg)))
_family("generator", "resnet64", "WGAN-GP 64x64 ResNet (channels 8w..w, depth blocks per resolution, width 64)",
        lambda cfg, shape: ResNetGenerator(shape, depth=cfg.depth, doubling=True, **_generator_kw(cfg)))
_family("generator", "mnist-conv", "WGAN-GP MNIST conv net (linear -> 4x4x4w, 5x5 transposed convs, 28x28/32x32)",
        lambda cfg, shape: MNISTConvGenerator(shape, **_generator_kw(cfg)))
_family("generator", "dcgan-deep", "DCGAN `depth` conv layers deep (extra 3x3 convs at the last resolution; WGAN-GP "
        "Table 1)", lambda cfg, shape: DCGANGenerator(shape, extra_layers=dcgan_extra_layers(cfg.depth, shape[-1]),
                                                      constant_width=cfg.constant_width, **_generator_kw(cfg)),
        DCGAN_ACTIVATIONS)
_family("generator", "resnet-bottleneck", "WGAN-GP's bottleneck ResNet, `depth` layers (101: Fig. 2's 101-layer "
        "ResNet)", lambda cfg, shape: BottleneckResNetGenerator(shape, depth=cfg.depth, **_generator_kw(cfg)))

_family("critic", "dcgan", "WGAN authors' DCGAN critic (4x4 stride-2 convs, norm none/layer/batch, width = ndf, "
        "extra_layers, activation leaky_relu (0.2)/tanh/gated)",
        lambda cfg, shape: DCGANCritic(shape, extra_layers=cfg.extra_layers, **_critic_kw(cfg)), DCGAN_ACTIVATIONS)
_family("critic", "resnet", "WGAN-GP CIFAR ResNet critic (optimized block, mean-pool down blocks, global mean pool)",
        lambda cfg, shape: ResNetCritic(shape, depth=cfg.depth, doubling=False, **_critic_kw(cfg)))
_family("critic", "resnet64", "WGAN-GP 64x64 ResNet critic (conv, down blocks w..8w, linear; norm layer)",
        lambda cfg, shape: ResNetCritic(shape, depth=cfg.depth, doubling=True, **_critic_kw(cfg)))
_family("critic", "mnist-conv", "WGAN-GP MNIST critic (three 5x5 stride-2 convs + LeakyReLU 0.2, linear)",
        lambda cfg, shape: MNISTConvCritic(shape, **_critic_kw(cfg)))
_family("critic", "dcgan-deep", "DCGAN critic `depth` conv layers deep (extra 3x3 convs at the first resolution)",
        lambda cfg, shape: DCGANCritic(shape, extra_layers=dcgan_extra_layers(cfg.depth, shape[-1]),
                                       **_critic_kw(cfg)), DCGAN_ACTIVATIONS)
_family("critic", "resnet-bottleneck", "WGAN-GP's bottleneck ResNet critic, `depth` layers (101 in Fig. 2)",
        lambda cfg, shape: BottleneckResNetCritic(shape, depth=cfg.depth, **_critic_kw(cfg)))



def build_image_generator(cfg, shape: tuple[int, ...]) -> nn.Module:
    """The image generator ``cfg.net`` for samples of ``shape`` ``(C, H, W)``."""
    return GENERATORS.lookup(cfg.net).build(cfg, shape)


def build_image_critic(cfg, shape: tuple[int, ...]) -> FeatureCritic:
    """The image critic ``cfg.net`` for samples of ``shape`` ``(C, H, W)``."""
    return CRITICS.lookup(cfg.net).build(cfg, shape)


class ImageMLPGenerator(nn.Module):
    """An MLP generator for images: ``(B, latent_dim) -> tanh -> (B, C, H, W)`` (WGAN-GP's ``FCGenerator``
    ends with tanh too). Not class-conditional."""

    per_sample = True

    def __init__(self, mlp: MLP, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.mlp, self.shape = mlp, tuple(shape)
        self.latent_dim = mlp.hidden[0][0].in_features if len(mlp.hidden) else mlp.out.in_features

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return torch.tanh(self.mlp(z)).view(-1, *self.shape)


class ImageMLPCritic(FeatureCritic):
    """An MLP critic on flattened images: ``(B, C, H, W) -> (B,)``; features = the last hidden layer."""

    def __init__(self, mlp: MLP, n_classes: int = 0) -> None:
        super().__init__(mlp.out.in_features, n_classes)
        self.mlp = mlp

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, width)
        return self.mlp.features(x.flatten(1))

    def head(self, h: torch.Tensor) -> torch.Tensor:  # (B, width) -> (B,)
        return self.mlp.head(h)


def adapt_mlp(net: nn.Module, shape: tuple[int, ...], role: str, n_classes: int = 0) -> nn.Module:
    """Wrap an MLP for ``(C, H, W)`` samples: the generator reshapes its output, the critic flattens its
    input. Vectors (``len(shape) == 1``) keep the plain MLP."""
    if len(shape) < 2 or not isinstance(net, MLP):
        return net
    if role == "generator":
        return ImageMLPGenerator(net, shape)
    return ImageMLPCritic(net, n_classes)


def image_shape(shape: int | tuple[int, ...]) -> bool:
    """True for ``(C, H, W)`` sample shapes."""
    return not isinstance(shape, int) and len(shape) == 3 and math.prod(shape) > 0


__all__ = ["IMAGE_CRITICS", "IMAGE_GENERATORS", "ImageMLPCritic", "ImageMLPGenerator", "adapt_mlp",
           "build_image_critic", "build_image_generator", "image_shape"]

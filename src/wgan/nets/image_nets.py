"""Image network families by name: builders from a ``GeneratorConfig`` / ``CriticConfig`` and the sample
shape ``(C, H, W)``, the choices each family accepts (for ``wgan.resolve.resolve``), and the MLP adapted to
images (WGAN Fig. 7/8, WGAN-GP Fig. 2: "a 4-layer 512-unit ReLU MLP generator").

Contract of every image critic: ``forward(x) -> (B,)``, ``features(x) -> (B, F)`` with
``forward(x) == head(features(x))``, and ``class_logits(features) -> (B, n_classes)`` when ``n_classes > 0``.
Every image generator: ``forward(z, y=None) -> (B, C, H, W)`` in [-1, 1] and a ``latent_dim`` attribute.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .blocks import FeatureCritic
from .dcgan import DCGAN_ACTIVATIONS, DCGANCritic, DCGANGenerator, dcgan_extra_layers
from .mlp import ACTIVATIONS, MLP
from .resnet import (
    BottleneckResNetCritic,
    BottleneckResNetGenerator,
    MNISTConvCritic,
    MNISTConvGenerator,
    ResNetCritic,
    ResNetGenerator,
)

IMAGE_GENERATORS: dict[str, str] = {
    "dcgan": "images: WGAN authors' DCGAN (4x4 transposed convs, norm batch/none/cond-batch, width = ngf, "
             "extra_layers, constant_width, activation relu/tanh/gated)",
    "resnet": "images: WGAN-GP CIFAR ResNet (linear -> 4x4, depth up blocks per resolution, width 128)",
    "resnet64": "images: WGAN-GP 64x64 ResNet (channels 8w..w, depth blocks per resolution, width 64)",
    "mnist-conv": "images: WGAN-GP MNIST conv net (linear -> 4x4x4w, 5x5 transposed convs, 28x28/32x32)",
    "dcgan-deep": "images: DCGAN `depth` conv layers deep (extra 3x3 convs at the last resolution; WGAN-GP Table 1)",
    "resnet-bottleneck": "images: WGAN-GP's bottleneck ResNet, `depth` layers (101: Fig. 2's 101-layer ResNet)",
}
IMAGE_CRITICS: dict[str, str] = {
    "dcgan": "images: WGAN authors' DCGAN critic (4x4 stride-2 convs, norm none/layer/batch, width = ndf, "
             "extra_layers, activation leaky_relu (0.2)/tanh/gated)",
    "resnet": "images: WGAN-GP CIFAR ResNet critic (optimized block, mean-pool down blocks, global mean pool)",
    "resnet64": "images: WGAN-GP 64x64 ResNet critic (conv, down blocks w..8w, linear; norm layer)",
    "mnist-conv": "images: WGAN-GP MNIST critic (three 5x5 stride-2 convs + LeakyReLU 0.2, linear)",
    "dcgan-deep": "images: DCGAN critic `depth` conv layers deep (extra 3x3 convs at the first resolution)",
    "resnet-bottleneck": "images: WGAN-GP's bottleneck ResNet critic, `depth` layers (101 in Fig. 2)",
}


def net_options(section: str, net: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(norms, activations)`` a ``generator``/``critic`` of family ``net`` accepts."""
    image = net in IMAGE_GENERATORS or net in IMAGE_CRITICS
    if not image:
        return ("none", "batch", "layer"), tuple(ACTIVATIONS)
    norms = ("none", "batch", "cond-batch") if section == "generator" else ("none", "layer", "batch")
    acts = DCGAN_ACTIVATIONS if net in ("dcgan", "dcgan-deep") else tuple(ACTIVATIONS)
    return norms, acts


def _need_images(section: str, net: str, shape: int | tuple[int, ...]) -> None:
    if not image_shape(shape):
        raise ValueError(f"{section}.net = {net!r} is an image network and needs (C, H, W) samples, got shape "
                         f"{shape!r}; use {section}.net = 'mlp' for this data")


def build_image_generator(cfg, shape: tuple[int, ...]) -> nn.Module:
    """The image generator ``cfg.net`` for samples of ``shape`` ``(C, H, W)``."""
    _need_images("generator", cfg.net, shape)
    kw = {"latent_dim": cfg.latent_dim, "width": cfg.width, "norm": cfg.norm, "activation": cfg.activation,
          "n_classes": cfg.n_classes}
    if cfg.net == "dcgan":
        return DCGANGenerator(shape, extra_layers=cfg.extra_layers, constant_width=cfg.constant_width, **kw)
    if cfg.net == "dcgan-deep":
        extra = dcgan_extra_layers(cfg.depth, shape[-1])
        return DCGANGenerator(shape, extra_layers=extra, constant_width=cfg.constant_width, **kw)
    if cfg.net == "resnet-bottleneck":
        return BottleneckResNetGenerator(shape, depth=cfg.depth, **kw)
    if cfg.net in ("resnet", "resnet64"):
        return ResNetGenerator(shape, depth=cfg.depth, doubling=cfg.net == "resnet64", **kw)
    if cfg.net == "mnist-conv":
        return MNISTConvGenerator(shape, **kw)
    raise ValueError(f"unknown image generator {cfg.net!r}; choose one of: {', '.join(IMAGE_GENERATORS)}")


def build_image_critic(cfg, shape: tuple[int, ...]) -> FeatureCritic:
    """The image critic ``cfg.net`` for samples of ``shape`` ``(C, H, W)``."""
    _need_images("critic", cfg.net, shape)
    kw = {"width": cfg.width, "norm": cfg.norm, "activation": cfg.activation, "n_classes": cfg.n_classes}
    if cfg.net == "dcgan":
        return DCGANCritic(shape, extra_layers=cfg.extra_layers, **kw)
    if cfg.net == "dcgan-deep":
        return DCGANCritic(shape, extra_layers=dcgan_extra_layers(cfg.depth, shape[-1]), **kw)
    if cfg.net == "resnet-bottleneck":
        return BottleneckResNetCritic(shape, depth=cfg.depth, **kw)
    if cfg.net in ("resnet", "resnet64"):
        return ResNetCritic(shape, depth=cfg.depth, doubling=cfg.net == "resnet64", **kw)
    if cfg.net == "mnist-conv":
        return MNISTConvCritic(shape, **kw)
    raise ValueError(f"unknown image critic {cfg.net!r}; choose one of: {', '.join(IMAGE_CRITICS)}")


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
           "build_image_critic", "build_image_generator", "image_shape", "net_options"]

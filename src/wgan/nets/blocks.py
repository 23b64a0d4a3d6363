"""One pre-activation residual block for 1-D and 2-D convolutions, shared by the image ResNets and the
1-D convolutional language model (design rule 8: one parametrised module, not copies).

The block is the WGAN-GP authors' ``ResidualBlock`` (Gulrajani et al. 2017, code ``gan_cifar_resnet.py``
and ``gan_64x64.py``; their language model's ``ResBlock`` in ``gan_language.py`` is the special case
``dims=1, kernel_size=5, norm="none", activation="relu", scale=0.3``)::

    out = shortcut(x) + scale * body(x)
    body = norm -> act -> conv1 -> norm -> act -> conv2

* ``resample="up"``:   nearest-neighbour x2 upsampling before ``conv1`` (``in -> out``, then ``out -> out``);
  shortcut = upsample -> 1x1 conv.
* ``resample="down"``: ``conv1`` keeps ``in`` channels, ``conv2`` maps ``in -> out`` and is followed by a
  2x mean pool; shortcut = 1x1 conv -> mean pool (a 1x1 conv and a mean pool commute).
* ``resample=None``:   ``conv1`` ``in -> out``, ``conv2`` ``out -> out``; the shortcut is the identity when
  ``in == out`` and a 1x1 conv otherwise.

Normalisation: ``"none"``; ``"batch"``; ``"layer"`` — per sample over all of (C, H, W) / (C, L) with a
per-channel gain and bias, as the authors' ``Layernorm(name, [1, 2, 3], x)`` (WGAN-GP sec. 4: the critic
must not use batch norm with a gradient penalty); ``"cond-batch"`` — batch norm without affine parameters
followed by per-class gain and bias looked up from the labels (their conditional CIFAR generator).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from .mlp import ACTIVATIONS

Dims = Literal[1, 2]
Resample = Literal["up", "down"] | None
BlockNorm = Literal["none", "batch", "layer", "cond-batch"]
BLOCK_NORMS: tuple[str, ...] = ("none", "batch", "layer", "cond-batch")


class ChannelLayerNorm(nn.GroupNorm):
    """Layer norm for conv features: each sample normalised over all its channels and positions, then a
    per-channel gain and bias (``GroupNorm`` with one group is exactly that)."""

    per_sample = True

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__(1, channels, eps=eps)


class ConditionalBatchNorm(nn.Module):
    """Batch norm with a gain and bias per class: ``gamma[y] * BN(x) + beta[y]`` (``x`` is ``(B, C, ...)``,
    ``y`` is ``(B,)`` integer labels). Gains start at one and biases at zero, as plain batch norm."""

    def __init__(self, dims: Dims, channels: int, n_classes: int) -> None:
        super().__init__()
        if n_classes < 1:
            raise ValueError(f"conditional batch norm needs n_classes >= 1, got {n_classes}")
        self.bn = (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(channels, affine=False)
        self.gain = nn.Embedding(n_classes, channels)
        self.bias = nn.Embedding(n_classes, channels)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is None:
            raise ValueError("conditional batch norm needs class labels y (B,); pass them as forward(x, y)")
        shape = (x.shape[0], x.shape[1]) + (1,) * (x.dim() - 2)  # (B, C, 1[, 1]) broadcasts over positions
        return self.gain(y).view(shape) * self.bn(x) + self.bias(y).view(shape)


def make_norm(norm: BlockNorm, dims: Dims, channels: int, n_classes: int = 0) -> nn.Module:
    """The normalisation layer ``norm`` for ``(B, channels, *spatial)`` features."""
    if norm == "none":
        return nn.Identity()
    if norm == "batch":
        return (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(channels)
    if norm == "layer":
        return ChannelLayerNorm(channels)
    if norm == "cond-batch":
        return ConditionalBatchNorm(dims, channels, n_classes)
    raise ValueError(f"unknown norm {norm!r}; choose one of: {', '.join(BLOCK_NORMS)}")


def apply_norm(norm: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """``norm(x)``, passing the labels to a conditional norm."""
    return norm(x, y) if isinstance(norm, ConditionalBatchNorm) else norm(x)


def make_activation(activation: str | nn.Module) -> nn.Module:
    if isinstance(activation, nn.Module):
        return activation
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[activation]()


def upsample(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour x2 along every spatial axis."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def mean_pool(x: torch.Tensor) -> torch.Tensor:
    """2x mean pooling along every spatial axis (the authors' ``ConvMeanPool`` averages 2x2 squares)."""
    return F.avg_pool1d(x, 2) if x.dim() == 3 else F.avg_pool2d(x, 2)


def conv(dims: Dims, in_ch: int, out_ch: int, kernel_size: int, bias: bool = True) -> nn.Module:
    """A stride-1 'same' convolution (odd kernel)."""
    cls = nn.Conv1d if dims == 1 else nn.Conv2d
    return cls(in_ch, out_ch, kernel_size, padding=kernel_size // 2, bias=bias)


class ResBlock(nn.Module):
    """``shortcut(x) + scale * body(x)`` for ``(B, C, L)`` (``dims=1``) or ``(B, C, H, W)`` (``dims=2``);
    see the module docstring. ``forward(x, y=None)``: ``y`` (B,) labels are needed by ``"cond-batch"`` only.
    Spatial sizes double with ``"up"`` and halve with ``"down"``."""

    per_sample = True  # itself; is_per_sample still checks every sub-module (batch norm makes it False)

    def __init__(self, dims: Dims, in_ch: int, out_ch: int, kernel_size: int = 3, resample: Resample = None,
                 norm: BlockNorm = "none", activation: str | nn.Module = "relu", scale: float = 1.0,
                 n_classes: int = 0) -> None:
        super().__init__()
        if dims not in (1, 2):
            raise ValueError(f"ResBlock dims must be 1 or 2, got {dims!r}")
        if resample not in (None, "up", "down"):
            raise ValueError(f"ResBlock resample must be None, 'up' or 'down', got {resample!r}")
        if kernel_size % 2 != 1:
            raise ValueError(f"ResBlock kernel_size must be odd (same padding), got {kernel_size}")
        self.dims, self.resample, self.scale = dims, resample, scale
        mid = in_ch if resample == "down" else out_ch  # channels between conv1 and conv2
        self.norm1 = make_norm(norm, dims, in_ch, n_classes)
        self.act1 = make_activation(activation)
        self.conv1 = conv(dims, in_ch, mid, kernel_size)
        self.norm2 = make_norm(norm, dims, mid, n_classes)
        self.act2 = make_activation(activation) if isinstance(activation, str) else activation
        self.conv2 = conv(dims, mid, out_ch, kernel_size)
        identity = in_ch == out_ch and resample is None
        self.shortcut = nn.Identity() if identity else conv(dims, in_ch, out_ch, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        # x: (B, in_ch, *S) -> (B, out_ch, *S'), S' = 2S (up), S/2 (down) or S
        h = self.act1(apply_norm(self.norm1, x, y))
        if self.resample == "up":
            h = upsample(h)
        h = self.conv1(h)
        h = self.conv2(self.act2(apply_norm(self.norm2, h, y)))
        if self.resample == "down":
            h = mean_pool(h)
        if self.resample == "up":
            skip = self.shortcut(upsample(x))
        elif self.resample == "down":
            skip = mean_pool(self.shortcut(x))
        else:
            skip = self.shortcut(x)
        return skip + self.scale * h


class OptimizedDownBlock(nn.Module):
    """The critic's first block in the authors' CIFAR ResNet (``OptimizedResBlockDisc1``): no
    pre-activation on the raw image. ``body = conv3x3 -> act -> conv3x3 -> mean pool``,
    ``shortcut = mean pool -> 1x1 conv``; ``(B, in_ch, H, W) -> (B, out_ch, H/2, W/2)``."""

    per_sample = True

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3, activation: str | nn.Module = "relu") -> None:
        super().__init__()
        self.conv1 = conv(2, in_ch, out_ch, kernel_size)
        self.act = make_activation(activation)
        self.conv2 = conv(2, out_ch, out_ch, kernel_size)
        self.shortcut = conv(2, in_ch, out_ch, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.shortcut(mean_pool(x)) + mean_pool(self.conv2(self.act(self.conv1(x))))


class Gated(nn.Module):
    """Gated multiplicative nonlinearity (WGAN-GP sec. 5.2, after van den Oord et al. 2016's PixelCNN):
    the channels are split in halves ``a, b`` and ``tanh(a) * sigmoid(b)`` is returned, so the layer
    before it produces twice the channels. ``(B, 2C, *S) -> (B, C, *S)``."""

    per_sample = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return torch.tanh(a) * torch.sigmoid(b)


class ShiftedSoftplus(nn.Module):
    """``softplus(2x + 2) / 2 - 1``, one of WGAN-GP Table 1's nonlinearities: a smooth ELU-like curve,
    ``-> -1`` as ``x -> -inf`` and ``~ x`` for large ``x`` (softplus(2x+2)/2 = x + 1 + log(1 + e^(-2x-2))/2)."""

    per_sample = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.softplus(2 * x + 2) / 2 - 1


def run_layers(layers: nn.ModuleList, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """Apply ``layers`` in order, passing the labels ``y`` to the modules that take them
    (conditional batch norm, residual blocks, modules with ``takes_labels = True``)."""
    for layer in layers:
        takes = isinstance(layer, (ConditionalBatchNorm, ResBlock, OptimizedDownBlock)) or getattr(
            layer, "takes_labels", False)
        x = layer(x, y) if takes else layer(x)
    return x


class ImageGenerator(nn.Module):
    """Shared by the image generators: ``forward(z, y=None) -> (B, C, H, W)`` in [-1, 1].

    A class-conditional generator (``n_classes > 0``) takes labels ``y`` (B,): through conditional batch
    norm when ``norm == "cond-batch"``, otherwise as a one-hot vector appended to ``z`` (``in_dim``)."""

    per_sample = True  # itself; batch-norm sub-modules still make is_per_sample False

    def __init__(self, shape: tuple[int, ...], latent_dim: int, n_classes: int, norm: str) -> None:
        super().__init__()
        if norm == "cond-batch" and n_classes < 1:
            raise ValueError("generator.norm = 'cond-batch' needs generator.n_classes >= 1")
        self.shape, self.latent_dim, self.n_classes = tuple(shape), latent_dim, n_classes
        self.concat_labels = n_classes > 0 and norm != "cond-batch"
        self.in_dim = latent_dim + (n_classes if self.concat_labels else 0)

    def _input(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:  # (B, latent) -> (B, in_dim)
        if self.n_classes > 0 and y is None:
            raise ValueError(f"this generator is class-conditional ({self.n_classes} classes): pass labels, G(z, y)")
        if self.concat_labels:
            return torch.cat([z, F.one_hot(y, self.n_classes).to(z.dtype)], dim=1)
        return z


class FeatureCritic(nn.Module):
    """Shared by the image critics: ``forward(x) == head(features(x))`` ``(B,)``, ``features(x)`` the
    penultimate per-sample features ``(B, n_features)`` and, when ``n_classes > 0``, an AC-GAN auxiliary
    classifier ``class_logits(features) -> (B, n_classes)`` on the same features (the WGAN-GP authors'
    conditional CIFAR critic: two linear outputs on the mean-pooled features)."""

    per_sample = True

    def __init__(self, n_features: int, n_classes: int = 0) -> None:
        super().__init__()
        self.n_features, self.n_classes = n_features, n_classes
        self.classifier = nn.Linear(n_features, n_classes) if n_classes > 0 else None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def head(self, h: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B,)
        return self.head(self.features(x))

    def class_logits(self, h: torch.Tensor) -> torch.Tensor:  # (B, n_features) -> (B, n_classes)
        if self.classifier is None:
            raise ValueError("this critic has no classifier head; set critic.n_classes > 0 for AC-GAN")
        return self.classifier(h)


__all__ = ["BLOCK_NORMS", "ChannelLayerNorm", "ConditionalBatchNorm", "FeatureCritic", "Gated", "ImageGenerator",
           "OptimizedDownBlock", "ResBlock", "ShiftedSoftplus", "apply_norm", "conv", "make_activation", "make_norm",
           "mean_pool", "run_layers", "upsample"]

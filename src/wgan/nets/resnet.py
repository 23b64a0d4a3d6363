"""The WGAN-GP authors' convolutional image nets (Gulrajani et al. 2017), built from
:class:`wgan.nets.blocks.ResBlock`, with depth and width as arguments (no per-resolution copies).

* ``mnist-conv`` (code ``gan_mnist.py``, ``DIM = 64`` = ``width``). Generator: Linear ``latent -> 4*4*4w``,
  ReLU, 5x5 stride-2 transposed convs ``4w -> 2w`` (4 -> 8, cropped to 7 for 28x28 images), ``2w -> w``
  (-> 14), ``w -> C`` (-> 28), then tanh (the authors' sigmoid, for pixels in [0, 1]; ours are in
  [-1, 1]). Batch norm after the hidden layers only with ``norm="batch"`` (their ``MODE == 'wgan'``).
  Critic: three 5x5 stride-2 convs ``C -> w -> 2w -> 4w`` each followed by LeakyReLU(0.2) (norm after the
  2nd and 3rd), flatten, Linear to one value. 28x28 and 32x32 images.
* ``resnet`` (code ``gan_cifar_resnet.py``, width 128). Generator: Linear ``latent -> 4*4*w``, one residual
  up block per doubling (nearest-neighbour upsampling, norm = batch / conditional batch), then
  BN-ReLU-conv3x3-tanh. Critic: the "optimized" first down block (conv-ReLU-conv-mean-pool, no
  pre-activation on pixels), residual mean-pool down blocks to 8x8, two plain blocks, ReLU, global mean
  pool -> Linear to one value (+ Linear to the classes for AC-GAN). Constant width ``w`` throughout.
* ``resnet64`` (code ``gan_64x64.py``: ``GoodGenerator`` / ``GoodDiscriminator``, ``DIM = 64``).
  Generator: Linear ``latent -> 4*4*8w``, up blocks ``8w -> 8w -> 4w -> 2w -> w`` (channels halve per
  doubling, at most ``8w``), BN-ReLU-conv3x3-tanh. Critic: conv3x3 ``C -> w``, down blocks
  ``w -> 2w -> 4w -> 8w -> 8w``, flatten the ``4x4`` map, Linear to one value. Layer norm in the critic is
  the authors' WGAN-GP setting (``norm="layer"``).

``depth`` = residual blocks per resolution: each generator stage is one up block plus ``depth - 1``
plain blocks at the new size; each critic stage is ``depth - 1`` plain blocks then one down block
(``resnet``: the optimized block alone at full size and ``depth + 1`` plain blocks at 8x8, so
``depth = 1`` is the authors' CIFAR net). Convolutional layers (shortcuts not counted): ``resnet64`` has
``8 * depth + 2`` in each network at 64x64, e.g. ``depth = 12`` -> 98 layers.
* ``resnet-bottleneck`` (code ``gan_64x64.py``: ``ResnetGenerator`` / ``ResnetDiscriminator`` with
  ``BottleneckResidualBlock``, WGAN-GP Fig. 2 "101-layer ResNet G and D"). Block:
  ``shortcut(x) + 0.3 * norm(conv1x1(relu(conv3x3(relu(conv1x1(relu(x)))))))`` with ``in/2`` and ``out/2``
  channels inside; ``"down"``: the 3x3 conv has stride 2, the shortcut is a stride-2 1x1 conv; ``"up"``: the
  3x3 conv is a stride-2 transposed conv, the shortcut a sub-pixel 1x1 conv (``4 * out`` channels, then
  pixel shuffle). ``depth`` counts layers: ``(depth - 2) / 3`` blocks, one per resolution change, the others
  spread over the resolutions as the authors' (6, 6, 6, 6, 5 at 64x64 for depth 101), plus the linear and
  the 1x1 output/input conv. Channels ``width/2`` at full resolution, doubling per halving
  (``8 * width`` at 4x4 for 64x64 images). The generator's output is ``tanh(conv / 5)``, the critic's
  ``linear / 5``, as theirs.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .blocks import (
    FeatureCritic,
    ImageGenerator,
    OptimizedDownBlock,
    ResBlock,
    apply_norm,
    conv,
    make_activation,
    make_norm,
    run_layers,
)
from .dcgan import check_image_size


class ResNetGenerator(ImageGenerator):
    """``forward(z, y=None)``: ``(B, latent_dim) -> (B, C, H, W)`` in [-1, 1] for any power-of-two size >= 8.

    ``channel_mult(i, n)`` gives the output channels of up stage ``i`` of ``n`` as a multiple of ``width``
    (constant 1 for the CIFAR net; ``min(8, 2 ** (n - 1 - i))`` for the 64x64 net)."""

    def __init__(self, shape: tuple[int, ...], latent_dim: int = 128, width: int = 128, depth: int = 1,
                 norm: str = "batch", activation: str = "relu", n_classes: int = 0, doubling: bool = False) -> None:
        super().__init__(shape, latent_dim, n_classes, norm)
        channels, size = check_image_size(shape, "ResNet")
        if norm not in ("batch", "none", "cond-batch"):
            raise ValueError(f"ResNet generator norm must be batch, none or cond-batch, got {norm!r}")
        if depth < 1:
            raise ValueError(f"ResNet depth (blocks per resolution) must be >= 1, got {depth}")
        n_up = int(math.log2(size)) - 2  # doublings from 4x4
        outs = [width * (min(8, 2 ** (n_up - 1 - i)) if doubling else 1) for i in range(n_up)]
        self.c0 = outs[0]
        self.input = nn.Linear(self.in_dim, 16 * self.c0)  # (B, in_dim) -> (B, 4*4*c0)
        blocks: list[nn.Module] = []
        c = self.c0
        for out in outs:
            blocks.append(ResBlock(2, c, out, 3, "up", norm, activation, n_classes=n_classes))
            blocks += [ResBlock(2, out, out, 3, None, norm, activation, n_classes=n_classes) for _ in range(depth - 1)]
            c = out
        blocks += [make_norm(norm, 2, c, n_classes), make_activation(activation), conv(2, c, channels, 3), nn.Tanh()]
        self.layers = nn.ModuleList(blocks)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.input(self._input(z, y)).view(-1, self.c0, 4, 4)  # (B, c0, 4, 4)
        return run_layers(self.layers, h, y)  # (B, C, H, W)


class ResNetCritic(FeatureCritic):
    """The CIFAR ResNet critic (``doubling=False``: global mean-pooled features ``(B, width)``) or the 64x64
    one (``doubling=True``: flattened ``(B, 8w * 4 * 4)`` features); ``forward(x) -> (B,)``."""

    def __init__(self, shape: tuple[int, ...], width: int = 128, depth: int = 1, norm: str = "none",
                 activation: str = "relu", n_classes: int = 0, doubling: bool = False) -> None:
        channels, size = check_image_size(shape, "ResNet")
        if norm not in ("none", "layer", "batch"):
            raise ValueError(f"ResNet critic norm must be none, layer or batch, got {norm!r}")
        if depth < 1:
            raise ValueError(f"ResNet depth (blocks per resolution) must be >= 1, got {depth}")
        n_down = int(math.log2(size)) - (2 if doubling else 3)  # halvings: to 4x4 (64x64 net) or 8x8 (CIFAR)
        outs = [width * min(8, 2 ** (i + 1)) if doubling else width for i in range(n_down)]
        n_features = outs[-1] * 16 if doubling else width
        super().__init__(n_features, n_classes)

        def plain(ch: int) -> ResBlock:
            return ResBlock(2, ch, ch, 3, None, norm, activation)

        blocks: list[nn.Module] = []
        if doubling:
            blocks.append(conv(2, channels, width, 3))
            c = width
            for out in outs:
                blocks += [plain(c) for _ in range(depth - 1)] + [ResBlock(2, c, out, 3, "down", norm, activation)]
                c = out
        else:
            blocks.append(OptimizedDownBlock(channels, width, 3, activation))
            for _ in range(n_down - 1):
                blocks += [plain(width) for _ in range(depth - 1)]
                blocks.append(ResBlock(2, width, width, 3, "down", norm, activation))
            blocks += [plain(width) for _ in range(depth + 1)]
            blocks.append(make_activation(activation))
        self.doubling = doubling
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Linear(n_features, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, F)
        h = self.blocks(x)  # (B, c, 4, 4) or (B, w, 8, 8)
        return h.flatten(1) if self.doubling else h.mean(dim=(2, 3))

    def head(self, h: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B,)
        return self.out(h).squeeze(1)


def bottleneck_blocks(depth: int, n_resample: int) -> list[int]:
    """Plain blocks per resolution (``n_resample + 1`` resolutions, from the first one) for a bottleneck ResNet of
    ``depth`` layers: ``(depth - 2) / 3`` blocks in all, ``n_resample`` of them change the resolution, the rest
    spread evenly with the remainder on the first resolutions (the authors' 6, 6, 6, 6, 5 at 64x64)."""
    if depth < 2 or (depth - 2) % 3:
        raise ValueError(f"a bottleneck ResNet has 3 layers per block plus 2: depth must be 3k + 2 (e.g. 101), "
                         f"got {depth}")
    plain = (depth - 2) // 3 - n_resample
    if plain < 0:
        raise ValueError(f"depth {depth} gives {(depth - 2) // 3} blocks, fewer than the {n_resample} resolution "
                         f"changes; use depth >= {3 * n_resample + 2}")
    n = n_resample + 1
    return [plain // n + (1 if i < plain % n else 0) for i in range(n)]


class BottleneckBlock(nn.Module):
    """The authors' ``BottleneckResidualBlock``: ``(B, in, S, S) -> (B, out, S', S')`` with ``S' = 2S`` (up),
    ``S/2`` (down) or ``S``; see the module docstring."""

    per_sample = True  # itself; a batch-norm sub-module makes is_per_sample False

    takes_labels = True  # run_layers passes y (conditional batch norm)

    def __init__(self, in_ch: int, out_ch: int, resample: str | None = None, norm: str = "none",
                 activation: str = "relu", n_classes: int = 0) -> None:
        super().__init__()
        if resample not in (None, "up", "down"):
            raise ValueError(f"resample must be None, 'up' or 'down', got {resample!r}")
        a, b = max(in_ch // 2, 1), max(out_ch // 2, 1)
        self.conv1 = nn.Conv2d(in_ch, a, 1)
        if resample == "down":
            self.conv1b: nn.Module = nn.Conv2d(a, b, 3, 2, 1)
        elif resample == "up":  # stride-2 3x3 transposed conv: exactly doubles the size
            self.conv1b = nn.ConvTranspose2d(a, b, 3, 2, 1, output_padding=1)
        else:
            self.conv1b = nn.Conv2d(a, b, 3, 1, 1)
        self.conv2 = nn.Conv2d(b, out_ch, 1, bias=False)
        self.norm = make_norm(norm, 2, out_ch, n_classes)
        self.acts = nn.ModuleList([make_activation(activation) for _ in range(3)])
        if resample == "down":
            self.shortcut: nn.Module = nn.Conv2d(in_ch, out_ch, 1, 2)
        elif resample == "up":  # sub-pixel conv: 1x1 conv to 4*out channels, then (B, 4c, S, S) -> (B, c, 2S, 2S)
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, 4 * out_ch, 1), nn.PixelShuffle(2))
        else:
            self.shortcut = nn.Identity() if in_ch == out_ch else nn.Conv2d(in_ch, out_ch, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.conv1(self.acts[0](x))
        h = self.conv1b(self.acts[1](h))
        h = apply_norm(self.norm, self.conv2(self.acts[2](h)), y)
        return self.shortcut(x) + 0.3 * h


class BottleneckResNetGenerator(ImageGenerator):
    """``forward(z, y=None)``: ``(B, latent_dim) -> (B, C, H, W)`` in [-1, 1]: the authors' 101-layer ResNet
    generator at any power-of-two size >= 8 (``depth`` layers; see the module docstring)."""

    def __init__(self, shape: tuple[int, ...], latent_dim: int = 128, width: int = 64, depth: int = 101,
                 norm: str = "batch", activation: str = "relu", n_classes: int = 0) -> None:
        super().__init__(shape, latent_dim, n_classes, norm)
        channels, size = check_image_size(shape, "ResNet")
        if norm not in ("batch", "none", "cond-batch"):
            raise ValueError(f"bottleneck ResNet generator norm must be batch, none or cond-batch, got {norm!r}")
        n_up = int(math.log2(size)) - 2
        per_res = bottleneck_blocks(depth, n_up)
        c = max(width // 2, 1) * 2 ** n_up  # (B, c, 4, 4); width/2 channels at full size
        self.c0 = c
        self.input = nn.Linear(self.in_dim, 16 * c)
        blocks: list[nn.Module] = []
        for i, n in enumerate(per_res):
            blocks += [BottleneckBlock(c, c, None, norm, activation, n_classes) for _ in range(n)]
            if i < n_up:
                blocks.append(BottleneckBlock(c, c // 2, "up", norm, activation, n_classes))
                c //= 2
        self.blocks = nn.ModuleList(blocks)
        self.out = nn.Conv2d(c, channels, 1)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.input(self._input(z, y)).view(-1, self.c0, 4, 4)  # (B, c0, 4, 4)
        return torch.tanh(self.out(run_layers(self.blocks, h, y)) / 5)  # (B, C, H, W)


class BottleneckResNetCritic(FeatureCritic):
    """``(B, C, H, W) -> (B,)``: the authors' 101-layer ResNet critic; features = the flattened 4x4 map."""

    def __init__(self, shape: tuple[int, ...], width: int = 64, depth: int = 101, norm: str = "none",
                 activation: str = "relu", n_classes: int = 0) -> None:
        channels, size = check_image_size(shape, "ResNet")
        if norm not in ("none", "layer", "batch"):
            raise ValueError(f"bottleneck ResNet critic norm must be none, layer or batch, got {norm!r}")
        n_down = int(math.log2(size)) - 2
        per_res = bottleneck_blocks(depth, n_down)[::-1]  # the authors': 5 at full size, then 6s
        c = max(width // 2, 1)
        super().__init__(c * 2 ** n_down * 16, n_classes)
        blocks: list[nn.Module] = [nn.Conv2d(channels, c, 1)]
        for i, n in enumerate(per_res):
            blocks += [BottleneckBlock(c, c, None, norm, activation) for _ in range(n)]
            if i < n_down:
                blocks.append(BottleneckBlock(c, 2 * c, "down", norm, activation))
                c *= 2
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Linear(self.n_features, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, c * 16)
        return self.blocks(x).flatten(1)

    def head(self, h: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B,)
        return (self.out(h) / 5).squeeze(1)


def _mnist_size(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] not in (28, 32):
        raise ValueError(f"mnist-conv nets need 28x28 or 32x32 images (C, H, W), got shape {tuple(shape)}; "
                         "set data.image_size = 28")
    return shape[0], shape[1]


class MNISTConvGenerator(ImageGenerator):
    """The WGAN-GP authors' MNIST generator; ``(B, latent_dim) -> (B, C, 28|32, 28|32)`` in [-1, 1]."""

    def __init__(self, shape: tuple[int, ...], latent_dim: int = 128, width: int = 64, norm: str = "none",
                 activation: str = "relu", n_classes: int = 0) -> None:
        super().__init__(shape, latent_dim, n_classes, norm)
        channels, self.size = _mnist_size(shape)
        if norm not in ("batch", "none", "cond-batch"):
            raise ValueError(f"mnist-conv generator norm must be batch, none or cond-batch, got {norm!r}")
        self.width = width
        self.stem = nn.ModuleList([nn.Linear(self.in_dim, 16 * 4 * width),  # norm on the linear output, as theirs
                                   make_norm(norm, 1, 16 * 4 * width, n_classes), make_activation(activation)])

        def up(i: int, o: int) -> nn.ConvTranspose2d:  # 5x5, stride 2, 'SAME': exactly doubles the size
            return nn.ConvTranspose2d(i, o, 5, 2, padding=2, output_padding=1)

        self.up1 = nn.ModuleList([up(4 * width, 2 * width), make_norm(norm, 2, 2 * width, n_classes),
                                  make_activation(activation)])
        self.up2 = nn.ModuleList([up(2 * width, width), make_norm(norm, 2, width, n_classes),
                                  make_activation(activation)])
        self.out = up(width, channels)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = run_layers(self.stem, self._input(z, y), y)  # (B, 4w * 16)
        h = run_layers(self.up1, h.view(-1, 4 * self.width, 4, 4), y)  # (B, 2w, 8, 8)
        if self.size == 28:
            h = h[:, :, :7, :7]  # the authors' crop: 7 -> 14 -> 28
        h = run_layers(self.up2, h, y)  # (B, w, 14|16, 14|16)
        return torch.tanh(self.out(h))  # (B, C, 28|32, 28|32)


class MNISTConvCritic(FeatureCritic):
    """The WGAN-GP authors' MNIST critic; features are the flattened ``(B, 4w * 4 * 4)`` last conv map."""

    def __init__(self, shape: tuple[int, ...], width: int = 64, norm: str = "none", activation: str = "leaky_relu",
                 n_classes: int = 0) -> None:
        channels, _ = _mnist_size(shape)
        if norm not in ("none", "layer", "batch"):
            raise ValueError(f"mnist-conv critic norm must be none, layer or batch, got {norm!r}")
        super().__init__(4 * width * 16, n_classes)

        def act() -> nn.Module:
            return nn.LeakyReLU(0.2) if activation == "leaky_relu" else make_activation(activation)

        def down(i: int, o: int) -> nn.Conv2d:  # 5x5, stride 2, 'SAME': 28 -> 14 -> 7 -> 4, 32 -> 16 -> 8 -> 4
            return nn.Conv2d(i, o, 5, 2, padding=2)

        self.layers = nn.Sequential(down(channels, width), act(),
                                    down(width, 2 * width), make_norm(norm, 2, 2 * width), act(),
                                    down(2 * width, 4 * width), make_norm(norm, 2, 4 * width), act())
        self.out = nn.Linear(4 * width * 16, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, 4w * 16)
        return self.layers(x).flatten(1)

    def head(self, h: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B,)
        return self.out(h).squeeze(1)


__all__ = ["BottleneckBlock", "BottleneckResNetCritic", "BottleneckResNetGenerator", "MNISTConvCritic",
           "MNISTConvGenerator", "ResNetCritic", "ResNetGenerator", "bottleneck_blocks"]

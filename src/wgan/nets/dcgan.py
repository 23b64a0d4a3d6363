"""DCGAN generator and critic as in the WGAN authors' code (Arjovsky et al. 2017, ``models/dcgan.py``),
with the architecture variants of WGAN Fig. 7/8 and WGAN-GP sec. 5.2 / Fig. 2 as arguments.

Generator (``DCGAN_G``): ``z (B, nz, 1, 1)`` -> 4x4 transposed conv to ``4x4`` with ``c0`` filters, then
stride-2 4x4 transposed convs halving the filters and doubling the size up to ``H/2``, ``extra_layers``
3x3 convs, a last stride-2 4x4 transposed conv to ``C`` channels and tanh. ``c0 = width * H / 8``
(``ngf`` doubled once per upsampling), so the last hidden layer has ``width`` filters.
Critic (``DCGAN_D``): stride-2 4x4 conv to ``width`` filters + LeakyReLU(0.2) (no norm on this layer),
``extra_layers`` 3x3 convs, stride-2 4x4 convs doubling the filters down to ``4x4``, then a 4x4 conv to
one value, no sigmoid. Every conv has no bias, weights N(0, 0.02), batch-norm gains N(1, 0.02) (the
authors' ``weights_init``). Any power-of-two square image size >= 8 works.

Variants (arguments):
* ``norm``: ``"batch"`` (the authors'), ``"none"`` (WGAN Fig. 7 ``DCGAN_G_nobn``; WGAN-GP "no normalisation
  anywhere"), ``"layer"`` (critic; per-sample, for penalties) or ``"cond-batch"`` (class-conditional G).
* ``constant_width``: every generator layer has ``width`` filters (WGAN Fig. 7 / WGAN-GP Fig. 2: "no batch
  norm and a constant number of filters in the generator").
* ``activation``: ``"relu"`` (G default), ``"leaky_relu"`` (slope 0.2, the DCGAN critic's), ``"tanh"``
  (WGAN-GP "tanh nonlinearities everywhere"), ``"gated"`` (gated multiplicative nonlinearities
  ``tanh(a) * sigmoid(b)``: each layer produces twice the filters), ``"elu"``, ``"softplus"``,
  ``"softplus_shifted"`` (``softplus(2x + 2) / 2 - 1``, WGAN-GP Table 1).
* ``depth`` (the ``dcgan-deep`` family, WGAN-GP Table 1): conv layers in total; the layers beyond the
  plain net's ``log2(H) - 1`` are ``extra_layers`` (see :func:`dcgan_extra_layers`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .blocks import FeatureCritic, Gated, ImageGenerator, ShiftedSoftplus, make_activation, make_norm, run_layers

DCGAN_ACTIVATIONS: tuple[str, ...] = ("relu", "leaky_relu", "tanh", "gated", "elu", "softplus", "softplus_shifted")


def _act(name: str) -> nn.Module:
    if name == "gated":
        return Gated()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)  # the DCGAN slope
    if name == "softplus_shifted":
        return ShiftedSoftplus()  # WGAN-GP Table 1: softplus(2x + 2) / 2 - 1
    if name not in DCGAN_ACTIVATIONS:
        raise ValueError(f"unknown DCGAN activation {name!r}; choose one of: {', '.join(DCGAN_ACTIVATIONS)}")
    return make_activation(name)


def check_image_size(shape: tuple[int, ...], family: str, minimum: int = 8) -> tuple[int, int]:
    """``(channels, size)`` of a square power-of-two image shape ``(C, H, W)``; ValueError otherwise."""
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"{family} nets need square images (C, H, W), got shape {tuple(shape)}")
    c, size = shape[0], shape[1]
    if size < minimum or size & (size - 1):
        raise ValueError(f"{family} nets need a power-of-two image size >= {minimum}, got {size}; "
                         f"set data.image_size (e.g. 32)")
    return c, size


def dcgan_base_layers(size: int) -> int:
    """Conv layers of the plain DCGAN generator (or critic) for ``size x size`` images: ``log2(size) - 1``
    (the 4x4 projection, one per doubling, the output layer); 4 at 32x32, as WGAN-GP Table 1's smallest depth."""
    return int(math.log2(size)) - 1


def dcgan_extra_layers(depth: int, size: int) -> int:
    """The 3x3 ``extra_layers`` that make a DCGAN ``depth`` conv layers deep at ``size x size``; ValueError if
    ``depth`` is below the plain net's depth."""
    base = dcgan_base_layers(size)
    if depth < base:
        raise ValueError(f"a DCGAN at {size}x{size} has at least {base} conv layers; got depth = {depth} "
                         f"(set depth >= {base})")
    return depth - base


@torch.no_grad()
def dcgan_init(module: nn.Module) -> None:
    """The WGAN authors' ``weights_init``: conv weights N(0, 0.02); batch-norm gains N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            m.weight.normal_(0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            m.weight.normal_(1.0, 0.02)
            m.bias.zero_()


class DCGANGenerator(ImageGenerator):
    """``forward(z, y=None)``: ``(B, latent_dim) -> (B, C, H, W)`` in [-1, 1]; see the module docstring."""

    def __init__(self, shape: tuple[int, ...], latent_dim: int = 100, width: int = 64, norm: str = "batch",
                 activation: str = "relu", extra_layers: int = 0, constant_width: bool = False,
                 n_classes: int = 0) -> None:
        super().__init__(shape, latent_dim, n_classes, norm)
        channels, size = check_image_size(shape, "DCGAN")
        if norm not in ("batch", "none", "cond-batch"):
            raise ValueError(f"DCGAN generator norm must be batch, none or cond-batch, got {norm!r}")
        gate = 2 if activation == "gated" else 1  # a gated activation halves the channels it gets

        def stage(conv: nn.Module, ch: int) -> list[nn.Module]:
            return [conv, make_norm(norm, 2, ch * gate, n_classes), _act(activation)]

        n_up = int(math.log2(size)) - 3  # stride-2 upsamplings between 4x4 and H/2
        c = width if constant_width else width * 2 ** n_up
        layers = stage(nn.ConvTranspose2d(self.in_dim, c * gate, 4, 1, 0, bias=False), c)  # (B, c, 4, 4)
        for _ in range(n_up):  # (B, c, s, s) -> (B, c', 2s, 2s)
            c_next = c if constant_width else c // 2
            layers += stage(nn.ConvTranspose2d(c, c_next * gate, 4, 2, 1, bias=False), c_next)
            c = c_next
        for _ in range(extra_layers):  # (B, c, H/2, W/2)
            layers += stage(nn.Conv2d(c, c * gate, 3, 1, 1, bias=False), c)
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1, bias=False), nn.Tanh()]  # (B, C, H, W)
        self.layers = nn.ModuleList(layers)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self._input(z, y)[:, :, None, None]  # (B, in_dim, 1, 1)
        return run_layers(self.layers, h, y)


class DCGANCritic(FeatureCritic):
    """``forward(x)``: ``(B, C, H, W) -> (B,)``; ``features(x)`` is the ``(B, K * 4 * 4)`` last 4x4 state and
    ``head`` the final 4x4 convolution to one value."""

    def __init__(self, shape: tuple[int, ...], width: int = 64, norm: str = "batch", activation: str = "leaky_relu",
                 extra_layers: int = 0, n_classes: int = 0) -> None:
        channels, size = check_image_size(shape, "DCGAN")
        if norm not in ("batch", "none", "layer"):
            raise ValueError(f"DCGAN critic norm must be none, layer or batch, got {norm!r}")
        n_down = int(math.log2(size)) - 3  # stride-2 convs between H/2 and 4x4
        k = width * 2 ** n_down
        super().__init__(k * 16, n_classes)
        gate = 2 if activation == "gated" else 1

        def stage(conv: nn.Module, ch: int) -> list[nn.Module]:
            return [conv, make_norm(norm, 2, ch * gate), _act(activation)]

        c = width
        layers: list[nn.Module] = [nn.Conv2d(channels, c * gate, 4, 2, 1, bias=False), _act(activation)]
        for _ in range(extra_layers):  # (B, c, H/2, W/2)
            layers += stage(nn.Conv2d(c, c * gate, 3, 1, 1, bias=False), c)
        for _ in range(n_down):  # (B, c, s, s) -> (B, 2c, s/2, s/2)
            layers += stage(nn.Conv2d(c, 2 * c * gate, 4, 2, 1, bias=False), 2 * c)
            c *= 2
        self.layers = nn.Sequential(*layers)
        self.out = nn.Conv2d(c, 1, 4, 1, 0, bias=False)  # (B, K, 4, 4) -> (B, 1, 1, 1)
        self.k = c
        dcgan_init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, K * 16)
        return self.layers(x).flatten(1)

    def head(self, h: torch.Tensor) -> torch.Tensor:  # (B, K * 16) -> (B,)
        return self.out(h.view(-1, self.k, 4, 4)).flatten()


__all__ = ["DCGAN_ACTIVATIONS", "DCGANCritic", "DCGANGenerator", "check_image_size", "dcgan_base_layers",
           "dcgan_extra_layers", "dcgan_init"]

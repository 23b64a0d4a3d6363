"""Multilayer perceptrons for the toy problems: depth, width, activation and normalisation are arguments.

The WGAN-GP authors' toy setting is 3 hidden ReLU layers of width 512 in both networks
(Gulrajani et al. 2017, code `gan_toy.py`): ``MLP(2, 2, depth=3, width=512)``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Activation = Literal["relu", "leaky_relu", "tanh", "elu", "softplus"]
Norm = Literal["none", "batch", "layer"]
Init = Literal["default", "he"]
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh, "elu": nn.ELU, "softplus": nn.Softplus,
}
NORMS: tuple[str, ...] = ("none", "batch", "layer")
INITS: tuple[str, ...] = ("default", "he")


class MLP(nn.Module):
    """``in_dim -> [Linear -> norm -> activation] x depth -> Linear -> out_dim``.

    ``hidden`` is a ModuleList of the hidden blocks (each a Sequential), so diagnostics can hook the
    activations of every layer. With ``out_dim == 1`` and ``squeeze`` the output is ``(B,)``.
    """

    def __init__(self, in_dim: int, out_dim: int, depth: int = 3, width: int = 512,
                 activation: Activation = "relu", norm: Norm = "none", squeeze: bool = False,
                 init: Init = "default") -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATIONS)}")
        if norm not in NORMS:
            raise ValueError(f"unknown norm {norm!r}; choose one of: {', '.join(NORMS)}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of: {', '.join(INITS)}")
        if depth < 0 or width < 1:
            raise ValueError(f"MLP needs depth >= 0 and width >= 1, got depth={depth}, width={width}")
        blocks = []
        d = in_dim
        for _ in range(depth):
            layers: list[nn.Module] = [nn.Linear(d, width)]
            if norm == "batch":
                layers.append(nn.BatchNorm1d(width))
            elif norm == "layer":
                layers.append(nn.LayerNorm(width))
            layers.append(ACTIVATIONS[activation]())
            blocks.append(nn.Sequential(*layers))
            d = width
        self.hidden = nn.ModuleList(blocks)
        self.out = nn.Linear(d, out_dim)
        self.squeeze = squeeze and out_dim == 1
        if init == "he":
            self._init_he()

    @torch.no_grad()
    def _init_he(self) -> None:
        """The WGAN-GP authors' toy initialisation (tflib ``Linear``): hidden layers uniform with std
        sqrt(2 / fan_in) ("he"), the output layer uniform with std sqrt(2 / (fan_in + fan_out)), zero biases."""
        for block in self.hidden:
            lin = block[0]
            bound = (3 * 2.0 / lin.in_features) ** 0.5  # U[-a, a] has std a / sqrt(3)
            lin.weight.uniform_(-bound, bound)
            lin.bias.zero_()
        bound = (3 * 2.0 / (self.out.in_features + self.out.out_features)) ** 0.5
        self.out.weight.uniform_(-bound, bound)
        self.out.bias.zero_()

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, in_dim) -> (B, width): the last hidden layer
        for block in self.hidden:
            x = block(x)
        return x

    def head(self, h: torch.Tensor) -> torch.Tensor:  # (B, width) -> (B, out_dim) or (B,)
        x = self.out(h)
        return x.squeeze(1) if self.squeeze else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in_dim) -> (B, out_dim) or (B,)
        return self.head(self.features(x))

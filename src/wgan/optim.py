"""Optimisers by config name, including TensorFlow's RMSProp variant.

``optim.name``: ``adam`` (torch.optim.Adam), ``rmsprop`` (torch.optim.RMSprop with its defaults: alpha 0.99,
eps 1e-8 added after the square root, mean square starting at 0 -- what the WGAN authors' PyTorch code
WassersteinGAN/main.py:161 uses), ``rmsprop_tf`` (:class:`TFRMSProp`: what the WGAN-GP authors' TensorFlow
code uses for its weight-clipping baselines, improved_wgan_training/gan_toy.py:110, gan_cifar.py:105-106,
gan_mnist.py:116-120) and ``sgd``.

Why a hand-written class: torch.optim.RMSprop cannot express TensorFlow's variant (its mean square starts at
0 and its eps sits outside the square root). With the mean square starting at 0, torch's first step is
lr * g / sqrt(0.01 g^2) = 10 lr whatever the gradient, TensorFlow's lr * g / sqrt(0.9 + 0.1 g^2): for the
small gradients of a clipped critic about 10 / |g| times smaller (|g| ~ 1e-3: 10^4 x).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from .errors import ConfigError

OPTIMIZERS = ("adam", "rmsprop", "rmsprop_tf", "sgd")


class TFRMSProp(torch.optim.Optimizer):
    """TensorFlow 1's ``tf.train.RMSPropOptimizer`` (non-centred; its ``ApplyRMSProp`` kernel), per parameter:

    ``ms <- decay * ms + (1 - decay) * g^2``;  ``mom <- momentum * mom + lr * g / sqrt(ms + eps)``;
    ``theta <- theta - mom``, with ``ms`` starting at 1 and ``mom`` at 0. Defaults are TensorFlow's: decay 0.9,
    momentum 0, eps 1e-10 (inside the square root)."""

    def __init__(self, params: Iterable, lr: float, decay: float = 0.9, momentum: float = 0.0,
                 eps: float = 1e-10) -> None:
        if lr < 0 or not 0 <= decay < 1 or momentum < 0 or eps < 0:
            raise ValueError(f"TFRMSProp needs lr >= 0, 0 <= decay < 1, momentum >= 0, eps >= 0; got lr={lr}, "
                             f"decay={decay}, momentum={momentum}, eps={eps}")
        super().__init__(params, {"lr": lr, "decay": decay, "momentum": momentum, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, decay, momentum, eps = group["lr"], group["decay"], group["momentum"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:
                    state["ms"] = torch.ones_like(p)  # TensorFlow initialises the "rms" slot to ones
                    state["mom"] = torch.zeros_like(p)
                ms, mom = state["ms"], state["mom"]
                ms.mul_(decay).addcmul_(g, g, value=1 - decay)
                mom.mul_(momentum).add_(g / (ms + eps).sqrt(), alpha=lr)
                p.sub_(mom)
        return loss


def make_optimizer(name: str, params, lr: float, beta1: float, beta2: float) -> torch.optim.Optimizer:
    """The optimiser ``optim.name`` for ``params`` (betas are Adam's, ignored by the others)."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2))
    if name == "rmsprop":
        # The WGAN authors' PyTorch code uses torch.optim.RMSprop with its defaults (alpha 0.99, eps 1e-8).
        return torch.optim.RMSprop(params, lr=lr)
    if name == "rmsprop_tf":
        return TFRMSProp(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    raise ConfigError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")

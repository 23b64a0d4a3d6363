"""The ensemble's optimiser: Adam, RMSProp or SGD over parameters stacked along a leading member axis, each
member with its own state and learning rate (torch.optim's update formulas, elementwise).

Named apart from :mod:`wgan.optim`, which builds the Trainer's ``torch.optim`` optimisers and schedules.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..errors import ConfigError


class StackedOptimizer:
    """Adam, RMSProp or SGD over parameters stacked as ``(S, ...)``, with a per-member learning rate ``(S,)``.

    The update is torch.optim's, elementwise (so member ``s`` evolves exactly as ``torch.optim.Adam`` /
    ``RMSprop`` (alpha 0.99, eps 1e-8, the library's defaults) / ``SGD`` would move it alone):

    * Adam (Kingma & Ba 2015, Alg. 1): m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
      theta <- theta - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    * RMSProp: v <- a v + (1 - a) g^2;  theta <- theta - lr * g / (sqrt(v) + eps)
    * SGD: theta <- theta - lr * g

    A parameter whose gradient is ``None`` is skipped, as torch.optim skips it.
    """

    def __init__(self, name: str, params: Sequence[torch.Tensor], lr: torch.Tensor, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, alpha: float = 0.99) -> None:
        if name not in ("adam", "rmsprop", "sgd"):
            raise ConfigError(f"unknown optimizer {name!r}; choose adam, rmsprop or sgd")
        self.name, self.params = name, list(params)
        self.beta1, self.beta2, self.eps, self.alpha = beta1, beta2, eps, alpha
        self.lr = lr.detach().clone()  # (S,)
        self.lr_scale = 1.0  # a schedule's factor on every member's lr (optim.lr_decay), as LambdaLR sets it
        # per-parameter views of lr broadcastable to (S, ...)
        self._lr = [self.lr.view(-1, *([1] * (p.dim() - 1))).to(p) for p in self.params]
        self.t = 0
        self.m = [torch.zeros_like(p, memory_format=torch.preserve_format).detach() for p in self.params]
        self.v = [torch.zeros_like(p).detach() for p in self.params]
        self._tmp = [torch.empty_like(p).detach() for p in self.params]  # reused work space

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor | None]) -> None:
        self.t += 1
        scale = self.lr_scale
        if self.name == "adam":
            bc1 = 1 - self.beta1**self.t
            bc2_sqrt = (1 - self.beta2**self.t) ** 0.5
        for p, g, m, v, lr, tmp in zip(self.params, grads, self.m, self.v, self._lr, self._tmp, strict=True):
            if g is None:
                continue
            # temporaries live in reused buffers (same operations, same order): fresh ones cost page faults
            if scale != 1.0:
                lr = lr * scale
            if self.name == "sgd":
                p.sub_(torch.mul(lr, g, out=tmp))
            elif self.name == "rmsprop":
                v.mul_(self.alpha).addcmul_(g, g, value=1 - self.alpha)
                denom = torch.sqrt(v, out=tmp).add_(self.eps)
                p.sub_(torch.mul(lr, g).div_(denom))
            else:
                m.lerp_(g, 1 - self.beta1)
                v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
                denom = torch.sqrt(v, out=tmp).div_(bc2_sqrt).add_(self.eps)
                p.sub_(torch.div(m, denom, out=denom).mul_(lr / bc1))


__all__ = ["StackedOptimizer"]

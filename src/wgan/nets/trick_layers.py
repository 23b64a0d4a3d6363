"""Layers of the Improved-GAN techniques (Salimans et al. 2016, *Improved Techniques for Training GANs*).

* :class:`MinibatchDiscrimination` (sec. 3.2): features ``f(x_i)`` (A) are projected by a tensor
  ``T`` (A x B x C) to ``M_i`` (B x C); ``c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_1)`` and
  ``o(x_i)_b = sum_{j != i} c_b(x_i, x_j)``. The critic sees ``[f(x_i), o(x_i)]``: how close each sample
  is to the rest of its minibatch, so a collapsed generator batch is easy to spot. (The paper's sum runs
  over j = 1..n; its code excludes j = i, whose term is the constant exp(0) = 1; so do we.)
* :class:`MinibatchCritic`: a critic exposing ``features(x) -> (B, F)`` with minibatch discrimination
  inserted between those features and a new linear head. Not per sample (``per_sample = False``), so
  the loop scores real and fake batches separately.
* :class:`VirtualBatchNorm` (sec. 3.5): each sample is normalised with the statistics of a reference batch
  chosen once at the start of training, combined with the sample itself (weight ``1 / (n_ref + 1)``,
  as the authors' code), so a sample's output does not depend on the rest of its minibatch.
  :class:`VirtualBatchNet` runs a network on ``cat([reference, x])``; each VirtualBatchNorm layer takes
  the first ``n_ref`` rows as the reference. :func:`with_virtual_batch_norm` swaps every batch-norm layer
  of a network for one (keeping its affine parameters).

PyTorch has none of these layers, so they are written here by hand.
"""

from __future__ import annotations

import torch
from torch import nn


class MinibatchDiscrimination(nn.Module):
    """``(N, A) -> (N, A + B)``: the input with ``B`` minibatch features appended (Salimans et al. 2016,
    sec. 3.2). Each row of the output depends on the whole minibatch."""

    per_sample = False

    def __init__(self, in_features: int, n_kernels: int, kernel_dim: int) -> None:
        super().__init__()
        self.n_kernels, self.kernel_dim = n_kernels, kernel_dim
        # T in R^{A x B x C}, stored as (A, B * C); the authors' code draws it from N(0, 0.05^2)
        self.T = nn.Parameter(torch.randn(in_features, n_kernels * kernel_dim) * 0.05)

    def forward(self, f: torch.Tensor) -> torch.Tensor:  # (N, A) -> (N, A + B)
        n = f.shape[0]
        m = (f @ self.T).view(n, self.n_kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        l1 = torch.cdist(m, m, p=1)  # (B, N, N): ||M_i,b - M_j,b||_1 (half the time of broadcasting, measured)
        self_pairs = torch.eye(n, dtype=torch.bool, device=f.device)  # (N, N)
        o = torch.exp(-l1).masked_fill(self_pairs, 0.0).sum(2)  # (B, N): sum over j != i (exact, no 1 - 1)
        return torch.cat([f, o.t()], dim=1)


class MinibatchCritic(nn.Module):
    """``base.features`` -> minibatch discrimination -> new linear head; output ``(N,)``.

    ``features(x)`` is ``[f(x), o(x)]`` and ``forward(x) == head(features(x))``, the contract every critic
    keeps. The base critic's own output layer is not used (its parameters receive no gradient)."""

    per_sample = False

    def __init__(self, base: nn.Module, feature_dim: int, n_kernels: int, kernel_dim: int) -> None:
        super().__init__()
        self.base = base
        self.mbd = MinibatchDiscrimination(feature_dim, n_kernels, kernel_dim)
        self.out = nn.Linear(feature_dim + n_kernels, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (N, ...) -> (N, F + B)
        return self.mbd(self.base.features(x))

    def head(self, h: torch.Tensor) -> torch.Tensor:  # (N, F + B) -> (N,)
        return self.out(h).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, ...) -> (N,)
        return self.head(self.features(x))


class VirtualBatchNorm(nn.Module):
    """Virtual batch normalisation of ``(N, C)`` or ``(N, C, *spatial)`` inputs whose first ``n_ref`` rows
    are the reference batch (Salimans et al. 2016, sec. 3.5).

    Reference rows are normalised with the reference statistics; every other row ``x_i`` with
    ``mean_i = (1 - a) mean_ref + a mean(x_i)``, ``meansq_i = (1 - a) meansq_ref + a meansq(x_i)``,
    ``a = 1 / (n_ref + 1)`` (statistics over the rows and spatial positions, per channel). Gradients flow
    through the reference statistics too, as in the authors' code.
    """

    per_sample = True  # within VirtualBatchNet each output row depends on its own row and the fixed reference

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.n_ref = 0  # set by VirtualBatchNet

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n_ref + N, C, *spatial)
        k = self.n_ref
        if not 0 < k <= x.shape[0]:
            raise RuntimeError("VirtualBatchNorm must run inside VirtualBatchNet (which prepends the reference)")
        dims = [0, *range(2, x.dim())]
        spatial = list(range(2, x.dim()))
        ref, rest = x[:k], x[k:]
        mean_ref, meansq_ref = ref.mean(dims), ref.pow(2).mean(dims)  # (C,)
        a = 1.0 / (k + 1)
        if spatial:
            mean_i, meansq_i = rest.mean(spatial), rest.pow(2).mean(spatial)  # (N, C)
        else:
            mean_i, meansq_i = rest, rest.pow(2)  # (N, C)
        mean = torch.cat([mean_ref.expand(k, -1), (1 - a) * mean_ref + a * mean_i])  # (n_ref + N, C)
        meansq = torch.cat([meansq_ref.expand(k, -1), (1 - a) * meansq_ref + a * meansq_i])
        var = (meansq - mean.pow(2)).clamp_min(0.0)
        shape = (x.shape[0], x.shape[1]) + (1,) * len(spatial)
        y = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        cshape = (1, x.shape[1]) + (1,) * len(spatial)
        return y * self.weight.view(cshape) + self.bias.view(cshape)


def with_virtual_batch_norm(net: nn.Module) -> int:
    """Replace every batch-norm layer of ``net`` (in place) by a :class:`VirtualBatchNorm` with the same
    affine parameters; returns how many were replaced."""
    count = 0
    for name, child in list(net.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            vbn = VirtualBatchNorm(child.num_features, child.eps)
            if child.affine:
                with torch.no_grad():
                    vbn.weight.copy_(child.weight)
                    vbn.bias.copy_(child.bias)
            setattr(net, name, vbn)
            count += 1
        else:
            count += with_virtual_batch_norm(child)
    return count


class VirtualBatchNet(nn.Module):
    """``net`` run on ``cat([reference, x])``, returning the rows of ``x`` only: with its batch-norm layers
    made virtual, the output for a sample depends on that sample and the fixed reference alone.

    ``reference`` (a generator's latent batch or a critic's data batch) is a buffer, saved in checkpoints.
    ``features``/``head`` are forwarded when ``net`` has them (critics)."""

    per_sample = True

    def __init__(self, net: nn.Module, reference: torch.Tensor) -> None:
        super().__init__()
        if with_virtual_batch_norm(net) == 0:
            raise ValueError("virtual batch norm replaces batch-norm layers, and this network has none")
        self.net = net
        self.register_buffer("reference", reference.clone())
        n_ref = reference.shape[0]
        for m in net.modules():
            if isinstance(m, VirtualBatchNorm):
                m.n_ref = n_ref
        if hasattr(net, "latent_dim"):
            self.latent_dim = net.latent_dim

    def _run(self, fn, x: torch.Tensor) -> torch.Tensor:
        k = self.reference.shape[0]
        return fn(torch.cat([self.reference.to(x.dtype), x]))[k:]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, ...) -> (N, ...)
        return self._run(self.net, x)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (N, ...) -> (N, F)
        return self._run(self.net.features, x)

    def head(self, h: torch.Tensor) -> torch.Tensor:
        return self.net.head(h)

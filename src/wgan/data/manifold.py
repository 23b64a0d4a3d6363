"""Data on a low-dimensional affine subspace of R^d: the synthetic data of Fedus et al. 2018, *Many Paths
to Equilibrium*, sec. 4 (Experiments I and II).

    x = z W_r + b_r,   z ~ N(0, sigma^2 I_k),   W_r in R^{k x d},  b_r in R^d

with ``W_r`` and ``b_r`` drawn once (entries i.i.d. N(0, 1), from their own seed) and then fixed. For the
paper's line, k = 1. The data distribution is the degenerate Gaussian N(b_r, sigma^2 W_r^T W_r), of rank k,
which :meth:`LineData.gaussian` returns for the closed-form Fréchet distance.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError
from .toy import Sampler


class LineData(Sampler):
    """``sample(n, generator) -> (n, d)`` points of ``x = z W_r + b_r`` (see the module docstring)."""

    def __init__(self, dim: int, sigma: float = 1.0, seed: int = 0, rank: int = 1) -> None:
        if dim < 1 or rank < 1 or rank > dim:
            raise ConfigError(f"line data needs dim >= 1 and 1 <= rank <= dim, got dim={dim}, rank={rank}")
        if not sigma > 0:
            raise ConfigError(f"line data needs sigma > 0, got {sigma}")
        self.name = f"line-d{dim}" if rank == 1 else f"subspace{rank}-d{dim}"
        self.dim, self.rank, self.sigma, self.seed = dim, rank, float(sigma), seed
        g = torch.Generator().manual_seed(seed)
        self.w_r = torch.randn(rank, dim, generator=g)  # (k, d)
        self.b_r = torch.randn(dim, generator=g)  # (d,)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, self.rank, generator=generator) * self.sigma  # (n, k)
        return torch.addmm(self.b_r, z, self.w_r)  # (n, d)

    def gaussian(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean ``(d,)`` and covariance ``(d, d)`` (rank k) of the data, in float64."""
        w = self.w_r.double().numpy()
        return self.b_r.double().numpy(), self.sigma**2 * w.T @ w

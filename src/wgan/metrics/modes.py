"""Mode coverage for Gaussian mixtures (the usual protocol of the unrolled-GAN / VEEGAN / PacGAN papers).

A sample is *high quality* when it lies within ``k`` standard deviations (Euclidean distance, default
k = 3) of its nearest mode. A mode is *covered* when it receives at least ``min_share`` (default 10%) of
the high-quality samples a perfect generator would give it (n / K).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ModeStats:
    modes_covered: int
    n_modes: int
    high_quality_share: float
    counts: list[int]

    def as_dict(self) -> dict:
        return {"modes_covered": self.modes_covered, "n_modes": self.n_modes,
                "high_quality_share": self.high_quality_share}


def mode_stats(samples: torch.Tensor, modes: torch.Tensor, std: float, k: float = 3.0,
               min_share: float = 0.1) -> ModeStats:
    """``samples`` ``(N, D)``, ``modes`` ``(K, D)``; see the module docstring for the protocol."""
    samples = samples.detach().float().cpu()
    modes = modes.float().cpu()
    dist = torch.cdist(samples, modes)  # (N, K)
    nearest_d, nearest = dist.min(dim=1)
    hq = nearest_d <= k * std
    counts = torch.bincount(nearest[hq], minlength=len(modes))
    threshold = min_share * len(samples) / len(modes)
    return ModeStats(int((counts >= max(threshold, 1)).sum()), len(modes),
                     float(hq.float().mean()) if len(samples) else 0.0, counts.tolist())

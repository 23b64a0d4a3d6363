"""Statistics over the seeds of one setting: a metric's median, central 95% of the seeds, mean and its 95%
normal interval, with diverged (non-finite) members counted apart (as Many Paths to Equilibrium, Fedus et
al. 2018, sec. 4, reports per-setting spreads over seeds)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Summary:
    """A metric over the seeds of one setting. ``lo``/``hi``: the central 95% interval of the seeds
    (2.5th and 97.5th percentiles); ``mean_lo``/``mean_hi``: a 95% normal interval for the mean.
    Non-finite values (diverged members) are counted in ``n_diverged`` and left out of the statistics."""

    n: int
    n_diverged: int
    mean: float
    median: float
    lo: float
    hi: float
    mean_lo: float
    mean_hi: float


def summarize(values: Sequence[float] | np.ndarray | torch.Tensor) -> Summary:
    v = np.asarray(values, dtype=np.float64).ravel()
    ok = v[np.isfinite(v)]
    if ok.size == 0:
        nan = float("nan")
        return Summary(int(v.size), int(v.size), nan, nan, nan, nan, nan, nan)
    mean = float(ok.mean())
    half = 1.96 * float(ok.std(ddof=1)) / np.sqrt(ok.size) if ok.size > 1 else 0.0
    lo, hi = np.percentile(ok, [2.5, 97.5])
    return Summary(int(v.size), int(v.size - ok.size), mean, float(np.median(ok)), float(lo), float(hi),
                   mean - half, mean + half)


__all__ = ["Summary", "summarize"]

"""Exact 1-Wasserstein distance between two point sets, by linear programming (POT's network simplex).

W1(P, Q) = min over couplings pi of sum_ij pi_ij ||x_i - y_j||_2, with uniform weights on both sets.
Registered as ``w1_exact_2k``: 2,000 generated points against 2,000 data points, reported next to the
*floor*, W1 between two independent 2,000-point data samples (a finite-sample W1 is biased upwards, so
a perfect generator scores about the floor, not 0). The exact problem is bounded by the free memory
(:func:`wgan.limits.check_w1_size`): a larger one is refused in one line, never approximated under the exact name.
"""

from __future__ import annotations

import numpy as np
import torch

from ..limits import check_w1_size


def _as_numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"point sets must have shape (N, D), got {x.shape}")
    return x.reshape(x.shape[0], -1)


def w1_exact(x: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray) -> float:
    """Exact W1 between the empirical distributions of ``x`` ``(N, D)`` and ``y`` ``(M, D)``; a problem too
    large for the free memory is refused before any allocation (:func:`wgan.limits.check_w1_size`)."""
    if len(x) < 1 or len(y) < 1:
        raise ValueError(f"W1 needs non-empty point sets, got {len(x)} and {len(y)} points")
    check_w1_size(len(x), len(y), "lower eval.n_samples")  # POT would abort the process with std::bad_alloc
    a, b = _as_numpy(x), _as_numpy(y)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"point sets differ in dimension: {a.shape[1]} vs {b.shape[1]}")
    # scipy's cdist computes ||a - b|| directly; POT's ot.dist expands ||a||^2 + ||b||^2 - 2ab, which loses
    # precision for nearby points far from the origin.
    import ot  # POT and scipy here, not at the top: seconds of import that `wgan list` and --help never need
    from scipy.spatial.distance import cdist

    cost = cdist(a, b, metric="euclidean")
    wa = np.full(len(a), 1.0 / len(a))
    wb = np.full(len(b), 1.0 / len(b))
    return float(ot.emd2(wa, wb, cost, numItermax=10_000_000))

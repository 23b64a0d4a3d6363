"""Closed-form divergences of the parallel-lines example, and the discrete earth-mover distance.

*Parallel lines* (Arjovsky, Chintala, Bottou 2017, *Wasserstein GAN*, Example 1 and Fig. 1): Z ~ U[0, 1],
P0 is the law of (0, Z) and P_theta the law of (theta, Z). Then

* W(P0, P_theta)   = |theta|                                  (EM / Wasserstein-1 distance)
* JS(P0, P_theta)  = log 2 if theta != 0, else 0              (Jensen-Shannon, natural log)
* KL(P_theta || P0) = KL(P0 || P_theta) = +inf if theta != 0, else 0
* TV(P0, P_theta)  = 1 if theta != 0, else 0                  (total variation, sup over sets)

Only W is continuous in theta; the other three jump at theta = 0 and are flat elsewhere, so their
gradient with respect to theta is 0 wherever it exists.

*Discrete earth mover* (Weng 2019, *From GAN to WGAN*, sec. "Wasserstein distance"): the cost of the
cheapest plan moving the piles ``p`` at positions ``x`` onto the piles ``q`` at positions ``y``, for
equal total mass, computed exactly by POT's network simplex (``ot.emd``). With unit spacing and
piles P = (3, 2, 1, 4), Q = (1, 2, 4, 3) it is 5.
"""

from __future__ import annotations

import math

import numpy as np

LOG2 = math.log(2.0)


def _theta(theta: float | np.ndarray) -> np.ndarray:
    return np.asarray(theta, dtype=np.float64)


def _out(values: np.ndarray, theta: float | np.ndarray) -> float | np.ndarray:
    return float(values) if np.ndim(theta) == 0 else values


def parallel_lines_w1(theta: float | np.ndarray) -> float | np.ndarray:
    """W(P0, P_theta) = |theta| (WGAN Example 1)."""
    t = _theta(theta)
    return _out(np.abs(t), theta)


def parallel_lines_js(theta: float | np.ndarray) -> float | np.ndarray:
    """JS(P0, P_theta) = log 2 for theta != 0, 0 at theta = 0 (natural logarithm)."""
    t = _theta(theta)
    return _out(np.where(t != 0, LOG2, 0.0), theta)


def parallel_lines_kl(theta: float | np.ndarray) -> float | np.ndarray:
    """KL(P_theta || P0) = +inf for theta != 0, 0 at theta = 0 (the supports are disjoint)."""
    t = _theta(theta)
    return _out(np.where(t != 0, np.inf, 0.0), theta)


def parallel_lines_tv(theta: float | np.ndarray) -> float | np.ndarray:
    """TV(P0, P_theta) = 1 for theta != 0, 0 at theta = 0."""
    t = _theta(theta)
    return _out(np.where(t != 0, 1.0, 0.0), theta)


def parallel_lines_divergences(theta: float | np.ndarray) -> dict[str, float | np.ndarray]:
    """All four of WGAN Example 1 at ``theta``: ``{"w1", "js", "kl", "tv"}``."""
    return {"w1": parallel_lines_w1(theta), "js": parallel_lines_js(theta), "kl": parallel_lines_kl(theta),
            "tv": parallel_lines_tv(theta)}


def earth_mover(p: np.ndarray, q: np.ndarray, x: np.ndarray | None = None, y: np.ndarray | None = None
                ) -> float:
    """Exact earth-mover cost (see :func:`earth_mover_plan`, which also returns the optimal plan)."""
    return earth_mover_plan(p, q, x, y)[0]


def earth_mover_plan(p: np.ndarray, q: np.ndarray, x: np.ndarray | None = None, y: np.ndarray | None = None
                     ) -> tuple[float, np.ndarray]:
    """Exact earth-mover cost of moving piles ``p`` ``(N,)`` at ``x`` ``(N, D)`` onto piles ``q`` ``(M,)`` at
    ``y`` ``(M, D)`` with Euclidean ground cost; the masses are *not* normalised (the result is the total
    mass moved times distance). Positions default to 0, 1, 2, ... on a line. Returns ``(cost, plan)``, the
    plan ``(N, M)`` being POT's exact network-simplex solution (``ot.emd``; ``ot.emd2`` returns the same cost).

    Raises ValueError when the totals differ or a mass is negative: transport needs equal, nonnegative mass.
    """
    p = np.asarray(p, dtype=np.float64).ravel()
    q = np.asarray(q, dtype=np.float64).ravel()
    x = np.arange(len(p), dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
    y = np.arange(len(q), dtype=np.float64) if y is None else np.asarray(y, dtype=np.float64)
    x = x.reshape(len(p), -1)  # (N, D)
    y = y.reshape(len(q), -1)  # (M, D)
    if (p < 0).any() or (q < 0).any():
        raise ValueError("pile masses must be nonnegative")
    if not math.isclose(p.sum(), q.sum(), rel_tol=1e-12, abs_tol=1e-12):
        raise ValueError(f"the piles hold different total mass ({p.sum():g} vs {q.sum():g}); the earth mover "
                         "distance needs equal totals (normalise both to 1 for probability distributions)")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"positions differ in dimension: {x.shape[1]} vs {y.shape[1]}")
    import ot  # imported where used (seconds of import; see wgan.metrics.wasserstein)
    from scipy.spatial.distance import cdist

    cost = cdist(x, y, metric="euclidean")  # (N, M)
    plan = ot.emd(p, q, cost)  # (N, M): plan[i, j] = mass moved from pile i to pile j
    return float((plan * cost).sum()), plan

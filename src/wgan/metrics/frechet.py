"""The squared Fréchet distance between two Gaussians, correct for singular (rank-deficient) covariances.

    d^2(N(mu1, S1), N(mu2, S2)) = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1^{1/2} S2 S1^{1/2})^{1/2})

(Dowson & Landau 1982; the FID of Heusel et al. 2017, eq. 6; the Gaussian metric of Fedus et al. 2018,
*Many Paths to Equilibrium*, sec. 4). The cross term is computed with symmetric eigendecompositions only:
``S1^{1/2}`` is the PSD square root of S1, and ``tr(M^{1/2})`` of the PSD matrix ``M = S1^{1/2} S2 S1^{1/2}``
is the sum of the square roots of its eigenvalues, with tiny negative eigenvalues (round-off) clipped to
zero. ``scipy.linalg.sqrtm`` of the non-symmetric product ``S1 S2`` is unreliable when the covariances are
singular, as they are for data on a line (rank 1 in d dimensions); this form is exact there.

All arithmetic is in float64. ``frechet_distance_from_samples`` estimates both Gaussians from sample
sets with the unbiased covariance (divisor n - 1).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ConfigError


def _clip_eigenvalues(w: np.ndarray) -> np.ndarray:
    """Eigenvalues of a PSD matrix with round-off removed: those below d * eps * max|w| (the accuracy of a
    symmetric eigensolver) become exactly 0. Without this a rank-k matrix contributes sqrt(1e-16) = 1e-8
    per null direction to a trace of square roots."""
    tol = max(float(np.abs(w).max(initial=0.0)), 0.0) * w.shape[-1] * np.finfo(np.float64).eps
    return np.where(w > tol, w, 0.0)


def psd_sqrt(a: ArrayLike) -> np.ndarray:
    """The symmetric PSD square root of a symmetric PSD matrix ``(d, d)``; negative and round-off-sized
    eigenvalues are set to zero. The input is symmetrised first."""
    a = np.asarray(a, dtype=np.float64)
    a = 0.5 * (a + a.T)
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(_clip_eigenvalues(w))) @ v.T


def _as_gaussian(mu: ArrayLike, sigma: ArrayLike, which: str) -> tuple[np.ndarray, np.ndarray]:
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    d = mu.shape[0]
    if mu.ndim != 1 or sigma.shape != (d, d):
        raise ConfigError(f"frechet_distance: mu{which} must have shape (d,) and sigma{which} shape (d, d), got "
                          f"{mu.shape} and {sigma.shape}")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ConfigError(f"frechet_distance: mu{which} / sigma{which} contain NaN or infinite values")
    return mu, sigma


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``mu`` has shape ``(d,)``, ``sigma`` ``(d, d)`` symmetric PSD (possibly singular). Scalars are read as
    1-D Gaussians with *variance* ``sigma``. Returns a float >= 0.
    """
    mu1, s1 = _as_gaussian(mu1, sigma1, "1")
    mu2, s2 = _as_gaussian(mu2, sigma2, "2")
    if mu1.shape != mu2.shape:
        raise ConfigError(f"frechet_distance: the Gaussians live in different dimensions ({mu1.shape[0]} and "
                          f"{mu2.shape[0]})")
    r1 = psd_sqrt(s1)  # (d, d)
    m = r1 @ (0.5 * (s2 + s2.T)) @ r1  # (d, d), PSD
    m = 0.5 * (m + m.T)
    cross = np.sqrt(_clip_eigenvalues(np.linalg.eigvalsh(m))).sum()  # tr(M^{1/2})
    diff = mu1 - mu2
    d2 = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * cross)
    return max(d2, 0.0)


def gaussian_of_samples(x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and unbiased covariance ``(d, d)`` (divisor n - 1) of samples ``x`` ``(n, d)``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ConfigError(f"need a sample array of shape (n, d) with n >= 2, got shape {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False, ddof=1).reshape(x.shape[1], x.shape[1])


def frechet_distance_from_samples(x1: ArrayLike, x2: ArrayLike) -> float:
    """Squared Fréchet distance between Gaussians fitted to two sample sets ``(n1, d)`` and ``(n2, d)``
    (sample means, unbiased covariances)."""
    mu1, s1 = gaussian_of_samples(x1)
    mu2, s2 = gaussian_of_samples(x2)
    return frechet_distance(mu1, s1, mu2, s2)

"""FID reference statistics of a named dataset, computed once and cached with their protocol in the file name.

FID (Heusel et al. 2017, eq. 6; :func:`wgan.metrics.frechet.frechet_distance`) compares two Gaussians fitted to
feature vectors. The reference Gaussian of a run on a named dataset (``mnist``, ``cifar10``, ...) depends only
on the protocol: the dataset and its options, the reference draw (count, seed) and the feature network (its
input path and weights file) -- so it is computed once, stored as
``$WGAN_CACHE/fid-stats/<dataset>-<protocol>.npz`` (``mu`` ``(F,)`` and ``sigma`` ``(F, F)``, float64, the
unbiased covariance), and every later evaluation with the same protocol reads it (``np.load`` with
``allow_pickle=False``). Only the Inception networks of named datasets are cached: a local folder may change
under the same path, and classifier features depend on a user's file.

The file is written to a temporary name and renamed under the cache's lock (:mod:`wgan.fetch`), so a
concurrent or killed evaluation never leaves half a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .frechet import frechet_distance


def feature_stats(x: torch.Tensor, net: Any, batch_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(mu (F,), sigma (F, F))`` in float64 of ``net.features`` over images ``x`` ``(N, C, H, W)`` in [-1, 1];
    ``sigma`` is the unbiased covariance (divisor N - 1), as torchmetrics' FID computes it."""
    batch_size = batch_size or net.batch_size
    p = next(net.features.parameters(), None)
    device = p.device if p is not None else torch.device("cpu")
    with torch.no_grad():
        f = torch.cat([net.features(x[i:i + batch_size].to(device)).double().cpu()
                       for i in range(0, len(x), batch_size)]).numpy()
    return f.mean(axis=0), np.cov(f, rowvar=False)


def fid_to_stats(stats: tuple[np.ndarray, np.ndarray], x: torch.Tensor, net: Any) -> float:
    """FID between the reference Gaussian ``stats`` and the features of images ``x``."""
    mu, sigma = feature_stats(x, net)
    return frechet_distance(stats[0], stats[1], mu, sigma)


def stats_file(dataset: str, protocol: dict[str, Any]) -> Path:
    """``$WGAN_CACHE/fid-stats/<dataset>-<key1><value1>-...npz`` (the protocol in the name, in its order)."""
    from ..fetch import cache_dir

    parts = "-".join(f"{k}{str(v).replace('/', '_').replace('-', '_')}" for k, v in protocol.items())
    return cache_dir() / "fid-stats" / f"{dataset}-{parts}.npz"


def cached_reference_stats(dataset: str, protocol: dict[str, Any], reference: torch.Tensor, net: Any
                           ) -> tuple[np.ndarray, np.ndarray]:
    """The reference statistics of ``protocol`` from the cache, else computed from ``reference`` and cached."""
    from ..fetch import lock

    path = stats_file(dataset, protocol)
    with lock(f"fid-stats/{path.name}"):
        if path.is_file():
            try:
                with np.load(path, allow_pickle=False) as z:
                    return z["mu"], z["sigma"]
            except (OSError, ValueError, KeyError):  # damaged: computed again and replaced below
                pass
        stats = feature_stats(reference, net)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, mu=stats[0], sigma=stats[1])
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return stats


__all__ = ["cached_reference_stats", "feature_stats", "fid_to_stats", "stats_file"]

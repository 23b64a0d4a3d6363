"""The data-vs-data floor of the ``w1_exact_2k`` protocol, computed once per data sample and kept.

The floor is the exact W1 (:func:`wgan.metrics.wasserstein.w1_exact`) between two independent ``n``-point data
samples: what a perfect generator would score on the same protocol. It depends only on those two point sets -- which
the data (a toy distribution, or a file's points), the sample count and the evaluation's seeds fix -- and on the
solver's libraries, yet it costs as much as the run's own W1 (an exact transport problem of ``n x n``). So
:func:`w1_floor` keeps it: in this process, and on disk under the user cache,

    ``$WGAN_CACHE/w1-floor/w1_exact_2k-floor-<n>x<m>-d<dim>-v1-<key>.json``

(``$WGAN_CACHE`` defaults to the platform's user cache folder + ``wgan``, e.g. ``~/.cache/wgan``). ``<key>`` is a
SHA-256 of the two point sets exactly as the solver receives them (float64, C order, with their shapes, in their
order) and of the versions of POT, SciPy and NumPy, so another sample, another count, other seeds or a library
upgrade is another entry, never a stale one. A file is JSON (never unpickled), written atomically (temporary file,
fsync, rename: :func:`wgan.io.atomic_write`), and used only when it is well formed and names the same key, protocol
and format version: anything else is recomputed and written again. A cache that cannot be written (a read-only home)
only costs the recomputation. A value read back is the same double as a recomputation (JSON holds the shortest repr
of a float, which reads back exactly), so every reported figure is identical with or without the cache.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..fetch import CACHE_ENV, cache_dir
from ..io import atomic_write
from ..limits import check_w1_size
from .wasserstein import _as_numpy, w1_exact

if TYPE_CHECKING:
    import torch

PROTOCOL = "w1_exact_2k"  # the evaluation protocol whose floor this is (wgan.metrics.METRICS)
FORMAT = 1  # the cache file's layout; a change of layout or of what the key covers raises it
SUBDIR = "w1-floor"

_MEMO: dict[str, float] = {}  # key -> floor, for the runs of this process


@cache
def solver_versions() -> dict[str, str]:
    """The versions of the libraries the floor's computation runs on (POT's network simplex, SciPy's cdist, NumPy),
    read from their installed metadata, so that a cache hit imports none of them."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("pot", "scipy", "numpy"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:  # pragma: no cover - an unusual install; its floor is still computed right
            out[dist] = "unknown"
    return out


def floor_key(a: np.ndarray, b: np.ndarray) -> str:
    """SHA-256 (hex) of the protocol, the format, the solver versions and the two float64 point sets with shapes."""
    h = hashlib.sha256()
    head = {"protocol": PROTOCOL, "format": FORMAT, "versions": solver_versions(),
            "shapes": [list(a.shape), list(b.shape)], "dtype": "float64"}
    h.update(json.dumps(head, sort_keys=True).encode())
    h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(b, dtype=np.float64).tobytes())
    return h.hexdigest()


def cache_path(a: np.ndarray, b: np.ndarray, key: str) -> Path:
    """Where the floor of ``a`` and ``b`` (with key ``key``) is kept on disk."""
    return cache_dir() / SUBDIR / f"{PROTOCOL}-floor-{len(a)}x{len(b)}-d{a.shape[1]}-v{FORMAT}-{key}.json"


def _read(path: Path, key: str) -> float | None:
    """The floor a cache file holds, or None when it is missing, unreadable or malformed in any way."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("protocol") != PROTOCOL or entry.get("format") != FORMAT or (
            entry.get("key") != key):
        return None
    value = entry.get("floor")
    if type(value) is not float or not math.isfinite(value) or value < 0:  # bool/int/str/NaN: not a floor we wrote
        return None
    return value


def _write(path: Path, key: str, value: float, a: np.ndarray, b: np.ndarray) -> None:
    """Keep ``value`` at ``path`` atomically; a cache that cannot be written is left alone (only an optimisation)."""
    entry = {"protocol": PROTOCOL, "format": FORMAT, "key": key, "floor": value,
             "n": [len(a), len(b)], "dim": int(a.shape[1]), "versions": solver_versions()}
    data = (json.dumps(entry, indent=2) + "\n").encode()
    try:
        atomic_write(path, lambda f: f.write(data))
    except OSError:
        pass


def w1_floor(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """``w1_exact(a, b)`` for two data samples, from this process's memo or the disk cache when either holds it
    (bit-identical to computing it), else computed and kept in both. A problem too large for the free memory is
    refused as :func:`w1_exact` refuses it, cached or not."""
    if len(a) < 1 or len(b) < 1:
        return w1_exact(a, b)  # its error says what is wrong
    check_w1_size(len(a), len(b), "lower eval.n_samples")
    x, y = _as_numpy(a), _as_numpy(b)
    if x.shape[1] != y.shape[1]:
        return w1_exact(x, y)  # its error says what is wrong
    key = floor_key(x, y)
    if key in _MEMO:
        return _MEMO[key]
    path = cache_path(x, y, key)
    value = _read(path, key)
    if value is None:
        value = w1_exact(x, y)
        _write(path, key, value, x, y)
    _MEMO[key] = value
    return value


__all__ = ["CACHE_ENV", "FORMAT", "PROTOCOL", "cache_dir", "cache_path", "floor_key", "solver_versions", "w1_floor"]

"""Sizes checked before they are allocated: a request the machine cannot hold fails at once, in one line
that gives the size, what is free and what to change, instead of swapping, a kernel OOM kill or a C++
``std::bad_alloc`` abort minutes into a run.

Free memory is Linux's ``MemAvailable`` (``/proc/meminfo``), lowered to the cgroup's remaining limit when
the process runs in a container (``/sys/fs/cgroup/memory.max``); elsewhere ``os.sysconf``'s available
pages. Read by hand: psutil is not a dependency, and these are two small text files. Estimates are lower
bounds of what the step needs (the real peak is higher), so a refused request would surely have failed.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

from .errors import ConfigError


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_available() -> int | None:
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit == "max":
            return None
        return int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
    except (OSError, ValueError):
        return None


def available_memory() -> int | None:
    """Bytes of memory this process can still allocate without swapping (None: unknown)."""
    values = [v for v in (_meminfo_available(), _cgroup_available()) if v is not None]
    return max(0, min(values)) if values else None


def need_memory(nbytes: float, what: str, fix: str) -> None:
    """Raise ConfigError when ``nbytes`` exceed the free memory: ``what`` needs about X, Y free; ``fix``."""
    free = available_memory()
    if free is not None and nbytes > free:
        raise ConfigError(f"{what} needs about {format_bytes(nbytes)} of memory but {format_bytes(free)} is free; "
                          f"{fix}")


def need_disk(path: str | Path, nbytes: float, what: str, fix: str) -> None:
    """Raise ConfigError when ``nbytes`` exceed the free space of the file system holding ``path``."""
    folder = Path(path).resolve().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if nbytes > free:
        raise ConfigError(f"{what} needs about {format_bytes(nbytes)} of disk but {format_bytes(free)} is free in "
                          f"{str(folder)!r}; {fix}")


# Peak memory of one exact W1 (wgan.metrics.wasserstein) per pair of points: the float64 cost matrix (8
# bytes) and POT's network-simplex working arrays, measured at 5.1x the cost matrix for N = M = 1000, 2000,
# 4000 (ru_maxrss around cdist + ot.emd2, POT 0.9.7): 42 bytes a pair. 2,000 points: ~170 MB; 20,000: ~17 GB.
W1_BYTES_PER_PAIR = 42


def max_exact_w1_points(free_bytes: int) -> int:
    """The largest N whose N x N exact W1 fits in ``free_bytes``."""
    return math.isqrt(max(0, int(free_bytes)) // W1_BYTES_PER_PAIR)


def check_w1_size(n: int, m: int, fix: str = "evaluate on fewer points") -> None:
    """Refuse (ConfigError) an exact W1 on ``n`` x ``m`` points too large for the free memory, before
    anything is allocated."""
    free = available_memory()
    hint = f" (at most {max_exact_w1_points(free):,} here)" if free is not None else ""
    need_memory(W1_BYTES_PER_PAIR * n * m, f"the exact W1 between {n:,} and {m:,} points (POT's network simplex)",
                fix + hint)


__all__ = ["W1_BYTES_PER_PAIR", "available_memory", "check_w1_size", "format_bytes", "max_exact_w1_points",
           "need_disk", "need_memory"]

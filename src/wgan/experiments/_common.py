"""Helpers shared by the reproductions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from ..io import read_json, write_json


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch CPU ops on one intra-op thread, restoring the previous setting afterwards.

    The reproductions' networks are tiny (widths 16-256): a second thread adds synchronisation and gains
    nothing, and on a loaded 2-core machine its spinning costs a lot (measured by three of us while
    writing them: 2-4 ms vs 10-36 ms per step at width 64, ~70x at width 128, 240 ms vs 4 ms for a
    1,000-member ensemble critic step).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def cached_run(path: Path, setting: dict[str, Any], train: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The run saved at ``path`` when it was made with ``setting``; else ``train()``'s, saved there (atomically)
    with it. A reproduction stopped part-way resumes from its finished runs when it is started again."""
    saved = read_json(path) if path.exists() else None
    if saved is None or saved.get("setting") != setting:
        saved = train() | {"setting": setting}
        write_json(path, saved)
    return saved


def scatter_panel(ax, points, modes, lim: float = 2.0, point_size: float = 2.0, mode_size: float = 25.0) -> None:
    """One toy-data panel: generated ``points`` (N, 2) in green over the mixture's ``modes`` (K, 2) as orange
    crosses, in the square [-lim, lim]^2 without ticks."""
    ax.scatter(modes[:, 0], modes[:, 1], s=mode_size, c="orange", marker="x")
    ax.scatter(points[:, 0], points[:, 1], s=point_size, c="green", alpha=0.5)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])

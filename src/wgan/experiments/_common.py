"""Helpers shared by the reproductions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


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

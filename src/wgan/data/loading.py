"""The input pipeline: image folders decoded by ``torch.utils.data.DataLoader`` workers while the loop trains.

A :class:`FolderStream` serves the critic's real batches of a :class:`~wgan.data.image_datasets.FolderSampler`:
``data.workers`` processes (persistent, ``prefetch_factor`` batches ahead each, pinned memory when the run is on
CUDA) decode and resize the JPEG/PNG files of upcoming batches, so decoding overlaps the training steps instead of
sitting on their critical path; the loop only waits when the workers fall behind (logged as
``time/data_wait_s``).

Seeded, resumable draws. Draw number ``k`` of a run (the loop numbers them ``k = step * n_critic + j`` for the
``j``-th critic step of generator step ``step``) is a pure function of ``(seed, k)``: its image indices are
``randint(N, (n,))`` and its dequantisation noise ``rand(...)`` from torch generators seeded by
:func:`draw_seed` ``(seed, k)``. Nothing else is random, so:

* the loader's whole state is the draw number, which the loop derives from its step counter -- a resumed run
  asks for draw ``step * n_critic`` and gets what the uninterrupted run got (no worker or queue state to save);
* the number of workers changes only speed: ``data.workers = 0`` (decode in the training process) and ``2``
  give identical batches, as does any prefetch depth;
* asking for a draw other than the next one (a resume, a benchmark calling steps by hand) restarts the workers
  at that draw: the result is still the pure function, only the prefetched work is lost.

Decoding (:func:`wgan.data.image_datasets.decode_image`) lets libjpeg scale a JPEG down by a power of two while
decoding (PIL's ``draft``, as ``Image.thumbnail`` does) to no less than twice the target size, then resizes with
antialiasing: the same pixels in the workers, the training process and evaluation.

In-memory datasets (digits, MNIST, CIFAR-10) need no pipeline: :meth:`ImageSampler.to` holds their uint8 pixels
on the training device and their draws happen there (indices and noise from a generator on that device).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..errors import ConfigError
from .image_datasets import FolderSampler


def draw_seed(seed: int, k: int) -> int:
    """A 63-bit seed for draw ``k`` of a run seeded ``seed`` (numpy's SeedSequence hash of ``(seed, k)``:
    nearby pairs give unrelated streams)."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32 & 0xFFFFFFFF, int(k) & 0xFFFFFFFF,
                                    int(k) >> 32 & 0xFFFFFFFF]).generate_state(2, np.uint32)
    return int(state[0]) << 31 ^ int(state[1])


def draw_indices(seed: int, k: int, n: int, size: int) -> torch.Tensor:
    """The ``n`` image indices ``(n,)`` of draw ``k`` among ``size`` images (uniform, with replacement, as
    the in-memory samplers draw)."""
    return torch.randint(size, (n,), generator=torch.Generator().manual_seed(draw_seed(seed, k)))


def default_workers(cores: int | None = None) -> int:
    """``data.workers = -1``: one decoding process per core but one (the training process's), at least 1,
    at most 8 (beyond that a folder of 64x64 images is decoded faster than any step consumes it)."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(8, cores - 1))


class _Draws(Sampler[int]):
    """Draw numbers ``start, start + 1, ...`` without end: the DataLoader's sampler (``batch_size=None``:
    each item of the dataset is one whole batch)."""

    def __init__(self, start: int) -> None:
        self.start = start

    def __iter__(self) -> Iterator[int]:
        k = self.start
        while True:
            yield k
            k += 1


class _Batches(Dataset):
    """Item ``k``: draw ``k`` decoded, ``(k, pixels uint8 (n, 3, S, S), labels (n,))``. Runs in the workers."""

    def __init__(self, sampler: FolderSampler, n: int, seed: int) -> None:
        self.sampler, self.n, self.seed = sampler, n, seed

    def __len__(self) -> int:  # unused (an endless sampler drives it); DataLoader's checks want one
        return 2**62

    def __getitem__(self, k: int) -> tuple[int, torch.Tensor, torch.Tensor]:
        idx = draw_indices(self.seed, k, self.n, len(self.sampler))
        pixels = torch.stack([self.sampler.load(int(i)) for i in idx])  # (n, 3, S, S) uint8
        labels = self.sampler.labels[idx] if self.sampler.labels is not None else torch.full((self.n,), -1)
        return k, pixels, labels


class FolderStream:
    """The critic's real batches of a folder sampler, decoded ahead by DataLoader workers (module docstring).

    ``batch(k)`` returns draw ``k`` as ``(x (n, 3, S, S) float32 in [-1, 1] on device, y (n,) long)``;
    ``wait_s`` is the total time spent waiting for the workers. ``workers = 0`` decodes in this process."""

    def __init__(self, sampler: FolderSampler, batch_size: int, seed: int, workers: int = -1,
                 device: torch.device | str = "cpu", prefetch: int = 2) -> None:
        if not isinstance(sampler, FolderSampler):
            raise TypeError(f"FolderStream serves an image folder (FolderSampler), got {type(sampler).__name__}")
        if workers < -1:
            raise ConfigError(f"data.workers must be >= 0, or -1 for one per core but one; got {workers}")
        self.sampler, self.n, self.seed = sampler, batch_size, seed
        self.workers = default_workers() if workers == -1 else workers
        self.device, self.prefetch = torch.device(device), prefetch
        self.wait_s = 0.0
        self._next = 0  # the draw the running iterator yields next
        self._it: Iterator[Any] | None = None
        self._loader: DataLoader | None = None

    def _start(self, k: int) -> None:
        self.close()
        kw: dict[str, Any] = {}
        if self.workers > 0:
            kw = dict(num_workers=self.workers, persistent_workers=True, prefetch_factor=self.prefetch,
                      multiprocessing_context="spawn" if torch.cuda.is_initialized() else None)
        self._loader = DataLoader(_Batches(self.sampler, self.n, self.seed), batch_size=None, sampler=_Draws(k),
                                  pin_memory=self.device.type == "cuda", **kw)
        self._it, self._next = iter(self._loader), k

    def batch(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``k``: ``(x (n, 3, S, S) in [-1, 1] on the device, y (n,) long on the device)``."""
        if self._it is None or k != self._next:
            self._start(k)
        start = time.perf_counter()
        try:
            got, pixels, labels = next(self._it)  # type: ignore[arg-type]
        except ConfigError as e:  # raised in a worker: DataLoader re-raises it with the worker's traceback
            last = str(e).strip().splitlines()[-1]  # "wgan.errors.ConfigError: <the message>"
            raise ConfigError(last.split("ConfigError: ", 1)[-1]) from None
        self.wait_s += time.perf_counter() - start
        assert got == k, (got, k)  # the DataLoader keeps the sampler's order
        self._next = k + 1
        pixels = pixels.to(self.device, non_blocking=True)
        x = pixels.float()
        if self.sampler.dequantize:  # uniform dequantisation noise of draw k, on the device
            g = torch.Generator(device=self.device).manual_seed(draw_seed(self.seed, k) ^ 1)
            x = (x + torch.rand(x.shape, generator=g, device=self.device)) * (2.0 / 256.0) - 1.0
        else:
            x = x * (2.0 / 255.0) - 1.0
        return x, labels.to(self.device, non_blocking=True)

    def close(self) -> None:
        """Stop the workers (also on garbage collection)."""
        self._it = None
        self._loader = None

    def __del__(self) -> None:
        self.close()


__all__ = ["FolderStream", "default_workers", "draw_indices", "draw_seed"]

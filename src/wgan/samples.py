"""``wgan sample``: a run's generator into a file, streamed in chunks so that any ``--n`` the disk holds
works in bounded memory.

Formats: ``.npy`` (every data kind: an ``(n, *shape)`` float32 array),
``.csv`` (points: one sample a row), ``.png`` (points in 2-D: a scatter; images: a grid); ``.npy`` and
``.csv`` are written chunk by chunk, behind the .npy header of the whole array. The file appears only when
complete (wgan.io.atomic_write), after a check that the disk has room for it.

Chunks hold at most :data:`CHUNK` samples and 64 MiB. The first chunk is ``trainer.generate(n, seed)``
itself, so any ``--n`` up to one chunk gives exactly what earlier versions wrote; chunk ``k >= 1`` draws
from a seed derived from ``(seed, k)`` (NumPy's SeedSequence), so every chunk has its own streams.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from .errors import ConfigError
from .io import atomic_write
from .limits import need_disk

CHUNK = 65_536
CHUNK_BYTES = 64 * 2**20
MAX_SCATTER_POINTS = 1_000_000  # more points than this fill a 5-inch scatter solid: use .npy
MAX_GRID_IMAGES = 10_000
CSV_BYTES_PER_VALUE = 11  # "%.7g," of a typical value in [-10, 10]: sign, digit, point, six digits, comma


def chunk_seed(seed: int, k: int) -> int:
    """The seed of chunk ``k`` (chunk 0: ``seed`` itself)."""
    if k == 0:
        return seed
    return int(np.random.SeedSequence([seed, k]).generate_state(1, np.uint64)[0] >> 2)


def chunks(trainer, n: int, seed: int) -> Iterator[torch.Tensor]:
    """``n`` samples ``(m, *shape)`` in consecutive chunks (see the module docstring)."""
    per_sample = 4 * int(np.prod(trainer.sampler.shape))
    size = max(1, min(CHUNK, CHUNK_BYTES // per_sample))
    conditional = bool(getattr(trainer, "conditional", False))
    done, k = 0, 0
    while done < n:
        m = min(size, n - done)
        labels = (torch.arange(done, done + m) % trainer.n_classes) if conditional else None
        yield _finite(trainer.generate(m, seed=chunk_seed(seed, k), labels=labels), trainer)
        done, k = done + m, k + 1


def check_format(kind: str, out: Path, shape: tuple[int, ...], n: int) -> None:
    """One-line ConfigError when ``out``'s format cannot hold ``n`` samples of this kind, naming those that can."""
    from .kinds import data_kind

    formats = data_kind(kind).sample_formats
    if out.suffix not in formats:
        what = {"images": f"images of shape {shape}", "text": f"text (one-hot {shape} sequences)"}.get(
            kind, f"{shape[0]}-D points")
        extra = " (text runs: .txt sentences)" if kind == "text" else ""
        raise ConfigError(f"--out {str(out)!r}: a {out.suffix or 'file without suffix'} cannot hold {what}; this run "
                          f"writes {', '.join(formats)}{extra}")
    if out.suffix == ".png" and kind == "points":
        if shape[0] != 2:
            raise ConfigError(f"--out {str(out)!r}: a .png scatter needs 2-D points, this run makes {shape[0]}-D ones; "
                              "use .npy or .csv")
        if n > MAX_SCATTER_POINTS:
            raise ConfigError(f"--out {str(out)!r}: a scatter of {n:,} points is a solid blot; draw at most "
                              f"{MAX_SCATTER_POINTS:,} or write .npy")
    if out.suffix == ".png" and kind == "images" and n > MAX_GRID_IMAGES:
        raise ConfigError(f"--out {str(out)!r}: a grid of {n:,} images is too large a picture; draw at most "
                          f"{MAX_GRID_IMAGES:,} or write .npy")


def _finite(x: torch.Tensor, trainer) -> torch.Tensor:
    if not torch.isfinite(x).all():
        raise ConfigError(f"the generator at step {trainer.step} draws NaN or infinite samples: this run diverged; "
                          "nothing was written")
    return x


def write_samples(trainer, n: int, seed: int, out: Path) -> None:
    """``n`` samples of ``trainer``'s generator into ``out`` (format by suffix), streamed in chunks. A
    generator that draws non-finite samples is refused and nothing is written."""
    kind, shape = trainer.sampler.kind, tuple(trainer.sampler.shape)
    check_format(kind, out, shape, n)  # (non-finite weights are refused when the checkpoint loads: wgan.rundir)
    values = n * int(np.prod(shape))
    if out.suffix == ".npy":
        need_disk(out, 4 * values + 128, f"{n:,} samples of shape {shape} as .npy", "lower --n")
        _write_npy(trainer, n, seed, out, shape)
    elif out.suffix == ".csv":
        need_disk(out, CSV_BYTES_PER_VALUE * values, f"{n:,} samples of {shape[0]} values as .csv",
                  "lower --n or write .npy (4 bytes a value)")
        _write_csv(trainer, n, seed, out)
    elif kind == "points":
        from .diagnostics.plots import plot_points

        plot_points(torch.cat(list(chunks(trainer, n, seed))).numpy(), out, title=f"{n} samples, step {trainer.step}")
    else:
        from .kinds.image_runs import save_grid

        x = torch.cat(list(chunks(trainer, n, seed)))
        save_grid(x, max(1, int(np.ceil(np.sqrt(n)))), out)


def _write_npy(trainer, n: int, seed: int, out: Path, shape: tuple[int, ...]) -> None:
    """The .npy header for the whole ``(n, *shape)`` float32 array, then each chunk's bytes in order."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f4")), "fortran_order": False, "shape": (n, *shape)}

    def write(f) -> None:
        np.lib.format.write_array_header_1_0(f, header)
        for x in chunks(trainer, n, seed):
            f.write(x.numpy().astype("<f4", copy=False).tobytes())

    atomic_write(out, write)


def _write_csv(trainer, n: int, seed: int, out: Path) -> None:
    def write(f) -> None:
        for x in chunks(trainer, n, seed):
            np.savetxt(f, x.reshape(len(x), -1).numpy(), delimiter=",", fmt="%.7g")

    atomic_write(out, write)


__all__ = ["CHUNK", "check_format", "chunk_seed", "chunks", "write_samples"]

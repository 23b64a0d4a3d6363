"""Toy 2-D distributions exactly as the WGAN-GP authors' toy script builds them (Gulrajani et al. 2017,
code ``gan_toy.py``), and user-supplied point sets.

* ``8gaussians``:  8 centres on a circle of radius 2, std 0.02, everything divided by 1.414.
* ``25gaussians``: a 5x5 grid of centres at (2i, 2j), i, j in -2..2, std 0.05, divided by 2.828.
  (The script pre-draws 100,000 points with equal counts per mode and shuffles; drawing the mode
  uniformly per sample is the same distribution.)
* ``swissroll``:   scikit-learn's ``make_swiss_roll(noise=0.25)``, columns 0 and 2, divided by 7.5.

Every sampler draws from a ``torch.Generator`` the caller owns, so a checkpoint can save and restore
the data stream exactly.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError
from ..registry import Registry
from .sources import SOURCES, DataSource


class Sampler:
    """A source of data batches: ``sample(n, generator) -> (n, *shape)`` float32 on the CPU.

    ``kind`` says what one sample is and so how a run evaluates and draws samples (``wgan.training.trainer`` looks up
    the hooks of its kind): ``"points"`` (vectors ``(dim,)``: toy and manifold data), ``"images"``
    (``(C, H, W)`` in [-1, 1]) or ``"text"`` (``(L, V)`` one-hot characters). ``dim`` is the number of
    values in one sample (``prod(shape)``). Mixtures also expose ``modes`` ``(K, dim)`` and ``mode_std``
    for mode-coverage metrics.
    """

    name: str = "sampler"
    kind: str = "points"
    dim: int = 2
    modes: torch.Tensor | None = None
    mode_std: float | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one sample; vectors by default."""
        return (self.dim,)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError


class GaussianMixture(Sampler):
    def __init__(self, name: str, centres: torch.Tensor, std: float, scale: float) -> None:
        self.name = name
        self.dim = centres.shape[1]
        self._centres, self._std, self._scale = centres, std, scale
        self.modes = centres / scale
        self.mode_std = std / scale

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(len(self._centres), (n,), generator=generator)
        noise = torch.randn(n, self.dim, generator=generator) * self._std
        return (self._centres[idx] + noise) / self._scale


def eight_gaussians() -> GaussianMixture:
    s = 1.0 / math.sqrt(2)
    unit = [(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)]
    return GaussianMixture("8gaussians", 2.0 * torch.tensor(unit, dtype=torch.float32), 0.02, 1.414)


def twenty_five_gaussians() -> GaussianMixture:
    grid = [(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)]
    return GaussianMixture("25gaussians", torch.tensor(grid, dtype=torch.float32), 0.05, 2.828)


class SwissRoll(Sampler):
    name = "swissroll"

    def __init__(self, noise: float = 0.25, scale: float = 7.5) -> None:
        self.noise, self.scale = noise, scale

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        from sklearn.datasets import make_swiss_roll  # here, not at the top: scikit-learn takes seconds to import

        # scikit-learn draws from NumPy; seed it from the caller's torch stream so runs are reproducible.
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
        x, _ = make_swiss_roll(n_samples=n, noise=self.noise, random_state=seed)
        return torch.from_numpy(x[:, [0, 2]] / self.scale).float()


MAX_POINT_MAGNITUDE = 1e18  # points are held in float32: squared distances of larger values overflow it


def read_points(path: Path) -> np.ndarray:
    """A ``.npy`` (never unpickled) or ``.csv`` file as a float64 ``(N, D)`` array of real, finite numbers
    of magnitude below :data:`MAX_POINT_MAGNITUDE` with at least two distinct rows; else a one-line
    ConfigError naming the file and what is wrong with it."""
    from ..limits import need_memory

    where = f"data file {str(path)!r}"
    try:
        if path.suffix == ".npy":
            raw = np.load(path, mmap_mode="r", allow_pickle=False)  # header and dtype first, data on demand
            if raw.dtype.kind not in "biuf":
                fix = "keep the real part, np.save(path, points.real)" if raw.dtype.kind == "c" else \
                    "save an array of real numbers (float or int)"
                raise ConfigError(f"{where} holds {raw.dtype} values; {fix}")
            need_memory(raw.size * 8 * 2, f"{where} ({raw.shape} values)", "use a smaller sample of the points")
            arr = np.array(raw, dtype=np.float64)  # a copy: the memory map is read-only
        else:
            with warnings.catch_warnings():  # an empty file: the shape check below says so
                warnings.simplefilter("ignore", UserWarning)
                arr = np.asarray(_read_csv(path), dtype=np.float64)
    except ConfigError:
        raise
    except EOFError:
        raise ConfigError(f"{where} is empty or cut short (no .npy header); write it again") from None
    except ValueError as e:
        msg = str(e)
        if "pickled" in msg or "Object arrays" in msg or "Python objects" in msg:
            raise ConfigError(f"{where} holds pickled Python objects, which wgan never loads (they can run code); "
                              "save a numeric array with np.save") from None
        if "mmap length" in msg:
            raise ConfigError(f"{where} is cut short: its header promises more data than the file holds; "
                              "write it again") from None
        raise ConfigError(f"could not read {where} as numbers: {msg.splitlines()[0].split('; use')[0]}") from None
    except OSError as e:
        raise ConfigError(f"could not read {where}: {e.strerror or e}") from None
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ConfigError(f"{where} must hold a 2-D array of shape (N, D) with N >= 2, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ConfigError(f"{where} contains NaN or infinite values; remove those rows")
    if np.abs(arr).max() >= MAX_POINT_MAGNITUDE:
        raise ConfigError(f"{where} has values up to {np.abs(arr).max():.3g}; points must stay below "
                          f"{MAX_POINT_MAGNITUDE:.0e} in magnitude (float32 distances overflow): rescale them")
    if (arr == arr[0]).all():
        raise ConfigError(f"{where}: all {len(arr)} rows are the same point; a generative model needs a "
                          "distribution of at least two distinct points")
    return arr


class PointSet(Sampler):
    """Points from a ``.npy`` or ``.csv`` file of shape ``(N, D)``, drawn uniformly with replacement."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        self.name = path.stem
        if not path.is_file():
            raise ConfigError(f"data file {str(path)!r} does not exist; give a .npy or .csv file of (N, D) "
                             f"points or one of: {', '.join(TOY_DATA)}")
        if path.suffix not in (".npy", ".csv"):
            raise ConfigError(f"data file {str(path)!r} has an unknown type; use .npy or .csv (N rows of D "
                              "comma-separated numbers)")
        arr = read_points(path)
        self.points = torch.from_numpy(arr).float()
        self.dim = arr.shape[1]

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.points[torch.randint(len(self.points), (n,), generator=generator)]


def _read_csv(path: Path) -> np.ndarray:
    """N rows of D comma-separated numbers, after at most one header line (column names, e.g. ``x,y``)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    try:
        [float(v) for v in first.split(",")]
        header = 0
    except ValueError:  # the first line is not numbers: a header, skipped; any other bad line still fails below
        header = 1
    return np.loadtxt(path, delimiter=",", ndmin=2, skiprows=header)


@dataclass(frozen=True)
class Toy:
    """A toy distribution of the registry :data:`TOYS`: its ``wgan list`` line and its sampler's constructor."""

    description: str
    make: Callable[[], Sampler]


TOYS: Registry[Toy] = Registry("toy distribution")
TOYS.add("8gaussians", Toy("8 Gaussians on a circle (radius 2, std 0.02, /1.414), WGAN-GP toy script",
                           eight_gaussians))
TOYS.add("25gaussians", Toy("5x5 grid of Gaussians (std 0.05, /2.828), WGAN-GP toy script", twenty_five_gaussians))
TOYS.add("swissroll", Toy("scikit-learn swiss roll (noise 0.25, columns 0 and 2, /7.5), WGAN-GP toy script",
                          SwissRoll))
TOY_DATA: dict[str, str] = {name: t.description for name, t in TOYS.items()}  # name -> description


def make_sampler(name: str) -> Sampler:
    """A toy distribution by name, or a user's ``.npy``/``.csv`` point file by path."""
    if name in TOYS:
        return TOYS[name].make()
    if name.endswith((".npy", ".csv")) or "/" in name or Path(name).exists():
        return PointSet(name)
    raise ConfigError(f"unknown data {name!r}; choose one of: {', '.join(TOY_DATA)}, or a path to a .npy/.csv "
                     "file of (N, D) points")


SOURCES.add("points", DataSource(
    kind="points", recognises=lambda name: name in TOYS or name.endswith((".npy", ".csv")),
    make=lambda name, data_cfg: make_sampler(name), names=TOY_DATA, order=20, fallback=lambda name: True))

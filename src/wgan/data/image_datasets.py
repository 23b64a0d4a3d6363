"""Image datasets from local files: samplers of ``(C, H, W)`` images in [-1, 1]. Named datasets (``mnist``,
``cifar10``, ...) are fetched into the cache by :mod:`wgan.data.named_datasets` and read by the readers here.

* ``digits``: scikit-learn's bundled 8x8 digits (1,797 images, values 0..16, 10 classes), the embedded default.
* MNIST from IDX files in a folder (``train-images-idx3-ubyte``, ``t10k-images-idx3-ubyte``, ... plain or
  ``.gz``; the test split alone is enough).
* CIFAR-10 from its python pickle batches (``data_batch_1..5``, ``test_batch``, or their
  ``cifar-10-batches-py`` folder), read with a restricted unpickler (:mod:`wgan.data.safe_pickle`) that
  admits only numpy arrays and plain containers: a tampered batch is refused, never run.
* Any folder of images (LSUN / CelebA exports): each image is resized (shorter side) and centre-cropped
  to ``data.image_size`` (default 64) when drawn; images in sub-folders are labelled by sub-folder.

Variants built from a 10-class grayscale set (MNIST or digits), ``data.variant``:
* ``stacked``: Stacked MNIST (Metz et al. 2016, used by Many Paths sec. 4): three independently drawn
  digits as the R, G, B channels, label ``100 a + 10 b + c`` (1,000 modes).
* ``color``: one digit per image in a random colour: channel k is the digit times c_k, c ~ U[0, 1]^3;
  the label is the digit.

Pixels: stored as uint8 ``v`` in 0..255 and mapped to ``2 v / 255 - 1``; with ``data.dequantize`` to
``2 (v + u) / 256 - 1``, u ~ U[0, 1) (uniform dequantisation noise). Validation split: the dataset's test
split when it has a separate one (MNIST t10k, CIFAR ``test_batch``), else the last ``min(val_size, N // 5)``
images held out; ``data.subset`` keeps the first N training images (WGAN-GP Fig. 5b's 1,000-image run). With
``data.split = "random"`` the training images are first shuffled by ``data.split_seed``, so the subset and the
held-out images are a seeded random draw (MNIST's t10k halves come from different writers: its last images
are not exchangeable with its first).
"""

from __future__ import annotations

import gzip
import math
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from .safe_pickle import load_data_pickle
from .sources import SOURCES, DataSource
from .toy import Sampler

IMAGE_DATA: dict[str, str] = {
    "digits": "images: scikit-learn's bundled 8x8 digits (1,797, 10 classes; data.image_size resizes)",
}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")
MNIST_FILES = {split: (f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte") for split in ("train", "t10k")}
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST = "test_batch"
VARIANTS = ("plain", "stacked", "color")
DEFAULT_FOLDER_SIZE = 64


def to_unit_range(pixels: torch.Tensor, dequantize: bool, generator: torch.Generator) -> torch.Tensor:
    """uint8 ``(n, C, H, W)`` -> float32 in [-1, 1]; optional uniform dequantisation noise (drawn on the
    generator's device, added on the pixels')."""
    x = pixels.float()
    if dequantize:
        noise = torch.rand(x.shape, generator=generator, device=generator.device).to(x.device)
        return (x + noise) * (2.0 / 256.0) - 1.0
    return x * (2.0 / 255.0) - 1.0


def decode_image(path: Path, size: int) -> torch.Tensor:
    """An image file as uint8 ``(3, size, size)``: RGB, shorter side resized to ``size`` (antialiased), centre
    crop. A JPEG is first decoded at the smallest power-of-two reduction (libjpeg's DCT scaling, PIL's
    ``draft``, as ``Image.thumbnail`` does) that keeps both sides at least ``2 size``: 2-4x less decoding for
    photos much larger than the training size, the final antialiased resize unchanged."""
    from PIL import Image
    from torchvision.transforms import functional as TF  # torchvision where used: seconds of import

    try:
        with Image.open(path) as im:
            if im.format == "JPEG":
                im.draft("RGB", (2 * size, 2 * size))
            im = TF.resize(im.convert("RGB"), size)  # shorter side -> size (PIL, antialiased)
            return TF.pil_to_tensor(TF.center_crop(im, [size, size]))
    except (OSError, ValueError, Image.DecompressionBombError) as e:  # damaged, foreign, or a decompression bomb
        raise ConfigError(f"could not read image {str(path)!r}: {e}; remove it from the folder") from None


class ImageSampler(Sampler):
    """Images held as one uint8 tensor ``pixels`` ``(N, C, H, W)`` with optional ``labels`` ``(N,)``;
    draws uniformly with replacement. ``validation`` is the held-out split (a sampler) or None."""

    kind = "images"

    def __init__(self, name: str, pixels: torch.Tensor, labels: torch.Tensor | None = None, n_classes: int = 0,
                 dequantize: bool = False, validation: ImageSampler | None = None) -> None:
        if pixels.dtype != torch.uint8 or pixels.dim() != 4 or len(pixels) < 1:
            raise ValueError(f"pixels must be a non-empty uint8 (N, C, H, W) tensor, got {pixels.dtype} "
                             f"{tuple(pixels.shape)}")
        self.name, self.pixels, self.labels = name, pixels.contiguous(), labels
        self.n_classes = n_classes if labels is not None else 0
        self.dequantize, self.validation = dequantize, validation
        self.dim = int(np.prod(pixels.shape[1:]))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.pixels.shape[1:])

    def __len__(self) -> int:
        return len(self.pixels)

    def sample_with_labels(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x (n, C, H, W) in [-1, 1], y (n,) long)``; ``y`` is all -1 for unlabelled data."""
        # indices from the generator on its own device (the training device when the pixels live there, .to)
        idx = torch.randint(len(self.pixels), (n,), generator=generator, device=generator.device)
        idx = idx.to(self.pixels.device)
        x = to_unit_range(self.pixels[idx], self.dequantize, generator)
        y = (self.labels[idx] if self.labels is not None
             else torch.full((n,), -1, dtype=torch.long, device=self.pixels.device))
        return x, y

    def to(self, device: torch.device | str) -> ImageSampler:
        """This dataset (and its validation split) held on ``device``: draws index there, no copy per step."""
        val = self.validation.to(device) if self.validation is not None else None
        labels = self.labels.to(device) if self.labels is not None else None
        return ImageSampler(self.name, self.pixels.to(device), labels, self.n_classes, self.dequantize, val)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.sample_with_labels(n, generator)[0]


class StackedSampler(Sampler):
    """Stacked MNIST: three digits of ``base`` (grayscale, 10 classes) as R, G, B; label ``100a + 10b + c``."""

    kind = "images"
    n_classes = 1000

    def __init__(self, base: ImageSampler, validation: StackedSampler | None = None) -> None:
        _need_grayscale_ten(base, "stacked")
        self.base, self.validation = base, validation
        self.name = f"{base.name}-stacked"
        self.dim = 3 * base.dim

    @property
    def shape(self) -> tuple[int, ...]:
        return (3, *self.base.shape[1:])

    def sample_with_labels(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [self.base.sample_with_labels(n, generator) for _ in range(3)]  # 3 x ((n, 1, H, W), (n,))
        x = torch.cat([p[0] for p in parts], dim=1)  # (n, 3, H, W)
        y = 100 * parts[0][1] + 10 * parts[1][1] + parts[2][1]
        return x, y

    def to(self, device: torch.device | str) -> StackedSampler:
        return StackedSampler(self.base.to(device), self.validation.to(device) if self.validation is not None else None)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.sample_with_labels(n, generator)[0]


class ColorSampler(Sampler):
    """Color MNIST: one digit of ``base`` coloured by c ~ U[0, 1]^3 (channel k = intensity * c_k)."""

    kind = "images"
    n_classes = 10

    def __init__(self, base: ImageSampler, validation: ColorSampler | None = None) -> None:
        _need_grayscale_ten(base, "color")
        self.base, self.validation = base, validation
        self.name = f"{base.name}-color"
        self.dim = 3 * base.dim

    @property
    def shape(self) -> tuple[int, ...]:
        return (3, *self.base.shape[1:])

    def sample_with_labels(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.base.sample_with_labels(n, generator)  # (n, 1, H, W) in [-1, 1]
        colour = torch.rand(n, 3, 1, 1, generator=generator, device=generator.device).to(x.device)
        return (x + 1) * colour - 1, y  # intensity in [0, 1] times colour, back to [-1, 1]

    def to(self, device: torch.device | str) -> ColorSampler:
        return ColorSampler(self.base.to(device), self.validation.to(device) if self.validation is not None else None)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.sample_with_labels(n, generator)[0]


def _need_grayscale_ten(base: ImageSampler, variant: str) -> None:
    if base.shape[0] != 1 or base.n_classes != 10:
        raise ConfigError(f"data.variant = {variant!r} needs a labelled grayscale 10-class dataset (MNIST, digits), "
                          f"got {base.name!r} with shape {base.shape} and {base.n_classes} classes")


class FolderSampler(Sampler):
    """Images decoded from ``files`` when drawn: RGB, shorter side resized to ``size``, centre-cropped."""

    kind = "images"

    def __init__(self, name: str, files: list[Path], labels: list[int] | None, n_classes: int, size: int,
                 dequantize: bool = False, validation: FolderSampler | None = None) -> None:
        self.name, self.files, self.size = name, files, size
        self.labels = torch.tensor(labels, dtype=torch.long) if labels is not None else None
        self.n_classes = n_classes if labels is not None else 0
        self.dequantize, self.validation = dequantize, validation
        self.dim = 3 * size * size

    @property
    def shape(self) -> tuple[int, ...]:
        return (3, self.size, self.size)

    def __len__(self) -> int:
        return len(self.files)

    def load(self, i: int) -> torch.Tensor:  # -> uint8 (3, size, size)
        return decode_image(self.files[i], self.size)

    def sample_with_labels(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(len(self.files), (n,), generator=generator)
        pixels = torch.stack([self.load(int(i)) for i in idx])  # (n, 3, S, S)
        y = self.labels[idx] if self.labels is not None else torch.full((n,), -1, dtype=torch.long)
        return to_unit_range(pixels, self.dequantize, generator), y

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.sample_with_labels(n, generator)[0]


# ------------------------------------------------------------------------------------------------ readers
def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (the MNIST format: big-endian magic ``0 0 type ndim``, ``ndim`` int32 sizes, data) of
    unsigned bytes, plain or gzipped. Written by hand: torchvision's reader sits inside its MNIST class."""
    path = Path(path)
    try:
        with _open(path) as f:
            data = f.read()
    except (gzip.BadGzipFile, zlib.error) as e:
        if "Not a gzipped file" in str(e):
            raise ConfigError(f"{str(path)!r} ends in .gz but is not gzip-compressed; rename it without .gz (if it "
                              "is the plain IDX file) or download it again") from None
        raise ConfigError(f"{str(path)!r} is a damaged gzip file ({e}); download it again") from None
    except EOFError:
        raise ConfigError(f"{str(path)!r} is cut short (the gzip stream ends early); download it again") from None
    except OSError as e:
        raise ConfigError(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ConfigError(f"{str(path)!r} is not an IDX file of unsigned bytes (bad magic number)")
    ndim = data[3]
    if ndim < 1 or len(data) < 4 + 4 * ndim:
        raise ConfigError(f"IDX file {str(path)!r} is cut short or damaged: its header names {ndim} dimensions")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if min(dims) < 0 or arr.size != math.prod(dims):
        raise ConfigError(f"IDX file {str(path)!r} holds {arr.size} values but its header says {dims}: the file is cut "
                          "short or damaged; download it again")
    return arr.reshape(dims).copy()  # writable, detached from the file's bytes


def _find(folder: Path, stem: str) -> Path | None:
    """``folder/stem`` in its spellings: ``-idx3-ubyte`` or ``.idx3-ubyte``, plain or ``.gz``."""
    for name in (stem, stem.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            if (folder / (name + suffix)).is_file():
                return folder / (name + suffix)
    return None


def _mnist_split(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor] | None:
    img_stem, lab_stem = MNIST_FILES[split]
    img, lab = _find(folder, img_stem), _find(folder, lab_stem)
    if img is None:
        return None
    if lab is None:
        raise ConfigError(f"MNIST images {str(img)!r} have no labels: looked for {lab_stem}[.gz] in {str(folder)!r}")
    x, y = read_idx(img), read_idx(lab)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y) or len(x) == 0:
        raise ConfigError(f"MNIST files {str(img)!r} and {str(lab)!r} must hold N images (N, H, W) and N labels "
                          f"(N,), got {x.shape} and {y.shape}")
    if y.max() > 9:
        raise ConfigError(f"MNIST labels {str(lab)!r} must lie in 0..9, found {int(y.max())}")
    return torch.from_numpy(x)[:, None], torch.from_numpy(y.astype(np.int64))


def read_mnist(folder: str | Path, wanted: tuple[str, ...] = ("train", "test")
               ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{"train": (pixels (N, 1, 28, 28) uint8, labels (N,)), "test": ...}`` with the ``wanted`` splits present."""
    folder = Path(folder)
    splits = {name: s for name, split in (("train", "train"), ("test", "t10k"))
              if name in wanted and (s := _mnist_split(folder, split)) is not None}
    if not splits:
        names = ", ".join(f"{n}[.gz]" for pair in MNIST_FILES.values() for n in pair)
        raise ConfigError(f"no MNIST IDX files in {str(folder)!r}: looked for {names}")
    return splits


def _cifar_folder(folder: Path) -> Path:
    nested = folder / "cifar-10-batches-py"
    return nested if nested.is_dir() else folder


def read_cifar10(folder: str | Path, wanted: tuple[str, ...] = ("train", "test")
                 ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{"train": (pixels (N, 3, 32, 32) uint8, labels (N,)), "test": ...}`` from the python batches (the
    ``wanted`` splits present)."""
    folder = _cifar_folder(Path(folder))

    def batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
        what = "a CIFAR-10 python batch"
        d = load_data_pickle(path, what)  # restricted: arrays and containers only, never code
        try:
            data, labels = d[b"data"], d[b"labels"]
            if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
                raise ValueError(f"b'data' must be a uint8 (N, 3072) array, got {getattr(data, 'dtype', type(data))} "
                                 f"{getattr(data, 'shape', '')}")
            y = np.asarray(labels, dtype=np.int64)
            if y.shape != (len(data),) or len(data) == 0 or y.min() < 0 or y.max() > 9:
                raise ValueError(f"b'labels' must be {len(data)} labels in 0..9")
        except (KeyError, IndexError, TypeError, ValueError, OverflowError) as e:
            raise ConfigError(f"{str(path)!r} is not {what} ({type(e).__name__}: {e})") from None
        return torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()), torch.from_numpy(y)

    out = {}
    train = [batch(folder / n) for n in CIFAR_TRAIN if (folder / n).is_file() and "train" in wanted]
    if train:
        out["train"] = (torch.cat([b[0] for b in train]), torch.cat([b[1] for b in train]))
    if (folder / CIFAR_TEST).is_file() and "test" in wanted:
        out["test"] = batch(folder / CIFAR_TEST)
    if not out:
        raise ConfigError(f"no CIFAR-10 batches in {str(folder)!r}: looked for {', '.join(CIFAR_TRAIN)}, {CIFAR_TEST}")
    return out


def read_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled digits as uint8 ``(1797, 1, 8, 8)`` (0..16 scaled to 0..255) and labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    pixels = np.rint(d.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    return torch.from_numpy(pixels), torch.from_numpy(d.target.astype(np.int64))


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def detect_format(path: str | Path) -> str | None:
    """``"mnist"``, ``"cifar10"`` or ``"folder"`` for a folder whose files show that format; else None."""
    folder = Path(path)
    if not folder.is_dir():
        return None
    if any(_find(folder, stem) for pair in MNIST_FILES.values() for stem in pair):
        return "mnist"
    cifar = _cifar_folder(folder)
    if any((cifar / n).is_file() for n in (*CIFAR_TRAIN, CIFAR_TEST)):
        return "cifar10"
    if next((p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES), None) is not None:
        return "folder"
    return None


def is_image_source(name: str) -> bool:
    """True for a named image dataset or a folder recognised as one."""
    return name in IMAGE_DATA or detect_format(name) is not None


# ------------------------------------------------------------------------------------------------ samplers
def _opt(cfg: Any, key: str, default: Any) -> Any:
    return getattr(cfg, key, default) if cfg is not None else default


def _resize(pixels: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` -> ``(N, C, size, size)`` (antialiased bilinear), in chunks to bound memory."""
    if size == 0 or pixels.shape[-1] == size and pixels.shape[-2] == size:
        return pixels
    from torchvision.transforms import functional as TF

    chunks = [TF.resize(pixels[i:i + 4096], [size, size], antialias=True) for i in range(0, len(pixels), 4096)]
    return torch.cat(chunks)


def _split(name: str, splits: dict[str, tuple[torch.Tensor, torch.Tensor]], cfg: Any, n_classes: int
           ) -> tuple[ImageSampler, ImageSampler]:
    """Training and validation samplers from the splits read from disk, per the module docstring."""
    size, subset = _opt(cfg, "image_size", 0), _opt(cfg, "subset", 0)
    deq, val_size = _opt(cfg, "dequantize", False), _opt(cfg, "val_size", 640)
    shuffle = _opt(cfg, "split", "ordered") == "random"
    rng = torch.Generator().manual_seed(_opt(cfg, "split_seed", 0))
    if "train" in splits and "test" in splits:
        (x, y), (xv, yv) = splits["train"], splits["test"]
        if shuffle:
            order = torch.randperm(len(x), generator=rng)
            x, y = x[order], y[order]
    else:
        x, y = splits.get("train") or splits["test"]
        if shuffle:
            order = torch.randperm(len(x), generator=rng)
            x, y = x[order], y[order]
        k = min(val_size, len(x) // 5)
        if k < 1:
            raise ConfigError(f"data {name!r} has {len(x)} images: too few to hold out a validation split")
        x, y, xv, yv = x[:-k], y[:-k], x[-k:], y[-k:]
    if subset:
        x, y = x[:subset], y[:subset]
    val = ImageSampler(f"{name}-val", _resize(xv, size), yv, n_classes, deq)
    return ImageSampler(name, _resize(x, size), y, n_classes, deq, validation=val), val


def _with_variant(train: ImageSampler, val: ImageSampler, variant: str) -> Sampler:
    if variant == "plain":
        return train
    if variant == "stacked":
        return StackedSampler(train, validation=StackedSampler(val))
    if variant == "color":
        return ColorSampler(train, validation=ColorSampler(val))
    raise ConfigError(f"unknown data.variant {variant!r}; choose one of: {', '.join(VARIANTS)}")


def _folder_sampler(folder: Path, cfg: Any) -> FolderSampler:
    files = image_files(folder)
    size = _opt(cfg, "image_size", 0) or DEFAULT_FOLDER_SIZE
    classes = sorted({p.relative_to(folder).parts[0] for p in files if len(p.relative_to(folder).parts) > 1})
    labelled = len(classes) >= 2 and all(len(p.relative_to(folder).parts) > 1 for p in files)
    labels = [classes.index(p.relative_to(folder).parts[0]) for p in files] if labelled else None
    seed = _opt(cfg, "split_seed", 0) if _opt(cfg, "split", "ordered") == "random" else 0
    order = torch.randperm(len(files), generator=torch.Generator().manual_seed(seed)).tolist()  # seeded split
    k = min(_opt(cfg, "val_size", 640), len(files) // 5)
    if k < 1:
        raise ConfigError(f"image folder {str(folder)!r} has {len(files)} images: too few to hold out validation")
    tr, va = order[:-k], order[-k:]
    if _opt(cfg, "subset", 0):
        tr = tr[:cfg.subset]
    deq = _opt(cfg, "dequantize", False)

    def part(ix: list[int], name: str, val: FolderSampler | None = None) -> FolderSampler:
        return FolderSampler(name, [files[i] for i in ix], [labels[i] for i in ix] if labels else None,
                             len(classes), size, deq, val)

    return part(tr, folder.name, part(va, f"{folder.name}-val"))


def data_variant(data_cfg: Any) -> str:
    """``data.variant`` of ``data_cfg`` (``"plain"`` when None), one of :data:`VARIANTS`; ConfigError otherwise."""
    variant = _opt(data_cfg, "variant", "plain")
    if variant not in VARIANTS:
        raise ConfigError(f"unknown data.variant {variant!r}; choose one of: {', '.join(VARIANTS)}")
    return variant


def labelled_sampler(name: str, splits: dict[str, tuple[torch.Tensor, torch.Tensor]], data_cfg: Any,
                     variant: str) -> Sampler:
    """The training sampler (with its validation split) of 10-class labelled ``splits`` read from disk
    (``{"train"|"test": (uint8 pixels, labels)}``), split and varied per the module docstring; ``name`` names
    it (its ``.name``)."""
    return _with_variant(*_split(name, splits, data_cfg, 10), variant)


def image_sampler(name: str, data_cfg: Any = None) -> Sampler:
    """The image sampler for ``data.name`` (``digits`` or a folder of MNIST / CIFAR-10 / image files; the named
    datasets of :mod:`wgan.data.named_datasets` register their own source)."""
    variant = data_variant(data_cfg)
    readers: dict[str, Callable[[], dict[str, tuple[torch.Tensor, torch.Tensor]]]] = {
        "digits": lambda: {"train": read_digits()},
        "mnist": lambda: read_mnist(name),
        "cifar10": lambda: read_cifar10(name),
    }
    fmt = "digits" if name == "digits" else detect_format(name)
    if fmt is None:
        raise ConfigError(f"{name!r} is not an image dataset: expected 'digits' or a folder with MNIST IDX files "
                          f"({', '.join(MNIST_FILES['t10k'])}, ...), CIFAR-10 batches ({CIFAR_TEST}, data_batch_N) "
                          f"or image files ({', '.join(IMAGE_SUFFIXES)})")
    if fmt == "folder":
        if variant != "plain":
            raise ConfigError(f"data.variant = {variant!r} applies to MNIST or digits, not to an image folder")
        return _folder_sampler(Path(name), data_cfg)
    return labelled_sampler(fmt, readers[fmt](), data_cfg, variant)  # named by format: digits, mnist, cifar10


SOURCES.add("images", DataSource(kind="images", recognises=is_image_source, make=image_sampler, names=IMAGE_DATA,
                                 order=0, fallback=lambda name: Path(name).is_dir()))  # its error lists the formats

__all__ = ["IMAGE_DATA", "ColorSampler", "FolderSampler", "ImageSampler", "StackedSampler", "data_variant",
           "decode_image", "detect_format", "image_sampler", "is_image_source", "labelled_sampler", "read_cifar10",
           "read_digits", "read_idx", "read_mnist", "to_unit_range"]

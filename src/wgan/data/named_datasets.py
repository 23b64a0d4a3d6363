"""Standard image datasets by name (``--data mnist``, ``cifar10``, ...), fetched once into the cache and read
through the library's own safe readers.

The papers' datasets: MNIST (WGAN-GP sec. 5, Many Paths sec. 4's Stacked MNIST) and CIFAR-10 (WGAN-GP Table 3,
Many Paths Table 1); Fashion-MNIST and KMNIST are the common drop-in replacements for MNIST.

=================  =============================================================================================
name               what is trained on (the validation split)
=================  =============================================================================================
``mnist``          the 60,000 training digits (validation: the 10,000 test digits)
``mnist-test``     the 10,000 test digits alone (validation: the last ``data.val_size`` of them, held out)
``fashion-mnist``  the 60,000 Zalando training images (validation: the 10,000 test images)
``kmnist``         the 60,000 Kuzushiji-MNIST training characters (validation: the 10,000 test ones)
``cifar10``        the 50,000 training images, ``data_batch_1..5`` (validation: the 10,000 of ``test_batch``)
``cifar10-test``   the 10,000 test images alone (validation: the last ``data.val_size`` of them, held out)
=================  =============================================================================================

Where the files come from: torchvision's own tables (``MNIST.mirrors``/``resources``, ``FashionMNIST``,
``KMNIST``, ``CIFAR10.url``/``filename``/``tgz_md5``/``train_list``/``test_list``): the published URLs and MD5s,
not retyped here. The transfer, cache, lock and offline mode are :mod:`wgan.fetch`'s. MNIST-style files stay
gzipped in the cache (the IDX reader reads ``.gz``); the CIFAR-10 archive is unpacked next to itself with
tarfile's ``data`` filter (no absolute paths, links or ``..``; torchvision's ``extract_archive`` has no such
filter) into a temporary folder that is renamed into place once every batch's MD5 holds. Its batches are read
with the restricted unpickler (:mod:`wgan.data.safe_pickle`) like any local CIFAR-10 folder: nothing from a
download is ever unpickled otherwise.

Cache layout (``$WGAN_CACHE``, see :func:`wgan.fetch.cache_dir`)::

    datasets/mnist/train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, ...
    datasets/fashion-mnist/...   datasets/kmnist/...     (the same four names)
    datasets/cifar10/cifar-10-python.tar.gz
    datasets/cifar10/cifar-10-batches-py/data_batch_1..5, test_batch

The names register one :class:`~wgan.data.sources.DataSource` (kind ``images``) in
:data:`~wgan.data.sources.SOURCES`, tried before the image folders' source: a name wins over a folder of the
same name in the working directory; write ``./mnist`` for the folder. Each name also registers in
:data:`wgan.fetch.FETCHABLE` (``wgan fetch NAME``).
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch

from ..fetch import (
    FETCHABLE,
    FetchError,
    Remote,
    check_cached,
    fetch,
    fetch_all,
    file_digest,
    lock,
    missing_offline,
    offline,
)
from .image_datasets import data_variant, labelled_sampler, read_cifar10, read_mnist
from .sources import SOURCES, DataSource
from .toy import Sampler

IDX_MAX_BYTES = 64 << 20  # the largest MNIST-style .gz (Fashion-MNIST's training images) is 26.4 MB
CIFAR_MAX_BYTES = 256 << 20  # cifar-10-python.tar.gz is 170.5 MB


@dataclass(frozen=True)
class Named:
    family: str  # the cache folder and torchvision table: mnist, fashion-mnist, kmnist, cifar10
    splits: tuple[str, ...]  # the splits read: ("train", "test") or ("test",)
    description: str


NAMED_IMAGES: dict[str, Named] = {
    "mnist": Named("mnist", ("train", "test"), "images: MNIST, 60,000 training digits (validation: the 10,000 test "
                   "digits); fetched into the cache on first use"),
    "mnist-test": Named("mnist", ("test",), "images: MNIST's 10,000 test digits alone (the last data.val_size held "
                        "out); fetched on first use"),
    "fashion-mnist": Named("fashion-mnist", ("train", "test"), "images: Fashion-MNIST, 60,000 training images "
                           "(validation: the 10,000 test images); fetched on first use"),
    "kmnist": Named("kmnist", ("train", "test"), "images: Kuzushiji-MNIST, 60,000 training characters (validation: "
                    "the 10,000 test ones); fetched on first use"),
    "cifar10": Named("cifar10", ("train", "test"), "images: CIFAR-10, 50,000 training images (validation: the "
                     "10,000 test images); fetched on first use"),
    "cifar10-test": Named("cifar10", ("test",), "images: CIFAR-10's 10,000 test images alone (the last "
                          "data.val_size held out); fetched on first use"),
}


@dataclass(frozen=True)
class Family:
    """Where one family's files are published: per-split files (MNIST style), or one archive whose members
    (per split, ``name -> md5``) unpack into ``member_folder`` (CIFAR-10)."""

    name: str
    files: dict[str, list[Remote]] = field(default_factory=dict)
    archive: Remote | None = None
    members: dict[str, dict[str, str]] = field(default_factory=dict)
    member_folder: str = ""


def family(name: str) -> Family:
    """The published files of a family, from torchvision's tables (imported here: it takes seconds)."""
    import torchvision.datasets as tvd

    if name in ("mnist", "fashion-mnist", "kmnist"):
        cls = {"mnist": tvd.MNIST, "fashion-mnist": tvd.FashionMNIST, "kmnist": tvd.KMNIST}[name]
        files: dict[str, list[Remote]] = {"train": [], "test": []}
        for filename, md5 in cls.resources:
            split = "train" if filename.startswith("train-") else "test"
            urls = tuple(f"{mirror}{filename}" for mirror in cls.mirrors)
            files[split].append(Remote(f"datasets/{name}/{filename}", urls, md5, "md5", IDX_MAX_BYTES))
        return Family(name, files=files)
    if name == "cifar10":
        c = tvd.CIFAR10
        return Family(name, archive=Remote(f"datasets/cifar10/{c.filename}", (c.url,), c.tgz_md5, "md5",
                                           CIFAR_MAX_BYTES),
                      members={"train": dict(c.train_list), "test": dict(c.test_list)}, member_folder=c.base_folder)
    raise KeyError(name)


def _members_ok(folder: Path, need: dict[str, str]) -> bool:
    return all((folder / n).is_file() and file_digest(folder / n, "md5") == md5 for n, md5 in need.items())


def _unpack(archive: Path, fam: Family, need: dict[str, str]) -> Path:
    """Unpack ``archive`` into a temporary folder beside it, check the members, rename into place."""
    target = archive.parent / fam.member_folder
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=archive.parent))
    try:
        try:
            with tarfile.open(archive) as tar:
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(tmp, filter="data")
                else:  # pragma: no cover - Python < 3.11.4: refuse what the data filter refuses
                    bad = [m.name for m in tar.getmembers() if m.name.startswith("/") or ".." in Path(m.name).parts
                           or not (m.isfile() or m.isdir())]
                    if bad:
                        raise tarfile.TarError(f"unsafe member {bad[0]!r}")
                    tar.extractall(tmp)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
            raise FetchError(f"cannot unpack {archive} ({type(e).__name__}: {e}); delete it to fetch it again, or "
                             f"free space on the disk") from None
        unpacked = tmp / fam.member_folder
        for n, md5 in need.items():
            if not (unpacked / n).is_file() or file_digest(unpacked / n, "md5") != md5:
                raise FetchError(f"{archive} lacks an intact {fam.member_folder}/{n}; delete the archive to fetch it "
                                 "again")
        if target.exists():  # an older, damaged copy: out of the way before the rename
            old = Path(tempfile.mkdtemp(prefix=".old-", dir=archive.parent))
            target.rename(old / "x")
            shutil.rmtree(old, ignore_errors=True)
        unpacked.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def prepare(name: str) -> Path:
    """The cache folder holding dataset ``name``'s files, fetched (and unpacked) first when missing."""
    named = NAMED_IMAGES[name]
    fam = family(named.family)
    if fam.archive is None:
        also = ""
        if "train" in named.splits and f"{name}-test" in NAMED_IMAGES and all(map(check_cached, fam.files["test"])):
            also = f"; the test split is there: --data {name}-test trains on it alone"
        return fetch_all([r for s in named.splits for r in fam.files[s]], also=also)[0].parent
    folder = fam.archive.path.parent / fam.member_folder
    need = {n: md5 for s in named.splits for n, md5 in fam.members[s].items()}
    if _members_ok(folder, need):
        return folder
    if offline() and not fam.archive.path.is_file():
        raise missing_offline([fam.archive], f", or its unpacked {fam.member_folder} folder at {folder}")
    with lock(f"datasets/{fam.name}/unpack"):
        if not _members_ok(folder, need):  # another process may have unpacked it meanwhile
            _unpack(fetch(fam.archive), fam, need)
    return folder


def read_named(name: str) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{split: (uint8 pixels (N, C, H, W), labels (N,))}`` of the named dataset's splits (see the table)."""
    folder = prepare(name)
    named = NAMED_IMAGES[name]
    splits = (read_cifar10 if named.family == "cifar10" else read_mnist)(folder, named.splits)
    missing = [s for s in named.splits if s not in splits]
    if missing:  # cannot happen after prepare(); a guard against files vanishing in between
        raise FetchError(f"{folder} lacks the {', '.join(missing)} split of {name}; delete the folder to fetch again")
    return {s: splits[s] for s in named.splits}


def named_sampler(name: str, data_cfg: Any = None) -> Sampler:
    """The image sampler of named dataset ``name`` (fetched into the cache on first use), with the data options
    of ``data_cfg`` (:class:`wgan.config.DataConfig`; None: the defaults)."""
    variant = data_variant(data_cfg)  # a bad variant is refused before anything is fetched
    return labelled_sampler(name, read_named(name), data_cfg, variant)


SOURCES.add("named images", DataSource(kind="images", recognises=NAMED_IMAGES.__contains__, make=named_sampler,
                                       names={name: n.description for name, n in NAMED_IMAGES.items()}, order=-10))
for _name in NAMED_IMAGES:
    FETCHABLE.add(_name, partial(prepare, _name))

__all__ = ["NAMED_IMAGES", "Family", "Named", "family", "named_sampler", "prepare", "read_named"]

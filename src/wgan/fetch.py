"""Files fetched once into the user's cache, checked, and never half-written: the named datasets
(:mod:`wgan.data.named_datasets`) and pytorch-fid's FID Inception weights (:mod:`wgan.metrics.inception`).

No paper equation lives here; this is the plumbing that puts the papers' datasets (MNIST, CIFAR-10) and the FID
network of Heusel et al. 2017 on a user's machine.

* **Cache folder**: ``$WGAN_CACHE``, else the platform's user cache + ``/wgan`` (``$XDG_CACHE_HOME/wgan`` or
  ``~/.cache/wgan`` on Linux, ``~/Library/Caches/wgan`` on macOS, ``%LOCALAPPDATA%\\wgan`` on Windows). Each file
  has a fixed path under it (:attr:`Remote.relpath`); docs/training.md lists the layout.
* **Checksums**: a file in the cache is used only when its digest (MD5 from torchvision's tables for the
  datasets, SHA-256 pinned here for the weights) matches; a download is hashed while it streams.
* **Downloads that cannot hurt**: the body goes to a temporary ``.NAME.XXXX.part`` beside the target and is
  renamed onto it only after the length and checksum hold. A checksum mismatch, a truncated body, an HTML page
  instead of the file, a body larger than the file can be, a server that never answers (``WGAN_DOWNLOAD_TIMEOUT``
  seconds, default 60) and a full disk each raise :class:`FetchError`: one line naming the URL, what was wrong
  and where to put the file by hand. The temporary file is removed on every failure.
* **Concurrency**: a download holds an exclusive ``fcntl`` lock on ``$WGAN_CACHE/.locks/<relpath>.lock``; a
  second process waiting on it finds the finished file and does not fetch again. (Without ``fcntl``, on
  Windows, there is no lock; the rename is still atomic.)
* **Offline mode**: ``WGAN_OFFLINE=1`` (the CLI's ``--offline`` sets it) never opens a connection; a missing
  file is one line naming its URL and the exact cache path to put it at.
* **Mirrors**: ``WGAN_DOWNLOAD_BASE=URL`` replaces every published location by ``URL/<relpath>`` (a mirror laid
  out like the cache; the tests serve one on 127.0.0.1).
* **What can be fetched by name** (``wgan fetch NAME...``): :data:`FETCHABLE`, where each module that fetches
  registers its names (the named datasets, ``inception``).

torchvision supplies the datasets' published URLs and MD5s, but not the transfer: its ``download_url`` writes
the target in place (a crash leaves a half-written file where the dataset should be), has no lock, no size cap
and no offline mode. The transfer here is urllib with a timeout.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .registry import Registry

CACHE_ENV = "WGAN_CACHE"
OFFLINE_ENV = "WGAN_OFFLINE"
BASE_ENV = "WGAN_DOWNLOAD_BASE"
TIMEOUT_ENV = "WGAN_DOWNLOAD_TIMEOUT"
DEFAULT_TIMEOUT = 60.0  # seconds without a byte from the server before a download is given up
CHUNK = 1 << 20


class FetchError(ConfigError):
    """A file could not be fetched or is not the published one; the message names the URL, what was wrong and
    where to put the file by hand."""


# what `wgan fetch NAME` fetches: name -> a function fetching it into the cache (when missing) and returning the
# file or folder it is read from; registered where each is defined (wgan.data.named_datasets,
# wgan.metrics.inception)
FETCHABLE: Registry[Callable[[], Path]] = Registry("name to fetch")


@dataclass(frozen=True)
class Remote:
    """One published file: where it lives in the cache, where it is published, and its checksum."""

    relpath: str  # path under the cache folder, "/"-separated: "datasets/mnist/t10k-images-idx3-ubyte.gz"
    urls: tuple[str, ...]  # published locations, tried in order
    digest: str  # hex digest of the published file
    algorithm: str = "sha256"  # "sha256" or "md5" (torchvision's dataset tables)
    max_bytes: int = 1 << 30  # a body larger than this is refused (the file cannot be that large)

    @property
    def path(self) -> Path:
        """The file's exact path in the cache."""
        return cache_dir().joinpath(*self.relpath.split("/"))

    @property
    def sources(self) -> tuple[str, ...]:
        """Where it is fetched from: ``$WGAN_DOWNLOAD_BASE/<relpath>`` when that is set, else :attr:`urls`."""
        base = os.environ.get(BASE_ENV, "").strip()
        return (f"{base.rstrip('/')}/{self.relpath}",) if base else self.urls


def cache_dir() -> Path:
    """``$WGAN_CACHE``, else the platform's user cache folder + ``wgan``."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        root = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Caches"
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "wgan"


def offline() -> bool:
    """True when ``WGAN_OFFLINE`` is set to anything but ``""``, ``0``, ``false`` or ``no``."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        raise ConfigError(f"{TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if not value > 0:
        raise ConfigError(f"{TIMEOUT_ENV}={raw!r} must be a positive number of seconds")
    return value


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _by_hand(remote: Remote) -> str:
    return f"download {remote.sources[0]} by hand and put it at {remote.path}"


def check_cached(remote: Remote) -> bool:
    """True when the file is in the cache with the published checksum; False when absent. A file there with
    another checksum (placed by hand, or damaged since) is a :class:`FetchError` naming both digests."""
    path = remote.path
    if not path.is_file():
        return False
    try:
        got = file_digest(path, remote.algorithm)
    except OSError as e:
        raise FetchError(f"cannot read the cached {path}: {e.strerror or e}") from None
    if got != remote.digest:
        raise FetchError(f"{path} has {remote.algorithm} {got}, not the published {remote.digest}: a damaged or "
                         f"different file; delete it (it is fetched again) or {_by_hand(remote)}")
    return True


def missing_offline(remotes: Sequence[Remote], also: str = "") -> FetchError:
    """The offline-mode error for files not in the cache: each one's URL and exact cache path, in one line;
    ``also``: another way out, appended."""
    parts = "; ".join(f"{r.sources[0]} -> {r.path}" for r in remotes)
    what = ("a file that is not in the cache; download it by hand and put it at exactly this path" if len(remotes) == 1
            else f"{len(remotes)} files that are not in the cache; download them by hand and put them at exactly "
                 "these paths")
    return FetchError(f"offline ({OFFLINE_ENV}=1 or --offline) and {what}: {parts}{also} (or run once with network "
                      "access, without offline mode)")


def fetch(remote: Remote, progress: bool | None = None) -> Path:
    """The cached file of ``remote``, downloaded first when absent (see the module docstring). ``progress``:
    a tqdm bar while downloading (None: when stderr is a terminal)."""
    return fetch_all([remote], progress)[0]


def fetch_all(remotes: Sequence[Remote], progress: bool | None = None, also: str = "") -> list[Path]:
    """:func:`fetch` for several files; in offline mode every missing one is named in the one error (with
    ``also``, another way out, appended)."""
    missing = [r for r in remotes if not check_cached(r)]
    if missing and offline():
        raise missing_offline(missing, also)
    for r in missing:
        with lock(r.relpath):
            if check_cached(r):  # another process fetched it while this one waited for the lock
                continue
            _download_any(r, progress)
    return [r.path for r in remotes]


@contextlib.contextmanager
def lock(relpath: str) -> Iterator[None]:
    """An exclusive lock (``fcntl.flock``) named after ``relpath``, held for the block; waits for its holder."""
    folder = cache_dir() / ".locks"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        f = open(folder / (relpath.replace("/", "__") + ".lock"), "a+b")
    except OSError as e:
        raise FetchError(f"cannot write to the cache folder {cache_dir()} ({e.strerror or e}); set {CACHE_ENV} "
                         "to a writable folder") from None
    with f:
        try:
            import fcntl
        except ImportError:  # Windows: no lock; the atomic rename still keeps the cache whole
            yield
            return
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _download_any(remote: Remote, progress: bool | None) -> None:
    """Try each source in turn; raise the first failure (naming the others') when all fail."""
    errors: list[FetchError] = []
    for url in remote.sources:
        try:
            _download(url, remote, progress)
            return
        except FetchError as e:
            errors.append(e)
    if len(errors) > 1:
        raise FetchError(f"{errors[0]} (the other mirrors failed too: "
                         + "; ".join(str(e).split(": ", 1)[0] for e in errors[1:]) + ")")
    raise errors[0]


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip()[:15].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _write(f, chunk: bytes) -> None:  # one place for writes, so that the tests can fill the disk
    f.write(chunk)


def _remove_leftovers(target: Path) -> None:
    """Remove ``.NAME.*.part`` files of killed downloads (only called under the file's lock)."""
    for p in target.parent.glob(f".{target.name}.*.part"):
        with contextlib.suppress(OSError):
            p.unlink()


def _download(url: str, remote: Remote, progress: bool | None) -> None:
    """Stream ``url`` into a temporary file beside the target, check size and checksum, rename onto the target."""
    target, timeout = remote.path, _timeout()

    def fail(what: str, retry: bool = False) -> FetchError:
        again = "try again, or " if retry else ""
        return FetchError(f"cannot fetch {url}: {what}; {again}{_by_hand(remote)}")

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FetchError(f"cannot create the cache folder {target.parent} ({e.strerror or e}); set {CACHE_ENV} to a "
                         "writable folder") from None
    _remove_leftovers(target)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "wgan (python urllib)"})
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        raise fail(f"the server answered HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        if isinstance(e.reason, TimeoutError):
            raise fail(f"no answer from the server within {timeout:g} s ({TIMEOUT_ENV})", retry=True) from None
        raise fail(f"cannot connect ({e.reason})", retry=True) from None
    except TimeoutError:
        raise fail(f"no answer from the server within {timeout:g} s ({TIMEOUT_ENV})", retry=True) from None
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise fail(f"cannot connect ({type(e).__name__}: {e})", retry=True) from None
    tmp: str | None = None
    try:
        with response:
            if "html" in response.headers.get("Content-Type", "").lower():
                raise fail(f"the server sent an HTML page (Content-Type {response.headers['Content-Type']}), not "
                           "the file: an error or login page")
            length = response.headers.get("Content-Length", "")
            expected = int(length) if length.isdigit() else None
            if expected is not None and expected > remote.max_bytes:
                raise fail(f"the server announces {expected:,} bytes, more than the file can be "
                           f"({remote.max_bytes:,} at most)")
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
                got, h = 0, hashlib.new(remote.algorithm)
                from tqdm.auto import tqdm

                show = sys.stderr.isatty() if progress is None else progress
                with os.fdopen(fd, "wb") as f, tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024,
                                                    desc=target.name, disable=not show, leave=False) as bar:
                    while True:
                        try:
                            chunk = response.read(CHUNK)
                        except TimeoutError:
                            raise fail(f"the server stopped sending after {got:,} bytes (nothing for {timeout:g} s)",
                                       retry=True) from None
                        except http.client.IncompleteRead as e:
                            got += len(e.partial)
                            raise fail(f"the body is cut short: {got:,} of {expected or '?'} bytes arrived",
                                       retry=True) from None
                        except (OSError, http.client.HTTPException) as e:
                            raise fail(f"the connection broke after {got:,} bytes ({type(e).__name__}: {e})",
                                       retry=True) from None
                        if not chunk:
                            break
                        if got == 0 and _looks_like_html(chunk):
                            raise fail("the server sent an HTML page, not the file: an error or login page")
                        got += len(chunk)
                        if got > remote.max_bytes:
                            raise fail(f"the body runs past {remote.max_bytes:,} bytes, more than the file can be")
                        h.update(chunk)
                        _write(f, chunk)
                        bar.update(len(chunk))
                    f.flush()
                    os.fsync(f.fileno())
                if expected is not None and got < expected:
                    raise fail(f"the body is cut short: {got:,} of {expected:,} bytes arrived", retry=True)
                digest = h.hexdigest()
                if digest != remote.digest:
                    raise fail(f"its {remote.algorithm} is {digest}, not the published {remote.digest} ({got:,} bytes: "
                               "a damaged or different file)")
                os.replace(tmp, target)
                tmp = None
            except OSError as e:  # creating, writing, syncing or renaming the file in the cache
                why = "the disk is full" if e.errno in (errno.ENOSPC, errno.EDQUOT) else e.strerror or str(e)
                raise FetchError(f"cannot fetch {url}: writing {target.parent} failed ({why}); free space or set "
                                 f"{CACHE_ENV} to another disk, or {_by_hand(remote)}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    from .console import say

    say(f"wgan: fetched {url} -> {target} ({got:,} bytes, {remote.algorithm} checked)")


__all__ = ["BASE_ENV", "CACHE_ENV", "FETCHABLE", "OFFLINE_ENV", "TIMEOUT_ENV", "FetchError", "Remote", "cache_dir",
           "check_cached", "fetch", "fetch_all", "file_digest", "lock", "missing_offline", "offline"]

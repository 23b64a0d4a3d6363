"""Crash-safe file writing: a reader never sees a half-written file, and an old file is only replaced
by a complete new one (write to a temporary file in the same folder, fsync, rename, fsync the folder).
And the one reader of torch files (:func:`load_tensors`): tensors and plain containers only."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets the usual mode, as open() would
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


# One encoding of non-finite numbers in every JSON file wgan writes (summary.json, eval.json, results.json,
# metrics.jsonl, ...): the strings "nan", "inf" and "-inf". The files stay strict JSON (Python's default would
# write the bare tokens NaN/Infinity, which most JSON readers reject); read_json turns the strings back into floats.
NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_nonfinite(obj: Any) -> Any:
    """``obj`` with every non-finite float, at any depth of dicts/lists/tuples, replaced by "nan"/"inf"/"-inf"."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, dict):
        return {k: encode_nonfinite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode_nonfinite(v) for v in obj]
    return obj


def decode_nonfinite(obj: Any) -> Any:
    """The inverse of :func:`encode_nonfinite`: the strings "nan"/"inf"/"-inf" (anywhere) become floats."""
    if isinstance(obj, str):
        return NONFINITE.get(obj, obj)
    if isinstance(obj, dict):
        return {k: decode_nonfinite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode_nonfinite(v) for v in obj]
    return obj


def dumps(obj: Any, **kwargs: Any) -> str:
    """Strict JSON with the one encoding of non-finite numbers (see :data:`NONFINITE`)."""
    return json.dumps(encode_nonfinite(obj), allow_nan=False, **kwargs)


def write_json(path: str | Path, obj: Any) -> None:
    data = (dumps(obj, indent=2, sort_keys=False) + "\n").encode()
    atomic_write(path, lambda f: f.write(data))


def read_json(path: str | Path) -> Any:
    """A JSON file written by :func:`write_json`, with "nan"/"inf"/"-inf" read back as floats."""
    return decode_nonfinite(json.loads(Path(path).read_text()))


def read_jsonl(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    lines = [(i, line.strip()) for i, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]
    for k, (i, line) in enumerate(lines):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if k == len(lines) - 1:  # a torn last line after a crash: drop it quietly
                break
            # a damaged line in the middle: skip it, keep every valid record after it
            warnings.warn(f"{path}: line {i} is not valid JSON; skipped it", UserWarning, stacklevel=2)
    return rows


def load_tensors(path: str | Path | IO[bytes], what: str, name: str | Path | None = None) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU: tensors and plain containers, never code. A damaged
    or foreign file is a one-line ConfigError naming ``what`` it should be, never torch's advice to retry
    without ``weights_only`` (the one thing not to do with a file of unknown origin). ``path`` may also be an
    open binary stream (e.g. bytes unwrapped from a checkpoint envelope); ``name`` is then the file the
    messages name."""
    import torch

    from .errors import ConfigError

    if name is None:
        name = path
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, foreign, or holding objects other than tensors
        msg = str(e)
        named = re.search(r"GLOBAL (\S+)", msg)
        if named:  # the file asks for a callable: refused by weights_only before anything ran
            raise ConfigError(f"refused to load {what} {str(name)!r}: it asks for {named.group(1)}, which wgan never "
                              "loads (tensors only); nothing was run") from None
        first = (msg.strip().splitlines() or [""])[0]
        detail = "no file torch.save wrote" if "Weights only" in first else f"{type(e).__name__}: {first[:160]}"
        raise ConfigError(f"cannot read {what} {str(name)!r}: the file is damaged or of another kind ({detail})"
                          ) from None

"""Writing to the terminal so that a vanished reader never stops or corrupts a run.

``wgan train ... 2>&1 | tee log`` followed by Ctrl-C kills ``tee`` as well: every later write to stdout or
stderr fails with ``BrokenPipeError``. Raised inside the Ctrl-C handler, the progress bar or a warning, that
error would abort the step before its checkpoint. :func:`guarded_std_streams` wraps both streams so that a
failed write points the file descriptor at ``os.devnull`` (what Python's documentation recommends for
SIGPIPE) and carries on; :func:`say` is a print to stderr that never raises, for library code that may run
without the CLI's guard (Ctrl-C handlers, interrupt messages).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any


def _silence(stream: Any) -> None:
    """Point ``stream``'s file descriptor at /dev/null, then drop what its buffer still holds."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real descriptor (a StringIO, pytest's capture)
        pass
    with contextlib.suppress(OSError, ValueError):
        stream.flush()


class GuardedStream:
    """A text stream whose writes never raise ``OSError``: on the first failure its descriptor is pointed at
    /dev/null and everything after is dropped. Every other attribute is the wrapped stream's."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.dead = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except (OSError, ValueError):  # BrokenPipeError, EIO from a closed terminal, a closed file
            self.dead = True
            _silence(self._stream)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):
            self.dead = True
            _silence(self._stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def guarded_std_streams() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` as :class:`GuardedStream` for the duration (restored afterwards, after a
    last guarded flush, so that the interpreter's own flush at exit cannot fail either)."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = GuardedStream(saved[0]), GuardedStream(saved[1])
    try:
        yield
    finally:
        guarded = sys.stdout, sys.stderr
        for s in guarded:
            if isinstance(s, GuardedStream):
                s.flush()
        sys.stdout, sys.stderr = saved


def say(*parts: Any) -> None:
    """``print(*parts, file=sys.stderr)`` that never raises: a message on the way out of a run (Ctrl-C) must
    not turn into an error of its own when nobody reads stderr any more."""
    try:
        print(*parts, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        _silence(sys.stderr)


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s`` or ``2 h 07 min``: a time span for people to read."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds // 60 % 60:02d} min"

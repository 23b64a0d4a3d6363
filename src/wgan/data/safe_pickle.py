"""Reading pickled data files without letting them run code.

A pickle is a small program: its ``GLOBAL``/``STACK_GLOBAL`` opcodes name any importable callable
(``os.system``, ``builtins.exec``, ...) and ``REDUCE`` calls it. :func:`load_data_pickle` unpickles with
an :class:`pickle.Unpickler` whose ``find_class`` (the one door to every importable name, extension-registry
codes included) admits only what a data file of arrays needs, as the Python documentation's
"Restricting Globals" recipe describes; anything else stops the load before it is called, with one line
naming the refused name and the file. Written here because neither numpy nor torch offers a restricted
reader for the CIFAR-10 python batches (``torch.load(weights_only=True)`` reads only torch's zip format).

Admitted names, and why each is harmless:

* ``numpy.ndarray`` and ``numpy.dtype``: the array type and its element types (object arrays are refused
  after loading by the caller, which converts to a numeric dtype).
* ``numpy[._]core.multiarray._reconstruct``: how ``ndarray.__reduce__`` rebuilds an array (an empty array of
  an admitted type, then its shape, dtype and raw bytes).
* ``numpy[._]core.numeric._frombuffer``: the same for pickle protocol 5.
* ``_codecs.encode``: how Python 3 writes ``bytes`` under protocol 2 (text to bytes, latin-1).
* ``builtins`` (``__builtin__`` in Python 2 files) ``bytearray``, ``set``, ``frozenset``: plain containers.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from ..errors import ConfigError

_ALLOWED: dict[tuple[str, str], Any] | None = None


def _allowed() -> dict[tuple[str, str], Any]:
    global _ALLOWED
    if _ALLOWED is None:
        import codecs

        import numpy as np

        try:  # numpy >= 2 keeps its internals in numpy._core; numpy 1 in numpy.core
            from numpy._core.multiarray import _reconstruct
            from numpy._core.numeric import _frombuffer
        except ImportError:  # pragma: no cover - numpy 1.x
            from numpy.core.multiarray import _reconstruct
            from numpy.core.numeric import _frombuffer
        table: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
                                             ("_codecs", "encode"): codecs.encode}
        for core in ("numpy.core", "numpy._core"):  # files written under numpy 1 name numpy.core, numpy 2 numpy._core
            table[(f"{core}.multiarray", "_reconstruct")] = _reconstruct
            table[(f"{core}.numeric", "_frombuffer")] = _frombuffer
        for module in ("builtins", "__builtin__"):  # Python 3 and Python 2 spellings
            for name, obj in (("bytearray", bytearray), ("set", set), ("frozenset", frozenset)):
                table[(module, name)] = obj
        _ALLOWED = table
    return _ALLOWED


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle named a callable outside the admitted set; nothing it names was called."""


class DataUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the names in the module docstring's list."""

    def find_class(self, module: str, name: str) -> Any:
        obj = _allowed().get((module, name))
        if obj is None:
            raise RefusedGlobal(f"{module}.{name}")
        return obj

    def persistent_load(self, pid: Any) -> Any:  # the default already refuses; say so in our words
        raise RefusedGlobal(f"persistent id {pid!r}")


def load_data_pickle(path: str | Path, what: str, encoding: str = "bytes") -> Any:
    """Unpickle ``path`` with :class:`DataUnpickler`. ``what`` names the expected content for the error
    (e.g. "a CIFAR-10 python batch"). A refused name, a truncated or foreign file: one-line ConfigError."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return DataUnpickler(f, encoding=encoding).load()
    except RefusedGlobal as e:
        raise ConfigError(f"refused to load {str(path)!r}: it asks to call {e}, which {what} never holds; nothing "
                          "was run. The file is not genuine (or was tampered with): replace it from the original "
                          "source") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            OverflowError, MemoryError, UnicodeDecodeError) as e:
        raise ConfigError(f"{str(path)!r} is not {what} ({type(e).__name__}: {str(e)[:200]})") from None


__all__ = ["DataUnpickler", "RefusedGlobal", "load_data_pickle"]

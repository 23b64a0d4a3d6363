"""Registries of named choices: each entry is registered once, in the module that defines it.

A :class:`Registry` is the table that dispatch, ``wgan list``, the errors' lists of valid names, ``--help``
and the tests' parametrisation all read, so adding a choice (a loss, a network family, a data source, a
data kind) is adding one entry where it is defined. It is a read-only mapping from name to entry, in the
order of registration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

from .config import unknown

T = TypeVar("T")
F = TypeVar("F")


class Registry(Mapping[str, T]):
    """Named entries of one kind of choice; ``what`` names the choice in error messages (``"generator.net"``)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name`` (a name registered twice is a programming error)."""
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str, make: Callable[[F], T] | None = None) -> Callable[[F], F]:
        """Decorator: register the decorated object (or ``make(obj)``) under ``name``; returns it unchanged."""

        def decorate(obj: F) -> F:
            self.add(name, make(obj) if make is not None else obj)  # type: ignore[arg-type]
            return obj

        return decorate

    def names(self) -> list[str]:
        return list(self._entries)

    def lookup(self, name: str, what: str | None = None) -> T:
        """The entry ``name``; otherwise ConfigError ``unknown <what> 'name' (did you mean ...?); valid: ...``."""
        if name not in self._entries:
            raise unknown(what or self.what, name, self.names())
        return self._entries[name]

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {', '.join(self._entries)})"

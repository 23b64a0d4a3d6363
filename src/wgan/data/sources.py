"""Data sources: how a ``data.name`` value is recognised and which reader makes its sampler.

Each reader module registers one :class:`DataSource` in :data:`SOURCES` where it is defined: toy
distributions and point files (:mod:`wgan.data.toy`), image datasets (:mod:`wgan.data.image_datasets`), the
named image datasets fetched into the cache (:mod:`wgan.data.named_datasets`), text corpora
(:mod:`wgan.data.text_corpora`). :func:`wgan.data.make_sampler`, ``wgan list``, the check of
``data.name`` (:mod:`wgan.resolve`) and the choice of ``wgan train``'s starting config all read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..registry import Registry


@dataclass(frozen=True)
class DataSource:
    """One reader of data. ``kind`` is the data kind of its samplers (:mod:`wgan.kinds`); ``recognises(name)``
    says whether a ``data.name`` is this source's; ``make(name, data_cfg)`` returns the sampler; ``names``
    maps the datasets it offers by name to a one-line description (``wgan list``). Sources are tried in
    ascending ``order``; a name none recognises goes to the first source whose ``fallback(name)`` holds, so
    that its reader's error says what it expected."""

    kind: str
    recognises: Callable[[str], bool]
    make: Callable[[str, Any], Any]
    names: Mapping[str, str] = field(default_factory=dict)
    order: int = 0
    fallback: Callable[[str], bool] = lambda name: False


SOURCES: Registry[DataSource] = Registry("data source")


def ordered() -> list[DataSource]:
    return sorted(SOURCES.values(), key=lambda s: s.order)


def source_of(name: str) -> DataSource | None:
    """The source that reads ``data.name`` = ``name``: the first that recognises it, else the first whose
    fallback takes it (None when none does)."""
    for s in ordered():
        if s.recognises(name):
            return s
    return next((s for s in ordered() if s.fallback(name)), None)

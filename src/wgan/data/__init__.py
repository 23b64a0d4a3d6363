"""Data samplers. ``make_sampler(name_or_path, data_cfg)`` returns a :class:`Sampler`.

Dispatch reads the registry :data:`wgan.data.sources.SOURCES`, where each reader registers itself: toy
distributions and ``.npy``/``.csv`` point files (:mod:`wgan.data.toy`), image datasets
(:mod:`wgan.data.image_datasets`), the named image datasets fetched into the cache
(:mod:`wgan.data.named_datasets`) and text corpora (:mod:`wgan.data.text_corpora`). A new kind of data adds
one module that registers a :class:`~wgan.data.sources.DataSource`, and its import below.
"""

from __future__ import annotations

from typing import Any

from . import image_datasets, named_datasets, text_corpora  # noqa: F401  (each registers its source in SOURCES)
from .manifold import LineData
from .sources import SOURCES, DataSource, source_of
from .toy import TOY_DATA, GaussianMixture, PointSet, Sampler, SwissRoll
from .toy import make_sampler as make_toy_sampler

# every data name `wgan list` shows and `resolve` accepts without a path: name -> one-line description
NAMED_DATA: dict[str, str] = {name: text for s in SOURCES.values() for name, text in s.names.items()}


def make_sampler(name: str, data_cfg: Any = None) -> Sampler:
    """The sampler for ``data.name`` (``data_cfg`` is the run's :class:`wgan.config.DataConfig`, for options
    such as image size; ``None`` takes the defaults): made by the source that recognises the name
    (:func:`~wgan.data.sources.source_of`)."""
    source = source_of(name)
    assert source is not None  # the points source takes every name it does not recognise (its error says why)
    return source.make(name, data_cfg)


__all__ = ["NAMED_DATA", "SOURCES", "TOY_DATA", "DataSource", "GaussianMixture", "LineData", "PointSet", "Sampler",
           "SwissRoll", "make_sampler", "make_toy_sampler", "source_of"]

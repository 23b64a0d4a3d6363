"""Data samplers. ``make_sampler(name_or_path, data_cfg)`` returns a :class:`Sampler`.

Dispatch: a toy distribution's name or a ``.npy``/``.csv`` point file -> :mod:`wgan.data.toy`. Other kinds
(image datasets, text corpora) add their names to ``NAMED_DATA`` and their recognisers to ``make_sampler``.
"""

from __future__ import annotations

from typing import Any

from .manifold import LineData
from .toy import TOY_DATA, GaussianMixture, PointSet, Sampler, SwissRoll
from .toy import make_sampler as make_toy_sampler

# every data name `wgan list` shows and `resolve` accepts without a path: name -> one-line description
NAMED_DATA: dict[str, str] = dict(TOY_DATA)


def make_sampler(name: str, data_cfg: Any = None) -> Sampler:
    """The sampler for ``data.name`` (``data_cfg`` is the run's :class:`wgan.config.DataConfig`, for options
    such as image size; ``None`` takes the defaults)."""
    return make_toy_sampler(name)


__all__ = ["NAMED_DATA", "TOY_DATA", "GaussianMixture", "LineData", "PointSet", "Sampler", "SwissRoll",
           "make_sampler", "make_toy_sampler"]

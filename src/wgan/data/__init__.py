"""Data samplers. ``make_sampler(name_or_path)`` returns a :class:`Sampler`."""

from .manifold import LineData
from .toy import TOY_DATA, GaussianMixture, PointSet, Sampler, SwissRoll, make_sampler

__all__ = ["TOY_DATA", "GaussianMixture", "LineData", "PointSet", "Sampler", "SwissRoll", "make_sampler"]

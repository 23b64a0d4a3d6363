"""Per-data-kind hooks of the training loop and the command line: what depends on the kind of data, never on
the objective.

Each module registers its :class:`~wgan.kinds.base.DataKind` in :data:`~wgan.kinds.base.KINDS` under the
``kind`` of its samplers: :mod:`~wgan.kinds.point_runs` (``points``: toy and manifold vectors, exact W1,
modes, scatter plots), :mod:`~wgan.kinds.image_runs` (``images``: FID/IS/KID, grids) and
:mod:`~wgan.kinds.text_runs` (``text``: n-gram JS, sample text). A new kind is one module here, imported
below; its hooks take a :class:`~wgan.kinds.base.Run` (what they may read from the training run), not the
Trainer itself.
"""

from __future__ import annotations

from . import image_runs, point_runs, text_runs  # noqa: F401  (each registers its kind in KINDS)
from .base import KINDS, DataKind, Run, validation_sampler
from .image_runs import eval_config


def data_kind(kind: str) -> DataKind:
    """The hooks of data kind ``kind``; ConfigError naming the registered kinds otherwise."""
    return KINDS.lookup(kind)


__all__ = ["KINDS", "DataKind", "Run", "data_kind", "eval_config", "validation_sampler"]

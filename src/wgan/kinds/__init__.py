"""Per-data-kind hooks of the training loop: what depends on the kind of data, never on the objective.

Module ``wgan.kinds.<kind>`` defines ``KIND: DataKind`` for samplers whose ``kind`` is ``<kind>``:
``points`` (toy and manifold vectors: exact W1, modes, scatter plots), ``images`` (FID/IS/KID, grids) and
``text`` (n-gram JS, sample text). :func:`data_kind` imports the module only when a run of that kind starts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..data import Sampler
    from ..training.trainer import Trainer


@dataclass(frozen=True)
class DataKind:
    """What the loop does that depends on the kind of data (``Sampler.kind``), never on the objective:
    how a run evaluates itself, what it reports, how it writes samples.

    ``evaluate(trainer)`` returns ``eval/*`` scalars at the current step (deterministic: own seeded streams);
    ``summary(trainer, ev)`` turns them into reported figures with a ``"protocol"`` dict saying how each was
    measured; ``save_samples(trainer, folder)`` writes ``folder/step-NNNNNNN.<ext>`` (or is None)."""

    evaluate: Callable[[Trainer], dict[str, float]]
    summary: Callable[[Trainer, dict[str, float]], dict[str, Any]]
    save_samples: Callable[[Trainer, Path], None] | None = None


def data_kind(kind: str) -> DataKind:
    """The hooks of data kind ``kind``: ``KIND`` of module ``wgan.kinds.<kind>``."""
    try:
        module = importlib.import_module(f"wgan.kinds.{kind}")
    except ModuleNotFoundError:
        raise ConfigError(f"no evaluation hooks for data of kind {kind!r} (expected module wgan.kinds.{kind})"
                          ) from None
    return module.KIND


def validation_sampler(sampler: Sampler) -> Sampler | None:
    """The held-out split a sampler offers (duck-typed): a ``validation`` attribute that is a sampler, or a
    method returning one; None when there is none."""
    v = getattr(sampler, "validation", None)
    if v is not None and not hasattr(v, "sample") and callable(v):
        v = v()
    return v

"""The hooks of a data kind (:class:`DataKind`) and their registry :data:`KINDS`.

Each module of :mod:`wgan.kinds` registers one kind where it defines it (``KINDS.add(name, DataKind(...))``);
the training loop, ``wgan train``/``eval``/``sample``/``classifier`` and :mod:`wgan.samples` read the hooks
and hold no code of their own for any kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..registry import Registry

if TYPE_CHECKING:
    from ..data import Sampler
    from ..training.trainer import Trainer


@dataclass(frozen=True)
class DataKind:
    """What the loop and the command line do that depends on the kind of data (``Sampler.kind``), never on
    the objective: how a run evaluates itself, what it reports, how it writes samples.

    * ``evaluate(trainer)``: ``eval/*`` scalars at the current step (deterministic: own seeded streams).
    * ``summary(trainer, ev)``: the reported figures with a ``"protocol"`` dict saying how each was measured.
    * ``headline(summary, steps, took)``: the one line ``wgan train`` and ``wgan eval`` print (``steps``: "after
      N steps" or "", ``took``: "; N s" or "").
    * ``save_samples(trainer, folder)``: writes ``folder/step-NNNNNNN.<ext>`` (or None).
    * ``sample_formats``: the file suffixes ``wgan sample --out`` writes (:mod:`wgan.samples`).
    * ``sample_lines(trainer, n, seed)``: samples as lines of text (``wgan sample`` without ``--out``), or None.
    * ``metric_options``: whether ``wgan eval`` takes ``--metrics``, ``--classifier``, ``--inception-weights``.
    * ``train_classifier(sampler, steps, seed, device)``: ``wgan classifier train``'s feature network, or None.

    The starting config of ``wgan train`` for a kind is the packaged ``demo_<kind>.toml``
    (:meth:`wgan.config.Config.demo`); which kind a ``--data`` value is, the data source that recognises it
    (:func:`wgan.data.source_of`)."""

    evaluate: Callable[[Trainer], dict[str, float]]
    summary: Callable[[Trainer, dict[str, float]], dict[str, Any]]
    headline: Callable[[dict[str, Any], str, str], str]
    save_samples: Callable[[Trainer, Path], None] | None = None
    sample_formats: tuple[str, ...] = (".npy",)
    sample_lines: Callable[[Trainer, int, int], list[str]] | None = None
    metric_options: bool = False
    train_classifier: Callable[..., Any] | None = None


KINDS: Registry[DataKind] = Registry("data kind")


def validation_sampler(sampler: Sampler) -> Sampler | None:
    """The held-out split a sampler offers (duck-typed): a ``validation`` attribute that is a sampler, or a
    method returning one; None when there is none."""
    v = getattr(sampler, "validation", None)
    if v is not None and not hasattr(v, "sample") and callable(v):
        v = v()
    return v

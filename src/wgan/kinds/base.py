"""The hooks of a data kind (:class:`DataKind`) and their registry :data:`KINDS`.

Each module of :mod:`wgan.kinds` registers one kind where it defines it (``KINDS.add(name, DataKind(...))``);
the training loop, ``wgan train``/``eval``/``sample``/``classifier`` and :mod:`wgan.samples` read the hooks
and hold no code of their own for any kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..registry import Registry

if TYPE_CHECKING:
    import torch

    from ..config import Config
    from ..data import Sampler


class Run(Protocol):
    """What a data kind's hooks read from a training run (:class:`wgan.training.trainer.Trainer` is one): the
    config, the data, the critic, generation from a seed, the per-run cache of reference statistics, the device
    and the step. The hooks are typed against this, not against the Trainer, so the kinds do not depend on the
    loop that calls them."""

    cfg: Config
    sampler: Sampler
    D: torch.nn.Module
    eval_cache: dict[str, Any]
    device: torch.device
    step: int

    def generate(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor: ...


@dataclass(frozen=True)
class DataKind:
    """What the loop and the command line do that depends on the kind of data (``Sampler.kind``), never on
    the objective: how a run evaluates itself, what it reports, how it writes samples.

    * ``evaluate(run)`` (a :class:`Run`): ``eval/*`` scalars at the current step (deterministic: own seeded streams).
    * ``summary(run, ev)``: the reported figures with a ``"protocol"`` dict saying how each was measured.
    * ``headline(summary, steps, took)``: the one line ``wgan train`` and ``wgan eval`` print (``steps``: "after
      N steps" or "", ``took``: "; N s" or "").
    * ``save_samples(run, folder)``: writes ``folder/step-NNNNNNN.<ext>`` (or None).
    * ``sample_formats``: the file suffixes ``wgan sample --out`` writes (:mod:`wgan.samples`).
    * ``sample_lines(run, n, seed)``: samples as lines of text (``wgan sample`` without ``--out``), or None.
    * ``metric_options``: whether ``wgan eval`` takes ``--metrics``, ``--classifier``, ``--inception-weights``.
    * ``train_classifier(sampler, steps, seed, device)``: ``wgan classifier train``'s feature network, or None.

    The starting config of ``wgan train`` for a kind is the packaged ``demo_<kind>.toml``
    (:meth:`wgan.config.Config.demo`); which kind a ``--data`` value is, the data source that recognises it
    (:func:`wgan.data.source_of`)."""

    evaluate: Callable[[Run], dict[str, float]]
    summary: Callable[[Run, dict[str, float]], dict[str, Any]]
    headline: Callable[[dict[str, Any], str, str], str]
    save_samples: Callable[[Run, Path], None] | None = None
    sample_formats: tuple[str, ...] = (".npy",)
    sample_lines: Callable[[Run, int, int], list[str]] | None = None
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

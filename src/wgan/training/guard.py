"""The NaN guard: a run whose loss, penalty or state becomes non-finite stops, and never saves that state.

Where it looks, and why there: the hot path stays free of host syncs. The losses and penalties are checked
in each metrics record (their interval means are host floats by then: a NaN or inf anywhere in the interval
makes the mean non-finite), and the networks' parameters and buffers and the optimisers' state are checked
at each record and before each checkpoint write (one device sync; a record already syncs). So a run stops at
most ``train.log_every`` steps after it diverged, and ``checkpoints/latest.pt`` always holds a finite state.

Under float16 mixed precision a non-finite loss is what the loss scaler is for: it skips that optimiser step
and lowers its scale, and the state stays finite. Such steps are counted in the log
(``amp/skipped_critic_steps``, ``amp/skipped_generator_steps``), not treated as a failure; the state check
still applies.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from .train import Trainer

TERMS = ("loss/", "penalty/")  # the record keys the guard reads: the objective's losses and penalties


def nonfinite_terms(record: dict[str, Any]) -> list[str]:
    """The loss and penalty keys of a metrics record whose value is NaN or infinite, as ``key = value``."""
    return [f"{k} = {v}" for k, v in record.items()
            if k.startswith(TERMS) and isinstance(v, float) and not math.isfinite(v)]


def _tensors(tr: Trainer) -> dict[str, list[torch.Tensor]]:
    """The floating-point state a checkpoint saves, by the name the guard reports."""
    out = {
        "generator": [*tr.G.parameters(), *tr.G.buffers()],
        "critic": [*tr.D.parameters(), *tr.D.buffers()],
        "critic optimiser": [v for s in tr.opt_d.state.values() for v in s.values()
                                   if isinstance(v, torch.Tensor)],
    }
    if tr.opt_g is not None:
        out["generator optimiser"] = [v for s in tr.opt_g.state.values() for v in s.values()
                                            if isinstance(v, torch.Tensor)]
    if tr.G_ema is not None:
        out["EMA generator"] = list(tr.G_ema.module.parameters()) + list(tr.G_ema.module.buffers())
    return {k: [t for t in v if t.is_floating_point()] for k, v in out.items()}


def nonfinite_state(tr: Trainer) -> list[str]:
    """Which parts of the run's state hold a NaN or infinity (one device sync for all of them)."""
    parts = {k: v for k, v in _tensors(tr).items() if v}
    flags = torch.stack([torch.stack([torch.isfinite(t).all() for t in ts]).all() for ts in parts.values()])
    return [name for name, ok in zip(parts, flags.cpu().tolist(), strict=True) if not ok]


def check(tr: Trainer, record: dict[str, Any] | None = None) -> str | None:
    """What went non-finite (``None`` when all is finite): the record's terms and the state. Under a float16
    loss scaler a non-finite term with a finite state is a skipped step, not a failure."""
    state = nonfinite_state(tr)
    terms = nonfinite_terms(record) if record is not None else []
    if tr.scaler_d.is_enabled() and not state:
        terms = []
    if not terms and not state:
        return None
    return ", ".join(terms + ([f"non-finite state: {', '.join(state)}"] if state else []))


def message(tr: Trainer, what: str, since: int, run_dir: Path | None) -> str:
    """The one line that stops a diverged run: the step, the term, the fix, what the checkpoint keeps."""
    s, cfg = tr.step, tr.cfg
    when = (f"step {s}" if since >= s - 1 else
            f"step {s} (finite at step {since}; checked every train.log_every = {cfg.train.log_every} steps)")
    fixes = [f"lower optim.lr (now {cfg.optim.lr:g})"]
    if cfg.objective.penalty == "none" and cfg.objective.clip <= 0:
        fixes.append('add a penalty (objective.penalty = "gp")')
    if cfg.train.amp:
        fixes.append("turn mixed precision off (train.amp = false)")
    saved = getattr(tr, "checkpoint_step", None)
    if run_dir is None:
        keep = ""
    elif saved is None:
        keep = "; no checkpoint was written before it"
    else:
        keep = (f"; {run_dir / 'checkpoints' / 'latest.pt'} keeps the last finite state (step {saved}), which "
                "--resume continues")
    return f"training diverged by {when}: {what}; fix: {', '.join(fixes)} and train a new run{keep}"

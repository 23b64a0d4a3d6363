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
from typing import Any

import torch

from ..config import Config
from .state import Players

TERMS = ("loss/", "penalty/")  # the record keys the guard reads: the objective's losses and penalties


def nonfinite_terms(record: dict[str, Any]) -> list[str]:
    """The loss and penalty keys of a metrics record whose value is NaN or infinite, as ``key = value``."""
    return [f"{k} = {v}" for k, v in record.items()
            if k.startswith(TERMS) and isinstance(v, float) and not math.isfinite(v)]


def _tensors(players: Players) -> dict[str, list[torch.Tensor]]:
    """The floating-point state a checkpoint saves, by the name the guard reports."""
    p = players
    out = {
        "generator": [*p.G.parameters(), *p.G.buffers()],
        "critic": [*p.D.parameters(), *p.D.buffers()],
        "critic optimiser": [v for s in p.opt_d.state.values() for v in s.values()
                                   if isinstance(v, torch.Tensor)],
    }
    if p.opt_g is not None:
        out["generator optimiser"] = [v for s in p.opt_g.state.values() for v in s.values()
                                            if isinstance(v, torch.Tensor)]
    if p.G_ema is not None:
        out["EMA generator"] = list(p.G_ema.module.parameters()) + list(p.G_ema.module.buffers())
    return {k: [t for t in v if t.is_floating_point()] for k, v in out.items()}


def nonfinite_state(players: Players) -> list[str]:
    """Which parts of the players' state hold a NaN or infinity (one device sync for all of them)."""
    parts = {k: v for k, v in _tensors(players).items() if v}
    flags = torch.stack([torch.stack([torch.isfinite(t).all() for t in ts]).all() for ts in parts.values()])
    return [name for name, ok in zip(parts, flags.cpu().tolist(), strict=True) if not ok]


def check(players: Players, record: dict[str, Any] | None = None) -> str | None:
    """What went non-finite (``None`` when all is finite): the record's terms and the players' state. Under a
    float16 loss scaler a non-finite term with a finite state is a skipped step, not a failure."""
    state = nonfinite_state(players)
    terms = nonfinite_terms(record) if record is not None else []
    if players.scaler_d.is_enabled() and not state:
        terms = []
    if not terms and not state:
        return None
    return ", ".join(terms + ([f"non-finite state: {', '.join(state)}"] if state else []))


def message(cfg: Config, step: int, what: str, since: int, saved: int | None, run_dir: Path | None) -> str:
    """The one line that stops a diverged run at ``step``: the term (``what``), the fix, what the checkpoint keeps
    (``saved``: the step ``checkpoints/latest.pt`` holds, ``None`` before the first; ``since``: the last step found
    finite)."""
    s = step
    when = (f"step {s}" if since >= s - 1 else
            f"step {s} (finite at step {since}; checked every train.log_every = {cfg.train.log_every} steps)")
    fixes = [f"lower optim.lr (now {cfg.optim.lr:g})"]
    if (cfg.objective.penalty == "none" and cfg.objective.clip <= 0 and cfg.objective.weight_decay <= 0
            and not cfg.critic.weight_norm and not cfg.critic.spectral_norm):
        fixes.append('add a penalty (objective.penalty = "gp")')
    if cfg.train.amp:
        fixes.append("turn mixed precision off (train.amp = false)")
    if run_dir is None:
        keep = ""
    elif saved is None:
        keep = "; no checkpoint was written before it"
    else:
        keep = (f"; {run_dir / 'checkpoints' / 'latest.pt'} keeps the last finite state (step {saved}), which "
                "--resume continues")
    return f"training diverged by {when}: {what}; fix: {', '.join(fixes)} and train a new run{keep}"

"""Running means for logging: the values a run logs between two metrics records, reduced once per record.

The hot path only keeps detached tensors (no ``.item()``, no device sync); :meth:`RunningMeans.flush` reduces
each key once per log interval and, under torchrun, averages over ranks. The pending values are part of a
checkpoint (``state_dict``), so a run resumed mid-interval logs the same record as an uninterrupted one.
"""

from __future__ import annotations

import torch

from .. import distributed as dist

GRADNORM = "gradnorm"  # per-sample norms: the record gets their mean, minimum and maximum
COUNT_SUFFIX = "_steps"  # counts (e.g. amp/skipped_critic_steps): the record gets their sum over the interval


class RunningMeans:
    """Detached scalars or ``(B,)`` tensors per key since the last record."""

    def __init__(self) -> None:
        self.pending: dict[str, list[torch.Tensor]] = {}

    def add(self, key: str, value: torch.Tensor) -> None:
        """Keep ``value`` for the next record; nothing is reduced or synced here."""
        self.pending.setdefault(key, []).append(value.detach())

    def flush(self, world: int = 1) -> dict[str, float]:
        """Means over the interval (of every element logged under a key); ``gradnorm`` gives
        ``gradnorm/mean``, ``gradnorm/min`` and ``gradnorm/max`` (the range of per-sample norms); keys ending in
        ``_steps`` are counts and give their sum (summed over ranks too). With
        ``world > 1`` means over ranks and the range over all ranks (every rank must call it)."""
        out: dict[str, float] = {}
        for key, values in self.pending.items():
            flat = torch.cat([v.reshape(-1) for v in values]).float()
            if key == GRADNORM:
                out["gradnorm/mean"], out["gradnorm/min"], out["gradnorm/max"] = (
                    flat.mean().item(), flat.min().item(), flat.max().item())
            elif key.endswith(COUNT_SUFFIX):
                out[key] = flat.sum().item() * world  # * world: the mean over ranks below is then their sum
            else:
                out[key] = flat.mean().item()
        self.pending = {}
        if world > 1:
            ext = ("gradnorm/min", "gradnorm/max")
            means, lo, hi = dist.all_reduce_means({k: v for k, v in out.items() if k not in ext},
                                                  {k: v for k, v in out.items() if k == ext[0]},
                                                  {k: v for k, v in out.items() if k == ext[1]})
            out = {**means, **lo, **hi}
        return out

    def state_dict(self) -> dict[str, list[torch.Tensor]]:
        return {k: [v.cpu() for v in vs] for k, vs in self.pending.items()}

    def load_state_dict(self, state: dict[str, list[torch.Tensor]], device: torch.device) -> None:
        self.pending = {k: [v.to(device) for v in vs] for k, vs in state.items()}

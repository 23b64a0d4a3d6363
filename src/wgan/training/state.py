"""A run's state, in the parts the training core reads, and what a checkpoint holds of it.

The steps (:mod:`wgan.training.steps`, :mod:`wgan.training.compiled`), the NaN guard and the checkpoint code take
these small parts, not the whole :class:`wgan.training.trainer.Trainer`:

* :class:`Setup` -- what a run fixes at construction and the steps only read: the resolved config, the device,
  the data, the objective and penalty, the ``[tricks]`` hooks, the forward passes' precision;
* :class:`Players` -- the two networks with their optimisers, loss scalers, lr schedules and the EMA generator;
* :class:`Streams` -- the named random streams (data, noise, diag, val, augment) and the image-folder stream's
  next draw;
* :class:`RunState` -- the three above, the running means since the last record and the step counters.

A checkpoint (:func:`trainer_state`) holds the whole run state: networks, optimisers, lr schedules, loss scalers,
the EMA generator, every random stream and the running means since the last record, so a resumed run is
bit-identical to an uninterrupted one. The file around it (checksum, atomic write) is :mod:`wgan.rundir`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from .. import __version__
from .. import distributed as dist
from ..config import Config
from ..data import Sampler
from ..errors import ConfigError
from ..objectives import Objective
from ..penalties import Penalty
from ..rundir import CHECKPOINT_FORMAT
from .augment import Augment
from .meters import RunningMeans
from .trick_hooks import Tricks

if TYPE_CHECKING:
    from ..data.loading import FolderStream


@dataclass
class Setup:
    """What one run fixes when it is built; the steps read it and never change it (``cfg`` aside: ``wgan eval``
    swaps in its evaluation settings)."""

    cfg: Config
    device: torch.device
    rank: int  # under torchrun (wgan.distributed); 0 and 1 in a single process
    world: int
    sampler: Sampler
    val_sampler: Sampler | None  # the held-out split (WGAN-GP Fig. 5b), or None
    latent_dim: int
    n_classes: int  # AC-GAN classes; 0 for unconditional runs
    objective: Objective
    penalty: Penalty | None
    tricks: Tricks  # the [tricks] hooks; identities when off
    fuse_critic_passes: bool  # a per-sample critic scores real and fake in one call
    autocast: Callable[[], AbstractContextManager]  # the forward passes' precision context (steps.autocast)
    augment: Augment | None = None  # train.augment: DiffAugment of the critic's inputs (wgan.training.augment)

    @property
    def conditional(self) -> bool:
        return self.n_classes > 0


@dataclass
class Players:
    """The generator and critic with what updates them."""

    G: nn.Module
    D: nn.Module
    opt_g: torch.optim.Optimizer | None  # None for a parameter-free generator (only the critic trains)
    opt_d: torch.optim.Optimizer
    scaler_g: torch.amp.GradScaler  # one per player; a pass-through unless float16 mixed precision
    scaler_d: torch.amp.GradScaler
    schedulers: list[torch.optim.lr_scheduler.LRScheduler] = field(default_factory=list)
    G_ema: AveragedModel | None = None  # train.ema > 0


@dataclass
class Streams:
    """The run's named random streams (all saved in checkpoints) and the image-folder stream."""

    data: torch.Generator  # real batches of the critic steps
    noise: torch.Generator  # latent noise, penalty points, instance noise
    diag: torch.Generator  # measurements (gradient norms of runs without a penalty)
    val: torch.Generator  # the held-out critic loss: real batches and noise
    augment: torch.Generator  # train.augment's draws (its own stream: switching it on changes no other draw)
    folder: FolderStream | None = None  # image folders: batches decoded ahead by DataLoader workers
    draw: int = 0  # the folder stream's next draw: step * n_critic + the critic step within the step


@dataclass
class RunState:
    """Everything a training step reads or changes."""

    setup: Setup
    players: Players
    streams: Streams
    meters: RunningMeans = field(default_factory=RunningMeans)  # values logged since the last record
    step: int = 0  # generator steps done
    elapsed_s: float = 0.0  # seconds spent in the loop, all sessions of a resumed run

    def log(self, key: str, value: torch.Tensor) -> None:
        """Keep a detached value for the next metrics record (no device sync)."""
        self.meters.add(key, value)


# ---------------------------------------------------------------------- checkpoints
def _local_state(run: RunState) -> dict[str, Any]:
    """What differs between ranks: the random streams and the running means since the last record."""
    r = run.streams
    return {
        "rng": {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "data": r.data.get_state(),
            "noise": r.noise.get_state(),
            "diag": r.diag.get_state(),
            "val": r.val.get_state(),
            "augment": r.augment.get_state(),
        },
        "pending": run.meters.state_dict(),
    }


def trainer_state(run: RunState) -> dict[str, Any]:
    """The whole run state. Under torchrun every rank must call it (it gathers every rank's streams)."""
    ranks = dist.gather_objects(_local_state(run))
    p = run.players
    return {
        "format": CHECKPOINT_FORMAT,
        "version": __version__,
        "config": run.setup.cfg.to_dict(),
        "step": run.step,
        "elapsed_s": run.elapsed_s,
        "generator": p.G.state_dict(),
        "critic": p.D.state_dict(),
        "opt_g": p.opt_g.state_dict() if p.opt_g is not None else None,
        "opt_d": p.opt_d.state_dict(),
        **ranks[0],  # "rng", "pending" of rank 0 (of the only process in a single-process run)
        "ranks": ranks if len(ranks) > 1 else [],  # every rank's, in rank order, under torchrun
        "schedulers": [s.state_dict() for s in p.schedulers],
        "scalers": {"critic": p.scaler_d.state_dict(), "generator": p.scaler_g.state_dict()},
        "ema": p.G_ema.state_dict() if p.G_ema is not None else None,
        "tricks": run.setup.tricks.state_dict(),  # historical-averaging means
    }


def load_trainer_state(run: RunState, state: dict[str, Any]) -> int:
    """Put ``state`` (from :func:`trainer_state`) into a run built from the same config; returns how many
    processes wrote it (1 for a single-process run). A state that does not fit (networks of another shape,
    missing parts: a file edited or from another run) is a one-line ConfigError, and the run must then be
    discarded."""
    try:
        return _load_trainer_state(run, state)
    except (RuntimeError, KeyError, IndexError, ValueError, TypeError, AttributeError) as e:
        what = f"no {e}" if isinstance(e, KeyError) else (str(e).splitlines() or [""])[0].rstrip(":. ")
        detail = next((ln.strip() for ln in str(e).splitlines()[1:] if ln.strip()), "")
        detail = f"; {detail[:160]}" if detail else ""
        raise ConfigError(f"the checkpoint does not fit the run its config describes ({type(e).__name__}: {what}"
                          f"{detail}): it was edited or written by another run") from None


def _load_trainer_state(run: RunState, state: dict[str, Any]) -> int:
    p, s = run.players, run.setup
    p.G.load_state_dict(state["generator"])
    p.D.load_state_dict(state["critic"])
    if p.opt_g is not None:
        p.opt_g.load_state_dict(state["opt_g"])
    p.opt_d.load_state_dict(state["opt_d"])
    for sched, saved in zip(p.schedulers, state["schedulers"], strict=True):
        sched.load_state_dict(saved)
    p.scaler_d.load_state_dict(state["scalers"]["critic"])
    p.scaler_g.load_state_dict(state["scalers"]["generator"])
    if p.G_ema is not None:
        p.G_ema.load_state_dict(state["ema"])
    local, written_by = state, max(1, len(state["ranks"]))
    if written_by == s.world > 1:
        local = state["ranks"][s.rank]
    rng = local["rng"]
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    r = run.streams
    r.data.set_state(rng["data"])
    r.noise.set_state(rng["noise"])
    r.diag.set_state(rng["diag"])
    r.val.set_state(rng["val"])
    if "augment" in rng:  # checkpoints written before train.augment existed: runs that never drew from it
        r.augment.set_state(rng["augment"])
    run.meters.load_state_dict(local["pending"], s.device)
    s.tricks.load_state_dict(state.get("tricks", {}))
    run.step = int(state["step"])
    run.elapsed_s = float(state["elapsed_s"])
    return written_by

"""The training loop -- one for every objective (WGAN Algorithm 1, WGAN-GP Algorithm 1, GAN variants).

Per generator step: ``n_critic`` critic steps, each on a fresh real batch and fresh noise, with the
objective's critic loss plus ``lambda * penalty`` and then the constraint hook (weight clipping when
``clip > 0``); then one generator step. The loop reads the objective, penalty, clip value and n_critic
from the resolved config: it never branches on an objective's name.

Randomness comes from named streams (``data``, ``noise``, ``diag``, ``val``, ``augment`` and the global
torch RNG for initialisation), all saved in checkpoints, so a resumed run is bit-identical to an uninterrupted
one. Evaluation draws from its own freshly seeded streams and never disturbs training.

Image-scale options, all read from the config (docs/images.md): a generator batch ``train.g_batch_multiple``
times the critic batch and linear lr decay (the WGAN-GP CIFAR code), an EMA generator for evaluation, AC-GAN
cross-entropy terms for conditional runs (WGAN-GP conditional CIFAR model), the critic loss on a held-out split
(WGAN-GP Fig. 5b), differentiable augmentation of the critic's inputs (``train.augment``,
:mod:`wgan.training.augment`), mixed precision with a loss-scaled penalty, channels-last, and data parallelism
under ``torchrun`` (:mod:`wgan.distributed`).

This module is the driver: construction, the loop's cadences (log, evaluate, sample, checkpoint, a caller's
callback) and Ctrl-C. The parts it drives live beside it in :mod:`wgan.training`, each taking the run's state
(:class:`wgan.training.state.RunState`) rather than the trainer: the players' steps (:mod:`~wgan.training.steps`,
compiled in :mod:`~wgan.training.compiled`), what a checkpoint holds (:mod:`~wgan.training.state`), the NaN
guard (:mod:`~wgan.training.guard`), running means (:mod:`~wgan.training.meters`) and the tricks' loop hooks
(:mod:`~wgan.training.trick_hooks`). The run directory (config.json, metrics sinks, the checkpoint file, the lock)
is :mod:`wgan.rundir`; what depends on the kind of data (evaluation, summary, sample files) is :mod:`wgan.kinds`
(points, images, text).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from .. import distributed as dist
from .. import rundir
from ..config import Config, ConfigError, from_dict
from ..console import say
from ..data import Sampler, make_sampler
from ..data.image_datasets import FolderSampler
from ..data.loading import FolderStream
from ..errors import TrainingDiverged
from ..io import read_jsonl, write_json
from ..kinds import data_kind, validation_sampler
from ..kinds import point_runs as points
from ..nets import DataPlusNoise, build_critic, build_generator, is_per_sample
from ..objectives import Objective
from ..optim import make_optimizer
from ..penalties import make_penalty, warn_if_batchnorm
from ..resolve import resolve
from ..rundir import CHECKPOINT_FORMAT, create_run_dir, load_checkpoint  # noqa: F401  (public here too)
from . import guard, steps
from .augment import check_kind, make_augment
from .compiled import CompiledSteps
from .state import Players, RunState, Setup, Streams, load_trainer_state, trainer_state
from .trick_hooks import Tricks


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA when available; under torchrun ``auto``/``cuda`` mean ``cuda:LOCAL_RANK``."""
    if name in ("auto", "cuda") and torch.cuda.is_available() and dist.is_distributed():
        return torch.device("cuda", local_rank)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"train.device = {name!r} but CUDA is not available here; use train.device = \"cpu\"")
    return torch.device(name)


def _check_features(cfg: Config, sampler: Sampler) -> tuple[int, torch.dtype]:
    """Choices that depend on the data: AC-GAN conditioning needs labels, channels-last and augmentation need
    images. Returns the number of classes (0: unconditional) and the mixed-precision dtype."""
    t = cfg.train
    n_classes = int(getattr(cfg.critic, "n_classes", 0) or 0)
    if n_classes > 0:
        k = int(getattr(sampler, "n_classes", 0) or 0)
        if not hasattr(sampler, "sample_with_labels") or k == 0:
            raise ConfigError(f"critic.n_classes = {n_classes} asks for AC-GAN training but data "
                              f"{sampler.name!r} has no labels; set critic.n_classes = "
                              "generator.n_classes = 0")
        if k != n_classes:
            raise ConfigError(f"critic.n_classes = {n_classes} but data {sampler.name!r} has {k} "
                              f"classes; set critic.n_classes = generator.n_classes = {k}")
    check_kind(t.augment, getattr(sampler, "kind", "points"), str(getattr(sampler, "name", cfg.data.name)))
    if t.channels_last and len(sampler.shape) != 3:
        raise ConfigError(f"train.channels_last applies to images (C, H, W) but data {sampler.name!r} has "
                          f"samples of shape {tuple(sampler.shape)}; set train.channels_last = false")
    # Mixed precision: autocast on CUDA and on the CPU alike (CPU autocast runs bfloat16 natively on CPUs with
    # AMX/AVX512-BF16 and is correct everywhere), so the code the GPU runs is the code the CPU tests run.
    return n_classes, torch.float16 if t.amp_dtype == "float16" else torch.bfloat16


def _players(cfg: Config, G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer | None,
             opt_d: torch.optim.Optimizer, device: torch.device, world: int, amp_dtype: torch.dtype) -> Players:
    """The players with their loss scalers, learning-rate schedules, channels-last layout and EMA generator."""
    t, op = cfg.train, cfg.optim
    fp16 = t.amp and amp_dtype == torch.float16
    # one scaler per player (each has its own backward/step cadence); a disabled scaler is a pass-through
    scaler_d = torch.amp.GradScaler(device.type, enabled=fp16)
    scaler_g = torch.amp.GradScaler(device.type, enabled=fp16)
    schedulers: list[torch.optim.lr_scheduler.LRScheduler] = []
    if op.lr_decay == "linear":  # WGAN-GP CIFAR code: lr * max(0, 1 - iteration / ITERS), both players
        total = t.steps

        def decay(i: int) -> float:
            return max(0.0, 1.0 - i / total)

        schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, decay) for opt in (opt_d, opt_g) if opt is not None]
    if t.channels_last:
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
    if world > 1:
        dist.broadcast_module(G)
        dist.broadcast_module(D)
    # The EMA generator: AveragedModel keeps a copy and lerps it (torch._foreach_lerp_, one fused call per
    # step) towards the generator's parameters *and* buffers (use_buffers: batch-norm statistics too).
    G_ema: AveragedModel | None = None
    if t.ema > 0 and opt_g is not None:
        G_ema = AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(t.ema), use_buffers=True)
    return Players(G=G, D=D, opt_g=opt_g, opt_d=opt_d, scaler_g=scaler_g, scaler_d=scaler_d,
                   schedulers=schedulers, G_ema=G_ema)


def _forward(part: str | None, name: str) -> Any:
    """A Trainer attribute that is the field ``name`` of its :class:`RunState` (``part`` ``None``) or of one of
    the state's parts (``"setup"``, ``"players"``, ``"streams"``): read and written there."""
    def owner(self: Trainer) -> Any:
        return self.state if part is None else getattr(self.state, part)

    def get(self: Trainer) -> Any:
        return getattr(owner(self), name)

    def put(self: Trainer, value: Any) -> None:
        setattr(owner(self), name, value)

    return property(get, put, doc=f"``trainer.state{'.' + part if part else ''}.{name}``")


class Trainer:
    """Owns one run: its state (:class:`wgan.training.state.RunState`: the setup, the players, the random streams,
    the running means, the step count), the data kind, and the loop's cadences.

    ``Trainer(cfg).fit(run_dir)`` trains to ``cfg.train.steps`` generator steps; ``Trainer.resume(run_dir)``
    continues a run from its latest checkpoint. ``run_dir=None`` trains in memory (no files). The state's fields
    are also the trainer's attributes (``trainer.G`` is ``trainer.state.players.G``, ``trainer.step`` is
    ``trainer.state.step``, ``trainer.data_rng`` is ``trainer.state.streams.data``).
    """

    # the state's fields under the trainer's names (read and write)
    cfg = _forward("setup", "cfg")
    device = _forward("setup", "device")
    rank = _forward("setup", "rank")
    world = _forward("setup", "world")
    sampler = _forward("setup", "sampler")
    val_sampler = _forward("setup", "val_sampler")
    latent_dim = _forward("setup", "latent_dim")
    n_classes = _forward("setup", "n_classes")
    objective = _forward("setup", "objective")
    penalty = _forward("setup", "penalty")
    tricks = _forward("setup", "tricks")
    fuse_critic_passes = _forward("setup", "fuse_critic_passes")
    G = _forward("players", "G")
    D = _forward("players", "D")
    opt_g = _forward("players", "opt_g")
    opt_d = _forward("players", "opt_d")
    scaler_g = _forward("players", "scaler_g")
    scaler_d = _forward("players", "scaler_d")
    schedulers = _forward("players", "schedulers")
    G_ema = _forward("players", "G_ema")
    data_rng = _forward("streams", "data")
    noise_rng = _forward("streams", "noise")
    diag_rng = _forward("streams", "diag")
    val_rng = _forward("streams", "val")
    augment_rng = _forward("streams", "augment")
    stream = _forward("streams", "folder")
    draw = _forward("streams", "draw")
    step = _forward(None, "step")
    elapsed_s = _forward(None, "elapsed_s")
    meters = _forward(None, "meters")

    def __init__(self, cfg: Config, sampler: Sampler | None = None) -> None:
        """``sampler`` replaces the data named by ``cfg.data.name`` (a distribution defined in code, such as
        :class:`wgan.data.LineData`); such a run resumes only in code, ``Trainer.resume(dir, sampler=...)``."""
        cfg = resolve(cfg, check_data=sampler is None)
        t, o, op = cfg.train, cfg.objective, cfg.optim
        # data parallel under torchrun (wgan.distributed): every rank its own streams, rank 0 writes files
        rank, world = dist.rank(), dist.world_size()
        device = pick_device(t.device, dist.local_rank())
        torch.manual_seed(t.seed)  # parameter initialisation (the same on every rank)
        sampler = sampler if sampler is not None else make_sampler(cfg.data.name, cfg.data)
        data_device = torch.device("cpu")
        if device.type != "cpu" and hasattr(sampler, "to"):  # in-memory images: held and drawn there
            sampler, data_device = sampler.to(device), device
        self.kind = data_kind(sampler.kind)
        n_classes, self.amp_dtype = _check_features(cfg, sampler)
        G = build_generator(cfg.generator, sampler.shape).to(device)
        D = build_critic(cfg.critic, sampler.shape).to(device)
        latent_dim: int = getattr(G, "latent_dim", cfg.generator.latent_dim)
        tricks = Tricks(cfg)  # the [tricks] switches (wgan.training.trick_hooks); all identities when off
        G, D = tricks.wrap(G, D, sampler, latent_dim, device)
        seed = t.seed + rank * dist.RANK_SEED_OFFSET  # rank 0: the single-process streams
        data_rng = torch.Generator(device=data_device).manual_seed(seed)
        streams = Streams(
            data=data_rng,
            noise=torch.Generator(device=device).manual_seed(seed + 1),
            diag=torch.Generator(device=device).manual_seed(seed + 2),
            val=torch.Generator().manual_seed(seed + 3),  # held-out critic loss: real batches and noise
            augment=torch.Generator(device=device).manual_seed(seed + 4),  # train.augment (wgan.training.augment)
            # image folders: decoded ahead by DataLoader workers, draw k a pure function of (seed, k)
            # (wgan.data.loading)
            folder=FolderStream(sampler, cfg.data.batch_size, seed, cfg.data.workers, device) if (
                isinstance(sampler, FolderSampler)) else None)
        self._g_data_rng = data_rng  # the stream a data-plus-noise generator draws its data from
        if isinstance(G, DataPlusNoise):
            G.sample_real = lambda n: self.sampler.sample(n, self._g_data_rng)
        objective = Objective(o.loss, cfg.tricks.label_smoothing)  # type: ignore[arg-type]
        penalty = make_penalty(o.penalty, o.penalty_weight, o.dragan_scale)
        warn_if_batchnorm(D, penalty)
        # a critic that treats samples independently scores real and fake batches in one call; with batch
        # norm the two batches keep their own statistics, as in the papers' code
        fuse_critic_passes = is_per_sample(D)
        opt_d = make_optimizer(op.name, D.parameters(), op.critic_lr, op.beta1, op.beta2)
        g_params = list(G.parameters())
        opt_g = make_optimizer(op.name, g_params, op.lr, op.beta1, op.beta2) if g_params else None
        players = _players(cfg, G, D, opt_g, opt_d, device, world, self.amp_dtype)
        setup = Setup(cfg=cfg, device=device, rank=rank, world=world, sampler=sampler,
                      val_sampler=validation_sampler(sampler), latent_dim=latent_dim, n_classes=n_classes,
                      objective=objective, penalty=penalty, tricks=tricks, fuse_critic_passes=fuse_critic_passes,
                      autocast=steps.autocast(device, t.amp, self.amp_dtype), augment=make_augment(t.augment))
        self.state = RunState(setup, players, streams)
        self.compiled = CompiledSteps(self.state) if t.compile else None  # train.compile (wgan.training.compiled)
        self._stop_requested = False
        self._finite_step = 0  # the last step the NaN guard found everything finite (wgan.training.guard)
        self._resumed_by_other_world: int | None = None  # processes that wrote the checkpoint, when not this many
        self.checkpoint_step: int | None = None  # the step checkpoints/latest.pt holds, once one is written
        # what evaluation keeps between calls (the last result, the data kinds' reference data); per trainer
        self.eval_cache: dict[str, Any] = {}

    @property
    def conditional(self) -> bool:
        """An AC-GAN run (``critic.n_classes > 0``)."""
        return self.state.setup.conditional

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator evaluation and sample grids use: the EMA copy when ``train.ema > 0``."""
        return self.G_ema.module if self.G_ema is not None else self.G

    # ------------------------------------------------------------------ the players' steps (wgan.training.steps)
    def critic_step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One critic update on a fresh real batch; returns the (real, fake) batch it used."""
        return self.compiled.critic_step() if self.compiled is not None else steps.critic_step(self.state)

    def generator_step(self) -> None:
        """One generator update."""
        if self.compiled is not None:
            self.compiled.generator_step()
        else:
            steps.generator_step(self.state)

    def train_step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One generator iteration: n_critic critic steps (or the ``train.critic_schedule``'s count), then one
        generator step; returns the last critic step's (real, fake) batch."""
        state = self.state
        # the data stream's draw: a function of the step
        state.streams.draw = steps.critic_draws_before(self.cfg, state.step)
        for _ in range(steps.critic_iterations(self.cfg, state.step)):
            real, fake = self.critic_step()
        self.generator_step()
        steps.end_of_iteration(state)
        state.step += 1
        return real, fake

    def noise(self, n: int) -> torch.Tensor:
        """Latent noise ``(n, latent_dim)`` from the run's noise stream."""
        return steps.noise(self.state, n)

    def validation_losses(self) -> dict[str, torch.Tensor]:
        """WGAN-GP Fig. 5b: the critic loss on a held-out batch and on a training batch (own stream)."""
        return steps.validation_losses(self.state)

    def gradient_norms(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Critic input-gradient norms at real/fake interpolates (for runs without a penalty)."""
        return steps.gradient_norms(self.state, real, fake)

    # ------------------------------------------------------------------ running means for logging
    def _add(self, key: str, value: torch.Tensor) -> None:
        """Keep a detached value for the next record (:class:`wgan.training.meters.RunningMeans`; no sync)."""
        self.state.log(key, value)

    def _flush(self) -> dict[str, float]:
        """The record's means since the last one, plus the objective's divergence estimate."""
        out = self.meters.flush(self.world)
        if "loss/critic" in out:
            est = self.objective.divergence_estimate(out["loss/critic"])
            if est is not None:
                out["critic/w_estimate" if self.objective.loss == "wasserstein" else "critic/js_estimate"] = est
        return out

    # ------------------------------------------------------------------ evaluation (own RNG streams)
    @torch.no_grad()
    def generate(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` generator samples ``(n, *shape)`` on the CPU from streams seeded by ``seed`` alone, from the
        EMA generator when ``train.ema > 0``, in ``eval.generator_mode`` (batch norm: running averages or each
        batch's own statistics; :func:`wgan.training.steps.sampling_mode`). Conditional runs take ``labels``
        ``(n,)``; by default ``i mod n_classes`` (equal counts; a grid with ``n_classes`` columns has one class per
        column)."""
        G = self.sampling_generator
        z_rng = torch.Generator(device=self.device).manual_seed(seed)
        self._g_data_rng = torch.Generator().manual_seed(seed + 1)
        try:
            with steps.sampling_mode(G, self.cfg.eval.generator_mode):
                z = torch.randn(n, self.latent_dim, generator=z_rng, device=self.device)
                y = None
                if self.conditional:
                    y = (labels if labels is not None else torch.arange(n) % self.n_classes).to(self.device)
                return steps.generate(G, z, y).float().cpu()
        finally:
            self._g_data_rng = self.data_rng

    def reference_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Points data: two independent ``eval.n_samples``-point data samples, fixed per seed (cached)."""
        return points.reference_data(self)

    def save_toy_plot(self, path: Path) -> None:
        """Points data in 2-D: data and samples over the critic's value surface (``wgan.kinds.point_runs``)."""
        points.save_toy_plot(self, path)

    def evaluate(self) -> dict[str, float]:
        """The data kind's evaluation (``DataKind.evaluate``) at the current step.

        Deterministic given the parameters (own seeded streams), so the result is cached per step."""
        cached = self.eval_cache.get("result")
        if cached is not None and cached[0] == self.step:
            return dict(cached[1])
        out = self.kind.evaluate(self)
        self.eval_cache["result"] = (self.step, dict(out))
        return out

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The whole run state (:func:`wgan.training.state.trainer_state`); under torchrun every rank must call
        it."""
        return trainer_state(self.state)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state`` (:meth:`state_dict` of a run of the same config)."""
        written_by = load_trainer_state(self.state, state)
        self._resumed_by_other_world = written_by if written_by != self.world else None  # warned by fit()
        self.eval_cache.pop("result", None)
        self._finite_step = self.step

    def save_checkpoint(self, run_dir: Path, keep: bool = False) -> Path:
        """Write ``checkpoints/latest.pt`` atomically; with ``keep`` also ``checkpoints/step-NNNNNNN.pt``."""
        state = self.state_dict()  # every rank takes part (their streams are gathered); rank 0 writes
        if self.rank != 0:
            return Path(run_dir) / "checkpoints" / rundir.LATEST
        path = rundir.save_checkpoint(run_dir, state, keep=keep)
        self.checkpoint_step = self.step  # what latest.pt holds (a second Ctrl-C may stop a later step)
        return path

    @classmethod
    def resume(cls, run_dir: str | Path, steps: int | None = None, sampler: Sampler | None = None) -> Trainer:
        """Rebuild a run from ``run_dir/checkpoints/latest.pt``; ``steps`` sets a new total; ``sampler`` as in
        ``__init__`` for runs trained on a sampler given in code."""
        state = load_checkpoint(run_dir)
        cfg = from_dict(state["config"])
        if steps is not None:
            if steps < state["step"]:
                raise ConfigError(f"--steps {steps} is below the {state['step']} steps this run has done; --steps is "
                                  f"the new total (e.g. --steps {2 * state['step']} for as many again)")
            if steps != cfg.train.steps and cfg.optim.lr_decay == "linear":
                warnings.warn(f"optim.lr_decay = linear decays to 0 over train.steps; changing it from "
                              f"{cfg.train.steps} to {steps} restarts the schedule from the new total, so this run "
                              "does not continue as an uninterrupted one would", UserWarning, stacklevel=2)
            cfg = replace(cfg, train=replace(cfg.train, steps=steps))
        trainer = cls(cfg, sampler=sampler)
        trainer.load_state_dict(state)
        trainer.checkpoint_step = trainer.step
        return trainer

    # ------------------------------------------------------------------ the loop
    def fit(self, run_dir: str | Path | None = None, progress: bool = False,
            callback: Callable[[Trainer], None] | None = None, every: int = 0) -> dict[str, Any]:
        """Train until ``cfg.train.steps``; with a ``run_dir``, log, plot and checkpoint into it.

        ``callback(self)`` is called after every generator step whose count ``self.step`` is a multiple of
        ``every`` (``every = 0``: never), as :meth:`wgan.ensemble.Ensemble.fit` does: after that step's metrics
        record, samples and checkpoint, so it sees the state a checkpoint of that step holds; the final step
        too when it is a multiple; never step 0; a resumed run counts from its checkpoint's step. A callback
        that only measures (its own random streams, as :meth:`evaluate` and :meth:`generate` use) leaves the
        run bit-identical to one without it. An exception it raises propagates out of ``fit`` (the checkpoints
        written until then stay).

        Returns the summary (also written to ``summary.json``). On Ctrl-C the loop finishes its current
        step, saves a checkpoint and raises ``KeyboardInterrupt``; a second Ctrl-C stops at once (the
        previous checkpoint stays intact). While it trains, the run directory is locked
        (:class:`wgan.rundir.RunLock`): a second process training into it is refused.
        """
        if every < 0:
            raise ConfigError(f"every = {every}: the callback's interval is a number of generator steps, >= 0 "
                              "(0: never)")
        held = rundir.RunLock(Path(run_dir)) if run_dir is not None and self.rank == 0 else None
        with held if held is not None else contextlib.nullcontext():
            return self._fit(run_dir, progress, callback if every > 0 else None, every)

    def _fit(self, run_dir: str | Path | None, progress: bool, callback: Callable[[Trainer], None] | None,
             every: int) -> dict[str, Any]:
        from tqdm.auto import tqdm

        t = self.cfg.train
        run_dir = Path(run_dir) if run_dir is not None else None
        files = run_dir if self.rank == 0 else None  # under torchrun only rank 0 writes (all ranks checkpoint)
        val_every = t.log_val_every or t.log_every
        if files is not None:
            rundir.start_run(files, self.run_info(), self.step)
        sinks = rundir.open_sinks(files, self.run_info() if t.tensorboard else None, self.step) if (
            files is not None) else []
        bar = tqdm(total=t.steps, initial=self.step, disable=not progress or self.rank != 0, dynamic_ncols=True,
                   file=sys.stderr, desc="train", unit="it")
        # one process: Ctrl-C finishes the step and checkpoints; under torchrun a signal reaches the ranks at
        # different steps, so it stops them at once and the run resumes from its last periodic checkpoint
        previous_handler = self._install_sigint(files is not None) if self.world == 1 else None
        if self._resumed_by_other_world and self.step < t.steps:
            warnings.warn(f"this run was checkpointed by {self._resumed_by_other_world} process(es) and continues "
                          f"on {self.world}: every rank continues rank 0's random streams and the global batch "
                          "changes, so it does not continue as the uninterrupted run would", UserWarning, stacklevel=2)
        last_real = last_fake = None
        start = time.perf_counter()
        elapsed0 = self.elapsed_s
        try:
            while self.step < t.steps:
                last_real, last_fake = self.train_step()
                s = self.step
                self.elapsed_s = elapsed0 + time.perf_counter() - start
                final = s == t.steps
                if self.val_sampler is not None and (s % val_every == 0 or final):
                    for key, value in self.validation_losses().items():  # WGAN-GP Fig. 5b
                        self._add(key, value)
                if s % t.log_every == 0 or s % t.eval_every == 0 or final:  # an evaluation is a record too
                    if self.penalty is None:
                        self._add("gradnorm", self.gradient_norms(last_real, last_fake))
                    record: dict[str, Any] = {"step": s, **self._flush(), "time/elapsed_s": self.elapsed_s}
                    # the NaN guard (wgan.training.guard); no sync on the hot path
                    diverged = guard.check(self.state.players, record)
                    if diverged is None and (s % t.eval_every == 0 or final) and self.rank == 0:
                        record.update(self.evaluate())
                    for sink in sinks:
                        sink.write(record)
                    self._stop_if_diverged(diverged, run_dir)
                    bar.set_postfix(self._postfix(record), refresh=False)
                if files is not None and self.kind.save_samples and (s % t.sample_every == 0 or final):
                    self.kind.save_samples(self, files / "samples")
                    for path in rundir.sample_files(files / "samples", s):
                        for sink in sinks:
                            if hasattr(sink, "samples"):
                                sink.samples(s, path)
                if run_dir is not None and (s % t.checkpoint_every == 0 or final or self._stop_requested):
                    if self._finite_step != s:  # never a non-finite state into latest.pt
                        self._stop_if_diverged(guard.check(self.state.players), run_dir)
                    self.save_checkpoint(run_dir, keep=t.keep_checkpoints and s % t.checkpoint_every == 0)
                if callback is not None and s % every == 0:
                    callback(self)
                bar.update(1)
                if self._stop_requested and not final:
                    raise KeyboardInterrupt
        finally:
            bar.close()
            self._restore_sigint(previous_handler)
            for sink in sinks:
                sink.close()
        return self.finish(run_dir, wall_start=start - elapsed0)

    def _stop_if_diverged(self, what: str | None, run_dir: Path | None) -> None:
        """Raise :class:`TrainingDiverged` when the guard found something non-finite; else note the step."""
        if what is not None:
            raise TrainingDiverged(guard.message(self.cfg, self.step, what, self._finite_step, self.checkpoint_step,
                                                 run_dir))
        self._finite_step = self.step

    def finish(self, run_dir: Path | None, wall_start: float | None = None) -> dict[str, Any]:
        """Final evaluation, ``summary.json`` and ``curves.png``. ``train_time_s`` is the time spent in
        the loop (all sessions of a resumed run); ``wall_time_s`` adds this final evaluation and plotting
        (measured from ``wall_start``, a ``time.perf_counter()`` value). Under torchrun ranks other than 0
        only return ``{"steps", "rank"}``."""
        if self.rank != 0:
            return {"steps": self.step, "rank": self.rank}
        if run_dir is not None:
            from ..diagnostics.plots import gradnorm_place, plot_curves, run_title

            where, unit = gradnorm_place(self.cfg)
            plot_curves(read_jsonl(run_dir / "metrics.jsonl"), run_dir / "curves.png", title=run_title(self.cfg),
                        gradnorm_at=where, unit_target=unit)
        summary = {
            **self.eval_summary(),
            "train_time_s": self.elapsed_s,
            "wall_time_s": time.perf_counter() - wall_start if wall_start is not None else self.elapsed_s,
        }
        summary["protocol"] = summary.pop("protocol")  # last, for readers of summary.json
        if run_dir is not None:
            write_json(run_dir / "summary.json", summary)
        return summary

    def eval_summary(self) -> dict[str, Any]:
        """The evaluation at the current step as reported figures (``summary.json``, ``wgan eval``):
        ``steps``, the data kind's figures and their ``protocol``."""
        return {"steps": self.step, **self.kind.summary(self, self.evaluate())}

    def run_info(self) -> dict[str, Any]:
        """The contents of ``config.json``."""
        return rundir.run_info(self.cfg, self.device)

    # ------------------------------------------------------------------ Ctrl-C
    def _install_sigint(self, checkpoints: bool = True):
        """Ctrl-C finishes the current step (and saves a checkpoint when the run has a folder); a second one
        stops at once."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum, frame):
            if self._stop_requested:
                raise KeyboardInterrupt
            self._stop_requested = True
            # never raises: stderr may be a pipe that the same Ctrl-C closed (`| tee`), and an error here would
            # abort the step before its checkpoint
            say("\ninterrupt: finishing this step" + (" and saving a checkpoint" if checkpoints else "")
                + " (Ctrl-C again to stop now)")

        return signal.signal(signal.SIGINT, handler)

    def _restore_sigint(self, previous) -> None:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)

    def _postfix(self, record: dict[str, Any]) -> dict[str, str]:
        out = {"D": f"{record.get('loss/critic', float('nan')):.3f}"}
        if "critic/w_estimate" in record:
            out["W"] = f"{record['critic/w_estimate']:.3f}"
        elif "critic/js_estimate" in record:
            out["JS"] = f"{record['critic/js_estimate']:.3f}"
        if "eval/w1" in record:
            out["W1"] = f"{record['eval/w1']:.3f}"
            self.eval_cache["last_w1"] = out["W1"]
        elif "last_w1" in self.eval_cache:
            out["W1"] = self.eval_cache["last_w1"]
        return out


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())

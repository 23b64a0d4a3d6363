"""The training loop -- one for every objective (WGAN Algorithm 1, WGAN-GP Algorithm 1, GAN variants).

Per generator step: ``n_critic`` critic steps, each on a fresh real batch and fresh noise, with the
objective's critic loss plus ``lambda * penalty`` and then the constraint hook (weight clipping when
``clip > 0``); then one generator step. The loop reads the objective, penalty, clip value and n_critic
from the resolved config: it never branches on an objective's name.

Randomness comes from named streams (``data_rng``, ``noise_rng``, ``diag_rng``, ``val_rng`` and the global
torch RNG for initialisation), all saved in checkpoints, so a resumed run is bit-identical to an uninterrupted
one. Evaluation draws from its own freshly seeded streams and never disturbs training.

Image-scale options, all read from the config (docs/images.md): a generator batch ``train.g_batch_multiple``
times the critic batch and linear lr decay (the WGAN-GP CIFAR code), an EMA generator for evaluation, AC-GAN
cross-entropy terms for conditional runs (WGAN-GP conditional CIFAR model), the critic loss on a held-out split
(WGAN-GP Fig. 5b), mixed precision with a loss-scaled penalty, channels-last, and data parallelism under
``torchrun`` (:mod:`wgan.distributed`).

This module is the driver: construction, the loop's cadences (log, evaluate, sample, checkpoint) and Ctrl-C.
The parts it drives live beside it: the players' steps in :mod:`wgan.steps`, the run directory (config.json,
metrics sinks, checkpoints, resume) in :mod:`wgan.run`, running means in :mod:`wgan.meters`, and what depends
on the kind of data (evaluation, summary, sample files) in :mod:`wgan.kinds` (points, images, text).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from . import distributed as dist
from . import guard, run, steps
from .compiled import CompiledSteps
from .config import Config, ConfigError, from_dict, resolve
from .console import say
from .data import Sampler, make_sampler
from .data.images import FolderSampler
from .data.loading import FolderStream
from .errors import TrainingDiverged
from .io import read_jsonl, write_json
from .kinds import data_kind, points, validation_sampler
from .meters import RunningMeans
from .nets import DataPlusNoise, build_critic, build_generator, is_per_sample
from .objectives import Objective
from .optim import make_optimizer
from .penalties import make_penalty, warn_if_batchnorm
from .run import CHECKPOINT_FORMAT, create_run_dir, load_checkpoint  # noqa: F401  (public here too)
from .tricks import Tricks


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> CUDA when available; under torchrun ``auto``/``cuda`` mean ``cuda:LOCAL_RANK``."""
    if name in ("auto", "cuda") and torch.cuda.is_available() and dist.is_distributed():
        return torch.device("cuda", local_rank)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"train.device = {name!r} but CUDA is not available here; use train.device = \"cpu\"")
    return torch.device(name)


class Trainer:
    """Owns the networks, optimisers, RNG streams and step count of one run.

    ``Trainer(cfg).fit(run_dir)`` trains to ``cfg.train.steps`` generator steps; ``Trainer.resume(run_dir)``
    continues a run from its latest checkpoint. ``run_dir=None`` trains in memory (no files).
    """

    def __init__(self, cfg: Config, sampler: Sampler | None = None) -> None:
        """``sampler`` replaces the data named by ``cfg.data.name`` (a distribution defined in code, such as
        :class:`wgan.data.LineData`); such a run resumes only in code, ``Trainer.resume(dir, sampler=...)``."""
        cfg = resolve(cfg, check_data=sampler is None)
        self.cfg = cfg
        t, o = cfg.train, cfg.objective
        # data parallel under torchrun (wgan.distributed): every rank its own streams, rank 0 writes files
        self.rank, self.world = dist.rank(), dist.world_size()
        self.device = pick_device(t.device, dist.local_rank())
        torch.manual_seed(t.seed)  # parameter initialisation (the same on every rank)
        self.sampler: Sampler = sampler if sampler is not None else make_sampler(cfg.data.name, cfg.data)
        data_device = torch.device("cpu")
        if self.device.type != "cpu" and hasattr(self.sampler, "to"):  # in-memory images: held and drawn there
            self.sampler, data_device = self.sampler.to(self.device), self.device
        self.kind = data_kind(self.sampler.kind)
        self._check_features()
        self.G = build_generator(cfg.generator, self.sampler.shape).to(self.device)
        self.D = build_critic(cfg.critic, self.sampler.shape).to(self.device)
        self.latent_dim: int = getattr(self.G, "latent_dim", cfg.generator.latent_dim)
        self.tricks = Tricks(cfg)  # the [tricks] switches (wgan.tricks); all identities when off
        self.G, self.D = self.tricks.wrap(self.G, self.D, self.sampler, self.latent_dim, self.device)
        seed = t.seed + self.rank * dist.RANK_SEED_OFFSET  # rank 0: the single-process streams
        self.data_rng = torch.Generator(device=data_device).manual_seed(seed)
        # image folders: decoded ahead by DataLoader workers, draw k a pure function of (seed, k) (wgan.data.loading)
        self.stream = FolderStream(self.sampler, cfg.data.batch_size, seed, cfg.data.workers, self.device) if (
            isinstance(self.sampler, FolderSampler)) else None
        self.draw = 0  # the stream's next draw: step * n_critic + the critic step within the step
        self.noise_rng = torch.Generator(device=self.device).manual_seed(seed + 1)
        self.diag_rng = torch.Generator(device=self.device).manual_seed(seed + 2)
        self.val_rng = torch.Generator().manual_seed(seed + 3)  # held-out critic loss: real batches and noise
        self._g_data_rng = self.data_rng  # the stream a data-plus-noise generator draws its data from
        if isinstance(self.G, DataPlusNoise):
            self.G.sample_real = lambda n: self.sampler.sample(n, self._g_data_rng)
        self.objective = Objective(o.loss, cfg.tricks.label_smoothing)  # type: ignore[arg-type]
        self.penalty = make_penalty(o.penalty, o.penalty_weight, o.dragan_scale)
        warn_if_batchnorm(self.D, self.penalty)
        # a critic that treats samples independently scores real and fake batches in one call; with batch
        # norm the two batches keep their own statistics, as in the papers' code
        self.fuse_critic_passes = is_per_sample(self.D)
        op = cfg.optim
        self.opt_d = make_optimizer(op.name, self.D.parameters(), op.critic_lr, op.beta1, op.beta2)
        g_params = list(self.G.parameters())
        self.opt_g = make_optimizer(op.name, g_params, op.lr, op.beta1, op.beta2) if g_params else None
        self._setup_features()
        self.compiled = CompiledSteps(self) if t.compile else None  # train.compile (wgan.compiled)
        self.step = 0
        self.elapsed_s = 0.0
        self.meters = RunningMeans()  # values logged since the last record (wgan.meters)
        self._stop_requested = False
        self._finite_step = 0  # the last step the NaN guard found everything finite (wgan.guard)
        self.checkpoint_step: int | None = None  # the step checkpoints/latest.pt holds, once one is written
        self._eval_cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ image-scale features
    def _check_features(self) -> None:
        """Choices that depend on the data: AC-GAN conditioning needs labels, channels-last needs images."""
        t = self.cfg.train
        self.n_classes = int(getattr(self.cfg.critic, "n_classes", 0) or 0)
        self.conditional = self.n_classes > 0
        if self.conditional:
            k = int(getattr(self.sampler, "n_classes", 0) or 0)
            if not hasattr(self.sampler, "sample_with_labels") or k == 0:
                raise ConfigError(f"critic.n_classes = {self.n_classes} asks for AC-GAN training but data "
                                  f"{self.sampler.name!r} has no labels; set critic.n_classes = "
                                  "generator.n_classes = 0")
            if k != self.n_classes:
                raise ConfigError(f"critic.n_classes = {self.n_classes} but data {self.sampler.name!r} has {k} "
                                  f"classes; set critic.n_classes = generator.n_classes = {k}")
        if t.channels_last and len(self.sampler.shape) != 3:
            raise ConfigError(f"train.channels_last applies to images (C, H, W) but data {self.sampler.name!r} has "
                              f"samples of shape {tuple(self.sampler.shape)}; set train.channels_last = false")
        # Mixed precision: autocast on CUDA and on the CPU alike (CPU autocast runs bfloat16 natively on CPUs with
        # AMX/AVX512-BF16 and is correct everywhere), so the code the GPU runs is the code the CPU tests run.
        self.amp_dtype = torch.float16 if t.amp_dtype == "float16" else torch.bfloat16

    def _setup_features(self) -> None:
        """Loss scalers, learning-rate schedules, channels-last, the generator EMA, the validation split."""
        t, op = self.cfg.train, self.cfg.optim
        fp16 = t.amp and self.amp_dtype == torch.float16
        # one scaler per player (each has its own backward/step cadence); a disabled scaler is a pass-through
        self.scaler_d = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self.scaler_g = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self._autocast = steps.autocast(self.device, t.amp, self.amp_dtype)
        self.schedulers: list[torch.optim.lr_scheduler.LRScheduler] = []
        if op.lr_decay == "linear":  # WGAN-GP CIFAR code: lr * max(0, 1 - iteration / ITERS), both players
            total = t.steps

            def decay(i: int) -> float:
                return max(0.0, 1.0 - i / total)

            self.schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, decay)
                               for opt in (self.opt_d, self.opt_g) if opt is not None]
        if t.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        if self.world > 1:
            dist.broadcast_module(self.G)
            dist.broadcast_module(self.D)
        # The EMA generator: AveragedModel keeps a copy and lerps it (torch._foreach_lerp_, one fused call per
        # step) towards the generator's parameters *and* buffers (use_buffers: batch-norm statistics too).
        self.G_ema: AveragedModel | None = None
        if t.ema > 0 and self.opt_g is not None:
            self.G_ema = AveragedModel(self.G, multi_avg_fn=get_ema_multi_avg_fn(t.ema), use_buffers=True)
        self.val_sampler = validation_sampler(self.sampler)

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator evaluation and sample grids use: the EMA copy when ``train.ema > 0``."""
        return self.G_ema.module if self.G_ema is not None else self.G

    # ------------------------------------------------------------------ the players' steps (wgan.steps)
    def critic_step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One critic update on a fresh real batch; returns the (real, fake) batch it used."""
        return self.compiled.critic_step() if self.compiled is not None else steps.critic_step(self)

    def generator_step(self) -> None:
        """One generator update."""
        if self.compiled is not None:
            self.compiled.generator_step()
        else:
            steps.generator_step(self)

    def train_step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One generator iteration: n_critic critic steps (or the ``train.critic_schedule``'s count), then one
        generator step; returns the last critic step's (real, fake) batch."""
        self.draw = steps.critic_draws_before(self)  # the data stream's draw: a function of the step
        for _ in range(steps.critic_iterations(self)):
            real, fake = self.critic_step()
        self.generator_step()
        steps.end_of_iteration(self)
        self.step += 1
        return real, fake

    def noise(self, n: int) -> torch.Tensor:
        return steps.noise(self, n)

    def _real_batch(self, n: int, sampler: Sampler, rng: torch.Generator
                    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return steps.real_batch(self, n, sampler, rng)

    def validation_losses(self) -> dict[str, torch.Tensor]:
        """WGAN-GP Fig. 5b: the critic loss on a held-out batch and on a training batch (own stream)."""
        return steps.validation_losses(self)

    def gradient_norms(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Critic input-gradient norms at real/fake interpolates (for runs without a penalty)."""
        return steps.gradient_norms(self, real, fake)

    # ------------------------------------------------------------------ running means for logging
    def _add(self, key: str, value: torch.Tensor) -> None:
        """Keep a detached value for the next record (:class:`wgan.meters.RunningMeans`; no sync)."""
        self.meters.add(key, value)

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
        batch's own statistics; :func:`wgan.steps.sampling_mode`). Conditional runs take ``labels`` ``(n,)``; by default
        ``i mod n_classes`` (equal counts; a grid with ``n_classes`` columns has one class per column)."""
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
        """Points data in 2-D: data and samples over the critic's value surface (``wgan.kinds.points``)."""
        points.save_toy_plot(self, path)

    def evaluate(self) -> dict[str, float]:
        """The data kind's evaluation (``DataKind.evaluate``) at the current step.

        Deterministic given the parameters (own seeded streams), so the result is cached per step."""
        cached = self._eval_cache.get("result")
        if cached is not None and cached[0] == self.step:
            return dict(cached[1])
        out = self.kind.evaluate(self)
        self._eval_cache["result"] = (self.step, dict(out))
        return out

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The whole run state (:func:`wgan.run.trainer_state`); under torchrun every rank must call it."""
        return run.trainer_state(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        run.load_trainer_state(self, state)
        self._finite_step = self.step

    def save_checkpoint(self, run_dir: Path, keep: bool = False) -> Path:
        """Write ``checkpoints/latest.pt`` atomically; with ``keep`` also ``checkpoints/step-NNNNNNN.pt``."""
        state = self.state_dict()  # every rank takes part (their streams are gathered); rank 0 writes
        if self.rank != 0:
            return Path(run_dir) / "checkpoints" / run.LATEST
        path = run.save_checkpoint(run_dir, state, keep=keep)
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
    def fit(self, run_dir: str | Path | None = None, progress: bool = False) -> dict[str, Any]:
        """Train until ``cfg.train.steps``; with a ``run_dir``, log, plot and checkpoint into it.

        Returns the summary (also written to ``summary.json``). On Ctrl-C the loop finishes its current
        step, saves a checkpoint and raises ``KeyboardInterrupt``; a second Ctrl-C stops at once (the
        previous checkpoint stays intact). While it trains, the run directory is locked (:class:`wgan.run.RunLock`):
        a second process training into it is refused.
        """
        held = run.RunLock(Path(run_dir)) if run_dir is not None and self.rank == 0 else None
        with held if held is not None else contextlib.nullcontext():
            return self._fit(run_dir, progress)

    def _fit(self, run_dir: str | Path | None, progress: bool) -> dict[str, Any]:
        from tqdm.auto import tqdm

        t = self.cfg.train
        run_dir = Path(run_dir) if run_dir is not None else None
        files = run_dir if self.rank == 0 else None  # under torchrun only rank 0 writes (all ranks checkpoint)
        val_every = t.log_val_every or t.log_every
        if files is not None:
            run.start_run(files, self)
        sinks = run.open_sinks(files, self) if files is not None else []
        bar = tqdm(total=t.steps, initial=self.step, disable=not progress or self.rank != 0, dynamic_ncols=True,
                   file=sys.stderr, desc="train", unit="it")
        # one process: Ctrl-C finishes the step and checkpoints; under torchrun a signal reaches the ranks at
        # different steps, so it stops them at once and the run resumes from its last periodic checkpoint
        previous_handler = self._install_sigint() if self.world == 1 else None
        if getattr(self, "_resumed_by_other_world", None) and self.step < t.steps:
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
                    diverged = guard.check(self, record)  # the NaN guard (wgan.guard); no sync on the hot path
                    if diverged is None and (s % t.eval_every == 0 or final) and self.rank == 0:
                        record.update(self.evaluate())
                    for sink in sinks:
                        sink.write(record)
                    self._stop_if_diverged(diverged, run_dir)
                    bar.set_postfix(self._postfix(record), refresh=False)
                if files is not None and self.kind.save_samples and (s % t.sample_every == 0 or final):
                    self.kind.save_samples(self, files / "samples")
                    for path in run.sample_files(files / "samples", s):
                        for sink in sinks:
                            if hasattr(sink, "samples"):
                                sink.samples(s, path)
                if run_dir is not None and (s % t.checkpoint_every == 0 or final or self._stop_requested):
                    if self._finite_step != s:  # never a non-finite state into latest.pt
                        self._stop_if_diverged(guard.check(self), run_dir)
                    self.save_checkpoint(run_dir, keep=t.keep_checkpoints and s % t.checkpoint_every == 0)
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
            raise TrainingDiverged(guard.message(self, what, self._finite_step, run_dir))
        self._finite_step = self.step

    def finish(self, run_dir: Path | None, wall_start: float | None = None) -> dict[str, Any]:
        """Final evaluation, ``summary.json`` and ``curves.png``. ``train_time_s`` is the time spent in
        the loop (all sessions of a resumed run); ``wall_time_s`` adds this final evaluation and plotting
        (measured from ``wall_start``, a ``time.perf_counter()`` value). Under torchrun ranks other than 0
        only return ``{"steps", "rank"}``."""
        if self.rank != 0:
            return {"steps": self.step, "rank": self.rank}
        if run_dir is not None:
            from .diagnostics.plots import plot_curves

            where, unit = run.gradnorm_place(self.cfg)
            plot_curves(read_jsonl(run_dir / "metrics.jsonl"), run_dir / "curves.png", title=run.run_title(self.cfg),
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
        return run.run_info(self)

    # ------------------------------------------------------------------ Ctrl-C
    def _install_sigint(self):
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum, frame):
            if self._stop_requested:
                raise KeyboardInterrupt
            self._stop_requested = True
            # never raises: stderr may be a pipe that the same Ctrl-C closed (`| tee`), and an error here would
            # abort the step before its checkpoint
            say("\ninterrupt: finishing this step and saving a checkpoint (Ctrl-C again to stop now)")

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
            self._eval_cache["last_w1"] = out["W1"]
        elif "last_w1" in self._eval_cache:
            out["W1"] = self._eval_cache["last_w1"]
        return out


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())

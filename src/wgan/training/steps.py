"""The players' steps: one critic update and one generator update (the inner bodies of WGAN Algorithm 1 and
WGAN-GP Algorithm 1; :meth:`wgan.training.trainer.Trainer.train_step` runs ``n_critic`` critic steps per generator
step).

Each step is a function of the run's state (a :class:`wgan.training.state.RunState`: the setup it reads -- the
resolved config, data, objective, penalty --, the players it updates -- networks, optimisers, loss scalers --, the
random streams it draws from, the running means it logs to). The critic's loss is the objective's ``critic_loss`` plus
``lambda * penalty``, the weight decay term (``objective.weight_decay``, :mod:`wgan.constraints`), the AC-GAN
classification term in conditional runs and the ``[tricks]`` terms (under ``train.augment`` the critic's real and
generated inputs, and so the penalty's points, are augmented: :mod:`wgan.training.augment`); weight clipping
(elementwise, or per unit's L2 norm: ``objective.clip_kind``) is a constraint applied after the optimiser step, never
part of a loss. The steps read the objective, penalty, clip value and ``n_critic`` from the config: they never branch
on an objective's name.

Mixed precision: the forward passes run under autocast; float16 runs scale the loss (one
``torch.amp.GradScaler`` per player, each with its own backward/step cadence) and the gradient penalty
differentiates the scaled output, then unscales the input gradient (PyTorch's AMP recipe).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from .. import distributed as dist
from ..constraints import constrain_weights_, weight_decay_term
from ..data import Sampler
from ..nets import DataPlusNoise
from ..penalties import input_gradient_norms, interpolates
from .trick_hooks import feature_matching_loss

if TYPE_CHECKING:
    from ..config import Config
    from .state import RunState


def autocast(device: torch.device, enabled: bool, dtype: torch.dtype
             ) -> Callable[[], AbstractContextManager]:
    """A factory of the forward passes' precision context: autocast to ``dtype`` on ``device`` when enabled.
    Autocast runs on CUDA and on the CPU alike, so the code the GPU runs is the code the CPU tests run."""
    if not enabled:
        return contextlib.nullcontext
    return lambda: torch.autocast(device.type, dtype=dtype)


def update(run: RunState, total: torch.Tensor, opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
           module: nn.Module, player: str) -> None:
    """Backward (loss-scaled under float16), gradients averaged over ranks, optimiser step. Under float16 a
    step the scaler skips (an inf/NaN gradient) is counted as ``amp/skipped_<player>_steps``."""
    opt.zero_grad(set_to_none=True)
    scaler.scale(total).backward()
    if run.setup.world > 1:
        dist.all_reduce_gradients(module.parameters())
    scaler.step(opt)  # float16: unscales, skips the step when a gradient is inf/NaN
    if scaler.is_enabled():
        # the scaler lowers its scale exactly when it skipped the step; compared on the device (no sync).
        # ``_scale`` is the scaler's device tensor (public get_scale() would sync the host every step)
        before = scaler._scale.clone()
        scaler.update()
        run.log(f"amp/skipped_{player}_steps", (scaler._scale < before).float())
    else:
        scaler.update()


# ---------------------------------------------------------------------- batches and passes
def real_batch(run: RunState, n: int, sampler: Sampler, rng: torch.Generator
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` data samples on the device ``(n, *shape)`` and, in conditional runs, their labels ``(n,)``.
    The critic's batches of an image folder come from the run's :class:`wgan.data.loading.FolderStream` (draw
    ``run.streams.draw``; the seconds waited for it are logged as ``time/data_wait_s``)."""
    stream = run.streams.folder
    if stream is not None and sampler is run.setup.sampler and rng is run.streams.data and n == stream.n:
        waited = stream.wait_s
        x, y = stream.batch(run.streams.draw)
        run.streams.draw += 1
        run.log("time/data_wait_s", torch.tensor(stream.wait_s - waited))
        y = y if run.setup.conditional else None
    elif run.setup.conditional:
        x, y = sampler.sample_with_labels(n, rng)  # type: ignore[attr-defined]
        y = y.to(run.setup.device, non_blocking=True)
    else:
        x, y = sampler.sample(n, rng), None
    x = x.to(run.setup.device, non_blocking=True)
    if run.setup.cfg.train.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y


@contextlib.contextmanager
def sampling_mode(G: nn.Module, mode: str):
    """``G`` set up for sampling (``eval.generator_mode``): eval mode throughout; under ``"batch"`` its
    batch-norm layers normalise with each batch's own statistics (tflib's batch norm, which the WGAN-GP
    authors' code always runs that way) while their running averages are saved and restored, so sampling
    never changes the model. Restores the previous train/eval flags."""
    flags = {m: m.training for m in G.modules()}
    G.eval()
    batch_norms = []
    if mode == "batch":
        batch_norms = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]  # 1d/2d/3d, Sync
        for m in batch_norms:
            m.train()
    try:
        with _buffers_kept(*batch_norms):
            yield G
    finally:
        for m, flag in flags.items():
            m.train(flag)


def generate(G: nn.Module, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """``G(z)``, or ``G(z, y)`` with class labels in conditional runs."""
    return G(z) if y is None else G(z, y)


def noise(run: RunState, n: int) -> torch.Tensor:
    """Latent noise ``(n, latent_dim)`` from the run's noise stream."""
    return torch.randn(n, run.setup.latent_dim, generator=run.streams.noise, device=run.setup.device)


def fake_labels(run: RunState, n: int) -> torch.Tensor | None:
    """Uniform class labels for the generator step (AC-GAN), from the noise stream."""
    if not run.setup.conditional:
        return None
    return torch.randint(run.setup.n_classes, (n,), generator=run.streams.noise, device=run.setup.device)


def score_and_logits(run: RunState, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The critic's output ``(B,)`` and, in conditional runs, its class logits ``(B, K)`` from one pass
    (image critics: ``forward(x) == head(features(x))``, ``class_logits(features)``, wgan.nets.image_nets)."""
    D = run.players.D
    if not run.setup.conditional:
        return D(x), None
    h = D.features(x)
    score = D.head(h) if hasattr(D, "head") else D(x)
    return score, D.class_logits(h)


# ---------------------------------------------------------------------- the players' steps
WGAN_SCHEDULE_STEPS, WGAN_SCHEDULE_WARMUP, WGAN_SCHEDULE_EVERY = 100, 25, 500  # WassersteinGAN/main.py:176-177


def critic_iterations(cfg: Config, step: int) -> int:
    """Critic steps before generator step ``step`` (0-based): ``objective.n_critic``, or under
    ``train.critic_schedule = "wgan"`` 100 for the first 25 generator steps and every 500th (main.py:176-179)."""
    n = cfg.objective.n_critic
    if cfg.train.critic_schedule == "wgan" and (step < WGAN_SCHEDULE_WARMUP or step % WGAN_SCHEDULE_EVERY == 0):
        return WGAN_SCHEDULE_STEPS
    return n


def critic_draws_before(cfg: Config, step: int) -> int:
    """Critic steps made before generator step ``step``: the sum of :func:`critic_iterations` over the earlier
    steps, in closed form (the data stream's draw index is a function of the step, for exact resumes)."""
    n = cfg.objective.n_critic
    if cfg.train.critic_schedule != "wgan":
        return step * n
    heavy = min(step, WGAN_SCHEDULE_WARMUP) + max(0, (step - 1) // WGAN_SCHEDULE_EVERY)  # steps 500, 1000, ... < step
    return step * n + heavy * (WGAN_SCHEDULE_STEPS - n)


def critic_step(run: RunState) -> tuple[torch.Tensor, torch.Tensor]:
    """One critic update on a fresh real batch; returns the (real, fake) batch it used (augmented under
    ``train.augment``: the batches the critic and its penalty saw)."""
    setup, players, rng = run.setup, run.players, run.streams
    o = setup.cfg.objective
    n = setup.cfg.data.batch_size
    real, y = real_batch(run, n, setup.sampler, rng.data)  # (B, *shape), labels (B,) or None
    z = noise(run, n)
    with torch.no_grad(), setup.autocast():
        if isinstance(players.G, DataPlusNoise):  # WGAN-GP Fig. 1a: this step's real batch + noise (gan_toy.py:44)
            fake = players.G.perturb(real, z).float()
        else:  # conditional runs: the fakes get the real batch's labels (the WGAN-GP authors' AC-GAN code)
            fake = generate(players.G, z, y).float()  # (B, *shape)
    real = setup.tricks.noisy(real, run.step, rng.noise)  # instance noise, when switched on
    fake = setup.tricks.noisy(fake, run.step, rng.noise)
    if setup.augment is not None:  # DiffAugment: the critic (and its penalty) sees T(x), T(G(z)); real drawn first
        real = setup.augment(real, rng.augment)
        fake = setup.augment(fake, rng.augment)
    with setup.autocast():
        if setup.fuse_critic_passes:  # one pass over 2B rows: same values, half the per-call overhead
            out, logits = score_and_logits(run, torch.cat([real, fake]))  # (2B,), (2B, K) or None
            real_out, fake_out = out[:n].float(), out[n:].float()
            real_logits = logits[:n] if logits is not None else None
        else:
            (real_out, real_logits), (fake_out, _) = score_and_logits(run, real), score_and_logits(run, fake)
            real_out, fake_out = real_out.float(), fake_out.float()  # (B,), (B,)
    loss = setup.objective.critic_loss(real_out, fake_out)
    total = loss
    log = run.log
    if real_logits is not None:  # AC-GAN: the critic's classifier learns the real labels
        ac = F.cross_entropy(real_logits.float(), y)
        total = total + o.acgan_critic_scale * ac
        log("loss/ac_real", ac)
        log("acgan/real_accuracy", (real_logits.argmax(1) == y).float())
    log("loss/critic", loss)
    log("critic/real_mean", real_out)
    log("critic/fake_mean", fake_out)
    if setup.penalty is not None:
        # under float16 the penalty differentiates the scaled output and unscales the input gradient
        # (PyTorch's AMP recipe); its norm and value are float32, outside autocast
        critic = _critic_amp(run) if setup.cfg.train.amp else players.D
        scale = players.scaler_d.get_scale() if players.scaler_d.is_enabled() else 1.0
        pen, norms = setup.penalty(critic, real, fake, rng.noise, scale=scale)
        total = total + setup.penalty.weight * pen
        log(f"penalty/{setup.penalty.name}", pen)
        log("gradnorm", norms)
    if o.weight_decay > 0:  # a soft constraint on the critic's weights (wgan.constraints)
        decay = weight_decay_term(players.D, o.weight_decay, o.weight_decay_kind)
        total = total + decay
        log(f"penalty/weight_decay_{o.weight_decay_kind}", decay)
    total = setup.tricks.add_history_penalty("critic", total, log)
    update(run, total, players.opt_d, players.scaler_d, players.D, "critic")
    if o.clip > 0:
        constrain_weights_(players.D, o.clip, o.clip_kind)
    setup.tricks.record_history("critic")
    return real, fake


def _critic_amp(run: RunState) -> Callable[[torch.Tensor], torch.Tensor]:
    """The critic under autocast with a float32 output: the forward pass the penalty differentiates."""
    def critic(x: torch.Tensor) -> torch.Tensor:
        with run.setup.autocast():
            return run.players.D(x).float()
    return critic


def generator_step(run: RunState) -> None:
    """One generator update on fresh noise (``train.g_batch_multiple`` times the critic batch)."""
    setup, players, rng = run.setup, run.players, run.streams
    if players.opt_g is None:  # a parameter-free (fixed) generator: only the critic trains
        return
    for p in players.D.parameters():
        p.requires_grad_(False)  # the generator step needs no critic parameter gradients
    n = setup.cfg.data.batch_size * setup.cfg.train.g_batch_multiple  # WGAN-GP CIFAR code: 2x the critic batch
    z = noise(run, n)
    y = fake_labels(run, n)  # (n,) uniform labels in conditional runs, else None
    logits = None
    log = run.log
    with setup.autocast():
        fake = setup.tricks.noisy(generate(players.G, z, y), run.step, rng.noise)
        if setup.augment is not None:  # DiffAugment: D(T(G(z))), differentiable through T
            fake = setup.augment(fake, rng.augment)
        if setup.tricks.feature_matching:  # Salimans et al. 2016 sec. 3.1: replaces the objective's generator loss
            real = setup.tricks.noisy(setup.sampler.sample(n, rng.data).to(setup.device), run.step, rng.noise)
            if setup.augment is not None:
                real = setup.augment(real, rng.augment)
            loss = feature_matching_loss(players.D, real, fake)
        else:
            fake_out, logits = score_and_logits(run, fake)
            loss = setup.objective.generator_loss(fake_out.float())
    total = setup.tricks.add_history_penalty("generator", loss, log)
    if logits is not None:  # AC-GAN: the generator makes fakes the critic's classifier recognises
        ac = F.cross_entropy(logits.float(), y)
        total = total + setup.cfg.objective.acgan_generator_scale * ac
        log("loss/ac_fake", ac)
        log("acgan/fake_accuracy", (logits.argmax(1) == y).float())
    update(run, total, players.opt_g, players.scaler_g, players.G, "generator")
    setup.tricks.record_history("generator")
    for p in players.D.parameters():
        p.requires_grad_(True)
    log("loss/generator", loss)


def end_of_iteration(run: RunState) -> None:
    """After each generator iteration: lr schedules, rank-averaged buffers, the EMA generator."""
    players = run.players
    for sched in players.schedulers:
        sched.step()
    if run.setup.world > 1:
        dist.average_buffers(players.G)
        dist.average_buffers(players.D)
    if players.G_ema is not None:
        players.G_ema.update_parameters(players.G)


# ---------------------------------------------------------------------- measurements of the players
@contextlib.contextmanager
def _buffers_kept(*modules: nn.Module):
    """Run a measurement in training mode without letting it move any buffer (batch-norm running statistics,
    ``num_batches_tracked``): every buffer is copied before and written back after."""
    saved = [(b, b.clone()) for m in modules for b in m.buffers()]
    try:
        yield
    finally:
        for b, copy in saved:
            b.copy_(copy)


@torch.no_grad()
def validation_losses(run: RunState) -> dict[str, torch.Tensor]:
    """WGAN-GP Fig. 5b (critic overfitting): the objective's critic loss on a held-out real batch against
    fresh fakes (``loss/critic_val``) and, for a like-for-like comparison, on a training batch against the
    same fakes (``loss/critic_trainset``). No gradients; its own stream (``streams.val``), and the networks' buffers
    (batch-norm running statistics) restored afterwards, so training and evaluation are undisturbed. (Batch-norm
    layers normalise with the batch's statistics, as in a training step.)"""
    setup, G, D = run.setup, run.players.G, run.players.D
    n = setup.cfg.data.batch_size
    val, y = real_batch(run, n, setup.val_sampler, run.streams.val)
    train, _ = real_batch(run, n, setup.sampler, run.streams.val)
    z = torch.randn(n, setup.latent_dim, generator=run.streams.val).to(setup.device)
    with setup.autocast(), _buffers_kept(G, D):
        fake_out = D(generate(G, z, y)).float()
        val_out, train_out = D(val).float(), D(train).float()
    return {"loss/critic_val": setup.objective.critic_loss(val_out, fake_out),
            "loss/critic_trainset": setup.objective.critic_loss(train_out, fake_out)}


def gradient_norms(run: RunState, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Critic input-gradient norms ``(B,)`` at real/fake interpolates (logged for runs without a penalty). The
    critic's buffers are restored afterwards (a spectrally normalised critic's power iteration, batch-norm running
    statistics), so the measurement changes nothing -- also not at the final step of a run that is resumed later."""
    with _buffers_kept(run.players.D):
        return input_gradient_norms(run.players.D, interpolates(real, fake, run.streams.diag), create_graph=False)[0]

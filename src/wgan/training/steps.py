"""The players' steps: one critic update and one generator update (the inner bodies of WGAN Algorithm 1 and
WGAN-GP Algorithm 1; :meth:`wgan.train.Trainer.train_step` runs ``n_critic`` critic steps per generator step).

Each step is a function of the run's state (a :class:`wgan.train.Trainer`: networks, optimisers, loss
scalers, random streams, the resolved config). The critic's loss is the objective's ``critic_loss`` plus
``lambda * penalty``, the AC-GAN classification term in conditional runs and the ``[tricks]`` terms; weight
clipping is a constraint applied after the optimiser step, never part of a loss. The steps read the
objective, penalty, clip value and ``n_critic`` from the config: they never branch on an objective's name.

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

from . import distributed as dist
from .data import Sampler
from .nets import DataPlusNoise
from .penalties import clip_weights_, input_gradient_norms, interpolates
from .tricks import feature_matching_loss

if TYPE_CHECKING:
    from .train import Trainer


def autocast(device: torch.device, enabled: bool, dtype: torch.dtype
             ) -> Callable[[], AbstractContextManager]:
    """A factory of the forward passes' precision context: autocast to ``dtype`` on ``device`` when enabled.
    Autocast runs on CUDA and on the CPU alike, so the code the GPU runs is the code the CPU tests run."""
    if not enabled:
        return contextlib.nullcontext
    return lambda: torch.autocast(device.type, dtype=dtype)


def update(tr: Trainer, total: torch.Tensor, opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
           module: nn.Module, player: str) -> None:
    """Backward (loss-scaled under float16), gradients averaged over ranks, optimiser step. Under float16 a
    step the scaler skips (an inf/NaN gradient) is counted as ``amp/skipped_<player>_steps``."""
    opt.zero_grad(set_to_none=True)
    scaler.scale(total).backward()
    if tr.world > 1:
        dist.all_reduce_gradients(module.parameters())
    scaler.step(opt)  # float16: unscales, skips the step when a gradient is inf/NaN
    if scaler.is_enabled():
        # the scaler lowers its scale exactly when it skipped the step; compared on the device (no sync).
        # ``_scale`` is the scaler's device tensor (public get_scale() would sync the host every step)
        before = scaler._scale.clone()
        scaler.update()
        tr._add(f"amp/skipped_{player}_steps", (scaler._scale < before).float())
    else:
        scaler.update()


# ---------------------------------------------------------------------- batches and passes
def real_batch(tr: Trainer, n: int, sampler: Sampler, rng: torch.Generator
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` data samples on the device ``(n, *shape)`` and, in conditional runs, their labels ``(n,)``.
    The critic's batches of an image folder come from the run's :class:`wgan.data.loading.FolderStream` (draw
    ``tr.draw``; the seconds waited for it are logged as ``time/data_wait_s``)."""
    stream = getattr(tr, "stream", None)
    if stream is not None and sampler is tr.sampler and rng is tr.data_rng and n == stream.n:
        waited = stream.wait_s
        x, y = stream.batch(tr.draw)
        tr.draw += 1
        tr._add("time/data_wait_s", torch.tensor(stream.wait_s - waited))
        y = y if tr.conditional else None
    elif tr.conditional:
        x, y = sampler.sample_with_labels(n, rng)  # type: ignore[attr-defined]
        y = y.to(tr.device, non_blocking=True)
    else:
        x, y = sampler.sample(n, rng), None
    x = x.to(tr.device, non_blocking=True)
    if tr.cfg.train.channels_last:
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


def noise(tr: Trainer, n: int) -> torch.Tensor:
    """Latent noise ``(n, latent_dim)`` from the run's noise stream."""
    return torch.randn(n, tr.latent_dim, generator=tr.noise_rng, device=tr.device)


def fake_labels(tr: Trainer, n: int) -> torch.Tensor | None:
    """Uniform class labels for the generator step (AC-GAN), from the noise stream."""
    if not tr.conditional:
        return None
    return torch.randint(tr.n_classes, (n,), generator=tr.noise_rng, device=tr.device)


def score_and_logits(tr: Trainer, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The critic's output ``(B,)`` and, in conditional runs, its class logits ``(B, K)`` from one pass
    (image critics: ``forward(x) == head(features(x))``, ``class_logits(features)``, wgan.nets.images)."""
    D = tr.D
    if not tr.conditional:
        return D(x), None
    h = D.features(x)
    score = D.head(h) if hasattr(D, "head") else D(x)
    return score, D.class_logits(h)


# ---------------------------------------------------------------------- the players' steps
WGAN_SCHEDULE_STEPS, WGAN_SCHEDULE_WARMUP, WGAN_SCHEDULE_EVERY = 100, 25, 500  # WassersteinGAN/main.py:176-177


def critic_iterations(tr: Trainer) -> int:
    """Critic steps before generator step ``tr.step`` (0-based): ``objective.n_critic``, or under
    ``train.critic_schedule = "wgan"`` 100 for the first 25 generator steps and every 500th (main.py:176-179)."""
    n = tr.cfg.objective.n_critic
    if tr.cfg.train.critic_schedule == "wgan" and (tr.step < WGAN_SCHEDULE_WARMUP
                                                   or tr.step % WGAN_SCHEDULE_EVERY == 0):
        return WGAN_SCHEDULE_STEPS
    return n


def critic_draws_before(tr: Trainer) -> int:
    """Critic steps made before generator step ``tr.step``: the sum of :func:`critic_iterations` over the earlier
    steps, in closed form (the data stream's draw index is a function of the step, for exact resumes)."""
    n, step = tr.cfg.objective.n_critic, tr.step
    if tr.cfg.train.critic_schedule != "wgan":
        return step * n
    heavy = min(step, WGAN_SCHEDULE_WARMUP) + max(0, (step - 1) // WGAN_SCHEDULE_EVERY)  # steps 500, 1000, ... < step
    return step * n + heavy * (WGAN_SCHEDULE_STEPS - n)


def critic_step(tr: Trainer) -> tuple[torch.Tensor, torch.Tensor]:
    """One critic update on a fresh real batch; returns the (real, fake) batch it used."""
    o = tr.cfg.objective
    n = tr.cfg.data.batch_size
    real, y = real_batch(tr, n, tr.sampler, tr.data_rng)  # (B, *shape), labels (B,) or None
    z = noise(tr, n)
    with torch.no_grad(), tr._autocast():
        if isinstance(tr.G, DataPlusNoise):  # WGAN-GP Fig. 1a: this step's real batch + noise (gan_toy.py:44)
            fake = tr.G.perturb(real, z).float()
        else:  # conditional runs: the fakes get the real batch's labels (the WGAN-GP authors' AC-GAN code)
            fake = generate(tr.G, z, y).float()  # (B, *shape)
    real = tr.tricks.noisy(real, tr.step, tr.noise_rng)  # instance noise, when switched on
    fake = tr.tricks.noisy(fake, tr.step, tr.noise_rng)
    with tr._autocast():
        if tr.fuse_critic_passes:  # one pass over 2B rows: same values, half the per-call overhead
            out, logits = score_and_logits(tr, torch.cat([real, fake]))  # (2B,), (2B, K) or None
            real_out, fake_out = out[:n].float(), out[n:].float()
            real_logits = logits[:n] if logits is not None else None
        else:
            (real_out, real_logits), (fake_out, _) = score_and_logits(tr, real), score_and_logits(tr, fake)
            real_out, fake_out = real_out.float(), fake_out.float()  # (B,), (B,)
    loss = tr.objective.critic_loss(real_out, fake_out)
    total = loss
    log = tr._add
    if real_logits is not None:  # AC-GAN: the critic's classifier learns the real labels
        ac = F.cross_entropy(real_logits.float(), y)
        total = total + o.acgan_critic_scale * ac
        log("loss/ac_real", ac)
        log("acgan/real_accuracy", (real_logits.argmax(1) == y).float())
    log("loss/critic", loss)
    log("critic/real_mean", real_out)
    log("critic/fake_mean", fake_out)
    if tr.penalty is not None:
        # under float16 the penalty differentiates the scaled output and unscales the input gradient
        # (PyTorch's AMP recipe); its norm and value are float32, outside autocast
        critic = _critic_amp(tr) if tr.cfg.train.amp else tr.D
        scale = tr.scaler_d.get_scale() if tr.scaler_d.is_enabled() else 1.0
        pen, norms = tr.penalty(critic, real, fake, tr.noise_rng, scale=scale)
        total = total + tr.penalty.weight * pen
        log(f"penalty/{tr.penalty.name}", pen)
        log("gradnorm", norms)
    total = tr.tricks.add_history_penalty("critic", total, log)
    update(tr, total, tr.opt_d, tr.scaler_d, tr.D, "critic")
    if o.clip > 0:
        clip_weights_(tr.D, o.clip)
    tr.tricks.record_history("critic")
    return real, fake


def _critic_amp(tr: Trainer) -> Callable[[torch.Tensor], torch.Tensor]:
    """The critic under autocast with a float32 output: the forward pass the penalty differentiates."""
    def critic(x: torch.Tensor) -> torch.Tensor:
        with tr._autocast():
            return tr.D(x).float()
    return critic


def generator_step(tr: Trainer) -> None:
    """One generator update on fresh noise (``train.g_batch_multiple`` times the critic batch)."""
    if tr.opt_g is None:  # a parameter-free (fixed) generator: only the critic trains
        return
    for p in tr.D.parameters():
        p.requires_grad_(False)  # the generator step needs no critic parameter gradients
    n = tr.cfg.data.batch_size * tr.cfg.train.g_batch_multiple  # WGAN-GP CIFAR code: 2x the critic batch
    z = noise(tr, n)
    y = fake_labels(tr, n)  # (n,) uniform labels in conditional runs, else None
    logits = None
    log = tr._add
    with tr._autocast():
        fake = tr.tricks.noisy(generate(tr.G, z, y), tr.step, tr.noise_rng)
        if tr.tricks.feature_matching:  # Salimans et al. 2016 sec. 3.1: replaces the objective's generator loss
            real = tr.tricks.noisy(tr.sampler.sample(n, tr.data_rng).to(tr.device), tr.step, tr.noise_rng)
            loss = feature_matching_loss(tr.D, real, fake)
        else:
            fake_out, logits = score_and_logits(tr, fake)
            loss = tr.objective.generator_loss(fake_out.float())
    total = tr.tricks.add_history_penalty("generator", loss, log)
    if logits is not None:  # AC-GAN: the generator makes fakes the critic's classifier recognises
        ac = F.cross_entropy(logits.float(), y)
        total = total + tr.cfg.objective.acgan_generator_scale * ac
        log("loss/ac_fake", ac)
        log("acgan/fake_accuracy", (logits.argmax(1) == y).float())
    update(tr, total, tr.opt_g, tr.scaler_g, tr.G, "generator")
    tr.tricks.record_history("generator")
    for p in tr.D.parameters():
        p.requires_grad_(True)
    log("loss/generator", loss)


def end_of_iteration(tr: Trainer) -> None:
    """After each generator iteration: lr schedules, rank-averaged buffers, the EMA generator."""
    for s in tr.schedulers:
        s.step()
    if tr.world > 1:
        dist.average_buffers(tr.G)
        dist.average_buffers(tr.D)
    if tr.G_ema is not None:
        tr.G_ema.update_parameters(tr.G)


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
def validation_losses(tr: Trainer) -> dict[str, torch.Tensor]:
    """WGAN-GP Fig. 5b (critic overfitting): the objective's critic loss on a held-out real batch against
    fresh fakes (``loss/critic_val``) and, for a like-for-like comparison, on a training batch against the
    same fakes (``loss/critic_trainset``). No gradients; its own stream (``val_rng``), and the networks' buffers
    (batch-norm running statistics) restored afterwards, so training and evaluation are undisturbed. (Batch-norm
    layers normalise with the batch's statistics, as in a training step.)"""
    n = tr.cfg.data.batch_size
    val, y = real_batch(tr, n, tr.val_sampler, tr.val_rng)
    train, _ = real_batch(tr, n, tr.sampler, tr.val_rng)
    z = torch.randn(n, tr.latent_dim, generator=tr.val_rng).to(tr.device)
    with tr._autocast(), _buffers_kept(tr.G, tr.D):
        fake_out = tr.D(generate(tr.G, z, y)).float()
        val_out, train_out = tr.D(val).float(), tr.D(train).float()
    return {"loss/critic_val": tr.objective.critic_loss(val_out, fake_out),
            "loss/critic_trainset": tr.objective.critic_loss(train_out, fake_out)}


def gradient_norms(tr: Trainer, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Critic input-gradient norms ``(B,)`` at real/fake interpolates (logged for runs without a penalty)."""
    return input_gradient_norms(tr.D, interpolates(real, fake, tr.diag_rng), create_graph=False)[0]

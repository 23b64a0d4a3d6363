"""The players' steps compiled (``train.compile = true``): ``torch.compile`` over ``torch.func`` programs.

Autograd's double backward (the gradient penalty differentiates ``||grad_x D(x_hat)||`` with respect to the
critic's parameters) cannot be captured by ``torch.compile``: ``torch.autograd.grad(..., create_graph=True)``
breaks the graph. So each step is written as a pure function of the parameters and the step's random draws,
differentiated with ``torch.func.grad`` (the penalty's input gradient is a ``grad`` inside the ``grad``), and
that whole program -- the generator's fakes, both critic passes, the penalty and its second derivative -- is
compiled as one graph (``fullgraph=True``: a graph break is an error, never a silent eager fallback). Networks
enter through ``torch.func.functional_call`` with their parameters (detached) and buffers, so batch-norm running
statistics update in place exactly as in the eager step.

What stays eager: the random draws (data, noise, penalty points, augmentation -- drawn from the run's streams in
the eager step's order before the compiled call, so a compiled run draws exactly the numbers an eager run draws), the
optimiser update (``torch.optim``, on gradients the compiled program returns), weight clipping and logging.
Hence a compiled step equals the eager step to floating-point round-off (tests/test_compiled.py, per network
family and penalty): the same formulas, reassociated by the compiler.

Supported: every network family the library builds (:data:`COMPILABLE`: mlp, dcgan, dcgan-deep, resnet, resnet64,
resnet-bottleneck, mnist-conv, conv1d), every objective and penalty, weight clipping, spectral normalisation of the
critic (its power iteration updates the ``u``, ``v`` buffers in place through ``functional_call``, as batch norm's
running statistics), differentiable augmentation (``train.augment``: drawn eagerly from the run's ``augment``
stream in the eager step's order, applied inside the program), the generator batch multiple, lr decay, EMA,
channels-last and data parallelism. Refused with a
ConfigError naming the option (:func:`check_compilable`): mixed precision, AC-GAN conditioning, the [tricks] section,
the parameter-free data-plus-noise generator, and a penalty that does not list the compiled path
(:data:`wgan.penalties.PATHS`). The penalty's points are its own (:meth:`wgan.penalties.Penalty.points`, from the
draws :meth:`~wgan.penalties.Penalty.draws` makes).

The first call of each step compiles it (tens of seconds on a CPU: Inductor generates and builds C++); it pays
only when the run is long enough. Measured break-evens: ``benchmarks/toy_throughput.py --compile`` and
``benchmarks/image_throughput.py --compile``, docs/toy.md "Compiled steps".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, grad

from ..constraints import constrain_weights_
from ..errors import ConfigError
from ..nets import DataPlusNoise, is_per_sample
from ..objectives import Objective
from ..penalties import Penalty, require, safe_norm
from ..toolchain import has_cpp_compiler
from .augment import Augment
from .state import RunState
from .steps import noise, real_batch

COMPILABLE = ("mlp", "dcgan", "dcgan-deep", "resnet", "resnet64", "resnet-bottleneck", "mnist-conv", "conv1d")


def check_compilable(cfg: Any, G: nn.Module | None = None, device: torch.device | None = None) -> None:
    """Raise a ConfigError naming what ``train.compile = true`` cannot run (module docstring)."""
    from ..config import TricksConfig

    t = cfg.train
    require(cfg.objective.penalty, "compiled")
    for section in ("generator", "critic"):
        net = getattr(cfg, section).net
        if net not in COMPILABLE:
            raise ConfigError(f"train.compile = true cannot compile the {section} family {net!r} (compiled families: "
                              f"{', '.join(COMPILABLE)}); set train.compile = false")
    reasons = []
    if t.amp:
        reasons.append("train.amp (mixed precision): set train.amp = false")
    if cfg.critic.n_classes or cfg.generator.n_classes:
        reasons.append("AC-GAN conditioning (critic.n_classes > 0): set critic.n_classes = generator.n_classes = 0")
    if cfg.tricks != TricksConfig():
        reasons.append("the [tricks] section: leave every trick off")
    if isinstance(G, DataPlusNoise):
        reasons.append("the data-plus-noise generator")
    if cfg.objective.weight_decay > 0:
        reasons.append("the critic's weight decay: set objective.weight_decay = 0")
    if cfg.critic.weight_norm:
        reasons.append("critic.weight_norm: set critic.weight_norm = false")
    if reasons:
        raise ConfigError("train.compile = true does not support " + "; ".join(reasons) + " (or train.compile = false)")
    if device is not None and torch.device(device).type == "cpu" and not has_cpp_compiler():
        raise ConfigError("train.compile = true on the CPU needs a C++ compiler for torch.compile (g++, clang++ or "
                          "$CXX); install one or set train.compile = false")


def _params(m: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach() for k, v in m.named_parameters()}


def _buffers(m: nn.Module) -> dict[str, torch.Tensor]:
    return dict(m.named_buffers())


def critic_program(G: nn.Module, D: nn.Module, objective: Objective, penalty: Penalty | None,
                   augment: Augment | None = None) -> Callable:
    """``f(d_params, d_buffers, g_state, real, z, aug, *draws) -> (grads, (loss, pen, norms, real_out, fake_out,
    real, fake))``: one critic step's gradient as a pure function (``torch.func.grad`` of the loss plus the weighted
    penalty). ``aug``: the augmentation's draws ``(real's, fake's)`` under ``train.augment``, else ``()``; the
    returned ``real``, ``fake`` are the batches the critic saw (augmented)."""
    fuse = is_per_sample(D)

    def loss_fn(d_params, d_buffers, g_state, real, z, aug, *draws):
        with torch.no_grad():
            fake = functional_call(G, g_state, (z,))  # (B, *shape), as the eager step's no-grad fakes
        if augment is not None:  # DiffAugment (wgan.training.augment): the eager step's T with the same draws
            real, fake = augment.apply(real, aug[0]), augment.apply(fake, aug[1])

        def critic(x):
            return functional_call(D, (d_params, d_buffers), (x,))

        n = real.shape[0]
        if fuse:  # one pass over [real; fake] for a per-sample critic, as the eager step
            out = critic(torch.cat([real, fake]))
            real_out, fake_out = out[:n], out[n:]
        else:
            real_out, fake_out = critic(real), critic(fake)
        loss = objective.critic_loss(real_out, fake_out)
        if penalty is None:
            zero = loss.new_zeros(())
            return loss, (loss, zero, zero, real_out, fake_out, real, fake)
        x_hat = penalty.points(real, fake, draws)  # the penalty's own points, from the step's draws
        g = grad(lambda x: critic(x).sum())(x_hat)  # grad_x D(x_hat), differentiable in d_params
        norms = safe_norm(g)  # (B,)
        pen = penalty.from_norms(norms)
        return loss + penalty.weight * pen, (loss, pen, norms, real_out, fake_out, real, fake)

    return grad(loss_fn, has_aux=True)


def generator_program(G: nn.Module, D: nn.Module, objective: Objective, augment: Augment | None = None) -> Callable:
    """``f(g_params, g_buffers, d_state, z, aug) -> (grads, loss)``: the generator step's gradient, pure; ``aug``
    the fakes' augmentation draws under ``train.augment`` (the gradient flows through ``T``), else ``()``."""

    def loss_fn(g_params, g_buffers, d_state, z, aug):
        fake = functional_call(G, (g_params, g_buffers), (z,))
        if augment is not None:
            fake = augment.apply(fake, aug)
        loss = objective.generator_loss(functional_call(D, d_state, (fake,)))
        return loss, loss

    return grad(loss_fn, has_aux=True)


class CompiledSteps:
    """The compiled critic and generator steps of a run (module docstring), on its :class:`RunState`.

    ``compile=False`` runs the same torch.func programs eagerly (for tests of the programs themselves)."""

    def __init__(self, run: RunState, compile: bool = True, backend: str = "inductor") -> None:
        setup, players = run.setup, run.players
        check_compilable(setup.cfg, players.G, setup.device if backend == "inductor" and compile else None)
        self.run = run
        critic = critic_program(players.G, players.D, setup.objective, setup.penalty, setup.augment)
        gen = generator_program(players.G, players.D, setup.objective, setup.augment)
        self._opt_step: dict[int, Callable[[], Any]] = {}
        if compile:
            critic = torch.compile(critic, fullgraph=True, dynamic=False, backend=backend)
            gen = torch.compile(gen, fullgraph=True, dynamic=False, backend=backend)
            if not players.schedulers:  # a changing float lr would recompile the optimiser's step every step
                for opt in (players.opt_d, players.opt_g):
                    if opt is not None:  # torch's compiled optimiser (its step breaks the graph at entry)
                        self._opt_step[id(opt)] = torch.compile(opt.step, backend=backend)
        self._critic, self._gen = critic, gen

    def _apply(self, grads: dict[str, torch.Tensor], module: nn.Module, opt: torch.optim.Optimizer) -> None:
        for name, p in module.named_parameters():
            p.grad = grads[name]
        if self.run.setup.world > 1:
            from .. import distributed as dist

            dist.all_reduce_gradients(module.parameters())
        self._opt_step.get(id(opt), opt.step)()

    def critic_step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One critic update on a fresh real batch, with the noise and penalty numbers drawn from the run's
        streams in the eager step's order; returns the ``(real, fake)`` batch it used."""
        run = self.run
        setup, players = run.setup, run.players
        real, _ = real_batch(run, setup.cfg.data.batch_size, setup.sampler, run.streams.data)
        z = noise(run, real.shape[0])
        draws = setup.penalty.draws(real, run.streams.noise) if setup.penalty is not None else ()
        aug = setup.augment
        # the augmentation's draws (the real batch's, then the fakes', of the fakes' shape = the real batch's)
        aug_draws = (aug.draws(real, run.streams.augment), aug.draws(real, run.streams.augment)) if aug else ()
        G, D = players.G, players.D
        grads, (loss, pen, norms, real_out, fake_out, real, fake) = self._critic(
            _params(D), _buffers(D), {**_params(G), **_buffers(G)}, real, z, aug_draws, *draws)
        run.log("loss/critic", loss)
        run.log("critic/real_mean", real_out)
        run.log("critic/fake_mean", fake_out)
        if setup.penalty is not None:
            run.log(f"penalty/{setup.penalty.name}", pen)
            run.log("gradnorm", norms)
        self._apply(grads, D, players.opt_d)
        if setup.cfg.objective.clip > 0:
            constrain_weights_(D, setup.cfg.objective.clip, setup.cfg.objective.clip_kind)
        return real, fake

    def generator_step(self) -> None:
        run = self.run
        G, D, opt_g = run.players.G, run.players.D, run.players.opt_g
        if opt_g is None:
            return
        n = run.setup.cfg.data.batch_size * run.setup.cfg.train.g_batch_multiple
        z = noise(run, n)
        aug = run.setup.augment
        # the fakes' augmentation draws need only their shape: (n, *data shape)
        aug_draws = aug.draws(z.new_empty(n, *run.setup.sampler.shape), run.streams.augment) if aug else ()
        grads, loss = self._gen(_params(G), _buffers(G), {**_params(D), **_buffers(D)}, z, aug_draws)
        self._apply(grads, G, opt_g)
        run.log("loss/generator", loss)


__all__ = ["COMPILABLE", "CompiledSteps", "check_compilable", "critic_program", "generator_program",
           "has_cpp_compiler"]

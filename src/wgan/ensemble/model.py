"""Many independent GANs trained at once, vectorised over members: one process, one step for all seeds.

Fedus et al. 2018 (*Many Paths to Equilibrium*, sec. 4) average hundreds to 1,000 runs per setting. Here
``S`` members -- the same architecture, each with its own seed (initialisation, data and noise), optionally
its own learning rate and penalty weight lambda -- are stacked along a leading member axis and trained by
the same algorithm as :class:`wgan.Trainer` (``n_critic`` critic steps with the objective's loss plus
``lambda * penalty``, weight clipping after each critic step, then one generator step), with each member's
own optimiser state (:class:`StackedOptimizer`).

Three interchangeable backends compute the per-member gradients:

* ``"vmap"`` -- any ``nn.Module``: ``torch.func.stack_module_state`` + ``functional_call`` under
  ``vmap(grad(...))``; the gradient penalty is a ``grad`` of a ``grad`` under ``vmap``.
* ``"fused"`` -- the ``"bmm"`` layout for a critic with one hidden ReLU layer, with the network's part of
  the critic gradient (including the penalty's second derivative) written out analytically and autograd
  only on the per-member losses (see :func:`wgan.ensemble.fused.fused_chunk`). The default where it applies.
* ``"bmm"`` -- MLPs without normalisation (:class:`wgan.nets.MLP`, e.g. the linear generator and one-hidden-
  layer critic of Fedus sec. 4): every layer of every member is one ``torch.baddbmm`` over weights stacked as
  ``(S, out, in)``, and one reverse pass of the *sum* of the members' losses gives every member its own
  gradient (the members share no parameter, so d(sum)/d(theta_s) = d(loss_s)/d(theta_s)). The real, fake
  and penalty batches go through the critic as one ``(S, 3B, d)`` batch. A reference for
  the fused path and an option for deeper MLPs; on the Exp. I model it measured slower than ``vmap`` (its
  double backward runs over zero-padded full-size tensors; ``benchmarks/ensemble_throughput.py``), so
  ``backend="auto"`` picks ``fused`` where it applies and ``vmap`` otherwise.

Randomness (``rng``):

* ``"member"`` -- member ``s`` with seed ``k`` draws exactly what ``Trainer`` with ``train.seed = k`` draws:
  data from ``Generator().manual_seed(k)``, noise and penalty epsilons from ``manual_seed(k + 1)``, in the
  Trainer's order. One draw per member per step (a Python loop over members): for the equivalence test and
  small ensembles.
* ``"shared"`` -- all members' data, noise and epsilons in one call each, from two streams seeded by
  ``rng_seed`` (different members still get independent samples). The fast mode.

Initialisation always matches ``Trainer``: member ``s`` builds its networks right after
``torch.manual_seed(seeds[s])``, generator first (the global RNG state is restored afterwards).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import nn
from torch.func import functional_call, grad, stack_module_state, vmap

from ..config import Config
from ..data import Sampler, make_sampler
from ..errors import ConfigError
from ..nets import DataPlusNoise, build_critic, build_generator, is_per_sample
from ..objectives import Objective
from ..penalties import make_penalty, require, safe_norm
from ..resolve import resolve
from ..toolchain import has_cpp_compiler
from ..training.steps import critic_iterations
from .fused import _bmm_mlp, _fused_chunk_fn, _mlp_activation, _mlp_layers, fused_chunk
from .stacked_optimizer import StackedOptimizer
from .support import unsupported_settings

RngMode = Literal["member", "shared"]
Backend = Literal["auto", "fused", "bmm", "vmap"]
Params = dict[str, torch.Tensor]


# ---------------------------------------------------------------------------------------------- helpers
def _per_member(value: float | Sequence[float] | torch.Tensor | None, default: float, n: int, name: str
                 ) -> torch.Tensor:
    """A per-member float32 tensor ``(S,)`` from a scalar, a sequence of length S or None (the default)."""
    if value is None:
        value = default
    t = torch.as_tensor(value, dtype=torch.float32).flatten()
    if t.numel() == 1:
        t = t.expand(n).clone()
    if t.numel() != n:
        raise ConfigError(f"{name} has {t.numel()} values for {n} members; give one value or one per member")
    if not torch.isfinite(t).all():
        raise ConfigError(f"{name} must be finite, got {t.tolist()[:5]}...")
    return t


# ---------------------------------------------------------------------------------------------- ensemble
class Ensemble:
    """``S`` independent GANs of one resolved config, trained together (see the module docstring).

    ``lr`` / ``critic_lr`` / ``penalty_weight``: one value or one per member (default: the config's).
    ``sampler`` replaces ``cfg.data.name`` (e.g. :class:`wgan.data.LineData`).
    ``compile=True`` (fused backend): ``torch.compile`` the fused step's chunk (:func:`_fused_chunk_fn`);
    the first step of each shape compiles (seconds), later steps run ~1.6x faster on the Exp. I model
    (docs/ensemble.md, Throughput).
    """

    def __init__(self, cfg: Config, seeds: Sequence[int], sampler: Sampler | None = None, *,
                 lr: float | Sequence[float] | torch.Tensor | None = None,
                 critic_lr: float | Sequence[float] | torch.Tensor | None = None,
                 penalty_weight: float | Sequence[float] | torch.Tensor | None = None,
                 rng: RngMode = "shared", rng_seed: int = 0, backend: Backend = "auto",
                 compile: bool = False) -> None:
        cfg = resolve(cfg)
        self.cfg = cfg
        seeds = [int(s) for s in seeds]
        if not seeds:
            raise ConfigError("an ensemble needs at least one seed")
        if rng not in ("member", "shared"):
            raise ConfigError(f"unknown rng mode {rng!r}; choose 'member' (Trainer-identical) or 'shared' (fast)")
        if backend not in ("auto", "fused", "bmm", "vmap"):
            raise ConfigError(f"unknown backend {backend!r}; choose auto, fused, bmm or vmap")
        if cfg.train.device not in ("auto", "cpu"):
            raise ConfigError("the ensemble runs on the CPU; set train.device = \"cpu\"")
        require(cfg.objective.penalty, "ensemble")  # a penalty that does not list the ensemble, by name
        bad = unsupported_settings(cfg)
        if bad:
            where = " (the [tricks] switches live in wgan.Trainer's loop only)" if any(
                b.startswith("tricks.") for b in bad) else ""
            raise ConfigError(f"the ensemble does not implement {', '.join(bad)}{where}; remove the setting or "
                              "train such runs with wgan.Trainer, one seed at a time")
        self.S, self.seeds, self.rng_mode = len(seeds), seeds, rng
        self.sampler = sampler if sampler is not None else make_sampler(cfg.data.name, cfg.data)
        if getattr(self.sampler, "kind", "points") != "points":
            raise ConfigError(f"the ensemble trains on points (vectors); data {self.sampler.name!r} is "
                              f"{self.sampler.kind}: train it with wgan.Trainer")
        dim = self.sampler.dim
        o, op = cfg.objective, cfg.optim
        gens, crits = [], []
        with torch.random.fork_rng(devices=[]):
            for s in seeds:
                torch.manual_seed(s)  # as Trainer: seed, then generator, then critic
                gens.append(build_generator(cfg.generator, dim))
                crits.append(build_critic(cfg.critic, dim))
        if isinstance(gens[0], DataPlusNoise):
            raise ConfigError("the ensemble trains parametric generators; generator.net = data-plus-noise is "
                              "not supported (use generator.net = \"mlp\")")
        self.latent_dim: int = cfg.generator.latent_dim
        self.g_base = copy.deepcopy(gens[0]).to("meta")
        self.d_base = copy.deepcopy(crits[0]).to("meta")
        self._fuse_critic_passes = is_per_sample(crits[0])
        g_params, _ = stack_module_state(gens)  # name -> (S, ...)
        d_params, _ = stack_module_state(crits)
        self.g_params: Params = {k: v.detach().requires_grad_(True) for k, v in g_params.items()}
        self.d_params: Params = {k: v.detach().requires_grad_(True) for k, v in d_params.items()}
        g_layers, d_layers = _mlp_layers(gens[0]), _mlp_layers(crits[0])
        fusable = (d_layers is not None and len(d_layers) == 2 and isinstance(crits[0].hidden[0][1], nn.ReLU))
        if backend == "auto":
            # bmm (autograd over batched GEMMs) measured slower than vmap on the Exp. I model: see docs/ensemble.md
            backend = "fused" if fusable and g_layers is not None else "vmap"
        if backend in ("bmm", "fused") and (g_layers is None or d_layers is None):
            raise ConfigError(f"backend {backend!r} needs MLP networks without normalisation; use backend='vmap'")
        if backend == "fused" and not fusable:
            raise ConfigError("backend 'fused' needs a critic with one hidden ReLU layer (critic.depth = 1, "
                              "critic.activation = \"relu\"); use backend='bmm'")
        self.backend = backend
        if compile and backend != "fused":
            raise ConfigError(f"compile=True applies to the fused backend only (this ensemble uses {backend!r})")
        if compile and not has_cpp_compiler():
            raise ConfigError("compile=True needs a C++ compiler for torch.compile on the CPU (g++ or clang++ on "
                              "PATH, or $CXX); install one or use compile=False")
        # torch.compile (Inductor) of the fused step's chunk: one generated C++ loop nest instead of ~30
        # eager kernels; needs a C++ compiler at run time (see docs/ensemble.md, Throughput)
        self._chunk_fn = torch.compile(_fused_chunk_fn, dynamic=False) if compile else None
        self._g_layers, self._d_layers = g_layers, d_layers
        if backend in ("bmm", "fused"):
            self._g_act, self._d_act = _mlp_activation(gens[0]), _mlp_activation(crits[0])

        self.objective = Objective(o.loss)  # type: ignore[arg-type]
        self.penalty = make_penalty(o.penalty, o.penalty_weight, o.dragan_scale)
        self.clip = o.clip
        self.n_critic = o.n_critic
        self.batch_size = cfg.data.batch_size
        self.lr = _per_member(lr, op.lr, self.S, "lr")
        self.critic_lr = _per_member(critic_lr if critic_lr is not None else (lr if lr is not None else None),
                                     op.critic_lr, self.S, "critic_lr")
        self.penalty_weight = _per_member(penalty_weight, o.penalty_weight, self.S, "penalty_weight")
        if (self.lr <= 0).any() or (self.critic_lr <= 0).any():
            raise ConfigError("every member's learning rate must be positive")
        if (self.penalty_weight < 0).any():
            raise ConfigError("every member's penalty_weight must be >= 0")
        self.opt_g = StackedOptimizer(op.name, list(self.g_params.values()), self.lr, op.beta1, op.beta2)
        self.opt_d = StackedOptimizer(op.name, list(self.d_params.values()), self.critic_lr, op.beta1, op.beta2)
        # as the Trainer: both lrs times max(0, 1 - i / train.steps) in generator iteration i (optim.lr_decay);
        # a generator batch of g_batch_multiple critic batches; an EMA of the generator for evaluation
        self.lr_decay, self.total_steps = op.lr_decay, cfg.train.steps
        self.g_batch_size = cfg.data.batch_size * cfg.train.g_batch_multiple
        self.ema_decay = cfg.train.ema
        self.g_ema: Params | None = None  # the stacked EMA generator's parameters, after the first iteration
        if rng == "member":
            self.data_rngs = [torch.Generator().manual_seed(s) for s in seeds]
            self.noise_rngs = [torch.Generator().manual_seed(s + 1) for s in seeds]
        else:
            self.data_rng = torch.Generator().manual_seed(rng_seed)
            self.noise_rng = torch.Generator().manual_seed(rng_seed + 1)
        self.step = 0
        self._ws: dict[str, torch.Tensor] = {}
        self.last: dict[str, torch.Tensor] = {}  # the last critic step's per-member loss / penalty, (S,)

    # ------------------------------------------------------------------------------ randomness
    def _draw_critic(self) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
        """real ``(S, B, d)``, z ``(S, B, l)`` and the penalty's draws (:meth:`wgan.penalties.Penalty.draws`,
        stacked over members; ``()`` without a penalty). Order per member as Trainer.critic_step."""
        S, B, d, latent = self.S, self.batch_size, self.sampler.dim, self.latent_dim
        pen = self.penalty
        if self.rng_mode == "shared":
            real = self.sampler.sample(S * B, self.data_rng).view(S, B, d)
            z = torch.randn(S, B, latent, generator=self.noise_rng)
            return real, z, (pen.batched_draws(real, self.noise_rng) if pen is not None else ())
        reals, zs, draws = [], [], []
        for dr, nr in zip(self.data_rngs, self.noise_rngs, strict=True):
            reals.append(self.sampler.sample(B, dr))
            zs.append(torch.randn(B, latent, generator=nr))
            if pen is not None:
                draws.append(pen.draws(reals[-1], nr))
        return torch.stack(reals), torch.stack(zs), tuple(torch.stack(t) for t in zip(*draws, strict=True))

    def _draw_z(self) -> torch.Tensor:
        """The generator step's noise ``(S, g_batch_size, l)``."""
        n = self.g_batch_size
        if self.rng_mode == "shared":
            return torch.randn(self.S, n, self.latent_dim, generator=self.noise_rng)
        return torch.stack([torch.randn(n, self.latent_dim, generator=nr) for nr in self.noise_rngs])

    # ------------------------------------------------------------------------------ networks (bmm)
    def _layers(self, params: Params, names: list[tuple[str, str]], detach: bool = False):
        if detach:
            return [(params[w].detach(), params[b].detach()) for w, b in names]
        return [(params[w], params[b]) for w, b in names]

    @property
    def sampling_params(self) -> Params:
        """The stacked generator parameters evaluation uses: the EMA's when ``train.ema > 0`` (as
        ``Trainer.sampling_generator``; before the first iteration the EMA is the generator itself)."""
        return self.g_ema if self.g_ema is not None else self.g_params

    def generate(self, z: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Every member's generator for evaluation (the EMA when ``train.ema > 0``, as ``Trainer.generate``) on
        its own noise: ``z`` ``(S, N, l)`` -> ``(S, N, d)`` (no grad); ``out``: where to write it (bmm/fused)."""
        return self._generate(self.sampling_params, z, out)

    def _generate(self, params: Params, z: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        with torch.no_grad():
            if self.backend in ("bmm", "fused"):
                return _bmm_mlp(self._layers(params, self._g_layers), self._g_act, z, out=out)
            return vmap(lambda p, x: functional_call(self.g_base, p, (x,)))(params, z)

    # ------------------------------------------------------------------------------ one step of each player
    def critic_step(self) -> None:
        real, z, draws = self._draw_critic()
        if self._chunk_fn is not None:  # compiled: the generator runs inside the compiled chunk
            grads, loss, pen = self._critic_grads_compiled(real, z, draws)
        elif self.backend == "fused":  # real and fake straight into the critic's input buffer
            S, B, d = real.shape
            x = self._buf("x", (S, 2 * B, d))
            real = x[:, :B].copy_(real)
            fake = self._generate(self.g_params, z, out=x[:, B:])  # (S, B, d)
            grads, loss, pen = self._critic_grads_fused(real, fake, draws)
        elif self.backend == "bmm":
            grads, loss, pen = self._critic_grads_bmm(real, self._generate(self.g_params, z), draws)
        else:
            grads, loss, pen = self._critic_grads_vmap(real, self._generate(self.g_params, z), draws)
        self.opt_d.step(grads)
        if self.clip > 0:
            with torch.no_grad():
                for p in self.d_params.values():
                    p.clamp_(-self.clip, self.clip)
        self.last = {"loss/critic": loss.detach()}
        if pen is not None:
            self.last[f"penalty/{self.penalty.name}"] = pen.detach()

    def _critic_grads_compiled(self, real, z, draws):
        """:func:`_fused_chunk_fn` (compiled) over chunks of ``_COMPILED_CHUNK`` members."""
        S = real.shape[0]
        names = ("hidden.0.0.weight", "hidden.0.0.bias", "out.weight", "out.bias")
        params = [self.d_params[k].detach() for k in names]
        g_layers = self._layers(self.g_params, self._g_layers, detach=True)
        grads = [self._buf(f"grad/{k}", tuple(t.shape)) for k, t in zip(names, params, strict=True)]
        loss = torch.empty(S)
        pen = torch.empty(S) if self.penalty is not None else None
        k = min(S, self._COMPILED_CHUNK)
        for s0 in range(0, S, k):
            m = slice(s0, s0 + k)
            res = self._chunk_fn(real[m], z[m], [(w[m], b[m]) for w, b in g_layers], self._g_act,
                                 tuple(t[m] for t in draws),
                                 *[t[m] for t in params], self.penalty_weight[m], self.objective, self.penalty)
            for g, r in zip(grads, res[:4], strict=True):
                g[m].copy_(r)
            loss[m] = res[4]
            if pen is not None:
                pen[m] = res[5]
        by_name = dict(zip(names, grads, strict=True))
        return [by_name[k] for k in self.d_params], loss, pen

    def _critic_grads_bmm(self, real, fake, draws):
        S, B = real.shape[:2]
        layers = self._layers(self.d_params, self._d_layers)
        if self.penalty is None:
            out = _bmm_mlp(layers, self._d_act, torch.cat([real, fake], dim=1)).squeeze(-1)  # (S, 2B)
            loss = vmap(self.objective.critic_loss)(out[:, :B], out[:, B:])  # (S,)
            return torch.autograd.grad(loss.sum(), list(self.d_params.values()), allow_unused=True), loss, None
        x_hat = self.penalty.batched_points(real, fake, draws).requires_grad_(True)  # (S, B, d)
        out = _bmm_mlp(layers, self._d_act, torch.cat([real, fake, x_hat], dim=1)).squeeze(-1)  # (S, 3B)
        (g,) = torch.autograd.grad(out[:, 2 * B:].sum(), x_hat, create_graph=True)  # (S, B, d)
        norms = safe_norm(g.reshape(S * B, -1)).view(S, B)
        pen = vmap(self.penalty.from_norms)(norms)  # (S,)
        loss = vmap(self.objective.critic_loss)(out[:, :B], out[:, B:2 * B])  # (S,)
        total = (loss + self.penalty_weight * pen).sum()
        grads = torch.autograd.grad(total, list(self.d_params.values()), allow_unused=True)
        return grads, loss, pen

    def _critic_grads_fused(self, real, fake, draws):
        """Analytic gradients for a one-hidden-layer ReLU critic D(x) = a . relu(W x + c) + e (Fedus sec. 4):
        :func:`wgan.ensemble.fused.fused_chunk` (the derivation) over chunks of ``_FUSED_CHUNK`` members, in
        reused work buffers (:meth:`_buf`)."""
        S, B, d = real.shape
        x = self._ws["x"]  # (S, 2B, d): real|fake, filled by critic_step (real and fake are its views)
        assert real.data_ptr() == x.data_ptr() and fake.data_ptr() == x[:, B:].data_ptr()
        names = ("hidden.0.0.weight", "hidden.0.0.bias", "out.weight", "out.bias")
        params = [self.d_params[k].detach() for k in names]
        grads = [self._buf(f"grad/{k}", tuple(t.shape)) for k, t in zip(names, params, strict=True)]
        loss = torch.empty(S)
        pen = torch.empty(S) if self.penalty is not None else None
        k = min(S, self._FUSED_CHUNK)
        for s0 in range(0, S, k):
            m = slice(s0, s0 + k)
            fused_chunk(self._buf, self.objective, self.penalty, k, x[m], tuple(t[m] for t in draws),
                        [t[m] for t in params], self.penalty_weight[m], [g[m] for g in grads], loss[m],
                        pen[m] if pen is not None else None)
        by_name = dict(zip(names, grads, strict=True))
        return [by_name[k] for k in self.d_params], loss, pen

    # members per pass of the fused step: a chunk's (S, N, H) temporaries (~3 MB) stay in the CPU's cache
    # between the passes over them (benchmarks/ensemble_throughput.py: ~15% faster than one pass over S = 1000)
    _FUSED_CHUNK = 250
    # members per call of the compiled chunk (its temporaries are fresh tensors: smaller chunks stay in cache)
    _COMPILED_CHUNK = 100

    def _buf(self, name: str, shape: tuple[int, ...]) -> torch.Tensor:
        """A reused work buffer: large temporaries freshly allocated every step cost page faults that
        dominate these memory-bound steps on a CPU."""
        b = self._ws.get(name)
        if b is None or b.shape != shape:
            b = self._ws[name] = torch.empty(shape)
        return b.detach()  # a fresh view: one step's autograd leaf never blocks the next step's out=

    def _critic_grads_vmap(self, real, fake, draws):
        d_base, objective, penalty = self.d_base, self.objective, self.penalty

        def critic(p: Params, x: torch.Tensor) -> torch.Tensor:
            return functional_call(d_base, p, (x,))

        fuse = self._fuse_critic_passes
        B = real.shape[1]

        def member_loss(p, real, fake, x_hat, lam):  # one member: real, fake, x_hat (B, d)
            if fuse:  # as Trainer.critic_step: one pass over [real; fake] for a per-sample critic
                out = critic(p, torch.cat([real, fake]))
                loss = objective.critic_loss(out[:B], out[B:])
            else:
                loss = objective.critic_loss(critic(p, real), critic(p, fake))
            if penalty is None:
                return loss, (loss, loss)
            g = grad(lambda x: critic(p, x).sum())(x_hat)  # (B, d), differentiable in p: grad of grad
            pen = penalty.from_norms(safe_norm(g))
            return loss + lam * pen, (loss, pen)

        x_hat = penalty.batched_points(real, fake, draws) if penalty is not None else real
        params = {k: v.detach() for k, v in self.d_params.items()}
        grads, (loss, pen) = vmap(grad(member_loss, has_aux=True))(params, real, fake, x_hat, self.penalty_weight)
        return [grads[k] for k in self.d_params], loss, (pen if penalty is not None else None)

    def generator_step(self) -> None:
        z = self._draw_z()  # (S, B, l)
        if self.backend in ("bmm", "fused"):
            fake = _bmm_mlp(self._layers(self.g_params, self._g_layers), self._g_act, z)
            out = _bmm_mlp(self._layers(self.d_params, self._d_layers, detach=True), self._d_act, fake).squeeze(-1)
            loss = vmap(self.objective.generator_loss)(out)  # (S,)
            grads = torch.autograd.grad(loss.sum(), list(self.g_params.values()), allow_unused=True)
        else:
            g_base, d_base, objective = self.g_base, self.d_base, self.objective

            def member_loss(gp, dp, z):
                return objective.generator_loss(functional_call(d_base, dp, (functional_call(g_base, gp, (z,)),)))

            d = {k: v.detach() for k, v in self.d_params.items()}
            g = {k: v.detach() for k, v in self.g_params.items()}
            gd = vmap(grad(member_loss))(g, d, z)
            grads = [gd[k] for k in self.g_params]
        self.opt_g.step(grads)

    def train_step(self) -> None:
        """One generator iteration for every member: the Trainer's count of critic steps (``objective.n_critic``,
        or WGAN's schedule under ``train.critic_schedule = "wgan"``: :func:`wgan.training.steps.critic_iterations`),
        then one generator step, then (as ``Trainer._end_of_iteration``) the EMA generator's update."""
        if self.lr_decay == "linear":  # the Trainer's LambdaLR: factor 1 - i / train.steps in iteration i
            self.opt_d.lr_scale = self.opt_g.lr_scale = max(0.0, 1.0 - self.step / self.total_steps)
        for _ in range(critic_iterations(self.cfg, self.step)):
            self.critic_step()
        self.generator_step()
        if self.ema_decay > 0:
            self._update_ema()
        self.step += 1

    @torch.no_grad()
    def _update_ema(self) -> None:
        """torch.optim.swa_utils' EMA as the Trainer's AveragedModel runs it: a copy at the first update,
        then ema <- lerp(ema, theta, 1 - decay), on the stacked parameters."""
        if self.g_ema is None:
            self.g_ema = {k: v.detach().clone() for k, v in self.g_params.items()}
            return
        for e, v in zip(self.g_ema.values(), self.g_params.values(), strict=True):
            e.lerp_(v.detach(), 1 - self.ema_decay)

    def fit(self, steps: int, callback: Callable[[Ensemble], None] | None = None, every: int = 0) -> None:
        """Train to ``steps`` generator steps in total; ``callback(self)`` every ``every`` steps (0: never)."""
        if steps < self.step:
            raise ConfigError(f"steps={steps} is below the {self.step} steps this ensemble has done")
        while self.step < steps:
            self.train_step()
            if callback is not None and every > 0 and self.step % every == 0:
                callback(self)

    # ------------------------------------------------------------------------------ members
    def member_state(self, i: int) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Member ``i``'s (generator, critic) state dicts, loadable into the Trainer's modules."""
        return ({k: v[i].detach().clone() for k, v in self.g_params.items()},
                {k: v[i].detach().clone() for k, v in self.d_params.items()})


__all__ = ["Backend", "Ensemble", "RngMode"]

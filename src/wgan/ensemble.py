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
  only on the per-member losses (see ``_critic_grads_fused``). The default where it applies.
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
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, stack_module_state, vmap

from .config import Config, resolve
from .data import Sampler, make_sampler
from .errors import ConfigError
from .nets import MLP, DataPlusNoise, build_critic, build_generator, is_per_sample
from .objectives import Objective
from .penalties import make_penalty, safe_norm

RngMode = Literal["member", "shared"]
Backend = Literal["auto", "fused", "bmm", "vmap"]
Params = dict[str, torch.Tensor]


# ---------------------------------------------------------------------------------------------- optimiser
class StackedOptimizer:
    """Adam, RMSProp or SGD over parameters stacked as ``(S, ...)``, with a per-member learning rate ``(S,)``.

    The update is torch.optim's, elementwise (so member ``s`` evolves exactly as ``torch.optim.Adam`` /
    ``RMSprop`` (alpha 0.99, eps 1e-8, the library's defaults) / ``SGD`` would move it alone):

    * Adam (Kingma & Ba 2015, Alg. 1): m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
      theta <- theta - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    * RMSProp: v <- a v + (1 - a) g^2;  theta <- theta - lr * g / (sqrt(v) + eps)
    * SGD: theta <- theta - lr * g

    A parameter whose gradient is ``None`` is skipped, as torch.optim skips it.
    """

    def __init__(self, name: str, params: Sequence[torch.Tensor], lr: torch.Tensor, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, alpha: float = 0.99) -> None:
        if name not in ("adam", "rmsprop", "sgd"):
            raise ConfigError(f"unknown optimizer {name!r}; choose adam, rmsprop or sgd")
        self.name, self.params = name, list(params)
        self.beta1, self.beta2, self.eps, self.alpha = beta1, beta2, eps, alpha
        self.lr = lr.detach().clone()  # (S,)
        self.lr_scale = 1.0  # a schedule's factor on every member's lr (optim.lr_decay), as LambdaLR sets it
        # per-parameter views of lr broadcastable to (S, ...)
        self._lr = [self.lr.view(-1, *([1] * (p.dim() - 1))).to(p) for p in self.params]
        self.t = 0
        self.m = [torch.zeros_like(p, memory_format=torch.preserve_format).detach() for p in self.params]
        self.v = [torch.zeros_like(p).detach() for p in self.params]
        self._tmp = [torch.empty_like(p).detach() for p in self.params]  # reused work space

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor | None]) -> None:
        self.t += 1
        scale = self.lr_scale
        if self.name == "adam":
            bc1 = 1 - self.beta1**self.t
            bc2_sqrt = (1 - self.beta2**self.t) ** 0.5
        for p, g, m, v, lr, tmp in zip(self.params, grads, self.m, self.v, self._lr, self._tmp, strict=True):
            if g is None:
                continue
            # temporaries live in reused buffers (same operations, same order): fresh ones cost page faults
            if scale != 1.0:
                lr = lr * scale
            if self.name == "sgd":
                p.sub_(torch.mul(lr, g, out=tmp))
            elif self.name == "rmsprop":
                v.mul_(self.alpha).addcmul_(g, g, value=1 - self.alpha)
                denom = torch.sqrt(v, out=tmp).add_(self.eps)
                p.sub_(torch.mul(lr, g).div_(denom))
            else:
                m.lerp_(g, 1 - self.beta1)
                v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
                denom = torch.sqrt(v, out=tmp).div_(bc2_sqrt).add_(self.eps)
                p.sub_(torch.div(m, denom, out=denom).mul_(lr / bc1))


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


def _mlp_layers(module: nn.Module, prefix: str = "") -> list[tuple[str, str]] | None:
    """(weight, bias) names of an un-normalised :class:`MLP`'s linear layers in order, else None."""
    if not isinstance(module, MLP):
        return None
    names = []
    for i, block in enumerate(module.hidden):
        if len(block) != 2 or not isinstance(block[0], nn.Linear):  # Linear -> activation, no norm
            return None
        names.append((f"hidden.{i}.0.weight", f"hidden.{i}.0.bias"))
    names.append(("out.weight", "out.bias"))
    return names


def _mlp_activation(module: MLP) -> nn.Module:
    return module.hidden[0][1] if len(module.hidden) else nn.Identity()


def _bmm_mlp(layers: list[tuple[torch.Tensor, torch.Tensor]], act: nn.Module, x: torch.Tensor,
             out: torch.Tensor | None = None) -> torch.Tensor:
    """Batched MLP: ``x`` ``(S, N, in)`` through stacked layers ``W (S, out, in)``, ``b (S, out)``; the last
    layer writes into ``out`` when given (no grad)."""
    last = len(layers) - 1
    for i, (w, b) in enumerate(layers):
        o = out if i == last else None
        if w.shape[2] == 1:  # one input feature (a 1-D latent): an outer product, faster elementwise
            x = torch.addcmul(b.unsqueeze(1), x, w.transpose(1, 2), out=o)  # (S, N, out)
        else:
            x = torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2), out=o)  # (S, N, out)
        if i < last:
            x = act(x)
    return x


# ---------------------------------------------------------------------------------------------- config fields
# Every config field the ensemble implements, with the values it implements exactly as wgan.Trainer does
# (None: every value the config accepts). A field listed in neither table must keep its default: a field
# added to wgan.config later (or a new value of a listed one, e.g. another optimiser) is refused until it is
# implemented here and tested against the Trainer (tests/test_ensemble.py).
SUPPORTED: dict[str, tuple[Any, ...] | None] = {
    "data.name": None,  # or the sampler argument; it must sample points (checked on the sampler)
    "data.batch_size": None,
    "generator.net": ("mlp",), "generator.latent_dim": None, "generator.depth": None, "generator.width": None,
    "generator.activation": None, "generator.norm": ("none",), "generator.init": None,
    "critic.net": ("mlp",), "critic.depth": None, "critic.width": None, "critic.activation": None,
    "critic.norm": ("none",), "critic.init": None,
    "objective.name": None, "objective.loss": None, "objective.penalty": None, "objective.penalty_weight": None,
    "objective.clip": None, "objective.n_critic": None, "objective.dragan_scale": None,
    "optim.name": ("adam", "rmsprop", "sgd"), "optim.lr": None, "optim.beta1": None, "optim.beta2": None,
    "optim.critic_lr": None, "optim.lr_decay": ("none", "linear"),
    "train.steps": None,  # the horizon of optim.lr_decay, as in the Trainer
    "train.seed": None,  # replaced by the seeds argument (one per member)
    "train.device": ("auto", "cpu"),
    "train.g_batch_multiple": None, "train.ema": None,
}
# Fields that change nothing the ensemble trains -- nor, for the runs it accepts, anything the Trainer trains:
# the Trainer's run-directory schedule and evaluation (the ensemble writes no run directory; its caller
# evaluates, e.g. wgan.experiments.many_paths.member_distances), and options of other data kinds or of
# switches refused above.
NO_EFFECT: dict[str, str] = {
    **{f"train.{k}": "the Trainer's run-directory schedule (the ensemble writes no run directory)"
       for k in ("log_every", "eval_every", "sample_every", "checkpoint_every", "keep_checkpoints", "log_val_every")},
    **{f"eval.{k}": "the Trainer's own evaluation (the ensemble's caller evaluates its members)"
       for k in ("n_samples", "metrics", "classifier", "inception_weights")},
    **{f"data.{k}": "text and image data only (the ensemble trains on points)"
       for k in ("seq_len", "vocab_size", "val_size", "max_lines", "image_size", "subset", "split", "split_seed",
                 "dequantize", "variant")},
    "generator.noise_std": "generator.net = data-plus-noise only",
    "objective.acgan_critic_scale": "AC-GAN runs only (critic.n_classes > 0)",
    "objective.acgan_generator_scale": "AC-GAN runs only (critic.n_classes > 0)",
    "train.amp_dtype": "train.amp = true only",
}


def ensemble_settings(cfg: Config) -> dict[str, Any]:
    """``{"section.key": value}`` of every field the ensemble implements (:data:`SUPPORTED`) in the resolved
    ``cfg``: for a config the ensemble accepts, what determines its training (a cache key that fields added to
    the config later leave unchanged)."""
    return {key: getattr(getattr(cfg, key.split(".")[0]), key.split(".")[1]) for key in SUPPORTED}


def unsupported_settings(cfg: Config) -> list[str]:
    """``"section.key = value"`` for every setting of the resolved ``cfg`` the ensemble does not implement: a
    value outside :data:`SUPPORTED`, or a non-default value of a field in neither :data:`SUPPORTED` nor
    :data:`NO_EFFECT`."""
    default, out = Config(), []
    for sec in fields(cfg):
        section, base = getattr(cfg, sec.name), getattr(default, sec.name)
        for f in fields(section):
            key, value = f"{sec.name}.{f.name}", getattr(section, f.name)
            if key in NO_EFFECT:
                continue
            allowed = SUPPORTED[key] if key in SUPPORTED else (getattr(base, f.name),)
            if allowed is not None and value not in allowed:
                out.append(f"{key} = {value!r}")
    return out


# ---------------------------------------------------------------------------------------------- ensemble
def has_cpp_compiler() -> bool:
    """Whether torch.compile's CPU backend (Inductor) can find a C++ compiler: $CXX, g++, c++ or clang++."""
    cxx = os.environ.get("CXX")
    return any(shutil.which(c) for c in ([cxx] if cxx else []) + ["g++", "c++", "clang++"])


def _fused_chunk_fn(real: torch.Tensor, z: torch.Tensor, g_layers: list[tuple[torch.Tensor, torch.Tensor]],
                    g_act: nn.Module, u: torch.Tensor | None, alpha: torch.Tensor | None, w1: torch.Tensor,
                    c: torch.Tensor, a_out: torch.Tensor, e: torch.Tensor, lam: torch.Tensor, objective: Objective,
                    penalty) -> tuple[torch.Tensor, ...]:
    """The generator's fakes and the fused critic gradient of :meth:`Ensemble._critic_grads_fused` as one pure
    function of a chunk of members, for ``torch.compile``: the same formulas, with the loss and penalty
    derivatives by ``torch.func.grad`` of the library's own objective and penalty (so the compiled graph
    holds them too).

    ``real`` ``(S, B, d)``; ``z`` ``(S, B, l)`` and the generator's (detached) stacked layers; ``alpha`` the
    gp/lp epsilons ``(S, B, 1)`` (dragan: alpha, with the delta-uniforms ``u`` ``(S, B, d)``). Returns the
    gradients of ``(W, c, a, e)`` and the per-member loss and penalty (``None`` without a penalty).

    A linear generator ``G(z) = z V^T + v`` with an ``l``-dimensional latent (Many Paths Exp. I: l = 1) makes
    the fake rows rank ``l + 1``: their pre-activations are ``z (W V)^T + (W v + c)`` and their part of the
    weight gradient ``sum_b q_b m_b x_b`` is ``V sum_b q_b m_b z_b + v sum_b q_b m_b``, so neither needs the
    ``(B, d)`` fakes (an (l + 1)-row GEMM instead of a (d + 1)-row one; about a third of the work for l = 1)."""
    S, B, d = real.shape
    low_rank = len(g_layers) == 1 and z.shape[-1] < d  # a linear generator: fakes never materialised
    if low_rank:
        v_w, v_b = g_layers[0]  # (S, d, l), (S, d)
        h_real = torch.baddbmm(c.unsqueeze(1), real, w1.transpose(1, 2))  # (S, B, H)
        c_fake = torch.baddbmm(c.unsqueeze(-1), w1, v_b.unsqueeze(-1)).squeeze(-1)  # W v + c: (S, H)
        h_fake = torch.baddbmm(c_fake.unsqueeze(1), z, torch.bmm(w1, v_w).transpose(1, 2))  # (S, B, H)
        hid = torch.cat([h_real, h_fake], 1)  # (S, 2B, H) pre-activations
        x = real  # only the real rows enter the full-width weight-gradient GEMM
    else:
        x = torch.cat([real, _bmm_mlp(g_layers, g_act, z)], 1)  # (S, 2B, d): real | fake rows
        hid = torch.baddbmm(c.unsqueeze(1), x, w1.transpose(1, 2))  # (S, 2B, H) pre-activations
    m = (hid > 0).to(real.dtype)  # ReLU mask
    out = torch.bmm(a_out, hid.clamp_min(0).transpose(1, 2)).squeeze(1) + e  # (S, 2B) critic outputs
    if penalty is None:
        def total(out):
            loss = vmap(objective.critic_loss)(out[:, :B], out[:, B:])  # (S,)
            return loss.sum(), loss

        q, loss = grad(total, has_aux=True)(out)  # q = dL/dD(x): (S, 2B)
        pen = None
        qx = q[:, :B] if low_rank else q  # the columns of the rows in x
        lhs = torch.cat([x.transpose(1, 2) * qx.unsqueeze(1), qx.unsqueeze(1)], 1)  # (S, d + 1, 2B or B)
        mask = m[:, :B] if low_rank else m
    else:
        if penalty.name == "dragan":  # x_hat as wgan.penalties.dragan_points, per member
            std = real.reshape(S, -1).std(dim=1).view(-1, 1, 1)
            x_hat = real + (1 - alpha) * ((penalty.dragan_scale * std) * u)
            h_hat = torch.baddbmm(c.unsqueeze(1), x_hat, w1.transpose(1, 2))
        else:  # h(eps real + (1 - eps) fake) = eps h(real) + (1 - eps) h(fake)
            h_hat = torch.lerp(hid[:, B:], hid[:, :B], alpha)
        m_hat = (h_hat > 0).to(real.dtype)  # (S, B, H)
        g_t = torch.bmm(w1.transpose(1, 2) * a_out, m_hat.transpose(1, 2))  # (S, d, B): grad_x D(x_hat)^T
        norms = (g_t * g_t).sum(1).sqrt()  # (S, B)

        def total(out, norms):
            loss = vmap(objective.critic_loss)(out[:, :B], out[:, B:])  # (S,)
            pen = vmap(penalty.from_norms)(norms)  # (S,)
            return (loss + lam * pen).sum(), (loss, pen)

        (q, d_norm), (loss, pen) = grad(total, argnums=(0, 1), has_aux=True)(out, norms)
        # r = dP/dg = dP/d||g|| g / ||g||, and 0 where g = 0 (as wgan.penalties.safe_norm defines it)
        scale = torch.where(norms > 0, d_norm / norms.clamp_min(torch.finfo(real.dtype).tiny), 0.0)
        qx = q[:, :B] if low_rank else q  # the columns of the rows in x
        top = torch.cat([x.transpose(1, 2) * qx.unsqueeze(1), g_t * scale.unsqueeze(1)], 2)  # (S, d, 3B or 2B)
        bottom = torch.cat([qx, torch.zeros_like(scale)], 1).unsqueeze(1)  # (S, 1, 3B or 2B)
        lhs = torch.cat([top, bottom], 1)  # L = [q x | q ; r | 0]^T
        mask = torch.cat([m[:, :B] if low_rank else m, m_hat], 1)  # (S, 3B or 2B, H)
    y = torch.bmm(lhs, mask)  # (S, d + 1, H): [(D + M)^T ; Dc]
    if low_rank:  # the fake rows' part: V (sum_b q_b m_b z_b) + v (sum_b q_b m_b), and sum_b q_b m_b for Dc
        q_f, l = q[:, B:2 * B], z.shape[-1]
        y_f = torch.bmm(torch.cat([z.transpose(1, 2) * q_f.unsqueeze(1), q_f.unsqueeze(1)], 1), m[:, B:])  # (S, l+1, H)
        top_f = torch.baddbmm(v_b.unsqueeze(-1) * y_f[:, l:], v_w, y_f[:, :l])  # (S, d, H)
        y = y + torch.cat([top_f, y_f[:, l:]], 1)
    y_t = y.transpose(1, 2)  # (S, H, d + 1)
    g_w1 = y_t[:, :, :d] * a_out.transpose(1, 2)  # dW = a (D + M)
    g_c = y[:, d] * a_out.squeeze(1)  # dc = a Dc
    g_a = ((w1 * y_t[:, :, :d]).sum(-1) + c * y[:, d]).unsqueeze(1)  # da = sum_k W (D + M) + c Dc
    g_e = q.sum(1, keepdim=True)  # de = sum_b q_b
    return g_w1, g_c, g_a, g_e, loss, pen


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
    def _draw_critic(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """real ``(S, B, d)``, z ``(S, B, l)`` and the penalty's uniforms: gp/lp eps ``(S, B, 1)``;
        dragan delta-uniforms ``(S, B, d)`` and alpha ``(S, B, 1)``. Order per member as Trainer.critic_step."""
        S, B, d, latent = self.S, self.batch_size, self.sampler.dim, self.latent_dim
        pen = self.penalty.name if self.penalty is not None else None
        if self.rng_mode == "shared":
            real = self.sampler.sample(S * B, self.data_rng).view(S, B, d)
            z = torch.randn(S, B, latent, generator=self.noise_rng)
            u = a = None
            if pen in ("gp", "lp"):
                a = torch.rand(S, B, 1, generator=self.noise_rng)
            elif pen == "dragan":
                u = torch.rand(S, B, d, generator=self.noise_rng)
                a = torch.rand(S, B, 1, generator=self.noise_rng)
            return real, z, u, a
        reals, zs, us, as_ = [], [], [], []
        for dr, nr in zip(self.data_rngs, self.noise_rngs, strict=True):
            reals.append(self.sampler.sample(B, dr))
            zs.append(torch.randn(B, latent, generator=nr))
            if pen in ("gp", "lp"):
                as_.append(torch.rand(B, 1, generator=nr))
            elif pen == "dragan":
                us.append(torch.rand(B, d, generator=nr))
                as_.append(torch.rand(B, 1, generator=nr))
        return (torch.stack(reals), torch.stack(zs), torch.stack(us) if us else None,
                torch.stack(as_) if as_ else None)

    def _draw_z(self) -> torch.Tensor:
        """The generator step's noise ``(S, g_batch_size, l)``."""
        n = self.g_batch_size
        if self.rng_mode == "shared":
            return torch.randn(self.S, n, self.latent_dim, generator=self.noise_rng)
        return torch.stack([torch.randn(n, self.latent_dim, generator=nr) for nr in self.noise_rngs])

    def _penalty_points(self, real: torch.Tensor, fake: torch.Tensor, u: torch.Tensor | None,
                        a: torch.Tensor | None, out: torch.Tensor | None = None) -> torch.Tensor:
        """Penalty points ``(S, B, d)`` as :mod:`wgan.penalties` builds them, per member (into ``out``)."""
        assert self.penalty is not None and a is not None
        if self.penalty.name == "dragan":
            assert u is not None
            std = real.reshape(real.shape[0], -1).std(dim=1).view(-1, 1, 1)  # (S, 1, 1): each member's std(x)
            delta = (self.penalty.dragan_scale * std) * u
            res = real + (1 - a) * delta
        else:
            res = a * real + (1 - a) * fake
        if out is None:
            return res
        return out.copy_(res)

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
        real, z, u, a = self._draw_critic()
        if self._chunk_fn is not None:  # compiled: the generator runs inside the compiled chunk
            grads, loss, pen = self._critic_grads_compiled(real, z, u, a)
        elif self.backend == "fused":  # real and fake straight into the critic's input buffer
            S, B, d = real.shape
            x = self._buf("x", (S, 2 * B, d))
            real = x[:, :B].copy_(real)
            fake = self._generate(self.g_params, z, out=x[:, B:])  # (S, B, d)
            grads, loss, pen = self._critic_grads_fused(real, fake, u, a)
        elif self.backend == "bmm":
            grads, loss, pen = self._critic_grads_bmm(real, self._generate(self.g_params, z), u, a)
        else:
            grads, loss, pen = self._critic_grads_vmap(real, self._generate(self.g_params, z), u, a)
        self.opt_d.step(grads)
        if self.clip > 0:
            with torch.no_grad():
                for p in self.d_params.values():
                    p.clamp_(-self.clip, self.clip)
        self.last = {"loss/critic": loss.detach()}
        if pen is not None:
            self.last[f"penalty/{self.penalty.name}"] = pen.detach()

    def _critic_grads_compiled(self, real, z, u, a):
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
                                 u[m] if u is not None else None, a[m] if a is not None else None,
                                 *[t[m] for t in params], self.penalty_weight[m], self.objective, self.penalty)
            for g, r in zip(grads, res[:4], strict=True):
                g[m].copy_(r)
            loss[m] = res[4]
            if pen is not None:
                pen[m] = res[5]
        by_name = dict(zip(names, grads, strict=True))
        return [by_name[k] for k in self.d_params], loss, pen

    def _critic_grads_bmm(self, real, fake, u, a):
        S, B = real.shape[:2]
        layers = self._layers(self.d_params, self._d_layers)
        if self.penalty is None:
            out = _bmm_mlp(layers, self._d_act, torch.cat([real, fake], dim=1)).squeeze(-1)  # (S, 2B)
            loss = vmap(self.objective.critic_loss)(out[:, :B], out[:, B:])  # (S,)
            return torch.autograd.grad(loss.sum(), list(self.d_params.values()), allow_unused=True), loss, None
        x_hat = self._penalty_points(real, fake, u, a).requires_grad_(True)  # (S, B, d)
        out = _bmm_mlp(layers, self._d_act, torch.cat([real, fake, x_hat], dim=1)).squeeze(-1)  # (S, 3B)
        (g,) = torch.autograd.grad(out[:, 2 * B:].sum(), x_hat, create_graph=True)  # (S, B, d)
        norms = safe_norm(g.reshape(S * B, -1)).view(S, B)
        pen = vmap(self.penalty.from_norms)(norms)  # (S,)
        loss = vmap(self.objective.critic_loss)(out[:, :B], out[:, B:2 * B])  # (S,)
        total = (loss + self.penalty_weight * pen).sum()
        grads = torch.autograd.grad(total, list(self.d_params.values()), allow_unused=True)
        return grads, loss, pen

    def _critic_grads_fused(self, real, fake, u, a):
        """Analytic gradients for a one-hidden-layer ReLU critic D(x) = a . relu(W x + c) + e (Fedus sec. 4).

        Autograd runs only on the tiny per-member losses (outputs ``(S, 2B)`` and input gradients
        ``(S, B, d)``), so every objective and penalty form stays the library's own; the network part is
        written out. With the pre-activations h = W x + c, the mask m = 1[h > 0] and q = dL/dD(x):

        * loss:    dL/de = sum_b q_b;  dL/dc_j = a_j sum_b q_b m_bj;  dL/dW_jk = a_j D_jk with
                   D_jk = sum_b q_b m_bj x_bk;  dL/da_j = sum_b q_b relu(h_bj) = sum_k W_jk D_jk + c_j Dc_j
                   (Dc_j = sum_b q_b m_bj, as relu(h) = m h and h is linear in x).
        * penalty: grad_x D(x_hat) = W^T (a * m) (m is piecewise constant: zero derivative, so c gets no
                   penalty gradient); with r = dP/d(grad_x D) and M = m^T r ``(H, d)``:
                   dP/da_j = sum_k W_jk M_jk,  dP/dW_jk = a_j M_jk.

        So every weight gradient comes from one batched GEMM ``Y = L m`` with ``L = [q x | q ; r | 0]^T``
        ``(S, d + 1, N)`` over the real, fake and penalty rows: Y = [(D + M)^T ; Dc]. For the gp/lp penalty
        the points are x_hat = eps real + (1 - eps) fake, so (h linear in x) their pre-activations are the
        same interpolation of the real and fake rows' -- no GEMM and no x_hat. GEMM orientations are the
        ones MKL's batched GEMM runs fastest for these tiny per-member shapes (up to 3x apart).
        Members go through in chunks of ``_FUSED_CHUNK`` (:meth:`_fused_chunk`).

        Every ``(S, N, H)`` tensor is touched by as few elementwise passes as possible: the step is
        memory-bound on a CPU.
        """
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
            self._fused_chunk(k, x[m], u[m] if u is not None else None, a[m] if a is not None else None,
                              [t[m] for t in params], self.penalty_weight[m], [g[m] for g in grads], loss[m],
                              pen[m] if pen is not None else None)
        by_name = dict(zip(names, grads, strict=True))
        return [by_name[k] for k in self.d_params], loss, pen

    # members per pass of the fused step: a chunk's (S, N, H) temporaries (~3 MB) stay in the CPU's cache
    # between the passes over them (benchmarks/ensemble_throughput.py: ~15% faster than one pass over S = 1000)
    _FUSED_CHUNK = 250
    # members per call of the compiled chunk (its temporaries are fresh tensors: smaller chunks stay in cache)
    _COMPILED_CHUNK = 100

    def _fused_chunk(self, k, x, u, a, params, lam, grads, loss_out, pen_out):
        """One chunk of members of :meth:`_critic_grads_fused` (``k``: the chunk size buffers are sized
        for); writes the gradients, losses and penalties into the given views."""
        S, n2, d = x.shape
        B = n2 // 2
        w1, c, a_out, e = params  # (S, H, d), (S, H), (S, 1, H), (S, 1)
        H = w1.shape[1]
        a_col = a_out.transpose(1, 2)  # (S, H, 1)
        with_pen = self.penalty is not None
        n = 3 * B if with_pen else 2 * B
        real, fake = x[:, :B], x[:, B:]
        # pre-activations h = W x + c, then relu in place: real|fake rows, penalty rows apart
        hid = torch.baddbmm(c.unsqueeze(1), x, w1.transpose(1, 2), out=self._buf("hid", (k, 2 * B, H))[:S])
        mask = self._buf("mask", (k, n, H))[:S]  # (S, n, H): m = 1[W x + c > 0], rows real|fake|x_hat
        if with_pen:
            if self.penalty.name == "dragan":
                x_hat = self._penalty_points(real, fake, u, a)
                h_hat = torch.baddbmm(c.unsqueeze(1), x_hat, w1.transpose(1, 2), out=self._buf("h_hat", (k, B, H))[:S])
            else:  # h(eps real + (1 - eps) fake) = eps h(real) + (1 - eps) h(fake)
                h_hat = torch.lerp(hid[:, B:], hid[:, :B], a, out=self._buf("h_hat", (k, B, H))[:S])
            torch.sign(h_hat.clamp_min_(0), out=mask[:, 2 * B:])
        hid.clamp_min_(0)  # relu
        torch.sign(hid, out=mask[:, :2 * B])
        out = torch.bmm(a_out, hid.transpose(1, 2)).squeeze(1).add_(e)  # (S, 2B)
        out.requires_grad_(True)
        loss = vmap(self.objective.critic_loss)(out[:, :B], out[:, B:])  # (S,)
        lhs = self._buf("lhs", (k, d + 1, n))[:S]  # L = [q x | q ; r | 0]^T
        if with_pen:
            # g^T = (W * a)^T m^T: (S, d, B), g = grad_x D(x_hat) = W^T (a * m)
            wa_t = torch.mul(w1.transpose(1, 2), a_out, out=self._buf("wa_t", (k, d, H))[:S])  # contiguous
            g_t = torch.bmm(wa_t, mask[:, 2 * B:].transpose(1, 2), out=self._buf("g", (k, d, B))[:S])
            norms = torch.mul(g_t, g_t, out=self._buf("g2", (k, d, B))[:S]).sum(1).sqrt_()  # (S, B)
            norms.requires_grad_(True)
            pen = vmap(self.penalty.from_norms)(norms)  # (S,)
            q, d_norm = torch.autograd.grad((loss + lam * pen).sum(), [out, norms])
            # r = dP/dg = dP/d||g|| * g / ||g||, and 0 where g = 0 (as wgan.penalties.safe_norm defines it)
            scale = torch.where(norms > 0, d_norm / norms.detach().clamp_min(torch.finfo(g_t.dtype).tiny), 0.0)
            torch.mul(g_t, scale.unsqueeze(1), out=lhs[:, :d, 2 * B:])
            lhs[:, d, 2 * B:] = 0
            pen_out.copy_(pen.detach())
        else:
            (q,) = torch.autograd.grad(loss.sum(), [out])
        loss_out.copy_(loss.detach())
        torch.mul(x.transpose(1, 2), q.unsqueeze(1), out=lhs[:, :d, :2 * B])
        lhs[:, d, :2 * B] = q
        y = torch.bmm(lhs, mask)  # (S, d + 1, H): [(D + M)^T ; Dc]
        y_t = y.transpose(1, 2)  # (S, H, d + 1)
        g_w1, g_c, g_a, g_e = grads
        torch.mul(y_t[:, :, :d], a_col, out=g_w1)  # dW = a (D + M)
        torch.mul(y[:, d], a_out.squeeze(1), out=g_c)  # dc = a Dc
        torch.add((w1 * y_t[:, :, :d]).sum(-1), c * y[:, d], out=g_a.squeeze(1))  # da = sum_k W (D + M) + c Dc
        torch.sum(q, 1, keepdim=True, out=g_e)  # de = sum_b q_b

    def _buf(self, name: str, shape: tuple[int, ...]) -> torch.Tensor:
        """A reused work buffer: large temporaries freshly allocated every step cost page faults that
        dominate these memory-bound steps on a CPU."""
        b = self._ws.get(name)
        if b is None or b.shape != shape:
            b = self._ws[name] = torch.empty(shape)
        return b.detach()  # a fresh view: one step's autograd leaf never blocks the next step's out=

    def _critic_grads_vmap(self, real, fake, u, a):
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

        x_hat = self._penalty_points(real, fake, u, a) if penalty is not None else real
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
        """One generator iteration for every member: n_critic critic steps, then one generator step, then (as
        ``Trainer._end_of_iteration``) the EMA generator's update."""
        if self.lr_decay == "linear":  # the Trainer's LambdaLR: factor 1 - i / train.steps in iteration i
            self.opt_d.lr_scale = self.opt_g.lr_scale = max(0.0, 1.0 - self.step / self.total_steps)
        for _ in range(self.n_critic):
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


# ---------------------------------------------------------------------------------------------- summaries
@dataclass(frozen=True)
class Summary:
    """A metric over the seeds of one setting. ``lo``/``hi``: the central 95% interval of the seeds
    (2.5th and 97.5th percentiles); ``mean_lo``/``mean_hi``: a 95% normal interval for the mean.
    Non-finite values (diverged members) are counted in ``n_diverged`` and left out of the statistics."""

    n: int
    n_diverged: int
    mean: float
    median: float
    lo: float
    hi: float
    mean_lo: float
    mean_hi: float


def summarize(values: Sequence[float] | np.ndarray | torch.Tensor) -> Summary:
    v = np.asarray(values, dtype=np.float64).ravel()
    ok = v[np.isfinite(v)]
    if ok.size == 0:
        nan = float("nan")
        return Summary(int(v.size), int(v.size), nan, nan, nan, nan, nan, nan)
    mean = float(ok.mean())
    half = 1.96 * float(ok.std(ddof=1)) / np.sqrt(ok.size) if ok.size > 1 else 0.0
    lo, hi = np.percentile(ok, [2.5, 97.5])
    return Summary(int(v.size), int(v.size - ok.size), mean, float(np.median(ok)), float(lo), float(hi),
                   mean - half, mean + half)


def plot_sweep(x: Sequence[float], curves: dict[str, Sequence[Summary]], path: str | Path, *, xlabel: str,
               ylabel: str, title: str = "", logx: bool = False, logy: bool = True,
               reference: float | None = None, reference_label: str = "random init",
               center: Literal["median", "mean"] = "median") -> None:
    """A metric against a swept hyperparameter: per curve the median over seeds with the central 95% of the
    seeds shaded, or (``center="mean"``) the mean with its 95% interval shaded (on a log axis from at least a
    tenth of the mean: a normal interval of a skewed mean can reach below 0); ``reference`` draws a
    horizontal dashed line (e.g. a random generator's distance)."""
    import matplotlib.pyplot as plt

    from .diagnostics.plots import save_figure

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = np.asarray(x, dtype=float)
    for name, summaries in curves.items():
        if center == "mean":
            med = np.array([s.mean for s in summaries])
            lo = np.array([s.mean_lo for s in summaries])
            hi = np.array([s.mean_hi for s in summaries])
            if logy:  # a normal interval of a skewed mean can reach below 0: drawn from a tenth of the mean
                lo = np.maximum(lo, 0.1 * med)
        else:
            med = np.array([s.median for s in summaries])
            lo = np.array([s.lo for s in summaries])
            hi = np.array([s.hi for s in summaries])
        (line,) = ax.plot(xs, med, marker="o", ms=3, lw=1.3, label=name)
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.15, lw=0)
    if reference is not None:
        ax.axhline(reference, color="k", ls="--", lw=1, label=reference_label)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save_figure(fig, path)

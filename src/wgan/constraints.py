"""Weight constraints on the critic besides WGAN's elementwise clipping: the ones the WGAN-GP authors report trying
(Gulrajani et al. 2017, sec. 3: "L2 norm clipping, weight normalization, as well as soft constraints (L1 and L2
weight decay)"). The paper gives no definition or value for any of them; these are the library's:

* **L2 norm clipping** (``objective.clip_kind = "l2"``, bound ``objective.clip``): after each critic optimiser step,
  every *unit's* parameters -- row ``i`` of a weight viewed as ``(out, -1)`` (a linear layer's ``W[i, :]``, a
  convolution's output channel ``i``), and each single entry of a 1-D parameter (biases, norm gains) -- are
  rescaled to Euclidean norm at most ``c`` (a projection, as elementwise clipping is one). ``"value"`` (the
  default) is WGAN's ``|w| <= c`` on every entry (:func:`wgan.penalties.clip_weights_`).
* **Weight normalisation with a fixed scale** (``critic.weight_norm = true``, ``critic.weight_norm_scale = g``):
  every linear and convolutional weight is used as ``g * V[i] / |V[i]|`` per unit ``i`` (Salimans & Kingma 2016's
  reparametrisation, with the scale *fixed* at ``g`` instead of learned: a learned scale would let the weights
  grow without bound, which is no constraint at all). Biases are left free, as weight normalisation leaves them.
* **Weight decay** (``objective.weight_decay = lambda``, ``objective.weight_decay_kind = "l1" | "l2"``): the soft
  constraint ``lambda * sum |w|`` or ``lambda * sum w^2`` over the critic's weight matrices and kernels (every
  parameter with two or more dimensions; biases and norm gains are not decayed), added to the critic's loss.

Combinations that cannot mean anything are refused by name in :func:`check_constraints` (called by
``wgan.resolve``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from .errors import ConfigError

CLIP_KINDS: tuple[str, ...] = ("value", "l2")
DECAY_KINDS: tuple[str, ...] = ("l1", "l2")

# `wgan list`: the critic options every critic.net takes (beside spectral normalisation's)
CONSTRAINT_OPTIONS: dict[str, str] = {
    "weight_norm": "bool; every linear/conv weight used as g * V[i] / |V[i]| per unit, the scale g fixed (not "
                   "learned); not with objective.clip, objective.weight_decay or critic.spectral_norm",
    "weight_norm_scale": "float > 0, the fixed scale g of critic.weight_norm (default 1)",
}


def _rows(p: torch.Tensor) -> torch.Tensor:
    """``p`` as ``(units, -1)``: a weight's rows, or each entry of a 1-D parameter as its own row."""
    return p.reshape(p.shape[0], -1) if p.dim() > 1 else p.reshape(-1, 1)


@torch.no_grad()
def l2_clip_(module: nn.Module, c: float) -> None:
    """Rescale every unit's parameters of ``module`` (module docstring) to L2 norm at most ``c``, in place."""
    for p in module.parameters():
        rows = _rows(p)
        scale = (c / rows.norm(dim=1, keepdim=True).clamp_min(1e-30)).clamp(max=1.0)  # (units, 1)
        rows.mul_(scale)


@torch.no_grad()
def constrain_weights_(module: nn.Module, c: float, kind: str = "value") -> None:
    """The hard constraint after a critic step: ``kind`` "value" clips every entry to [-c, c], "l2" every unit's
    norm to ``c``."""
    from .penalties import clip_weights_

    if kind == "value":
        clip_weights_(module, c)
    elif kind == "l2":
        l2_clip_(module, c)
    else:
        raise ValueError(f"unknown clip kind {kind!r}; choose one of {', '.join(CLIP_KINDS)}")


def weight_decay_term(module: nn.Module, weight: float, kind: str) -> torch.Tensor:
    """``weight * sum |w|`` (``kind`` "l1") or ``weight * sum w^2`` ("l2") over the parameters of ``module`` with
    two or more dimensions (a scalar tensor with a gradient)."""
    ws = [p for p in module.parameters() if p.dim() > 1 and p.requires_grad]
    if kind == "l1":
        total = sum(p.abs().sum() for p in ws)
    elif kind == "l2":
        total = sum(p.pow(2).sum() for p in ws)
    else:
        raise ValueError(f"unknown weight decay kind {kind!r}; choose one of {', '.join(DECAY_KINDS)}")
    return weight * torch.as_tensor(total)


class FixedWeightNorm(nn.Module):
    """The parametrisation ``V -> g * V[i] / |V[i]|`` per unit ``i`` (dimension ``dim`` of the weight)."""

    per_sample = True  # a weight computed from weights: it never mixes the rows of a batch (wgan.nets.is_per_sample)

    def __init__(self, scale: float, dim: int = 0) -> None:
        super().__init__()
        self.scale, self.dim = float(scale), dim

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        w = v.transpose(0, self.dim) if self.dim else v
        norms = w.reshape(w.shape[0], -1).norm(dim=1).clamp_min(1e-12)  # (units,)
        w = w * (self.scale / norms).reshape(-1, *([1] * (w.dim() - 1)))
        return w.transpose(0, self.dim) if self.dim else w


def weight_normalise(net: nn.Module, scale: float = 1.0) -> nn.Module:
    """Reparametrise every linear and convolutional weight of ``net`` with :class:`FixedWeightNorm` (in place);
    returns ``net``. Layers already parametrised (spectral norm) are left as they are."""
    from .nets.spectral import LAYERS

    for m in [m for m in net.modules() if isinstance(m, LAYERS) and not parametrize.is_parametrized(m, "weight")]:
        dim = 1 if isinstance(m, nn.modules.conv._ConvTransposeNd) else 0
        parametrize.register_parametrization(m, "weight", FixedWeightNorm(scale, dim))
    return net


def check_constraints(cfg) -> None:
    """Refuse, by name, constraint settings that cannot mean anything (``cfg``: the resolved config)."""
    o, c = cfg.objective, cfg.critic
    if o.clip_kind not in CLIP_KINDS:
        raise ConfigError(f"objective.clip_kind = {o.clip_kind!r} is not one of {', '.join(CLIP_KINDS)}")
    if o.weight_decay_kind not in DECAY_KINDS:
        raise ConfigError(f"objective.weight_decay_kind = {o.weight_decay_kind!r} is not one of "
                          f"{', '.join(DECAY_KINDS)}")
    if o.clip_kind != "value" and not o.clip > 0:
        raise ConfigError(f"objective.clip_kind = {o.clip_kind!r} has no effect without weight clipping: set "
                          "objective.clip > 0 (the bound), or remove objective.clip_kind")
    if o.weight_decay_kind != "l2" and not o.weight_decay > 0:
        raise ConfigError(f"objective.weight_decay_kind = {o.weight_decay_kind!r} has no effect without "
                          "objective.weight_decay > 0; set both, or remove objective.weight_decay_kind")
    if c.weight_norm_scale != 1.0 and not c.weight_norm:
        raise ConfigError(f"critic.weight_norm_scale = {c.weight_norm_scale:g} has no effect without "
                          "critic.weight_norm = true; set both, or remove critic.weight_norm_scale")
    if not c.weight_norm:
        return
    if c.spectral_norm:
        raise ConfigError("critic.weight_norm = true with critic.spectral_norm = true: both reparametrise every "
                          "weight; choose one")
    if o.clip > 0:
        raise ConfigError(f"critic.weight_norm = true with weight clipping (objective.clip = {o.clip:g}): the "
                          "normalised weights have norm critic.weight_norm_scale whatever the clip does to the "
                          "stored directions; set objective.clip = 0 (or critic.weight_norm = false)")
    if o.weight_decay > 0:
        raise ConfigError(f"critic.weight_norm = true with objective.weight_decay = {o.weight_decay:g}: decaying the "
                          "stored directions leaves the normalised weights' size unchanged; set "
                          "objective.weight_decay = 0 (or critic.weight_norm = false)")


__all__ = ["CLIP_KINDS", "CONSTRAINT_OPTIONS", "DECAY_KINDS", "FixedWeightNorm", "check_constraints",
           "constrain_weights_", "l2_clip_", "weight_decay_term", "weight_normalise"]

"""The config fields the ensemble implements exactly as :class:`wgan.Trainer` does (:data:`SUPPORTED`),
those that change nothing it trains (:data:`NO_EFFECT`), and the checks built on them."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ..config import Config

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
    "train.critic_schedule": None,  # WGAN's 100 critic steps early: the Trainer's critic_iterations, shared
}
# Fields that change nothing the ensemble trains -- nor, for the runs it accepts, anything the Trainer trains:
# the Trainer's run-directory schedule and evaluation (the ensemble writes no run directory; its caller
# evaluates, e.g. wgan.experiments._many_paths.member_distances), and options of other data kinds or of
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


__all__ = ["NO_EFFECT", "SUPPORTED", "ensemble_settings", "unsupported_settings"]

"""Shared test helpers."""

from wgan import Config
from wgan.config import apply_sets

TINY = [
    "generator.width=16", "generator.depth=2", "critic.width=16", "critic.depth=2", "data.batch_size=32",
    "train.steps=4", "train.log_every=2", "train.eval_every=4", "train.sample_every=4",
    "train.checkpoint_every=2", "eval.n_samples=200", "train.device=cpu",
]


def tiny_config(*sets: str) -> Config:
    """A config that trains in well under a second: tiny networks, few steps, small evaluation."""
    return apply_sets(Config(), TINY + list(sets))


def spin(seconds: float) -> None:
    """Work (not sleep) for ``seconds`` of this process's CPU time: what an estimate's CPU clock counts."""
    from wgan.studies.estimate import cpu_clock

    end = cpu_clock() + seconds
    while cpu_clock() < end:
        pass

"""Seeds of a toy reproduction trained as one vectorised ensemble (wgan.experiments._common.fit_seeds_measuring)
measure what the Trainer's own runs of those seeds measure."""

import pytest
import torch

from wgan.config import Config, apply_sets
from wgan.errors import ConfigError
from wgan.experiments._common import fit_measuring, fit_seeds_measuring
from wgan.training.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")

SETS = ["objective.name=wgan", "train.critic_schedule=wgan", "data.name=8gaussians", "generator.latent_dim=2",
        "generator.width=8", "generator.depth=2", "critic.width=8", "critic.depth=2", "data.batch_size=16",
        "train.steps=4", "eval.n_samples=64", "train.log_every=4", "train.eval_every=4", "train.device=cpu"]


def _w1(tr: Trainer, out: dict, key) -> None:
    out.setdefault(key, []).append((tr.step, tr.evaluate()["eval/w1"]))


def test_member_rng_gives_the_trainers_own_measurements():
    cfg = apply_sets(Config(), SETS)
    marks, seeds = [0, 2, 4], [0, 5]
    ens: dict = {}
    shells = fit_seeds_measuring(cfg, seeds, marks, lambda tr, _t: _w1(tr, ens, tr.cfg.train.seed), rng="member")
    assert [tr.cfg.train.seed for tr in shells] == seeds
    alone: dict = {}
    for s in seeds:
        tr = Trainer(apply_sets(cfg, [f"train.seed={s}"]))
        fit_measuring(tr, marks, lambda t, _s, s=s: _w1(t, alone, s))
        torch.testing.assert_close(shells[seeds.index(s)].G.state_dict(), tr.G.state_dict(), rtol=1e-5, atol=1e-6)
    assert set(ens) == set(alone)
    for s in seeds:
        assert [m for m, _ in ens[s]] == marks
        assert [w for _, w in ens[s]] == pytest.approx([w for _, w in alone[s]], rel=1e-4)
        assert ens[s][-1][1] != ens[s][0][1]  # training moved the generator (the check is not vacuous)
    assert ens[0] != ens[5]  # each shell holds its own member


def test_shared_rng_trains_every_member_and_refuses_what_the_ensemble_lacks():
    cfg = apply_sets(Config(), SETS)
    seen: dict = {}
    fit_seeds_measuring(cfg, [0, 1, 2], [0, 4], lambda tr, _t: _w1(tr, seen, tr.cfg.train.seed))
    assert sorted(seen) == [0, 1, 2] and all(len(v) == 2 and v[0][1] != v[1][1] for v in seen.values())
    with pytest.raises(ConfigError, match="critic.norm"):
        fit_seeds_measuring(apply_sets(cfg, ["critic.norm=batch"]), [0, 1], [4], lambda tr, _t: None)

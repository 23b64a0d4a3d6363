"""WGAN-GP Table 1's architecture space and the Fig. 2 zoo (wgan.nets.space): every point builds and trains
one step at tiny size, the sampler is seeded and draws G and D independently, configs validate."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import pytest
import torch
from torch import nn

from wgan.config import Config, apply_sets
from wgan.errors import ConfigError
from wgan.nets import build_critic, build_generator, is_per_sample
from wgan.nets.blocks import ShiftedSoftplus
from wgan.nets.resnet import bottleneck_blocks
from wgan.nets.space import (
    BATCH_NORM,
    DEPTHS,
    NONLINEARITIES,
    ZOO,
    PlayerPoint,
    sample_player,
    sample_space,
)
from wgan.resolve import resolve

SHAPE = (1, 8, 8)


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny nets: one torch thread (conftest)


def _cfg(*sets: str, objective: str = "wgan-gp") -> Config:
    return resolve(apply_sets(Config(), ["data.name=digits", f"objective.name={objective}", "generator.latent_dim=4",
                                         *sets]))


def _layers(module: nn.Module) -> int:
    """Conv and linear layers on the main path (shortcut convs not counted)."""
    return sum(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) for name, m in module.named_modules()
               if "shortcut" not in name)


def _forward_backward(cfg: Config, shape=SHAPE) -> tuple[nn.Module, nn.Module]:
    g, d = build_generator(cfg.generator, shape), build_critic(cfg.critic, shape)
    x = g(torch.randn(3, cfg.generator.latent_dim))
    assert x.shape == (3, *shape)
    out = d(x)
    assert out.shape == (3,) and torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None for p in g.parameters())
    assert all(p.grad is not None for p in d.parameters())
    return g, d


@pytest.mark.parametrize("act,depth,bn", list(itertools.product(NONLINEARITIES, DEPTHS, BATCH_NORM)))
def test_every_table1_choice_builds_for_both_players(act, depth, bn):
    point = PlayerPoint(act, depth, bn, filters=2)
    for objective in ("wgan-gp", "ns-gan"):
        cfg = _cfg(f"generator.arch={point.name}", f"critic.arch={point.name}", objective=objective)
        g, d = _forward_backward(cfg)
        assert _layers(g) == depth and _layers(d) == depth  # depth counts conv layers
        want_d = "none" if not bn else ("layer" if objective == "wgan-gp" else "batch")  # sec. 5.2
        assert cfg.generator.norm == ("batch" if bn else "none") and cfg.critic.norm == want_d
        assert is_per_sample(d) == (want_d != "batch")


def test_table1_filter_counts_are_the_dcgan_width():
    for f in (32, 64, 128):
        cfg = _cfg(f"generator.arch=space:relu-d4-bn-f{f}", f"critic.arch=space:relu-d4-nobn-f{f}")
        g, d = build_generator(cfg.generator, (1, 32, 32)), build_critic(cfg.critic, (1, 32, 32))
        assert g.layers[-2].in_channels == f  # last hidden layer of G has `filters` channels
        assert d.layers[0].out_channels == f  # first layer of D
        assert _layers(g) == 4 == _layers(d)  # the plain DCGAN at 32x32 is Table 1's depth 4


def test_shifted_softplus_values():
    x = torch.tensor([-30.0, 0.0, 30.0])
    y = ShiftedSoftplus()(x)
    torch.testing.assert_close(y, torch.tensor([-1.0, math.log1p(math.e ** 2) / 2 - 1, 30.0]))


@pytest.mark.parametrize("entry", list(ZOO))
def test_every_zoo_architecture_builds(entry):
    e = ZOO[entry]
    width = [] if e.generator == "zoo:mlp-4x512" else ["generator.width=4"]
    for objective in ("wgan-gp", "wgan", "ns-gan", "lsgan"):
        cfg = _cfg(*e.sets(), *width, "critic.width=4", objective=objective)
        g, d = _forward_backward(cfg, (1, 16, 16))
        if entry == "resnet101":
            assert _layers(g) == 101 == _layers(d)
        if entry == "g-mlp":
            assert cfg.generator.width == 512 and cfg.generator.depth == 4 and _layers(g) == 5
        if e.critic != "zoo:dcgan-nobn":
            assert cfg.critic.norm == ("layer" if objective == "wgan-gp" else "batch")
        else:
            assert cfg.critic.norm == "none" and cfg.generator.norm == "none"
    if entry == "g-nobn-constant":
        assert {m.out_channels for m in g.modules() if isinstance(m, nn.ConvTranspose2d)} == {4, 1}


def test_bottleneck_block_counts_match_the_authors():
    assert bottleneck_blocks(101, 4) == [6, 6, 6, 6, 5]  # gan_64x64.py ResnetGenerator at 64x64
    assert sum(bottleneck_blocks(101, 2)) + 2 == 33
    with pytest.raises(ValueError, match="3k \\+ 2"):
        bottleneck_blocks(100, 2)


def test_sampler_is_deterministic_per_seed_and_distinct():
    a, b = sample_space(40, seed=3), sample_space(40, seed=3)
    assert a == b
    assert sample_space(40, seed=4) != a
    assert len(set(a)) == 40
    assert sample_space(10, seed=3) == a[:10]  # a larger study extends a smaller one
    scaled = sample_space(40, seed=3, filter_scale=0.25)
    assert [p.generator.filters for p in scaled] == [p.generator.filters // 4 for p in a]


def test_sampler_draws_generator_and_critic_independently():
    rng = random.Random(0)
    pairs = [(sample_player(rng), sample_player(rng)) for _ in range(4000)]
    same_act = sum(g.nonlinearity == d.nonlinearity for g, d in pairs) / len(pairs)
    assert same_act == pytest.approx(1 / 4, abs=0.03)  # independent uniform choices agree 1/4 of the time
    joint = Counter((g.depth, d.depth) for g, d in pairs)
    assert len(joint) == 16 and min(joint.values()) > 4000 / 16 * 0.7
    for field in ("nonlinearity", "depth", "batch_norm", "filters"):  # each marginal uniform
        counts = Counter(getattr(g, field) for g, _ in pairs)
        assert max(counts.values()) / min(counts.values()) < 1.25


def test_point_names_round_trip():
    for p in sample_space(20, seed=1):
        assert PlayerPoint.parse(p.generator.name) == p.generator
    with pytest.raises(ValueError, match="not a Table 1 point"):
        PlayerPoint.parse("space:relu-8-bn")
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        PlayerPoint.parse("space:elu-d8-bn-f64")


def test_arch_config_errors():
    with pytest.raises(ConfigError, match="sets generator.norm"):
        _cfg("generator.arch=space:relu-d8-nobn-f8", "generator.norm=batch")
    with pytest.raises(ConfigError, match="generator arch; critic.arch cannot"):
        _cfg("critic.arch=zoo:mlp-4x512")
    with pytest.raises(ConfigError, match="unknown critic.arch"):
        _cfg("critic.arch=zoo:vgg")
    with pytest.raises(ConfigError, match="extra_layers = 0"):
        _cfg("generator.net=dcgan-deep", "generator.depth=6", "generator.extra_layers=1")
    cfg = _cfg("generator.arch=space:tanh-d8-bn-f8", "generator.width=8")  # agreeing with the arch is fine
    assert resolve(cfg) == cfg  # resolving twice (a resumed run) changes nothing
    with pytest.raises(ValueError, match="at least 3 conv layers"):
        build_generator(_cfg("generator.arch=space:relu-d2-bn-f8").generator, (1, 16, 16))


def test_ensemble_refuses_architectures():
    from wgan.ensemble import Ensemble

    with pytest.raises(ConfigError, match="does not implement generator.net = 'dcgan'.*generator.arch = 'zoo:dcgan'"):
        Ensemble(apply_sets(Config(), ["train.device=cpu", "generator.arch=zoo:dcgan"]), seeds=[0, 1])

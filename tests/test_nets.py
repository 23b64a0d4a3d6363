"""MLP generator/critic and the fixed "data plus noise" generator of WGAN-GP Fig. 1a."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from wgan.config import CriticConfig, GeneratorConfig
from wgan.nets import MLP, DataPlusNoise, build_critic, build_generator


def test_mlp_generator_and_critic_shapes():
    torch.manual_seed(0)
    g = build_generator(GeneratorConfig(latent_dim=3, depth=2, width=16), 2)
    d = build_critic(CriticConfig(depth=2, width=16), 2)
    z = torch.randn(5, 3)
    x = g(z)
    assert x.shape == (5, 2)
    assert d(x).shape == (5,)


def test_mlp_unsqueezed_and_multi_output():
    assert MLP(2, 1, depth=1, width=4)(torch.zeros(3, 2)).shape == (3, 1)
    assert MLP(2, 3, depth=1, width=4, squeeze=True)(torch.zeros(3, 2)).shape == (3, 3)


def test_mlp_depth_zero_is_linear():
    m = MLP(4, 1, depth=0, width=8, squeeze=True)
    assert len(m.hidden) == 0
    x = torch.randn(6, 4)
    torch.testing.assert_close(m(x), x @ m.out.weight[0] + m.out.bias[0])


def test_mlp_toy_architecture():
    """gan_toy.py: 3 hidden ReLU layers of width 512."""
    m = MLP(2, 2)
    assert len(m.hidden) == 3
    linears = [mod for mod in m.modules() if isinstance(mod, nn.Linear)]
    shapes = [(lin.in_features, lin.out_features) for lin in linears]
    assert shapes == [(2, 512), (512, 512), (512, 512), (512, 2)]
    assert sum(isinstance(mod, nn.ReLU) for mod in m.modules()) == 3


@pytest.mark.parametrize("norm,cls", [("batch", nn.BatchNorm1d), ("layer", nn.LayerNorm)])
def test_mlp_norm_layers(norm, cls):
    m = MLP(2, 1, depth=3, width=8, norm=norm, squeeze=True)
    for block in m.hidden:
        assert isinstance(block[0], nn.Linear) and isinstance(block[1], cls) and isinstance(block[2], nn.ReLU)
    assert sum(isinstance(mod, cls) for mod in m.modules()) == 3
    other = nn.LayerNorm if cls is nn.BatchNorm1d else nn.BatchNorm1d
    assert not any(isinstance(mod, other) for mod in m.modules())
    assert m(torch.randn(4, 2)).shape == (4,)


def test_mlp_no_norm():
    m = MLP(2, 1, depth=2, width=8)
    assert all(len(block) == 2 for block in m.hidden)


@pytest.mark.parametrize("kwargs,match", [({"activation": "gelu"}, "activation"), ({"norm": "group"}, "norm"),
                                          ({"depth": -1}, "depth"), ({"width": 0}, "width")])
def test_mlp_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(2, 1, **kwargs)


def test_build_unknown_nets():
    """The registries' error: the section's key and every registered family."""
    from wgan.nets import CRITICS, GENERATORS

    with pytest.raises(ValueError, match="generator.net 'no-such-net'") as e:
        build_generator(GeneratorConfig(net="no-such-net"), 2)
    assert all(name in str(e.value) for name in GENERATORS)
    with pytest.raises(ValueError, match="critic.net 'no-such-net'") as e:
        build_critic(CriticConfig(net="no-such-net"), 2)
    assert all(name in str(e.value) for name in CRITICS)


def test_data_plus_noise():
    """WGAN-GP Fig. 1a's fixed generator: G(z) = x + noise_std * z, x a fresh data sample, no parameters."""
    g = build_generator(GeneratorConfig(net="data-plus-noise", noise_std=0.3, latent_dim=7), 3)
    assert isinstance(g, DataPlusNoise)
    assert list(g.parameters()) == []
    assert g.latent_dim == 3  # z has the data's shape, whatever generator.latent_dim says
    real = torch.arange(15, dtype=torch.float32).reshape(5, 3)
    g.sample_real = lambda n: real[:n]
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(g(z), real[:4] + 0.3 * z, rtol=0, atol=0)


def test_data_plus_noise_unbound_raises():
    with pytest.raises(RuntimeError, match="sample_real"):
        DataPlusNoise(2)(torch.zeros(1, 2))

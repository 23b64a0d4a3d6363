"""Contracts and closed forms of wgan.diagnostics.layers."""

import numpy as np
import pytest
import torch
from torch import nn

from wgan.diagnostics.layers import (
    compute_activation_grad_norms,
    compute_lipschitz_estimate,
    compute_weight_histogram,
    compute_weight_share_near,
    grid_points,
)
from wgan.nets.mlp import MLP
from wgan.objectives import Objective


def _linear_mlp(depth: int, width: int, scale: float) -> MLP:
    """An MLP whose hidden blocks are identity-activated linear maps W = scale * I (no bias)."""
    net = MLP(width, 1, depth=depth, width=width, activation="relu", squeeze=True)
    with torch.no_grad():
        for block in net.hidden:
            block[0].weight.copy_(scale * torch.eye(width))
            block[0].bias.zero_()
            block[1] = nn.Identity()
        net.out.weight.fill_(1.0)
        net.out.bias.zero_()
    return net


def test_activation_grad_norms_one_per_layer_and_closed_form():
    # f(x) = sum_j (s^depth x)_j; dL/dh_l = (+-1/B) * s^(depth - l) * ones: the norm over the 2B rows is
    # sqrt(2B * width) / B * s^(depth - l), layer l = 1..depth.
    depth, width, s, b = 4, 3, 2.0, 5
    net = _linear_mlp(depth, width, s)
    real, fake = torch.randn(b, width), torch.randn(b, width)
    norms = compute_activation_grad_norms(net, real, fake)
    assert norms.shape == (depth,)
    expected = np.sqrt(2 * b * width) / b * s ** (depth - np.arange(1, depth + 1))
    np.testing.assert_allclose(norms, expected, rtol=1e-6)


def test_activation_grad_norms_hooks_removed_and_other_objective():
    net = MLP(2, 1, depth=3, width=8, squeeze=True)
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    a = compute_activation_grad_norms(net, real, fake, Objective("non-saturating"))
    assert a.shape == (3,) and np.all(a > 0)
    assert all(len(b._forward_hooks) == 0 for b in net.hidden)
    with pytest.raises(ValueError, match="hidden"):
        compute_activation_grad_norms(nn.Linear(2, 1), real, fake)


def test_weight_share_near_c():
    net = MLP(2, 1, depth=2, width=8, squeeze=True)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(0.01 * torch.sign(torch.randn_like(p)))
    assert compute_weight_share_near(net, 0.01) == pytest.approx(1.0)
    with torch.no_grad():
        net.out.weight.fill_(0.0)  # 8 of the 2*8 + 8*8 + 8 = 88 weights leave +-c
    assert compute_weight_share_near(net, 0.01) == pytest.approx(80 / 88)
    with torch.no_grad():
        net.out.weight.fill_(0.0101)  # exactly on the 1% boundary: counted
    assert compute_weight_share_near(net, 0.01) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        compute_weight_share_near(net, 0.0)


def test_weight_histogram_counts_every_weight():
    net = MLP(2, 1, depth=2, width=8, squeeze=True)
    counts, edges = compute_weight_histogram(net, bins=10)
    assert counts.shape == (10,) and edges.shape == (11,)
    assert counts.sum() == 2 * 8 + 8 * 8 + 8


def test_lipschitz_estimate_of_linear_critic_is_the_weight_norm():
    lin = nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 4.0]]))
    critic = nn.Sequential(lin, nn.Flatten(0))
    pts = grid_points((-1.0, 1.0, -1.0, 1.0), 7)
    assert pts.shape == (49, 2)
    assert compute_lipschitz_estimate(critic, pts, chunk=10) == pytest.approx(5.0)

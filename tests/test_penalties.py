"""Gradient penalties (WGAN-GP, WGAN-LP, DRAGAN, R1, R2) and weight clipping against closed forms.

A linear critic f(x) = w . flatten(x) + b has input gradient w at every point, so its per-sample
gradient norm is ||w|| everywhere and each penalty has a closed form.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from wgan.nets.mlp import MLP
from wgan.penalties import (
    PENALTIES,
    REGISTRY,
    Penalty,
    clip_weights_,
    dragan_points,
    input_gradient_norms,
    interpolates,
    make_penalty,
    safe_norm,
    warn_if_batchnorm,
)

SHAPES = [(2,), (3, 4, 4), (5, 7)]  # points, images (C, H, W), one-hot-like sequences (T, V)
IDS = ["points", "images", "sequences"]


class LinearCritic(nn.Module):
    """f(x) = w . flatten(x) + b with w scaled to a chosen norm."""

    def __init__(self, sample_shape: tuple[int, ...], norm: float, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        w = torch.randn(math.prod(sample_shape), generator=g, dtype=torch.float64)
        self.w = nn.Parameter(w * (norm / w.norm()))
        self.b = nn.Parameter(torch.tensor(0.3, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1) @ self.w + self.b


class ConstantCritic(nn.Module):
    """An output that does not depend on the input: the input gradient is exactly zero, yet (through
    ``scale``) still a function of the parameters, so the penalty's backward passes through sqrt(0)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1.5, dtype=torch.float64))
        self.bias = nn.Parameter(torch.tensor(0.7, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * 0 * self.scale).sum(dim=tuple(range(1, x.dim()))) + self.bias


def _batch(shape, seed, b=6):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((b, *shape), generator=g, dtype=torch.float64)


# The unweighted penalty of a critic whose input-gradient norm is n at every point, from each source's formula:
# WGAN-GP eq. 3 (gp, and dragan's two-sided form), its one-sided form (lp), Mescheder et al. 2018 eq. 9-10
# (r1, r2: gamma / 2 * ||g||^2 with the weight as gamma, so the unweighted value is n^2 / 2). A new penalty
# adds its closed form here.
CLOSED_FORMS = {
    "gp": lambda n: (n - 1) ** 2,
    "lp": lambda n: max(0.0, n - 1) ** 2,
    "dragan": lambda n: (n - 1) ** 2,
    "r1": lambda n: n**2 / 2,
    "r2": lambda n: n**2 / 2,
}


def test_every_penalty_has_a_closed_form():
    assert set(CLOSED_FORMS) == set(REGISTRY)


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
@pytest.mark.parametrize("wnorm", [1.7, 0.4])
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_penalty_closed_form_linear_critic(name, wnorm, shape):
    """The closed form at ||grad|| = ||w|| (:data:`CLOSED_FORMS`), wherever the points lie."""
    critic = LinearCritic(shape, wnorm)
    real, fake = _batch(shape, 1), _batch(shape, 2)
    pen, norms = Penalty(name, 10.0)(critic, real, fake, torch.Generator().manual_seed(3))
    torch.testing.assert_close(norms, torch.full((6,), wnorm, dtype=torch.float64))
    assert pen.item() == pytest.approx(CLOSED_FORMS[name](wnorm), rel=1e-12, abs=1e-15)
    if REGISTRY[name].one_sided and wnorm < 1:
        assert pen.item() == 0.0


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
@pytest.mark.parametrize("name", ["r1", "r2"])
def test_r1_r2_linear_critic_term_and_gradient(name, shape):
    """Linear critic, ||w|| = 1.7, gamma = 10: the term added to the critic's loss is gamma / 2 * |w|^2 =
    14.45 (not lambda (|w| - 1)^2), and its gradient in w is gamma * w."""
    gamma, wnorm = 10.0, 1.7
    critic = LinearCritic(shape, wnorm)
    pen, _ = make_penalty(name, gamma)(critic, _batch(shape, 1), _batch(shape, 2))
    term = gamma * pen
    assert term.item() == pytest.approx(14.45, rel=1e-12)
    term.backward()
    torch.testing.assert_close(critic.w.grad, gamma * critic.w.detach())


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_r1_at_the_real_points_r2_at_the_generated(shape):
    """D(x) = ||x||^2 / 2 has grad x, so ||grad||^2 = ||x||^2 varies with the point: R1 = E||real||^2 / 2 and
    R2 = E||fake||^2 / 2 (unweighted), computed here from the batches directly. They draw no random numbers."""
    real, fake = _batch(shape, 1), 3 * _batch(shape, 2)

    def critic(x):
        return x.reshape(x.shape[0], -1).pow(2).sum(dim=1) / 2

    def half_mean_sq(x):
        return x.reshape(x.shape[0], -1).pow(2).sum(dim=1).mean().item() / 2

    g = torch.Generator().manual_seed(7)
    before = g.get_state()
    r1, _ = make_penalty("r1", 1.0)(critic, real, fake, g)
    r2, _ = make_penalty("r2", 1.0)(critic, real, fake, g)
    assert torch.equal(g.get_state(), before)
    assert r1.item() == pytest.approx(half_mean_sq(real), rel=1e-12)
    assert r2.item() == pytest.approx(half_mean_sq(fake), rel=1e-12)
    assert r1.item() != pytest.approx(r2.item())


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_penalty_gradient_wrt_parameters(shape):
    """d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||: the penalty is differentiable (double backward)."""
    critic = LinearCritic(shape, 2.5)
    pen, _ = Penalty("gp", 10.0)(critic, _batch(shape, 1), _batch(shape, 2))
    pen.backward()
    w = critic.w.detach()
    torch.testing.assert_close(critic.w.grad, 2 * (2.5 - 1) * w / w.norm())


def test_sequence_norm_is_over_positions_and_vocabulary():
    """Regression: a popular PyTorch port of the WGAN-GP language model took the norm over dim=1 only
    (positions) for (B, T, V) input. The norm must be over every non-batch dim: sqrt(sum_{t,v} g^2)."""
    shape = (5, 7)
    critic = LinearCritic(shape, 1.3)
    x = _batch(shape, 4)
    norms, _ = input_gradient_norms(critic, x, create_graph=False)
    w = critic.w.detach().reshape(shape)
    expected = w.pow(2).sum(dim=(0, 1)).sqrt()
    torch.testing.assert_close(norms, expected.expand(6))
    assert norms[0].item() == pytest.approx(1.3)
    buggy = w.expand(6, *shape).norm(2, dim=1)  # (B, V): one norm per vocabulary column
    assert buggy.shape == (6, 7)
    assert not torch.allclose(buggy, norms[:, None].expand_as(buggy))
    # The buggy per-position penalty differs from the correct one.
    assert ((buggy - 1) ** 2).mean().item() != pytest.approx(((norms - 1) ** 2).mean().item())


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_zero_gradient_critic_is_finite(name, shape):
    """Constant critic: norms exactly 0, the penalty exactly its closed form at 0 ((0 - 1)^2 = 1 for gp, 0 for
    r1 / r2), and backward gives no NaN."""
    critic = ConstantCritic()
    real, fake = _batch(shape, 1), _batch(shape, 2)
    pen, norms = Penalty(name, 10.0)(critic, real, fake, torch.Generator().manual_seed(3))
    assert torch.equal(norms, torch.zeros(6, dtype=torch.float64))
    assert pen.item() == CLOSED_FORMS[name](0.0)
    # the critic's total loss, as the training loop builds it
    total = critic(fake).mean() - critic(real).mean() + 10.0 * pen
    total.backward()
    for p in critic.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()
    assert critic.scale.grad.item() == 0.0


def test_zero_gradient_with_parametrised_zero_weights():
    """A linear critic with w = 0 reaches the sqrt(0) corner through w; its gradient must be finite."""
    critic = LinearCritic((2,), 1.0)
    with torch.no_grad():
        critic.w.zero_()
    pen, norms = Penalty("gp", 1.0)(critic, _batch((2,), 1), _batch((2,), 2))
    assert torch.equal(norms, torch.zeros(6, dtype=torch.float64))
    assert pen.item() == 1.0
    pen.backward()
    assert torch.isfinite(critic.w.grad).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_safe_norm_value_and_gradient(dtype):
    """safe_norm: value ||x|| over all non-batch dims; gradient x / ||x|| where x != 0 and 0 at x = 0."""
    x = torch.zeros(3, 2, 2, dtype=dtype)
    x[1] = torch.tensor([[3.0, 0.0], [0.0, 4.0]], dtype=dtype)
    x[2] = torch.tensor([[1.0, -2.0], [2.0, 0.0]], dtype=dtype)
    x.requires_grad_(True)
    n = safe_norm(x)
    torch.testing.assert_close(n, torch.tensor([0.0, 5.0, 3.0], dtype=dtype))
    (g,) = torch.autograd.grad(n.sum(), x)
    expected = torch.zeros_like(x)
    expected[1] = x[1].detach() / 5.0
    expected[2] = x[2].detach() / 3.0
    assert torch.isfinite(g).all()
    torch.testing.assert_close(g, expected)
    assert torch.equal(g[0], torch.zeros(2, 2, dtype=dtype))


def test_safe_norm_double_backward_finite_at_zero():
    """The penalty differentiates the norm twice (create_graph); no NaN at the zero corner either."""
    x = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(safe_norm(x).sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)
    assert torch.isfinite(gg).all()


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_interpolates_one_epsilon_per_sample(shape):
    """x_hat = eps x + (1 - eps) x_fake, one eps ~ U[0, 1] per sample (WGAN-GP Algorithm 1, line 6)."""
    real, fake = _batch(shape, 1, b=16), _batch(shape, 2, b=16)
    x_hat = interpolates(real, fake, torch.Generator().manual_seed(0))
    assert x_hat.shape == real.shape
    ratio = ((x_hat - fake) / (real - fake)).reshape(16, -1)  # = eps, elementwise
    eps = ratio[:, :1]
    torch.testing.assert_close(ratio, eps.expand_as(ratio))
    assert ((eps >= 0) & (eps <= 1)).all()
    assert eps.std() > 0.05  # different samples get different eps


def test_interpolates_reproducible_with_generator():
    real, fake = _batch((3, 4, 4), 1), _batch((3, 4, 4), 2)
    a = interpolates(real, fake, torch.Generator().manual_seed(5))
    b = interpolates(real, fake, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_interpolates_shape_mismatch():
    with pytest.raises(ValueError, match="differ in shape"):
        interpolates(torch.zeros(4, 2), torch.zeros(4, 3))
    with pytest.raises(ValueError):
        interpolates(torch.zeros(4, 2), torch.zeros(5, 2))


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_dragan_points_within_half_std(shape):
    """DRAGAN (Kodali et al. 2017): x_hat - x = (1 - alpha) * 0.5 * std(x) * U[0, 1] lies in [0, 0.5 std]."""
    real = _batch(shape, 7, b=32)
    x_hat = dragan_points(real, 0.5, torch.Generator().manual_seed(1))
    d = x_hat - real
    bound = 0.5 * real.std().item()
    assert d.min().item() >= 0.0
    assert d.max().item() <= bound
    assert d.max().item() > 0.5 * bound  # the perturbation actually uses its range


def test_dragan_penalty_uses_perturbed_data_not_fake():
    """The dragan penalty's points depend on the real batch only."""
    real = _batch((2,), 1)
    p = Penalty("dragan", 10.0)
    a = p.points(real, _batch((2,), 2), p.draws(real, torch.Generator().manual_seed(0)))
    b = p.points(real, _batch((2,), 3), p.draws(real, torch.Generator().manual_seed(0)))
    assert torch.equal(a, b)


def test_clip_weights():
    """WGAN Algorithm 1, line 7: every parameter clamped to [-c, c]; values already inside unchanged."""
    torch.manual_seed(0)
    mlp = MLP(2, 1, depth=2, width=8, squeeze=True)
    with torch.no_grad():
        for p in mlp.parameters():
            p.mul_(10.0)
    before = [p.detach().clone() for p in mlp.parameters()]
    c = 0.5
    clip_weights_(mlp, c)
    for old, p in zip(before, mlp.parameters(), strict=True):
        assert p.min().item() >= -c and p.max().item() <= c
        inside = old.abs() <= c
        assert torch.equal(p[inside], old[inside])
        torch.testing.assert_close(p[~inside], old[~inside].sign() * c)
    assert any((old.abs() > c).any() for old in before)


def test_warn_if_batchnorm_with_penalty():
    """WGAN-GP sec. 4: no critic batch norm with a gradient penalty; layer norm is the suggested fix."""
    critic = MLP(2, 1, depth=2, width=8, norm="batch", squeeze=True)
    with pytest.warns(UserWarning, match="layer norm"):
        assert warn_if_batchnorm(critic, make_penalty("gp", 10.0)) is True


@pytest.mark.parametrize("norm,penalty", [("layer", "gp"), ("none", "gp"), ("batch", "none")])
def test_warn_if_batchnorm_silent(norm, penalty, recwarn):
    critic = MLP(2, 1, depth=2, width=8, norm=norm, squeeze=True)
    assert warn_if_batchnorm(critic, make_penalty(penalty, 10.0)) is False
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def test_make_penalty():
    assert make_penalty("none", 10.0) is None
    p = make_penalty("lp", 3)
    assert p == Penalty("lp", 3.0) and isinstance(p.weight, float) and p.one_sided
    assert make_penalty("dragan", 1.0, dragan_scale=0.25).dragan_scale == 0.25
    assert list(PENALTIES) == ["none", *REGISTRY] and {"gp", "lp", "dragan", "r1", "r2"} <= set(REGISTRY)
    with pytest.raises(ValueError, match="unknown penalty 'gpp'"):
        make_penalty("gpp", 10.0)

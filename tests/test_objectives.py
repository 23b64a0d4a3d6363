"""Adversarial losses against their closed forms, computed independently in float64 with ``math``."""

from __future__ import annotations

import math

import pytest
import torch

from wgan.objectives import LOSSES, PRESETS, Objective, get_preset

REAL = [2.0, -0.5, 0.0, 3.25]
FAKE = [-1.5, 0.75, 4.0, -3.0]


def _sigmoid(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


def _mean(xs) -> float:
    xs = list(xs)
    return sum(xs) / len(xs)


def _t(xs) -> torch.Tensor:
    return torch.tensor(xs, dtype=torch.float64)


def expected_critic_loss(loss: str, real: list[float], fake: list[float]) -> float:
    if loss == "wasserstein":
        # WGAN Algorithm 1: the critic maximises E f(x) - E f(G(z)), i.e. minimises the negative.
        return _mean(fake) - _mean(real)
    if loss in ("minimax", "non-saturating"):
        # Goodfellow et al. 2014, eq. 1: -E log D(x) - E log(1 - D(G(z))).
        return -_mean(math.log(_sigmoid(r)) for r in real) - _mean(math.log(1 - _sigmoid(f)) for f in fake)
    # LSGAN (Mao et al. 2017) eq. 2, a = 0, b = 1.
    return 0.5 * _mean((r - 1) ** 2 for r in real) + 0.5 * _mean(f**2 for f in fake)


def expected_generator_loss(loss: str, fake: list[float]) -> float:
    if loss == "wasserstein":
        return -_mean(fake)
    if loss == "minimax":
        # M-GAN: minimise E log(1 - D(G(z))).
        return _mean(math.log(1 - _sigmoid(f)) for f in fake)
    if loss == "non-saturating":
        # NS-GAN (Goodfellow et al. 2014, sec. 3): minimise -E log D(G(z)).
        return -_mean(math.log(_sigmoid(f)) for f in fake)
    # LSGAN eq. 2, c = 1.
    return 0.5 * _mean((f - 1) ** 2 for f in fake)


@pytest.mark.parametrize("loss", LOSSES)
def test_critic_loss_closed_form(loss):
    """Critic loss equals the paper's formula at hand-picked logits."""
    got = Objective(loss).critic_loss(_t(REAL), _t(FAKE))
    assert got.item() == pytest.approx(expected_critic_loss(loss, REAL, FAKE), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_generator_loss_closed_form(loss):
    """Generator loss equals the paper's formula at hand-picked logits."""
    got = Objective(loss).generator_loss(_t(FAKE))
    assert got.item() == pytest.approx(expected_generator_loss(loss, FAKE), rel=1e-12, abs=1e-12)


def test_minimax_and_non_saturating_differ_only_in_generator():
    """M-GAN and NS-GAN share the discriminator loss (eq. 1) but not the generator loss."""
    r, f = _t(REAL), _t(FAKE)
    m, ns = Objective("minimax"), Objective("non-saturating")
    torch.testing.assert_close(m.critic_loss(r, f), ns.critic_loss(r, f))
    assert m.generator_loss(f).item() != pytest.approx(ns.generator_loss(f).item())


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_logits_are_finite(loss, dtype):
    """Logits of +-1000 (saturated sigmoid) give finite losses and finite gradients (softplus forms)."""
    real = torch.tensor([1000.0, -1000.0, 0.0], dtype=dtype, requires_grad=True)
    fake = torch.tensor([-1000.0, 1000.0, 0.0], dtype=dtype, requires_grad=True)
    obj = Objective(loss)
    c = obj.critic_loss(real, fake)
    g = obj.generator_loss(fake)
    assert torch.isfinite(c) and torch.isfinite(g)
    gr, gf = torch.autograd.grad(c + g, (real, fake))
    assert torch.isfinite(gr).all() and torch.isfinite(gf).all()


def test_logistic_extreme_values_exact():
    """-log sigmoid(-1000) = 1000 exactly in the softplus form (a naive log(sigmoid) gives inf)."""
    obj = Objective("minimax")
    # real logit -1000 (confidently wrong) and fake logit +1000: loss 1000 + 1000.
    got = obj.critic_loss(torch.tensor([-1000.0]), torch.tensor([1000.0]))
    assert got.item() == pytest.approx(2000.0)
    got = obj.critic_loss(torch.tensor([1000.0]), torch.tensor([-1000.0]))
    assert got.item() == pytest.approx(0.0, abs=1e-30)
    assert Objective("non-saturating").generator_loss(torch.tensor([-1000.0])).item() == pytest.approx(1000.0)


@pytest.mark.parametrize("loss", ["minimax", "non-saturating"])
def test_logit_zero_gives_two_log_two_and_zero_js(loss):
    """D = 1/2 everywhere: critic loss 2 log 2 and JS estimate log 2 - L/2 = 0 (Goodfellow Thm. 1)."""
    obj = Objective(loss)
    zeros = torch.zeros(5)
    c = obj.critic_loss(zeros, zeros).item()
    assert c == pytest.approx(2 * math.log(2))
    assert obj.divergence_estimate(c) == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("loss", ["minimax", "non-saturating"])
def test_js_estimate_formula(loss):
    """The logistic divergence estimate is log 2 - critic_loss / 2; a perfect critic (loss 0) gives log 2."""
    obj = Objective(loss)
    assert obj.divergence_estimate(0.0) == pytest.approx(math.log(2))
    assert obj.divergence_estimate(0.3) == pytest.approx(math.log(2) - 0.15)


def test_wasserstein_divergence_is_negative_loss():
    """WGAN dual estimate E f(real) - E f(fake) = -critic loss."""
    obj = Objective("wasserstein")
    c = obj.critic_loss(_t(REAL), _t(FAKE)).item()
    assert obj.divergence_estimate(c) == pytest.approx(_mean(REAL) - _mean(FAKE))
    assert obj.divergence_estimate(-1.25) == 1.25


def test_least_squares_has_no_divergence_estimate():
    assert Objective("least-squares").divergence_estimate(0.7) is None


@pytest.mark.parametrize("loss", LOSSES)
def test_wrong_shape_raises(loss):
    """Critic outputs must be (B,); a (B, 1) output is a bug upstream and is rejected."""
    obj = Objective(loss)
    good, bad = torch.zeros(4), torch.zeros(4, 1)
    with pytest.raises(ValueError, match=r"\(B,\)"):
        obj.critic_loss(bad, good)
    with pytest.raises(ValueError):
        obj.critic_loss(good, bad)
    with pytest.raises(ValueError):
        obj.generator_loss(bad)


def test_unknown_loss_raises():
    with pytest.raises(ValueError, match="unknown loss"):
        Objective("huber").critic_loss(torch.zeros(2), torch.zeros(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown loss"):
        Objective("huber").generator_loss(torch.zeros(2))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_well_formed(name):
    """Every preset names a known loss, a known penalty and its source."""
    p = PRESETS[name]
    assert p.loss in LOSSES
    assert p.penalty in ("none", "gp", "lp", "dragan")
    assert isinstance(p.source, str) and p.source.strip()
    assert p.n_critic >= 1 and p.lr > 0
    assert (p.penalty == "none") == (p.penalty_weight == 0.0)
    assert get_preset(name) is p


def test_wgan_preset_matches_algorithm_1():
    """Arjovsky et al. 2017, Algorithm 1: alpha = 5e-5, c = 0.01, n_critic = 5, RMSProp, no penalty."""
    p = PRESETS["wgan"]
    assert p.loss == "wasserstein"
    assert p.clip == 0.01
    assert p.optimizer == "rmsprop"
    assert p.lr == 5e-5
    assert p.n_critic == 5
    assert p.penalty == "none"


def test_wgan_gp_preset_matches_algorithm_1():
    """Gulrajani et al. 2017, Algorithm 1: lambda = 10, n_critic = 5, Adam(1e-4, (0, 0.9)), no clip."""
    p = PRESETS["wgan-gp"]
    assert p.loss == "wasserstein"
    assert p.penalty == "gp"
    assert p.penalty_weight == 10.0
    assert p.optimizer == "adam"
    assert p.lr == 1e-4
    assert (p.beta1, p.beta2) == (0.0, 0.9)
    assert p.n_critic == 5
    assert p.clip is None


def test_get_preset_unknown_lists_choices():
    with pytest.raises(ValueError, match="wgan-gp"):
        get_preset("wgan-gpp")

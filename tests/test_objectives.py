"""Adversarial losses against their closed forms, computed independently in float64 with ``math``."""

from __future__ import annotations

import math

import pytest
import torch

from wgan.objectives import LOSSES, PRESETS, Objective, get_preset
from wgan.penalties import PENALTIES

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
    if loss == "hinge":
        # Lim & Ye 2017; Miyato et al. 2018, eq. 16: E max(0, 1 - D(x)) + E max(0, 1 + D(G(z))).
        return _mean(max(0.0, 1 - r) for r in real) + _mean(max(0.0, 1 + f) for f in fake)
    # LSGAN (Mao et al. 2017) eq. 2, a = 0, b = 1.
    return 0.5 * _mean((r - 1) ** 2 for r in real) + 0.5 * _mean(f**2 for f in fake)


def expected_generator_loss(loss: str, fake: list[float]) -> float:
    if loss in ("wasserstein", "hinge"):  # hinge: Miyato et al. 2018, eq. 17
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


@pytest.mark.parametrize("loss", ["least-squares", "hinge"])
def test_no_divergence_estimate(loss):
    assert Objective(loss).divergence_estimate(0.7) is None


def test_hinge_values_on_constructed_outputs():
    """Each term is linear inside its margin and exactly 0 beyond it: real outputs [2, 1, 0.5, -1] give
    relu(1 - r) = [0, 0, 0.5, 2] (mean 0.625); fake outputs [-3, -1, 0, 0.25] give relu(1 + f) = [0, 0, 1, 1.25]
    (mean 0.5625); the generator's loss is -mean(fake) = 0.9375."""
    obj = Objective("hinge")
    real = torch.tensor([2.0, 1.0, 0.5, -1.0], requires_grad=True)
    fake = torch.tensor([-3.0, -1.0, 0.0, 0.25], requires_grad=True)
    c = obj.critic_loss(real, fake)
    assert c.item() == 0.625 + 0.5625
    assert obj.generator_loss(fake.detach()).item() == 0.9375
    gr, gf = torch.autograd.grad(c, (real, fake))
    # beyond the margin (r >= 1, f <= -1) a sample gives the critic no gradient; inside it, -1/B resp. +1/B
    assert gr.tolist() == [0.0, 0.0, -0.25, -0.25] and gf.tolist() == [0.0, 0.0, 0.25, 0.25]
    # a critic past both margins on every sample has loss exactly 0; D = 0 everywhere gives 2
    assert obj.critic_loss(torch.full((3,), 1.5), torch.full((3,), -2.0)).item() == 0.0
    assert obj.critic_loss(torch.zeros(3), torch.zeros(3)).item() == 2.0


def test_hinge_has_no_targets_to_smooth():
    """The hinge margins are fixed, not labels: label smoothing is refused as for the Wasserstein loss."""
    assert not LOSSES["hinge"].targets
    with pytest.raises(ValueError, match="targets"):
        Objective("hinge", 0.1)


def test_hinge_preset():
    """Plain hinge (no penalty, no clipping) with the SN-GAN optimiser setting its comment cites."""
    p = PRESETS["hinge"]
    assert (p.loss, p.penalty, p.clip) == ("hinge", "none", None)
    assert (p.optimizer, p.lr, p.beta1, p.beta2, p.n_critic) == ("adam", 2e-4, 0.0, 0.9, 5)
    assert "Miyato" in p.source


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
    assert p.penalty in PENALTIES
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

"""The critic's weight constraints besides elementwise clipping (wgan.constraints): L2 norm clipping per unit,
weight normalisation with a fixed scale, L1/L2 weight decay -- their exact effect, training with each, and the
refusals of combinations that mean nothing."""

import math

import pytest
import torch
from torch import nn

from wgan import Trainer
from wgan.cli import main
from wgan.config import ConfigError
from wgan.constraints import FixedWeightNorm, constrain_weights_, l2_clip_, weight_decay_term, weight_normalise
from wgan.nets import build_critic, is_per_sample
from wgan.resolve import resolve

from .helpers import tiny_config


def test_l2_clip_bounds_every_units_norm_and_keeps_small_ones():
    torch.manual_seed(0)
    lin = nn.Linear(5, 4)
    with torch.no_grad():
        lin.weight[0] = torch.tensor([3.0, 4.0, 0.0, 0.0, 0.0])  # norm 5 -> rescaled to 1: (0.6, 0.8, 0, ...)
        lin.weight[1] = torch.tensor([0.1, 0.0, 0.0, 0.0, 0.0])  # norm 0.1 -> unchanged
        lin.bias.copy_(torch.tensor([2.0, -0.5, -3.0, 0.2]))  # 1-D: each entry its own unit
    before = lin.weight.detach().clone()
    l2_clip_(lin, 1.0)
    assert torch.allclose(lin.weight[0], torch.tensor([0.6, 0.8, 0.0, 0.0, 0.0]))
    assert torch.equal(lin.weight[1], before[1])
    assert (lin.weight.norm(dim=1) <= 1.0 + 1e-6).all()
    assert torch.allclose(lin.bias, torch.tensor([1.0, -0.5, -1.0, 0.2]))


def test_value_clip_is_wgans_elementwise_clip():
    lin = nn.Linear(3, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.5, -0.02, 0.001], [0.0, 0.3, -0.3]]))
    constrain_weights_(lin, 0.01, "value")
    assert torch.equal(lin.weight, torch.tensor([[0.01, -0.01, 0.001], [0.0, 0.01, -0.01]]))
    with pytest.raises(ValueError, match="unknown clip kind"):
        constrain_weights_(lin, 0.01, "l3")


def test_weight_decay_terms_are_the_sums_over_weight_matrices_only():
    lin = nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, -2.0], [0.5, 0.0]]))
        lin.bias.fill_(100.0)  # biases are not decayed
    assert float(weight_decay_term(lin, 0.1, "l1").detach()) == pytest.approx(0.1 * 3.5)
    assert float(weight_decay_term(lin, 0.1, "l2").detach()) == pytest.approx(0.1 * 5.25)
    g = torch.autograd.grad(weight_decay_term(lin, 0.1, "l2"), lin.weight)[0]
    assert torch.allclose(g, 0.2 * lin.weight)


@pytest.mark.parametrize("layer", [nn.Linear(6, 3), nn.Conv2d(2, 3, 3), nn.ConvTranspose2d(2, 3, 3)])
def test_weight_norm_gives_every_unit_the_fixed_norm(layer):
    weight_normalise(layer, 0.25)
    w = layer.weight
    units = w.transpose(0, 1) if isinstance(layer, nn.ConvTranspose2d) else w
    assert torch.allclose(units.reshape(units.shape[0], -1).norm(dim=1), torch.full((3,), 0.25))
    assert not any(p is w for p in layer.parameters())  # the scale is not a parameter: only the direction trains


def test_weight_norm_reaches_every_layer_and_stays_per_sample():
    cfg = resolve(tiny_config("critic.weight_norm=true", "critic.weight_norm_scale=0.5", "objective.clip=0"),
                  check_data=False)
    D = build_critic(cfg.critic, 2)
    layers = [m for m in D.modules() if isinstance(m, nn.Linear)]
    assert layers and all(isinstance(m.parametrizations.weight[0], FixedWeightNorm) for m in layers)
    assert is_per_sample(D)


@pytest.mark.parametrize("sets", [
    ["objective.name=wgan", "objective.clip_kind=l2", "objective.clip=0.5"],
    ["objective.name=wgan", "objective.clip=0", "critic.weight_norm=true", "critic.weight_norm_scale=0.5"],
    ["objective.name=wgan", "objective.clip=0", "objective.weight_decay=0.01", "objective.weight_decay_kind=l1"],
    ["objective.name=wgan", "objective.clip=0", "objective.weight_decay=0.01"],
])
def test_each_constraint_trains_and_holds(sets):
    tr = Trainer(tiny_config(*sets))
    summary = tr.fit(None)
    assert tr.step == 4 and math.isfinite(summary["w1"])
    if "objective.clip_kind=l2" in sets:
        assert all(float(p.reshape(p.shape[0], -1).norm(dim=1).max()) <= 0.5 + 1e-5
                   for p in tr.D.parameters() if p.dim() > 1)
    if "critic.weight_norm=true" in sets:
        w = [m.weight for m in tr.D.modules() if isinstance(m, nn.Linear)]
        assert all(torch.allclose(x.norm(dim=1), torch.full((x.shape[0],), 0.5), atol=1e-5) for x in w)


def test_weight_decay_shrinks_the_critic():
    base = ["objective.name=wgan", "objective.clip=0", "train.steps=20"]
    free = Trainer(tiny_config(*base))
    free.fit(None)
    decayed = Trainer(tiny_config(*base, "objective.weight_decay=5.0"))
    decayed.fit(None)
    norm = [sum(float(p.pow(2).sum()) for p in t.D.parameters() if p.dim() > 1) for t in (free, decayed)]
    assert norm[1] < norm[0]


@pytest.mark.parametrize(("sets", "message"), [
    (["objective.clip_kind=l3"], "objective.clip_kind = 'l3' is not one of value, l2"),
    (["objective.name=wgan-gp", "objective.clip_kind=l2"], "has no effect without weight clipping"),
    (["objective.weight_decay_kind=l1"], "has no effect without objective.weight_decay > 0"),
    (["objective.weight_decay=0.1", "objective.weight_decay_kind=l0"], "is not one of l1, l2"),
    (["critic.weight_norm_scale=2"], "has no effect without critic.weight_norm = true"),
    (["critic.weight_norm=true", "critic.weight_norm_scale=0"], r"critic.weight_norm_scale"),
    (["objective.weight_decay=-1"], "objective.weight_decay"),
    (["critic.weight_norm=true", "critic.spectral_norm=true"], "both reparametrise every weight"),
    (["objective.name=wgan", "critic.weight_norm=true"], r"with weight clipping \(objective.clip = 0.01\)"),
    (["critic.weight_norm=true", "objective.weight_decay=0.1"], "decaying the stored directions"),
    (["critic.weight_norm=true", "train.compile=true"], "critic.weight_norm: set critic.weight_norm = false"),
    (["objective.weight_decay=0.1", "train.compile=true"], "set objective.weight_decay = 0"),
])
def test_meaningless_combinations_are_refused_by_name(sets, message):
    with pytest.raises(ConfigError, match=message):
        resolve(tiny_config(*sets), check_data=False)


def test_wgan_list_shows_the_options(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "weight_norm " in out and "weight_norm_scale" in out

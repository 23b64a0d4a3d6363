"""Spectral normalisation of the critic (wgan.nets.spectral, ``critic.spectral_norm``): every linear and conv layer
of every critic family normalised, the largest singular value of each normalised weight against
``torch.linalg.matrix_norm(ord=2)``, what it means for a convolution, eval mode, measurements that leave the power
iteration alone, every objective and penalty, and the refusals."""

import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from wgan import PRESETS, Trainer
from wgan.cli import main
from wgan.config import ConfigError
from wgan.nets import CRITICS, build_critic, is_per_sample
from wgan.nets.spectral import LAYERS, spectral_layers, spectral_normalise, weight_matrix
from wgan.penalties import REGISTRY, make_penalty, warn_if_batchnorm
from wgan.resolve import resolve

from .helpers import tiny_config

# every critic family at a tiny size, with the sample shape it takes
IMAGE = ["critic.width=4", "critic.depth=1"]
FAMILIES = {
    "mlp": ([], 2),
    "conv1d": (["critic.width=4", "critic.depth=1"], (8, 10)),
    "dcgan": (IMAGE, (3, 16, 16)),
    "dcgan-deep": (["critic.width=4", "critic.depth=4"], (3, 16, 16)),
    "resnet": (IMAGE, (3, 16, 16)),
    "resnet64": (IMAGE, (3, 16, 16)),
    "resnet-bottleneck": (["critic.width=4", "critic.depth=11"], (3, 16, 16)),
    "mnist-conv": (IMAGE, (1, 28, 28)),
}


# named architectures (wgan.nets.space) set the family and its fields themselves
ARCHS = {"zoo:dcgan-nobn": ["critic.width=4"], "space:relu-d4-nobn-f32": ["critic.depth=4", "critic.width=32"]}


def _critic(net, *sets, iterations=1):
    if net in ARCHS:
        fam_sets, shape = [f"critic.arch={net}", *ARCHS[net]], (3, 32, 32)
    else:
        fam_sets, shape = [f"critic.net={net}", *FAMILIES[net][0]], FAMILIES[net][1]
    cfg = resolve(tiny_config(*fam_sets, *sets, "critic.spectral_norm=true",
                              f"critic.spectral_norm_iterations={iterations}"), check_data=False)
    return build_critic(cfg.critic, shape)


def _sigma(layer):
    """The largest singular value of the matrix the layer's spectral norm normalises, without a power iteration."""
    was = layer.training
    layer.eval()
    try:
        return float(torch.linalg.matrix_norm(weight_matrix(layer).detach().double(), ord=2))
    finally:
        layer.train(was)


def _converge(critic, passes=300):
    """Run the power iteration ``passes`` times on every layer (reading a weight in training mode iterates)."""
    critic.train()
    with torch.no_grad():
        for layer in spectral_layers(critic):
            for _ in range(passes):
                _ = layer.weight


def test_every_family_is_covered():
    assert set(FAMILIES) == set(CRITICS)


@pytest.mark.parametrize("net", [*FAMILIES, *ARCHS])
def test_every_weight_layer_of_every_family_is_normalised(net):
    torch.manual_seed(0)
    D = _critic(net)
    layers = [m for m in D.modules() if isinstance(m, LAYERS)]
    assert layers and layers == spectral_layers(D)  # each linear/conv layer, none left out
    assert is_per_sample(D)  # the weight parametrisation never mixes rows: real and fake still go in one pass
    # after enough power iterations the largest singular value of every normalised weight is 1
    _converge(D)
    for layer in layers:
        assert _sigma(layer) == pytest.approx(1.0, abs=1e-3), layer


def test_without_the_option_nothing_is_normalised():
    cfg = resolve(tiny_config(), check_data=False)
    assert spectral_layers(build_critic(cfg.critic, 2)) == []


def test_sigma_estimate_is_a_lower_bound_and_converges():
    """``u^T W v <= sigma(W)`` for unit u, v, so before convergence the normalised weight's norm is >= 1; the power
    iteration brings it to 1. The weights are moved far from where the estimate converged first."""
    torch.manual_seed(1)
    D = _critic("mlp", "critic.width=32")
    with torch.no_grad():
        for layer in spectral_layers(D):
            raw = layer.parametrizations.weight.original
            raw.copy_(torch.randn_like(raw) * 3.0)
    layers = spectral_layers(D)
    before = [_sigma(m) for m in layers]
    assert all(s >= 1 - 1e-6 for s in before)
    assert max(before) > 1.01  # the stale estimate: the normalised weight is not yet of norm 1
    _converge(D)
    for layer in layers:
        assert _sigma(layer) == pytest.approx(1.0, abs=1e-3)
        # the effective weight is the raw one divided by its largest singular value (the direction is kept)
        raw = layer.parametrizations.weight.original.detach()
        layer.eval()
        torch.testing.assert_close(layer.weight, raw / torch.linalg.matrix_norm(raw, ord=2), rtol=1e-3, atol=1e-6)
        layer.train()


def test_iterations_per_forward_pass():
    D = _critic("mlp", iterations=7)
    assert {m.parametrizations.weight[0].n_power_iterations for m in spectral_layers(D)} == {7}


# ------------------------------------------------------------------ convolutions: the reshaped kernel matrix
def _operator_norm(conv: nn.Module, shape: tuple[int, ...]) -> float:
    """The largest singular value of the convolution as a linear map of its input (bias left out), from its
    Jacobian written out as a matrix."""
    conv.eval()  # the weight as it stands, no power iteration

    def linear_part(x):
        return F.conv2d(x.unsqueeze(0), conv.weight, None, conv.stride, conv.padding).flatten()

    jac = torch.autograd.functional.jacobian(linear_part, torch.zeros(shape, dtype=torch.float64))
    return float(torch.linalg.matrix_norm(jac.reshape(jac.shape[0], -1), ord=2))


def test_a_conv_layer_normalises_its_reshaped_kernel_not_the_convolution():
    """A 3x3 kernel whose nine taps are equal (1 channel): the reshaped matrix (1, 9) has norm 3|a|, so SN sets
    a = 1/3, and the convolution is a box sum / 3. With zero padding on an n x n image its norm is
    (1 + 2 cos(pi / (n + 1)))^2 / 3 (the box sum is T (x) T, T tridiagonal of ones): 2.88 for n = 12, not 1."""
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False).double()
    with torch.no_grad():
        conv.weight.fill_(0.7)
    spectral_normalise(conv)
    _converge(conv, passes=5)
    assert _sigma(conv) == pytest.approx(1.0, abs=1e-9)  # the reshaped kernel matrix: norm 1
    n = 12
    expected = (1 + 2 * math.cos(math.pi / (n + 1))) ** 2 / 3
    assert _operator_norm(conv, (1, n, n)) == pytest.approx(expected, rel=1e-6)
    assert expected > 2.8  # the convolution itself is far from 1-Lipschitz


@pytest.mark.parametrize(("k", "stride", "padding"), [(3, 1, 1), (4, 2, 1), (5, 2, 2)])
def test_a_normalised_convolution_is_at_most_sqrt_k_k_lipschitz(k, stride, padding):
    """The bound the module docstring states: the convolution's norm is at most sqrt(k * k) times the reshaped
    kernel's (here 1); random kernels stay below it, and the bound is not vacuous (above 1 for some)."""
    norms = []
    for seed in range(4):
        torch.manual_seed(seed)
        conv = nn.Conv2d(2, 3, k, stride=stride, padding=padding).double()
        spectral_normalise(conv)
        _converge(conv)
        assert _sigma(conv) == pytest.approx(1.0, abs=1e-6)
        norms.append(_operator_norm(conv, (2, 10, 10)))
    assert all(0 < s <= k + 1e-9 for s in norms)  # sqrt(k * k) = k
    assert max(norms) > 1.1  # spectral norm 1 of the reshaped kernel does not make the convolution 1-Lipschitz


# ------------------------------------------------------------------ eval mode and measurements
def _uv(D):
    return {k: b.clone() for k, b in D.named_buffers() if k.endswith(("._u", "._v"))}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_eval_mode_runs_no_power_iteration():
    torch.manual_seed(0)
    D = _critic("dcgan")
    with torch.no_grad():
        for p in D.parameters():
            p.add_(torch.randn_like(p))  # the estimates are stale: a power iteration would move them
    x = torch.randn(4, 3, 16, 16)
    before = _uv(D)
    D.eval()
    with torch.no_grad():
        out1, out2 = D(x), D(x)
    assert _same(before, _uv(D))
    torch.testing.assert_close(out1, out2, rtol=0, atol=0)
    D.train()
    with torch.no_grad():
        D(x)
    assert not _same(before, _uv(D))  # the positive control: training mode iterates


def test_measurements_leave_the_power_iteration_alone(tmp_path):
    tr = Trainer(tiny_config("critic.spectral_norm=true", "objective.name=wgan", "objective.clip=0"))
    real, fake = tr.train_step()
    before = _uv(tr.D)
    tr.gradient_norms(real, fake)  # logged for runs without a penalty, in training mode
    tr.evaluate()
    tr.save_toy_plot(tmp_path / "plot.png")  # the critic's value surface (eval mode)
    assert _same(before, _uv(tr.D))
    assert tr.D.training
    tr.train_step()
    assert not _same(before, _uv(tr.D))  # a training step iterates


def test_checkpoints_hold_the_power_iteration_state(tmp_path):
    from wgan.training.trainer import load_checkpoint

    tr = Trainer(tiny_config("critic.spectral_norm=true"))
    tr.fit(tmp_path / "run")
    saved = load_checkpoint(tmp_path / "run")["critic"]
    uv = _uv(tr.D)
    assert uv and all(torch.equal(saved[k], v) for k, v in uv.items())


# ------------------------------------------------------------------ every objective and penalty
@pytest.mark.parametrize("objective", list(PRESETS))
def test_every_objective_trains_with_spectral_norm(objective):
    tr = Trainer(tiny_config(f"objective.name={objective}", "objective.clip=0", "critic.spectral_norm=true"))
    summary = tr.fit(None)
    assert tr.step == 4 and math.isfinite(summary["w1"])
    assert all(torch.isfinite(p).all() for p in tr.D.parameters())


@pytest.mark.parametrize("penalty", sorted(REGISTRY))
def test_every_penalty_trains_with_spectral_norm(penalty):
    tr = Trainer(tiny_config("objective.name=ns-gan", f"objective.penalty={penalty}", "objective.penalty_weight=1",
                             "critic.spectral_norm=true",
                             "critic.norm=layer"))
    tr.fit(None)
    assert tr.step == 4


# ------------------------------------------------------------------ refusals and warnings
def test_weight_clipping_with_spectral_norm_is_refused():
    with pytest.raises(ConfigError, match=r"critic.spectral_norm = true with weight clipping \(objective.clip = "
                                          r"0.01\).*set objective.clip = 0"):
        resolve(tiny_config("objective.name=wgan", "critic.spectral_norm=true"))
    resolve(tiny_config("objective.name=wgan", "objective.clip=0", "critic.spectral_norm=true"))  # accepted


@pytest.mark.parametrize(("sets", "message"), [
    (["critic.spectral_norm_iterations=3"], "has no effect without critic.spectral_norm = true"),
    (["critic.spectral_norm=true", "critic.spectral_norm_iterations=0"], r"must be in \[1, 100\]"),
    (["critic.spectral_norm=true", "critic.spectral_norm_iterations=1000"], r"must be in \[1, 100\]"),
])
def test_bad_iteration_counts_are_one_line_errors(sets, message):
    with pytest.raises(ConfigError, match=message):
        resolve(tiny_config(*sets))


def test_batch_norm_with_spectral_norm_warns_even_without_a_penalty():
    D = _critic("dcgan", "critic.norm=batch")
    with pytest.warns(UserWarning, match="spectral normalisation.*layer norm"):
        assert warn_if_batchnorm(D, None) is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_batchnorm(_critic("dcgan", "critic.norm=layer"), make_penalty("gp", 10.0)) is False


def test_wgan_list_shows_the_option(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "critic options" in out and "spectral_norm " in out and "spectral_norm_iterations" in out

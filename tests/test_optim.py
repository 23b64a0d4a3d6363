"""TensorFlow's RMSProp (optim.name = rmsprop_tf) against its update formula, and the optimiser registry."""

import numpy as np
import pytest
import torch

from wgan.config import Config, ConfigError, apply_sets
from wgan.optim import OPTIMIZERS, TFRMSProp, make_optimizer
from wgan.resolve import resolve


def _tf_rmsprop_reference(theta, grads, lr, decay=0.9, momentum=0.0, eps=1e-10):
    """TF's ApplyRMSProp in numpy float64: ms starts at 1, mom at 0, eps inside the square root."""
    ms, mom, out = np.ones_like(theta), np.zeros_like(theta), []
    for g in grads:
        ms = decay * ms + (1 - decay) * g * g
        mom = momentum * mom + lr * g / np.sqrt(ms + eps)
        theta = theta - mom
        out.append(theta.copy())
    return out


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_tf_rmsprop_follows_the_formula(momentum):
    rng = np.random.default_rng(0)
    theta0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) * 10.0 ** rng.integers(-4, 1) for _ in range(6)]
    p = torch.nn.Parameter(torch.tensor(theta0, dtype=torch.float64))
    opt = TFRMSProp([p], lr=1e-2, momentum=momentum)
    for g, want in zip(grads, _tf_rmsprop_reference(theta0, grads, 1e-2, momentum=momentum), strict=True):
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-12, atol=1e-15)


def test_first_step_is_much_smaller_than_torchs_for_small_gradients():
    g = torch.full((3,), 1e-3, dtype=torch.float64)
    steps = {}
    for name in ("rmsprop", "rmsprop_tf"):
        p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
        opt = make_optimizer(name, [p], 5e-5, 0.0, 0.0)
        p.grad = g.clone()
        opt.step()
        steps[name] = float(p.detach().abs().max())
    assert steps["rmsprop"] == pytest.approx(10 * 5e-5, rel=1e-4)  # lr g / sqrt(0.01 g^2)
    assert steps["rmsprop_tf"] == pytest.approx(5e-5 * 1e-3 / np.sqrt(0.9 + 0.1e-6), rel=1e-9)
    assert steps["rmsprop"] / steps["rmsprop_tf"] > 9e3


def test_registry_and_config():
    assert OPTIMIZERS == ("adam", "rmsprop", "rmsprop_tf", "sgd")
    assert resolve(apply_sets(Config(), ["optim.name=rmsprop_tf"]), check_data=False).optim.name == "rmsprop_tf"
    with pytest.raises(ConfigError, match="rmsprop_tf"):
        resolve(apply_sets(Config(), ["optim.name=rmsprop-tf"]), check_data=False)
    with pytest.raises(ConfigError, match="unknown optimizer"):
        make_optimizer("lbfgs", [torch.nn.Parameter(torch.zeros(1))], 1e-3, 0.0, 0.9)
    with pytest.raises(ValueError, match="decay"):
        TFRMSProp([torch.nn.Parameter(torch.zeros(1))], lr=1e-3, decay=1.0)

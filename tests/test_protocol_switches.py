"""Loop switches that follow the papers' code (issue 12): WGAN's critic schedule, the fixed generator on the
critic's own batch, batch-norm generators sampling with batch statistics; each validated and refused by the
Ensemble."""

import pytest
import torch

from wgan.config import ConfigError
from wgan.ensemble import unsupported_settings
from wgan.resolve import resolve
from wgan.training.steps import critic_draws_before, critic_iterations, sampling_mode
from wgan.training.trainer import Trainer

from .helpers import tiny_config

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny nets: one torch thread (conftest)


def test_wgan_critic_schedule_counts_as_main_py():
    tr = Trainer(tiny_config("objective.name=wgan", "train.critic_schedule=wgan"))
    counts = [critic_iterations(tr.cfg, step) for step in (0, 24, 25, 26, 499, 500, 501, 1000)]
    assert counts == [100, 100, 5, 5, 5, 100, 5, 100]  # WassersteinGAN/main.py:176-179
    tr.step = 0
    calls = []
    original = tr.critic_step
    tr.critic_step = lambda: calls.append(1) or original()
    tr.train_step()
    assert len(calls) == 100 and tr.step == 1
    constant = Trainer(tiny_config("objective.name=wgan"))
    assert critic_iterations(constant.cfg, 0) == 5
    total = 0  # the data stream's draw index before each step is the running count of critic steps
    for step in range(1, 1600):
        total += critic_iterations(tr.cfg, step - 1)
        assert critic_draws_before(tr.cfg, step) == total, step


def test_fixed_generator_perturbs_the_critic_steps_own_batch():
    tr = Trainer(tiny_config("data.name=8gaussians", "generator.net=data-plus-noise", "generator.noise_std=0.1",
                             "data.batch_size=512"))
    real, fake = tr.critic_step()
    diff = fake - real  # the noise alone: std 0.1, not the data's spread (~1.4 between modes)
    assert abs(float(diff.std()) - 0.1) < 0.01
    fresh = tr.generate(512, seed=0)  # sampling draws its own data (a seeded stream)
    assert float((fresh - real).std()) > 0.5


def test_batch_mode_samples_with_batch_statistics_and_leaves_running_averages():
    tr = Trainer(tiny_config("generator.norm=batch", "eval.generator_mode=batch"))
    for _ in range(2):
        tr.train_step()
    bn = next(m for m in tr.G.modules() if isinstance(m, torch.nn.BatchNorm1d))
    before = {k: b.clone() for k, b in bn.named_buffers()}
    x_batch = tr.generate(256, seed=3)
    assert all(torch.equal(before[k], b) for k, b in bn.named_buffers())  # running averages untouched
    assert tr.G.training  # flags restored
    running = Trainer(tiny_config("generator.norm=batch"))
    running.load_state_dict(tr.state_dict())
    x_running = running.generate(256, seed=3)
    assert not torch.allclose(x_batch, x_running)  # the two modes differ after training
    with sampling_mode(tr.G, "batch") as G:  # and batch mode is the training-mode forward pass
        z = torch.randn(64, tr.latent_dim, generator=torch.Generator().manual_seed(0))
        out = G(z)
    tr.G.train()
    with torch.no_grad():
        want = tr.G(z)
    torch.testing.assert_close(out, want)


@pytest.mark.parametrize("setting, match", [("train.critic_schedule=every", "train.critic_schedule"),
                                            ("eval.generator_mode=train", "eval.generator_mode")])
def test_switches_are_validated(setting, match):
    with pytest.raises(ConfigError, match=match):
        resolve(tiny_config(setting), check_data=False)


@pytest.mark.parametrize("setting", ["optim.name=rmsprop_tf"])
def test_the_ensemble_refuses_the_switches(setting):
    bad = unsupported_settings(resolve(tiny_config(setting), check_data=False))
    assert [b.split(" = ")[0] for b in bad] == [setting.split("=")[0]]


def test_the_ensemble_takes_wgans_critic_schedule():
    """The ensemble runs the Trainer's own critic_iterations (tests/test_ensemble.py checks the members equal it)."""
    cfg = resolve(tiny_config("objective.name=wgan", "train.critic_schedule=wgan"), check_data=False)
    assert unsupported_settings(cfg) == []

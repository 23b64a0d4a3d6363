"""The Improved-GAN techniques (wgan.training.trick_hooks, wgan.nets.trick_layers): closed forms and contracts of each
mechanism, and every switch training a few steps with every objective."""

from __future__ import annotations

import math
from contextlib import nullcontext

import pytest
import torch
from scipy.optimize import minimize_scalar

from tests.helpers import tiny_config
from wgan.config import ConfigError, apply_sets, load_toml
from wgan.nets import is_per_sample
from wgan.nets.mlp import MLP
from wgan.nets.trick_layers import MinibatchCritic, MinibatchDiscrimination, VirtualBatchNet, VirtualBatchNorm
from wgan.objectives import LOSSES, PRESETS, Objective
from wgan.resolve import resolve
from wgan.training.trainer import Trainer
from wgan.training.trick_hooks import HistoricalAverage, feature_matching_loss, instance_noise_std

SWITCHES: dict[str, list[str]] = {
    "feature-matching": ["tricks.feature_matching=true"],
    "minibatch-discrimination": ["tricks.minibatch_kernels=4", "tricks.minibatch_kernel_dim=3"],
    "historical-averaging": ["tricks.historical_averaging_critic=0.1", "tricks.historical_averaging_generator=0.1"],
    "label-smoothing": ["tricks.label_smoothing=0.1"],
    "virtual-batch-norm": ["tricks.virtual_batch_norm=both", "tricks.vbn_reference_size=8", "generator.norm=batch",
                           "critic.norm=batch"],
    "instance-noise": ["tricks.instance_noise=0.1", "tricks.instance_noise_anneal=true"],
}
OBJECTIVES = ("wgan", "wgan-gp", "ns-gan", "m-gan", "lsgan", "gan-gp", "dragan-ns")


# ------------------------------------------------------------------------------------------ label smoothing
@pytest.mark.parametrize("loss", [name for name, loss in LOSSES.items() if loss.targets])
@pytest.mark.parametrize(("p_r", "p_g"), [(0.5, 0.5), (0.8, 0.2), (0.1, 0.9), (1.0, 0.0)])
def test_label_smoothing_moves_the_optimal_discriminator_to_0_9(loss: str, p_r: float, p_g: float) -> None:
    """Pointwise, the critic minimises p_r * (real term)(t) + p_g * (fake term)(t); with real targets 0.9 the
    minimiser is D* = 0.9 p_r / (p_r + p_g) (D = sigmoid(t) for the logistic losses, D = t for least squares)."""
    obj = Objective(loss, label_smoothing=0.1)  # type: ignore[arg-type]
    zero = torch.zeros(1, dtype=torch.float64)

    def pointwise(t: float) -> float:  # the other batch's term is a constant in t, so the minimiser is unchanged
        x = torch.tensor([t], dtype=torch.float64)
        return p_r * float(obj.critic_loss(x, zero)) + p_g * float(obj.critic_loss(zero, x))

    t_star = minimize_scalar(pointwise, bounds=(-20, 20), method="bounded", options={"xatol": 1e-10}).x
    d_star = t_star if loss == "least-squares" else 1 / (1 + math.exp(-t_star))
    assert d_star == pytest.approx(0.9 * p_r / (p_r + p_g), abs=1e-5)


def test_label_smoothing_zero_is_the_plain_loss_and_generator_loss_is_unchanged() -> None:
    r, f = torch.randn(16), torch.randn(16)
    for loss in ("non-saturating", "least-squares"):
        plain, smooth = Objective(loss), Objective(loss, 0.1)  # type: ignore[arg-type]
        torch.testing.assert_close(Objective(loss, 0.0).critic_loss(r, f), plain.critic_loss(r, f))  # type: ignore[arg-type]
        assert not torch.allclose(smooth.critic_loss(r, f), plain.critic_loss(r, f))
        torch.testing.assert_close(smooth.generator_loss(f), plain.generator_loss(f))


@pytest.mark.parametrize("objective", ["wgan-gp", "hinge"])
def test_label_smoothing_is_rejected_without_targets(objective: str) -> None:
    with pytest.raises(ValueError, match="targets"):
        Objective(PRESETS[objective].loss, 0.1)
    with pytest.raises(ConfigError, match="tricks.label_smoothing"):
        resolve(apply_sets(tiny_config(), [f"objective.name={objective}", "tricks.label_smoothing=0.1"]))
    with pytest.raises(ConfigError, match=r"\[0, 1\)"):
        resolve(apply_sets(tiny_config(), ["objective.name=ns-gan", "tricks.label_smoothing=1.0"]))


# ------------------------------------------------------------------------------------------ historical averaging
def test_historical_average_penalty_is_zero_for_a_constant_history() -> None:
    p = torch.nn.Parameter(torch.randn(3, 4))
    h = HistoricalAverage([p], weight=0.5)
    for _ in range(5):
        h.update()
        assert h.penalty().item() == 0.0


def test_historical_average_is_the_running_mean_and_the_gradient_is_2_lambda_delta() -> None:
    p = torch.nn.Parameter(torch.zeros(5))
    h = HistoricalAverage([p], weight=0.3)
    history = [torch.zeros(5)]
    for _ in range(4):
        with torch.no_grad():
            p.copy_(torch.randn(5))
        history.append(p.detach().clone())
        h.update()
    mean = torch.stack(history).mean(0)  # mean over theta[0..t], the current value included (Salimans eq. sec. 3.3)
    torch.testing.assert_close(h.mean[0], mean)
    with torch.no_grad():
        p.add_(1.0)
    pen = h.penalty()
    torch.testing.assert_close(pen, 0.3 * (p.detach() - mean).pow(2).sum())
    pen.backward()
    torch.testing.assert_close(p.grad, 2 * 0.3 * (p.detach() - mean))


def test_historical_averaging_is_logged_and_survives_a_checkpoint(tmp_path) -> None:
    cfg = tiny_config("objective.name=ns-gan", *SWITCHES["historical-averaging"])
    tr = Trainer(cfg)
    tr.train_step()
    tr.train_step()
    logged = tr._flush()
    assert logged["penalty/historical_critic"] > 0 and logged["penalty/historical_generator"] > 0
    assert tr.tricks.history["critic"].count == 3  # initial parameters + two critic steps
    tr.save_checkpoint(tmp_path)
    resumed = Trainer.resume(tmp_path)
    for player in ("critic", "generator"):
        assert resumed.tricks.history[player].count == tr.tricks.history[player].count
        for a, b in zip(resumed.tricks.history[player].mean, tr.tricks.history[player].mean, strict=True):
            torch.testing.assert_close(a, b)


# ------------------------------------------------------------------------------------------ virtual batch norm
@pytest.mark.parametrize("shape", [(6,), (3, 4, 4)])
def test_virtual_batch_norm_output_of_a_sample_ignores_the_rest_of_the_batch(shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    if len(shape) == 1:
        net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                                  torch.nn.Linear(8, 2))
    else:
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3, padding=1), torch.nn.BatchNorm2d(5), torch.nn.ReLU())
    vbn = VirtualBatchNet(net, torch.randn(10, *shape))
    x = torch.randn(1, *shape)
    alone = vbn(x)
    in_batch_a = vbn(torch.cat([x, torch.randn(7, *shape)]))[:1]
    in_batch_b = vbn(torch.cat([x, 5 + 3 * torch.randn(31, *shape)]))[:1]
    torch.testing.assert_close(in_batch_a, alone)
    torch.testing.assert_close(in_batch_b, alone)
    assert is_per_sample(vbn)


def test_virtual_batch_norm_closed_form() -> None:
    """One (N, C) layer: a sample x is normalised with mean (n mu_ref + x) / (n + 1), mean square likewise."""
    layer = VirtualBatchNorm(2, eps=0.0)
    layer.n_ref = 4
    ref, x = torch.randn(4, 2, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    out = layer.to(torch.float64)(torch.cat([ref, x]))
    mean = (4 * ref.mean(0) + x) / 5  # (3, 2)
    var = (4 * ref.pow(2).mean(0) + x.pow(2)) / 5 - mean.pow(2)
    torch.testing.assert_close(out[4:], (x - mean) / var.sqrt())
    torch.testing.assert_close(out[:4], (ref - ref.mean(0)) / ref.std(0, unbiased=False))


def test_virtual_batch_norm_needs_batch_norm_layers() -> None:
    with pytest.raises(ValueError, match="none"):
        VirtualBatchNet(MLP(2, 2, depth=1, width=4), torch.randn(4, 2))
    with pytest.raises(ConfigError, match='generator.norm = "batch"'):
        Trainer(tiny_config("tricks.virtual_batch_norm=generator"))


# ------------------------------------------------------------------------------------------ minibatch discrimination
def test_minibatch_discrimination_closed_form_and_batch_dependence() -> None:
    layer = MinibatchDiscrimination(2, n_kernels=1, kernel_dim=2)
    with torch.no_grad():
        layer.T.copy_(torch.eye(2))  # M_i = x_i
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0], [0.0, 0.5]])
    with torch.no_grad():
        out = layer(x)  # (3, 2 + 1)
        other = layer(torch.cat([x[:1], torch.tensor([[5.0, 5.0]])]))
    torch.testing.assert_close(out[:, :2], x)
    expected0 = math.exp(-3.0) + math.exp(-0.5)  # sum over j != 0 of exp(-||x_0 - x_j||_1)
    assert float(out[0, 2]) == pytest.approx(expected0, rel=1e-6)
    assert float(other[0, 2]) == pytest.approx(math.exp(-10.0), rel=1e-5)  # same sample, other batch: other output


def test_minibatch_critic_is_scored_per_batch_and_warns_with_a_penalty() -> None:
    critic = MinibatchCritic(MLP(2, 1, depth=2, width=8, squeeze=True), 8, 3, 2)
    x = torch.randn(5, 2)
    torch.testing.assert_close(critic(x), critic.head(critic.features(x)))
    assert not is_per_sample(critic)
    tr = Trainer(tiny_config("objective.name=ns-gan", *SWITCHES["minibatch-discrimination"]))
    assert not tr.fuse_critic_passes
    sizes: list[int] = []
    tr.D.register_forward_hook(lambda m, inp, out: sizes.append(inp[0].shape[0]))
    tr.critic_step()
    assert sizes == [32, 32]  # real and fake scored in two calls of batch size each, never one of 64
    with pytest.warns(UserWarning, match="per-sample"):
        Trainer(tiny_config("objective.name=wgan-gp", *SWITCHES["minibatch-discrimination"]))


# ------------------------------------------------------------------------------------------ instance noise
def test_instance_noise_schedule() -> None:
    assert [instance_noise_std(s, 100, 0.4, anneal=True) for s in (0, 25, 50, 100, 150)] == pytest.approx(
        [0.4, 0.3, 0.2, 0.0, 0.0])
    assert [instance_noise_std(s, 100, 0.4, anneal=False) for s in (0, 50, 100)] == [0.4, 0.4, 0.4]


def test_instance_noise_has_the_scheduled_std() -> None:
    tr = Trainer(tiny_config("objective.name=ns-gan", "tricks.instance_noise=0.5", "tricks.instance_noise_anneal=true",
                             "train.steps=10"))
    x = torch.zeros(20_000, 2)
    rng = torch.Generator().manual_seed(0)
    assert float(tr.tricks.noisy(x, 0, rng).std()) == pytest.approx(0.5, rel=0.02)
    assert float(tr.tricks.noisy(x, 6, rng).std()) == pytest.approx(0.2, rel=0.02)
    assert tr.tricks.noisy(x, 10, rng) is x  # annealed to zero: the input itself
    off = Trainer(tiny_config("objective.name=ns-gan"))
    assert off.tricks.noisy(x, 0, rng) is x


# ------------------------------------------------------------------------------------------ feature matching
def test_mlp_critic_features_contract() -> None:
    critic = MLP(2, 1, depth=3, width=16, squeeze=True)
    x = torch.randn(7, 2)
    assert critic.features(x).shape == (7, 16)
    torch.testing.assert_close(critic(x), critic.head(critic.features(x)))


def test_feature_matching_loss_zero_for_fake_equal_real_and_closed_form() -> None:
    critic = MLP(2, 1, depth=2, width=8, squeeze=True)
    x = torch.randn(64, 2)
    assert feature_matching_loss(critic, x, x.clone()).item() == 0.0
    identity = MLP(2, 1, depth=0, width=8, squeeze=True)  # no hidden layers: features(x) = x
    y = torch.randn(32, 2) + torch.tensor([1.0, -2.0])
    expected = (x.mean(0) - y.mean(0)).pow(2).sum()
    torch.testing.assert_close(feature_matching_loss(identity, x, y), expected)


def test_feature_matching_replaces_the_generator_loss() -> None:
    tr = Trainer(tiny_config("objective.name=ns-gan", "tricks.feature_matching=true"))
    calls: list[str] = []
    tr.D.features = lambda x, f=tr.D.features: calls.append("features") or f(x)  # type: ignore[method-assign]
    tr.generator_step()
    assert calls == ["features", "features"]  # real and fake features; the critic's output is not used


# ------------------------------------------------------------------------------------------ config and training
def test_tricks_from_toml_and_set(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[tricks]\nfeature_matching = true\ninstance_noise = 0.2\nvirtual_batch_norm = "generator"\n')
    cfg = load_toml(path)
    assert cfg.tricks.feature_matching and cfg.tricks.instance_noise == 0.2
    assert apply_sets(cfg, ["tricks.minibatch_kernels=7"]).tricks.minibatch_kernels == 7
    with pytest.raises(ConfigError, match="virtual_batch_norm"):
        resolve(apply_sets(cfg, ["tricks.virtual_batch_norm=sometimes"]))
    with pytest.raises(ConfigError, match="tricks.featur_matching"):
        apply_sets(cfg, ["tricks.featur_matching=true"])
    with pytest.raises(ConfigError, match="instance_noise"):
        resolve(apply_sets(cfg, ["tricks.instance_noise=-1"]))


@pytest.mark.parametrize("sets", [["tricks.feature_matching=true"], ["tricks.minibatch_kernels=4"],
                                  ["tricks.virtual_batch_norm=both", "tricks.vbn_reference_size=4"]])
def test_network_tricks_work_with_an_image_critic(sets: list[str], one_thread) -> None:
    """The DCGAN critic exposes features(x) like the MLP; its batch-norm layers become virtual."""
    cfg = tiny_config("data.name=digits", "data.image_size=32", "generator.net=dcgan", "critic.net=dcgan",
                      "generator.width=4", "critic.width=4", "generator.norm=batch", "critic.norm=batch",
                      "data.batch_size=8", "objective.name=ns-gan", *sets)
    tr = Trainer(cfg)
    tr.train_step()
    assert math.isfinite(tr._flush()["loss/generator"])


def test_the_ensemble_rejects_tricks() -> None:
    from wgan.ensemble import Ensemble

    with pytest.raises(ConfigError, match=r"\[tricks\]"):
        Ensemble(tiny_config("tricks.instance_noise=0.1"), seeds=[0, 1])


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("switch", list(SWITCHES))
def test_each_switch_trains_with_each_objective(objective: str, switch: str, one_thread) -> None:
    if switch == "label-smoothing" and objective.startswith("wgan"):
        pytest.skip("label smoothing is rejected for the Wasserstein loss (tested above)")
    cfg = tiny_config(f"objective.name={objective}", *SWITCHES[switch], "train.steps=2", "objective.n_critic=1")
    penalised = objective in ("wgan-gp", "gan-gp", "dragan-ns")
    with pytest.warns(UserWarning) if switch == "minibatch-discrimination" and penalised else nullcontext():
        tr = Trainer(cfg)
    before = [p.detach().clone() for p in tr.G.parameters()]
    tr.train_step()
    tr.train_step()
    logged = tr._flush()
    assert math.isfinite(logged["loss/critic"]) and math.isfinite(logged["loss/generator"])
    assert any(not torch.equal(a, b) for a, b in zip(before, tr.G.parameters(), strict=True))


# ------------------------------------------------------------------------------------------ the reproduction
def test_improved_techniques_quick(tmp_path, one_thread) -> None:
    from wgan.experiments import Context, run_experiment
    from wgan.experiments.improved_techniques import STACKED_VARIANTS, VARIANTS, stacked_setting

    result = run_experiment("improved-techniques", Context(out=tmp_path, quick=True, steps=10))
    assert (tmp_path / "improved-techniques.png").stat().st_size > 1000
    table = (tmp_path / "improved-techniques-table.md").read_text()
    assert all(label in table for label, _ in VARIANTS.values())
    summary = result.data["summary"]
    for data, n_modes in (("8gaussians", 8), ("25gaussians", 25)):
        for v in VARIANTS:
            m = summary[data][v]
            assert m["n_modes"] == n_modes and 0 <= m["modes_min"] <= m["modes_mean"] <= m["modes_max"] <= n_modes
            assert 0 <= m["hq_mean"] <= 1 and m["w1_mean"] > 0
    assert {c.name for c in result.claims} == {"minibatch-discrimination-vs-collapse", "techniques-vs-ns-gan",
                                               "wgan-gp-reference", "stacked-mnist-minibatch-discrimination"}
    # the Stacked part (quick: stacked digits, 3 x 8 x 8): modes hit of 1,000 by the digit classifier, real far above
    stacked = result.data["stacked_mnist"]["summary"]
    assert set(stacked) == set(STACKED_VARIANTS) and "Stacked digits" in table
    for m in stacked.values():
        assert 1 <= m["modes_min"] <= m["modes"] <= m["modes_max"] <= 1000 and 0 <= m["kl"] <= math.log(1000) + 1e-6
        assert m["modes_real"] > 100 and m["kl_real"] < 2  # 500 real stacked images: hundreds of the 1,000 modes
    assert len(list((tmp_path / "runs").glob("*.json"))) == 2 * len(VARIANTS) + len(STACKED_VARIANTS)
    again = run_experiment("improved-techniques", Context(out=tmp_path, quick=True, steps=10))  # from runs/
    assert again.data["summary"] == summary and again.data["stacked_mnist"]["summary"] == stacked
    assert stacked_setting(Context(out=tmp_path, quick=False)) is None  # a full run without --data leaves it out

"""The vectorised ensemble: members match the normal training loop, the optimiser matches torch.optim,
the backends agree, and summaries are right."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from wgan.data import LineData
from wgan.diagnostics.plots import plot_sweep
from wgan.ensemble import Ensemble, StackedOptimizer, has_cpp_compiler
from wgan.errors import ConfigError
from wgan.experiments._many_paths import Setting, line_trainer
from wgan.experiments._many_paths import experiment_config as _experiment_config
from wgan.penalties import PENALTIES, REGISTRY
from wgan.stats import summarize

SMALL = Setting(dim=3, latent=1, width=8, batch_size=16, data_seed=5)
OBJECTIVES = ["ns-gan", "gan-gp", "dragan-ns", "wgan", "wgan-gp"]


def experiment_config(setting, model, **kw):
    """Many Paths' model at its preset's own optimiser and n_critic: the equivalence tests cover every preset's
    optimiser (RMSProp for wgan, Adam beta2 0.999 for ns-gan), not only the paper's Adam (0.5, 0.9) at k = 5."""
    return _experiment_config(setting, model, protocol="presets", **kw)


pytestmark = pytest.mark.usefixtures("one_thread")


def _assert_member_matches_trainer(ens: Ensemble, i: int, trainer, rtol=1e-5, atol=1e-6):
    g, d = ens.member_state(i)
    for k, v in trainer.G.state_dict().items():
        torch.testing.assert_close(g[k], v, rtol=rtol, atol=atol, msg=lambda m, k=k: f"generator {k}: {m}")
    for k, v in trainer.D.state_dict().items():
        torch.testing.assert_close(d[k], v, rtol=rtol, atol=atol, msg=lambda m, k=k: f"critic {k}: {m}")


@pytest.mark.parametrize("backend", ["vmap", "fused", "bmm"])
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_member_equals_the_same_seed_trained_alone(objective, backend):
    extra = []
    if backend != "vmap" and objective == "wgan-gp":
        # Adam with beta1 = 0 turns the round-off-sized gradient of a Wasserstein critic's always-active hidden
        # biases (0 in exact arithmetic) into +-lr steps, so a different summation order (the batched paths
        # sum over other row groupings than the Trainer) shows up at 1e-4 there; plain SGD keeps this
        # comparison at float precision. Adam is compared directly in every other case, and the vmap path
        # sums exactly as the Trainer does.
        extra = ["optim.name=sgd"]
    from wgan.config import apply_sets

    cfg = apply_sets(experiment_config(SMALL, objective), extra)
    sampler = SMALL.sampler()
    seeds = [0, 3, 11]
    ens = Ensemble(cfg, seeds, sampler, rng="member", backend=backend)
    steps = 3
    ens.fit(steps)
    for i, s in enumerate(seeds):
        tr = line_trainer(cfg, sampler, seed=s)
        for _ in range(steps):
            tr.train_step()
        _assert_member_matches_trainer(ens, i, tr)
    # members really differ (own seeds), and every weight moved
    g0, _ = ens.member_state(0)
    g1, _ = ens.member_state(1)
    assert not torch.equal(g0["out.weight"], g1["out.weight"])


@pytest.mark.parametrize("backend", ["vmap", "fused", "bmm"])
@pytest.mark.parametrize(("loss", "penalty"), [("hinge", "none"), ("hinge", "r1"), ("non-saturating", "r1"),
                                               ("wasserstein", "r2"), ("least-squares", "r2")])
def test_member_equals_the_trainer_for_hinge_r1_r2(loss, penalty, backend):
    """The hinge loss and the zero-centred penalties run on every backend exactly as wgan.Trainer runs them
    (SGD keeps the comparison at float precision, as above)."""
    from wgan.config import apply_sets

    cfg = apply_sets(experiment_config(SMALL, "gan-gp"), [f"objective.loss={loss}", f"objective.penalty={penalty}",
                                                          "optim.name=sgd", "optim.lr=0.05"])
    sampler, seeds = SMALL.sampler(), [0, 3]
    ens = Ensemble(cfg, seeds, sampler, rng="member", backend=backend)
    ens.fit(3)
    for i, s in enumerate(seeds):
        tr = line_trainer(cfg, sampler, seed=s)
        for _ in range(3):
            tr.train_step()
        _assert_member_matches_trainer(ens, i, tr)


def test_per_member_learning_rate_and_penalty_weight_match_the_trainer():
    from wgan.config import apply_sets

    cfg = experiment_config(SMALL, "gan-gp")
    sampler = SMALL.sampler()
    lrs, lams = [1e-3, 5e-3], [0.5, 20.0]
    ens = Ensemble(cfg, [4, 4], sampler, lr=lrs, penalty_weight=lams, rng="member")
    ens.fit(3)
    for i, (lr, lam) in enumerate(zip(lrs, lams, strict=True)):
        tr = line_trainer(apply_sets(cfg, [f"optim.lr={lr}", f"objective.penalty_weight={lam}"]), sampler, seed=4)
        for _ in range(3):
            tr.train_step()
        _assert_member_matches_trainer(ens, i, tr)


@pytest.mark.parametrize("name", ["adam", "rmsprop", "sgd"])
def test_stacked_optimizer_matches_torch_optim(name):
    torch.manual_seed(0)
    S = 3
    lr = torch.tensor([1e-3, 3e-2, 0.2])
    stacked = [torch.randn(S, 4, 2), torch.randn(S, 5)]
    opt = StackedOptimizer(name, stacked, lr, beta1=0.5, beta2=0.9)
    member = 1
    ref = [p[member].clone().requires_grad_(True) for p in stacked]
    if name == "adam":
        ref_opt = torch.optim.Adam(ref, lr=float(lr[member]), betas=(0.5, 0.9))
    elif name == "rmsprop":
        ref_opt = torch.optim.RMSprop(ref, lr=float(lr[member]))
    else:
        ref_opt = torch.optim.SGD(ref, lr=float(lr[member]))
    for _ in range(5):
        grads = [torch.randn_like(p) for p in stacked]
        opt.step(grads)
        for r, g in zip(ref, grads, strict=True):
            r.grad = g[member].clone()
        ref_opt.step()
    for p, r in zip(stacked, ref, strict=True):
        torch.testing.assert_close(p[member], r.detach(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("penalty", [n for n in PENALTIES if n == "none" or "ensemble" in REGISTRY[n].paths])
@pytest.mark.parametrize("loss", ["wasserstein", "non-saturating", "least-squares", "hinge"])
def test_backends_agree_on_a_larger_ensemble(loss, penalty):
    from wgan.config import apply_sets

    setting = Setting(dim=4, latent=2, width=12, batch_size=24, data_seed=9)
    cfg = apply_sets(experiment_config(setting, "gan-gp"), [f"objective.loss={loss}", f"objective.penalty={penalty}",
                                                             "optim.name=sgd", "optim.lr=0.05"])
    states = {}
    for backend in ("vmap", "bmm", "fused"):
        ens = Ensemble(cfg, range(16), setting.sampler(), rng="shared", rng_seed=3, backend=backend)
        ens.fit(2)
        states[backend] = {k: v.detach() for k, v in (ens.d_params | ens.g_params).items()}
    for backend in ("bmm", "fused"):
        for k, v in states["vmap"].items():
            torch.testing.assert_close(states[backend][k], v, rtol=1e-5, atol=1e-6,
                                       msg=lambda m, b=backend, k=k: f"{b} {k}: {m}")


@pytest.mark.parametrize("objective", ["wgan-gp", "dragan-ns", "ns-gan"])
def test_fused_step_in_member_chunks_matches_one_pass(objective):
    # the fused step runs over chunks of members (cache-sized); a chunk size that does not divide S
    # (5, 5, 5, 1) must give what one pass over all members gives
    cfg = experiment_config(SMALL, objective)
    states, losses = [], []
    for chunk in (None, 5):
        ens = Ensemble(cfg, range(16), SMALL.sampler(), rng="shared", rng_seed=1, backend="fused",
                       lr=torch.linspace(1e-3, 1e-2, 16), penalty_weight=torch.linspace(1.0, 10.0, 16))
        if chunk is not None:
            ens._FUSED_CHUNK = chunk
        ens.fit(2)
        states.append({k: v.detach() for k, v in (ens.d_params | ens.g_params).items()})
        losses.append(dict(ens.last))
    for k, v in states[0].items():
        torch.testing.assert_close(states[1][k], v, rtol=1e-6, atol=1e-7, msg=lambda m, k=k: f"{k}: {m}")
    assert losses[0].keys() == losses[1].keys()
    for k, v in losses[0].items():
        torch.testing.assert_close(losses[1][k], v, rtol=1e-6, atol=1e-7)


@pytest.mark.skipif(not has_cpp_compiler(), reason="torch.compile on the CPU needs a C++ compiler")
@pytest.mark.parametrize("objective,latent", [("wgan-gp", 1), ("dragan-ns", 1), ("ns-gan", 1), ("gan-gp", 2),
                                              ("wgan-gp", 3)])
def test_compiled_fused_step_matches_the_eager_one(objective, latent):
    # the torch.compile'd chunk (one pure function, loss/penalty derivatives by torch.func.grad inside the
    # graph) against the eager fused step; chunks of 4 over 10 members also exercise the tail chunk. Latent
    # 1 and 2 < dim 3 take the compiled chunk's low-rank path for linear generators, latent 3 the general one.
    setting = replace(SMALL, latent=latent)
    cfg = experiment_config(setting, objective)
    states = []
    for compile in (False, True):
        ens = Ensemble(cfg, range(10), setting.sampler(), rng="shared", rng_seed=2, backend="fused", compile=compile,
                       lr=torch.linspace(1e-3, 1e-2, 10), penalty_weight=torch.linspace(1.0, 10.0, 10))
        ens._COMPILED_CHUNK = 4
        ens.fit(2)
        states.append({k: v.detach() for k, v in (ens.d_params | ens.g_params | ens.last).items()})
    for k, v in states[0].items():
        torch.testing.assert_close(states[1][k], v, rtol=1e-5, atol=1e-6, msg=lambda m, k=k: f"{k}: {m}")


def test_weight_clipping_bounds_every_member():
    cfg = experiment_config(SMALL, "wgan")
    ens = Ensemble(cfg, range(5), SMALL.sampler(), lr=0.05)
    ens.fit(3)
    for p in ens.d_params.values():
        assert p.abs().max().item() <= 0.01 + 1e-9
    values = torch.cat([p.detach().flatten() for p in ens.d_params.values()])
    assert (values.abs() == 0.01).float().mean().item() > 0.3  # lr 0.05 pushes many weights onto the bounds


def test_shared_randomness_gives_members_their_own_samples():
    ens = Ensemble(experiment_config(SMALL, "ns-gan"), [1, 1], SMALL.sampler(), rng="shared")
    real, z, _ = ens._draw_critic()
    assert real.shape == (2, SMALL.batch_size, SMALL.dim) and z.shape == (2, SMALL.batch_size, 1)
    assert not torch.equal(real[0], real[1]) and not torch.equal(z[0], z[1])


def test_summaries():
    v = np.arange(1.0, 101.0)
    s = summarize(np.concatenate([v, [np.nan, np.inf]]))
    assert s.n == 102 and s.n_diverged == 2
    assert s.mean == pytest.approx(50.5) and s.median == pytest.approx(50.5)
    assert s.lo == pytest.approx(np.percentile(v, 2.5)) and s.hi == pytest.approx(np.percentile(v, 97.5))
    half = 1.96 * v.std(ddof=1) / 10
    assert s.mean_lo == pytest.approx(50.5 - half) and s.mean_hi == pytest.approx(50.5 + half)
    assert math.isnan(summarize([np.nan]).median)


def test_plot_sweep_writes_a_png(tmp_path):
    curves = {"a": [summarize([1.0, 2.0]), summarize([0.5, 0.7])], "b": [summarize([3.0]), summarize([2.0, 4.0])]}
    plot_sweep([1e-3, 1e-2], curves, tmp_path / "s.png", xlabel="lr", ylabel="FD", logx=True, reference=5.0)
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_is_a_config_error():
    cfg = experiment_config(SMALL, "ns-gan")
    with pytest.raises(ConfigError, match="3 values for 2 members"):
        Ensemble(cfg, [0, 1], SMALL.sampler(), lr=[1e-3, 1e-3, 1e-3])
    with pytest.raises(ConfigError, match="backend"):
        Ensemble(cfg, [0], SMALL.sampler(), backend="gpu")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="at least one seed"):
        Ensemble(cfg, [], SMALL.sampler())
    from wgan.config import apply_sets

    deep = apply_sets(cfg, ["critic.depth=2"])
    with pytest.raises(ConfigError, match="one hidden ReLU layer"):
        Ensemble(deep, [0], SMALL.sampler(), backend="fused")
    assert Ensemble(deep, [0], SMALL.sampler()).backend == "vmap"  # auto: fused where it applies, else vmap
    assert Ensemble(cfg, [0], SMALL.sampler()).backend == "fused"
    with pytest.raises(ConfigError, match="rank"):
        LineData(3, rank=4)


@pytest.mark.parametrize("backend", ["vmap", "fused"])
@pytest.mark.parametrize("objective", ["ns-gan", "gan-gp"])
def test_lr_decay_generator_batch_and_ema_match_the_trainer(objective, backend):
    # optim.lr_decay (a linear factor per generator iteration), train.g_batch_multiple (a larger generator
    # batch) and train.ema (the EMA generator evaluation uses), member by member against the Trainer
    from wgan.config import apply_sets

    cfg = apply_sets(experiment_config(SMALL, objective), ["optim.lr_decay=linear", "train.steps=4",
                                                           "train.g_batch_multiple=2", "train.ema=0.6",
                                                           "optim.lr=0.01"])
    sampler, seeds, steps = SMALL.sampler(), [2, 7], 3
    ens = Ensemble(cfg, seeds, sampler, rng="member", backend=backend)
    assert ens.g_batch_size == 2 * SMALL.batch_size
    ens.fit(steps)
    assert ens.opt_g.lr_scale == pytest.approx(1 - 2 / 4) and ens.opt_d.lr_scale == ens.opt_g.lr_scale
    for i, s in enumerate(seeds):
        tr = line_trainer(cfg, sampler, seed=s)
        for _ in range(steps):
            tr.train_step()
        _assert_member_matches_trainer(ens, i, tr)
        for k, v in tr.G_ema.module.state_dict().items():
            torch.testing.assert_close(ens.sampling_params[k][i], v, rtol=1e-5, atol=1e-6)
    # the EMA is not the generator (so evaluation really reads another set of parameters)
    assert not torch.equal(ens.sampling_params["out.weight"], ens.g_params["out.weight"])
    z = torch.randn(len(seeds), 5, ens.latent_dim)
    w, b = ens.sampling_params["out.weight"], ens.sampling_params["out.bias"]
    torch.testing.assert_close(ens.generate(z), z @ w.transpose(1, 2) + b.unsqueeze(1))


@pytest.mark.parametrize("backend", ["vmap", "bmm"])
def test_wgan_critic_schedule_matches_the_trainer(backend):
    # train.critic_schedule = wgan (WassersteinGAN/main.py:176-179: 100 critic steps for the first 25 generator
    # steps and every 500th): both loops count critic steps with wgan.training.steps.critic_iterations
    from wgan.config import apply_sets
    from wgan.training import steps as steps_mod

    cfg = apply_sets(experiment_config(SMALL, "wgan"), ["train.critic_schedule=wgan"])
    sampler, seeds = SMALL.sampler(), [1, 4]
    counts = {"ens": 0}
    ens = Ensemble(cfg, seeds, sampler, rng="member", backend=backend)
    step = ens.critic_step

    def counted() -> None:
        counts["ens"] += 1
        step()

    ens.critic_step = counted
    ens.fit(2)
    assert counts["ens"] == 2 * steps_mod.WGAN_SCHEDULE_STEPS  # both in the warm-up: 100 each, not n_critic
    for i, s in enumerate(seeds):
        tr = line_trainer(cfg, sampler, seed=s)
        for _ in range(2):
            tr.train_step()
        _assert_member_matches_trainer(ens, i, tr)
    constant = Ensemble(apply_sets(cfg, ["train.critic_schedule=constant"]), seeds, sampler, rng="member",
                        backend=backend)
    constant.fit(2)  # the negative control: the constant schedule trains other weights
    assert not torch.equal(constant.member_state(0)[1]["out.weight"], ens.member_state(0)[1]["out.weight"])


# the fields the ensemble implements (or that change nothing it trains); any other field must keep its
# default. Adding a field to wgan.ensemble.SUPPORTED means adding it here and testing it against the Trainer.
IMPLEMENTED = {
    "data.name", "data.batch_size",
    "generator.net", "generator.latent_dim", "generator.depth", "generator.width", "generator.activation",
    "generator.norm", "generator.init",
    "critic.net", "critic.depth", "critic.width", "critic.activation", "critic.norm", "critic.init",
    "objective.name", "objective.loss", "objective.penalty", "objective.penalty_weight", "objective.clip",
    "objective.n_critic", "objective.dragan_scale",
    "optim.name", "optim.lr", "optim.beta1", "optim.beta2", "optim.critic_lr", "optim.lr_decay",
    "train.steps", "train.seed", "train.device", "train.g_batch_multiple", "train.ema", "train.critic_schedule",
}


def _other_value(value):
    """A value of the same type that differs from ``value`` (validity is not needed: the check is direct)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, str):
        return value + "-other"
    return 1


def test_every_config_field_is_implemented_or_refused():
    from dataclasses import fields as dc_fields
    from dataclasses import replace as dc_replace

    from wgan.config import Config
    from wgan.ensemble import NO_EFFECT, SUPPORTED, unsupported_settings
    from wgan.resolve import resolve

    cfg = resolve(experiment_config(SMALL, "gan-gp"))  # the check reads a resolved config, as the ensemble does
    assert unsupported_settings(cfg) == []
    assert set(SUPPORTED) == IMPLEMENTED
    every = {f"{s.name}.{f.name}" for s in dc_fields(Config) for f in dc_fields(getattr(Config(), s.name))}
    assert set(SUPPORTED) <= every and set(NO_EFFECT) <= every and not set(SUPPORTED) & set(NO_EFFECT)
    refused = every - set(SUPPORTED) - set(NO_EFFECT)
    assert {"tricks.feature_matching", "train.amp", "train.channels_last", "critic.n_classes",
            "train.augment"} <= refused
    for key in sorted(refused):  # every other field, set to a non-default value, is named in the refusal
        section, name = key.split(".")
        sec = getattr(cfg, section)
        bad = dc_replace(cfg, **{section: dc_replace(sec, **{name: _other_value(getattr(sec, name))})})
        assert [b.split(" = ")[0] for b in unsupported_settings(bad)] == [key]
    # restricted values of implemented fields: another optimiser variant, normalisation, network, device
    for key, value in [("optim.name", "rmsprop_tf"), ("critic.norm", "layer"), ("generator.net", "conv1d"),
                       ("train.device", "cuda")]:
        section, name = key.split(".")
        bad = dc_replace(cfg, **{section: dc_replace(getattr(cfg, section), **{name: value})})
        assert unsupported_settings(bad) == [f"{key} = {value!r}"]


@pytest.mark.parametrize("setting", ["train.amp=true", "tricks.feature_matching=true", "train.channels_last=true",
                                     "generator.norm=batch", "critic.spectral_norm=true", "optim.lr_decay=linear"])
def test_the_ensemble_refuses_what_it_does_not_implement(setting):
    from wgan.config import apply_sets

    cfg = apply_sets(experiment_config(SMALL, "ns-gan"), [setting])
    if setting.startswith("optim.lr_decay"):  # implemented: accepted (the negative control of this test)
        Ensemble(cfg, [0], SMALL.sampler())
        return
    with pytest.raises(ConfigError, match=f"does not implement {setting.split('=')[0]} = "):
        Ensemble(cfg, [0], SMALL.sampler())

"""Every path that runs a gradient penalty -- the eager step, the compiled step's torch.func program and the
ensemble -- takes its random numbers and points from the penalty itself (wgan.penalties), and a path a penalty
does not list refuses it by name instead of silently computing other points."""

from __future__ import annotations

import pytest
import torch

from wgan import Trainer
from wgan.config import apply_sets
from wgan.ensemble import Ensemble
from wgan.errors import ConfigError
from wgan.experiments._many_paths import Setting, experiment_config, line_trainer
from wgan.penalties import PENALTIES, REGISTRY, Penalty, PenaltyKind, make_penalty, register
from wgan.resolve import resolve
from wgan.training.compiled import CompiledSteps, check_compilable

from .helpers import tiny_config

NAMES = sorted(REGISTRY)
SMALL = Setting(dim=3, latent=1, width=8, batch_size=16, data_seed=5)


class _Shifted(PenaltyKind):
    """Points neither interpolates nor near the data alone: the real batch moved by 0.3 * U[0, 1] elementwise
    towards the fakes' mean. ``calls`` counts the paths that built them."""

    description = "test only: real points shifted towards the fakes' mean"
    calls = 0

    @staticmethod
    def draws(real, generator, members=False):
        return (torch.rand(real.shape, generator=generator, device=real.device, dtype=real.dtype),)

    @staticmethod
    def points(penalty, real, fake, draws, members=False):
        _Shifted.calls += 1
        (u,) = draws
        centre = fake.mean(dim=-2, keepdim=True)  # per member for stacked batches: over the batch axis
        return real + 0.3 * u * (centre - real)


class _ShiftedEverywhere(_Shifted):
    name = "test-shifted"


class _ShiftedEagerOnly(_Shifted):
    name = "test-shifted-eager"
    paths = frozenset({"eager"})


@pytest.fixture
def shifted():
    """The two throwaway penalties, registered for one test."""
    for kind in (_ShiftedEverywhere, _ShiftedEagerOnly):
        register(kind)
    try:
        yield
    finally:
        for kind in (_ShiftedEverywhere, _ShiftedEagerOnly):
            REGISTRY.pop(kind.name, None)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(2,), (3, 4, 4)], ids=["points", "images"])
def test_batched_points_are_each_members_own_points(name, shape):
    """The ensemble's stacked form gives member s the points the single-model form gives its batch."""
    pen = make_penalty(name, 10.0)
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(3, 5, *shape, generator=g), torch.randn(3, 5, *shape, generator=g)
    draws = pen.batched_draws(real, torch.Generator().manual_seed(1))
    stacked = pen.batched_points(real, fake, draws)
    assert stacked.shape == real.shape
    for s in range(3):
        one = tuple(t[s] for t in draws)
        assert [t.shape for t in one] == [t.shape for t in pen.draws(real[s])]  # same draws per member
        torch.testing.assert_close(stacked[s], pen.points(real[s], fake[s], one), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_eager_step_uses_the_penalty_draws_and_points(name):
    """Penalty.__call__ evaluates the critic at points(draws) from the generator it is given."""
    seen = []

    def critic(x):
        seen.append(x.detach().clone())
        return x.pow(2).sum(dim=1)

    pen = make_penalty(name, 10.0)
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    pen(critic, real, fake, torch.Generator().manual_seed(4))
    expected = pen.points(real, fake, pen.draws(real, torch.Generator().manual_seed(4)))
    assert torch.equal(seen[0], expected)


@pytest.mark.parametrize("name", [n for n in NAMES if "compiled" in REGISTRY[n].paths])
def test_compiled_program_equals_the_eager_step(name):
    """The torch.func program (run uncompiled) against the eager autograd step, for every penalty."""
    sets = [f"objective.penalty={name}", "optim.name=sgd", "optim.lr=1e-3", "objective.n_critic=2"]
    eager, func = Trainer(tiny_config(*sets)), Trainer(tiny_config(*sets))
    func.compiled = CompiledSteps(func.state, compile=False)
    eager.train_step()
    func.train_step()
    for a, b in ((eager.G, func.G), (eager.D, func.D)):
        for (k, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
            torch.testing.assert_close(p, q, atol=1e-5, rtol=1e-4, msg=lambda m, k=k: f"{k}: {m}")


def test_registry_feeds_the_tables_and_names_are_checked():
    assert list(PENALTIES) == ["none", *REGISTRY]
    assert all(PENALTIES[n] == REGISTRY[n].description for n in REGISTRY)
    with pytest.raises(ValueError, match="taken"):
        register(type("Again", (REGISTRY["gp"],), {}))
    with pytest.raises(ValueError, match="paths"):
        register(type("NoEager", (_Shifted,), {"name": "test-no-eager", "paths": frozenset({"compiled"})}))
    assert "test-no-eager" not in REGISTRY


def test_a_new_penalty_is_listed_and_accepted_by_the_config(shifted):
    assert PENALTIES["test-shifted"] == _Shifted.description
    assert resolve(tiny_config("objective.penalty=test-shifted")).objective.penalty == "test-shifted"
    assert Penalty("test-shifted", 1.0).kind is _ShiftedEverywhere


def test_paths_refuse_a_penalty_they_cannot_run_by_name(shifted):
    cfg = tiny_config("objective.penalty=test-shifted-eager")
    with pytest.raises(ConfigError, match="penalty 'test-shifted-eager' cannot run on the compiled training step"):
        check_compilable(resolve(cfg))
    with pytest.raises(ConfigError, match="penalty 'test-shifted-eager' cannot run on the compiled training step"):
        CompiledSteps(Trainer(cfg).state, compile=False)
    ens_cfg = apply_sets(experiment_config(SMALL, "wgan-gp"), ["objective.penalty=test-shifted-eager"])
    with pytest.raises(ConfigError, match="penalty 'test-shifted-eager' cannot run on the vectorised ensemble"):
        Ensemble(ens_cfg, [0, 1], SMALL.sampler())
    Trainer(cfg).train_step()  # the eager step runs it


def test_compiled_program_uses_a_new_penalty_own_points(shifted):
    """A penalty listing the compiled path gets its own points there (an interpolate would differ: the
    eager step is evaluated at the shifted points)."""
    sets = ["objective.penalty=test-shifted", "optim.name=sgd", "optim.lr=1e-2", "objective.n_critic=2"]
    eager, func, gp = (Trainer(tiny_config(*sets)), Trainer(tiny_config(*sets)),
                       Trainer(tiny_config(*sets[1:], "objective.penalty=gp")))
    func.compiled = CompiledSteps(func.state, compile=False)
    before = _Shifted.calls
    for tr in (eager, func, gp):
        tr.train_step()
    assert _Shifted.calls - before == 4  # two critic steps each on the eager and the compiled path
    d_eager, d_func, d_gp = (dict(t.D.named_parameters()) for t in (eager, func, gp))
    for k in d_eager:
        torch.testing.assert_close(d_func[k], d_eager[k], atol=1e-5, rtol=1e-4)
    assert any(not torch.allclose(d_gp[k], d_eager[k], atol=1e-4) for k in d_eager)


@pytest.mark.parametrize("backend", ["vmap", "bmm", "fused"])
def test_ensemble_uses_a_new_penalty_own_points(shifted, backend, one_thread):
    """Each ensemble member equals the Trainer run of its seed under the new penalty (same draws, same points)."""
    cfg = apply_sets(experiment_config(SMALL, "wgan-gp"), ["objective.penalty=test-shifted", "optim.name=sgd",
                                                            "optim.lr=1e-2"])
    sampler = SMALL.sampler()
    ens = Ensemble(cfg, [0, 3], sampler, rng="member", backend=backend)
    ens.fit(2)
    for i, s in enumerate([0, 3]):
        tr = line_trainer(cfg, sampler, seed=s)
        for _ in range(2):
            tr.train_step()
        _, d = ens.member_state(i)
        for k, v in tr.D.state_dict().items():
            torch.testing.assert_close(d[k], v, rtol=1e-5, atol=1e-6, msg=lambda m, k=k: f"critic {k}: {m}")
    gp = Ensemble(apply_sets(cfg, ["objective.penalty=gp"]), [0, 3], sampler, rng="member", backend=backend)
    gp.fit(2)
    assert not torch.allclose(gp.d_params["out.weight"], ens.d_params["out.weight"], atol=1e-4)

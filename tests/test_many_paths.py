"""Many Paths to Equilibrium sec. 4: the line data, the closed-form metric, and the quick reproductions."""

import json

import numpy as np
import pytest
import torch

from wgan.data import LineData
from wgan.ensemble import Ensemble
from wgan.experiments import Context, get, run_experiment
from wgan.experiments.many_paths import EXP1, EXP2, Setting, experiment_config, make_plan, member_distances
from wgan.metrics import frechet_distance, frechet_distance_from_samples

pytestmark = pytest.mark.usefixtures("one_thread")


def test_line_data_lies_on_its_line_with_the_stated_gaussian():
    data = LineData(6, sigma=2.0, seed=1)
    x = data.sample(20_000, torch.Generator().manual_seed(0)).double().numpy()
    centred = x - data.b_r.double().numpy()
    # every point is b_r + t w_r: the centred points have rank 1
    s = np.linalg.svd(centred, compute_uv=False)
    assert s[1] / s[0] < 1e-5
    mu, cov = data.gaussian()
    assert np.linalg.matrix_rank(cov) == 1
    np.testing.assert_allclose(x.mean(0), mu, atol=0.1)
    assert frechet_distance_from_samples(x, x[::-1]) == pytest.approx(0.0, abs=1e-9)
    # the sample estimate approaches the closed form (2nd moment error ~ 1/sqrt(n))
    assert frechet_distance(mu, cov, x.mean(0), np.cov(x, rowvar=False)) < 0.02 * np.trace(cov)


def test_line_data_is_fixed_by_its_seed():
    a, b, c = LineData(4, seed=3), LineData(4, seed=3), LineData(4, seed=4)
    assert torch.equal(a.w_r, b.w_r) and torch.equal(a.b_r, b.b_r)
    assert not torch.equal(a.w_r, c.w_r)


@pytest.mark.parametrize("setting", [EXP1, Setting(dim=6, latent=3)])
def test_member_distance_is_the_closed_form_of_the_generator(setting):
    sampler = setting.sampler()
    ens = Ensemble(experiment_config(setting, "ns-gan"), range(3), sampler)
    with torch.no_grad():  # member 0: the data's own line -> distance 0 (latent padded with zero columns)
        w = torch.zeros(setting.dim, setting.latent_for(setting.dim))
        w[:, 0] = sampler.w_r[0] * sampler.sigma
        ens.g_params["out.weight"][0] = w
        ens.g_params["out.bias"][0] = sampler.b_r
    fd = member_distances(ens, sampler)
    assert fd[0] == pytest.approx(0.0, abs=1e-6)
    # member 1 against a large sample of its own generator: parameters and samples agree
    z = torch.randn(1, 40_000, ens.latent_dim, generator=torch.Generator().manual_seed(0))
    fake = ens.generate(z.expand(ens.S, -1, -1).contiguous())[1].double().numpy()
    real = sampler.sample(40_000, torch.Generator().manual_seed(1)).double().numpy()
    assert fd[1] == pytest.approx(frechet_distance_from_samples(real, fake), rel=0.05)
    assert fd[1] > 0.1


def test_overcomplete_latent_rule():
    assert EXP2.latent_for(10) == 5 and EXP2.latent_for(2) == 2 and EXP2.latent_for(3) == 2
    assert EXP1.latent_for(40) == 1


def test_plan_follows_the_command_line(tmp_path):
    p = make_plan(Context(out=tmp_path, seeds=7, steps=400))
    assert p.seeds == 7 and p.steps == 400 and p.n_critic_steps == 100
    assert make_plan(Context(out=tmp_path, quick=True)).steps < 20


@pytest.mark.parametrize("name", ["many-paths-exp1", "many-paths-exp2"])
def test_quick_reproduction_writes_results_and_figures(name, tmp_path):
    assert get(name).paper.startswith("Many Paths")
    result = run_experiment(name, Context(out=tmp_path, quick=True))
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["reproduction"] == name and saved["quick"] is True
    assert len(result.figures) == 3
    for f in result.figures:
        assert (tmp_path / f).read_bytes()[:4] == b"\x89PNG"
    names = {c["name"] for c in saved["claims"]}
    assert {"ns-gan-learns-the-manifold", "penalties-help-ns-gan", "wgan-gp-beats-clipping"} <= names
    lr = saved["data"]["lr"]
    assert set(lr["models"]) == {"ns-gan", "gan-gp", "dragan-ns", "wgan", "wgan-gp"}
    assert all(len(m["summaries"]) == len(lr["x"]) for m in lr["models"].values())
    assert saved["protocol"]["plan"]["seeds"] == 2
    assert torch.get_num_threads() == 1  # the fixture's; the reproduction restores what it found

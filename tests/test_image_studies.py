"""The image reproductions of WGAN-GP Fig. 3 (image-objectives) and Fig. 5b (critic-overfitting) in quick mode
on scikit-learn's digits: results, figures, protocol, and the measured numbers' contracts."""


import numpy as np
import pytest

from wgan.cli import main
from wgan.errors import ConfigError
from wgan.experiments import Context, all_experiments, run_experiment
from wgan.io import read_json


@pytest.fixture(scope="module")
def objectives(tmp_path_factory):
    folder = tmp_path_factory.mktemp("image-objectives")
    return folder, run_experiment("image-objectives", Context(out=folder, quick=True))


@pytest.fixture(scope="module")
def overfitting(tmp_path_factory):
    folder = tmp_path_factory.mktemp("critic-overfitting")
    # through the command line, with --data naming the default explicitly
    assert main(["reproduce", "critic-overfitting", "--quick", "--data", "digits", "--out", str(folder)]) == 0
    return folder, read_json(folder / "results.json")


def test_both_registered():
    exps = all_experiments()
    for name in ("image-objectives", "critic-overfitting"):
        assert exps[name].paper.startswith("Improved Training of Wasserstein GANs") and exps[name].claim


def test_image_objectives_results(objectives):
    folder, result = objectives
    saved = read_json(folder / "results.json")
    assert saved["quick"] is True and saved["protocol"]["data"] == "digits"
    assert result.figures == ["image-objectives.png", "image-objectives-samples.png"]
    for fig in result.figures:
        assert (folder / fig).stat().st_size > 1000
    acc = saved["protocol"]["classifier"]["held_out_accuracy"]
    assert 0.5 < acc <= 1.0  # the feature network learnt the digits (chance is 0.1)
    assert set(result.data) == {"wgan-gp", "wgan-gp-rmsprop", "wgan", "ns-gan"}  # Fig. 3's four models
    for runs in result.data.values():
        (run,) = runs  # one seed in quick mode
        assert run["steps"] == [0, 10, 20, 30]
        assert np.all(np.diff(run["train_s"]) >= 0)
        # a (nearly) untrained generator is far from the data; real validation images are close to it
        assert all(np.isfinite(run["fid"])) and min(run["fid"]) > 5 * run["fid_val"] > 0
    claims = {c.name: c for c in result.claims}
    gp = claims["gp-beats-clipping"]
    assert gp.holds == (gp.measured["fid_wgan"] - gp.measured["fid_wgan-gp"] > 0)  # one quick seed: the difference
    assert gp.status == "INCONCLUSIVE"  # one seed: no interval
    assert claims["baseline-and-cost"].holds is None
    rms = claims["gp-rmsprop-beats-clipping"]
    assert rms.measured["fid_wgan-gp-rmsprop"] > 0 and rms.status == "INCONCLUSIVE"
    assert claims["adam-improves"].status == "INCONCLUSIVE"
    # the DCGAN baseline's training gates only the claim that compares with DCGAN
    m = dict(claims["gp-beats-clipping"].measured) | {"seeds": 3, "ns-gan_fid_end_over_start": 1.0,
                                                       "wgan-gp_fid_end_over_start": 0.2}
    from wgan.experiments import image_objectives as io
    assert io.IMG_CLIP.judge(m).gate.passed
    assert not io.IMG_DCGAN.judge(m | {"gp_vs_dcgan_relative": 0.0}).gate.passed


def test_image_objectives_same_nets_equal_steps(objectives):
    _, result = objectives
    assert result.protocol["generator_steps"] == 30
    assert "MLP" in result.protocol["networks"]  # 8x8 digits: small MLPs (28x28 images get mnist-conv)
    steps = {o: r[0]["steps"] for o, r in result.data.items()}
    assert steps["wgan-gp"] == steps["wgan"] == steps["ns-gan"]


def test_critic_overfitting_results(overfitting):
    folder, saved = overfitting
    assert (folder / "critic-overfitting.png").stat().st_size > 1000
    (sub,), (full,), (clip,) = saved["data"]["subset"], saved["data"]["full"], saved["data"]["subset-wgan"]
    assert sub["n_train"] == clip["n_train"] == 200  # data.subset = 200 in quick mode
    assert full["n_train"] == 1797 - 359  # digits: the last min(640, N // 5) images are held out
    for run in (sub, full, clip):
        assert run["steps"] == [0, 10, 20, 30]
        assert all(np.isfinite(run["train"] + run["val"])) and all(se >= 0 for se in run["gap_se"])
    claims = {c["name"]: c for c in saved["claims"]}
    both = claims["small-set-overfits"]
    m = both["measured"]
    assert np.isfinite(m["gap_subset_wgan"]) and np.isfinite(m["gap_subset"])  # both arms ran
    # one quick seed: no interval, and the gate says so
    assert both["verdict"] == claims["unlike-the-full-set"]["verdict"] == "INCONCLUSIVE"
    probes = saved["data"]["probes"]
    assert set(probes) == {"wgan-gp", "wgan"} and all(p["critic_steps"] == 150 and p["se"] > 0
                                                      for p in probes.values())
    assert m["probe_wgan-gp_gap"] == probes["wgan-gp"]["gap"]


def test_bad_data_path_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError):
        run_experiment("critic-overfitting", Context(out=tmp_path, quick=True, data=str(tmp_path / "missing")))


def test_critic_overfitting_scores(overfitting):
    _, saved = overfitting
    (sub,), (full,) = saved["data"]["subset"], saved["data"]["full"]
    for key in ("score_seen", "score_val"):
        assert len(sub[key]) == len(sub["steps"]) and all(np.isfinite(sub[key] + full[key]))
    assert all(np.isfinite(sub["score_unseen"]))  # the subset run has training images it never saw
    assert all(np.isnan(full["score_unseen"]))  # the full run has none
    where = {c["name"]: c for c in saved["claims"]}["where-the-gap-comes-from"]
    m = where["measured"]
    assert where["holds"] is None
    assert m["seen_minus_val"] == pytest.approx(m["seen_minus_unseen"] + m["unseen_minus_val"])

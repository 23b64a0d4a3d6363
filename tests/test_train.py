"""The training loop: every objective trains, constraints hold, runs resume bit-identically."""

import json
import math
import warnings

import pytest
import torch

from wgan import PRESETS, Trainer
from wgan.config import ConfigError
from wgan.io import read_json
from wgan.penalties import REGISTRY
from wgan.resolve import resolve
from wgan.training.trainer import create_run_dir, load_checkpoint

from .helpers import tiny_config


def _no_time(line: str) -> dict:
    return {k: v for k, v in json.loads(line).items() if k != "time/elapsed_s"}


def _params(trainer: Trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in list(trainer.G.parameters()) + list(trainer.D.parameters())]


@pytest.mark.parametrize("objective", list(PRESETS))
def test_every_objective_trains(objective):
    tr = Trainer(tiny_config(f"objective.name={objective}"))
    # every weight matrix of both players must move (a Wasserstein critic's output bias gets no gradient:
    # it cancels in E f(real) - E f(fake), so biases are not required to move)
    weights = [p for p in list(tr.G.parameters()) + list(tr.D.parameters()) if p.dim() == 2]
    before = [p.detach().clone() for p in weights]
    summary = tr.fit(None)
    assert tr.step == 4
    assert all(not torch.equal(a, b.detach()) for a, b in zip(before, weights, strict=True))
    assert math.isfinite(summary["w1"]) and summary["w1"] > 0
    assert summary["w1_floor"] > 0


@pytest.mark.parametrize("penalty", sorted(REGISTRY))
@pytest.mark.parametrize("loss", ["wasserstein", "non-saturating", "least-squares"])
def test_any_objective_with_any_penalty(loss, penalty):
    tr = Trainer(tiny_config("objective.name=ns-gan", f"objective.loss={loss}", f"objective.penalty={penalty}",
                             "objective.penalty_weight=1", "train.log_every=1"))
    assert tr.penalty is not None and tr.penalty.name == penalty
    tr.fit(None)
    assert tr.step == 4


def test_critic_steps_per_generator_step(monkeypatch):
    tr = Trainer(tiny_config("objective.name=wgan-gp", "objective.n_critic=3"))
    calls = {"critic": 0, "generator": 0}
    critic_step, generator_step = tr.critic_step, tr.generator_step

    def count(name, fn):
        def wrapped():
            calls[name] += 1
            return fn()
        return wrapped

    monkeypatch.setattr(tr, "critic_step", count("critic", critic_step))
    monkeypatch.setattr(tr, "generator_step", count("generator", generator_step))
    tr.fit(None)
    assert calls == {"critic": 12, "generator": 4}


def test_weight_clipping_bounds_every_critic_parameter():
    tr = Trainer(tiny_config("objective.name=wgan", "objective.clip=0.005", "optim.lr=0.1"))
    tr.fit(None)
    values = torch.cat([p.detach().flatten() for p in tr.D.parameters()])
    assert values.abs().max().item() <= 0.005
    # with lr 0.1 the weights are pushed hard against the bounds: many sit exactly at +-c
    assert (values.abs() == 0.005).float().mean().item() > 0.5


def test_fixed_generator_trains_only_the_critic():
    tr = Trainer(tiny_config("generator.net=data-plus-noise", "generator.noise_std=1.0"))
    assert tr.opt_g is None and list(tr.G.parameters()) == []
    d_before = [p.detach().clone() for p in tr.D.parameters() if p.dim() == 2]
    tr.fit(None)
    d_after = [p for p in tr.D.parameters() if p.dim() == 2]
    assert all(not torch.equal(a, b) for a, b in zip(d_before, d_after, strict=True))


def test_batchnorm_critic_with_penalty_warns():
    with pytest.warns(UserWarning, match="layer norm"):
        Trainer(tiny_config("critic.norm=batch"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer(tiny_config("critic.norm=layer"))
        Trainer(tiny_config("critic.norm=batch", "objective.name=wgan"))  # no penalty: no warning


def test_logging_records(tmp_path):
    run = tmp_path / "run"
    tr = Trainer(tiny_config("objective.name=wgan-gp"))
    tr.fit(run)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4]
    for key in ("loss/critic", "loss/generator", "penalty/gp", "critic/w_estimate", "gradnorm/mean",
                "gradnorm/min", "gradnorm/max", "time/elapsed_s"):
        assert key in rows[0], key
    assert rows[0]["gradnorm/min"] <= rows[0]["gradnorm/mean"] <= rows[0]["gradnorm/max"]
    # the Wasserstein estimate is E f(real) - E f(fake) = -critic loss (penalty excluded)
    assert rows[0]["critic/w_estimate"] == pytest.approx(-rows[0]["loss/critic"])
    assert "eval/w1" in rows[1] and "eval/w1_floor" in rows[1] and "eval/modes_covered" in rows[1]
    summary = read_json(run / "summary.json")
    assert summary["w1"] == pytest.approx(rows[1]["eval/w1"])
    assert {"w1", "w1_floor", "modes_covered", "high_quality_share", "protocol"} <= set(summary)
    assert (run / "curves.png").stat().st_size > 0
    assert (run / "samples" / "step-0000004.png").stat().st_size > 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["config"] == resolve(tr.cfg).to_dict() and saved["seed"] == 0


def test_evaluation_steps_need_not_be_log_steps(tmp_path):
    """train.eval_every is honoured when it is not a multiple of train.log_every (it was: evaluations only
    happened at log steps, so eval_every 3 with log_every 4 evaluated at step 12, not 3, 6, 9)."""
    run = tmp_path / "run"
    Trainer(tiny_config("train.steps=9", "train.log_every=4", "train.eval_every=3")).fit(run)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [3, 4, 6, 8, 9]
    assert [r["step"] for r in rows if "eval/w1" in r] == [3, 6, 9]


def test_logistic_objective_logs_js_estimate():
    tr = Trainer(tiny_config("objective.name=ns-gan"))
    tr.train_step()
    row = tr._flush()
    assert row["critic/js_estimate"] == pytest.approx(math.log(2) - row["loss/critic"] / 2)
    assert "critic/w_estimate" not in row


def test_no_penalty_still_logs_gradient_norms():
    tr = Trainer(tiny_config("objective.name=wgan", "train.log_every=1"))
    real, fake = tr.train_step()
    tr._add("gradnorm", tr.gradient_norms(real, fake))
    assert tr._flush()["gradnorm/mean"] > 0


def test_evaluation_does_not_disturb_training():
    a = Trainer(tiny_config("train.eval_every=1", "train.log_every=1"))
    b = Trainer(tiny_config("train.eval_every=4"))
    a.fit(None)
    b.fit(None)
    for p, q in zip(_params(a), _params(b), strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("objective", ["wgan-gp", "wgan", "dragan-ns"])
def test_resume_is_bit_identical(tmp_path, objective):
    _assert_resume_is_bit_identical(tmp_path, f"objective.name={objective}", "train.checkpoint_every=3",
                                    "train.log_every=2")


@pytest.mark.parametrize("objective", ["wgan-gp", "wgan"])
@pytest.mark.parametrize("log_every", [2, 3])
def test_resume_with_spectral_norm_is_bit_identical(tmp_path, objective, log_every):
    """The critic's power-iteration vectors u, v (wgan.nets.spectral) are checkpointed and resume exactly. With
    log_every = 3 (and eval_every = 5) the first segment's last step, 4, is a record of that segment alone: its
    measurements (the gradient norms of the unpenalised run, the evaluation, the value surface) must leave u, v as
    they are. (Its records then differ from the uninterrupted run's: the running means were flushed at step 4.)"""
    _assert_resume_is_bit_identical(tmp_path, f"objective.name={objective}", "objective.clip=0",
                                    "critic.spectral_norm=true", "train.checkpoint_every=3",
                                    f"train.log_every={log_every}", f"train.eval_every={4 if log_every == 2 else 5}",
                                    same_records=log_every == 2)


def _assert_resume_is_bit_identical(tmp_path, *sets, same_records=True):
    full = Trainer(tiny_config(*sets, "train.steps=6"))
    full.fit(tmp_path / "full")

    # the first segment ends at step 4, between two checkpoints; a finished run checkpoints its last step
    first = Trainer(tiny_config(*sets, "train.steps=4"))
    first.fit(tmp_path / "split")
    resumed = Trainer.resume(tmp_path / "split", steps=6)
    assert resumed.step == 4
    resumed.fit(tmp_path / "split")
    for p, q in zip(_params(full), _params(resumed), strict=True):
        assert torch.equal(p, q)
    for (k, a), (_, b) in zip(full.D.named_buffers(), resumed.D.named_buffers(), strict=True):
        assert torch.equal(a, b), k
    for key in ("opt_d", "opt_g"):
        sa, sb = getattr(full, key).state_dict()["state"], getattr(resumed, key).state_dict()["state"]
        for i in sa:
            for k in sa[i]:
                assert torch.equal(torch.as_tensor(sa[i][k]), torch.as_tensor(sb[i][k]))
    if same_records:
        rows_full = (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
        rows_split = (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()
        assert [_no_time(r) for r in rows_full] == [_no_time(r) for r in rows_split]


def test_fit_calls_back_every_n_generator_steps(tmp_path):
    seen = []

    def callback(trainer):
        # after the step's record and checkpoint: the metrics of that step are on disk, latest.pt holds it
        rows = [json.loads(r) for r in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
        seen.append((trainer.step, rows[-1]["step"], trainer.checkpoint_step))

    tr = Trainer(tiny_config("train.steps=7", "train.log_every=1", "train.checkpoint_every=1"))
    tr.fit(tmp_path / "run", callback=callback, every=3)
    assert seen == [(3, 3, 3), (6, 6, 6)]  # never step 0; step 7 is not a multiple of 3

    resumed = Trainer.resume(tmp_path / "run", steps=9)  # counts go on from the checkpoint's step
    seen.clear()
    resumed.fit(tmp_path / "run", callback=callback, every=3)
    assert seen == [(9, 9, 9)]


def test_fit_with_every_zero_never_calls_back():
    calls = []
    Trainer(tiny_config()).fit(None, callback=calls.append, every=0)
    assert calls == []
    with pytest.raises(ConfigError, match="every = -1"):
        Trainer(tiny_config()).fit(None, callback=calls.append, every=-1)


def test_a_run_with_a_measuring_callback_is_bit_identical(tmp_path):
    sets = ("train.steps=6", "train.log_every=2", "train.eval_every=3")
    plain = Trainer(tiny_config(*sets))
    plain.fit(tmp_path / "plain")
    measured, calls = Trainer(tiny_config(*sets)), []

    def measure(trainer):  # what a reproduction does between steps: evaluate, draw samples (own streams)
        calls.append(trainer.evaluate()["eval/w1"])
        trainer.generate(16, seed=5)

    measured.fit(tmp_path / "measured", callback=measure, every=1)
    assert len(calls) == 6
    for p, q in zip(_params(plain), _params(measured), strict=True):
        assert torch.equal(p, q)
    rows = [(tmp_path / name / "metrics.jsonl").read_text().splitlines() for name in ("plain", "measured")]
    assert [_no_time(r) for r in rows[0]] == [_no_time(r) for r in rows[1]]


def test_resume_drops_metrics_logged_after_the_checkpoint(tmp_path):
    run = tmp_path / "run"
    tr = Trainer(tiny_config("train.steps=4", "train.checkpoint_every=2", "train.log_every=1"))
    tr.fit(run)
    # simulate a crash after step 2's checkpoint: roll the checkpoint back by rewriting it from step 2
    tr2 = Trainer(tiny_config("train.steps=2", "train.checkpoint_every=2", "train.log_every=1"))
    tr2.fit(tmp_path / "other")
    (run / "checkpoints" / "latest.pt").write_bytes((tmp_path / "other" / "checkpoints" / "latest.pt").read_bytes())
    resumed = Trainer.resume(run, steps=4)
    resumed.fit(run)
    steps = [json.loads(r)["step"] for r in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_interrupt_saves_a_checkpoint_that_resumes_exactly(tmp_path, monkeypatch):
    sets = ("train.steps=6", "train.checkpoint_every=100", "train.log_every=4")
    full = Trainer(tiny_config(*sets))
    full.fit(None)

    tr = Trainer(tiny_config(*sets))
    original = tr.train_step

    def interrupting_step():
        out = original()
        if tr.step == 2:
            tr._stop_requested = True  # what the SIGINT handler does
        return out

    monkeypatch.setattr(tr, "train_step", interrupting_step)
    with pytest.raises(KeyboardInterrupt):
        tr.fit(tmp_path / "run")
    assert load_checkpoint(tmp_path / "run")["step"] == 2
    assert not (tmp_path / "run" / "summary.json").exists()
    resumed = Trainer.resume(tmp_path / "run")
    resumed.fit(tmp_path / "run")
    for p, q in zip(_params(full), _params(resumed), strict=True):
        assert torch.equal(p, q)
    # the interrupt fell mid-way through a log interval; the running means were checkpointed, so the
    # log matches an uninterrupted run's record for record
    full2 = Trainer(tiny_config(*sets))
    full2.fit(tmp_path / "full")
    rows = [_no_time(r) for r in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows == [_no_time(r) for r in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]


def test_resume_rejects_fewer_steps(tmp_path):
    Trainer(tiny_config()).fit(tmp_path / "run")
    with pytest.raises(ValueError, match="below the 4 steps"):
        Trainer.resume(tmp_path / "run", steps=2)


def test_run_dirs_are_numbered_and_never_reused(tmp_path):
    a = create_run_dir(tmp_path, "8gaussians", "wgan-gp")
    b = create_run_dir(tmp_path, "8gaussians", "wgan-gp")
    assert a.name == "00000-8gaussians-wgan-gp" and b.name == "00001-8gaussians-wgan-gp"


def test_user_points_file(tmp_path, capsys):
    import numpy as np

    pts = np.random.default_rng(0).normal(size=(500, 3)).astype("float32")
    np.save(tmp_path / "pts.npy", pts)
    tr = Trainer(tiny_config(f"data.name={tmp_path / 'pts.npy'}", "objective.name=wgan-gp", "train.sample_every=1"))
    summary = tr.fit(tmp_path / "run")  # 3-D: no toy plots, W1 still measured
    assert tr.sampler.dim == 3 and math.isfinite(summary["w1"])
    assert not (tmp_path / "run" / "samples").exists()
    assert capsys.readouterr().err.count("3-D points have no sample picture") == 1  # said once, not per sample step


def test_keep_checkpoints(tmp_path):
    Trainer(tiny_config("train.keep_checkpoints=true")).fit(tmp_path / "run")
    names = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    assert names == ["latest.pt", "step-0000002.pt", "step-0000004.pt"]
    assert load_checkpoint(tmp_path / "run")["step"] == 4


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    Trainer(tiny_config()).fit(tmp_path / "run")
    ckpt = tmp_path / "run" / "checkpoints" / "latest.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    with pytest.raises(ValueError, match="cannot read checkpoint"):
        Trainer.resume(tmp_path / "run")


def test_fused_critic_pass_matches_separate_passes():
    """Scoring real and fake batches in one call is an optimisation only: the critic loss and its
    parameter gradients equal those of two separate calls within float rounding."""
    tr = Trainer(tiny_config())
    assert tr.fuse_critic_passes
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(32, 2, generator=g), torch.randn(32, 2, generator=g)
    grads = []
    for fused in (True, False):
        tr.D.zero_grad()
        if fused:
            out = tr.D(torch.cat([real, fake]))
            loss = tr.objective.critic_loss(out[:32], out[32:])
        else:
            loss = tr.objective.critic_loss(tr.D(real), tr.D(fake))
        loss.backward()
        grads.append([p.grad.clone() for p in tr.D.parameters()])
    for p, q in zip(*grads, strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-7)
    # and through the loop's own critic step (SGD, so the update is proportional to the gradient;
    # Adam's first step is lr * sign(g) and would amplify rounding where g is ~0)
    a, b = Trainer(tiny_config("optim.name=sgd", "optim.lr=0.1")), Trainer(tiny_config("optim.name=sgd",
                                                                                      "optim.lr=0.1"))
    b.fuse_critic_passes = False
    a.critic_step()
    b.critic_step()
    for p, q in zip(a.D.parameters(), b.D.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-7)


def test_batchnorm_critic_is_not_fused():
    with pytest.warns(UserWarning):
        tr = Trainer(tiny_config("critic.norm=batch"))
    assert not tr.fuse_critic_passes


def test_sampler_given_in_code(tmp_path):
    """A distribution defined in code trains through the same loop and resumes with the same sampler."""
    from wgan.data import Sampler

    class Shifted(Sampler):
        name, dim = "shifted", 3

        def sample(self, n, generator):
            return torch.randn(n, 3, generator=generator) + 5.0

    tr = Trainer(tiny_config("data.name=shifted"), sampler=Shifted())
    tr.fit(tmp_path / "run")
    assert tr.G(tr.noise(4)).shape == (4, 3)
    resumed = Trainer.resume(tmp_path / "run", steps=6, sampler=Shifted())
    resumed.fit(tmp_path / "run")
    assert resumed.step == 6
    with pytest.raises(ValueError, match="shifted"):
        Trainer.resume(tmp_path / "run")  # the name alone cannot rebuild a code-defined distribution


def test_a_new_run_never_overwrites_an_existing_one(tmp_path):
    Trainer(tiny_config()).fit(tmp_path / "run")
    before = (tmp_path / "run" / "metrics.jsonl").read_bytes()
    with pytest.raises(ValueError, match="already holds a run"):
        Trainer(tiny_config("train.seed=5")).fit(tmp_path / "run")
    assert (tmp_path / "run" / "metrics.jsonl").read_bytes() == before

"""The NaN guard (wgan.training.guard): a diverged run stops with one line and never saves its non-finite state."""

import json

import pytest
import torch

from wgan import Trainer
from wgan.cli import main
from wgan.errors import TrainingDiverged
from wgan.rundir import load_checkpoint, save_checkpoint

from .helpers import TINY, tiny_config

TINY_ARGS = [a for s in TINY for a in ("--set", s)]


class Overflowing:
    """An objective whose critic loss is infinite at one call (the ``at_call``-th), otherwise the real one."""

    def __init__(self, objective, at_call: int) -> None:
        self.objective, self.at_call, self.calls = objective, at_call, 0

    def critic_loss(self, real_out, fake_out):
        self.calls += 1
        loss = self.objective.critic_loss(real_out, fake_out)
        return loss * float("inf") if self.calls == self.at_call else loss

    def __getattr__(self, name):
        return getattr(self.objective, name)


def _poison_critic_during_step(tr: Trainer, step: int, monkeypatch) -> None:
    """Make a critic weight NaN inside generator step ``step`` (1-based), as a diverging update would."""
    generator_step = tr.generator_step

    def poisoned():
        generator_step()
        if tr.step == step - 1:
            with torch.no_grad():
                next(tr.D.parameters()).view(-1)[0] = float("nan")

    monkeypatch.setattr(tr, "generator_step", poisoned)


def test_a_diverged_run_stops_and_latest_keeps_the_last_finite_state(tmp_path, monkeypatch):
    tr = Trainer(tiny_config("train.steps=8", "train.log_every=2", "train.checkpoint_every=2"))
    _poison_critic_during_step(tr, 5, monkeypatch)
    with pytest.raises(TrainingDiverged) as e:
        tr.fit(tmp_path)
    msg = str(e.value)
    assert "\n" not in msg and "step 6" in msg and "critic" in msg and "lower optim.lr" in msg
    assert "latest.pt keeps the last finite state (step 4)" in msg
    state = load_checkpoint(tmp_path)  # refuses non-finite weights, so this also proves latest.pt is finite
    assert state["step"] == 4
    # the record that showed the divergence is logged; summary.json is not written
    rows = [json.loads(r) for r in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4, 6] and rows[-1]["loss/critic"] == "nan"
    assert not (tmp_path / "summary.json").exists()
    resumed = Trainer.resume(tmp_path)  # --resume from the kept state works (and drops the step-6 record)
    assert resumed.step == 4
    assert resumed.fit(tmp_path)["steps"] == 8  # the unpoisoned run continues to the end


def test_a_checkpoint_between_records_is_checked_too(tmp_path, monkeypatch):
    tr = Trainer(tiny_config("train.steps=8", "train.log_every=4", "train.checkpoint_every=1"))
    _poison_critic_during_step(tr, 3, monkeypatch)
    with pytest.raises(TrainingDiverged, match=r"by step 3: non-finite state: critic"):
        tr.fit(tmp_path)
    assert load_checkpoint(tmp_path)["step"] == 2


def test_a_huge_lr_stops_with_one_line_and_exit_3(tmp_path, capsys):
    root = tmp_path / "runs"  # (lr 1e6 is refused by the config's bounds; SGD at its largest lr, 10, diverges)
    assert main(["train", "--out", str(root), *TINY_ARGS, "--set", "optim.name=sgd", "--set", "optim.lr=10"]) == 3
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("run directory:")]
    assert len(err) == 1 and "training diverged by step 2" in err[0] and "optim.lr (now 10)" in err[0]
    assert "no checkpoint was written" in err[0]
    (run,) = root.iterdir()
    assert not (run / "checkpoints" / "latest.pt").exists()


def test_float16_skipped_steps_are_counted_not_failures(tmp_path, monkeypatch):
    tr = Trainer(tiny_config("train.amp=true", "train.amp_dtype=float16", "objective.name=wgan-gp"))
    # scale 1: these tiny nets then never overflow on their own (at the default 2**16 their first steps do)
    tr.scaler_d = torch.amp.GradScaler("cpu", init_scale=1.0)
    tr.scaler_g = torch.amp.GradScaler("cpu", init_scale=1.0)
    monkeypatch.setattr(tr, "objective", Overflowing(tr.objective, at_call=2))  # as a float16 pass can
    assert tr.fit(tmp_path)["steps"] == 4
    rows = [json.loads(r) for r in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["amp/skipped_critic_steps"] == 1.0 and rows[1]["amp/skipped_critic_steps"] == 0.0
    assert rows[0]["amp/skipped_generator_steps"] == 0.0
    assert all(torch.isfinite(p).all() for p in tr.D.parameters())


def test_without_a_loss_scaler_the_same_overflow_stops_the_run(monkeypatch):
    tr = Trainer(tiny_config("objective.name=wgan-gp"))
    monkeypatch.setattr(tr, "objective", Overflowing(tr.objective, at_call=2))
    with pytest.raises(TrainingDiverged, match=r"loss/critic = -?(inf|nan)"):
        tr.fit(None)


def test_sample_and_eval_refuse_a_checkpoint_with_non_finite_weights(tmp_path, capsys):
    tr = Trainer(tiny_config())
    tr.fit(tmp_path)
    state = load_checkpoint(tmp_path)
    next(iter(state["generator"].values())).view(-1)[0] = float("inf")
    save_checkpoint(tmp_path, state)  # a checkpoint written by a wgan without the guard
    capsys.readouterr()
    for argv in (["sample", str(tmp_path), "--n", "5", "--out", str(tmp_path / "s.npy")], ["eval", str(tmp_path)]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "non-finite (NaN/inf) generator weights" in err[0]
    assert not (tmp_path / "s.npy").exists()

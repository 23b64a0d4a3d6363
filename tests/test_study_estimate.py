"""Sizing a study (wgan.studies.estimate, `wgan study --estimate`): each run's remaining steps and critic steps by
its own schedule, finished and interrupted runs, the pool's schedule, and that nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from wgan.cli import main
from wgan.config import Config, apply_sets
from wgan.studies import Study
from wgan.studies.estimate import estimate_study, makespan

TINY = ["train.checkpoint_every=2", "train.eval_every=4", "eval.n_samples=64", "data.batch_size=16",
        "generator.width=8", "generator.depth=1", "critic.width=8", "critic.depth=1"]


def test_makespan_follows_the_pools_order():
    assert makespan([5, 1, 1, 1], 2) == 5  # the long run first: the other worker takes the three short ones
    assert makespan([1, 1, 1, 5], 2) == 6  # the long run last: it starts when a worker frees up at 1
    assert makespan([1, 2, 3], 1) == 6
    assert makespan([], 3) == 0


def test_estimate_counts_each_runs_steps_and_writes_nothing(tmp_path: Path):
    base = apply_sets(Config(), ["train.steps=30", *TINY])
    study = Study("s", [{"label": "gp", "objective.name": "wgan-gp"},
                        {"label": "clip", "objective.name": "wgan", "train.critic_schedule": "wgan"}], [0], base)
    out = tmp_path / "study"
    gp, clip = estimate_study(study, out, probe=2, warmup=1)
    assert not out.exists()  # an estimate trains nothing and writes nothing
    assert (gp.status, gp.steps_left, gp.critic_steps_left) == ("todo", 30, 30 * 5)
    # WGAN's schedule: 100 critic steps for each of the first 25 generator steps, then n_critic (5)
    assert (clip.status, clip.steps_left, clip.critic_steps_left) == ("todo", 30, 25 * 100 + 5 * 5)
    for e in (gp, clip):
        assert e.critic_step_s > 0 and e.generator_step_s > 0
        assert e.seconds == pytest.approx(e.critic_steps_left * e.critic_step_s + 30 * e.generator_step_s)


def test_the_seeds_of_one_setting_are_timed_once(tmp_path: Path, monkeypatch):
    from wgan.studies import estimate

    timed = []
    monkeypatch.setattr(estimate, "_timed", lambda fn, n, device: timed.append(fn) or 0.01 * (len(timed) + 1))
    base = apply_sets(Config(), ["train.steps=6", *TINY])
    study = Study("s", [{"objective.name": "wgan-gp"}, {"objective.name": "ns-gan"}], [0, 1, 2], base)
    runs = estimate_study(study, tmp_path / "study", probe=1, warmup=0)
    assert len(runs) == 6 and len(timed) == 4  # one critic and one generator timing per setting, not per seed
    by_setting = {}
    for e in runs:
        by_setting.setdefault(e.label, set()).add((e.critic_step_s, e.generator_step_s))
    assert len(by_setting) == 2 and all(len(t) == 1 for t in by_setting.values())
    assert {e.seed for e in runs} == {0, 1, 2}


def test_estimate_of_finished_and_interrupted_runs(tmp_path: Path):
    from wgan.training.trainer import Trainer

    base = apply_sets(Config(), ["train.steps=4", *TINY])
    study = Study("s", [{"objective.name": "wgan-gp"}, {"objective.name": "ns-gan"}], [0], base)
    out = tmp_path / "study"
    done, half = study.runs()
    Trainer(study.config(done)).fit(out / "runs" / done.name)  # finished: its summary.json is written
    # the second run interrupted at a step-2 checkpoint: only its last 2 steps remain
    trainer = Trainer(study.config(half))
    trainer.train_step(), trainer.train_step()
    trainer.save_checkpoint(out / "runs" / half.name)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    a, b = estimate_study(study, out, probe=1, warmup=1)
    assert (a.status, a.seconds) == ("done", 0.0)
    assert (b.status, b.steps_left, b.critic_steps_left) == ("resume", 2, 2)  # ns-gan: 1 critic step each
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_study_estimate_command(tmp_path: Path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text('name = "tiny"\nseeds = [0, 1]\n[set]\n"train.steps" = 6\n"data.batch_size" = 16\n'
                    '"generator.width" = 8\n"critic.width" = 8\n[grid]\n"objective.name" = ["wgan-gp", "ns-gan"]\n')
    out = tmp_path / "out"
    assert main(["study", str(spec), "--out", str(out), "--estimate", "--workers", "2"]) == 0
    text = capsys.readouterr().out
    assert text.count("(todo, 6 steps)") == 4
    assert "tiny: 4 of 4 runs to train" in text and "with --workers 2" in text
    assert not out.exists()


def test_reproduce_estimate_sizes_the_study_reproductions(tmp_path: Path, capsys):
    out = tmp_path / "ra"
    assert main(["reproduce", "random-architectures", "--quick", "--n", "2", "--estimate", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("(todo, 3 steps)") == 4  # 2 architectures x (WGAN-GP, the GAN), --quick's 3 steps
    assert "random-architectures: 4 of 4 runs to train" in text
    assert not out.exists()  # no classifier trained, no study folder
    # a reproduction that is not a study is sized by its probe runs (wgan.experiments._budget, tests/test_budget.py)
    assert main(["reproduce", "simultaneous-gradients", "--steps", "50", "--estimate", "--out",
                 str(tmp_path / "e")]) == 0
    assert "simultaneous-gradients: ~" in capsys.readouterr().out
    assert not (tmp_path / "e").exists()

"""The study runner (wgan.studies): spec expansion, skip/resume, the aggregate against each run's summary.json,
and one tiny study on each backend (local process pool, local Ray with 2 CPUs)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from wgan.cli import main
from wgan.config import Config, apply_sets
from wgan.errors import ConfigError
from wgan.io import read_json
from wgan.studies import Study, load_spec, run_study, run_task
from wgan.studies.runner import Task, _record

TINY = """
name = "tiny"
seeds = [0, 1]
metric = "w1"
[set]
"train.steps" = 4
"train.log_every" = 2
"train.eval_every" = 4
"train.sample_every" = 4
"train.checkpoint_every" = 2
"eval.n_samples" = 64
"data.batch_size" = 16
[set.generator]
width = 8
depth = 1
[set.critic]
width = 8
depth = 1
[grid]
"objective.name" = ["wgan-gp", "ns-gan"]
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    """2 objectives x 2 seeds (the local pool) ..."""
    p = tmp_path / "tiny.toml"
    p.write_text(TINY)
    return p


@pytest.fixture
def spec1(tmp_path: Path) -> Path:
    """... and 2 objectives x 1 seed (Ray: its start-up is the cost)."""
    p = tmp_path / "tiny1.toml"
    p.write_text(TINY.replace("seeds = [0, 1]", "seeds = [0]"))
    return p


def _check_aggregate(out: Path, n_runs: int) -> None:
    """study.csv and study.md hold exactly what each run's summary.json says."""
    rows = list(csv.DictReader((out / "study.csv").open()))
    assert len(rows) == n_runs and all(r["status"] in ("done", "skipped", "resumed") for r in rows)
    by_point: dict[str, list[float]] = {}
    for r in rows:
        summary = read_json(out / "runs" / r["name"] / "summary.json")
        assert float(r["w1"]) == summary["w1"]
        by_point.setdefault(r["label"], []).append(summary["w1"])
    md = (out / "study.md").read_text()
    for label, values in by_point.items():
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
        line = next(x for x in md.splitlines() if x.startswith(f"| {label} |"))
        assert f"| {len(values)}/{len(values)} | {mean:.4g} ± {std:.2g} |" in line
    assert (out / "study.png").stat().st_size > 0


def test_spec_expansion(tmp_path: Path):
    p = tmp_path / "s.toml"
    p.write_text('seeds = [3, 5]\n[grid]\n"optim.lr" = [1e-4, 2e-4]\n[random]\nn = 3\nseed = 1\n'
                 '"critic.width" = {choice = [8, 16]}\n"optim.beta2" = {uniform = [0.5, 0.9]}\n'
                 '[[variants]]\nlabel = "a"\n"generator.width" = 4\n[[variants]]\n[variants.generator]\nwidth = 8\n')
    study = load_spec(p)
    runs = study.runs()
    assert len(runs) == 2 * 2 * 3 * 2  # variants x grid x draws x seeds
    assert len({r.name for r in runs}) == len(runs)
    assert load_spec(p).runs() == runs  # the same spec names the same runs (resume finds them)
    widths = {dict(r.overrides)["critic.width"] for r in runs}
    assert widths <= {8, 16}
    assert all(0.5 <= dict(r.overrides)["optim.beta2"] <= 0.9 for r in runs)
    assert study.config(runs[0]).train.seed == 3


@pytest.mark.parametrize("text,match", [
    ('bogus = 1', "unknown key"),
    ('[grid]\n"optim.lr" = 1e-4', "non-empty list"),
    ('[grid]\n"optim.nope" = [1]', "unknown key 'optim.nope'"),
    ('[random]\nn = 2\n"optim.lr" = {gauss = [0, 1]}', "expected one of"),
    ('[set]\n"train.steps" = "many"', "train.steps must be int"),
    ('seeds = 0', "seeds must be"),
])
def test_spec_errors(tmp_path: Path, text: str, match: str):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_spec(p)


def test_skip_resume_and_foreign_folders(tmp_path: Path):
    base = apply_sets(Config(), ["train.steps=4", "train.checkpoint_every=2", "train.eval_every=4",
                                 "eval.n_samples=64", "data.batch_size=16", "generator.width=8", "critic.width=8"])
    study = Study("s", [{"objective.name": "wgan-gp"}], [0], base)
    run = study.runs()[0]
    task = Task(run.name, run.label, 0, study.config(run).to_dict(), str(tmp_path / run.name), _record(study, run))
    # an interrupted run: a checkpoint at step 2 and no summary -> resumed to the end
    from wgan.training.trainer import Trainer

    Trainer(apply_sets(study.config(run), ["train.steps=2"])).fit(tmp_path / run.name)
    (tmp_path / run.name / "summary.json").unlink()
    res = run_task(task)
    assert res.status == "resumed" and res.summary["steps"] == 4
    assert run_task(task).status == "skipped"
    # a folder that holds another run's record is refused, not overwritten
    other = Task(task.name, task.label, 1, task.config, str(tmp_path / "other"), {**task.record, "seed": 1})
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "study_run.json").write_text(json.dumps(task.record))
    res = run_task(other)
    assert res.status == "failed" and "belongs to another run" in res.error
    # a run that died before its first checkpoint is moved aside (kept), then trained afresh
    (tmp_path / "dead").mkdir()
    (tmp_path / "dead" / "metrics.jsonl").write_text("{}\n")
    res = run_task(Task(task.name, task.label, 0, task.config, str(tmp_path / "dead"), task.record))
    assert res.status == "done" and (tmp_path / "dead.incomplete-1" / "metrics.jsonl").is_file()


def test_tiny_study_local_pool_then_resume(spec1: Path, tmp_path: Path, capsys):
    out = tmp_path / "local"
    assert main(["study", str(spec1), "--out", str(out), "--workers", "2"]) == 0
    _check_aggregate(out, 2)
    err = capsys.readouterr().err
    assert err.count("] done ") == 2  # one line per finished run
    # half-done: remove one run's summary; the second call trains only that one
    victim = next((out / "runs").iterdir())
    (victim / "summary.json").unlink()
    report = run_study(load_spec(spec1), out, workers=1, progress=False)
    assert sorted(r.status for r in report.results) == ["resumed", "skipped"]
    _check_aggregate(out, 2)


def test_finished_runs_with_other_settings_are_refused(spec1: Path, tmp_path: Path):
    """Run names come from the points' own overrides, so the same spec with another study-wide setting finds the
    same folders: their summaries must not be reused as if they were this study's."""
    out = tmp_path / "s"
    report = run_study(load_spec(spec1), out, workers=1, progress=False)
    assert not report.failed
    before = {p.name: (p / "summary.json").read_bytes() for p in (out / "runs").iterdir()}
    spec1.write_text(spec1.read_text().replace('"train.steps" = 4', '"train.steps" = 6'))
    with pytest.raises(ConfigError, match=r"finished with other settings \(train\.steps 4 there, 6 here\)"):
        run_study(load_spec(spec1), out, workers=1, progress=False)
    assert {p.name: (p / "summary.json").read_bytes() for p in (out / "runs").iterdir()} == before  # untouched
    assert read_json(out / "study.json")["common"]["train.steps"] == 4  # nor the study's own record
    # the same settings again: skipped, read back
    spec1.write_text(spec1.read_text().replace('"train.steps" = 6', '"train.steps" = 4'))
    assert {r.status for r in run_study(load_spec(spec1), out, workers=1, progress=False).results} == {"skipped"}
    # a finished folder without its record is not taken for this study's run either
    (next((out / "runs").iterdir()) / "study_run.json").unlink()
    with pytest.raises(ConfigError, match="no study_run.json"):
        run_study(load_spec(spec1), out, workers=1, progress=False)


def test_spec_with_two_seeds_names_distinct_runs(spec: Path):
    runs = load_spec(spec).runs()
    assert len(runs) == 4 and len({r.name for r in runs}) == 4


def test_tiny_study_ray_local(spec1: Path, tmp_path: Path):
    pytest.importorskip("ray")
    out = tmp_path / "ray"
    report = run_study(load_spec(spec1), out, backend="ray", ray_local_cpus=2, progress=False)
    assert not report.failed and len(report.results) == 2
    _check_aggregate(out, 2)

"""The `wgan` command line end to end on tiny runs, and its one-line errors."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from wgan.cli import main
from wgan.io import read_json
from wgan.kinds import KINDS

from .helpers import TINY

TINY_ARGS = [a for s in TINY for a in ("--set", s)]


def _run_dir(root):
    (run,) = [p for p in root.iterdir() if p.is_dir()]
    return run


def test_train_eval_sample_resume(tmp_path, capsys):
    root = tmp_path / "runs"
    assert main(["train", "--out", str(root), "--objective", "wgan-gp", "--seed", "3", *TINY_ARGS]) == 0
    out = capsys.readouterr().out
    run = _run_dir(root)
    assert run.name == "00000-8gaussians-wgan-gp"
    assert "W1 = " in out and "floor" in out and str(run) in out
    summary = read_json(run / "summary.json")
    assert summary["steps"] == 4 and summary["w1_floor"] > 0
    assert json.loads((run / "config.json").read_text())["config"]["train"]["seed"] == 3

    # eval recomputes the same figure from the checkpoint
    assert main(["eval", str(run)]) == 0
    assert read_json(run / "eval.json")["w1"] == pytest.approx(summary["w1"])

    # sample into every supported format; an existing file is never overwritten without --force
    for ext in ("npy", "csv", "png"):
        assert main(["sample", str(run), "--n", "50", "--out", str(tmp_path / f"s.{ext}")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (50, 2)
    assert np.loadtxt(tmp_path / "s.csv", delimiter=",").shape == (50, 2)
    capsys.readouterr()
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "s.npy")]) == 2
    assert "exists" in capsys.readouterr().err
    assert np.load(tmp_path / "s.npy").shape == (50, 2)

    # resume to a larger total: the headline gives this session's time and the training time of all sessions
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--steps", "6"]) == 0
    out = capsys.readouterr().out
    assert "this session" in out and "(steps 4-6," in out and "training over all sessions" in out
    assert read_json(run / "summary.json")["steps"] == 6
    assert [json.loads(r)["step"] for r in (run / "metrics.jsonl").read_text().splitlines()] == [2, 4, 6]


def test_each_train_makes_a_new_run_dir(tmp_path):
    root = tmp_path / "runs"
    for _ in range(2):
        assert main(["train", "--out", str(root), *TINY_ARGS]) == 0
    assert sorted(p.name[:5] for p in root.iterdir()) == ["00000", "00001"]


def test_config_file_and_dry_run(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[objective]\nname = "wgan"\n[train]\nsteps = 7\n')
    assert main(["train", "--config", str(cfg), "--dry-run", "--set", "objective.clip=0.02"]) == 0
    out = capsys.readouterr().out
    assert 'name = "wgan"' in out and "clip = 0.02" in out and "steps = 7" in out and 'name = "rmsprop"' in out


def test_objective_flag_resets_hyperparameters_to_its_paper_defaults(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[objective]\npenalty_weight = 0.1\n[optim]\nlr = 0.001\n")
    assert main(["train", "--config", str(cfg), "--objective", "wgan", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "lr = 5e-05" in out and "clip = 0.01" in out and 'penalty = "none"' in out


@pytest.mark.parametrize("argv,needle", [
    (["train", "--objective", "wgann"], "unknown objective 'wgann'"),
    (["train", "--set", "objective.lamda=1"], "did you mean objective.penalty_weight"),
    (["train", "--set", "train.steps=many"], "train.steps must be int"),
    (["train", "--data", "missing.npy"], "missing.npy"),
    (["train", "--config", "nope.toml"], "nope.toml"),
    (["train", "--resume", "no-such-run"], "no checkpoint"),
    (["eval", "no-such-run"], "no checkpoint"),
])
def test_bad_input_is_one_clear_line(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_resume_refuses_config_changes(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path), *TINY_ARGS]) == 0
    run = _run_dir(tmp_path)
    assert main(["train", "--resume", str(run), "--objective", "wgan"]) == 2
    assert "--objective" in capsys.readouterr().err


def test_list_names_everything(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("wgan", "wgan-gp", "wgan-lp", "m-gan", "ns-gan", "gan-gp", "dragan-ns", "lsgan", "8gaussians",
                 "25gaussians", "swissroll", "data-plus-noise", "w1_exact_2k", "dragan"):
        assert name in out


def test_console_script_installed():
    """`wgan` is on PATH after `pip install -e .` (the README's set-up step) and answers --help."""
    exe = shutil.which("wgan")
    assert exe is not None, "the wgan console script is not installed: run pip install -e '.[dev]'"
    r = subprocess.run([exe, "train", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--resume" in r.stdout and "--dry-run" in r.stdout


def test_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "wgan.cli", "list"], capture_output=True, text=True)
    assert r.returncode == 0 and "wgan-gp" in r.stdout


def test_only_the_program_skips_the_final_collection(monkeypatch, capsys):
    """main() as the `wgan` program (arguments from sys.argv) freezes the live objects so that the exit does not
    walk them; main(argv) in a caller's process, where they would never be collected, never does."""
    import gc

    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    assert main(["list"]) == 0 and frozen == []
    monkeypatch.setattr(sys, "argv", ["wgan", "list"])
    assert main() == 0 and frozen == [True]
    monkeypatch.setattr(sys, "argv", ["wgan", "train", "--set", "no.such=1"])
    assert main() == 2 and frozen == [True, True]  # an error's exit too
    assert "unknown section 'no'" in capsys.readouterr().err


def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path):
    """A real SIGINT to `wgan train`: the step finishes, a checkpoint is written, the exit code is 130 and
    the message names the resume command; the run then resumes to completion."""
    import os
    import signal
    import time

    root = tmp_path / "runs"
    cmd = [shutil.which("wgan") or "wgan", "train", "--out", str(root), *TINY_ARGS,
           "--set", "train.steps=100000", "--set", "train.log_every=1", "--set", "train.checkpoint_every=100000",
           "--set", "train.eval_every=100000", "--set", "train.sample_every=100000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.time() + 60
    while time.time() < deadline:
        runs = list(root.iterdir()) if root.exists() else []
        if runs and (runs[0] / "metrics.jsonl").exists() and (runs[0] / "metrics.jsonl").stat().st_size > 0:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    run = _run_dir(root)
    assert f"wgan train --resume {run}" in err
    from wgan.training.trainer import load_checkpoint

    step = load_checkpoint(run)["step"]
    assert step >= 1
    assert main(["train", "--resume", str(run), "--steps", str(step + 2)]) == 0
    assert read_json(run / "summary.json")["steps"] == step + 2


def test_demo_is_the_default_config(capsys):
    """`wgan train` with no --config runs the packaged demo (WGAN-GP, authors' toy lambda and betas)."""
    assert main(["train", "--dry-run"]) == 0
    out = capsys.readouterr().out
    for line in ('name = "wgan-gp"', "penalty_weight = 0.1", "beta1 = 0.5", "width = 128", "steps = 3500"):
        assert line in out


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_data_kind_picks_the_starting_config(kind, tmp_path, capsys):
    """With no --config, --data naming images or a text corpus starts from that kind's config (DCGAN nets at
    32x32 with lambda 10; the authors' language model at a small width), and every start config trains."""
    data = {"images": "digits", "points": "25gaussians"}.get(kind)
    if kind == "text":
        data = str(tmp_path / "corpus.txt")
        (tmp_path / "corpus.txt").write_text("the cat sat on the mat\na dog ran far away\n" * 60, encoding="utf-8")
    assert main(["train", "--data", data, "--dry-run"]) == 0
    out = capsys.readouterr().out
    expected = {"images": ['net = "dcgan"', "image_size = 32", "penalty_weight = 10.0", "latent_dim = 128"],
                "text": ['net = "conv1d"', "n_critic = 10", "penalty_weight = 10.0", "seq_len = 32"],
                "points": ['net = "mlp"', "penalty_weight = 0.1", "latent_dim = 2"]}[kind]
    for line in expected:
        assert line in out, line
    if kind == "points":
        return
    tiny = ["--set", "generator.width=4", "--set", "critic.width=4", "--set", "eval.n_samples=64",
            "--set", "data.batch_size=8"] + (["--set", "generator.depth=1", "--set", "critic.depth=1",
                                               "--set", "data.val_size=16"] if kind == "text" else [])
    assert main(["train", "--data", data, "--steps", "2", "--out", str(tmp_path / "runs"), *tiny]) == 0
    assert (_run_dir(tmp_path / "runs") / "summary.json").exists()

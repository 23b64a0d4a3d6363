"""Ctrl-C with real SIGINTs in subprocesses: a run always checkpoints and exits 130, whatever happened to its
output (a reader that died, like `tee` after the same Ctrl-C), also in the middle of a checkpoint write; a
reproduction stops with one line and keeps its finished runs.

The cases run side by side (one process each) to keep the test's wall time near one command's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wgan.rundir import load_checkpoint

SRC = str(Path(__file__).resolve().parents[1] / "src")
TINY = ["--set", "generator.width=16", "--set", "critic.width=16", "--set", "data.batch_size=32",
        "--set", "train.log_every=1", "--set", "train.checkpoint_every=10", "--set", "train.eval_every=100000",
        "--set", "train.sample_every=100000", "--set", "eval.n_samples=200"]

# Runs the CLI with os.fsync patched: while a checkpoint's temporary file is synced, Ctrl-C arrives (once: finish
# the write and stop; twice: stop at once, inside the write). Deterministic, unlike a timed kill.
DURING_WRITE = """
import os, signal, sys
times, which = int(sys.argv[1]), int(sys.argv[2])
real_fsync, seen = os.fsync, []
def fsync(fd):
    if ".latest.pt." in os.readlink(f"/proc/self/fd/{fd}"):
        seen.append(fd)
        if len(seen) == which:
            for _ in range(times):
                os.kill(os.getpid(), signal.SIGINT)
    return real_fsync(fd)
os.fsync = fsync
from wgan.cli import main
sys.exit(main(sys.argv[3:]))
"""

# Runs a reproduction whose progress hook sends Ctrl-C as the third run starts, so two runs have finished and been
# kept (deterministic on a loaded machine, where a timed kill could arrive after the last run).
REPRO_AFTER_TWO = """
import os, signal, sys
from wgan import experiments
real_track = experiments.Progress.track
def track(self, items, part, label=str):
    for i, item in enumerate(real_track(self, items, part, label)):
        if i == 2:
            os.kill(os.getpid(), signal.SIGINT)
        yield item
experiments.Progress.track = track
signal.signal(signal.SIGINT, signal.default_int_handler)  # a terminal's Ctrl-C, even if this test runs in a
# background job (which starts with SIGINT ignored, inherited by its children)
from wgan.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _wait_for(pred, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if proc.poll() is not None:
            raise AssertionError(f"process ended early with {proc.returncode}")
        if time.monotonic() > end:
            proc.kill()
            raise AssertionError("timed out waiting for the process")
        time.sleep(0.1)


def _step(checkpoint: Path) -> int:
    return int(load_checkpoint(checkpoint.parent.parent)["step"])  # the checksummed envelope's state


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the checkpoint-write case reads /proc/self/fd")
def test_ctrl_c_checkpoints_and_exits_130(tmp_path):
    env = _env()
    train = [sys.executable, "-m", "wgan.cli", "train", "--steps", "100000", *TINY, "--out"]
    # 1. the reader of stdout/stderr died before the Ctrl-C (`| head -1`, `| tee` killed by the same Ctrl-C)
    piped = subprocess.Popen([*train, str(tmp_path / "piped")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env=env)
    # 2./3. Ctrl-C once during the first checkpoint write; twice during the second one
    once = subprocess.Popen([sys.executable, "-c", DURING_WRITE, "1", "1", *train[3:], str(tmp_path / "once")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    twice = subprocess.Popen([sys.executable, "-c", DURING_WRITE, "2", "2", *train[3:], str(tmp_path / "twice")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    # 4. Ctrl-C twice inside the very first checkpoint write: nothing to resume, and the message says so
    first = subprocess.Popen([sys.executable, "-c", DURING_WRITE, "2", "1", *train[3:], str(tmp_path / "first")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    # 5. a reproduction, stopped after some of its runs finished
    repro_out = tmp_path / "repro"
    repro = subprocess.Popen([sys.executable, "-c", REPRO_AFTER_TWO, "reproduce", "improved-techniques", "--quick",
                              "--out", str(repro_out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             text=True)

    assert piped.stdout.readline().startswith(b"run directory:")
    piped.stdout.close()  # nobody reads any more: every later write fails with EPIPE
    _wait_for(lambda: any(p.stat().st_size for p in (tmp_path / "piped").glob("*/metrics.jsonl")), piped)
    piped.send_signal(signal.SIGINT)

    assert piped.wait(timeout=120) == 130
    (ckpt,) = (tmp_path / "piped").glob("*/checkpoints/latest.pt")
    assert _step(ckpt) >= 1

    out, _ = once.communicate(timeout=120)
    assert once.returncode == 130, out
    (ckpt,) = (tmp_path / "once").glob("*/checkpoints/latest.pt")
    assert _step(ckpt) == 10  # the write finished, then the run stopped
    assert "checkpoint at step 10:" in out and "resume with: wgan train --resume" in out

    out, _ = twice.communicate(timeout=120)
    assert twice.returncode == 130, out
    (ckpt,) = (tmp_path / "twice").glob("*/checkpoints/latest.pt")
    assert _step(ckpt) == 10  # the interrupted second write left the first checkpoint intact
    assert not list(ckpt.parent.glob(".*tmp"))  # and no half-written temporary file
    assert "checkpoint at step 10 (stopped at step 20" in out  # the message names the step latest.pt holds

    out, _ = first.communicate(timeout=120)
    assert first.returncode == 130, out
    assert "before the first checkpoint: nothing to resume" in out
    assert not list((tmp_path / "first").glob("*/checkpoints/latest.pt"))

    out, err = repro.communicate(timeout=120)
    assert repro.returncode == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert "interrupted after" in last and ", during toy part, run " in last, err
    assert "not written" in last and "finished run(s)" in last, err
    assert not (repro_out / "results.json").exists()
    assert len(list((repro_out / "runs").glob("*.json"))) >= 2  # finished runs kept



STUDY = """
name = "orphan"
seeds = [0]
[set]
"objective.name" = "wgan-gp"
"train.steps" = 100000
"train.checkpoint_every" = 10
"train.eval_every" = 100000
"train.sample_every" = 100000
"eval.n_samples" = 64
"data.batch_size" = 16
"generator.width" = 8
"critic.width" = 8
"""


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, dead but not reaped by whoever adopted it, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds the study's workers in /proc")
def test_killing_a_study_ends_its_workers(tmp_path):
    """``kill`` (SIGTERM) sent to ``wgan study`` alone, not to its process group as a terminal's Ctrl-C is: the
    pool's workers used to outlive it, the busy one training its run on, holding the run's lock, for as long as the
    run took. Now the busy worker saves a checkpoint of its run and exits, the idle one exits, and the run can be
    resumed."""
    spec = tmp_path / "orphan.toml"
    spec.write_text(STUDY)
    out = tmp_path / "study"
    parent = subprocess.Popen([sys.executable, "-m", "wgan.cli", "study", str(spec), "--out", str(out),
                               "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(),
                              start_new_session=True)  # its own process group: the signal reaches the parent only
    try:
        _wait_for(lambda: list(out.glob("runs/*/checkpoints/latest.pt")), parent)
        (run_dir,) = (p.parents[1] for p in out.glob("runs/*/checkpoints/latest.pt"))
        busy = int((run_dir / ".lock").read_text())
        children = _children(parent.pid)  # the two workers (one run: one of them waits for work) and any helper
        assert busy in children and len(children) >= 2 and _alive(busy)
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == -signal.SIGTERM
        end = time.monotonic() + 60
        while any(map(_alive, children)) and time.monotonic() < end:
            time.sleep(0.1)
        assert not [c for c in children if _alive(c)], "a worker outlived the study it belonged to"
    finally:
        try:
            os.killpg(parent.pid, signal.SIGKILL)  # whatever is left of the group, were the test to fail
        except ProcessLookupError:
            pass
        parent.wait()
    from wgan.rundir import RunLock
    from wgan.studies.runner import run_state

    assert run_state(run_dir) == "interrupted"  # a checkpoint and no summary: the next `wgan study` resumes it
    assert _step(run_dir / "checkpoints" / "latest.pt") >= 10
    with RunLock(run_dir) as lock:  # free, and its last holder was the worker
        assert lock.took_over_from is None

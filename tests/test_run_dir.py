"""The run directory (wgan.rundir): checksummed checkpoints, leftovers from killed writers, the run lock, full disks."""

import errno
import json
import os
import subprocess
import sys

import pytest
import torch

import wgan.rundir as run_mod
from wgan import Trainer
from wgan.cli import main
from wgan.errors import ConfigError
from wgan.rundir import CheckpointWriteError, RunLock, load_checkpoint

from .helpers import tiny_config


@pytest.fixture
def run_dir(tmp_path):
    Trainer(tiny_config()).fit(tmp_path)
    return tmp_path


def test_a_flipped_byte_inside_a_tensor_is_reported_as_damage(run_dir, capsys):
    latest = run_dir / "checkpoints" / "latest.pt"
    weight = next(iter(load_checkpoint(run_dir)["generator"].values())).numpy().tobytes()
    data = bytearray(latest.read_bytes())
    at = data.find(weight)  # the tensor's bytes, stored raw inside the checkpoint
    assert at > 0
    data[at + len(weight) // 2] ^= 0x01  # one bit of one float
    latest.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="is damaged: its contents do not match the sha256"):
        load_checkpoint(run_dir)
    capsys.readouterr()
    assert main(["sample", str(run_dir), "--n", "4", "--out", str(run_dir / "s.npy")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "damaged" in err[0] and "weights_only=False" not in err[0]


def test_a_truncated_checkpoint_is_damaged_not_a_weights_only_hint(run_dir):
    latest = run_dir / "checkpoints" / "latest.pt"
    latest.write_bytes(latest.read_bytes()[:1000])
    with pytest.raises(ConfigError, match="damaged") as e:
        load_checkpoint(run_dir)
    assert "weights_only" not in str(e.value)


def test_stale_tmp_files_of_the_run_are_removed_at_its_next_start(run_dir):
    ckpt = run_dir / "checkpoints"
    stale = [ckpt / ".latest.pt.k2j4x9.tmp", ckpt / ".step-0000002.pt.a1b2c3.tmp", run_dir / ".metrics.jsonl.zz.tmp"]
    for p in stale:
        p.write_bytes(b"half a checkpoint")  # what a kill -9 during atomic_write leaves
    other = run_dir / ".eval.json.q1.tmp"  # wgan eval writes without the run lock: never touched
    other.write_bytes(b"{")
    Trainer.resume(run_dir, steps=6).fit(run_dir)
    assert not any(p.exists() for p in stale) and other.exists()


def _holder(run_dir) -> subprocess.Popen:
    code = ("import sys, time; from pathlib import Path; from wgan.rundir import RunLock; "
            "RunLock(Path(sys.argv[1])).acquire(); print('locked', flush=True); time.sleep(60)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    p = subprocess.Popen([sys.executable, "-c", code, str(run_dir)], stdout=subprocess.PIPE, text=True, env=env)
    assert p.stdout.readline().strip() == "locked"
    return p


def test_a_live_lock_refuses_a_second_trainer_in_one_line(run_dir, capsys):
    holder = _holder(run_dir)
    try:
        with pytest.raises(ConfigError, match=f"in use: wgan process {holder.pid} is training into it"):
            Trainer.resume(run_dir, steps=6).fit(run_dir)
        capsys.readouterr()
        assert main(["train", "--resume", str(run_dir), "--steps", "6"]) == 2
        err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("resuming ")]
        assert len(err) == 1 and f"wgan process {holder.pid}" in err[0]
        assert load_checkpoint(run_dir)["step"] == 4  # nothing was written into the locked run
    finally:
        holder.kill()
        holder.wait()
    # the holder died: its lock is stale and the next run takes it over
    lock = RunLock(run_dir).acquire()
    assert lock.took_over_from == holder.pid and (run_dir / ".lock").read_text().strip() == str(os.getpid())
    lock.release()
    assert Trainer.resume(run_dir, steps=6).fit(run_dir)["steps"] == 6
    assert (run_dir / ".lock").read_text() == ""  # released on exit


def test_a_full_disk_during_a_checkpoint_says_the_previous_one_survived(run_dir, monkeypatch):
    latest = run_dir / "checkpoints" / "latest.pt"
    before = latest.read_bytes()

    def full(path, write):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_mod, "atomic_write", full)
    with pytest.raises(CheckpointWriteError) as e:
        Trainer.resume(run_dir, steps=6).fit(run_dir)
    msg = str(e.value)
    assert "\n" not in msg and "disk full" in msg and "the previous latest.pt is intact" in msg
    assert latest.read_bytes() == before and torch.load(latest, weights_only=True)["wgan_checkpoint"] == 1


def test_atomically_written_files_get_the_umask_mode(run_dir):
    mask = os.umask(0o022)
    os.umask(mask)
    for p in (run_dir / "checkpoints" / "latest.pt", run_dir / "summary.json", run_dir / "config.json"):
        assert p.stat().st_mode & 0o777 == 0o666 & ~mask


def test_run_numbers_are_unique_across_data_names(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from wgan.rundir import create_run_dir

    names = ["8gaussians", "25gaussians", "swissroll"] * 4
    with ThreadPoolExecutor(6) as pool:
        made = list(pool.map(lambda n: create_run_dir(tmp_path, n, "wgan-gp"), names))
    assert sorted(p.name[:5] for p in made) == [f"{i:05d}" for i in range(12)]


def test_a_damaged_metrics_line_in_the_middle_keeps_the_records_after_it(run_dir):
    metrics = run_dir / "metrics.jsonl"
    lines = metrics.read_text().splitlines()  # steps 2, 4
    metrics.write_text(lines[0] + "\n{not json\n" + lines[1] + "\n")
    with pytest.warns(UserWarning, match="line 2 is not valid JSON; skipped it"):
        tr = Trainer.resume(run_dir, steps=6)
        tr.fit(run_dir)
    steps = [json.loads(r)["step"] for r in metrics.read_text().splitlines()]
    assert steps == [2, 4, 6]

"""Ctrl-C with real SIGINTs, case by case: exit status and what was kept (issue 16's table).

    python benchmarks/interrupt_cases.py SRC OUT_DIR     # SRC: the src/ folder of the wgan to measure

Cases: plain; `2>&1 | tee` with Ctrl-C sent to the whole process group (what a terminal does: tee dies too);
a reader that has gone (`| head -1`); Ctrl-C once / twice inside a checkpoint write (os.fsync patched, as in
tests/test_interrupt.py); `wgan reproduce improved-techniques --quick` stopped after two finished runs. Prints
one JSON row per case: [case, exit status, what was kept, last line of output].
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TINY = ("--set generator.width=16 --set critic.width=16 --set data.batch_size=32 --set train.log_every=1 "
        "--set train.checkpoint_every=10 --set train.eval_every=100000 --set train.sample_every=100000 "
        "--set eval.n_samples=200").split()
TEST = Path(__file__).resolve().parents[1] / "tests" / "test_interrupt.py"
DURING_WRITE = TEST.read_text().split('DURING_WRITE = """')[1].split('"""')[0]


def wait_for(pred, timeout: float = 600.0) -> None:
    end = time.time() + timeout
    while not pred() and time.time() < end:
        time.sleep(0.2)


def kept(d: Path) -> str:
    import torch

    ck = list(d.glob("*/checkpoints/latest.pt"))
    if not ck:
        return "no checkpoint"
    tmp = list(ck[0].parent.glob(".*tmp"))
    step = torch.load(ck[0], map_location="cpu", weights_only=False)["step"]
    return f"latest.pt at step {step}" + (f", {len(tmp)} temporary files" if tmp else "")


def started(d: Path):
    return lambda: any(p.stat().st_size for p in d.glob("*/metrics.jsonl"))


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def main() -> None:
    src, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    # a shell's background job starts with SIGINT ignored and children inherit that: restore the default, so that
    # the processes below react to SIGINT as under a terminal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    env = {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    train = [sys.executable, "-m", "wgan.cli", "train", "--steps", "100000", *TINY, "--out"]

    def row(*r) -> None:
        print(json.dumps(r), flush=True)

    d = out / "plain"
    p = subprocess.Popen([*train, str(d)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    wait_for(started(d))
    p.send_signal(signal.SIGINT)
    _, err = p.communicate()
    row("plain", p.returncode, kept(d), last_line(err))

    d = out / "tee"
    cmd = " ".join([*train, str(d)]) + f" 2>&1 | tee {out}/tee.log; echo ${{PIPESTATUS[0]}} > {out}/tee.rc"
    p = subprocess.Popen(["bash", "-c", cmd], env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    wait_for(started(d))
    os.killpg(p.pid, signal.SIGINT)
    p.wait()
    wait_for(lambda: (out / "tee.rc").exists(), 60)
    rc = (out / "tee.rc").read_text().strip() if (out / "tee.rc").exists() else "?"
    row("| tee, Ctrl-C to the process group", rc, kept(d), last_line((out / "tee.log").read_text()))

    d = out / "head"
    p = subprocess.Popen([*train, str(d)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    p.stdout.readline()
    p.stdout.close()
    wait_for(started(d))
    p.send_signal(signal.SIGINT)
    p.wait()
    row("| head -1 (reader gone)", p.returncode, kept(d), "(nobody reads)")

    for times, which, name in ((1, 1, "once, during the step-10 checkpoint write"),
                               (2, 2, "twice, during the step-20 checkpoint write"),
                               (2, 1, "twice, during the first checkpoint write")):
        d = out / f"write-{times}-{which}"
        p = subprocess.run([sys.executable, "-c", DURING_WRITE, str(times), str(which), *train[3:], str(d)],
                           capture_output=True, text=True, env=env)
        row(name, p.returncode, kept(d), last_line(p.stderr))

    d = out / "repro"
    p = subprocess.Popen([sys.executable, "-m", "wgan.cli", "reproduce", "improved-techniques", "--quick", "--out",
                          str(d)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    wait_for(lambda: len(list((d / "runs").glob("*.json"))) >= 2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate()
    n_runs = len(list((d / "runs").glob("*.json")))
    results = "written" if (d / "results.json").exists() else "absent"
    row("reproduce improved-techniques --quick", p.returncode, f"{n_runs} runs in runs/, results.json {results}",
        f"{err.count('Traceback')} tracebacks, {len(err.splitlines())} lines on stderr; last: {last_line(err)}")


if __name__ == "__main__":
    main()

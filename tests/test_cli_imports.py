"""The command line answers --help without importing torch, and `wgan list` without the heavy libraries that
only training, evaluation and plotting use (each costs seconds of import on a loaded machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
HEAVY = ("torch", "torchvision", "torchmetrics", "ot", "scipy", "sklearn", "matplotlib")

# run `python -m wgan.cli ARGS` in this process, then report which heavy modules it imported
PROBE = """
import contextlib, io, json, runpy, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["wgan", *json.loads(sys.argv[1])]
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        runpy.run_module("wgan.cli", run_name="__main__")
    except SystemExit as e:
        code = e.code
print(json.dumps({"code": code, "out": out.getvalue(), "imported": [m for m in heavy if m in sys.modules]}))
"""


def _probe(*args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_help_imports_no_torch():
    for args in (["--help"], ["train", "--help"], ["reproduce", "--help"]):
        r = _probe(*args)
        assert r["code"] == 0 and "usage: wgan" in r["out"]
        assert r["imported"] == [], (args, r["imported"])


def test_list_imports_torch_alone():
    r = _probe("list")
    assert r["code"] == 0 and "objectives" in r["out"] and "8gaussians" in r["out"]
    assert set(r["imported"]) <= {"torch"}, r["imported"]  # the name tables live in modules built on torch

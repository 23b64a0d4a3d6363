"""benchmarks/gpu_check.sh runs (its tiny CPU variant without a GPU), exits 0 and writes its table as JSON."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_runs_its_cpu_variant(tmp_path):
    out = tmp_path / "table.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--out", str(out), "--cpu"],
                          env=env, capture_output=True, text=True, timeout=300, executable=None)
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = json.loads(out.read_text())
    names = [r["row"] for r in table["rows"]]
    assert names == ["resnet32 eager", "resnet32 +amp", "resnet32 +amp+channels-last", "resnet32 +compile",
                     "mnist-conv 28x28", "dcgan16 folder"]
    timed = [r for r in table["rows"] if "skipped" not in r]
    assert all(r["s_per_step"] > 0 for r in timed) and "data_wait_s_per_critic_step" in timed[-1]
    assert "tiny variant" in table["device"] and sys.executable

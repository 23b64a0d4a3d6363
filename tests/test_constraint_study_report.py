"""benchmarks/constraint_study_report.py: the constraint study's table is computed from the study's aggregate
(study.csv, study.json), with Student-t intervals, failed runs named as divergence and refused cells listed."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from pathlib import Path

from scipy import stats

ROOT = Path(__file__).resolve().parents[1]


def _report():
    spec = importlib.util.spec_from_file_location("constraint_study_report",
                                                  ROOT / "benchmarks" / "constraint_study_report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _study(tmp_path: Path) -> Path:
    rows = []
    for seed, (ratio, modes) in enumerate([(2.0, 8), (4.0, 7), (3.0, 8)]):  # gp, wasserstein, 8 Gaussians
        rows.append({"name": f"gp-{seed}", "label": "gp,wasserstein,8gaussians", "seed": seed, "status": "done",
                     "wall_time_s": 10.0, "w1_over_floor": ratio, "w1_floor": 0.05, "modes_covered": modes,
                     "precision": 0.9, "recall": 0.8, "train_time_s": 8.0})
    for seed in range(3):  # clip, non-saturating: two collapsed runs and one that diverged
        ok = seed < 2
        rows.append({"name": f"clip-{seed}", "label": "clip,ns,8gaussians", "seed": seed,
                     "status": "done" if ok else "failed", "wall_time_s": 5.0 if ok else "",
                     "w1_over_floor": 30.0 if ok else "",
                     "w1_floor": 0.05 if ok else "", "modes_covered": 1 if ok else "", "precision": 0.95 if ok else "",
                     "recall": 0.1 if ok else "", "train_time_s": 4.0 if ok else ""})
    rows.append({"name": "sn-0", "label": "sn,hinge,8gaussians", "seed": 0, "status": "todo"})  # not run yet
    keys = list(rows[0])
    (tmp_path / "runs" / "clip-2").mkdir(parents=True)
    (tmp_path / "runs" / "clip-2" / "error.txt").write_text("Traceback ...\nTrainingDiverged: non-finite loss\n")
    with (tmp_path / "study.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, keys, restval="")
        w.writeheader()
        w.writerows(rows)
    refused = [{"label": "r1,wasserstein,8gaussians", "overrides": [], "reason": "unbounded critic"}]
    (tmp_path / "study.json").write_text(json.dumps({"refused": refused}))
    return tmp_path


def test_table_is_computed_from_the_aggregate(tmp_path: Path):
    mod = _report()
    text = mod.tables(_study(tmp_path))
    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)  # ratios 2, 4, 3: mean 3, sample std 1
    row = next(x for x in text.splitlines() if x.startswith("| gp | Wasserstein |"))
    assert f"| 3/3 | 3 [{3 - half:.3g}, {3 + half:.3g}] |" in row
    assert "mode dropping" not in row  # 7.67 of 8 modes: kept (>= 90%)
    clip = next(x for x in text.splitlines() if x.startswith("| clip | non-saturating |"))
    assert "| 2/3 | 30 [30, 30] |" in clip
    assert "diverged in 1 of 3 seeds" in clip and "collapse onto one mode (modes 1/8, recall 0.10)" in clip
    assert "| r1 | Wasserstein | refused |" in text and "unbounded critic" in text
    assert "clip-2: TrainingDiverged: non-finite loss" in text
    assert "| gp | hinge | 0/0 |" in text  # a cell with no run in the study's table
    assert "| sn | hinge | 0/1 | – | – | – | – | 1 of 1 seeds not run yet |" in text
    assert "(7 runs: 5 finished, 1 failed, 1 not run yet; 1 point(s) refused)" in text
    assert "add up to 40 s (their training loops 32 s of it" in text


def test_failure_modes_read_precision_and_recall_before_the_modes():
    mod = _report()

    def named(modes: float, prec: float, rec: float) -> str:
        return mod.toy_failures([{"status": "done", "w1_over_floor": "5", "modes_covered": str(modes),
                                  "precision": str(prec), "recall": str(rec)}], 8)

    assert named(0, 0.01, 1.0).startswith("diffuse")  # no mode hit, but the data reached: not a collapse
    assert named(0, 0.0, 0.0).startswith("off the data")
    assert named(1, 0.9, 0.1).startswith("collapse onto one mode")
    assert named(4, 0.9, 0.3).startswith("mode dropping (modes 4/8, recall 0.30)")
    assert named(6, 0.9, 0.8).startswith("mode dropping (modes 6/8)")
    assert named(8, 0.9, 0.8) == "no named failure, not converged (5x floor)"


def test_doc_section_is_replaced_and_figure_written(tmp_path: Path):
    mod = _report()
    study = _study(tmp_path / "study")
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{mod.BEGIN}\nold table\n{mod.END}\noutro\n")
    assert mod.main([str(study), "--doc", str(doc), "--figure", str(tmp_path / "f.png")]) == 0
    text = doc.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{mod.END}\noutro\n") and "old table" not in text
    assert "| gp | Wasserstein | 3/3 |" in text and (tmp_path / "f.png").stat().st_size > 0

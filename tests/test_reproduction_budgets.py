"""benchmarks/reproduction_budgets.py: a measurement whose probes would run for days is stopped at ``--cap-hours``
of CPU time and recorded as a lower bound that the table, the verdict table and the pages show as one."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from tests.helpers import spin
from wgan.experiments import EXPERIMENTS, Context, Result, _budget, register
from wgan.experiments._protocol import SETTINGS, Row
from wgan.experiments._report import paper_cost

ROOT = Path(__file__).resolve().parents[1]


def _script():
    path = ROOT / "benchmarks" / "reproduction_budgets.py"
    spec = importlib.util.spec_from_file_location("reproduction_budgets", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def slow():
    """A throwaway reproduction with ``fixed`` seconds of CPU work plus 1 ms per step (of 100,000 at the paper
    budget); a broad ``except Exception`` inside it must not swallow the cap."""
    name = "test-slow-probes"
    fixed = {"s": 0.0}

    @register(name, "WGAN", "nowhere", "probes for long", table=lambda ctx: [Row(s, "x", "", "x") for s in SETTINGS])
    def run(ctx: Context) -> Result:
        n = _budget.steps(ctx, quick=2, cpu=1000, paper=100_000)
        try:
            spin(fixed["s"] + 0.001 * n)
        except Exception:  # noqa: BLE001 -- as a reproduction that keeps going past one failing run
            pass
        return Result([], {})

    yield name, fixed
    EXPERIMENTS.pop(name)


def test_a_capped_measurement_records_a_lower_bound(slow, tmp_path: Path) -> None:
    name, fixed = slow
    script = _script()
    fixed["s"] = 5.0  # the first probe alone runs past the cap
    entry = script.measure(name, "paper", tmp_path, cap_s=0.5)
    assert entry["seconds"] is None and entry["cpu_seconds"] is None
    assert 0.4 <= entry["more_than_cpu_s"] < 2.5  # stopped at the cap of 0.5 s of CPU time (the timer counts in
    # ticks), not run out to 5 s
    assert "had not ended" in entry["how"] and f"wgan reproduce {name} --budget paper --estimate" in entry["how"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["measured"])  # the day: the machine's speed varies by day
    fixed["s"] = 1.0  # run a ends twice (its fixed cost is the bound); the cap comes in the first run b
    entry = script.measure(name, "paper", tmp_path, cap_s=2.5)
    assert 0.9 <= entry["more_than_cpu_s"] < 2.5 and "took" in entry["how"]
    assert script.cell(entry).startswith("more than ")
    bounded = entry
    # runs b end, but the cap comes before one adds the 5 s (MIN_EXTRA_S) the rule asks for over run a: the same
    # extrapolation from the longest run b that ended, said to be less precise
    fixed["s"] = 0.3
    entry = script.measure(name, "paper", tmp_path, cap_s=3.0)
    assert entry["cpu_seconds"] == pytest.approx(0.3 + 0.001 * 100_000, rel=0.3) and "more_than_cpu_s" not in entry
    assert "less precisely than the others" in entry["how"] and "of the 5 s asked for" in entry["how"]
    assert not script.cell(entry).startswith("more than ")
    entry = bounded
    results = tmp_path / "reproductions" / "results"
    results.mkdir(parents=True)
    (results.parent / "budgets.json").write_text(json.dumps({"entries": {name: {"paper": entry}}}))
    assert paper_cost(name, results).startswith("--budget paper: more than ")


def test_a_capped_study_records_what_its_sized_runs_need(tmp_path: Path, monkeypatch) -> None:
    """A study whose runs take long to size (random-architectures at the paper's sizes: minutes per run, 400
    runs) is stopped at the cap too, and the runs it sized bound the whole from below."""
    from types import SimpleNamespace

    from wgan.studies import estimate as study_estimate

    name = "test-slow-study"
    runs = [SimpleNamespace(name=f"r{i}") for i in range(20)]
    study = SimpleNamespace(runs=lambda: iter(runs))

    def sized_slowly(study, out, on_run=None, **_):
        out_list = []
        for _r in study.runs():
            spin(0.1)  # each run takes 0.1 s of CPU time to size, and needs 100 s to train
            e = SimpleNamespace(status="todo", seconds=100.0)
            out_list.append(e)
            on_run(e)
        return out_list

    monkeypatch.setattr(study_estimate, "estimate_study", sized_slowly)

    @register(name, "WGAN", "nowhere", "a study", table=lambda ctx: [Row(s, "x", "", "x") for s in SETTINGS],
              study=lambda ctx: (study, tmp_path / "runs"))
    def run(ctx: Context) -> Result:
        return Result([], {})

    try:
        script = _script()
        entry = script.measure(name, "paper", tmp_path, cap_s=0.5)
        assert entry["cpu_seconds"] is None
        n = round(entry["more_than_cpu_s"] / 100.0)
        assert 2 <= n <= 7 and entry["more_than_cpu_s"] == 100.0 * n  # ~5 runs sized in 0.5 s, not all 20
        assert f"after sizing {n} of its 20 runs" in entry["how"]
        assert f"wgan reproduce {name} --budget paper --estimate --device cuda" in entry["how"]
        full = script.measure(name, "paper", tmp_path, cap_s=None)  # uncapped: every run sized
        assert full["cpu_seconds"] == 2000.0 and full["how"] == "study estimator (training steps only)"
    finally:
        EXPERIMENTS.pop(name)

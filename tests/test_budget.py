"""The budgets of a reproduction (--quick / cpu / paper) and the --estimate extrapolation (experiments/_budget)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.helpers import spin
from wgan.experiments import EXPERIMENTS, Context, Result, _budget, register
from wgan.experiments._protocol import SETTINGS, Row
from wgan.studies.estimate import cpu_clock


def test_pick_steps_and_seeds_follow_the_budget_and_the_overrides(tmp_path: Path) -> None:
    sizes = dict(quick=5, cpu=200, paper=100_000)
    assert _budget.steps(Context(out=tmp_path, quick=True), **sizes) == 5
    assert _budget.steps(Context(out=tmp_path), **sizes) == 200
    assert _budget.steps(Context(out=tmp_path, budget="paper"), **sizes) == 100_000
    assert _budget.steps(Context(out=tmp_path, budget="paper", steps=7), **sizes) == 7  # --steps wins
    assert _budget.seeds(Context(out=tmp_path, budget="paper"), quick=1, cpu=3, paper=20) == 20
    assert _budget.seeds(Context(out=tmp_path, seeds=4), quick=1, cpu=3, paper=20) == 4
    assert _budget.pick(Context(out=tmp_path, budget="paper"), quick="a", cpu="b", paper="c") == "c"


def test_probe_steps_cut_counts_short_and_sum_them(tmp_path: Path) -> None:
    ctx = Context(out=tmp_path, probe=0.0)
    assert _budget.steps(ctx, quick=5, cpu=1000, paper=10**5) == 5  # run a: the quick value
    assert _budget.count(ctx, quick=2, cpu=1, paper=1) == 1  # at or below the floor: the full count
    assert (ctx.progress.work_full, ctx.progress.work_probe) == (1001, 6)
    ctx = Context(out=tmp_path, probe=0.01)
    assert _budget.steps(ctx, quick=5, cpu=1000, paper=10**5) == 10  # run b: a fraction, at least the floor
    assert _budget.steps(ctx, quick=50, cpu=1000, paper=10**5) == 50


def test_wgan_schedule_work_counts_the_trainers_critic_steps(tmp_path: Path) -> None:
    """Under WGAN's critic schedule the first 25 generator steps cost 100 critic steps each: an estimate's probe of
    20 steps must count them as such, or the slope to run b takes in the warm-up (a 2,000-step run was estimated
    at 2.5 h and took 14 min)."""
    from wgan.config import Config, apply_sets
    from wgan.training.steps import critic_iterations

    cfg = apply_sets(Config(), ["train.critic_schedule=wgan", "objective.n_critic=5"])
    work = _budget.wgan_schedule_work(5)
    for n in (0, 20, 25, 26, 500, 501, 2000):
        assert work(n) == n + sum(critic_iterations(cfg, i) for i in range(n))
    ctx = Context(out=tmp_path, probe=0.0)
    assert _budget.steps(ctx, quick=20, cpu=2000, paper=10**5, work=work) == 20
    assert (ctx.progress.work_full, ctx.progress.work_probe) == (work(2000), work(20)) == (14660, 2020)


def _table(ctx: Context) -> list[Row]:
    return [Row(s, "x", "", "x") for s in SETTINGS]


@pytest.fixture
def sleeper():
    """A throwaway reproduction whose run takes 0.2 s fixed plus 2 ms per step of 2,000 (cpu) steps of CPU time."""
    name = "test-sleeper"

    @register(name, "WGAN", "nowhere", "works", table=_table)
    def run(ctx: Context) -> Result:
        n = _budget.steps(ctx, quick=2, cpu=2000, paper=8000)
        spin(0.2 + 0.002 * n)
        return Result([], {})

    yield name
    EXPERIMENTS.pop(name)


def test_estimate_extrapolates_linearly_in_the_steps(sleeper: str, tmp_path: Path, monkeypatch) -> None:
    import torch

    monkeypatch.setattr(_budget, "MIN_EXTRA_S", 0.3)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    lines: list[str] = []
    probes: list[tuple[str, float, float, int, int]] = []
    est = _budget.estimate(sleeper, Context(out=tmp_path / "never", device="auto"), report=lines.append,
                           on_probe=lambda *p: probes.append(p))
    assert est.device == "cpu" and "on cpu" in est.line(sleeper)  # --device auto resolved before choosing a clock
    # a line before the first probe (one at a paper budget can run for an hour), then one as each probe ends
    assert "estimating at --budget cpu on cpu" in lines[0] and "probe a:" in lines[1] and "probe b" in lines[-1]
    # the same probes as figures, for a caller that keeps them (the budgets script's lower bound)
    assert [p[0] for p in probes[:2]] == ["a", "a again"] and {p[0] for p in probes[2:]} == {"b"}
    assert len(probes) == len(lines) - 1 and all(0.2 <= cpu <= wall * 1.5 + 0.1 for _, wall, cpu, _, _ in probes)
    assert [p[3] for p in probes[:2]] == [2, 2] and probes[-1][3] == est.steps_b and {p[4] for p in probes} == {2000}
    assert est.steps_full == 2000 and est.steps_a == 2
    assert est.cpu_seconds == pytest.approx(0.2 + 0.002 * 2000, rel=0.25)  # 4.2 s, from probes of ~0.5 s
    assert est.seconds >= 0.9 * est.cpu_seconds  # wall time: at least the CPU time of one thread, more when busy
    assert est.steps_b < est.steps_full  # extrapolated from a short probe, not run in full
    paper = _budget.estimate(sleeper, Context(out=tmp_path / "never", budget="paper"))
    assert paper.cpu_seconds == pytest.approx(0.2 + 0.002 * 8000, rel=0.25)
    assert not (tmp_path / "never").exists()  # probes run in a temporary folder
    assert "--budget paper" in paper.line(sleeper) and "of CPU time" in paper.line(sleeper)


def test_the_cpu_estimate_is_not_stretched_by_a_busy_machine(tmp_path: Path, monkeypatch) -> None:
    """A run on a busy machine waits for its core: here it sleeps as long as it works, as at load 2 on one core.
    The wall-time estimate counts the waiting; the CPU-time estimate (what the budgets table reports) does not."""
    name = "test-busy-machine"

    @register(name, "WGAN", "nowhere", "works half the time", table=_table)
    def run(ctx: Context) -> Result:
        n = _budget.steps(ctx, quick=2, cpu=1000, paper=1000)
        spin(0.1 + 0.002 * n)
        time.sleep(0.1 + 0.002 * n)  # another process holds the core
        return Result([], {})

    monkeypatch.setattr(_budget, "MIN_EXTRA_S", 0.3)
    try:
        est = _budget.estimate(name, Context(out=tmp_path / "never"))
    finally:
        EXPERIMENTS.pop(name)
    assert est.steps_full == 1000 and est.steps_b < 1000  # extrapolated, not run in full
    assert est.cpu_seconds == pytest.approx(0.1 + 0.002 * 1000, rel=0.25)
    assert est.seconds >= 1.6 * est.cpu_seconds  # the waiting (and any real load on this machine) on top


def test_cpu_clock_counts_the_work_of_child_processes() -> None:
    """A reproduction's data-loader workers and subprocesses work for it: the CPU clock counts a child's time once
    the child has ended."""
    import subprocess
    import sys

    before = cpu_clock()
    subprocess.run([sys.executable, "-c", "import time\nend = time.process_time() + 0.4\n"
                    "while time.process_time() < end: pass"], check=True)
    assert cpu_clock() - before >= 0.35


def test_on_a_gpu_the_estimate_is_judged_and_reported_in_wall_time(tmp_path: Path, monkeypatch) -> None:
    """On CUDA the host's CPU time is mostly waiting for the device: the probes are judged by wall time and the line
    gives no CPU time. Here the run waits (sleeps) as a host waits for its GPU; judged by CPU time the probe loop
    would find every probe too short and run the whole reproduction."""
    import torch

    import wgan.training.trainer as trainer

    name = "test-gpu-waiter"

    @register(name, "WGAN", "nowhere", "waits for its device", table=_table)
    def run(ctx: Context) -> Result:
        n = _budget.steps(ctx, quick=2, cpu=1000, paper=1000)
        time.sleep(0.1 + 0.005 * n)
        return Result([], {})

    monkeypatch.setattr(_budget, "MIN_EXTRA_S", 0.3)
    monkeypatch.setattr(trainer, "pick_device", lambda name, local_rank=0: torch.device("cuda"))
    try:
        est = _budget.estimate(name, Context(out=tmp_path / "never", device="cuda"))
    finally:
        EXPERIMENTS.pop(name)
    assert est.steps_full == 1000 and est.steps_b < 1000  # extrapolated from the probes' wall time
    assert est.seconds == pytest.approx(0.1 + 0.005 * 1000, rel=0.3)
    line = est.line(name)
    assert "on cuda" in line and "CPU time" not in line


def test_estimate_times_runs_that_a_process_cache_would_remember(tmp_path: Path, monkeypatch) -> None:
    """Reproductions memoise finished runs per process (shared by two reproductions); an estimate's probes must time
    the training, not the memo: the second run a and run b would otherwise be free."""
    from wgan.experiments._common import process_cache

    memo = process_cache()
    name = "test-memo-sleeper"

    @register(name, "WGAN", "nowhere", "sleeps once per setting", table=_table)
    def run(ctx: Context) -> Result:
        n = _budget.steps(ctx, quick=2, cpu=2000, paper=8000)
        if n not in memo:
            spin(0.2 + 0.002 * n)
            memo[n] = True
        return Result([], {})

    monkeypatch.setattr(_budget, "MIN_EXTRA_S", 0.3)
    try:
        est = _budget.estimate(name, Context(out=tmp_path / "never"))
    finally:
        EXPERIMENTS.pop(name)
    assert est.fixed_cpu_s >= 0.2 and est.cpu_seconds == pytest.approx(0.2 + 0.002 * 2000, rel=0.25)

"""A reproduction's budget: ``--quick`` (a smoke test), ``cpu`` (the default, sized for 2 CPU cores) or ``paper``
(the paper's own widths, steps, seeds and sample counts), and the ``--estimate`` of what a budget costs.

Every size that the protocol table lists as a CPU-cost deviation is chosen with :func:`pick` (or :func:`steps` /
:func:`seeds` for the counts the command line can override), so ``--budget paper`` undoes the deviation and the
table, a function of the same context, shows the paper's value in its "ours" column.

**Estimates.** ``wgan reproduce NAME --estimate [--budget paper] [--device cuda]`` runs the reproduction twice at
its budget's widths, seeds and sample counts but with every count chosen through :func:`steps` cut short (see
:func:`probe_steps`), into a temporary folder, on this machine and device, and extrapolates linearly in the training
steps: ``T(full) = T_a + (T_b - T_a) * (S_full - S_a) / (S_b - S_a)`` where ``S`` is the sum of the step counts the
reproduction asked for and ``T`` the wall time; the same for the process's CPU time
(:func:`wgan.studies.estimate.cpu_clock`), which other processes' load does not stretch, so that an estimate taken
on a busy machine still says what the run costs on a core of its own (on the CPU, one torch thread). Run *a* uses
each count's ``--quick`` value (the fixed cost: data, networks, evaluations, figures; run twice, the faster kept, as
the first run in a process also pays one-off costs such as imports); run *b* a fraction of the full counts,
quadrupled until its extra time over *a* is at least *a*'s own time and :data:`MIN_EXTRA_S` (so that timing noise of
a few per cent of *a* stays a few per cent of the slope), starting from the fraction run *a*'s own time per step
says would be enough. Costs that do not grow with the steps (the final evaluation, figures) are counted once; costs
that grow with them (evaluations every N steps) are counted with the steps. Studies (``wgan reproduce`` runs of the
study runner) use :mod:`wgan.studies.estimate` instead.
"""

from __future__ import annotations

import contextlib
import gc
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

if TYPE_CHECKING:
    from . import Context

T = TypeVar("T")
Budget = Literal["cpu", "paper"]
BUDGETS: tuple[str, ...] = ("cpu", "paper")

MIN_EXTRA_S = 5.0  # run b must take at least this much longer than run a, and twice as long, to be timed
FIRST_FRACTION = 1 / 2000  # the smallest fraction of the full step counts run b starts from


def pick(ctx: Context, *, quick: T, cpu: T, paper: T) -> T:
    """The value of one setting at ``ctx``'s budget: ``quick`` under ``--quick``, else ``paper`` under ``--budget
    paper``, else ``cpu``."""
    if ctx.quick:
        return quick
    return paper if ctx.budget == "paper" else cpu


def steps(ctx: Context, *, quick: int, cpu: int, paper: int, work: Callable[[int], float] | None = None) -> int:
    """A count of training steps (or any count the run time grows with linearly): ``--steps`` if given, else
    :func:`pick`; cut short while an estimate probes the run (:func:`probe_steps`). ``work(n)``: the cost of the
    first ``n`` steps in units that do take equal time (default ``n``), e.g. :func:`wgan_schedule_work` for WGAN's
    critic schedule, whose first 25 generator steps cost 100 critic steps each."""
    full = ctx.steps if ctx.steps is not None else pick(ctx, quick=quick, cpu=cpu, paper=paper)
    return probe_steps(ctx, full, quick, work)


def wgan_schedule_work(n_critic: int = 5) -> Callable[[int], float]:
    """The cost of ``n`` generator steps under ``train.critic_schedule = "wgan"`` in critic+generator updates:
    ``n`` generator steps plus the critic steps the Trainer makes before step ``n``
    (:func:`wgan.training.steps.critic_draws_before`, the training loop's own count)."""
    from ..config import Config, apply_sets
    from ..training.steps import critic_draws_before

    cfg = apply_sets(Config(), ["train.critic_schedule=wgan", f"objective.n_critic={n_critic}"])
    return lambda n: float(n + critic_draws_before(cfg, n))


def count(ctx: Context, *, quick: int, cpu: int, paper: int) -> int:
    """A count the run time grows with linearly that ``--steps`` does not set (critic-only steps of an exact
    reproduction, members trained in sequence): :func:`pick`, cut short while an estimate probes the run."""
    return probe_steps(ctx, pick(ctx, quick=quick, cpu=cpu, paper=paper), quick)


def seeds(ctx: Context, *, quick: int, cpu: int, paper: int) -> int:
    """The number of seeds: ``--seeds`` if given, else :func:`pick`."""
    return ctx.seeds if ctx.seeds is not None else pick(ctx, quick=quick, cpu=cpu, paper=paper)


def probe_steps(ctx: Context, full: int, floor: int, work: Callable[[int], float] | None = None) -> int:
    """``full`` outside an estimate; inside one, ``floor`` (run *a*) or ``ceil(full * fraction)`` but at least
    ``floor`` (run *b*), and the pair (as ``work`` of each, default the counts themselves) is added to the
    estimate's sums."""
    if ctx.probe is None:
        return full
    n = full if full <= floor else max(floor, math.ceil(full * ctx.probe))
    cost = work or float
    ctx.progress.work_full += cost(full)
    ctx.progress.work_probe += cost(n)
    return n


@dataclass(frozen=True)
class Estimate:
    """An extrapolated run time: ``seconds`` at the full counts, from probe runs *a* and *b*."""

    seconds: float
    fixed_s: float  # run a's wall time
    probe_s: float  # run b's wall time
    steps_full: int
    steps_a: int
    steps_b: int
    fraction: float
    budget: str
    device: str
    cpu_seconds: float  # the same extrapolation of the process's CPU time
    fixed_cpu_s: float
    probe_cpu_s: float

    def line(self, name: str) -> str:
        from ..console import duration

        if self.steps_full <= self.steps_b:
            how = "measured: the probe ran the whole reproduction"
        else:
            how = (f"extrapolated from {self.steps_a:,} and {self.steps_b:,} of its {self.steps_full:,} steps "
                   f"({duration(self.fixed_s)} and {duration(self.probe_s)})")
        if not self.on_cpu:  # on a GPU the host's CPU time is mostly waiting for the device: not a cost
            return f"{name}: ~{duration(self.seconds)} at --budget {self.budget} on {self.device} ({how})"
        return (f"{name}: ~{duration(self.seconds)} at --budget {self.budget} on {self.device}, "
                f"~{duration(self.cpu_seconds)} of CPU time (one process, one torch thread, on this machine; {how})")

    @property
    def on_cpu(self) -> bool:
        return self.device.startswith("cpu")


def estimate(name: str, ctx: Context, report=None, on_probe=None) -> Estimate:
    """Time reproduction ``name`` at ``ctx``'s budget from two short probe runs (see the module docstring);
    nothing is written outside a temporary folder. ``report`` receives a line before the first probe and one as
    each probe run ends; ``on_probe(label, wall_s, cpu_s, steps, full_steps)`` is called as each probe run ends
    (label ``"a"``, ``"a again"`` or ``"b"``; ``steps`` the probe's step count, ``full_steps`` the run's), for a
    caller that keeps the figures rather than the lines."""
    # each probe collects what it made (its Trainers, so its data-loader workers end and are counted in its own CPU
    # time): what the process held before is collected once and then frozen, so that those collections neither
    # scan it (a large process's full collection takes tenths of a second) nor end someone else's workers mid-probe
    gc.collect()
    gc.freeze()
    try:
        return _estimate(name, ctx, report, on_probe)
    finally:
        gc.unfreeze()


def _estimate(name: str, ctx: Context, report, on_probe) -> Estimate:
    from . import Progress, get

    exp = get(name)

    from ..studies.estimate import cpu_clock
    from ..training.trainer import pick_device
    from ._common import clear_process_caches, single_thread

    device = str(pick_device(ctx.device))  # --device auto resolved: what the probes ran on
    on_cpu = device.startswith("cpu")

    def probe(fraction: float) -> tuple[float, float, int, int]:
        """(wall time, CPU time, full steps, probe steps) of one probe run."""
        clear_process_caches()  # a run memoised by an earlier probe would be timed as free
        gc.collect()  # an earlier probe's leftovers end before this one is timed
        tmp = tempfile.mkdtemp(prefix=f"wgan-estimate-{name}-")
        progress = Progress(name)
        try:
            c = replace(ctx, out=Path(tmp), quick=False, probe=fraction, progress=progress)
            # on the CPU one torch thread, as docs/budgets.md states, so the CPU time is one core's work and not
            # the spinning of idle intra-op threads (a reproduction that does not pin one thread itself)
            with single_thread() if on_cpu else contextlib.nullcontext():
                t0, c0 = time.perf_counter(), cpu_clock()
                exp.run(c)
                gc.collect()  # this probe's data-loader workers end inside its own timing
                return (time.perf_counter() - t0, cpu_clock() - c0, round(progress.work_full),
                        round(progress.work_probe))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def ended(label: str, wall: float, cpu: float, probe_steps: int, full_steps: int) -> None:
        if on_probe is not None:
            on_probe(label, wall, cpu, probe_steps, full_steps)

    # run a twice, keeping the faster: the first run in a process also pays one-off costs (imports, compiled
    # kernels, cached data) that the extrapolation must not count as the reproduction's own
    if report is not None:  # a probe at a paper budget can take an hour before its line: say what runs
        report(f"[{name}] estimating at --budget {ctx.budget} on {device}: probe a runs the reproduction at its "
               "--quick step counts (twice), probe b at a fraction of the full counts; a line as each one ends")
    t_a, c_a, full, s_a = probe(0.0)
    ended("a", t_a, c_a, s_a, full)
    if report is not None:
        report(f"[{name}] probe a: {s_a:,} of {full:,} steps in {t_a:.1f} s ({c_a:.1f} s CPU)")
    again = probe(0.0)
    ended("a again", again[0], again[1], again[3], again[2])
    t_a, c_a = min(t_a, again[0]), min(c_a, again[1])
    if report is not None:
        report(f"[{name}] probe a again: {again[0]:.1f} s ({again[1]:.1f} s CPU); the faster of each kept")
    if full <= s_a:
        return Estimate(t_a, t_a, t_a, full, s_a, s_a, 0.0, ctx.budget, device, c_a, c_a, c_a)
    # run a's time bounds the time per step from above (T_a / S_a), so these steps take at most the wanted extra
    # time; the loop quadruples the fraction while they take less
    wanted = max(MIN_EXTRA_S, t_a)
    fraction = min(1.0, max(FIRST_FRACTION, s_a * (1 + wanted / max(t_a, 1e-3)) / full))
    while True:
        t_b, c_b, _, s_b = probe(fraction)
        ended("b", t_b, c_b, s_b, full)
        if report is not None:
            report(f"[{name}] probe b at {fraction:.4g} of the steps: {s_b:,} steps in {t_b:.1f} s ({c_b:.1f} s CPU)")
        # on the CPU judged in CPU time, which a busy machine does not stretch; on a GPU in wall time
        a, b = (c_a, c_b) if on_cpu else (t_a, t_b)
        long_enough = b - a >= max(MIN_EXTRA_S, a) and s_b > s_a
        if long_enough or fraction >= 1.0:
            break
        fraction = min(1.0, fraction * 4)
    if s_b >= full:  # run b was the whole reproduction: its time is measured, not extrapolated
        return Estimate(t_b, t_a, t_b, full, s_a, s_b, fraction, ctx.budget, device, c_b, c_a, c_b)

    def extrapolated(a: float, b: float) -> float:
        return a + max(0.0, b - a) / max(1, s_b - s_a) * (full - s_a)

    return Estimate(extrapolated(t_a, t_b), t_a, t_b, full, s_a, s_b, fraction, ctx.budget, device,
                    extrapolated(c_a, c_b), c_a, c_b)

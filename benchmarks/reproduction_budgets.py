"""What each reproduction costs at each budget on this machine: ``wgan reproduce NAME --estimate [--budget paper]``
for every registered reproduction, written to ``docs/reproductions/budgets.json`` and rendered as the table in
``docs/budgets.md``.

    OMP_NUM_THREADS=1 python benchmarks/reproduction_budgets.py                  # every reproduction, both budgets
    OMP_NUM_THREADS=1 python benchmarks/reproduction_budgets.py --budget paper --only mixture-of-gaussians
    OMP_NUM_THREADS=1 python benchmarks/reproduction_budgets.py --only char-lm --data char-lm=CORPUS.txt --redo
    OMP_NUM_THREADS=1 python benchmarks/reproduction_budgets.py --budget paper --only many-paths-color-mnist \
        --data many-paths-color-mnist=MNIST_FOLDER --cap-hours 1   # a lower bound where the probes take days
    python benchmarks/reproduction_budgets.py --render                           # the page from the JSON alone

Each entry is kept as it finishes, with the pages that quote it (a rerun skips entries already measured unless
``--redo``, and measures older wall-time entries again in CPU time), so the measurement can be spread over several
sessions. Studies (reproductions run through the study runner) are sized by the study estimator (training steps
only, one worker); the others by two probe runs each (``wgan.experiments._budget.estimate``). ``--cap-hours`` stops
either kind and records a lower bound: the first probe's CPU time, or the estimated training time of the study's
runs sized before the cap. Every figure is CPU time (one torch thread), which other processes' load does not
stretch, so the script may run beside a long reproduction. Beside the cpu estimate, the page shows the wall time of
the published full run where there is one (docs/reproductions/results/), which says how far to trust the estimates.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import signal
import sys
import time
from pathlib import Path

import torch

from wgan.console import duration
from wgan.errors import ConfigError
from wgan.experiments import Context, all_experiments
from wgan.experiments._budget import BUDGETS, MIN_EXTRA_S, estimate
from wgan.experiments._report import budget_seconds, in_hours, write_report
from wgan.io import write_json

ROOT = Path(__file__).resolve().parents[1]
JSON = ROOT / "docs/reproductions/budgets.json"
PAGE = ROOT / "docs/budgets.md"
RESULTS = ROOT / "docs/reproductions/results"


def _study_seconds(exp, ctx: Context, sized: list[float]) -> float:
    """The study's training time by the study estimator; ``sized`` receives each run's seconds as it is sized,
    so a measurement stopped at the cap still knows what the runs sized so far cost (a lower bound)."""
    from wgan.studies import estimate as study_estimate

    study, _ = exp.study(ctx)
    tmp = Path(ctx.out) / "runs"  # a fresh folder: every run counted as still to train

    def on_run(e) -> None:
        if e.status != "done":
            sized.append(e.seconds)

    study_estimate.estimate_study(study, tmp, on_run=on_run)
    return sum(sized)


class _Capped(BaseException):
    """The estimate's probes used up the CPU time the script allows one measurement (``--cap-hours``); a
    BaseException, as KeyboardInterrupt, so that no ``except Exception`` of a reproduction swallows it."""


@contextlib.contextmanager
def _cpu_cap(seconds: float | None):
    """Raise :class:`_Capped` in this process once it has used ``seconds`` of CPU time (``ITIMER_PROF`` counts
    the process's user and system time), so one reproduction whose probes alone would run for days is reported
    as such instead of holding the machine."""
    if seconds is None:
        yield
        return

    def stop(signum, frame):
        raise _Capped

    before = signal.signal(signal.SIGPROF, stop)
    signal.setitimer(signal.ITIMER_PROF, seconds, 1.0)  # and every CPU second after, until it is handled
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, before)


def _bounded(name: str, budget: str, bound: float, how: str) -> dict:
    """The entry of a measurement the cap stopped: a lower bound, and the command that sizes the run on a GPU."""
    return {"seconds": None, "cpu_seconds": None, "more_than_cpu_s": bound,
            "how": f"{how}; size it on a GPU: wgan reproduce {name} --budget {budget} --estimate --device cuda"}


def _runs_a_and_b(ended: list[tuple[str, float, int, int]]) -> tuple[tuple[float, int, int], tuple[float, int]] | None:
    """From the probe runs that ended: the faster run a ``(CPU s, steps, full)`` and the latest run b
    ``(CPU s, steps)``, where a run b ended that took longer and ran more steps than run a; else None."""
    a = min(((c, s, f) for label, c, s, f in ended if label != "b"), default=None)
    b = next(((c, s) for label, c, s, _ in reversed(ended) if label == "b"), None)
    return (a, b) if a is not None and b is not None and b[1] > a[1] and b[0] > a[0] else None


def measure(name: str, budget: str, out: Path, data: str | None = None, cap_s: float | None = None) -> dict:
    from wgan.studies.estimate import cpu_clock

    exp = all_experiments()[name]
    ctx = Context(out=out / name, budget=budget, data=data)
    t0, c0 = time.perf_counter(), cpu_clock()
    ended: list[tuple[str, float, int, int]] = []  # each probe run that ended: (label, CPU s, steps, full steps)

    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def on_probe(label: str, _wall_s: float, cpu_s: float, steps: int, full: int) -> None:
        ended.append((label, cpu_s, steps, full))

    sized: list[float] = []  # a study's runs sized so far (their estimated CPU seconds)
    try:
        with _cpu_cap(cap_s):
            if exp.study is not None:  # the study estimator times steps in CPU time on the CPU
                cpu = _study_seconds(exp, ctx, sized)
                entry = {"seconds": None, "cpu_seconds": cpu, "how": "study estimator (training steps only)"}
            else:
                est = estimate(name, ctx, report=report, on_probe=on_probe)
                entry = {"seconds": est.seconds, "cpu_seconds": est.cpu_seconds,
                         "how": est.line(name).split("(", 1)[1].removesuffix(")")}
    except ConfigError as e:  # e.g. a paper budget that needs a dataset this machine lacks
        entry = {"seconds": None, "cpu_seconds": None, "how": f"not estimated: {e}"}
    except _Capped:
        if exp.study is not None:
            # the runs sized before the cap need this much; each run not yet sized needs more than nothing
            bound = sum(sized)
            n_runs = sum(1 for _ in exp.study(ctx)[0].runs())
            how = (f"not estimated in full: the study estimator (training steps only) ran past the cap of "
                   f"{duration(cap_s)} of CPU time after sizing {len(sized)} of its {n_runs} runs, which alone need "
                   f"{duration(bound)} of CPU time here, so a full run takes more")
            entry = _bounded(name, budget, bound, how)
        elif (b := _runs_a_and_b(ended)) is not None:
            # a run b ended, but too short for the estimate's precision rule (its extra time over run a at least
            # a's own and MIN_EXTRA_S) before the cap: the same extrapolation, said to be less precise
            (c_a, s_a, full), (c_b, s_b) = b
            entry = {"seconds": None, "cpu_seconds": c_a + (c_b - c_a) / (s_b - s_a) * (full - s_a),
                     "how": (f"one process, one torch thread, on this machine; extrapolated from {s_a:,} and {s_b:,} "
                             f"of its {full:,} steps ({duration(c_a)} and {duration(c_b)} of CPU time), less precisely "
                             f"than the others: the measurement reached the cap of {duration(cap_s)} of CPU time "
                             f"before a run b added at least run a's time ({duration(c_b - c_a)} of the "
                             f"{duration(max(MIN_EXTRA_S, c_a))} asked for)")}
        else:
            # a full run costs at least its first probe (the --quick step counts at the budget's widths, seeds and
            # sample counts), and more than the cap while that probe had not ended
            first = ended[0][1] if ended else None  # run a's first time, the fixed cost
            bound = first if first is not None else cpu_clock() - c0
            which = f"took {duration(bound)}" if first is not None else "had not ended"
            how = (f"not estimated: the probes ran past the cap of {duration(cap_s)} of CPU time; its first probe run "
                   f"(the fixed cost: the --quick step counts at the budget's sizes) {which}, so a full run takes "
                   f"more than {duration(bound)} of CPU time here")
            entry = _bounded(name, budget, bound, how)
    entry |= {"estimate_took_s": time.perf_counter() - t0, "load_average": _load(),
              "measured": time.strftime("%Y-%m-%d", time.gmtime())}
    if data is not None:
        entry["data"] = Path(data).name  # what it was sized on (the name only: the path is this machine's)
    return entry


def _load() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return None


def cell(entry: dict | None) -> str:
    """A budget's table cell: CPU time, or the older wall time marked with the load it was taken at."""
    if entry is None:
        return "not measured"
    secs = budget_seconds(entry)
    if secs is None:
        return "—" if entry.get("more_than_cpu_s") is None else f"more than {duration(entry['more_than_cpu_s'])}"
    if "cpu_seconds" in entry:
        return duration(secs)
    load = entry.get("load_average")
    return f"{duration(secs)} (wall time{f', load {load:.1f}' if load is not None else ''})"


def _count(data: dict, estimated: bool) -> int:
    """Paper-budget entries with a figure (``estimated``) or without one (not estimated, and why)."""
    papers = [e["paper"] for e in data.get("entries", {}).values() if e.get("paper")]
    return sum(1 for p in papers if (budget_seconds(p) is not None) == estimated)


def render(data: dict) -> str:
    lines = ["# What each reproduction costs: `--budget cpu` and `--budget paper`", "",
             "<!-- generated by benchmarks/reproduction_budgets.py --render from docs/reproductions/budgets.json -->",
             "", "`wgan reproduce NAME --estimate [--budget paper] [--device cuda]` prints this for one reproduction "
             "on your machine. The figures below were measured with", "",
             "    OMP_NUM_THREADS=1 python benchmarks/reproduction_budgets.py", "",
             f"on {data.get('machine', '?')}; every figure is one process, one torch thread, in CPU time (what the "
             "run takes on a core of its own: other processes' load does not stretch it, so the figures could be "
             "measured beside running reproductions); the probe runs' durations in the 'how' column are their wall "
             "times, which only say how long the measurement took. Entries marked 'wall time' were measured before the "
             "estimate kept CPU time; a loaded machine stretched them by about the load average over the cores. "
             "The machine itself is a virtual one whose cores ran up to ~3x faster or slower from one day to "
             "another (seen on this project's development machines), so figures of different days agree only to "
             "that factor; each entry's date ('measured', from 2026-12-07 on; older ones by git log) is in the JSON. "
             "`cpu` is the default budget (sizes for 2 CPU cores, the deviations each protocol table "
             "lists); `paper` the papers' own widths, steps, seeds and sample counts. The published full run's wall "
             "time (docs/reproductions/results/) stands for the cpu estimate where there is one.", "",
             f"Measured so far: {_count(data, True)} of {len(all_experiments())} paper-budget estimates, and "
             f"{_count(data, False)} not estimated (the 'how' column says why: data this machine lacks, or probes "
             "that ran past the --cap-hours given, a lower bound then shown); the rows "
             "marked 'not measured' are still to measure (a rerun of the script measures what is missing and the older "
             "wall-time figures). "
             "The load average at each measurement is in docs/reproductions/budgets.json.", "",
             "| reproduction | published run (cpu) | estimate, cpu | estimate, paper | CPU-hours, paper ('(wall)': an "
             "older wall-time figure) | how (paper) |",
             "|---|---|---|---|---|---|"]
    for name in sorted(all_experiments()):
        row = data.get("entries", {}).get(name, {})
        pub = RESULTS / f"{name}.json"
        res = json.loads(pub.read_text()) if pub.is_file() else None
        wall = "—" if res is None else duration(res["wall_time_s"]) + (
            f", {duration(res['cpu_time_s'])} CPU" if res.get("cpu_time_s") is not None else "") + (
            f" (+ {duration(res['resumed']['reused_s'])} in earlier starts)" if res.get("resumed") else "")

        paper = row.get("paper") or {}
        cpu_h = "—" if budget_seconds(paper) is None else in_hours(budget_seconds(paper)) + (
            "" if "cpu_seconds" in paper else " (wall)")
        if paper.get("more_than_cpu_s") is not None:
            cpu_h = f"> {in_hours(paper['more_than_cpu_s'])}"
        how = (paper.get("how") or "").replace("|", "/") + (f"; sized on --data {paper['data']}"
                                                            if paper.get("data") else "")
        cpu = "(the published run)" if res is not None and "cpu" not in row else cell(row.get("cpu"))
        lines.append(f"| {name} | {wall} | {cpu} | {cell(row.get('paper'))} | {cpu_h} | {how} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", choices=BUDGETS, action="append", help="budget(s) to measure (default: paper for "
                    "every reproduction, cpu for those without a published run, whose wall time is the cpu figure)")
    ap.add_argument("--only", action="append", metavar="NAME", help="reproduction(s) to measure (default: all)")
    ap.add_argument("--redo", action="store_true", help="measure entries already in the JSON again")
    ap.add_argument("--render", action="store_true", help="only rewrite docs/budgets.md from the JSON")
    ap.add_argument("--cap-hours", type=float, default=None, metavar="H",
                    help="stop a measurement after H hours of CPU time and record a lower bound instead "
                         "(for reproductions whose probes alone would take days here, or studies whose every run "
                         "takes minutes to size)")
    ap.add_argument("--out", default="/tmp/wgan-budgets", help="scratch folder (nothing is kept there)")
    ap.add_argument("--data", action="append", default=[], metavar="NAME=PATH",
                    help="the --data of reproduction NAME (those that need a corpus or dataset: char-lm, "
                         "many-paths-color-mnist); without it they are 'not estimated'")
    args = ap.parse_args()
    data_of = {}
    for item in args.data:
        name, sep, path = item.partition("=")
        if not sep or name not in all_experiments():
            ap.error(f"--data {item!r}: give NAME=PATH with NAME a reproduction (see wgan reproduce --list)")
        data_of[name] = path
    data = json.loads(JSON.read_text()) if JSON.is_file() else {"entries": {}}
    if not args.render:
        torch.set_num_threads(1)
        data["machine"] = (f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread, "
                           f"torch {torch.__version__}, python {platform.python_version()}")
        for name in args.only or sorted(all_experiments()):
            for budget in args.budget or BUDGETS:
                if budget == "cpu" and (RESULTS / f"{name}.json").is_file() and not args.budget:
                    continue  # the published run's wall time is the measured cpu figure
                have = data["entries"].get(name, {}).get(budget)
                wall_only = have is not None and "cpu_seconds" not in have and budget_seconds(have) is not None
                if have is not None and not wall_only and not args.redo:
                    continue  # measured (an older wall-time figure is measured again, in CPU time)
                entry = measure(name, budget, Path(args.out), data_of.get(name),
                                None if args.cap_hours is None else args.cap_hours * 3600)
                data["entries"].setdefault(name, {})[budget] = entry
                write_json(JSON, data)  # kept as it finishes, with the pages that quote it (so an interrupted
                PAGE.write_text(render(data), encoding="utf-8")  # session leaves the docs consistent)
                write_report(RESULTS, ROOT / "docs/reproductions.md")
                secs = cell(entry)
                print(f"{name} [{budget}]: {secs}  ({entry['how']})", file=sys.stderr, flush=True)
    PAGE.write_text(render(data), encoding="utf-8")
    print(f"{PAGE}: written")
    changed, pages = write_report(RESULTS, ROOT / "docs/reproductions.md")  # INCONCLUSIVE cells quote the costs
    if changed or pages:
        print(f"docs/reproductions.md and {len(pages)} page(s): the paper budgets' costs updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Running a study: every run an ordinary run directory trained by ``Trainer(cfg).fit(run_dir)`` in a worker
process, on a local process pool or on Ray; finished runs are skipped, interrupted ones resumed.

A run's state is its folder ``<out>/runs/<name>``:

* ``summary.json`` present -> finished: skipped (its summary is read back for the aggregate);
* ``checkpoints/latest.pt`` but no summary -> interrupted: resumed with ``Trainer.resume(run_dir).fit(run_dir)``;
* anything else in the folder (a run that died before its first checkpoint) -> moved aside to
  ``<name>.incomplete-N`` (never deleted) and the run starts afresh;
* ``study_run.json`` records the run's overrides, seed and the study-wide settings; a folder whose record
  differs is an error, finished or not (never overwritten, and never reused for a study with other settings:
  run names come from the point's own overrides, so a rerun with another ``--steps`` finds the same folders).

Backends: ``local`` (``concurrent.futures.ProcessPoolExecutor`` with the spawn start method, each worker one
torch thread) and ``ray`` (``ray.init(address=...)`` joins a running cluster; without an address a local one
starts; each run is a task asking ``num_cpus`` CPUs and ``num_gpus`` GPUs). On a cluster the study folder
must be on a filesystem every node sees (the run directories are written by the workers).
A local worker stops when its parent is gone (:func:`stop_with_parent`): killing ``wgan study`` or ``wgan
reproduce`` ends its workers too, each after saving a checkpoint of the run it trained.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError
from ..io import decode_nonfinite, dumps, read_json, write_json
from .spec import RunSpec, Study

Backend = Literal["local", "ray"]
BACKENDS = ("local", "ray")
_NICENESS = "RAY_worker_niceness"  # read by the raylet a local ray.init starts
_TRAINING = threading.Event()  # set while this process is in run_task (read by stop_with_parent)


@dataclass
class RunResult:
    """What became of one run: ``status`` is done, resumed, skipped (finished before), failed, or todo (not run:
    :func:`aggregate_finished`)."""

    name: str
    label: str
    seed: int
    status: str
    wall_s: float
    summary: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class Task:
    """What a worker needs: the run's resolved config (as a dict) and its folder."""

    name: str
    label: str
    seed: int
    config: dict[str, Any]
    run_dir: str
    record: dict[str, Any]


def _record(study: Study, run: RunSpec) -> dict[str, Any]:
    return {"study": study.name, "label": run.label, "seed": run.seed,
            "overrides": {k: v for k, v in run.overrides}, "common": study.common}


_KEYS = ("overrides", "seed", "common")


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """A record's settings as one flat ``{dotted key: value}`` (nested tables joined with dots)."""
    out: dict[str, Any] = {"seed": record.get("seed")}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            out[prefix] = value

    walk("", record.get("common") or {})
    walk("", record.get("overrides") or {})
    return out


def _check_record(run_dir: Path, record: dict[str, Any], finished: bool = False) -> None:
    """Refuse a folder that holds another run: its ``study_run.json`` differs in overrides, seed or the
    study-wide settings. A finished folder must have the record (else nobody can say what it trained)."""
    path = run_dir / "study_run.json"
    if not path.exists():
        if finished:
            raise ConfigError(f"{run_dir} has a summary.json but no study_run.json, so it is not known to be this "
                              "study's run; move it away or use another --out")
        return
    have = read_json(path)
    want = decode_nonfinite(json.loads(dumps(record)))  # as it reads back from disk (tuples become lists)
    if {k: have.get(k) for k in _KEYS} == {k: want.get(k) for k in _KEYS}:
        return
    a, b = _flat(have), _flat(want)
    diff = [f"{k} {a.get(k, '(unset)')!r} there, {b.get(k, '(unset)')!r} here"
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    shown = "; ".join(diff[:3]) + (f"; and {len(diff) - 3} more" if len(diff) > 3 else "")
    what = "was finished with other settings" if finished else "belongs to another run"
    raise ConfigError(f"{run_dir} {what} ({shown}); run the study with those settings, or move the folder away "
                      "or use another --out")


def run_state(run_dir: Path) -> str:
    """``finished`` (its ``summary.json`` is written), ``interrupted`` (a checkpoint, no summary) or ``new``."""
    if (run_dir / "summary.json").is_file():
        return "finished"
    return "interrupted" if (run_dir / "checkpoints" / "latest.pt").is_file() else "new"


def _move_aside(run_dir: Path) -> Path:
    n = 1
    while (target := run_dir.with_name(f"{run_dir.name}.incomplete-{n}")).exists():
        n += 1
    run_dir.rename(target)
    return target


def run_task(task: Task) -> RunResult:
    """Train (or resume, or skip) one run in this process; never raises for a failing run (the error is in
    the result, the traceback in ``<run_dir>/error.txt``)."""
    import torch

    from ..config import from_dict
    from ..training.trainer import Trainer

    torch.set_num_threads(1)  # one thread per worker: the pool is the parallelism
    run_dir = Path(task.run_dir)
    start = time.perf_counter()
    _TRAINING.set()
    try:
        state = run_state(run_dir)
        if state == "finished":
            _check_record(run_dir, task.record, finished=True)
            return RunResult(task.name, task.label, task.seed, "skipped", 0.0, read_json(run_dir / "summary.json"))
        _check_record(run_dir, task.record)
        status = "done"
        if state == "interrupted":
            trainer = Trainer.resume(run_dir, steps=task.config["train"]["steps"])
            status = "resumed"
        else:
            if run_dir.exists() and any(p.name != "study_run.json" for p in run_dir.iterdir()):
                _move_aside(run_dir)
            run_dir.mkdir(parents=True, exist_ok=True)
            trainer = Trainer(from_dict(task.config))
        write_json(run_dir / "study_run.json", task.record)
        summary = trainer.fit(run_dir)
        return RunResult(task.name, task.label, task.seed, status, time.perf_counter() - start, summary)
    except Exception as e:  # noqa: BLE001 -- one failing run must not stop the study; it is reported
        if run_dir.is_dir():
            (run_dir / "error.txt").write_text(traceback.format_exc())
        return RunResult(task.name, task.label, task.seed, "failed", time.perf_counter() - start,
                         error=f"{type(e).__name__}: {e}")
    finally:
        _TRAINING.clear()


def init_worker() -> None:
    """A pool worker's start: one torch thread, and :func:`stop_with_parent`."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    # Python's own Ctrl-C (KeyboardInterrupt), also where the parent started with SIGINT ignored (a background job):
    # stop_with_parent's SIGINT must reach a worker that waits for work, or one between a run's training steps
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stop_with_parent()


def stop_with_parent(interval_s: float = 0.5, grace_s: float = 120.0) -> None:
    """End this process soon after the process that started it is gone.

    A pool's worker outlives its parent when the parent dies without shutting the pool down: ``kill`` (SIGTERM)
    or SIGKILL sent to the parent alone, the out-of-memory killer. Ctrl-C reaches the whole
    process group; these do not. The orphan went on training the run it held, with the run's lock, for as long
    as that run took (a ResNet run of the architecture zoo: 1.5 CPU-hours before anyone saw it). A daemon thread
    here notices the parent is gone (this process is re-parented, so ``os.getppid()`` changes) and sends this
    process SIGINT when it is training a run (:func:`run_task`): the Trainer finishes its step, saves a checkpoint
    and stops, as after a Ctrl-C, so the next ``wgan study`` / ``wgan reproduce`` resumes the run. Then, or at once
    for a worker waiting for work, the process exits (a worker's call queue never reports its parent's end: the
    worker holds both ends of its pipe). A run still training ``grace_s`` later (a final evaluation longer than
    that) is ended there, its previous checkpoint intact."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        if _TRAINING.is_set():
            os.kill(os.getpid(), signal.SIGINT)
            end = time.monotonic() + grace_s
            while _TRAINING.is_set() and time.monotonic() < end:
                time.sleep(interval_s)
        os._exit(1)

    threading.Thread(target=watch, name="wgan-stop-with-parent", daemon=True).start()


def _local(tasks: list[Task], workers: int) -> Iterator[RunResult]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                             initializer=init_worker) as pool:
        futures = [pool.submit(run_task, t) for t in tasks]
        try:
            for f in as_completed(futures):
                yield f.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _ray(tasks: list[Task], address: str | None, num_cpus: float, num_gpus: float,
         local_cpus: int | None) -> Iterator[RunResult]:
    try:
        import ray
    except ImportError:
        raise ConfigError("--backend ray needs Ray: pip install 'wgan[ray]' (or python -m pip install ray)") from None
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            # Ray starts its workers at niceness 15 (the raylet's worker_niceness), so beside any busy process they
            # get a sliver of a core: with two other jobs on both cores, the Ray test of tests/test_studies.py took
            # 376 s, 52 s at niceness 0 and the local-pool test 60 s (docs/studies.md). A local instance runs on
            # the user's own machine, so its runs get the local pool's priority unless RAY_worker_niceness is set.
            ours = _NICENESS not in os.environ
            os.environ.setdefault(_NICENESS, "0")
            try:
                ray.init(num_cpus=local_cpus, include_dashboard=False, log_to_driver=False)
            finally:
                if ours:
                    del os.environ[_NICENESS]
        started = True
    try:
        remote = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus)(run_task)
        pending = [remote.remote(t) for t in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


@dataclass
class StudyReport:
    """The study's outcome: one result per run (in the spec's order), its wall time, the aggregate files."""

    results: list[RunResult]
    wall_s: float
    files: dict[str, str]

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.results if r.status == "failed"]


def run_study(study: Study, out: str | Path, backend: Backend = "local", workers: int = 1,
              ray_address: str | None = None, ray_num_cpus: float = 1, ray_num_gpus: float = 0,
              ray_local_cpus: int | None = None, progress: bool = True,
              on_result: Callable[[RunResult], None] | None = None) -> StudyReport:
    """Run every run of ``study`` not finished yet into ``out/runs`` and aggregate all of them into
    ``out/study.csv``, ``out/study.md`` and ``out/study.png`` (see :mod:`wgan.studies.aggregate`)."""
    from tqdm.auto import tqdm

    from .aggregate import aggregate

    if backend not in BACKENDS:
        raise ConfigError(f"unknown study backend {backend!r}; choose {' or '.join(BACKENDS)}")
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    out = Path(out)
    runs = study.runs()
    tasks = [Task(r.name, r.label, r.seed, study.config(r).to_dict(), str(out / "runs" / r.name), _record(study, r))
             for r in runs]
    finished = [t for t in tasks if run_state(Path(t.run_dir)) == "finished"]
    for t in finished:  # a finished run made with other settings is refused (before anything is written)
        _check_record(Path(t.run_dir), t.record, finished=True)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    write_json(out / "study.json", {"name": study.name, "seeds": study.seeds, "common": study.common,
                                    "metric": study.metric, "runs": [asdict(r) for r in runs],
                                    "refused": [asdict(r) for r in study.refused]})
    todo = [t for t in tasks if t not in finished]
    results: dict[str, RunResult] = {t.name: run_task(t) for t in finished}  # read back, no training
    start = time.perf_counter()
    bar = tqdm(total=len(tasks), initial=len(finished), desc=study.name, unit="run", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    if finished and progress:
        bar.write(f"{study.name}: {len(finished)} of {len(tasks)} runs finished before; running {len(todo)}",
                  file=sys.stderr)
    stream = (_local(todo, workers) if backend == "local" else
              _ray(todo, ray_address, ray_num_cpus, ray_num_gpus, ray_local_cpus)) if todo else iter(())
    try:
        for res in stream:
            results[res.name] = res
            bar.update(1)
            if progress:
                bar.write(_line(res, len(results), len(tasks), study.metric), file=sys.stderr)
            if on_result is not None:
                on_result(res)
    finally:
        bar.close()
    wall = time.perf_counter() - start
    ordered = [results[t.name] for t in tasks]
    files = aggregate(study, runs, ordered, out)
    report = StudyReport(ordered, wall, files)
    write_json(out / "study_report.json", {"wall_s": wall, "backend": backend, "workers": workers,
                                           "ran": len(todo), "skipped": len(finished),
                                           "failed": [r.name for r in report.failed],
                                           "refused": {r.label: r.reason for r in study.refused}, "files": files})
    return report


def aggregate_finished(study: Study, out: str | Path) -> tuple[dict[str, str], int]:
    """Aggregate the runs of ``study`` finished so far into ``out`` (``study.csv``, ``study.md``, ``study.png``;
    the unfinished ones as status ``todo``, without figures) while training nothing: the table of a study still
    running, or stopped. Returns the files written and the number of finished runs."""
    from .aggregate import aggregate

    out = Path(out)
    if not (out / "runs").is_dir():
        raise ConfigError(f"{out}/runs does not exist: no run of study {study.name!r} has started there (see --out)")
    runs = study.runs()
    results = []
    for r in runs:
        run_dir = out / "runs" / r.name
        if run_state(run_dir) == "finished":
            _check_record(run_dir, _record(study, r), finished=True)
            results.append(RunResult(r.name, r.label, r.seed, "skipped", 0.0, read_json(run_dir / "summary.json")))
        else:
            results.append(RunResult(r.name, r.label, r.seed, "todo", 0.0))
    return aggregate(study, runs, results, out), sum(res.summary is not None for res in results)


def _line(res: RunResult, i: int, n: int, metric: str | None) -> str:
    text = f"[{i}/{n}] {res.status:<7} {res.label} seed {res.seed} ({res.wall_s:.1f} s)"
    if res.error:
        return f"{text}: {res.error}"
    if res.summary and metric and isinstance(res.summary.get(metric), (int, float)):
        v = res.summary[metric]
        text += f" {metric} = {v:.4g}" if math.isfinite(v) else f" {metric} = {v}"
    return text


__all__ = ["BACKENDS", "RunResult", "StudyReport", "Task", "aggregate_finished", "run_state", "run_study",
           "run_task"]

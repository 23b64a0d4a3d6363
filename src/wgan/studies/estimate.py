"""Sizing a study before running it: each run's training time from a few timed steps of its own networks.

A study's runs can differ in cost by a factor of twenty or more (a depth-20 critic under a gradient penalty
against a 4-layer one without), so the progress bar's ETA -- the mean time of the runs finished so far -- is
a poor guide at the start. :func:`estimate_study` builds every run still to train (nothing is written), times
``probe`` critic steps and ``probe`` generator steps after ``warmup`` training iterations, on one torch
thread (as a worker trains), and extrapolates to the run's remaining steps: critic steps counted with the run's
own schedule (``objective.n_critic``, or WGAN's 100-step warm-up under ``train.critic_schedule = "wgan"``).
Evaluation, samples, logging and checkpoints are not counted. :func:`makespan` then schedules the estimates on
``workers`` as the local pool does (each free worker takes the next run, in the study's order).

On the CPU the steps are timed by the process's CPU time (:func:`cpu_clock`), which other processes on the
machine do not inflate, so an estimate taken beside a running study says what the runs cost on a core of their
own; on CUDA by wall time to the kernels' end. Its accuracy on the random-architectures study is measured in
docs/studies.md.
"""

from __future__ import annotations

import dataclasses
import heapq
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from .runner import run_state
from .spec import Study


@dataclass(frozen=True)
class RunEstimate:
    """One run's estimated training time: ``status`` todo (fresh), resume (from its checkpoint) or done."""

    name: str
    label: str
    seed: int
    status: str
    steps_left: int
    critic_step_s: float
    generator_step_s: float
    critic_steps_left: int
    on_cpu: bool = True  # timed by CPU time (on CUDA: wall time)

    @property
    def seconds(self) -> float:
        return self.critic_steps_left * self.critic_step_s + self.steps_left * self.generator_step_s


def _critic_steps(cfg: Config, start: int, stop: int) -> int:
    """Critic steps the run makes over generator steps ``[start, stop)``, by its own schedule."""
    from ..training.steps import critic_draws_before

    return critic_draws_before(cfg, stop) - critic_draws_before(cfg, start)


def _seedless(cfg: Config) -> str:
    """What a step's cost depends on: the config with its training seed set aside (the seeds of one setting
    train the same networks on the same shapes)."""
    return repr(dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, seed=0)))


def cpu_clock() -> float:
    """Seconds of CPU time of this process (``time.process_time``) and of its children
    that have finished (``getrusage``, where the platform has it): the cost of one-torch-thread work as a core of
    its own would take it. Wall time is not: another process's load stretches it (a one-thread MLP loop took 8.1 s
    of wall time for 4.0 s of CPU time at load 2.7 on 2 cores)."""
    own = time.process_time()
    try:
        import resource
    except ImportError:  # Windows: no children's times (reproductions run their probes in-process)
        return own
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + children.ru_utime + children.ru_stime


def _timed(fn, n: int, device) -> float:
    import torch

    cuda = device.type == "cuda"
    clock = time.perf_counter if cuda else cpu_clock  # CUDA: wall time, kernels timed to their end

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    sync()
    start = clock()
    for _ in range(n):
        fn()
    sync()
    return (clock() - start) / n


def estimate_run(cfg: Config, run_dir: Path, name: str = "", label: str = "", seed: int = 0, probe: int = 5,
                 warmup: int = 2, timing: tuple[float, float] | None = None) -> RunEstimate:
    """Estimate one run (its resolved config, its folder); writes nothing. ``timing``: its (critic, generator)
    step times when already measured (another seed of the same setting), else they are measured here."""
    from ..rundir import load_checkpoint
    from ..training.trainer import Trainer

    steps_total = cfg.train.steps
    state = run_state(run_dir)
    if state == "finished":
        return RunEstimate(name, label, seed, "done", 0, 0.0, 0.0, 0)
    start, status = 0, "todo"
    if state == "interrupted":
        start, status = int(load_checkpoint(run_dir)["step"]), "resume"
    if timing is None:
        trainer = Trainer(cfg)  # a fresh copy: a step costs the same at any point of the run
        for _ in range(warmup):
            trainer.train_step()
        timing = (_timed(trainer.critic_step, probe, trainer.device),
                  _timed(trainer.generator_step, probe, trainer.device))
    from ..training.trainer import pick_device

    left = max(0, steps_total - start)
    return RunEstimate(name, label, seed, status, left, *timing, _critic_steps(cfg, start, steps_total),
                       pick_device(cfg.train.device).type == "cpu")


def estimate_study(study: Study, out: str | Path, probe: int = 5, warmup: int = 2,
                   on_run=None) -> list[RunEstimate]:
    """Every run of ``study`` (in its order) with its estimated training time; finished runs cost 0. The seeds
    of one setting are timed once (the first still to train) and share its step times."""
    import torch

    out = Path(out)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as a worker of the pool trains
    try:
        estimates, timings = [], {}
        for r in study.runs():
            cfg = study.config(r)
            key = _seedless(cfg)
            est = estimate_run(cfg, out / "runs" / r.name, r.name, r.label, r.seed, probe, warmup, timings.get(key))
            if est.status != "done":
                timings[key] = (est.critic_step_s, est.generator_step_s)
            estimates.append(est)
            if on_run is not None:
                on_run(est)
        return estimates
    finally:
        torch.set_num_threads(threads)


def makespan(seconds: list[float], workers: int) -> float:
    """The wall time of jobs taken in order by ``workers`` workers, each free worker taking the next job."""
    free = [0.0] * max(1, workers)
    for s in seconds:
        heapq.heappush(free, heapq.heappop(free) + s)
    return max(free)


__all__ = ["RunEstimate", "cpu_clock", "estimate_run", "estimate_study", "makespan"]

"""The torch CPU thread count of a run (``train.threads``; 0 = chosen from the work per step).

A generator step of a small network is a few hundred small kernels; with two or more intra-op threads each
kernel pays a fork/join, and on a loaded machine a spinning OpenMP thread waits for a core the scheduler gave
to someone else. Measured on a 2-core machine (``benchmarks/threads.py``, docs/toy.md "Threads"): the toy MLPs
(widths 128 and 512) and the image demo's DCGAN run faster on one thread, and at load 7 two threads were 12x
slower (40 steps: 223 s vs 18 s, issue 13). So the automatic choice is one thread below
:data:`PARALLEL_WORK` forward FLOPs per step, and above it torch's default (one per physical core) capped by
the cores the machine's load leaves idle. The count changes only speed, never what a run computes beyond
floating-point round-off (the reductions of a multi-threaded kernel may group sums differently).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import torch

# forward FLOPs per generator step (generator + critic, one sample each, times the batch) above which more
# than one thread pays; between the largest net where one thread won and the smallest where two did
# (benchmarks/threads.py on 2 cores, docs/toy.md)
PARALLEL_WORK = 2e9


def forward_flops(cfg: Any, shape: tuple[int, ...]) -> int:
    """Forward FLOPs of one sample through the generator and then the critic, counted by torch's
    ``FlopCounterMode`` on networks built on the meta device (no memory, no initialisation, no RNG use)."""
    from torch.utils.flop_counter import FlopCounterMode

    from .nets import build_critic, build_generator

    rng = torch.get_rng_state()
    try:
        with torch.device("meta"):
            G = build_generator(cfg.generator, shape)
            D = build_critic(cfg.critic, shape)
        latent = getattr(G, "latent_dim", cfg.generator.latent_dim)
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            y = torch.zeros(2, dtype=torch.long, device="meta") if cfg.generator.n_classes else None
            z = torch.zeros(2, latent, device="meta")  # batch 2: batch norm needs more than one row
            x = G(z) if y is None else G(z, y)
            D(torch.zeros(2, *shape, device="meta") if x is None else x)
        return counter.get_total_flops() // 2
    except Exception:  # a family the meta device cannot run (e.g. data-plus-noise): count it as small
        return 0
    finally:
        torch.set_rng_state(rng)


def work_per_step(cfg: Any, shape: tuple[int, ...] | None = None) -> float:
    """The work the thread rule reads: forward FLOPs per sample times ``data.batch_size`` (the step's
    real cost is a fixed multiple of it: n_critic critic steps with the penalty's double backward)."""
    if shape is None:
        from .data import make_sampler

        shape = tuple(make_sampler(cfg.data.name, cfg.data).shape)
    return float(forward_flops(cfg, tuple(shape))) * cfg.data.batch_size


def auto_threads(work: float, cores: int | None = None, load: float | None = None) -> int:
    """1 below :data:`PARALLEL_WORK`; else torch's default count, at most the cores the load leaves idle."""
    if work < PARALLEL_WORK:
        return 1
    cores = cores or os.cpu_count() or 1
    if load is None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    idle = max(1, int(cores - load + 0.5))
    return min(cores, idle)


def run_threads(cfg: Any, shape: tuple[int, ...]) -> int:
    """The thread count for a run: ``train.threads`` when set, else :func:`auto_threads` of its work."""
    t = int(getattr(cfg.train, "threads", 0))
    return t if t > 0 else auto_threads(work_per_step(cfg, shape))


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run torch CPU ops on ``n`` intra-op threads, restoring the previous count afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)

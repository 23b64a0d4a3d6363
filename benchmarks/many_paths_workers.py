"""Train the ensembles of ``wgan reproduce many-paths-exp1/2`` in N worker processes (one torch thread each).

Every ensemble of a reproduction is kept in ``OUT/runs/NAME.json`` under the setting it was made with
(:func:`wgan.experiments._common.cached_run`); this script fills those files in parallel, the largest first,
and the reproduction command run afterwards with the same ``--out``, ``--seeds`` and ``--steps`` reuses every
one of them (it trains nothing) and writes results.json and the figures:

    python benchmarks/many_paths_workers.py --workers 4 --seeds 100 --steps 500 --out /tmp/mp
    wgan reproduce many-paths-exp1 --seeds 100 --steps 500 --out /tmp/mp/exp1
    wgan reproduce many-paths-exp2 --seeds 100 --steps 500 --out /tmp/mp/exp2

The list of ensembles comes from the reproduction's own sweep functions (run once with a stand-in trainer
that only records its arguments), so it cannot drift from what the command trains.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np

from wgan.studies.runner import stop_with_parent


def jobs(tag: str, out: Path, seeds: int | None, steps: int | None) -> list[tuple]:
    from wgan.experiments import Context
    from wgan.experiments import _many_paths as m

    setting = m.EXP1 if tag == "exp1" else m.EXP2
    plan = m.make_plan(Context(out=out, seeds=seeds, steps=steps))
    found: list[tuple] = []
    real = m._cached

    def record(cache, name, cfg, sampler, seeds, steps, lr):
        found.append((str(cache), name, cfg, sampler, seeds, steps, lr))
        n = len(seeds)
        return {"init": [1.0] * n, "final": [1.0] * n, "filled": [1.0] * n}

    m._cached = record
    try:
        cache = out / "runs"
        lr_block = m.sweep_lr(setting, plan, cache)
        m.sweep_n_critic(setting, plan, cache)
        m.sweep_dim(setting, plan, cache, lr_block)
    finally:
        m._cached = real
    return found


def cost(job: tuple) -> float:
    """Relative cost: members x steps x (discriminator steps + 1) x (d + penalty rows)."""
    _, _, cfg, sampler, seeds, steps, _ = job
    from wgan.resolve import resolve

    c = resolve(cfg, check_data=False)
    return len(seeds) * steps * (c.objective.n_critic + 1) * (sampler.dim + 10)


def work(job: tuple) -> str:
    import os

    os.nice(5)
    import torch

    torch.set_num_threads(1)
    from wgan.experiments import _many_paths as m

    cache, name, cfg, sampler, seeds, steps, lr = job
    t = time.perf_counter()
    with np.errstate(all="ignore"):
        m._cached(Path(cache), name, cfg, sampler, seeds, steps, lr)
    return f"{Path(cache).parent.name}/{name}: {time.perf_counter() - t:.0f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder holding exp1/ and exp2/")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--experiments", default="exp1,exp2")
    args = ap.parse_args()
    todo = [j for tag in args.experiments.split(",") for j in jobs(tag, args.out / tag, args.seeds, args.steps)]
    todo.sort(key=cost, reverse=True)
    t0 = time.perf_counter()
    print(f"{len(todo)} ensembles, {args.workers} workers", file=sys.stderr, flush=True)
    with mp.get_context("spawn").Pool(args.workers, initializer=stop_with_parent) as pool:
        for line in pool.imap_unordered(work, todo):
            print(f"[{time.perf_counter() - t0:.0f} s] {line}", file=sys.stderr, flush=True)
    print(f"all done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

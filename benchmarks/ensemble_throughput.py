"""Member-steps per second: S independent Experiment I critics trained vectorised, against the normal loop.

The model is Fedus et al. 2018 (*Many Paths to Equilibrium*) Experiment I as ``wgan reproduce
many-paths-exp1`` trains it: data on a line in d = 10 dimensions, a linear generator with a 1-D latent, a
one-hidden-layer ReLU critic (width 16), batch 64, WGAN-GP's critic step (Wasserstein loss + lambda 10 x
the gradient penalty, Adam). One *member-step* is one critic update of one member.

* sequential: ``Trainer.critic_step()`` of the library's one training loop, one member, repeated;
* vectorised: ``Ensemble.critic_step()`` with S = 1000 members (backend ``fused`` by default, shared
  randomness); ``--backend vmap`` times the plain torch.func path (stack_module_state + vmap(grad(...))).

Both run in this process, alternating in rounds so that machine noise hits both alike; both use the same
torch thread count.

    python benchmarks/ensemble_throughput.py [--members 1000] [--rounds 3] [--threads N] [--backend fused] [--compile]

Prints member-steps/s of each per round, the medians and the ratio vectorised / sequential.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from wgan.ensemble import Ensemble
from wgan.experiments._many_paths import EXP1, experiment_config, line_trainer


def sequential(trainer, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        trainer.critic_step()
    return steps / (time.perf_counter() - start)


def vectorised(ens: Ensemble, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        ens.critic_step()
    return ens.S * steps / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20, help="vectorised critic steps per round")
    ap.add_argument("--seq-steps", type=int, default=300, help="sequential critic steps per round")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    ap.add_argument("--backend", default="fused", choices=["fused", "bmm", "vmap"])
    ap.add_argument("--dim", type=int, default=EXP1.dim)
    ap.add_argument("--compile", action="store_true", help="torch.compile the fused step (needs a C++ compiler)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = experiment_config(EXP1, "wgan-gp")
    sampler = EXP1.sampler(args.dim)
    trainer = line_trainer(cfg, sampler, seed=0)
    ens = Ensemble(cfg, range(args.members), sampler, backend=args.backend, compile=args.compile)
    sequential(trainer, 20)  # warm-up
    vectorised(ens, 2)
    print(f"Experiment I, d={args.dim}, critic width {EXP1.width}, batch {EXP1.batch_size}, wgan-gp critic "
          f"steps; torch threads {torch.get_num_threads()}; backend {ens.backend}"
          f"{' (compiled)' if args.compile else ''}; S={args.members}")
    seq, vec = [], []
    for r in range(args.rounds):
        seq.append(sequential(trainer, args.seq_steps))
        vec.append(vectorised(ens, args.steps))
        print(f"round {r}: sequential {seq[-1]:10.0f} member-steps/s   vectorised {vec[-1]:10.0f} member-steps/s")
    s, v = statistics.median(seq), statistics.median(vec)
    print(f"median: sequential {s:.0f}, vectorised {v:.0f} member-steps/s; ratio vectorised/sequential = "
          f"{v / s:.1f}x")


if __name__ == "__main__":
    main()

"""How ``train.threads = 0`` (auto) chooses the torch thread count: seconds per generator step of the library's
loop at 1 and at N threads (N = this machine's cores), side by side in rounds, for networks from the toy demo to
image nets, against the work per step the rule reads (:func:`wgan.threads.work_per_step`: forward FLOPs per
sample of generator + critic, times the batch).

    python benchmarks/threads.py [--steps 10] [--rounds 3] [--only NAME ...]

Prints one line per network: its work, s/step at 1 and N threads and the ratio t(1) / t(N) (> 1: the extra
threads pay), then the machine load. The rule's threshold (wgan.threads.PARALLEL_WORK) sits between the
largest network where one thread won and the smallest where N threads did.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from wgan import Config, Trainer
from wgan.config import apply_sets
from wgan.threads import work_per_step

TOY = ["objective.penalty_weight=0.1", "optim.beta1=0.5", "optim.lr=1e-4"]
NETS: dict[str, list[str]] = {
    "mlp-128 (toy demo)": ["generator.width=128", "critic.width=128", *TOY],
    "mlp-512 (WGAN-GP toy)": ["generator.width=512", "critic.width=512", *TOY],
    "dcgan-16 32px (image demo)": ["data.name=digits", "data.image_size=32", "data.batch_size=64",
                                   "generator.net=dcgan", "critic.net=dcgan", "generator.width=16",
                                   "critic.width=16", "generator.latent_dim=128", "generator.norm=batch",
                                   "critic.norm=layer", "critic.activation=leaky_relu"],
    "mnist-conv-64 28px (WGAN-GP MNIST)": ["data.name=digits", "data.image_size=28", "data.batch_size=50",
                                           "generator.net=mnist-conv", "critic.net=mnist-conv",
                                           "generator.width=64", "critic.width=64", "generator.latent_dim=128"],
}


def seconds_per_step(sets: list[str], steps: int, threads: int) -> float:
    torch.set_num_threads(threads)
    cfg = apply_sets(Config(), [*sets, "train.device=cpu", f"train.threads={threads}", "train.steps=1000"])
    tr = Trainer(cfg)
    tr.train_step()  # warm-up: allocator, kernels
    start = time.perf_counter()
    for _ in range(steps):
        tr.train_step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", nargs="+", help="substrings of the network names to run")
    args = ap.parse_args()
    n = os.cpu_count() or 1
    print(f"torch {torch.__version__}, {n} cores, load {os.getloadavg()[0]:.2f}; {args.steps} steps x "
          f"{args.rounds} rounds, 1 vs {n} threads alternating")
    print("network | work/step (MFLOP) | s/step 1 thread | s/step N threads | t1/tN")
    for name, sets in NETS.items():
        if args.only and not any(s in name for s in args.only):
            continue
        work = work_per_step(apply_sets(Config(), sets))
        one, many = [], []
        for r in range(args.rounds):
            for t in ((1, n) if r % 2 == 0 else (n, 1)):
                (one if t == 1 else many).append(seconds_per_step(sets, args.steps, t))
        m1, mn = statistics.median(one), statistics.median(many)
        print(f"{name} | {work / 1e6:.0f} | {m1:.4f} | {mn:.4f} | {m1 / mn:.2f}", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

"""Generator iterations per second: the library's training loop (eager, and compiled with ``--compile``)
against a plain PyTorch loop.

All train WGAN-GP on 8 Gaussians at the WGAN-GP authors' toy settings (3 hidden ReLU layers of width
512 in both networks, batch 256, n_critic 5, lambda 0.1, Adam 1e-4, beta (0.5, 0.9)), in the same
process, alternating in rounds so that machine noise hits all alike. The library is timed through
``Trainer.train_step`` plus its logging reduction every 10 steps (what ``Trainer.fit`` does between
evaluations); the plain loop is what a careful user would write by hand (the authors' algorithm, no logging).
``--compile`` adds the library with ``train.compile = true`` (wgan.training.compiled): its first step compiles (timed
apart and reported, with the break-even: the run length from which compiling saves time), later steps are
timed like the others. The machine's matmul peak is measured in the same run (a square fp32 GEMM on the same
threads) and each loop's achieved FLOP rate is printed as a fraction of it (FLOPs per step counted once by
torch's FlopCounterMode over an eager step: forward, backward and the penalty's double backward).

    python benchmarks/toy_throughput.py [--steps 100] [--rounds 3] [--width 512] [--threads N] [--compile]

Prints it/s of each per round, the medians and the ratios; with ``--compile`` the last line is
``ratio compiled/plain = N.NNx``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch import nn

from wgan import Config, Trainer
from wgan.config import apply_sets
from wgan.data import make_sampler


def plain_loop(steps: int, width: int, batch: int, n_critic: int, lam: float, seed: int) -> float:
    """A plain WGAN-GP loop (Gulrajani et al. 2017, Algorithm 1). Returns generator iterations / s."""
    torch.manual_seed(seed)

    def mlp(i: int, o: int) -> nn.Module:
        return nn.Sequential(nn.Linear(i, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                             nn.Linear(width, width), nn.ReLU(), nn.Linear(width, o))

    G, D = mlp(2, 2), mlp(2, 1)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9))
    sampler = make_sampler("8gaussians")
    rng = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(steps):
        for _ in range(n_critic):
            real = sampler.sample(batch, rng)
            with torch.no_grad():
                fake = G(torch.randn(batch, 2))
            d_loss = D(fake).mean() - D(real).mean()
            eps = torch.rand(batch, 1)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
            d_loss = d_loss + lam * ((grad.norm(dim=1) - 1) ** 2).mean()
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        for p in D.parameters():
            p.requires_grad_(False)
        g_loss = -D(G(torch.randn(batch, 2))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)
    return steps / (time.perf_counter() - start)


def library_trainer(width: int, batch: int, n_critic: int, lam: float, seed: int, compile: bool = False) -> Trainer:
    cfg = apply_sets(Config(), [
        "data.name=8gaussians", f"data.batch_size={batch}", "objective.name=wgan-gp",
        f"objective.penalty_weight={lam}", f"objective.n_critic={n_critic}", "optim.lr=1e-4", "optim.beta1=0.5",
        "optim.beta2=0.9", f"generator.width={width}", f"critic.width={width}", "train.steps=1000000",
        f"train.seed={seed}", "train.device=cpu", f"train.compile={str(compile).lower()}",
        f"train.threads={torch.get_num_threads()}",
    ])
    return Trainer(cfg)


def library_rate(tr: Trainer, steps: int) -> float:
    """Generator iterations / s of ``steps`` more steps of ``tr`` (logging reduction every 10 steps, as fit)."""
    start = time.perf_counter()
    for s in range(1, steps + 1):
        tr.train_step()
        if s % 10 == 0:
            tr._flush()
    return steps / (time.perf_counter() - start)


def flops_per_step(width: int, batch: int, n_critic: int, lam: float) -> int:
    """Matmul FLOPs of one generator iteration (n_critic critic steps + one generator step), eager."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class Count(TorchDispatchMode):  # FlopCounterMode's formulas without its module hooks (no double backward)
        flops = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            formula = flop_registry.get(func._overloadpacket)
            if formula is not None:
                Count.flops += formula(*args, **(kwargs or {}), out_val=out)
            return out

    tr = library_trainer(width, batch, n_critic, lam, seed=0)
    with Count():
        tr.train_step()
    return Count.flops


def matmul_peak(n: int = 1024, seconds: float = 1.0) -> float:
    """FLOP/s of a square fp32 GEMM on this process's threads (the best of three timed bursts)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = 0.0
    for _ in range(3):
        start, reps = time.perf_counter(), 0
        while time.perf_counter() - start < seconds / 3:
            a @ b
            reps += 1
        best = max(best, 2 * n**3 * reps / (time.perf_counter() - start))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--compile", action="store_true",
                    help="also time train.compile = true (its first step compiles: minutes on a loaded CPU; the "
                         "break-even run length is printed -- shorter runs are faster eager; measured at width 128 "
                         "on 2 cores at load 29: 183 s to compile, 1.34x faster after, break-even 1,596 steps)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    kw = dict(width=args.width, batch=args.batch, n_critic=5, lam=0.1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {os.getloadavg()[0]:.2f}; width "
          f"{args.width}, batch {args.batch}, n_critic 5, {args.steps} generator steps per measurement")
    flops = flops_per_step(**kw)
    plain_loop(5, seed=0, **kw)  # warm up allocator and kernels
    trainers = {"library": library_trainer(seed=0, **kw)}
    compile_s = 0.0
    if args.compile:
        trainers["compiled"] = library_trainer(seed=0, compile=True, **kw)
        start = time.perf_counter()
        trainers["compiled"].train_step()  # compiles the critic and generator steps and the optimiser steps
        compile_s = time.perf_counter() - start
        print(f"compile (first compiled step): {compile_s:.1f} s")
    for tr in trainers.values():
        library_rate(tr, 3)
    names = ["plain", *trainers]
    rates: dict[str, list[float]] = {n: [] for n in names}
    peaks = []
    for r in range(args.rounds):
        peaks.append(matmul_peak())
        for name in (names if r % 2 == 0 else names[::-1]):
            rate = plain_loop(args.steps, seed=r, **kw) if name == "plain" else library_rate(trainers[name], args.steps)
            rates[name].append(rate)
        print(f"round {r}: " + "   ".join(f"{n} {rates[n][-1]:7.2f} it/s" for n in names)
              + f"   matmul peak {peaks[-1] / 1e9:.1f} GFLOP/s", flush=True)
    m = {n: statistics.median(v) for n, v in rates.items()}
    peak = statistics.median(peaks)
    print(f"work: {flops / 1e6:.0f} MFLOP per generator step (matmuls); matmul peak {peak / 1e9:.1f} GFLOP/s; "
          f"load {os.getloadavg()[0]:.2f}")
    for n in names:
        print(f"median {n:9s} {m[n]:7.2f} it/s  {flops * m[n] / 1e9:6.1f} GFLOP/s = {flops * m[n] / peak:.0%} of peak")
    print(f"ratio library/plain = {m['library'] / m['plain']:.2f}x")
    if args.compile:
        saved = 1 / m["library"] - 1 / m["compiled"]  # seconds saved per step once compiled
        even = f"{compile_s / saved:.0f} steps" if saved > 0 else "never (compiled is not faster)"
        print(f"ratio compiled/library = {m['compiled'] / m['library']:.2f}x; compile {compile_s:.1f} s, "
              f"break-even after {even}")
        print(f"ratio compiled/plain = {m['compiled'] / m['plain']:.2f}x")


if __name__ == "__main__":
    main()

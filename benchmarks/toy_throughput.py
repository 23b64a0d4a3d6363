"""Generator iterations per second: the library's training loop against a plain PyTorch loop.

Both train WGAN-GP on 8 Gaussians at the WGAN-GP authors' toy settings (3 hidden ReLU layers of width
512 in both networks, batch 256, n_critic 5, lambda 0.1, Adam 1e-4, beta (0.5, 0.9)), in the same
process, alternating in rounds so that machine noise hits both alike. The library is timed through
``Trainer.fit`` (logging every 10 steps, gradient-norm statistics, running means: everything a run does
except the final exact-W1 evaluation, which happens after the clock stops); the plain loop is what a
careful user would write by hand (the authors' algorithm, no logging).

    python benchmarks/toy_throughput.py [--steps 100] [--rounds 3] [--width 512] [--threads N]

Prints it/s of each per round, the medians and the ratio library / plain (>= 1 means not slower).
"""

from __future__ import annotations

import argparse
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


def library_loop(steps: int, width: int, batch: int, n_critic: int, lam: float, seed: int) -> float:
    cfg = apply_sets(Config(), [
        "data.name=8gaussians", f"data.batch_size={batch}", "objective.name=wgan-gp",
        f"objective.penalty_weight={lam}", f"objective.n_critic={n_critic}", "optim.lr=1e-4", "optim.beta1=0.5",
        "optim.beta2=0.9", f"generator.width={width}", f"critic.width={width}", f"train.steps={steps}",
        f"train.seed={seed}", "train.log_every=10", f"train.eval_every={10 * steps}", "train.device=cpu",
    ])
    summary = Trainer(cfg).fit(None)
    return steps / summary["train_time_s"]  # train_time_s stops before the final evaluation


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    kw = dict(width=args.width, batch=args.batch, n_critic=5, lam=0.1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; width {args.width}, batch {args.batch}, "
          f"n_critic 5, {args.steps} generator steps per measurement")
    plain_loop(5, seed=0, **kw)  # warm up allocator and kernels
    library_loop(5, seed=0, **kw)
    lib, plain = [], []
    for r in range(args.rounds):
        first, second = (library_loop, plain_loop) if r % 2 == 0 else (plain_loop, library_loop)
        a = first(args.steps, seed=r, **kw)
        b = second(args.steps, seed=r, **kw)
        lib_r, plain_r = (a, b) if first is library_loop else (b, a)
        lib.append(lib_r)
        plain.append(plain_r)
        print(f"round {r}: library {lib_r:7.2f} it/s   plain {plain_r:7.2f} it/s   ratio {lib_r / plain_r:.3f}")
    ml, mp = statistics.median(lib), statistics.median(plain)
    print(f"median:  library {ml:7.2f} it/s   plain {mp:7.2f} it/s   ratio library/plain {ml / mp:.3f}")


if __name__ == "__main__":
    main()

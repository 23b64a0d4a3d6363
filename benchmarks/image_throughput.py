"""Training images per second on images: the library's loop against a plain PyTorch loop, same nets.

Both train WGAN-GP (Gulrajani et al. 2017, Algorithm 1: n_critic 5, lambda 10, Adam 1e-4, beta (0, 0.9)) on
scikit-learn's bundled digits resized to 16x16, with the WGAN authors' DCGAN generator (batch norm) and critic
(no normalisation) at a small width, built by ``wgan.nets`` for both loops so that only the loop differs. The
library is timed through ``Trainer.train_step`` plus its per-interval logging reduction (``_flush`` every 10
steps: what ``Trainer.fit`` does apart from evaluation, samples and checkpoints); the plain loop is what a
careful user would write by hand (no logging). They alternate in rounds in one process, so machine noise hits
both alike. "Images" are real training images consumed: n_critic * batch per generator step.

``--compile`` adds the library with ``train.compile = true`` (wgan.training.compiled): its first step compiles (timed
apart, with the break-even run length from which compiling saves time); the last line is then
``ratio compiled/plain = N.NNx``.

    python benchmarks/image_throughput.py [--steps 20] [--rounds 3] [--width 16] [--batch 64] [--threads 1]
        [--net dcgan|mnist-conv] [--size 16] [--device cpu|cuda] [--amp] [--compile]

Prints images/s of each per round, the medians and the ratio library / plain (>= 1 means not slower).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from wgan import Config, Trainer
from wgan.config import apply_sets
from wgan.data import make_sampler
from wgan.nets import build_critic, build_generator
from wgan.penalties import interpolates


def config(args: argparse.Namespace, steps: int, seed: int, compile: bool = False) -> Config:
    return apply_sets(Config(), [f"train.compile={str(compile).lower()}", f"train.threads={torch.get_num_threads()}",
        "data.name=digits", f"data.image_size={args.size}", f"data.batch_size={args.batch}",
        "objective.name=wgan-gp", f"generator.net={args.net}", f"critic.net={args.net}", "generator.norm=batch",
        "critic.norm=none", f"generator.width={args.width}", f"critic.width={args.width}", "generator.latent_dim=64",
        f"train.steps={steps}", f"train.seed={seed}", f"train.device={args.device}",
        f"train.amp={str(args.amp).lower()}",
    ])


def plain_loop(args: argparse.Namespace, steps: int, seed: int) -> float:
    """A plain WGAN-GP loop (Algorithm 1) on the same nets, optimisers and data. Returns images / s."""
    cfg = config(args, steps, seed)
    dev = torch.device(args.device)
    torch.manual_seed(seed)
    sampler = make_sampler("digits", cfg.data)
    G = build_generator(cfg.generator, sampler.shape).to(dev)
    D = build_critic(cfg.critic, sampler.shape).to(dev)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.0, 0.9))
    rng = torch.Generator().manual_seed(seed)
    n, lam, latent = args.batch, 10.0, cfg.generator.latent_dim
    amp = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.amp)
    start = time.perf_counter()
    for _ in range(steps):
        for _ in range(5):
            real = sampler.sample(n, rng).to(dev)
            with torch.no_grad(), amp:
                fake = G(torch.randn(n, latent, device=dev)).float()
            with amp:
                d_loss = D(fake).float().mean() - D(real).float().mean()
                x_hat = interpolates(real, fake).requires_grad_(True)
                out = D(x_hat).float()
            (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
            d_loss = d_loss + lam * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        for p in D.parameters():
            p.requires_grad_(False)
        with amp:
            g_loss = -D(G(torch.randn(n, latent, device=dev))).float().mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return steps * 5 * n / (time.perf_counter() - start)


def library_rate(tr: Trainer, steps: int) -> float:
    """Images / s of ``steps`` more steps of ``tr`` (the logging reduction every 10 steps, as fit)."""
    start = time.perf_counter()
    for s in range(1, steps + 1):
        tr.train_step()
        if s % 10 == 0 or s == steps:
            tr._flush()  # the logging reduction fit does every log_every steps (a device sync)
    if tr.device.type == "cuda":
        torch.cuda.synchronize()
    return steps * tr.cfg.objective.n_critic * tr.cfg.data.batch_size / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--net", default="dcgan", choices=("dcgan", "mnist-conv"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--amp", action="store_true", help="bfloat16 autocast in both loops (not with --compile)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--compile", action="store_true",
                    help="also time train.compile = true (its first step compiles: minutes on a loaded CPU; the "
                         "break-even run length is printed -- shorter runs are faster eager; measured for the MNIST "
                         "nets at width 16 on 2 cores at load 21-32: 842 s to compile, 1.13x faster after, "
                         "break-even 9,397 steps)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.device}, load "
          f"{os.getloadavg()[0]:.2f}; {args.net} width {args.width}, digits {args.size}x{args.size}, batch "
          f"{args.batch}, n_critic 5, {args.steps} generator steps per measurement")
    plain_loop(args, 3, seed=0)  # warm up allocator and kernels
    trainers = {"library": Trainer(config(args, 10**6, 0))}
    compile_s = 0.0
    if args.compile:
        trainers["compiled"] = Trainer(config(args, 10**6, 0, compile=True))
        start = time.perf_counter()
        trainers["compiled"].train_step()
        compile_s = time.perf_counter() - start
        print(f"compile (first compiled step): {compile_s:.1f} s")
    for tr in trainers.values():
        library_rate(tr, 2)
    names = ["plain", *trainers]
    rates: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):  # alternate the order
        for name in (names if r % 2 == 0 else names[::-1]):
            rates[name].append(plain_loop(args, args.steps, seed=r) if name == "plain"
                               else library_rate(trainers[name], args.steps))
        print(f"round {r}: " + "   ".join(f"{n} {rates[n][-1]:8.1f} img/s" for n in names), flush=True)
    m = {n: statistics.median(v) for n, v in rates.items()}
    print("median:  " + "   ".join(f"{n} {m[n]:8.1f} img/s" for n in names) + f"; load {os.getloadavg()[0]:.2f}")
    print(f"ratio library/plain = {m['library'] / m['plain']:.2f}x")
    if args.compile:
        batch_imgs = 5 * args.batch
        saved = batch_imgs / m["library"] - batch_imgs / m["compiled"]  # seconds saved per generator step
        even = f"{compile_s / saved:.0f} steps" if saved > 0 else "never (compiled is not faster)"
        print(f"ratio compiled/library = {m['compiled'] / m['library']:.2f}x; compile {compile_s:.1f} s, "
              f"break-even after {even}")
        print(f"ratio compiled/plain = {m['compiled'] / m['plain']:.2f}x")


if __name__ == "__main__":
    main()

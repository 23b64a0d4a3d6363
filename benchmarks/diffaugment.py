"""DiffAugment on 1,000 MNIST digits: the held-out critic gap and FID with and without ``train.augment``.

WGAN-GP (the library's ``wgan-gp`` preset: Adam 1e-4, beta (0, 0.9), lambda 10, 5 critic steps) trained on a
1,000-digit subset of MNIST, once without augmentation and once with ``train.augment`` (default
``translation,cutout,color``, DiffAugment, Zhao et al. 2020), the two arms paired per seed: the same subset, the
same initialisation, the same data batches, noise and penalty draws (the augmentation draws from its own stream).

The split is fixed for every seed (``data.split = random``, ``split_seed = 0``, ``data.val_size = 1000``): of MNIST's
10,000 t10k digits 1,000 are held out, the training split is the other 9,000 and the run trains on the first 1,000
of it (``data.subset``). A seed changes the initialisation, the data order, the noise and the augmentation.

Measured on un-augmented images, at ``--marks`` evenly spaced steps and at the end:

* **held-out critic gap** = mean critic output on the 1,000 training digits minus on the 1,000 held-out digits
  (all of them, no sampling): positive when the critic scores the digits it was trained on as more real than
  unseen digits of the same distribution -- the critic overfitting of WGAN-GP sec. 5.6 (Fig. 5b measures the
  same thing through the critic loss, ``src/wgan/experiments/critic_overfitting.py``); also relative to the
  critic's Wasserstein estimate ``W = mean D(training digits) - mean D(fakes)`` (1,000 fakes);
* **FID** in the feature space of the library's digit classifier (``wgan.metrics.image_metrics.fid`` on
  ``classifier_network``: the network of the ``fid*_classifier`` metrics, trained here once on the 9,000
  training-split digits with ``train_data_classifier``), 1,000 generated images against the 1,000 held-out digits
  (``fid_heldout``, the headline) and against the 1,000 training digits (``fid_train``); the real-data floor
  FID(training digits, held-out digits) is printed beside them.

Intervals: mean over seeds +- a 95% t-interval; the paired difference (augmented - plain) per seed with its own
t-interval.

    python benchmarks/diffaugment.py --data /work/shared/data/mnist [--steps 700] [--seeds 3] [--net mlp]
        [--size 16] [--width 128] [--batch 32] [--augment translation,cutout,color] [--marks 4] [--out FILE.json]

Runs on one thread (``torch.set_num_threads(1)``); prints one progress line per measurement and the table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wgan import Config, Trainer
from wgan.config import DataConfig, apply_sets
from wgan.data import make_sampler
from wgan.data.image_datasets import to_unit_range
from wgan.kinds.image_runs import train_data_classifier
from wgan.metrics.image_metrics import classifier_network, fid

T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}  # t_0.975, dof


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def data_sets(args: argparse.Namespace) -> list[str]:
    return [f"data.name={args.data}", f"data.image_size={args.size}", "data.split=random", "data.split_seed=0",
            f"data.val_size={args.held_out}", f"data.subset={args.subset}"]


def config(args: argparse.Namespace, seed: int, augment: str) -> Config:
    net = [f"generator.net={args.net}", f"critic.net={args.net}", f"generator.width={args.width}",
           f"critic.width={args.width}", "generator.norm=none", "critic.norm=none",
           f"generator.latent_dim={args.latent}"]
    return apply_sets(Config(), [*data_sets(args), *net, "objective.name=wgan-gp", f"data.batch_size={args.batch}",
                                 f"train.steps={args.steps}", f"train.seed={seed}", "train.device=cpu",
                                 f"train.augment={augment}"])


def all_images(sampler: Any) -> torch.Tensor:
    """Every image the sampler holds ``(N, C, H, W)`` in [-1, 1] (its own mapping, no dequantisation noise)."""
    return to_unit_range(sampler.pixels, False, torch.Generator())


@torch.no_grad()
def mean_score(D: torch.nn.Module, x: torch.Tensor) -> float:
    return float(torch.cat([D(b).float() for b in x.split(500)]).double().mean())


def measure(tr: Trainer, train_x: torch.Tensor, held_x: torch.Tensor, net: Any | None) -> dict[str, float]:
    fakes = tr.generate(len(train_x), seed=30_000 + tr.cfg.train.seed)
    s_train, s_held, s_fake = mean_score(tr.D, train_x), mean_score(tr.D, held_x), mean_score(tr.D, fakes)
    out = {"step": tr.step, "score_train": s_train, "score_heldout": s_held, "score_fake": s_fake,
           "gap": s_train - s_held, "w_estimate": s_train - s_fake}
    out["gap_over_w"] = out["gap"] / out["w_estimate"] if out["w_estimate"] else float("nan")
    if net is not None:
        out["fid_heldout"] = fid(held_x, fakes, net)
        out["fid_train"] = fid(train_x, fakes, net)
    return out


def interval(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval (nan for one value)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(T95.get(len(v) - 1, 1.96) * v.std(ddof=1) / math.sqrt(len(v)))


def fmt(values: list[float], digits: int = 3) -> str:
    m, h = interval(values)
    return f"{m:.{digits}g}" if math.isnan(h) else f"{m:.{digits}g} [{m - h:.{digits}g}, {m + h:.{digits}g}]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data/mnist", help="an MNIST IDX folder (t10k alone is enough)")
    ap.add_argument("--steps", type=int, default=700, help="generator steps per run")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--subset", type=int, default=1000, help="training digits")
    ap.add_argument("--held-out", type=int, default=1000, help="held-out digits (data.val_size)")
    ap.add_argument("--net", default="mlp", help="generator.net and critic.net")
    ap.add_argument("--size", type=int, default=16, help="data.image_size")
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--latent", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--augment", default="translation,cutout,color")
    ap.add_argument("--marks", type=int, default=4, help="gap measurements besides step 0 (the last one with FID)")
    ap.add_argument("--classifier-steps", type=int, default=400)
    ap.add_argument("--out", default="", help="write the runs and the table as JSON here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()

    full = make_sampler(args.data, DataConfig(name=args.data, image_size=args.size, split="random", split_seed=0,
                                              val_size=args.held_out))  # the 9,000-digit training split
    cls, info = train_data_classifier(full, steps=args.classifier_steps, seed=0, width=16)
    net = classifier_network(cls, info)
    say(f"classifier: held-out accuracy {info.held_out_accuracy:.4f} ({time.perf_counter() - start:.0f} s)")

    runs: list[dict[str, Any]] = []
    floor = None
    for seed in range(args.seeds):
        for arm, augment in (("plain", ""), ("augment", args.augment)):
            t0 = time.perf_counter()
            tr = Trainer(config(args, seed, augment))
            train_x, held_x = all_images(tr.sampler), all_images(tr.val_sampler)
            assert len(train_x) == args.subset and len(held_x) == args.held_out
            if floor is None:
                floor = fid(held_x, train_x, net)
            marks = sorted({int(round(k * args.steps / args.marks)) for k in range(1, args.marks + 1)})
            curve = [measure(tr, train_x, held_x, None)]
            for m in marks:
                while tr.step < m:
                    tr.train_step()
                curve.append(measure(tr, train_x, held_x, net if m == args.steps else None))
                last = curve[-1]
                say(f"seed {seed} {arm}: step {m}/{args.steps}, gap {last['gap']:.4g}, W {last['w_estimate']:.4g}"
                    + (f", FID held-out {last['fid_heldout']:.2f}" if "fid_heldout" in last else "")
                    + f" ({time.perf_counter() - t0:.0f} s)")
            runs.append({"seed": seed, "arm": arm, "augment": augment, "final": curve[-1], "curve": curve,
                         "seconds": time.perf_counter() - t0})

    keys = ("gap", "gap_over_w", "w_estimate", "fid_heldout", "fid_train")
    table: dict[str, Any] = {}
    for k in keys:
        by = {arm: [r["final"][k] for r in runs if r["arm"] == arm] for arm in ("plain", "augment")}
        diff = [a - p for a, p in zip(by["augment"], by["plain"], strict=True)]
        table[k] = {"plain": by["plain"], "augment": by["augment"], "plain_ci": interval(by["plain"]),
                    "augment_ci": interval(by["augment"]), "diff_ci": interval(diff)}
    total = time.perf_counter() - start
    print(f"\n{args.subset} MNIST digits at {args.size}x{args.size}, {args.net} width {args.width}, wgan-gp preset, "
          f"{args.steps} generator steps, seeds 0..{args.seeds - 1}, augment = {args.augment!r}; "
          f"FID floor (training vs held-out digits) {floor:.2f}; classifier held-out accuracy "
          f"{info.held_out_accuracy:.4f}; {total:.0f} s in all\n")
    print("| at the last step | plain | augmented | augmented - plain (paired) |")
    print("|---|---|---|---|")
    for k in keys:
        by = table[k]
        diff = [a - p for a, p in zip(by["augment"], by["plain"], strict=True)]
        print(f"| {k} | {fmt(by['plain'])} | {fmt(by['augment'])} | {fmt(diff)} |")
    print("\nper seed (plain / augmented): " + "; ".join(
        f"seed {s}: gap {runs[2 * s]['final']['gap']:.3g} / {runs[2 * s + 1]['final']['gap']:.3g}, FID held-out "
        f"{runs[2 * s]['final']['fid_heldout']:.2f} / {runs[2 * s + 1]['final']['fid_heldout']:.2f}"
        for s in range(args.seeds)))
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "classifier_accuracy": info.held_out_accuracy,
                                              "fid_floor": floor, "seconds": total, "table": table, "runs": runs},
                                             indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

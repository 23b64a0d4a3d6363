"""How the `wgan train` demo's settings were chosen: candidate WGAN-GP settings on 8 Gaussians, each
trained with the library's loop, with exact W1 / floor at every 1,000 steps and the wall time.

    python benchmarks/demo_settings.py [--only N ...] [--steps 5000] [--eval-every 1000] [--target 1.5]
        [--threads 1] [--compile]

Also prints the time to quality: the first evaluated step with W1 / floor <= ``--target`` and the seconds the run
had taken to get there (evaluations included; ``--eval-every`` sets their spacing). The W1 figures are
deterministic (fixed seeds, CPU, a fixed thread count); the wall times depend on the machine's load, printed
beside them.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from wgan import Config, Trainer
from wgan.config import apply_sets

TOY = ["objective.penalty_weight=0.1", "optim.beta1=0.5"]  # the WGAN-GP authors' toy-code values
CANDIDATES: list[tuple[str, list[str]]] = [
    ("paper Algorithm 1 (lambda 10, beta1 0), width 256", ["generator.width=256", "critic.width=256"]),
    ("toy code (lambda 0.1, beta1 0.5), width 256", ["generator.width=256", "critic.width=256", *TOY]),
    ("toy code, width 256, lr 3e-4", ["generator.width=256", "critic.width=256", *TOY, "optim.lr=3e-4"]),
    ("toy code, width 128", ["generator.width=128", "critic.width=128", *TOY]),
    ("toy code, width 128, lr 3e-4", ["generator.width=128", "critic.width=128", *TOY, "optim.lr=3e-4"]),
    ("toy code, width 128, lr 3e-4, lambda 1",
     ["generator.width=128", "critic.width=128", *TOY, "optim.lr=3e-4", "objective.penalty_weight=1"]),
    ("toy code, width 128, lr 3e-4, he init",
     ["generator.width=128", "critic.width=128", *TOY, "optim.lr=3e-4", "generator.init=he", "critic.init=he"]),
    # added when choosing by time to quality (issue 13): cheaper steps, or a fast start that settles
    ("toy code, width 128, lr 3e-4, linear lr decay",
     ["generator.width=128", "critic.width=128", *TOY, "optim.lr=3e-4", "optim.lr_decay=linear"]),
    ("toy code, width 64", ["generator.width=64", "critic.width=64", *TOY]),
    ("toy code, width 128, batch 128", ["generator.width=128", "critic.width=128", *TOY, "data.batch_size=128"]),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--only", type=int, nargs="+", help="indices of CANDIDATES to run")
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--target", type=float, default=1.5, help="W1 / floor of the time-to-quality column")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (wgan train's auto choice: 1 here)")
    ap.add_argument("--compile", action="store_true", help="train.compile = true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{args.threads} threads, load {os.getloadavg()[0]:.2f}; target W1/floor <= {args.target}")
    print(f"setting | seed | W1/floor every {args.eval_every} steps | final W1 | floor | modes | high-quality | "
          f"s | first step <= target | s to target | load")
    for i, (name, sets) in enumerate(CANDIDATES):
        if args.only and i not in args.only:
            continue
        for seed in args.seeds:
            cfg = apply_sets(Config(), [*sets, f"train.steps={args.steps}", f"train.seed={seed}",
                                        f"train.eval_every={args.eval_every}", "train.log_every=100",
                                        "train.device=cpu", f"train.compile={str(args.compile).lower()}"])
            trainer = Trainer(cfg)
            ratios: list[str] = []
            reached: list[tuple[int, float]] = []
            evaluate = trainer.evaluate
            start = time.perf_counter()

            def recording_evaluate(evaluate=evaluate, trainer=trainer, ratios=ratios, reached=reached, start=start):
                out = evaluate()
                r = out["eval/w1"] / out["eval/w1_floor"]
                if not ratios or not ratios[-1].startswith(f"{trainer.step}:"):
                    ratios.append(f"{trainer.step}:{r:.2f}")
                    if r <= args.target and not reached:
                        reached.append((trainer.step, time.perf_counter() - start))
                return out

            trainer.evaluate = recording_evaluate
            s = trainer.fit(None)
            wall = time.perf_counter() - start
            first, to_target = reached[0] if reached else ("-", float("nan"))
            print(f"[{i}] {name} | {seed} | {' '.join(ratios)} | {s['w1']:.4f} | {s['w1_floor']:.4f} | "
                  f"{s.get('modes_covered')}/{s.get('n_modes')} | {s.get('high_quality_share', 0):.2f} | {wall:.0f} | "
                  f"{first} | {to_target:.0f} | {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()

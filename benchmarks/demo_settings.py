"""How the `wgan train` demo's settings were chosen: candidate WGAN-GP settings on 8 Gaussians, each
trained with the library's loop, with exact W1 / floor at every 1,000 steps and the wall time.

    python benchmarks/demo_settings.py [--only N ...] [--steps 5000]

The W1 figures are deterministic (fixed seeds, CPU); the wall times depend on the machine's load.
"""

from __future__ import annotations

import argparse
import time

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
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--only", type=int, nargs="+", help="indices of CANDIDATES to run")
    args = ap.parse_args()
    print("setting | seed | W1/floor at each 1000 steps | final W1 | floor | modes | high-quality | train s")
    for i, (name, sets) in enumerate(CANDIDATES):
        if args.only and i not in args.only:
            continue
        for seed in args.seeds:
            cfg = apply_sets(Config(), [*sets, f"train.steps={args.steps}", f"train.seed={seed}",
                                        "train.eval_every=1000", "train.log_every=100", "train.device=cpu"])
            trainer = Trainer(cfg)
            ratios: list[str] = []
            evaluate = trainer.evaluate

            def recording_evaluate(evaluate=evaluate, trainer=trainer, ratios=ratios):
                out = evaluate()
                if not ratios or not ratios[-1].startswith(f"{trainer.step}:"):
                    ratios.append(f"{trainer.step}:{out['eval/w1'] / out['eval/w1_floor']:.2f}")
                return out

            trainer.evaluate = recording_evaluate
            start = time.perf_counter()
            s = trainer.fit(None)
            wall = time.perf_counter() - start
            print(f"[{i}] {name} | {seed} | {' '.join(ratios)} | {s['w1']:.4f} | {s['w1_floor']:.4f} | "
                  f"{s.get('modes_covered')}/{s.get('n_modes')} | {s.get('high_quality_share', 0):.2f} | {wall:.0f}",
                  flush=True)


if __name__ == "__main__":
    main()

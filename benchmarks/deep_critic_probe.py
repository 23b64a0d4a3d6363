"""How many generator steps one ``deep-critic-bn`` arm needs to converge: one seed, W1 measured densely.

Trains one arm of ``wgan reproduce deep-critic-bn`` at its cpu sizes (width 64, batch 64, 500 evaluation points)
for ``STEPS`` generator steps and prints the exact W1 over its step-0 value at step 0 and ``--points`` evenly spaced
steps. A run of fewer steps is a prefix of this one (no learning-rate schedule), so the ratio at step N is the
``converged`` test (final W1 <= 0.5 x W1 at step 0) of a run of N steps.

    OMP_NUM_THREADS=1 python benchmarks/deep_critic_probe.py ARM STEPS SEED [--points 10]

ARM: clip-bn-deep, clip-bn-shallow or gp-deep. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from wgan.experiments._deep_runs import DeepRunSetting, deep_wgan
from wgan.experiments.deep_critic_bn import ARMS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("arm", choices=sorted(ARMS))
    ap.add_argument("steps", type=int)
    ap.add_argument("seed", type=int)
    ap.add_argument("--points", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(1)
    sets, depth = ARMS[a.arm]
    s = DeepRunSetting(critic_depth=depth, generator_depth=3, width=64, steps=a.steps, batch=64, n_eval=500,
                       n_measure=a.points)
    start = time.perf_counter()
    r = deep_wgan(sets, s, a.seed)
    print(json.dumps({"arm": a.arm, "seed": a.seed, "s": round(time.perf_counter() - start, 1), "marks": r["marks"],
                      "w1_over_start": [round(w / r["w1"][0], 3) for w in r["w1"]]}))


if __name__ == "__main__":
    main()

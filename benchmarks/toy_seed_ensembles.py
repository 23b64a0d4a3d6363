"""Seeds of a toy reproduction trained as one ensemble against one Trainer run after another (issue 23 item 6).

The settings are those the toy reproductions train (``failed-run-loss``'s reference arm: clipped WGAN, RMSProp,
MLPs 3 x 128, batch 64; ``mixture-of-gaussians``' WGAN and WGAN-GP arms: MLPs 3 x 128, batch 256), with the
constant critic schedule (5 critic steps per generator step) so that a short timing is not all warm-up:

* ensemble: ``wgan.ensemble.Ensemble`` of the seeds, backend ``bmm``, shared random streams (what
  ``wgan.experiments._common.fit_seeds_measuring`` trains);
* sequential: ``Trainer.train_step()`` of each seed's own Trainer, one seed after another.

    OMP_NUM_THREADS=1 python benchmarks/toy_seed_ensembles.py [--steps 40] [--members 3]

Prints both wall times and their ratio per setting (one thread; the machine's load counts in both alike only
roughly: they run one after the other).
"""

from __future__ import annotations

import argparse
import time

import torch

from wgan.config import Config, apply_sets
from wgan.ensemble import Ensemble
from wgan.experiments._toy_runs import ToySetting, toy_config
from wgan.experiments._wgan_stability import StabilitySetting, arm_config
from wgan.training.trainer import Trainer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--members", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    n, seeds = a.steps, list(range(a.members))

    def toy(objective: str) -> Config:  # the runs of wgan.experiments._toy_runs.train_trajectory at the cpu budget
        return toy_config(objective, ToySetting("8gaussians", 128, 3, 256, n, 4, 500, a.members), 0)

    cases = {
        "failed-run-loss rmsprop (3 x 128, batch 64)": arm_config(
            "rmsprop", StabilitySetting("8gaussians", 128, 3, 64, n, 4, 500, a.members, "constant"), 0),
        "mixture-of-gaussians wgan (3 x 128, batch 256)": apply_sets(toy("wgan"), ["train.critic_schedule=constant"]),
        "mixture-of-gaussians wgan-gp (3 x 128, batch 256)": toy("wgan-gp"),
    }
    for name, cfg in cases.items():
        Ensemble(cfg, [0], backend="bmm").fit(2)  # warm-up of both (one-off costs: lazy imports, kernels)
        warm = Trainer(apply_sets(cfg, ["train.seed=99"]))
        for _ in range(2):
            warm.train_step()
        start = time.perf_counter()
        Ensemble(cfg, seeds, rng="shared", backend="bmm").fit(n)
        t_ens = time.perf_counter() - start
        start = time.perf_counter()
        for s in seeds:
            tr = Trainer(apply_sets(cfg, [f"train.seed={s}"]))
            for _ in range(n):
                tr.train_step()
        t_seq = time.perf_counter() - start
        print(f"{name}: {len(seeds)} seeds x {n} generator steps: ensemble {t_ens:.1f} s, one Trainer run after "
              f"another {t_seq:.1f} s, speed-up {t_seq / t_ens:.2f}x", flush=True)


if __name__ == "__main__":
    main()

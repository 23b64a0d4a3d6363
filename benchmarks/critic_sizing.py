"""How many critic steps the fixed-generator reproductions' adequacy gates need: one critic against data + N(0, I)
(WGAN-GP Fig. 1a's setting), trained as the reproduction trains it, with the gate's quantity recorded as the steps
grow (the numbers behind the step counts of proposition-1, other-constraints and value-surfaces at --budget cpu;
one torch thread, run with OMP_NUM_THREADS=1):

    PYTHONPATH=src python benchmarks/critic_sizing.py init 8gaussians --width 128
    PYTHONPATH=src python benchmarks/critic_sizing.py dual 8gaussians --width 128 --steps 6000 --seed 0
    PYTHONPATH=src python benchmarks/critic_sizing.py dual 8gaussians --width 64 --steps 6000 --seed 2 \
        --set objective.penalty=gp --set objective.penalty_weight=10
    PYTHONPATH=src python benchmarks/critic_sizing.py decay l1-decay --steps 2000 --seed 0
    PYTHONPATH=src python benchmarks/critic_sizing.py settle 8gaussians --method clip --steps 6000

* ``init``: a He-initialised 3-layer critic of width ``--width``, seeds ``--seed`` .. ``--seed + 3``: its dual value
  and mean input-gradient norm on the evaluation points before any step;
* ``dual``: a WGAN-GP critic (Algorithm 1) of width ``--width``; its dual value over the exact W1 at 10 evenly spaced
  points, and at the end its gradient norm and cosine on the exact coupling's lines (proposition-1's gate and
  statistic; two-sided-penalty's gate);
* ``decay``: other-constraints' 12 x 64 Swiss-roll critic of one method (``none``: no clipping and no decay, the
  same optimiser); |weight norm / initial - 1| every 250 steps (its gate: at least 10% for both decays);
* ``settle``: value-surfaces' 3 x 256 critic of one method; its dual value every 200 steps, and for each S in 1000,
  2000, ... the gate's number (the last change over what counts as settled, below 1 = settled) of a run stopped at S
  with its 5 checkpoints at S/5, 2S/5, ...
"""

from __future__ import annotations

import argparse
import time

import torch

from wgan.config import Config, apply_sets
from wgan.experiments._common import WGAN_GP_TOY, WGAN_TOY
from wgan.experiments._fixed_critics import (
    FixedSetting,
    dual_value,
    effective_weight_norm,
    exact_transport,
    fixed_critic,
    line_gradients,
    line_points,
    weighted_mean,
)
from wgan.experiments._settled import settling
from wgan.experiments.other_constraints import method_sets
from wgan.training.trainer import Trainer


def _trainer(sets: list[str], data: str, depth: int, width: int, batch: int, n_eval: int, steps: int,
             seed: int) -> Trainer:
    return Trainer(apply_sets(Config(), sets + [
        f"data.name={data}", "generator.net=data-plus-noise", "generator.noise_std=1.0", "objective.n_critic=1",
        f"train.steps={steps}", f"critic.depth={depth}", f"critic.width={width}", "critic.init=he",
        f"data.batch_size={batch}", f"eval.n_samples={n_eval}", f"train.seed={seed}"]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("probe", choices=("init", "dual", "decay", "settle"))
    p.add_argument("what", help="dual/settle: a toy data set; decay: an other-constraints method or none")
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--method", default="clip", help="settle: clip, gp (lambda 0.1) or gp-alg1 (lambda 10)")
    p.add_argument("--set", action="append", default=[], help="dual: extra config sets")
    a = p.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    if a.probe == "init":
        for seed in range(a.seed, a.seed + 4):
            tr = _trainer(["objective.name=wgan-gp"], a.what, 3, a.width, 256, 1000, 10, seed)
            real, _ = tr.reference_data()
            fake = tr.generate(1000, seed=30_000 + seed)
            x = torch.cat([real, fake]).requires_grad_(True)
            (g,) = torch.autograd.grad(tr.D(x).sum(), x)
            print(f"width {a.width}, seed {seed}: initial dual value {dual_value(tr.D, real, fake):.2f}, mean input-"
                  f"gradient norm {float(g.norm(dim=1).mean()):.2f}")
    elif a.probe == "dual":
        s = FixedSetting(width=a.width, depth=3, steps=a.steps, batch=256, n_eval=1000, checkpoints=10)
        fit = fixed_critic(a.what, ["objective.name=wgan-gp", *a.set], s, a.seed)
        t = exact_transport(fit["real"], fit["fake"])
        pts, direction, w = line_points(fit["real"], fit["fake"], t, 8, seed=a.seed)
        norm, cos = line_gradients(fit["D"].eval(), pts, direction)
        print(f"W1 {t.w1:.3f}; dual / W1 at {fit['marks']}: {[round(d / t.w1, 3) for d in fit['duals']]}; line "
              f"norm {weighted_mean(norm, w):.3f}, cosine {weighted_mean(cos, w):.3f}")
    elif a.probe == "decay":
        sets = [*WGAN_TOY, "objective.clip=0"] if a.what == "none" else method_sets(a.what, 64)
        tr = _trainer(sets, "swissroll", 12, 64, 64, 256, a.steps, a.seed)
        w0, out = effective_weight_norm(tr.D), []
        while tr.step < a.steps:
            tr.train_step()
            if tr.step % 250 == 0:
                out.append((tr.step, round(abs(effective_weight_norm(tr.D) / w0 - 1), 4)))
        print(f"{a.what}: (step, weight-norm change) {out}")
    else:
        sets = {"clip": WGAN_TOY, "gp": WGAN_GP_TOY, "gp-alg1": ["objective.name=wgan-gp"]}[a.method]
        tr = _trainer([*sets, "critic.norm=none"], a.what, 3, 256, 256, 2000, a.steps, a.seed)
        real, _ = tr.reference_data()
        fake = tr.generate(2000, seed=30_000 + a.seed)
        duals = {}
        while tr.step < a.steps:
            tr.train_step()
            if tr.step % 200 == 0:
                duals[tr.step] = dual_value(tr.D, real, fake)
        gate = []
        for n in range(1000, a.steps + 1, 1000):
            curve = [duals[round(n * i / 5)] for i in range(1, 6)]
            gate.append((n, round(settling(curve, curve[-2], curve[-1]).over, 2)))
        print(f"{a.what} {a.method}: final dual {duals[a.steps]:.4f}; (steps, gate number) {gate}")
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()

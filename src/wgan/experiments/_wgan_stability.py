"""What ``optimizer-stability`` and ``failed-run-loss`` share (WGAN, Arjovsky, Chintala, Bottou 2017, sec. 4.3 and
Fig. 4): clipped-WGAN training on 8 Gaussians with one optimiser "arm" changed at a time (RMSProp at Algorithm 1's
learning rate, Adam with beta1 > 0 as the authors' ``main.py --adam``, Adam with beta1 = 0, RMSProp at a high
learning rate), measured at evenly spaced generator steps with the Trainer's own evaluation (exact W1 of the
samples) and the critic's estimate on held-out points; the per-run numbers both reproductions judge
(:func:`worsening`, :func:`trend_p`); their shared protocol rows.

Runs are cached per process (both reproductions run in one test session train the shared arms once).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import spearmanr

from ..config import Config, apply_sets
from ..training.trainer import Trainer
from . import Context, _budget
from ._common import fit_cadence, fit_measuring, fit_seeds_measuring, process_cache
from ._protocol import Row
from ._toy_runs import Trajectory

WGAN = "Wasserstein GAN (Arjovsky, Chintala, Bottou 2017)"
MAIN = "WassersteinGAN/main.py"
ALPHA_LR = 5e-5  # Algorithm 1's alpha, main.py:33-34
# "substantially high learning rates" (Fig. 4) names no value: 100 x Algorithm 1's alpha for both players, fixed
# before any run was made (an ambiguity of the paper, not a CPU-cost choice).
HIGH_LR = 5e-3
PAPER_STEPS = 100_000  # the toy mixture's run length at --budget paper (gan_toy.py:27 ITERS)

# arm -> (label, config sets on top of the wgan preset: RMSProp 5e-5, clip 0.01, n_critic 5)
ARMS: dict[str, tuple[str, list[str]]] = {
    "rmsprop": ("RMSProp, lr 5e-5 (Algorithm 1)", []),
    "adam": ("Adam beta1 0.5, lr 5e-5 (main.py --adam)", ["optim.name=adam", "optim.beta1=0.5", "optim.beta2=0.999"]),
    "adam-b0": ("Adam beta1 0, lr 5e-5", ["optim.name=adam", "optim.beta1=0.0", "optim.beta2=0.999"]),
    "high-lr": (f"RMSProp, lr {HIGH_LR:g} (both players)", [f"optim.lr={HIGH_LR}"]),
}


@dataclass(frozen=True)
class StabilitySetting:
    data: str
    width: int
    depth: int
    batch: int
    steps: int  # generator steps
    n_points: int  # evaluation points besides step 0
    n_eval: int  # generated and data points for W1 and the critic's estimate
    seeds: int
    schedule: str = "wgan"  # train.critic_schedule: main.py's (100 critic steps early); --quick: constant 5


def stability_setting(ctx: Context, *, cpu_steps: int = 2000, cpu_seeds: int = 3) -> StabilitySetting:
    """The CPU-sized toy setting (``--budget paper``: main.py's 512-unit MLPs, batch 64 both ways; 100,000 steps)."""
    schedule = _budget.pick(ctx, quick="constant", cpu="wgan", paper="wgan")
    work = _budget.wgan_schedule_work() if schedule == "wgan" else None  # --estimate: the warm-up costs 20x a step
    return StabilitySetting(
        "8gaussians",
        width=_budget.pick(ctx, quick=32, cpu=128, paper=512),
        depth=3,
        batch=_budget.pick(ctx, quick=64, cpu=64, paper=64),
        steps=_budget.steps(ctx, quick=20, cpu=cpu_steps, paper=PAPER_STEPS, work=work),
        n_points=_budget.pick(ctx, quick=4, cpu=20, paper=100),
        n_eval=_budget.pick(ctx, quick=200, cpu=500, paper=1000),
        seeds=_budget.seeds(ctx, quick=1, cpu=cpu_seeds, paper=cpu_seeds),
        schedule=schedule)


_CACHE: dict[tuple, Trajectory] = process_cache()


def arm_config(arm: str, s: StabilitySetting, seed: int, device: str = "cpu") -> Config:
    """The clipped WGAN with ``arm``'s optimiser on ``s.data`` (the wgan preset: RMSProp 5e-5, clip 0.01)."""
    return apply_sets(Config(), [
        "objective.name=wgan", f"train.critic_schedule={s.schedule}", *ARMS[arm][1], f"data.name={s.data}",
        "generator.latent_dim=2", f"generator.width={s.width}", f"generator.depth={s.depth}",
        f"critic.width={s.width}", f"critic.depth={s.depth}", f"data.batch_size={s.batch}",
        f"train.steps={s.steps}", f"eval.n_samples={s.n_eval}", f"train.seed={seed}", f"train.device={device}",
        *fit_cadence(s.steps)])


def _marks(s: StabilitySetting) -> list[int]:
    return sorted({0, *np.linspace(0, s.steps, s.n_points + 1).round().astype(int).tolist()})


def _measurer(s: StabilitySetting, traj: Trajectory):
    """``measure(trainer, trained_s)``: exact W1 and the critic's estimate of the trainer's current networks."""
    seed = traj.seed

    def measure(tr: Trainer, _trained_s: float) -> None:
        ev = tr.evaluate()  # exact W1 on its own seeded samples
        real, _ = tr.reference_data()
        fake = tr.generate(s.n_eval, seed=30_000 + seed)  # the points evaluate() used
        with torch.no_grad():
            loss = float(tr.objective.critic_loss(tr.D(real.to(tr.device)), tr.D(fake.to(tr.device))))
        traj.steps.append(tr.step)
        w1 = float(ev["eval/w1"])
        traj.w1.append(w1 if np.isfinite(w1) else float("inf"))
        traj.estimate.append(float(tr.objective.divergence_estimate(loss)))
        traj.w1_floor = float(ev["eval/w1_floor"])

    return measure


def train_arm(arm: str, s: StabilitySetting, seed: int, device: str = "cpu") -> Trajectory:
    """Train the clipped WGAN with ``arm``'s optimiser on ``s.data`` and measure exact W1 and the critic's estimate
    at step 0 and ``s.n_points`` evenly spaced steps (cached per process)."""
    key = (arm, s, seed, device)
    if key in _CACHE:
        return _CACHE[key]
    trainer = Trainer(arm_config(arm, s, seed, device))
    traj = Trajectory(arm, seed, [], [], [], [], [], [], 0.0, 0.0)
    start = time.perf_counter()
    fit_measuring(trainer, _marks(s), _measurer(s, traj))
    traj.train_s = time.perf_counter() - start
    _CACHE[key] = traj
    return traj


def train_arm_ensemble(arm: str, s: StabilitySetting) -> list[Trajectory]:
    """Every seed of ``arm`` trained at once as one vectorised ensemble (:func:`._common.fit_seeds_measuring`; the
    CPU only), measured as :func:`train_arm` measures one run; ``train_s`` is the ensemble's wall time shared out
    evenly over the seeds."""
    seeds = list(range(s.seeds))
    key = (arm, s, "ensemble")
    if key in _CACHE:
        return _CACHE[key]  # type: ignore[return-value]
    trajs = [Trajectory(arm, k, [], [], [], [], [], [], 0.0, 0.0) for k in seeds]
    measurers = [_measurer(s, t) for t in trajs]
    start = time.perf_counter()
    fit_seeds_measuring(arm_config(arm, s, 0), seeds, _marks(s),
                        lambda tr, t: measurers[tr.cfg.train.seed](tr, t))
    for t in trajs:
        t.train_s = (time.perf_counter() - start) / len(seeds)
    _CACHE[key] = trajs  # type: ignore[assignment]
    return trajs


def ensemble_here(ctx: Context, ensemble: bool) -> bool:
    """Whether a reproduction that asks for ``ensemble`` trains each arm's seeds as one ensemble: on the CPU only
    (:func:`train_arm_ensemble`); the run and its protocol table both decide by this."""
    return ensemble and ctx.device == "cpu"


def train_arms(ctx: Context, s: StabilitySetting, arms: tuple[str, ...],
               ensemble: bool = False) -> dict[str, list[Trajectory]]:
    """Every seed of every arm in ``arms`` (:func:`train_arm`), tracked as one "training" part: ``{arm: [seeds]}``.
    ``ensemble``: on the CPU (:func:`ensemble_here`), each arm's seeds as one vectorised ensemble
    (:func:`train_arm_ensemble`), tracked per arm."""
    if ensemble_here(ctx, ensemble):
        return {arm: train_arm_ensemble(arm, s) for arm in ctx.track(list(arms), "training",
                                                                   lambda a: f"{a}, {s.seeds} seeds at once")}
    runs: dict[str, list[Trajectory]] = {a: [] for a in arms}
    for arm, seed in ctx.track([(a, k) for a in arms for k in range(s.seeds)], "training",
                               lambda r: f"{r[0]}, seed {r[1]}"):
        runs[arm].append(train_arm(arm, s, seed, ctx.device))
    return runs


def traj_numbers(t: Trajectory) -> dict:
    """A run's curves for ``results.json``."""
    return {"seed": t.seed, "steps": t.steps, "w1": t.w1, "estimate": t.estimate, "w1_floor": t.w1_floor,
            "train_s": t.train_s}


# ---------------------------------------------------------------------------------------------- per-run numbers
RISE, RISE_FLOORS = 2.0, 5.0


def worsening(w1: list[float], floor: float) -> float:
    """The largest factor by which a run's W1 rose above the best W1 it had reached before (step 0 included); a
    rise counts only where it is also at least :data:`RISE_FLOORS` x the data-vs-data floor (noise of the
    estimate). 1.0 when W1 never rose so."""
    worst, best = 1.0, w1[0]
    for v in w1[1:]:
        if v - best >= RISE_FLOORS * floor:
            worst = max(worst, v / best if best > 0 else float("inf"))
        best = min(best, v)
    return worst


def unstable(w1: list[float], floor: float) -> bool:
    """Samples got worse during training: W1 rose to at least :data:`RISE` x the best it had reached before."""
    return worsening(w1, floor) >= RISE


def trend_p(values: list[float]) -> float:
    """Two-sided p-value of a monotone trend of ``values`` (evenly spaced in time): Spearman against the index
    (1.0 for a curve that does not vary)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 3 or not np.all(np.isfinite(x)) or np.ptp(x) <= 1e-12 * max(1.0, float(np.abs(x).max())):
        return 1.0  # constant (up to float rounding): scipy's test is undefined there
    p = float(spearmanr(np.arange(len(x)), x).pvalue)
    return p if np.isfinite(p) else 1.0


def stability_rows(ctx: Context, s: StabilitySetting, arms: tuple[str, ...], ensemble: bool = False) -> list[Row]:
    """The protocol rows both reproductions share (all but statistic and criterion); ``ensemble``: each arm's seeds
    train as one ensemble (:func:`train_arms`)."""
    paper_bud = "CPU cost; --budget paper runs the paper's value"
    return [
        Row("data", "LSUN bedrooms 64x64 (sec. 4.2)", "WGAN sec. 4.2",
            f"{s.data} (the WGAN-GP authors' toy mixture, gan_toy.py:202-226), fresh batches",
            "sample quality is measured exactly (W1 of the samples) instead of judged by eye; LSUN is not "
            "available offline"),
        Row("nets", "MLP G and D: 3 hidden ReLU layers (4 linear layers) x ngf = ndf = 512 (--mlp_G --mlp_D "
            "--ngf 512, Fig. 4's failed run)", f"{MAIN}:44-45, 119, 134; models/mlp.py:13-22, 42-51",
            f"MLP G and critic, {s.depth} hidden ReLU layers x {s.width}, latent 2, no normalisation",
            "" if s.width == 512 else paper_bud),
        Row("init", "PyTorch default for Linear layers (weights_init touches only conv and batch norm)",
            f"{MAIN}:108-114, 128", "PyTorch default", ""),
        Row("objective", "WGAN, weight clipping c = 0.01", f"WGAN Algorithm 1; {MAIN}:40-41, 185-186",
            "wgan preset (clip 0.01)", ""),
        Row("optimiser", "RMSProp (PyTorch's); --adam: Adam on both players", f"{MAIN}:48, 157-162",
            "arms: " + "; ".join(f"{a}: {ARMS[a][0]}" for a in arms), "one arm per optimiser the claim names"),
        Row("lr", "5e-5 for both players; Fig. 4's failed run 'substantially high', value not stated",
            f"WGAN Algorithm 1; {MAIN}:33-34; WGAN Fig. 4", f"5e-5; high-lr arm {HIGH_LR:g} (100 x alpha)",
            "the paper names no high value: 100 x alpha, fixed before any run"),
        Row("betas", "Adam (beta1 0.5 by default, 0.999)", f"{MAIN}:35, 158-159",
            "adam (0.5, 0.999); adam-b0 (0, 0.999)", "beta1 = 0 is the quote's '(with beta1 > 0)' contrast"),
        Row("n_critic", "5; 100 for the first 25 generator iterations and every 500th",
            f"WGAN Algorithm 1; {MAIN}:42, 176-179",
            "the same (train.critic_schedule = wgan)" if s.schedule == "wgan" else "5 always (quick run)",
            "" if s.schedule == "wgan" else "--quick: a smoke test"),
        Row("batch", "m = 64", f"WGAN Algorithm 1; {MAIN}:26", str(s.batch), ""),
        Row("steps", "not stated for Fig. 4 (main.py: 25 epochs of LSUN); 100,000 for the toy mixture (gan_toy)",
            f"{MAIN}:32; improved_wgan_training/gan_toy.py:27", f"{s.steps:,} generator steps",
            "" if s.steps >= 100_000 else paper_bud),
        Row("seeds", "one run per curve", "WGAN Fig. 4", f"{s.seeds} per arm (0..{s.seeds - 1})" + (
            ", each arm's seeds trained at once as one vectorised ensemble on the CPU (wgan.ensemble, the Trainer's "
            "algorithm; data and noise from shared streams)" if ensemble_here(ctx, ensemble) else ""),
            "issue 23: at least 3 for an interval" + ("; the ensemble: CPU cost" if ensemble_here(ctx, ensemble)
                                                      else "")),
        Row("eval_mode", "n/a: no batch norm in the MLPs", "models/mlp.py", "n/a", ""),
    ]

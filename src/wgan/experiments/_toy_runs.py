"""The 8-Gaussians training runs shared by ``mixture-of-gaussians`` and ``loss-curves`` (WGAN, Arjovsky,
Chintala, Bottou 2017, sec. 4.1 and 4.3): their setting, protocol rows, and :func:`train_trajectory`, which trains
one objective through the library's :class:`~wgan.Trainer` (``fit`` without a run folder) and measures at evenly
spaced steps with the Trainer's own seeded evaluation (exact W1, modes) and the critic's estimate. Runs are cached
per process, so the two reproductions run together at the same steps train them once, and kept in the output
folder (:func:`cached_trajectory`), so a stopped run resumes from its finished ones.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch

from ..config import Config, apply_sets
from ..metrics import mode_stats
from ..training.trainer import Trainer
from . import Context
from ._budget import pick, seeds, steps
from ._common import WGAN_GP_TOY, cached_run, fit_cadence, fit_measuring, process_cache
from ._protocol import Row

WGAN = "Wasserstein GAN (Arjovsky, Chintala, Bottou 2017)"


@dataclass(frozen=True)
class ToySetting:
    data: str
    width: int
    depth: int
    batch: int
    steps: int  # generator steps
    n_points: int  # evaluation points (besides step 0)
    n_eval: int  # generated and data points for W1, modes and the critic's estimate
    seeds: int


def toy_setting(ctx: Context, cpu_steps: int = 2000) -> ToySetting:
    """The toy runs' sizes at ``ctx``'s budget: cpu narrows the nets (128 for gan_toy.py's 512) and trains
    ``cpu_steps`` of its 100,000 generator steps (each reproduction its own: what its adequacy gate needs);
    paper uses the official code's values."""
    return ToySetting("8gaussians", width=pick(ctx, quick=32, cpu=128, paper=512),
                      depth=pick(ctx, quick=2, cpu=3, paper=3), batch=pick(ctx, quick=64, cpu=256, paper=256),
                      steps=steps(ctx, quick=40, cpu=cpu_steps, paper=100_000),
                      n_points=pick(ctx, quick=5, cpu=20, paper=20), n_eval=pick(ctx, quick=300, cpu=1000, paper=1000),
                      seeds=seeds(ctx, quick=1, cpu=3, paper=3))


@dataclass
class Trajectory:
    """Measurements of one run at ``steps`` (step 0 first); ``snapshots`` maps a step to ``(n, 2)`` samples."""

    objective: str
    seed: int
    steps: list[int]
    w1: list[float]
    estimate: list[float]  # -critic loss (Wasserstein) or log 2 - loss / 2 (logistic), on the eval points
    modes_covered: list[int]  # modes_3std
    modes_reached: list[int]  # nearest mode within half the inter-mode distance (no quality threshold)
    high_quality_share: list[float]
    w1_floor: float
    train_s: float
    min_mode_share: list[float] = field(default_factory=list)  # smallest share of samples nearest one mode
    ring_share: list[float] = field(default_factory=list)  # share of samples on the modes' ring (band 25% of R)
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)


_CACHE: dict[tuple, Trajectory] = process_cache()

# WGAN-GP on 2-D data with the authors' toy values (WGAN_GP_TOY: lambda 0.1, Adam beta (0.5, 0.9)). Measured here
# with Algorithm 1's lambda 10, beta (0, 0.9) instead (2000 steps, width 128): W1 swung between 0.65 and 2.3 and
# only 2 of 8 modes were reached at the end.
TOY_OVERRIDES: dict[str, list[str]] = {"wgan-gp": WGAN_GP_TOY[1:],
                                       # WGAN's own schedule (WassersteinGAN/main.py:176-179), torch's RMSProp (:161)
                                       "wgan": ["train.critic_schedule=wgan"]}


def _loose_k(modes: torch.Tensor, std: float) -> float:
    """k (in mode std) such that k * std is half the smallest distance between two modes."""
    d = torch.cdist(modes, modes)
    d.fill_diagonal_(float("inf"))
    return float(d.min()) / 2 / std


def toy_config(objective: str, s: ToySetting, seed: int, device: str = "cpu") -> Config:
    """The run :func:`train_trajectory` trains: ``objective`` (with its toy overrides) on ``s.data``, He-initialised
    MLPs of ``s.width`` x ``s.depth``."""
    return apply_sets(Config(), [f"objective.name={objective}", *TOY_OVERRIDES.get(objective, []),
        f"data.name={s.data}", f"generator.width={s.width}", "generator.init=he", "critic.init=he",
        f"generator.depth={s.depth}", f"critic.width={s.width}", f"critic.depth={s.depth}",
        f"data.batch_size={s.batch}", f"train.steps={s.steps}", f"eval.n_samples={s.n_eval}",
        f"train.seed={seed}", f"train.device={device}", *fit_cadence(s.steps)])


def train_trajectory(objective: str, s: ToySetting, seed: int, device: str = "cpu",
                     snapshot_at: tuple[int, ...] = ()) -> Trajectory:
    """Train ``objective`` on ``s.data`` and measure at ``s.n_points`` evenly spaced steps and step 0.

    Cached per process, so reproductions sharing runs (in one test session) train them once.
    """
    key = (objective, s, seed, device, snapshot_at)
    if key in _CACHE:
        return _CACHE[key]
    trainer = Trainer(toy_config(objective, s, seed, device))
    marks = {0, *np.linspace(0, s.steps, s.n_points + 1).round().astype(int).tolist()}
    modes, std = trainer.sampler.modes, trainer.sampler.mode_std
    k_loose = _loose_k(modes, std) if modes is not None else None
    traj = Trajectory(objective, seed, [], [], [], [], [], [], 0.0, 0.0)

    def measure(trainer: Trainer, _trained_s: float) -> None:
        m = trainer.step
        ev = trainer.evaluate()  # exact W1 and modes on its own seeded eval samples
        real, _ = trainer.reference_data()  # (n_eval, 2)
        fake = trainer.generate(s.n_eval, seed=30_000 + seed)  # (n_eval, 2): the very points evaluate() used
        with torch.no_grad():
            loss = float(trainer.objective.critic_loss(trainer.D(real.to(trainer.device)),
                                                       trainer.D(fake.to(trainer.device))))
        traj.steps.append(m)
        traj.w1.append(ev["eval/w1"])
        traj.estimate.append(trainer.objective.divergence_estimate(loss))
        traj.w1_floor = ev["eval/w1_floor"]
        if modes is not None:
            traj.modes_covered.append(int(ev["eval/modes_covered"]))
            traj.high_quality_share.append(float(ev["eval/high_quality_share"]))
            traj.modes_reached.append(mode_stats(fake, modes, std, k=k_loose).modes_covered)
            traj.min_mode_share.append(min_mode_share(fake, modes))
            traj.ring_share.append(ring_share(fake, modes))
        if m in snapshot_at:
            traj.snapshots[m] = fake[:512].numpy()

    start = time.perf_counter()
    fit_measuring(trainer, marks, measure)
    traj.train_s = time.perf_counter() - start
    _CACHE[key] = traj
    return traj


def cached_trajectory(ctx: Context, objective: str, s: ToySetting, seed: int,
                      snapshot_at: tuple[int, ...] = ()) -> Trajectory:
    """:func:`train_trajectory`, kept in ``ctx.out/runs/`` (:func:`._common.cached_run`): a reproduction stopped
    part-way reuses its finished runs when started again, so a long one can be spread over several starts. The
    snapshots are stored as the float32 values they are, so a run read back measures exactly as the one trained."""
    tag = asdict(s) | {"seeds": None, "objective": objective, "seed": seed, "device": ctx.device,
                       "snapshot_at": list(snapshot_at)}

    def train() -> dict[str, Any]:
        t = train_trajectory(objective, s, seed, ctx.device, snapshot_at)
        return {f.name: getattr(t, f.name) for f in fields(t) if f.name != "snapshots"} | {
            "snapshots": {str(k): v.tolist() for k, v in t.snapshots.items()}}

    d = cached_run(ctx.out / "runs" / f"{objective}-seed{seed}.json", tag, train)
    snaps = {int(k): np.asarray(v, dtype=np.float32) for k, v in d["snapshots"].items()}
    return Trajectory(**{f.name: d[f.name] for f in fields(Trajectory) if f.name != "snapshots"}, snapshots=snaps)


def snapshot_steps(s: ToySetting) -> tuple[int, ...]:
    """The five evaluation steps whose samples the mixture figure shows (start and end included)."""
    marks = np.linspace(0, s.steps, s.n_points + 1).round().astype(int)
    idx = np.linspace(0, len(marks) - 1, 5).round().astype(int)  # 5 snapshots incl. start and end
    return tuple(int(marks[i]) for i in idx)


def toy_protocol(s: ToySetting) -> dict[str, Any]:
    """The protocol entries both toy reproductions report."""
    return {
        "data": s.data, "networks": f"generator and critic MLP {s.depth} hidden ReLU layers x {s.width}, no norm",
        "generator_steps": s.steps, "batch_size": s.batch, "seeds": list(range(s.seeds)),
        "objectives": "library presets with their papers' optimisers: wgan (RMSProp 5e-5, clip 0.01, 5 critic "
                      "steps, 100 for the first 25 generator steps and every 500th as WGAN's main.py), ns-gan and "
                      "m-gan (Adam 2e-4 (0.5, 0.999), 1 step); wgan-gp with the authors' "
                      "toy-data values (gan_toy.py): Adam 1e-4 (0.5, 0.9), lambda 0.1, 5 critic steps",
        "eval": f"{s.n_points} evenly spaced points plus step 0; {s.n_eval} generated vs {s.n_eval} data points "
                "(w1_exact protocol, fixed per seed); the critic's estimate on the same points",
        "modes": "modes_3std (library): within 3 std of a mode, >= 10% of the uniform share; modes reached: the "
                 "same with the radius set to half the distance between neighbouring modes (no quality threshold)",
    }


def toy_rows(s: ToySetting,
             steps_why: str = "CPU cost: the clipped WGAN in particular is far from converged") -> list[Row]:
    """The rows shared by mixture-of-gaussians and loss-curves (the same kind of runs; each its own steps, and
    ``steps_why`` the reason it trains fewer than the paper)."""
    toy = "improved_wgan_training/gan_toy.py"
    return [
        Row("data", "WGAN sec. 4.1: 'a mixture of 8 gaussians spread in a circle' (Metz et al.'s; construction not "
            "stated); the WGAN-GP authors' toy code: 8 centres on a radius-2 circle, std 0.02, divided by 1.414, "
            "fresh batches", f"WGAN sec. 4.1, Fig. 2; {toy}:202-226",
            f"{s.data}, the WGAN-GP toy code's construction, fresh batches from the seeded data stream",
            "WGAN gives no construction; the toy code's is the standard one (loss-curves: WGAN's Figs. 4-5 are on "
            "LSUN; the toy mixture makes sample quality measurable exactly, by W1)"),
        Row("nets", "MLPs 3 hidden ReLU layers x 512 (generator and critic), no normalisation", f"{toy}:20, 31-58",
            f"MLPs {s.depth} hidden ReLU layers x {s.width}, no normalisation",
            "" if s.width == 512 else "CPU cost (2 shared cores); --budget paper runs the paper's value"),
        Row("init", "tflib Linear 'he' (uniform, std sqrt(2 / fan_in)); output layer glorot uniform, zero biases",
            f"{toy}:37; tflib/ops/linear.py:55-66", "the same (generator.init = critic.init = he)", ""),
        Row("objective", "wgan (clipping c = 0.01), wgan-gp (gan_toy's LAMBDA 0.1); the paper's comparison: the "
            "standard GAN", f"WGAN Algorithm 1; {toy}:23, 71-83, 123-133",
            "wgan (c 0.01), wgan-gp (lambda 0.1), ns-gan and m-gan presets", "NS-GAN and M-GAN shown alongside"),
        Row("optimiser", "wgan: RMSProp (TensorFlow's in gan_toy: decay 0.9, eps 1e-10, accumulator starts at 1; "
            "PyTorch's in WGAN main.py); wgan-gp: Adam", f"{toy}:89-120; WassersteinGAN/main.py:161",
            "wgan: torch.optim.RMSprop (alpha 0.99, eps 1e-8, accumulator 0), as WGAN's own main.py; wgan-gp, "
            "ns-gan, m-gan: torch.optim.Adam", "the WGAN paper's own code uses PyTorch's RMSProp"),
        Row("lr", "wgan 5e-5; wgan-gp 1e-4; DCGAN's 2e-4 for the standard GAN",
            f"WGAN Algorithm 1; {toy}:90, 110; DCGAN sec. 4", "the same"),
        Row("betas", "wgan-gp (0.5, 0.9) in gan_toy (Algorithm 1: (0, 0.9)); DCGAN (0.5, 0.999)", f"{toy}:91-92",
            "wgan-gp (0.5, 0.9); ns-gan, m-gan (0.5, 0.999)", ""),
        Row("n_critic", "wgan: 5, but 100 for the first 25 generator iterations and every 500th (WGAN main.py); "
            "wgan-gp (gan_toy): 5 always; standard GAN 1", f"WGAN Algorithm 1; WassersteinGAN/main.py:176-179; "
            f"{toy}:25, 237", "wgan: the same schedule (train.critic_schedule = wgan); wgan-gp 5; ns-gan, m-gan 1",
            ""),
        Row("batch", "256 (gan_toy); WGAN m = 64", f"{toy}:26; WGAN Algorithm 1", str(s.batch),
            "" if s.batch == 256 else "quick run"),
        Row("steps", "100,000 generator iterations", f"{toy}:27", f"{s.steps} generator steps",
            "" if s.steps == 100_000 else f"{steps_why}; --budget paper runs the paper's value"),
        Row("seeds", "not stated (snapshots of one run)", "WGAN sec. 4.1, Fig. 2",
            f"{s.seeds} seeds (0..{s.seeds - 1})", ""),
        Row("eval_mode", "n/a: no batch norm in the toy nets", f"{toy}:31-58", "n/a: no batch norm", ""),
    ]


RING_BAND, RING_SHARE_MIN = 0.25, 0.5  # |r - R| <= 0.25 R holds at least half the samples


def min_mode_share(points: torch.Tensor, modes: torch.Tensor) -> float:
    """The smallest share of ``points`` (N, 2) whose nearest mode (of ``modes`` (K, 2)) is one given mode: how
    evenly the mass covers the modes, whatever its sharpness (1/K when even, 0 when a mode is missing)."""
    nearest = torch.cdist(points.float(), modes.float()).argmin(dim=1)  # (N,)
    counts = torch.bincount(nearest, minlength=len(modes)).double()
    return float(counts.min() / len(points))


def ring_share(points: torch.Tensor, modes: torch.Tensor, band: float = RING_BAND) -> float:
    """The share of ``points`` within ``band`` x R of the circle of radius R through the modes (the data's
    low-dimensional structure, which isotropic noise misses)."""
    radius = float(modes.norm(dim=1).mean())
    return float(((points.norm(dim=1) - radius).abs() <= band * radius).double().mean())


def late_eval_steps(s: ToySetting) -> tuple[int, ...]:
    """The evaluation steps in the last quarter of training (the no-collapse criterion's points)."""
    return tuple(sorted({int(x) for x in np.linspace(0, s.steps, s.n_points + 1).round()
                         if x >= 0.75 * s.steps and x > 0}))


def kept_samples(s: ToySetting) -> tuple[int, ...]:
    """The steps whose samples a toy run keeps: the figure's snapshots and the late evaluation points."""
    return tuple(sorted(set(snapshot_steps(s)) | set(late_eval_steps(s))))


def traj_dict(t: Trajectory) -> dict[str, Any]:
    """A trajectory's numbers for ``results.json`` (the samples left out)."""
    return {"seed": t.seed, "steps": t.steps, "w1": t.w1, "estimate": t.estimate, "modes_covered": t.modes_covered,
            "modes_reached": t.modes_reached, "high_quality_share": t.high_quality_share, "w1_floor": t.w1_floor,
            "min_mode_share": t.min_mode_share, "ring_share": t.ring_share,
            "train_s": t.train_s}

"""Helpers shared by reproductions of different papers (what one family of reproductions shares has its own
``_`` module: :mod:`._toy_runs`, :mod:`._deep_critic`, :mod:`._images`, :mod:`._architectures`,
:mod:`._many_paths`).

* running: :func:`single_thread`, :func:`cached_run`, :func:`fit_measuring` (``Trainer.fit`` without a run folder,
  measuring at given steps);
* the WGAN-GP authors' 2-D presets (:data:`WGAN_GP_TOY`, :data:`WGAN_TOY`) and their protocol rows
  (:func:`clip_gp_rows`);
* critic-only training between two samplers (:func:`train_critic`, WGAN Algorithm 1's inner loop with the
  library's :class:`~wgan.objectives.Objective` and penalties), used by ``optimal-critic`` and ``em-vs-js``;
* small GANs on a points file (:func:`write_points`, :func:`points_gan_trainer`, :func:`dcgan_rows`), used by
  ``generator-gradients`` and ``parallel-lines``;
* :func:`scatter_panel`, one toy-data plot panel.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..config import Config, apply, apply_sets
from ..io import read_json, write_json
from ..objectives import Objective
from ..penalties import Penalty, clip_weights_
from ..training.trainer import Trainer
from . import RESUMED, Context, Result
from ._protocol import Row


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch CPU ops on one intra-op thread, restoring the previous setting afterwards.

    The reproductions' networks are tiny (widths 16-256): a second thread adds synchronisation and gains
    nothing, and on a loaded 2-core machine its spinning costs a lot (measured by three of us while
    writing them: 2-4 ms vs 10-36 ms per step at width 64, ~70x at width 128, 240 ms vs 4 ms for a
    1,000-member ensemble critic step).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


_PROCESS_CACHES: list[dict] = []


def process_cache() -> dict:
    """A memo of finished runs kept for the life of the process, shared by the reproductions that train the same
    runs (e.g. optimizer-stability and failed-run-loss); :func:`clear_process_caches` empties every one of them."""
    memo: dict = {}
    _PROCESS_CACHES.append(memo)
    return memo


def clear_process_caches() -> None:
    """Forget every :func:`process_cache` (``--estimate``'s probe runs must time the training, not the memo)."""
    for memo in _PROCESS_CACHES:
        memo.clear()


def cached_run(path: Path, setting: dict[str, Any], train: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The run saved at ``path`` when it was made with ``setting``; else ``train()``'s, saved there (atomically)
    with it (and ``took_s``, the time ``train()`` took). A reproduction stopped part-way resumes from its finished
    runs when it is started again; :data:`wgan.experiments.RESUMED` counts what was reused, for ``results.json``."""
    saved = read_json(path) if path.exists() else None
    if saved is None or saved.get("setting") != setting:
        t0 = time.perf_counter()
        saved = train() | {"setting": setting}
        saved["took_s"] = time.perf_counter() - t0
        write_json(path, saved)
        RESUMED.trained += 1
    else:
        RESUMED.reused += 1
        RESUMED.reused_s += float(saved.get("took_s", saved.get("train_s", 0.0)))
    return saved



def fit_cadence(steps: int) -> list[str]:
    """Config sets for a run that :func:`fit_measuring` trains ``steps`` generator steps: ``Trainer.fit`` without a
    run folder writes its records nowhere, so they (the NaN guard, gradient norms, held-out losses, the evaluation)
    are made once, at the last step, whose evaluation the reproductions use anyway (``evaluate`` caches it)."""
    return [f"train.log_every={steps}", f"train.eval_every={steps}"]


def fit_measuring(trainer: Trainer, at: Iterable[int], measure: Callable[[Trainer, float], None]) -> None:
    """Train ``trainer`` to its ``train.steps`` with :meth:`Trainer.fit` (no run folder; see :func:`fit_cadence`)
    and call ``measure(trainer, trained_s)`` at every generator step in ``at`` (step 0 before training);
    ``trained_s`` is the time spent training so far, the measurements' own time excluded. The measurements use
    their own random streams (``evaluate``, ``generate``, fixed seeds), so the run is the one ``fit`` makes alone."""
    marks = set(at)
    if max(marks, default=0) > trainer.cfg.train.steps:
        raise ValueError(f"measurement steps {sorted(marks)} beyond train.steps = {trainer.cfg.train.steps}")
    spent = 0.0  # seconds inside fit spent measuring

    def callback(tr: Trainer) -> None:
        nonlocal spent
        if tr.step in marks:
            start = time.perf_counter()
            measure(tr, tr.elapsed_s - spent)
            spent += time.perf_counter() - start

    if 0 in marks and trainer.step == 0:
        measure(trainer, 0.0)
    trainer.fit(None, callback=callback, every=1)


ENSEMBLE_BACKEND = "bmm"  # MLPs without normalisation: one batched GEMM per layer for every member


def fit_seeds_measuring(cfg: Config, seeds: list[int], at: Iterable[int],
                        measure: Callable[[Trainer, float], None], rng: str = "shared") -> list[Trainer]:
    """Train the runs of ``cfg`` with each of ``seeds`` as one vectorised :class:`wgan.ensemble.Ensemble` (the same
    algorithm as the Trainer, every member its own initialisation; data and noise from the ensemble's shared
    streams, seeded by ``seeds[0]``) and call ``measure(trainer, trained_s)`` at every generator step in ``at``
    (step 0 before training) for every seed, on a :class:`~wgan.Trainer` of that seed that holds the member's
    current networks: the Trainer's own seeded evaluation, as :func:`fit_measuring` measures a single run.
    ``trained_s`` is the ensemble's training time so far (all members together). Returns the Trainers.
    ``rng = "member"`` draws each member's data and noise as the Trainer of its seed does (slower; the runs are
    then the Trainer's own, which the tests check).

    A setting the ensemble does not implement is refused by name (:class:`wgan.errors.ConfigError`)."""
    from ..ensemble import Ensemble

    if cfg.train.ema > 0:
        raise ValueError("fit_seeds_measuring measures the generator itself; train.ema > 0 is not supported")
    marks = set(at)
    if max(marks, default=0) > cfg.train.steps:
        raise ValueError(f"measurement steps {sorted(marks)} beyond train.steps = {cfg.train.steps}")
    shells = [Trainer(apply_sets(cfg, [f"train.seed={s}"])) for s in seeds]
    ens = Ensemble(cfg, seeds, shells[0].sampler, rng=rng, rng_seed=seeds[0],  # type: ignore[arg-type]
                   backend=ENSEMBLE_BACKEND)
    trained = 0.0

    def measure_all() -> None:
        for i, tr in enumerate(shells):
            g, d = ens.member_state(i)
            tr.G.load_state_dict(g)
            tr.D.load_state_dict(d)
            tr.step = ens.step
            tr.eval_cache.pop("result", None)  # evaluate() caches per step: these are new networks
            measure(tr, trained)

    if 0 in marks:
        measure_all()
    while ens.step < cfg.train.steps:
        start = time.perf_counter()
        ens.train_step()
        trained += time.perf_counter() - start
        if ens.step in marks:
            measure_all()
    return shells


def scatter_panel(ax, points, modes, lim: float = 2.0, point_size: float = 2.0, mode_size: float = 25.0) -> None:
    """One toy-data panel: generated ``points`` (N, 2) in green over the mixture's ``modes`` (K, 2) as orange
    crosses, in the square [-lim, lim]^2 without ticks."""
    ax.scatter(modes[:, 0], modes[:, 1], s=mode_size, c="orange", marker="x")
    ax.scatter(points[:, 0], points[:, 1], s=point_size, c="green", alpha=0.5)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


# On 2-D data the WGAN-GP authors trained with lambda 0.1 and Adam beta (0.5, 0.9) (code gan_toy.py, which also
# draws Fig. 1a; see configs/toy/*-wgan-gp-paper.toml), not Algorithm 1's lambda 10, beta (0, 0.9).
WGAN_GP_TOY = ["objective.name=wgan-gp", "objective.penalty_weight=0.1", "optim.beta1=0.5", "optim.beta2=0.9"]
# Their clipping runs (MODE wgan) use TensorFlow's RMSProp (gan_toy.py:110-118): wgan.optim.TFRMSProp.
WGAN_TOY = ["objective.name=wgan", "optim.name=rmsprop_tf"]


WGAN_GP = "Improved Training of Wasserstein GANs (Gulrajani et al. 2017)"


TOY = "improved_wgan_training/gan_toy.py"


def clip_gp_rows(n_critic_ours: str) -> list[Row]:
    """Optimiser rows of the clipped (wgan) and penalised (wgan-gp) critics of gan_toy.py."""
    return [
        Row("objective", "weight clipping c = 0.01 (MODE wgan); gradient penalty LAMBDA 0.1 (MODE wgan-gp)",
            f"{TOY}:18, 23, 71-83, 126", "wgan (c 0.01); wgan-gp lambda 0.1 ('gp') and, as a check, Algorithm 1's "
            "lambda 10 ('gp-alg1')", "the lambda-10 critic is our addition"),
        Row("optimiser", "clipping: TensorFlow RMSProp (decay 0.9, eps 1e-10 inside the root, mean square starts "
            "at 1); penalty: Adam", f"{TOY}:89-120", "clipping: rmsprop_tf (wgan.optim.TFRMSProp, the same); "
            "penalty: torch.optim.Adam", ""),
        Row("lr", "clipping 5e-5, penalty 1e-4", f"{TOY}:90, 110", "the same"),
        Row("betas", "penalty: (0.5, 0.9)", f"{TOY}:91-92", "gp (0.5, 0.9); gp-alg1 (0, 0.9) (Algorithm 1)", ""),
        Row("n_critic", "5 critic iterations per generator iteration (CRITIC_ITERS)", f"{TOY}:25, 237",
            n_critic_ours, ""),
    ]


SampleFn = Callable[[int, torch.Generator], torch.Tensor]


# -------------------------------------------------------------------------------------------- critic-only
def train_critic(critic: nn.Module, objective: Objective, sample_real: SampleFn, sample_fake: SampleFn,
                 steps: int, batch: int = 256, lr: float = 1e-3, penalty: Penalty | None = None,
                 clip: float | None = None, optimizer: str = "adam", seed: int = 0,
                 callback: Callable[[int], None] | None = None, every: int = 0) -> list[float]:
    """Train only the critic between two fixed distributions (no generator): ``steps`` updates on fresh
    batches of ``objective.critic_loss`` (+ ``penalty.weight * penalty``), weight clipping after each
    step when ``clip``; ``callback(step)`` after every ``every``-th update (0: never). Returns the critic loss
    (without penalty) of every step."""
    rng = torch.Generator().manual_seed(seed)
    opt: torch.optim.Optimizer
    if optimizer == "adam":
        opt = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.999))
    elif optimizer == "rmsprop":
        opt = torch.optim.RMSprop(critic.parameters(), lr=lr)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose adam or rmsprop")
    losses = []
    for _ in range(steps):
        real, fake = sample_real(batch, rng), sample_fake(batch, rng)  # (B, D), (B, D)
        loss = objective.critic_loss(critic(real), critic(fake))
        total = loss
        if penalty is not None:
            pen, _ = penalty(critic, real, fake, rng)
            total = loss + penalty.weight * pen
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        if clip:
            clip_weights_(critic, clip)
        losses.append(float(loss.detach()))
        if callback is not None and every > 0 and len(losses) % every == 0:
            callback(len(losses))
    return losses


def one_thread(fn: Callable[[Context], Result]) -> Callable[[Context], Result]:
    """Decorator: run a reproduction inside :func:`single_thread`."""
    @functools.wraps(fn)
    def wrapper(ctx: Context) -> Result:
        with single_thread():
            return fn(ctx)

    return wrapper


def seed_count(ctx: Context, default: int) -> int:
    """``--seeds`` when given, else the reproduction's ``default``."""
    return ctx.seeds if ctx.seeds is not None else default


def write_points(path: Path, points: np.ndarray) -> Path:
    """Save ``points`` (N, D) as a float32 ``.npy`` points file (atomically) and return its path."""
    from ..io import atomic_write

    atomic_write(path, lambda f: np.save(f, points.astype(np.float32)))
    return path


def points_gan_trainer(data_file: Path, objective: str, seed: int, latent_dim: int, lr: float, critic_width: int,
                       critic_depth: int, batch: int, eval_n: int, steps: int) -> Trainer:
    """A GAN with an affine generator (MLP depth 0) on the points in ``data_file``, ``steps`` generator steps for
    :func:`fit_measuring`."""
    cfg = apply(Config(), {"data": {"name": str(data_file)}}, origin="reproduction")
    cfg = apply_sets(cfg, [
        f"data.batch_size={batch}", "generator.depth=0", f"generator.latent_dim={latent_dim}",
        f"critic.depth={critic_depth}", f"critic.width={critic_width}",
        f"objective.name={objective}", f"optim.lr={lr}", f"train.seed={seed}", "train.device=cpu",
        f"eval.n_samples={eval_n}", f"train.steps={steps}", *fit_cadence(steps),
    ])
    return Trainer(cfg)


def dcgan_rows(lr_ours: str, why: str) -> list[Row]:
    """Protocol rows of the standard GAN's optimiser (DCGAN's Adam settings, one discriminator step)."""
    return [
        Row("optimiser", "Adam (DCGAN setting for the standard GAN)", "Fedus et al. sec. 3; DCGAN sec. 4",
            "torch.optim.Adam", ""),
        Row("lr", "2e-4 (DCGAN)", "DCGAN sec. 4", lr_ours, why),
        Row("betas", "(0.5, 0.999) (DCGAN)", "DCGAN sec. 4", "(0.5, 0.999)", ""),
        Row("n_critic", "1 discriminator step per generator step", "Goodfellow et al. 2014 Algorithm 1 (k = 1)", "1",
            ""),
    ]

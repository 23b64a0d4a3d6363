"""``critic-overfitting``: WGAN-GP (Gulrajani et al. 2017) Fig. 5b, sec. 5.6.

Three arms, each over several seeds, with the official MNIST script's optimisers (``gan_mnist.py``): WGAN-GP
(Adam 1e-4, beta (0.5, 0.9), lambda 10) and weight-clipped WGAN (TensorFlow's RMSProp 5e-5, clip 0.01) on a
1,000-image training subset (``data.subset``) -- Fig. 5b's two panels -- and WGAN-GP on the whole training split
(our control). Over training, the critic loss ``E f(fake) - E f(real)`` on training images and on held-out
validation images against the same fakes (``Trainer.validation_losses``: ``loss/critic_trainset`` and
``loss/critic_val``). The paper: on the small set the two losses diverge (the critic memorises its training images).

Adequacy: a **memorisation probe** per arm -- the same critic (width, optimiser, penalty or clipping) trained for
as many critic updates as the arm's critic gets, but told directly to score the subset's images above other
training-split images -- must score its subset above unseen validation images by 2 standard errors. If even that
critic cannot memorise the subset at this width and step count, the GAN run could not show overfitting, and the
verdict is INCONCLUSIVE rather than DOES NOT HOLD.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import Config, DataConfig, apply_sets
from ..data import make_sampler
from ..training.trainer import Trainer
from . import Context, Result, register
from . import _budget as budget
from ._claims import ClaimSpec, Gate, gate_from, mean_interval, too_few_seeds
from ._common import single_thread
from ._images import IMG_MIN_SEEDS, MNIST, WGAN_GP, ImageSetting, image_rows, image_setting, say_progress
from ._protocol import Row


# ---------------------------------------------------------------------------------------------- Fig. 5b
@dataclass
class CriticLosses:
    """Critic losses of one WGAN-GP run over training: on training and on validation images (same fakes)."""

    label: str
    n_train: int
    steps: list[int] = field(default_factory=list)
    train: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)
    gap_se: list[float] = field(default_factory=list)  # standard error of (val - train) over the batches
    train_s: float = 0.0
    # mean critic score E f(x) on fixed image sets: the run's training images, validation images, and (subset
    # runs) training-split images outside the subset, which the run never saw
    score_seen: list[float] = field(default_factory=list)
    score_val: list[float] = field(default_factory=list)
    score_unseen: list[float] = field(default_factory=list)


VAL_BATCHES = 8  # batches averaged per measurement (each: batch_size training + validation images, fresh fakes)
SCORE_IMAGES = 500  # images per fixed set for the mean critic scores


def _fixed_images(sampler: Any, n: int, seed: int, start: int = 0) -> torch.Tensor | None:
    """Up to ``n`` distinct images ``(n, C, H, W)`` in [-1, 1] from ``sampler.pixels[start:]`` (a fixed random
    choice), or None when the sampler does not hold its images as a uint8 tensor."""
    from ..data.image_datasets import to_unit_range

    pixels = getattr(sampler, "pixels", None)
    if not isinstance(pixels, torch.Tensor) or len(pixels) <= start:
        return None
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(pixels) - start, generator=g)[:n] + start
    return to_unit_range(pixels[idx], False, g)


@torch.no_grad()
def _mean_score(trainer: Trainer, x: torch.Tensor | None) -> float:
    return float(trainer.D(x.to(trainer.device)).float().mean()) if x is not None else float("nan")


# the official MNIST script's optimisers on top of the library presets (which give lr, lambda / clip, n_critic)
OFFICIAL: dict[str, list[str]] = {
    "wgan-gp": ["optim.beta1=0.5", "optim.beta2=0.9"],  # gan_mnist.py:150-159 (Adam 1e-4, beta1 0.5, beta2 0.9)
    "wgan": ["optim.name=rmsprop_tf"],  # gan_mnist.py:116-121 (tf.train.RMSPropOptimizer, 5e-5)
}


def arm_config(objective: str, s: ImageSetting, subset: int, seed: int, device: str) -> Config:
    return apply_sets(Config(), [f"objective.name={objective}", *OFFICIAL[objective], *s.sets(),
                                 f"data.subset={subset}", "data.split=random", f"data.split_seed={seed}",
                                 f"train.seed={seed}", f"train.device={device}"])


def train_critic_losses(label: str, s: ImageSetting, subset: int, seed: int, device: str = "cpu",
                        objective: str = "wgan-gp") -> CriticLosses:
    """WGAN-GP on ``subset`` training images drawn at random (seeded by ``seed``; 0 = all); at ``s.n_points``
    evenly spaced steps and step 0 the mean over ``VAL_BATCHES`` calls of :meth:`Trainer.validation_losses`.

    The subset, and the validation images when the data has no separate split, are a seeded random draw
    (``data.split = random``): MNIST's t10k file alone, split first/last, gives training and validation images
    from different writer pools, so their gap would measure the split, not the critic."""
    trainer = Trainer(arm_config(objective, s, subset, seed, device))
    marks = sorted({0, *np.linspace(0, s.steps, s.n_points + 1).round().astype(int).tolist()})
    out = CriticLosses(label, len(trainer.sampler))  # type: ignore[arg-type]
    seen = _fixed_images(trainer.sampler, SCORE_IMAGES, 70_000 + seed)
    val = _fixed_images(trainer.val_sampler, SCORE_IMAGES, 71_000 + seed)
    # the same shuffled training split without the subset cut: its images after the first `subset` were never seen
    full = make_sampler(s.data, DataConfig(name=s.data, split="random", split_seed=seed))
    unseen = _fixed_images(full, SCORE_IMAGES, 72_000 + seed, start=subset) if subset else None
    start = time.perf_counter()
    # a loop, not Trainer.fit: fit's own held-out loss record draws from streams.val, which these measurements use
    for m in marks:
        while trainer.step < m:
            trainer.train_step()
        rows = [trainer.validation_losses() for _ in range(VAL_BATCHES)]
        tr = np.array([float(r["loss/critic_trainset"]) for r in rows])
        va = np.array([float(r["loss/critic_val"]) for r in rows])
        out.steps.append(m)
        out.train.append(float(tr.mean()))
        out.val.append(float(va.mean()))
        out.gap_se.append(float((va - tr).std(ddof=1) / np.sqrt(len(tr))))
        out.score_seen.append(_mean_score(trainer, seen))
        out.score_val.append(_mean_score(trainer, val))
        out.score_unseen.append(_mean_score(trainer, unseen))
        say_progress(f"{label} ({out.n_train} images) seed {seed}: step {m}/{s.steps}, critic loss train "
                  f"{out.train[-1]:.3g} val {out.val[-1]:.3g}, {time.perf_counter() - start:.0f} s")
    out.train_s = time.perf_counter() - start
    return out


@dataclass
class Probe:
    """The memorisation probe of one arm: the subset's images scored above validation images by ``gap``."""

    objective: str
    critic_steps: int
    gap: float  # mean critic score on (up to SCORE_IMAGES of) the subset's images minus on validation images
    se: float  # its standard error (two independent image sets)
    seconds: float

    @property
    def memorises(self) -> bool:
        return memorises(self.gap, self.se)


def memorises(gap: float, se: float) -> bool:
    """The probe's critic scores its training images above unseen validation images by 2 standard errors."""
    return bool(gap > 2 * se)


def memorisation_probe(objective: str, s: ImageSetting, subset: int, seed: int, critic_steps: int,
                       device: str = "cpu") -> Probe:
    """The arm's critic (same net, width, optimiser, penalty or clipping, built by the same Trainer) trained for
    ``critic_steps`` updates on the arm's critic loss with the fakes replaced by training-split images outside the
    subset: the only way to score the subset higher is to memorise it. Then the mean score of the subset's images
    minus that of validation images, which it never saw (``gap``, with its standard error)."""
    from ..data.image_datasets import to_unit_range
    from ..penalties import clip_weights_

    trainer = Trainer(arm_config(objective, s, subset, seed, device))
    setup, D, opt = trainer.state.setup, trainer.state.players.D, trainer.state.players.opt_d
    full = make_sampler(s.data, DataConfig(name=s.data, split="random", split_seed=seed))
    g = torch.Generator().manual_seed(73_000 + seed)
    seen = to_unit_range(trainer.sampler.pixels, False, g)  # type: ignore[attr-defined]  # (subset, C, H, W)
    other = to_unit_range(full.pixels[subset:], False, g)  # type: ignore[attr-defined]  # never in the subset
    n, clip = s.batch, setup.cfg.objective.clip
    start = time.perf_counter()
    for _ in range(critic_steps):
        a = seen[torch.randint(len(seen), (n,), generator=g)].to(trainer.device)
        b = other[torch.randint(len(other), (n,), generator=g)].to(trainer.device)
        loss = setup.objective.critic_loss(D(a).float(), D(b).float())
        if setup.penalty is not None:
            pen, _ = setup.penalty(D, a, b, g)
            loss = loss + setup.penalty.weight * pen
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if clip > 0:
            clip_weights_(D, clip)
    val = _fixed_images(trainer.val_sampler, SCORE_IMAGES, 71_000 + seed)
    with torch.no_grad():
        fa = D(seen[:SCORE_IMAGES].to(trainer.device)).float().cpu().numpy()
        fv = D(val.to(trainer.device)).float().cpu().numpy() if val is not None else np.full(2, np.nan)
    se = float(np.sqrt(fa.var(ddof=1) / len(fa) + fv.var(ddof=1) / len(fv)))
    return Probe(objective, critic_steps, float(fa.mean() - fv.mean()), se, time.perf_counter() - start)


def late_gaps(runs: list[CriticLosses]) -> list[float]:
    """Per run: the mean of (validation - training critic loss) over the last quarter of its evaluations (= mean
    score of training images minus that of validation images; positive = the critic prefers its own images)."""
    k = max(2, len(runs[0].steps) // 4)
    return [float(np.mean(np.array(r.val[-k:]) - np.array(r.train[-k:]))) for r in runs]


FIG5B = ("In both WGAN and WGAN-GP, the two losses diverge, suggesting that the critic overfits and provides an "
         "inaccurate estimate of")


def _co(gp: float, clip: float, seeds: int = 3, probes: tuple[float, float] = (1.0, 1.0)) -> dict[str, Any]:
    return {"seeds": seeds, "gap_subset_low": gp, "gap_subset_wgan_low": clip, "probe_wgan-gp_gap": probes[0],
            "probe_wgan-gp_se": 0.1, "probe_wgan_gap": probes[1], "probe_wgan_se": 0.1}


def _probe_shortfalls(m: dict[str, Any], objectives: tuple[str, ...]) -> list[str]:
    short = too_few_seeds(m, IMG_MIN_SEEDS)
    for o in objectives:
        gap, se = m[f"probe_{o}_gap"], m[f"probe_{o}_se"]
        if not memorises(gap, se):
            short.append(f"the {o} arm's critic cannot memorise the subset at this width and step count: the "
                         f"probe scores it {gap:.3g} (s.e. {se:.2g}) above validation images, not > 2 s.e.")
    return short


PROBE_BUDGET = ("--seeds 3, and a wider critic and/or more generator steps (--budget paper: width 64, 200,000 "
                "generator steps as gan_mnist.py) until the memorisation probe passes")


def _co_gate(m: dict[str, Any]) -> Gate:
    short = _probe_shortfalls(m, ("wgan-gp", "wgan"))
    return gate_from(short, PROBE_BUDGET)


def _full_gate(m: dict[str, Any]) -> Gate:
    """unlike-the-full-set is a control: it asks whether the overfitting of the subset run is the small set's doing,
    so it can decide only where the subset run overfits (issue 23, decided from the claim's meaning before
    re-judging): besides the probe, the WGAN-GP subset gap's 95% lower end above 0. Without that, "subset minus
    full set" compares two runs that both have not overfitted, which says nothing about the full set."""
    short = _probe_shortfalls(m, ("wgan-gp",))
    if not m["gap_subset_low"] > 0:
        short.append(f"the WGAN-GP subset run shows no overfitting to contrast with the full set: its late gap's 95% "
                     f"interval reaches {m['gap_subset_low']:.3g} (lower end not above 0)")
    return gate_from(short, PROBE_BUDGET + " and the subset run's gap is above 0")


CO_ADEQUACY = (f"at least {IMG_MIN_SEEDS} seeds, and the memorisation probe of each arm judged: its critic, trained "
               "for as many updates as the arm's critic to score the subset above other training images, scores the "
               "subset above unseen validation images by 2 standard errors")
CO_BOTH = ClaimSpec(
    "small-set-overfits", "WGAN-GP", FIG5B, "sec. 5.6, Fig. 5b",
    "on the 1,000-image subset, in both arms (WGAN-GP and weight-clipped WGAN): gap = critic loss on validation minus "
    "on training images (same fakes), mean over the last quarter of training per seed; the lower end of the 95% "
    "interval over seeds of the mean gap > 0 in each arm",
    decide=lambda m: m["gap_subset_low"] > 0 and m["gap_subset_wgan_low"] > 0, gate=_co_gate, trained=True,
    adequacy=CO_ADEQUACY,
    negative_control=lambda: _co(1.0, -0.05),  # the clipping arm's losses stay together
    positive_control=lambda: _co(1.0, 0.8),
    positive_source="constructed: both arms' validation loss above the training loss late in training, as Fig. 5b's "
                    "two panels show; the figure gives no numbers",
    inadequate_control=lambda: _co(1.0, 0.8, probes=(1.0, 0.05)))
CO_FULL = ClaimSpec(
    "unlike-the-full-set", "WGAN-GP", "", "sec. 5.6 (our control: Fig. 5b has no full-set run)",
    "WGAN-GP: the subset gap minus the full training set's gap, paired by seed; the lower end of its 95% interval "
    "over seeds > 0", decide=lambda m: m["subset_minus_full_low"] > 0,
    gate=_full_gate, trained=True, ours=True,
    adequacy=CO_ADEQUACY + "; and the WGAN-GP subset run overfits (its late gap's 95% lower end above 0): the "
                           "control contrasts that overfitting with the full set, and needs it to exist",
    negative_control=lambda: {**_co(1.0, 1.0), "subset_minus_full_low": -0.2},
    positive_control=lambda: {**_co(1.0, 1.0), "subset_minus_full_low": 0.5}, positive_source="constructed",
    inadequate_control=lambda: {**_co(-0.3, 1.0), "subset_minus_full_low": 0.5})  # the subset did not overfit
CO_WHERE = ClaimSpec(
    "where-the-gap-comes-from", "WGAN-GP", "", "sec. 5.6 (measured beside)",
    f"mean critic score E f(x) on fixed sets of up to {SCORE_IMAGES} images, mean over the last quarter of training, "
    "WGAN-GP subset runs, mean over seeds: differences seen - validation and seen - unseen (positive = "
    "memorisation; descriptive)", kind="descriptive")

STEPS = {"quick": 30, "cpu": 300, "paper": 200_000}  # generator steps (gan_mnist.py:27 ITERS for the paper)
WIDTH = {"cpu": 8}  # critic and generator width (DIM; gan_mnist.py:23: 64)
N_CRITIC = 5  # gan_mnist.py:25


def co_setting(ctx: Context) -> tuple[ImageSetting, int, int]:
    """The image setting, the subset size and the probe's critic updates (n_critic x generator steps)."""
    s = image_setting(ctx, full_steps=STEPS["cpu"], full_width=WIDTH["cpu"], paper_steps=STEPS["paper"])
    subset = budget.pick(ctx, quick=200, cpu=1000, paper=1000)
    # the probe's critic updates: n_critic x the full generator steps (s.steps is already cut short in an estimate)
    gen_full = ctx.steps if ctx.steps is not None else budget.pick(ctx, quick=STEPS["quick"], cpu=STEPS["cpu"],
                                                                   paper=STEPS["paper"])
    probe = budget.probe_steps(ctx, N_CRITIC * gen_full, N_CRITIC * STEPS["quick"])
    return s, subset, probe


def critic_overfitting_table(ctx: Context) -> list[Row]:
    s, subset, probe = co_setting(ctx)
    n_params = _critic_parameters(s)
    return image_rows(s, "MNIST: a random 1,000-digit subset of the training set; the validation images are MNIST's "
                      "separate split", f"WGAN-GP sec. 5.6, Fig. 5b; {MNIST}:201, 238-241; tflib/mnist.py:49-63") + [
        Row("width", "'large unregularized' critics; the MNIST script's DIM 64 (about 1.0M critic parameters)",
            f"WGAN-GP sec. 5.6; {MNIST}:23, 82-101", f"DIM {s.width} ({n_params:,} critic parameters, "
            f"{n_params / max(subset, 1):.0f} per training image)",
            "CPU cost; --budget paper runs the paper's value. DIM 8 is the largest width whose 9 runs and 2 probes "
            "fit the ~15 CPU-minutes (one thread) this run had; DIM 16 costs 1.8x per step (measured). A critic with "
            "many more parameters than images can memorise them; the memorisation probe (adequacy gate) measures "
            "whether it does within the run's critic updates"),
        Row("objective", "WGAN-GP, lambda 10 (left panel); weight clipping, c 0.01 (right panel)",
            f"WGAN-GP Fig. 5b; {MNIST}:26, 123-148", "presets wgan-gp (lambda 10) and wgan (clip 0.01) on the same "
            "subset and seeds; our control: wgan-gp on the whole training split", ""),
        Row("optimiser", "WGAN-GP: Adam; clipping: tf.train.RMSPropOptimizer", f"{MNIST}:116-121, 150-159",
            "torch.optim.Adam; clipping: rmsprop_tf (wgan.optim.TFRMSProp, TensorFlow's variant)", ""),
        Row("lr", "WGAN-GP 1e-4; clipping 5e-5", f"{MNIST}:117, 120, 151, 156", "1e-4; 5e-5", ""),
        Row("betas", "(0.5, 0.9) (the paper's Algorithm 1: (0, 0.9))", f"{MNIST}:152-153, 157-158",
            "(0.5, 0.9)", "issue 23: the official code's settings for Fig. 5b (was: Algorithm 1's (0, 0.9))"),
        Row("n_critic", "5, constant", f"{MNIST}:25, 220-224", str(N_CRITIC), ""),
        Row("split", "a 1,000-digit subset of MNIST's training split; validation: the separate validation split "
            "(tflib's mnist.pkl.gz: 50,000 / 10,000 / 10,000)", "WGAN-GP sec. 5.6; tflib/mnist.py:49-63",
            f"data.subset = {subset} images drawn at random (data.split = random, split_seed = the run's seed); with "
            "only MNIST's t10k file, the 640 validation images are a seeded random draw too",
            "t10k's first and last images come from different writer pools: a first/last split is not exchangeable"),
        Row("statistic", "critic loss on training batches and on the validation set over training (negative "
            "critic loss plotted)", f"WGAN-GP Fig. 5b; {MNIST}:233-245",
            f"Trainer.validation_losses averaged over {VAL_BATCHES} batches at step 0 and {s.n_points} evenly spaced "
            "steps: critic loss (no penalty) on training and on validation images against the same fakes; per seed "
            "gap = validation - training over the last quarter", ""),
        Row("criterion", "none (curves): 'In both WGAN and WGAN-GP, the two losses diverge'", "WGAN-GP sec. 5.6",
            f"the 95% interval over {s.seeds} seeds of the mean gap above 0 in both arms; ours beside: WGAN-GP's "
            "subset gap above the full-set gap (paired by seed)",
            "issue 23: 'in both WGAN and WGAN-GP', with an interval over seeds; a gap within its noise, or of the "
            "opposite sign, fails (tests)"),
        Row("adequacy", "the paper trains 'large unregularized' critics until they overfit", "WGAN-GP sec. 5.6",
            f"memorisation probe per arm (seed 0): the arm's critic trained for {probe:,} updates (its GAN critic's "
            "count) to score the subset above other training images must score the subset above validation images "
            "by 2 s.e.; else INCONCLUSIVE. unlike-the-full-set (ours) also needs the WGAN-GP subset run to overfit "
            "(late gap's 95% lower end > 0)", "decided from the paper's text before the run: a critic that cannot "
            "memorise the subset cannot show the divergence, whatever the GAN does; issue 23: a control of the "
            "subset's overfitting needs that overfitting to exist"),
    ]


def _critic_parameters(s: ImageSetting) -> int:
    from ..config import CriticConfig
    from ..nets import build_critic
    from ..training.trainer import count_parameters

    shape = (1, 28, 28) if s.net == "mnist-conv" else (64,)
    return count_parameters(build_critic(CriticConfig(net=s.net, width=s.width, depth=s.depth, norm="none"), shape))


@register("critic-overfitting", WGAN_GP, "Fig. 5b, sec. 5.6 (critic loss on training vs validation images)",
          "on a 1,000-image training set the critic overfits, with WGAN-GP and with weight clipping: its validation "
          "loss drifts above its training loss (a full-set run beside it is our control)",
          table=critic_overfitting_table, claims=(CO_BOTH, CO_FULL, CO_WHERE))
def critic_overfitting(ctx: Context) -> Result:
    with single_thread():
        return _critic_overfitting(ctx)


def _critic_overfitting(ctx: Context) -> Result:
    s, subset, probe_steps = co_setting(ctx)
    seeds = range(s.seeds)
    # the adequacy probes first: their verdict shows in the log before the long GAN runs
    probes = {o: memorisation_probe(o, s, subset, 0, probe_steps, ctx.device)
              for o in ctx.track(("wgan-gp", "wgan"), "memorisation probes", lambda o: o)}
    for p in probes.values():
        say_progress(f"probe {p.objective}: {p.critic_steps} critic updates, subset - validation score "
                     f"{p.gap:.3g} (s.e. {p.se:.2g}), {p.seconds:.0f} s")
    small = [train_critic_losses("subset", s, subset, seed, ctx.device)
             for seed in ctx.track(seeds, f"{subset}-image subset, WGAN-GP", lambda x: f"seed {x}")]
    clipped = [train_critic_losses("subset-wgan", s, subset, seed, ctx.device, objective="wgan")
               for seed in ctx.track(seeds, f"{subset}-image subset, weight clipping", lambda x: f"seed {x}")]
    full = [train_critic_losses("full", s, 0, seed, ctx.device)
            for seed in ctx.track(seeds, "full training set, WGAN-GP", lambda x: f"seed {x}")]

    def late_mean(values: list[float]) -> float:
        k = max(2, len(values) // 4)
        return float(np.mean(values[-k:]))

    g_small, g_clip, g_full = late_gaps(small), late_gaps(clipped), late_gaps(full)
    iv_small = mean_interval(g_small, "late gap, WGAN-GP on the subset")
    iv_clip = mean_interval(g_clip, "late gap, weight clipping on the subset")
    iv_diff = mean_interval([a - b for a, b in zip(g_small, g_full, strict=True)],
                            "late gap, WGAN-GP: subset minus full set (paired by seed)")
    fig_name = "critic-overfitting.png"
    _plot_overfitting({"WGAN-GP": small, "WGAN (clipping)": clipped, "WGAN-GP, full set": full}, s,
                      ctx.out / fig_name)
    base: dict[str, Any] = {"seeds": s.seeds, "steps": s.steps, "width": s.width,
                            **{f"probe_{o}_gap": p.gap for o, p in probes.items()},
                            **{f"probe_{o}_se": p.se for o, p in probes.items()},
                            "probe_critic_steps": probe_steps}
    c1 = CO_BOTH.judge(base | {"gap_subset": iv_small.estimate, "gap_subset_low": iv_small.low,
                               "gap_subset_high": iv_small.high, "gap_subset_wgan": iv_clip.estimate,
                               "gap_subset_wgan_low": iv_clip.low, "gap_subset_wgan_high": iv_clip.high,
                               "gap_subset_per_seed": g_small, "gap_subset_wgan_per_seed": g_clip,
                               "n_train_subset": small[0].n_train}, interval=iv_small)
    c1b = CO_FULL.judge(base | {"gap_subset_low": iv_small.low, "subset_minus_full": iv_diff.estimate,
                                "subset_minus_full_low": iv_diff.low,
                                "subset_minus_full_high": iv_diff.high, "gap_full_per_seed": g_full,
                                "n_train_full": full[0].n_train}, interval=iv_diff)
    seen = [late_mean(r.score_seen) for r in small]
    val = [late_mean(r.score_val) for r in small]
    unseen = [late_mean(r.score_unseen) for r in small]
    c2 = CO_WHERE.judge({"seen_minus_val": float(np.mean(seen) - np.mean(val)),
                         "seen_minus_unseen": float(np.mean(seen) - np.mean(unseen)),
                         "unseen_minus_val": float(np.mean(unseen) - np.mean(val))})
    protocol = {
        "data": s.data, "networks": s.nets_text(), "critic_parameters": _critic_parameters(s),
        "objective": "wgan-gp preset with the official MNIST optimiser (Adam 1e-4, beta (0.5, 0.9), lambda 10, 5 "
                     "critic steps) and, on the same subset, the wgan preset (TensorFlow's RMSProp 5e-5, clip 0.01, "
                     "5 critic steps); WGAN-GP also on the whole training split (our control)",
        "generator_steps": s.steps, "batch_size": s.batch, "seeds": list(seeds),
        "subset": f"data.subset = {subset} training images drawn at random (data.split = random, split_seed = the "
                  f"run's seed; of {full[0].n_train}); without a separate validation split the held-out images "
                  "are a seeded random draw too",
        "losses": f"at step 0 and {s.n_points} evenly spaced steps: Trainer.validation_losses averaged over "
                  f"{VAL_BATCHES} batches of {s.batch}: loss/critic_trainset (training images) and loss/critic_val "
                  "(held-out validation images), each against the same fresh fakes; no penalty term",
        "probe": f"per arm, seed 0: the arm's critic trained for {probe_steps} updates to score the subset above "
                 "the training-split images outside it (same optimiser, penalty or clipping, batch); then mean score "
                 f"of up to {SCORE_IMAGES} subset images minus that of {SCORE_IMAGES} validation images",
        "probe_seconds": {o: p.seconds for o, p in probes.items()},
        "scores": f"mean critic score on fixed sets of up to {SCORE_IMAGES} distinct images: the run's training "
                  "images, validation images and (subset run) training-split images outside the subset; NaN: none",
        "deviations": f"the paper's Fig. 5b: a random 1,000-digit subset of MNIST's training images, the authors' "
                      f"MNIST nets at width 64 (with batch norm in the clipping run), trained far longer; here "
                      f"{subset} random training images, {s.steps} generator steps with {s.nets_text()} on {s.data}",
    }
    data = {label: [{"seed": i, "n_train": r.n_train, "steps": r.steps, "train": r.train, "val": r.val,
                     "gap_se": r.gap_se, "score_seen": r.score_seen, "score_val": r.score_val,
                     "score_unseen": r.score_unseen, "train_s": r.train_s} for i, r in enumerate(runs)]
            for label, runs in (("subset", small), ("subset-wgan", clipped), ("full", full))}
    data["probes"] = {o: {"critic_steps": p.critic_steps, "gap": p.gap, "se": p.se, "seconds": p.seconds}
                      for o, p in probes.items()}
    return Result([c1, c1b, c2], protocol, [fig_name], data)


def _plot_overfitting(arms: dict[str, list[CriticLosses]], s: ImageSetting, path: Path) -> None:
    import matplotlib.pyplot as plt

    from ..diagnostics.plots import save_figure

    fig, axes = plt.subplots(1, len(arms), figsize=(4.2 * len(arms), 3.8))
    for ax, (title, runs) in zip(axes, arms.items(), strict=True):
        for i, r in enumerate(runs):
            # negative critic loss = the critic's Wasserstein estimate E f(real) - E f(fake), as Fig. 5b plots
            ax.plot(r.steps, [-v for v in r.train], color="tab:blue", alpha=0.8,
                    label="training images" if i == 0 else None)
            ax.plot(r.steps, [-v for v in r.val], color="tab:red", alpha=0.8,
                    label="validation images" if i == 0 else None)
        ax.set_title(f"{title}, {runs[0].n_train} training images ({len(runs)} seeds)", fontsize=9)
        ax.set_xlabel("generator steps")
    axes[0].set_ylabel("negative critic loss  E f(real) - E f(fake)")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{Path(s.data).name}: critic overfitting ({s.net}, width {s.width})", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)

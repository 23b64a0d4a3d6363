"""What WGAN-GP's architecture robustness studies share (Gulrajani et al. 2017, sec. 5.1-5.2): the setting, the
score classifier and reference scores, running a study through the study runner (:mod:`wgan.studies`: every
training run is an ordinary run directory under ``<out>/study/runs``, so an interrupted reproduction resumes where
it stopped when run again with the same options) and the common protocol rows.

Scores: ``is<N>_classifier`` of :mod:`wgan.metrics.image_metrics` -- exp E KL(p(y|x) || p(y)) of a classifier
trained once on the dataset's training split (its held-out accuracy in the protocol), N generated images, 10
splits. A run that fails (an error, or non-finite scores) counts as not succeeding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config
from ..metrics.image_metrics import count_text
from . import RESUMED, Context
from ._protocol import Row

WGAN_GP = "Improved Training of Wasserstein GANs (Gulrajani et al. 2017)"
CODE = "improved_wgan_training/gan_64x64.py"
STEPS = 3000  # default (cpu budget) generator steps of both studies (see setting())
PAPER_STEPS = 200_000  # sec. 5.2 "We train each model for 200K iterations"; gan_64x64.py:32 ITERS
OFFICIAL_LATENT = 128  # every generator of gan_64x64.py draws 128-dim noise (:203, 222, 240, 274, 296, 324)
OFFICIAL_BATCH = 64  # gan_64x64.py:31
N_IS = 1000  # the official code's in-training Inception score: 10 x 100 samples (gan_cifar.py:160-165)
ZOO_SIZE_CPU = 16  # the smallest image size at which the seven zoo rows are seven different networks (see zoo_size)


@dataclass(frozen=True)
class ArchSetting:
    """The setting of one of the two studies (the budget's sizes, see :func:`setting`)."""

    data: str
    image_size: int
    n_arch: int
    filter_scale: float  # Table 1's filter counts x this
    zoo_width: int  # the zoo's DIM (theirs 64)
    latent_dim: int
    batch: int
    steps: int  # generator steps
    n_is: int  # generated images per Inception score
    classifier_steps: int
    classifier_width: int
    space_seed: int = 0
    seeds: int = 1  # training seeds per (architecture, method): 0 .. seeds - 1
    mlp_init: str = "default"  # the zoo's MLP generator: "he" = tflib's (gan_64x64.py:76-78, 220-228)
    budget: str = "cpu"
    checkpoints: int = 2  # per run: what a stopped study loses is at most 1 / checkpoints of a run


def setting(ctx: Context, study: str = "random") -> ArchSetting:
    """The setting of ``study`` ("random": sec. 5.1, Table 1-2; "zoo": sec. 5.2, Fig. 2) at ``ctx``'s budget. Every
    size that deviates from the paper for CPU cost goes through :mod:`._budget` (``--budget paper`` undoes it)."""
    from . import _budget

    data = ctx.data or "digits"
    own = 8 if data == "digits" else 16  # digits at their own 8x8, other data at 16x16
    if study == "zoo":
        size = _budget.pick(ctx, quick=8, cpu=max(own, ZOO_SIZE_CPU), paper=64)  # LSUN bedrooms 64x64 (sec. 5.2)
        n_arch = 0
        seeds = _budget.seeds(ctx, quick=1, cpu=3, paper=3)
    else:
        size = _budget.pick(ctx, quick=8, cpu=own, paper=32)  # 32x32 ImageNet (sec. 5.1)
        n_arch = ctx.n or _budget.pick(ctx, quick=3, cpu=50, paper=200)
        seeds = 1  # one run per architecture and method, as the paper
    # 3,000 generator steps (cpu): the fewest at which the DCGAN baseline passes Table 2's threshold 3 with both
    # methods (measured: WGAN-GP 1.04 at 300 steps, 2.71 at 2,000, 3.08 at 2,250, 3.41 at 3,000; NS-GAN 3.75 at
    # 3,000), so that a run can succeed at all (docs/reproductions/random-architectures.md)
    return ArchSetting(
        data, size, n_arch,
        filter_scale=_budget.pick(ctx, quick=1 / 16, cpu=1 / 8, paper=1.0),
        zoo_width=_budget.pick(ctx, quick=4, cpu=8, paper=64),
        latent_dim=_budget.pick(ctx, quick=16, cpu=OFFICIAL_LATENT, paper=OFFICIAL_LATENT),
        batch=_budget.pick(ctx, quick=16, cpu=32, paper=OFFICIAL_BATCH),
        steps=_budget.steps(ctx, quick=3, cpu=STEPS, paper=PAPER_STEPS),
        n_is=_budget.pick(ctx, quick=100, cpu=N_IS, paper=N_IS),
        classifier_steps=_budget.pick(ctx, quick=60, cpu=600, paper=600),
        classifier_width=_budget.pick(ctx, quick=8, cpu=16, paper=16),
        seeds=seeds, mlp_init="default" if study == "random" else "he", budget="quick" if ctx.quick else ctx.budget,
        # the zoo's ResNet-101 runs take hours each on a CPU core, longer than a session may run: a checkpoint every
        # tenth of a run (the random study's runs are minutes long and keep their two; a run's record includes it)
        checkpoints=10 if study == "zoo" else 2)


def study_sets(s: ArchSetting, classifier: Path | str, device: str) -> dict[str, Any]:
    """Study-wide overrides: data, batch, steps, schedule, the score."""
    metric = f"is{count_text(s.n_is)}_classifier"
    return {"data.name": s.data, "data.image_size": s.image_size, "data.batch_size": s.batch,
            "generator.latent_dim": s.latent_dim, "train.steps": s.steps, "train.log_every": max(1, s.steps // 10),
            "train.eval_every": s.steps, "train.sample_every": s.steps,
            "train.checkpoint_every": max(1, s.steps // s.checkpoints),
            "eval.metrics": metric, "eval.n_samples": s.n_is, "eval.classifier": str(classifier),
            "eval.generator_mode": "batch", "train.device": device}


def metric_key(s: ArchSetting) -> str:
    return f"is{count_text(s.n_is)}_classifier"


# ---------------------------------------------------------------------------------------------- classifier
def train_score_classifier(s: ArchSetting, out: Path) -> tuple[Path, dict[str, Any]]:
    """The score's classifier, trained once on the data's training split at the study's image size and saved
    to ``out/classifier.pt`` (reused when present)."""
    from ..config import DataConfig
    from ..data import make_sampler
    from ..kinds.image_runs import train_data_classifier
    from ..metrics.classifier import load_classifier, save_classifier

    path = out / "classifier.pt"
    if path.is_file():
        _, info = load_classifier(path)
        return path, dict(info.as_dict())
    sampler = make_sampler(s.data, DataConfig(name=s.data, image_size=s.image_size))
    net, info = train_data_classifier(sampler, steps=s.classifier_steps, seed=0, width=s.classifier_width)
    out.mkdir(parents=True, exist_ok=True)
    save_classifier(path, net, info)
    return path, dict(info.as_dict())


def reference_scores(s: ArchSetting, classifier: Path) -> dict[str, float]:
    """The score of real images (the ceiling) and of an untrained DCGAN generator (the floor), same N."""
    import torch

    from ..config import DataConfig, apply_sets
    from ..data import make_sampler
    from ..metrics.classifier import load_classifier
    from ..metrics.image_metrics import classifier_network, inception_score
    from ..nets import build_generator
    from ..resolve import resolve
    from ..training.steps import sampling_mode

    net = classifier_network(*load_classifier(classifier))
    sampler = make_sampler(s.data, DataConfig(name=s.data, image_size=s.image_size))
    real = sampler.sample(s.n_is, torch.Generator().manual_seed(123)).view(s.n_is, *sampler.shape)
    cfg = resolve(apply_sets(Config(), [f"data.name={s.data}", "generator.arch=zoo:dcgan",
                                        f"generator.width={s.zoo_width}", f"generator.latent_dim={s.latent_dim}"]))
    torch.manual_seed(0)
    g = build_generator(cfg.generator, tuple(sampler.shape))
    with torch.no_grad(), sampling_mode(g, "batch"):  # the runs' evaluation mode (eval.generator_mode)
        fake = g(torch.randn(s.n_is, s.latent_dim))
    return {"real": inception_score(real, net)[0], "untrained_generator": inception_score(fake, net)[0]}


# ---------------------------------------------------------------------------------------------- dead at init
DEAD_Z = 64  # latent draws the check feeds the generator
DEAD_REL_STD = 1e-6  # dead: every output pixel's std across the draws below this fraction of the output range
OUTPUT_RANGE = 2.0  # tanh output, [-1, 1]


def output_spread(g, latent_dim: int, n: int = DEAD_Z) -> float:
    """The largest per-pixel standard deviation of ``g``'s output across ``n`` fixed latent draws, in the runs' own
    sampling mode at initialisation (batch norm with the batch's statistics, as in training)."""
    import torch

    from ..training.steps import sampling_mode

    z = torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), sampling_mode(g, "batch"):
        x = g(z).flatten(1).double()
    return float(x.std(0).max()) if torch.isfinite(x).all() else float("nan")


def is_dead(spread: float) -> bool:
    """A generator whose output is constant across z (or not finite): no gradient can tell its samples apart."""
    return not spread >= DEAD_REL_STD * OUTPUT_RANGE


def generator_at_init(cfg: Config, shape: tuple[int, ...]):
    """The generator a run with config ``cfg`` starts from: the Trainer seeds torch with ``train.seed`` and builds
    the generator first (:class:`wgan.training.trainer.Trainer`), so this is the same network, weight for weight."""
    import torch

    from ..nets import build_generator
    from ..resolve import resolve

    cfg = resolve(cfg, check_data=False)
    torch.manual_seed(cfg.train.seed)
    return build_generator(cfg.generator, shape)


def study_shape(s: ArchSetting) -> tuple[int, ...]:
    from ..config import DataConfig
    from ..data import make_sampler

    return tuple(make_sampler(s.data, DataConfig(name=s.data, image_size=s.image_size)).shape)


def dead_at_init(study, s: ArchSetting) -> dict[str, float]:
    """``{"<run label>|s<seed>": output spread}`` of every run's generator at initialisation (see
    :func:`output_spread`)."""
    shape = study_shape(s)
    out: dict[str, float] = {}
    cache: dict[tuple, float] = {}
    for run in study.runs():
        cfg = study.config(run)
        key = (repr(cfg.generator), cfg.train.seed)  # both methods of one architecture share their generator
        if key not in cache:
            cache[key] = output_spread(generator_at_init(cfg, shape), cfg.generator.latent_dim)
        out[f"{run.label}|s{run.seed}"] = cache[key]
    return out


# The initialisations compared (no training): ours, and the two that the official code's tflib layers give.
INITS: dict[str, str] = {
    "ours": "wgan.nets.dcgan.dcgan_init: conv weights N(0, 0.02), batch-norm gains N(1, 0.02) (the WGAN authors' "
            "PyTorch weights_init)",
    "tflib-dcgan": "uniform with std 0.02, zero biases, batch-norm gains 1: gan_64x64.py:235-237 and 431-433 "
                   "(set_weights_stdev(0.02) in DCGANGenerator / DCGANDiscriminator), tflib/ops/conv2d.py:74-77, "
                   "tflib/ops/deconv2d.py:58-62, tflib/ops/batchnorm.py",
    "tflib-he": "tflib's default when no stdev is set (the other generators of gan_64x64.py, e.g. "
                "WGANPaper_CrippledDCGANGenerator :272): uniform with std sqrt(4 / (fan_in + fan_out)), "
                "tflib/ops/conv2d.py:62-72, tflib/ops/deconv2d.py:48-55",
}


def reinit(g, init: str) -> None:
    """Re-initialise ``g``'s convolutions as ``init`` of :data:`INITS` ("ours" leaves them)."""
    import math

    import torch
    from torch import nn

    if init == "ours":
        return
    with torch.no_grad():
        for m in g.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                k = m.kernel_size[0] * m.kernel_size[1]
                stride = m.stride[0]
                if isinstance(m, nn.ConvTranspose2d):  # weight (in, out, kh, kw); tflib: fan_in / stride^2
                    fan_in, fan_out = m.in_channels * k / stride ** 2, m.out_channels * k
                else:
                    fan_in, fan_out = m.in_channels * k, m.out_channels * k / stride ** 2
                std = 0.02 if init == "tflib-dcgan" else math.sqrt(4.0 / (fan_in + fan_out))
                m.weight.uniform_(-std * math.sqrt(3), std * math.sqrt(3))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
                m.weight.fill_(1.0)
                m.bias.zero_()


def init_comparison(s: ArchSetting, points, filter_scales: dict[str, float]) -> dict[str, dict[str, int]]:
    """``{"<filters>/<init>": {"dead": k, "of": n}}``: how many of the generators of ``points`` (Table 1 points, at
    each filter scale of ``filter_scales``: a name -> the scale) are dead at initialisation under each init of
    :data:`INITS` (seed 0, the study's image size and latent size), counted per architecture. No training."""
    from ..config import apply_sets
    from ..nets.space import PlayerPoint

    shape = study_shape(s)
    out: dict[str, dict[str, int]] = {}
    for fname, scale in filter_scales.items():
        names = []
        for p in points:
            g = p.generator
            filters = max(1, round(g.filters / s.filter_scale * scale))  # back to Table 1's count, then scaled
            names.append(PlayerPoint(g.nonlinearity, g.depth, g.batch_norm, filters).name)
        for init in INITS:
            spread: dict[str, float] = {}
            for name in dict.fromkeys(names):
                cfg = apply_sets(Config(), [f"data.name={s.data}", f"data.image_size={s.image_size}",
                                            f"generator.arch={name}", f"generator.latent_dim={s.latent_dim}"])
                g = generator_at_init(cfg, shape)
                reinit(g, init)
                spread[name] = output_spread(g, s.latent_dim)
            out[f"{fname}/{init}"] = {"dead": sum(is_dead(spread[n]) for n in names), "of": len(names)}
    return out


# ---------------------------------------------------------------------------------------------- criteria
def succeeded(score: float | None, threshold: float) -> bool:
    """A run succeeds when its score is finite and above ``threshold`` (Table 2: "min. score")."""
    return score is not None and math.isfinite(score) and score > threshold


# ---------------------------------------------------------------------------------------------- running
def study_dir(ctx: Context) -> Path:
    """The study folder of a reproduction's output (its runs in ``runs/``)."""
    return ctx.out / "study"


def study_summaries(ctx: Context, study) -> dict[str, Any]:
    """Run the study (skipping finished runs) and return ``{"<label>|s<seed>": summary or None}`` (seed 0's also
    under its bare label) and the study's ``_wall_s`` and ``_failed``."""
    from ..studies import run_study

    out = study_dir(ctx)
    ctx.keeps(out / "runs", "a run with summary.json is skipped when the reproduction runs again")
    gpus = 0.125 if ctx.device.startswith("cuda") else 0  # on Ray: 8 of these small runs share a GPU
    report = run_study(study, out, backend=ctx.backend, workers=ctx.workers, ray_address=ctx.ray_address,
                       ray_num_gpus=gpus, progress=True)
    skipped = [r for r in report.results if r.status == "skipped"]  # finished by an earlier start
    if skipped:
        RESUMED.reused += len(skipped)
        RESUMED.reused_s += sum(float((r.summary or {}).get("train_time_s", 0.0)) for r in skipped)
    RESUMED.trained += len(report.results) - len(skipped)
    got = {f"{r.label}|s{r.seed}": (r.summary if r.status != "failed" else None) for r in report.results}
    return got | {r.label: got[f"{r.label}|s0"] for r in report.results if r.seed == 0} | {
        "_wall_s": report.wall_s, "_failed": [f"{r.label}: {r.error}" for r in report.failed]}


def score_of(summary: dict[str, Any] | None, key: str) -> float | None:
    """A run's score ``key`` from its summary; None for a failed run or a non-finite score."""
    v = (summary or {}).get(key)
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


CPU = "CPU cost; --budget paper runs the paper's value"


def common_rows(s: ArchSetting, study: str = "random") -> list[Row]:
    """The protocol rows both architecture studies share: data, init, batch, steps, seeds, eval_mode, statistic (in
    this order; each study adds its own)."""
    quick = s.budget == "quick"
    why = "tiny quick run" if quick else CPU
    paper_data = ("32x32 ImageNet", "WGAN-GP sec. 5.1", 32) if study == "random" else \
        ("LSUN bedrooms (sec. 5.2) at 64x64, the size of the official gan_64x64.py (whose loader reads 64x64 "
         "ImageNet)", f"WGAN-GP sec. 5.2; {CODE}:21-22, 579", 64)
    same_size = s.image_size == paper_data[2]
    return [
        Row("data", paper_data[0], paper_data[1],
            f"{s.data} at {s.image_size}x{s.image_size} (--data: an MNIST folder or any image source)",
            "no ImageNet/LSUN here (--data takes any image folder)" + ("" if same_size else f"; size: {why}")),
        Row("init", "not stated for sec. 5.1 (the random architectures' code is not published); the official "
            "DCGAN nets: uniform with std 0.02 (tflib set_weights_stdev), the other nets tflib's He-style default",
            f"{CODE}:235-237, 431-433; tflib/ops/conv2d.py:62-77; tflib/ops/deconv2d.py:48-62",
            "the WGAN authors' DCGAN init N(0, 0.02) for the DCGAN family (the same std as the official DCGAN's, "
            "normal for uniform)" + ("; the zoo's MLP generator tflib's Linear init (hidden 'he': uniform, std "
                                     "sqrt(2 / fan_in); output Glorot; zero biases)" if study == "zoo" else ""),
            "the library's DCGAN family; generators dead at initialisation under it are detected and reported "
            "(see the dead_at_init row)" + ("; the zoo's no-BN constant-filter, gated and ResNet rows keep N(0, "
                                             "0.02) / PyTorch defaults where the official code uses tflib's He "
                                             "default" if study == "zoo" else "")),
        Row("latent", "128-dim Gaussian noise", f"{CODE}:203, 222, 240", str(s.latent_dim),
            "" if s.latent_dim == OFFICIAL_LATENT else why),
        Row("batch", str(OFFICIAL_BATCH), f"{CODE}:31", str(s.batch), "" if s.batch == OFFICIAL_BATCH else why),
        Row("steps", "200,000 generator iterations (sec. 5.2; gan_64x64.py); sec. 5.1 does not say",
            f"WGAN-GP sec. 5.2; {CODE}:32", f"{s.steps:,} generator steps",
            "" if s.steps == PAPER_STEPS else "tiny quick run" if quick else
            f"{CPU}; {STEPS:,} (cpu) is the fewest at which the DCGAN baseline passes threshold 3 with both methods "
            "(300 trained nothing)"),
        Row("seeds", "1 run per architecture and method", f"WGAN-GP sec. {'5.1' if study == 'random' else '5.2'}",
            f"{s.seeds} (train.seed {'0' if s.seeds == 1 else f'0..{s.seeds - 1}'})",
            "" if s.seeds == 1 else "issue 23: at least 3 seeds per trained arm, for an interval"),
        Row("eval_mode", "Inception score of the final generator; tflib's batch norm normalises with each "
            "batch's own statistics, also when sampling",
            f"WGAN-GP sec. 5.1; {CODE}:84-90 (Normalize calls tflib's Batchnorm without is_training); "
            "tflib/ops/batchnorm.py:51-52",
            "the final generator, eval.generator_mode = batch (batch norm with the batch's statistics, running "
            "averages untouched)", ""),
        Row("statistic", "Inception score (ImageNet Inception network); sample count not stated (the official "
            "in-training score: 1,000 samples)", "WGAN-GP Table 2; improved_wgan_training/gan_cifar.py:160-165",
            f"classifier Inception score is{count_text(s.n_is)}_classifier: a {s.classifier_width}-wide digit "
            f"classifier ({s.classifier_steps} steps on the training split), {s.n_is} samples, 10 splits",
            "no Inception network for digits; the score's ceiling is 10 (classes), the paper's ~11 (32x32 ImageNet)"
            + ("" if s.n_is == N_IS else f"; samples: {why}")),
        Row("dead_at_init", "not reported", "WGAN-GP sec. 5.1",
            f"every run's generator rebuilt as the run builds it (same seed) and fed {DEAD_Z} latent draws; dead when "
            f"every output pixel's std across them is below {DEAD_REL_STD:g} x the output range ({OUTPUT_RANGE:g}); "
            "count and share per method reported",
            "issue 23: a generator that is constant at initialisation cannot train under either method"),
    ]

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
from . import Context
from ._protocol import Row

WGAN_GP = "Improved Training of Wasserstein GANs (Gulrajani et al. 2017)"
CODE = "improved_wgan_training/gan_64x64.py"
STEPS = 3000  # default generator steps of both studies (see setting())


@dataclass(frozen=True)
class ArchSetting:
    """The CPU-sized setting shared by both studies."""

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


def setting(ctx: Context) -> ArchSetting:
    data = ctx.data or "digits"
    if ctx.quick:
        return ArchSetting(data, 8, ctx.n or 3, 1 / 16, 4, 16, 16, ctx.steps or 3, 100, 60, 8)
    # CPU-sized: digits at their own 8x8, other data at 16x16; Table 1's filters / 8 (4, 8, 16); the zoo's DIM 8.
    # 3,000 generator steps: the fewest at which the DCGAN baseline passes Table 2's threshold 3 with both
    # methods (measured: WGAN-GP 1.04 at 300 steps, 2.71 at 2,000, 3.08 at 2,250, 3.41 at 3,000; NS-GAN 3.75 at
    # 3,000), so that a run can succeed at all (docs/reproductions/random-architectures.md)
    size = 8 if data == "digits" else 16
    return ArchSetting(data, size, ctx.n or 50, 1 / 8, 8, 32, 32, ctx.steps or STEPS, 1000, 600, 16)


def study_sets(s: ArchSetting, classifier: Path | str, device: str) -> dict[str, Any]:
    """Study-wide overrides: data, batch, steps, schedule, the score."""
    metric = f"is{count_text(s.n_is)}_classifier"
    return {"data.name": s.data, "data.image_size": s.image_size, "data.batch_size": s.batch,
            "generator.latent_dim": s.latent_dim, "train.steps": s.steps, "train.log_every": max(1, s.steps // 10),
            "train.eval_every": s.steps, "train.sample_every": s.steps, "train.checkpoint_every": max(1, s.steps // 2),
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
    cfg = resolve(apply_sets(Config(), [f"data.name={s.data}", "generator.arch=zoo:dcgan", "generator.width=8",
                                        f"generator.latent_dim={s.latent_dim}"]))
    torch.manual_seed(0)
    g = build_generator(cfg.generator, tuple(sampler.shape))
    with torch.no_grad(), sampling_mode(g, "batch"):  # the runs' evaluation mode (eval.generator_mode)
        fake = g(torch.randn(s.n_is, s.latent_dim))
    return {"real": inception_score(real, net)[0], "untrained_generator": inception_score(fake, net)[0]}


# ---------------------------------------------------------------------------------------------- criteria
def succeeded(score: float | None, threshold: float) -> bool:
    """A run succeeds when its score is finite and above ``threshold`` (Table 2: "min. score")."""
    return score is not None and math.isfinite(score) and score > threshold


# ---------------------------------------------------------------------------------------------- running
def study_dir(ctx: Context) -> Path:
    """The study folder of a reproduction's output (its runs in ``runs/``)."""
    return ctx.out / "study"


def study_summaries(ctx: Context, study) -> dict[str, Any]:
    """Run the study (skipping finished runs) and return ``{label: summary or None}``."""
    from ..studies import run_study

    out = study_dir(ctx)
    ctx.keeps(out / "runs", "a run with summary.json is skipped when the reproduction runs again")
    gpus = 0.125 if ctx.device.startswith("cuda") else 0  # on Ray: 8 of these small runs share a GPU
    report = run_study(study, out, backend=ctx.backend, workers=ctx.workers, ray_address=ctx.ray_address,
                       ray_num_gpus=gpus, progress=True)
    return {r.label: (r.summary if r.status != "failed" else None) for r in report.results} | {
        "_wall_s": report.wall_s, "_failed": [f"{r.label}: {r.error}" for r in report.failed]}


def score_of(summary: dict[str, Any] | None, key: str) -> float | None:
    """A run's score ``key`` from its summary; None for a failed run or a non-finite score."""
    v = (summary or {}).get(key)
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def common_rows(s: ArchSetting, quick: bool) -> list[Row]:
    """The protocol rows both architecture studies share."""
    return [
        Row("data", "32x32 ImageNet (sec. 5.1); 64x64 LSUN bedrooms (Fig. 2)", "WGAN-GP sec. 5.1, 5.2",
            f"{s.data} at {s.image_size}x{s.image_size} (--data: an MNIST folder or any image source)",
            "CPU cost; no ImageNet/LSUN here"),
        Row("init", "tflib defaults (DCGAN layers N(0, 0.02) in gan_64x64.py; He elsewhere)", f"{CODE}:428-434",
            "the WGAN authors' DCGAN init N(0, 0.02) for DCGAN nets; PyTorch defaults for the MLP and ResNet",
            "the library's DCGAN family; He init not reproduced for MLP/ResNet"),
        Row("batch", "64", f"{CODE}:31", str(s.batch), "" if s.batch == 64 else "tiny quick run"),
        Row("steps", "200,000 generator iterations (gan_64x64.py); sec. 5.1 does not say", f"{CODE}:32",
            f"{s.steps} generator steps",
            "CPU cost; 3,000 is the fewest at which the DCGAN baseline passes threshold 3 with both methods (300 "
            "trained nothing)" if s.steps == STEPS else "tiny quick run" if quick else
            f"CPU cost: --steps {s.steps} (the default, {STEPS:,}, is the fewest at which the DCGAN baseline "
            "passes threshold 3 with both methods)"),
        Row("seeds", "1 run per architecture and method", "WGAN-GP sec. 5.1", "1 (train.seed 0)", ""),
        Row("eval_mode", "Inception score of the final generator; tflib's batch norm normalises with each "
            "batch's own statistics, also when sampling",
            f"WGAN-GP sec. 5.1; {CODE}:84-90 (Normalize calls tflib's Batchnorm without is_training); "
            "tflib/ops/batchnorm.py:51-52",
            "the final generator, eval.generator_mode = batch (batch norm with the batch's statistics, running "
            "averages untouched)", ""),
        Row("statistic", "Inception score (ImageNet Inception network, 50,000 samples)", "WGAN-GP Table 2",
            f"classifier Inception score is{count_text(s.n_is)}_classifier: a {s.classifier_width}-wide digit "
            f"classifier ({s.classifier_steps} steps on the training split), {s.n_is} samples, 10 splits",
            "no Inception network for digits; the score's ceiling is 10 (classes), the paper's ~11 (32x32 ImageNet)"),
    ] + ([Row("mode", "full", "", "--quick: tiny smoke test", "tests")] if quick else [])

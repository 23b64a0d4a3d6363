"""What the image reproductions share (WGAN-GP, Gulrajani et al. 2017, with classifier-FID): the image setting
(nets, steps, widths), the digit classifier trained once per setting, the data and objective protocol rows. Used
by ``image-objectives``, ``critic-overfitting`` and the Stacked MNIST part of ``improved-techniques``.

Data: ``--data PATH`` (an MNIST IDX folder, also with only the t10k split, whose last 640 images are then
held out for validation; or any image source ``wgan list`` accepts), default scikit-learn's bundled 8x8
``digits`` so the command runs on a fresh machine. 28x28 / 32x32 images get the WGAN-GP authors' MNIST conv
nets (``mnist-conv``, code ``gan_mnist.py``) at a reduced width; other sizes small MLPs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import DataConfig
from ..data import make_sampler
from . import Context
from . import _budget as budget
from ._protocol import Row

IMG_MIN_SEEDS = 3
PAPER_STEPS, PAPER_WIDTH = 200_000, 64  # gan_mnist.py:27 (ITERS), :23 (DIM)
WGAN_GP = "Improved Training of Wasserstein GANs (Gulrajani et al. 2017)"
DEFAULT_DATA = "digits"


@dataclass(frozen=True)
class ImageSetting:
    data: str  # data.name: "digits" or a path
    net: str  # "mnist-conv" for 28x28/32x32 images, else "mlp"
    width: int
    depth: int  # mlp only
    latent_dim: int
    batch: int
    steps: int  # generator steps
    n_points: int  # evaluations besides step 0
    n_fid: int  # generated (and reference) images per FID
    classifier_steps: int
    classifier_width: int
    seeds: int
    subset: int = 0  # critic-overfitting: the small training set

    def sets(self) -> list[str]:
        """``--set`` items for the data, the nets and the batch (same for every objective)."""
        return [f"data.name={self.data}", f"data.batch_size={self.batch}",
                f"generator.net={self.net}", f"critic.net={self.net}", f"generator.width={self.width}",
                f"critic.width={self.width}", f"generator.depth={self.depth}", f"critic.depth={self.depth}",
                f"generator.latent_dim={self.latent_dim}", "generator.norm=none", "critic.norm=none",
                f"train.steps={self.steps}"]

    def nets_text(self) -> str:
        if self.net == "mnist-conv":
            return (f"WGAN-GP authors' MNIST conv nets (mnist-conv) at width {self.width} (theirs: 64), latent "
                    f"{self.latent_dim}, no batch norm in either network")
        return f"MLP generator and critic, {self.depth} hidden ReLU layers x {self.width}, latent {self.latent_dim}"


def image_shape(data: str) -> tuple[int, ...]:
    """The shape ``(C, H, W)`` of one image of ``data``."""
    return tuple(make_sampler(data, DataConfig(name=data)).shape)


def image_setting(ctx: Context, full_steps: int, full_width: int, n_points: int = 10,
                  paper_steps: int = PAPER_STEPS, paper_width: int = PAPER_WIDTH) -> ImageSetting:
    """Quick: digits-sized and tiny (seconds). Otherwise ``full_steps`` generator steps at ``full_width`` (the
    ``cpu`` budget) or ``paper_steps`` at ``paper_width`` (``--budget paper``: the official MNIST script's
    200,000 iterations at DIM 64), with ``n_points`` evaluations. Sizes go through :mod:`._budget` so the
    protocol table and ``--estimate`` see the same values."""
    data = ctx.data or DEFAULT_DATA
    shape = image_shape(data)
    conv = len(shape) == 3 and shape[1] == shape[2] and shape[1] in (28, 32)
    n_steps = budget.steps(ctx, quick=30, cpu=full_steps, paper=paper_steps)
    seeds = budget.seeds(ctx, quick=1, cpu=IMG_MIN_SEEDS, paper=IMG_MIN_SEEDS)
    if ctx.quick:
        return ImageSetting(data, "mnist-conv" if conv else "mlp", width=4 if conv else 32, depth=2, latent_dim=16,
                            batch=32, steps=n_steps, n_points=3, n_fid=200, classifier_steps=100,
                            classifier_width=8, seeds=seeds)
    width = budget.pick(ctx, quick=4, cpu=full_width, paper=paper_width) if conv else 128
    return ImageSetting(data, "mnist-conv" if conv else "mlp", width=width, depth=3,
                        latent_dim=128 if conv else 32, batch=50, steps=n_steps, n_points=n_points,
                        n_fid=500, classifier_steps=400, classifier_width=16, seeds=seeds)


# ---------------------------------------------------------------------------------------------- classifier
_CLASSIFIERS: dict[tuple, tuple[Path, dict[str, Any]]] = {}


def data_classifier(s: ImageSetting, out: Path) -> tuple[Path, dict[str, Any]]:
    """Train the metric's classifier once on the data's training split (cached per process), save it to
    ``out/classifier.pt``; returns the file and its info (held-out accuracy, protocol)."""
    from ..kinds.image_runs import train_data_classifier
    from ..metrics.classifier import save_classifier

    key = (s.data, s.classifier_steps, s.classifier_width)
    if key in _CLASSIFIERS and _CLASSIFIERS[key][0].is_file():
        return _CLASSIFIERS[key]
    sampler = make_sampler(s.data, DataConfig(name=s.data))  # the full training split, whatever subset runs use
    net, info = train_data_classifier(sampler, steps=s.classifier_steps, seed=0, width=s.classifier_width)
    path = out / "classifier.pt"
    out.mkdir(parents=True, exist_ok=True)
    save_classifier(path, net, info)
    _CLASSIFIERS[key] = (path, info.as_dict())
    return _CLASSIFIERS[key]


def say_progress(line: str) -> None:
    """One progress line on stderr per evaluation (the full runs take tens of minutes)."""
    print(line, file=sys.stderr, flush=True)


BASELINE_TRAINS, COMPARABLE = 0.5, 0.10


CIFAR, MNIST = "improved_wgan_training/gan_cifar.py", "improved_wgan_training/gan_mnist.py"


def image_rows(s: ImageSetting, paper_data: str, data_source: str) -> list[Row]:
    """The protocol rows of the image setting shared by the image reproductions."""
    return [
        Row("data", paper_data, data_source,
            f"{s.data} (--data; the full runs: MNIST t10k, 10,000 images, 640 held out for validation)",
            "CPU cost; the MNIST training split is not in the development data"),
        Row("nets", "DCGAN-like conv nets, width DIM 64 (MNIST) / 128 (CIFAR); batch norm in G (and in D for the "
            "clipping and DCGAN runs)", f"{MNIST}:23, 56-98; {CIFAR}:27, 45-90", s.nets_text(),
            "width: CPU cost; --budget paper runs the paper's value; no batch norm anywhere so that the objectives "
            "share the nets"),
        Row("init", "tflib: conv He uniform (std sqrt(4 / (fan_in + fan_out))), linear Glorot uniform",
            "tflib/ops/conv2d.py:62-72; tflib/ops/linear.py:55-60", "PyTorch default (kaiming uniform, a = sqrt(5))",
            "tflib's initialisers are not implemented for the image nets"),
        Row("batch", "50 (MNIST), 64 (CIFAR)", f"{MNIST}:24; {CIFAR}:30", str(s.batch), ""),
        Row("steps", "200,000 generator iterations", f"{MNIST}:27; {CIFAR}:31", f"{s.steps} generator steps",
            "CPU cost; --budget paper runs the paper's value"),
        Row("seeds", "one run per curve", "WGAN-GP Fig. 3", f"{s.seeds}", "issue 23: at least 3 for an interval"),
        Row("eval_mode", "tflib batch norm always normalises with the batch's statistics (no running averages at "
            "sampling time)", "tflib/ops/batchnorm.py:6, 51-52", "n/a: no batch norm in these nets", ""),
    ]

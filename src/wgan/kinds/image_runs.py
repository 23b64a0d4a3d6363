"""Training-loop hooks for image runs (``Sampler.kind == "images"``): evaluation, summary, sample grids.

* ``evaluate``: the metrics of ``eval.metrics`` (:mod:`wgan.metrics.image_metrics`; ``"default"`` = the cheap set
  below) at the current step, each next to what real held-out images score under the same protocol (the
  baseline a generator is compared with, like ``w1_floor`` for points and ``js*_val`` for text).
* ``summary``: the figures and a ``"protocol"`` dict: sample counts, reference split, feature network.
* ``save_samples``: ``samples/step-NNNNNNN.png``, an 8x8 grid from FIXED noise (the same z at every step;
  conditional runs: one row per class), written atomically.

Feature network (``eval.classifier``): a file from ``wgan classifier train`` (the offline default), ``"auto"``
(train one on this run's data in-process at the first evaluation -- deterministic, a few hundred steps on
small data, kept in memory; its held-out accuracy goes into the protocol), or ``""``: no classifier, so no
classifier FID/IS/modes, and the protocol says why. ``eval.inception_weights`` names the FID Inception weights
file (pytorch-fid's ``pt_inception-2015-12-05-*.pth``) for the ``*_inception*`` metrics; left empty, the file is
fetched into the cache on first use (:func:`wgan.metrics.inception.fid_inception_weights`).

``"default"`` metrics with n = ``eval.n_samples``: ``fid{n}_classifier`` and ``is{n}_classifier`` when the
classifier matches the data's shape; ``modes{n}_stacked_classifier`` for 3-channel data with a 1-channel
10-class classifier (Stacked MNIST); ``msssim{min(n, 1000)}_pairs`` always.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.named_datasets import NAMED_IMAGES
from ..errors import ConfigError
from ..metrics.image_metrics import (
    IMAGE_METRICS,
    FeatureNetwork,
    MetricSpec,
    classifier_network,
    independent_critic_w,
    parse_metric,
    protocol_text,
)
from .base import KINDS, DataKind, Run, validation_sampler

GRID_ROWS = 8  # sample grids are GRID_ROWS x GRID_ROWS images (conditional: one row per class, up to 10)
GRID_SEED = 50_000  # + train.seed: the fixed noise of every grid
INDEP_CRITIC_STEPS = 500  # critic steps of the independent critic (w*_indep_critic)
AUTO_CLASSIFIER_SEED = 0


# ---------------------------------------------------------------------------------------------- data access
validation_of = validation_sampler  # the held-out split of a sampler, or None


def labelled_images(sampler, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every labelled image of ``sampler`` when it holds them as tensors (uint8 ``pixels`` of
    :class:`wgan.data.image_datasets.ImageSampler`, or float ``images`` in [-1, 1]; with ``labels``), else ``n`` draws
    of ``sample_with_labels`` from a generator seeded by ``seed``."""
    y = getattr(sampler, "labels", None)
    x = getattr(sampler, "pixels", None)
    if isinstance(x, torch.Tensor) and x.dtype == torch.uint8:
        from ..data.image_datasets import to_unit_range

        x = to_unit_range(x, False, torch.Generator())  # the sampler's own mapping, no dequantisation noise
    else:
        x = getattr(sampler, "images", None)
    if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and len(x) == len(y):
        return x.float().cpu(), y.long().cpu()  # a GPU run holds in-memory datasets on its device
    if not hasattr(sampler, "sample_with_labels") or not getattr(sampler, "n_classes", 0):
        raise ConfigError(f"data {getattr(sampler, 'name', sampler)!r} has no class labels, so a classifier cannot "
                          "be trained on it; train one on a labelled dataset of the same image size")
    x, y = sampler.sample_with_labels(n, torch.Generator().manual_seed(seed))
    return x.float().cpu(), y.long().cpu()


def train_data_classifier(sampler, steps: int | None = None, seed: int = 0, device: str | torch.device = "cpu",
                          width: int = 32, n_draws: int = 60_000):
    """Train :class:`~wgan.metrics.classifier.ImageClassifier` on ``sampler``'s training split and measure it
    on its validation split (``wgan classifier train`` and ``eval.classifier = "auto"``)."""
    from ..metrics.classifier import default_steps, train_classifier

    val = validation_of(sampler)
    if val is None:
        raise ConfigError(f"data {sampler.name!r} has no validation split to measure a classifier on")
    x_tr, y_tr = labelled_images(sampler, n_draws, seed + 1)
    x_va, y_va = labelled_images(val, 10_000, seed + 2)
    n_classes = int(getattr(sampler, "n_classes", 0) or int(y_tr.max()) + 1)
    return train_classifier(x_tr, y_tr, x_va, y_va, n_classes, dataset=str(sampler.name),
                            steps=steps or default_steps(len(x_tr)), seed=seed, device=device, width=width)


# ---------------------------------------------------------------------------------------------- the plan
@dataclass
class Plan:
    """What an evaluation measures: the metric specs, the feature networks, and why anything is absent."""

    specs: list[MetricSpec]
    classifier: FeatureNetwork | None = None
    classifier_net: Any = None  # the ImageClassifier itself (mode counting needs it per channel)
    inception: dict[str, FeatureNetwork] = field(default_factory=dict)  # network name -> FID Inception network
    inception_weights: str = ""  # the Inception weights file (a local one, or the cached download)
    absent: dict[str, str] = field(default_factory=dict)


def _classifier(trainer: Run) -> tuple[FeatureNetwork | None, Any, str]:
    """(feature network, ImageClassifier, reason when None) for ``eval.classifier``."""
    from ..metrics.classifier import load_classifier

    path = trainer.cfg.eval.classifier
    if not path:
        return None, None, ("no feature network: give one with `wgan eval RUN --classifier PATH` (or `--set "
                            "eval.classifier=PATH` when training); PATH from `wgan classifier train`, or auto")
    if path == "auto":
        net, info = train_data_classifier(trainer.sampler, seed=AUTO_CLASSIFIER_SEED, device=trainer.device)
        info = type(info)(**{**info.as_dict(), "dataset": f"{info.dataset} (eval.classifier = \"auto\", trained "
                                                          "in-process, not saved)"})
    else:
        net, info = load_classifier(path, device=trainer.device)
    return classifier_network(net, info), net, ""


def _fits(net, shape: tuple[int, ...]) -> bool:
    return net is not None and tuple(net.shape) == tuple(shape)


def _is_stacked_pair(net, shape: tuple[int, ...]) -> bool:
    return net is not None and len(shape) == 3 and shape[0] == 3 and tuple(net.shape) == (1, *shape[1:]) \
        and net.n_classes == 10


def plan(trainer: Run) -> Plan:
    """The evaluation plan of this run (cached on the trainer; ``wgan eval`` clears the cache)."""
    if "image_plan" in trainer.eval_cache:
        return trainer.eval_cache["image_plan"]
    e, shape = trainer.cfg.eval, tuple(trainer.sampler.shape)
    names = [m.strip() for m in e.metrics.split(",") if m.strip()]
    default = names == ["default"]
    specs = [] if default else [parse_metric(m) for m in names]
    needs_classifier = default or any(s.network in ("classifier", "stacked_classifier") for s in specs)
    cnet, cls, reason = _classifier(trainer) if needs_classifier else (None, None, "")
    inc: dict[str, FeatureNetwork] = {}
    wanted = sorted({s.network for s in specs if s.network.startswith("inception")})
    if wanted:
        from ..metrics.inception import fid_inception_weights, inception_network, load_fid_inception

        weights = e.inception_weights or fid_inception_weights()  # a local file, else fetched into the cache
        fid_net = load_fid_inception(weights, trainer.device)
        inc = {name: inception_network(weights, trainer.device, name, fid_net) for name in wanted}
    p = Plan(specs, cnet, cls, inc, str(weights) if wanted else "")
    n = e.n_samples
    if default:
        if _fits(cls, shape):
            p.specs += [MetricSpec("fid", n, "classifier"), MetricSpec("is", n, "classifier")]
        elif _is_stacked_pair(cls, shape):
            p.specs.append(MetricSpec("modes", n, "stacked_classifier"))
        elif cls is not None:
            p.absent["fid/is"] = f"the classifier takes images of shape {tuple(cls.shape)}, this data is {shape}"
        else:
            p.absent["fid/is"] = reason
        p.specs.append(MetricSpec("msssim", min(n, 1000), "pairs"))
    for s in p.specs:
        if s.network == "classifier" and not _fits(cls, shape):
            raise ConfigError(f"{s.name}: " + (reason or f"the classifier takes images of shape {tuple(cls.shape)}, "
                                                          f"this run's are {shape}; train one on this data"))
        if s.network == "stacked_classifier" and not _is_stacked_pair(cls, shape):
            raise ConfigError(f"{s.name} needs 3-channel (Stacked MNIST) data and a 1-channel 10-class digit "
                              f"classifier of the same size; data {shape}, classifier "
                              f"{tuple(cls.shape) if cls is not None else 'none'}")
    trainer.eval_cache["image_plan"] = p
    return p


# ---------------------------------------------------------------------------------------------- measuring
def _real(trainer: Run, split: str, n: int, seed: int) -> torch.Tensor:
    """``n`` real images (drawn with replacement) of the training or validation split, fixed per seed (cached)."""
    key = ("real", split, n, seed)
    if key not in trainer.eval_cache:
        sampler = trainer.sampler if split == "train" else validation_of(trainer.sampler)
        if sampler is None:
            return torch.empty(0)
        # on the CPU, like the generated images (a GPU run holds in-memory datasets on its device)
        trainer.eval_cache[key] = sampler.sample(n, torch.Generator().manual_seed(seed)).float().cpu()
    return trainer.eval_cache[key]


def _fake(trainer: Run, n: int, seed: int) -> torch.Tensor:
    x = trainer.generate(n, seed=seed)
    return x.reshape(n, *trainer.sampler.shape)  # (n, C, H, W)


class _Measuring:
    """The run's side of :class:`wgan.metrics.image_metrics.Measuring`: real and generated images, the
    feature networks of the plan and the independent critic, for the metric families' ``measure``."""

    def __init__(self, trainer: Run, p: Plan) -> None:
        self.trainer, self.plan = trainer, p
        self.seed, self.n_samples = trainer.cfg.train.seed, trainer.cfg.eval.n_samples
        self.has_val = validation_of(trainer.sampler) is not None
        self.classifier_module = p.classifier_net
        self._fakes: dict[int, torch.Tensor] = {}

    def real(self, split: str, n: int, seed: int) -> torch.Tensor:
        return _real(self.trainer, split, n, seed)

    def fake(self, n: int) -> torch.Tensor:
        if n not in self._fakes:
            self._fakes[n] = _fake(self.trainer, n, seed=30_000 + self.seed)
        return self._fakes[n]

    def net(self, network: str) -> FeatureNetwork | None:
        return self.plan.inception.get(network, self.plan.classifier)

    def independent_critic(self, n: int) -> tuple[float, float]:
        return _independent_critic(self.trainer, n)

    def independent_critic_protocol(self, n: int) -> str:
        return (f"; {INDEP_CRITIC_STEPS} critic steps, batch 64, {n} real images vs {n} fakes; "
                f"{_critic_real(self.trainer, 4)[2]}, vs {n} other fakes; critic = the run's critic family "
                "without normalisation (a normalised critic cannot see its input's scale); _train = the gap on the "
                "last training batch")

    def cached_stats(self, spec: MetricSpec, reference: torch.Tensor, net: FeatureNetwork
                     ) -> tuple[np.ndarray, np.ndarray] | None:
        protocol = _stats_protocol(self.trainer, self.plan, spec)
        if protocol is None:
            return None
        from ..metrics.fid_cache import cached_reference_stats

        return cached_reference_stats(self.trainer.cfg.data.name, protocol, reference, net)

    def cached_stats_file(self, spec: MetricSpec) -> Path | None:
        protocol = _stats_protocol(self.trainer, self.plan, spec)
        if protocol is None:
            return None
        from ..metrics.fid_cache import stats_file

        return stats_file(self.trainer.cfg.data.name, protocol)


def measure(trainer: Run) -> dict[str, float]:
    """``eval/<metric name>`` (and baselines ``eval/<name>_val`` or ``_real``, ``_std``, ``_kl``) for the plan:
    each metric measured by its family (:data:`wgan.metrics.image_metrics.IMAGE_METRICS`)."""
    p = plan(trainer)
    if p.specs:  # generated, training and held-out images of the largest count are held at once (float32)
        from ..limits import need_memory

        n_max, dim = max(s.count for s in p.specs), math.prod(trainer.sampler.shape)
        need_memory(3 * 4 * n_max * dim, f"evaluating on {n_max:,} images of shape {tuple(trainer.sampler.shape)}",
                    "lower eval.n_samples (wgan eval: --n-samples)")
    m = _Measuring(trainer, p)
    out: dict[str, float] = {}
    for s in p.specs:
        out.update({f"eval/{s.name}{suffix}": v for suffix, v in IMAGE_METRICS[s.family].measure(m, s).items()})
    return out


def _stats_protocol(trainer: Run, p: Plan, s: MetricSpec) -> dict[str, Any] | None:
    """What the reference statistics of ``s`` depend on, when they are cached: FID with an Inception network on
    a named dataset (:mod:`wgan.metrics.fid_cache`); else None."""
    d = trainer.cfg.data
    if s.family != "fid" or s.network not in p.inception or d.name not in NAMED_IMAGES:
        return None
    key = ("weights_sha256", p.inception_weights)
    if key not in trainer.eval_cache:
        from ..fetch import file_digest

        trainer.eval_cache[key] = file_digest(p.inception_weights)[:12]
    return {"n": s.count, "seed": 10_000 + trainer.cfg.train.seed, "net": s.network,
            "weights": trainer.eval_cache[key], "size": d.image_size, "variant": d.variant, "split": d.split,
            "splitseed": d.split_seed, "subset": d.subset, "deq": int(d.dequantize)}


def independent_critic_config(critic: Any) -> Any:
    """The independent critic's network: the run's critic family without normalisation and without labels.

    Not layer norm (nor batch norm, which the penalty forbids): a normalised critic is blind to the scale of its
    input, so images that are all near 0 look to it like any others. An untrained DCGAN generator's images are
    that (its batch norm's running statistics are still the initial ones: outputs within 2e-3 of 0), and on
    stacked MNIST a layer-norm critic scored them W 0.30 where the same images scaled into [-1, 1] scored 52.8
    and an all-black batch 47.5; without normalisation: 170, 162 and 69 (500 steps, ``tests/test_image_metrics.py``
    checks the ordering on digits)."""
    from dataclasses import replace

    ccfg = replace(critic, norm="none")
    if hasattr(ccfg, "n_classes"):
        ccfg = replace(ccfg, n_classes=0)
    return ccfg


def _independent_critic(trainer: Run, n: int) -> tuple[float, float]:
    """W estimate of a fresh critic trained on validation images (seed A) vs fakes, measured on other
    validation images (seed B) vs other fakes; falls back to training images when there is no validation
    split (the protocol says which)."""
    from ..nets import build_critic

    s0 = trainer.cfg.train.seed
    real_a, real_b, _ = _critic_real(trainer, n)
    fake_a, fake_b = _fake(trainer, n, 60_000 + s0), _fake(trainer, n, 61_000 + s0)
    ccfg = independent_critic_config(trainer.cfg.critic)
    est = independent_critic_w(lambda: build_critic(ccfg, trainer.sampler.shape), real_a, fake_a, real_b, fake_b,
                               steps=INDEP_CRITIC_STEPS, seed=s0, device=trainer.device)
    return est.w_estimate, est.final_train_w


def _critic_real(trainer: Run, n: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Real images for the independent critic: ``n`` draws from each of two disjoint halves of the validation
    split when its images are at hand (a random half each, seed ``40_000 + seed``), else two draws with other
    seeds (which may share images); and the sentence the protocol uses for it."""
    s0 = trainer.cfg.train.seed
    val = validation_of(trainer.sampler)
    source = val if val is not None else trainer.sampler
    pixels = getattr(source, "pixels", None)
    pixels = pixels.cpu() if isinstance(pixels, torch.Tensor) else pixels  # a GPU run holds them on its device
    where = "validation" if val is not None else "training (no validation split)"
    if isinstance(pixels, torch.Tensor) and pixels.dtype == torch.uint8 and len(pixels) >= 4:
        from ..data.image_datasets import to_unit_range

        g = torch.Generator().manual_seed(40_000 + s0)
        perm = torch.randperm(len(pixels), generator=g)
        half = len(pixels) // 2
        a, b = perm[:half], perm[half:]
        pick_a = a[torch.randint(len(a), (n,), generator=g)]
        pick_b = b[torch.randint(len(b), (n,), generator=g)]
        return (to_unit_range(pixels[pick_a], False, g), to_unit_range(pixels[pick_b], False, g),
                f"trained on one random half of the {len(pixels)} {where} images, estimated on the other half")
    return (source.sample(n, torch.Generator().manual_seed(40_000 + s0)).cpu(),
            source.sample(n, torch.Generator().manual_seed(41_000 + s0)).cpu(),
            f"trained and estimated on two draws (seeds {40_000 + s0}, {41_000 + s0}) of the {where} images, "
            "which may share images")


def evaluate(trainer: Run) -> dict[str, float]:
    return measure(trainer)


def protocol(trainer: Run) -> dict[str, str]:
    """One line per metric: what was measured, on how many images, against which split, with which network."""
    p, s0 = plan(trainer), trainer.cfg.train.seed
    m = _Measuring(trainer, p)
    out: dict[str, str] = {}
    for s in p.specs:
        family = IMAGE_METRICS[s.family]
        net = m.net(s.network)
        text = f"{s.name}: {protocol_text(s)}" + family.baseline(m, s)
        if net is not None and family.on_network:
            text += f"; network: {net.description}"
        out[s.name] = text
    out["generated"] = f"generated images from noise seeded {30_000 + s0}" + (
        " (EMA generator)" if getattr(trainer.cfg.train, "ema", 0) else "")
    out.update({f"absent {k}": v for k, v in p.absent.items()})
    return out


def summary(trainer: Run, ev: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {k.split("/", 1)[1]: v for k, v in ev.items()}
    p = plan(trainer)
    if p.classifier is not None and p.classifier.accuracy is not None:
        out["classifier_held_out_accuracy"] = p.classifier.accuracy
    out["protocol"] = protocol(trainer)
    return out


# ---------------------------------------------------------------------------------------------- sample grids
def grid_images(trainer: Run) -> tuple[torch.Tensor, int]:
    """The fixed-noise grid images ``(R * R', C, H, W)`` and the images per row."""
    seed = GRID_SEED + trainer.cfg.train.seed
    k = int(getattr(trainer, "n_classes", 0) or 0) if getattr(trainer, "conditional", False) else 0
    if k:
        rows = min(k, 10)
        per_row = GRID_ROWS
        labels = torch.arange(rows).repeat_interleave(per_row)  # row r: class r
        x = trainer.generate(rows * per_row, seed=seed, labels=labels)
    else:
        per_row = GRID_ROWS
        x = trainer.generate(GRID_ROWS * GRID_ROWS, seed=seed)
    return x.reshape(len(x), *trainer.sampler.shape), per_row


def save_grid(x: torch.Tensor, per_row: int, path: Path, label: str = "") -> None:
    """An image grid of ``x`` ``(N, C, H, W)`` in [-1, 1], ``per_row`` images a row, written atomically; a
    ``label`` (e.g. the step) goes on a white strip above the grid, the grid's pixels stay as they are."""
    import io

    from PIL import Image, ImageDraw
    from torchvision.utils import make_grid

    from ..io import atomic_write

    grid = make_grid(x.clamp(-1, 1), nrow=per_row, padding=2, normalize=True, value_range=(-1, 1))
    img = Image.fromarray(grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).cpu().numpy())
    if label:
        strip = 14
        canvas = Image.new("RGB", (img.width, img.height + strip), "white")
        canvas.paste(img, (0, strip))
        ImageDraw.Draw(canvas).text((3, 1), label, fill="black")
        img = canvas
    buf = io.BytesIO()
    img.save(buf, format="png")
    atomic_write(path, lambda f: f.write(buf.getbuffer()))


def save_samples(trainer: Run, folder: Path) -> None:
    x, per_row = grid_images(trainer)
    save_grid(x, per_row, Path(folder) / f"step-{trainer.step:07d}.png",
              label=f"step {trainer.step} (fixed noise)")


def headline(summary: dict[str, Any], steps: str, took: str) -> str:
    """Each metric next to, when measured, the real images' value."""
    skip = {"steps", "train_time_s", "wall_time_s", "protocol", "classifier_held_out_accuracy"}
    parts = []
    for k, v in summary.items():
        if k in skip or k.endswith("_real") or not isinstance(v, (int, float)):
            continue
        real = summary.get(f"{k}_real")
        parts.append(f"{k} {v:.4g}" + (f" (real images {real:.4g})" if isinstance(real, (int, float)) else ""))
    if "classifier_held_out_accuracy" in summary:
        parts.append(f"feature classifier's held-out accuracy {summary['classifier_held_out_accuracy']:.3f}")
    absent = [v for k, v in summary.get("protocol", {}).items() if k.startswith("absent")]
    if not parts:
        parts.append("no image metric measured" + (f" ({absent[0]})" if absent else ""))
    return f"images {steps}: " + ", ".join(parts) + took


KINDS.add("images", DataKind(evaluate, summary, headline, save_samples, sample_formats=(".npy", ".png"),
                             metric_options=True, train_classifier=train_data_classifier))


def eval_config(cfg, metrics: str | None = None, classifier: str | None = None, inception_weights: str | None = None,
                n_samples: int | None = None):
    """``cfg`` with ``wgan eval``'s options applied to its ``eval`` section and resolved: ``n_samples`` also
    replaces the count in every metric name (``fid5k_classifier`` -> ``fid2k_classifier`` for 2000)."""
    from dataclasses import replace

    from ..resolve import resolve

    e = cfg.eval
    names = metrics if metrics is not None else e.metrics
    if n_samples is not None:
        if n_samples < 2:
            raise ConfigError(f"--n-samples must be at least 2, got {n_samples}")
        parts = [m.strip() for m in names.split(",") if m.strip()]
        if parts != ["default"]:
            names = ",".join(replace(s, count=n_samples).name for s in map(parse_metric, parts))
    e = replace(e, metrics=names, classifier=e.classifier if classifier is None else classifier,
                inception_weights=e.inception_weights if inception_weights is None else inception_weights,
                n_samples=e.n_samples if n_samples is None else n_samples)
    return resolve(replace(cfg, eval=e))

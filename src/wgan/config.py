"""Typed run configuration: frozen dataclasses, TOML files, ``--set key=value`` overrides.

Unknown sections/keys and wrong types are rejected with a message naming the key. Objective and
optimiser hyperparameters left unset (``None``) take the objective preset's paper defaults when the
config is *resolved* (:func:`wgan.resolve.resolve`, the checks across modules); the resolved config is what a
run saves and what resumes read. This module is the schema alone: it imports nothing of wgan but its errors.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import sys
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class DataConfig:
    name: str = "8gaussians"  # a toy distribution (`wgan list`) or a path to a .npy/.csv file of points
    batch_size: int = 256  # critic batch; the generator step uses the same size
    # text corpora (a .txt file or a folder of text files, one example per line; wgan.data.text_corpora)
    seq_len: int = 32  # characters per example: lines are truncated or padded to this (WGAN-GP sec. 5.5)
    vocab_size: int = 96  # at most this many symbols: padding, unknown and the most frequent characters
    val_size: int = 640  # lines held out for validation (the authors: 10 batches of 64); images: see below
    max_lines: int = 10_000_000  # read at most this many lines (the authors' MAX_N_EXAMPLES); 0 = all
    # image datasets (digits, MNIST IDX, CIFAR-10 batches, image folders; wgan.data.image_datasets). Validation
    # images: the dataset's test split when it has a separate one, else the last val_size images held out
    image_size: int = 0  # resize to image_size x image_size; 0 = the dataset's own size (digits 8, MNIST 28)
    subset: int = 0  # train on the first `subset` training images only (WGAN-GP Fig. 5b: 1000); 0 = all
    # which images form the subset and the held-out validation split: "ordered" (the dataset's own order: the
    # first `subset`, the last val_size; image folders: a fixed shuffle, seed 0) or "random" (a draw seeded by
    # split_seed: the training images are shuffled before the subset and the held-out split are taken)
    split: str = "ordered"
    split_seed: int = 0
    dequantize: bool = False  # add U[0, 1) noise to the 8-bit pixel values before scaling to [-1, 1]
    variant: str = "plain"  # MNIST only: "plain", "stacked" (3 digits as RGB, 1000 classes) or "color"
    workers: int = -1  # image folders: DataLoader decoding processes; -1 = one per core but one (max 8), 0 = none


@dataclass(frozen=True)
class GeneratorConfig:
    net: str = "mlp"  # a family of `wgan list` (mlp, data-plus-noise, dcgan, resnet, resnet64, mnist-conv, ...)
    latent_dim: int = 2
    depth: int = 3  # hidden layers (mlp); residual blocks per resolution (resnet, resnet64)
    width: int = 512  # hidden units (mlp); filters of the last hidden layer (dcgan ngf, resnet: per block)
    activation: str = "relu"  # image nets also take "gated" (dcgan: tanh(a) * sigmoid(b), WGAN-GP sec. 5.2)
    norm: str = "none"  # "none", "batch" or "layer"; image generators: "none", "batch" or "cond-batch"
    init: str = "default"  # "default" (PyTorch) or "he" (the WGAN-GP authors' toy code)
    noise_std: float = 1.0  # data-plus-noise only
    n_classes: int = 0  # > 0: class-conditional image generator G(z, y) (cond-batch norm or one-hot input)
    extra_layers: int = 0  # dcgan: extra 3x3 conv layers at the last resolution (WGAN code's n_extra_layers)
    constant_width: bool = False  # dcgan: `width` filters in every layer (WGAN Fig. 7, WGAN-GP Fig. 2)
    # a named architecture (wgan.nets.space): a WGAN-GP Table 1 point "space:relu-d8-bn-f64" or a Fig. 2 zoo
    # net "zoo:resnet101"; it sets net/depth/norm/activation/... (see `wgan list`); "" = none
    arch: str = ""


@dataclass(frozen=True)
class CriticConfig:
    net: str = "mlp"  # a family of `wgan list` (mlp, dcgan, resnet, resnet64, mnist-conv, ...)
    depth: int = 3  # hidden layers (mlp); residual blocks per resolution (resnet, resnet64)
    width: int = 512  # hidden units (mlp); filters of the first layer (dcgan ndf, resnet: per block)
    activation: str = "relu"  # dcgan/mnist-conv: "leaky_relu" is slope 0.2 (the authors'); also "gated"
    norm: str = "none"  # batch norm is warned against with a gradient penalty (WGAN-GP sec. 4)
    init: str = "default"  # "default" (PyTorch) or "he" (the WGAN-GP authors' toy code)
    n_classes: int = 0  # > 0: AC-GAN auxiliary classifier head class_logits(features) (image critics)
    extra_layers: int = 0  # dcgan: extra 3x3 conv layers at the first resolution (WGAN code's n_extra_layers)
    arch: str = ""  # a named architecture (wgan.nets.space), as generator.arch; batch norm -> layer norm with a penalty
    # spectral normalisation (Miyato et al. 2018; wgan.nets.spectral): every linear/conv weight W of any critic.net used
    # as W / sigma(W), sigma by power iteration; a weight reparametrisation, so it combines with critic.norm
    spectral_norm: bool = False
    spectral_norm_iterations: int = 1  # power iterations per training forward pass (Miyato et al. Algorithm 1: 1)
    # weight normalisation with a fixed scale (wgan.constraints): every linear/conv weight used as g * V[i] / |V[i]|
    # per unit, g = weight_norm_scale not learned (WGAN-GP sec. 3's "weight normalization" as a constraint)
    weight_norm: bool = False
    weight_norm_scale: float = 1.0


@dataclass(frozen=True)
class ObjectiveConfig:
    name: str = "wgan-gp"  # a preset: its paper's defaults fill every field left unset below
    loss: str | None = None  # wasserstein, minimax, non-saturating, least-squares
    penalty: str | None = None  # none, gp, lp, dragan
    penalty_weight: float | None = None  # lambda
    clip: float | None = None  # weight clipping bound c; 0 disables
    clip_kind: str = "value"  # "value": every weight in [-c, c] (WGAN); "l2": every unit's weight norm <= c
    # soft constraint (wgan.constraints): + weight_decay * sum |w| (l1) or sum w^2 (l2) over the critic's weight
    # matrices and kernels, in the critic's loss; 0 = off
    weight_decay: float = 0.0
    weight_decay_kind: str = "l2"
    n_critic: int | None = None  # critic steps per generator step
    dragan_scale: float = 0.5  # DRAGAN perturbation: delta = dragan_scale * std(x) * U[0, 1]
    # AC-GAN (conditional runs: critic.n_classes > 0 and labelled data), WGAN-GP conditional CIFAR code:
    acgan_critic_scale: float = 1.0  # weight of the cross-entropy on real samples in the critic's loss
    acgan_generator_scale: float = 0.1  # weight of the cross-entropy on fakes in the generator's loss


@dataclass(frozen=True)
class OptimConfig:
    name: str | None = None  # adam, rmsprop (torch's), rmsprop_tf (TensorFlow's: wgan.optim), sgd
    lr: float | None = None
    beta1: float | None = None  # Adam only
    beta2: float | None = None  # Adam only
    critic_lr: float | None = None  # defaults to lr
    lr_decay: str = "none"  # "none" or "linear": both lrs decay linearly to 0 over train.steps (WGAN-GP CIFAR)


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000  # generator steps in total
    seed: int = 0
    log_every: int = 10
    eval_every: int = 500
    sample_every: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: bool = False  # also keep checkpoints/step-NNNNNNN.pt at every checkpoint_every
    device: str = "auto"  # auto, cpu, cuda, cuda:N (under torchrun: auto/cuda mean cuda:LOCAL_RANK)
    g_batch_multiple: int = 1  # generator batch = g_batch_multiple * data.batch_size (WGAN-GP CIFAR code: 2)
    ema: float = 0.0  # decay of an exponential moving average of the generator for eval/samples; 0 = off
    # critic steps per generator step: "constant" (objective.n_critic) or "wgan", the WGAN authors' schedule
    # (WassersteinGAN/main.py:176-179): 100 for the first 25 generator steps and every 500th, else n_critic
    critic_schedule: str = "constant"
    amp: bool = False  # automatic mixed precision (autocast; fp16 adds loss scaling); on the CPU: autocast too
    amp_dtype: str = "bfloat16"  # "bfloat16" (no loss scaling needed) or "float16" (GradScaler)
    channels_last: bool = False  # channels-last memory format for image nets and batches (faster convs on GPUs)
    log_val_every: int = 0  # critic loss on the held-out split (loss/critic_val) every N steps; 0 = log_every
    threads: int = 0  # torch CPU threads set by `wgan train`; 0 = auto: 1 for small nets, else the idle cores
    # (wgan.threads.run_threads; in code, call torch.set_num_threads yourself)
    # torch.compile both steps (wgan.training.compiled); pays only on long runs (docs/toy.md: break-even)
    compile: bool = False
    # also log metrics, sample pictures and the config to RUN/tensorboard/ (wgan.rundir.TensorBoardSink; needs the
    # extra: pip install -e ".[tensorboard]"); view with `tensorboard --logdir runs/`
    tensorboard: bool = False
    # DiffAugment (Zhao et al. 2020; wgan.training.augment): policies applied to the critic's real and generated
    # images in both players' steps, comma-separated, in this order: "color", "translation", "cutout" (e.g.
    # "translation,cutout,color"); "" = off. Image runs only; the penalty is taken at the augmented points
    augment: str = ""


@dataclass(frozen=True)
class EvalConfig:
    n_samples: int = 2000  # generated and data points for exact W1 and mode statistics; images: per metric
    # image runs (wgan.kinds.image_runs, wgan.metrics.image_metrics): comma-separated metric names (`wgan list`, e.g.
    # "fid2k_classifier,msssim1k_pairs") or "default" (classifier FID + IS when a classifier fits, MS-SSIM)
    metrics: str = "default"
    classifier: str = ""  # feature network file from `wgan classifier train`, "auto" (train one in-process), "" none
    inception_weights: str = ""  # pt_inception-2015-12-05-*.pth for *_inception* ("": fetched into the cache)
    # how a batch-norm generator normalises when sampling for evaluation and grids: "running" (PyTorch's eval
    # mode: the running averages) or "batch" (each sampled batch's own statistics, as tflib's batch norm always
    # does in the WGAN-GP authors' code, tflib/ops/batchnorm.py:51-52; running averages left untouched)
    generator_mode: str = "running"


VBN_CHOICES: tuple[str, ...] = ("none", "generator", "critic", "both")  # tricks.virtual_batch_norm


@dataclass(frozen=True)
class TricksConfig:
    """Improved-GAN techniques, each usable with every objective (wgan.training.trick_hooks; all off by default)."""

    feature_matching: bool = False  # Salimans et al. 2016 sec. 3.1: G minimises ||E f(x) - E f(G(z))||^2
    minibatch_kernels: int = 0  # Salimans sec. 3.2: B minibatch-discrimination kernels in the critic; 0 = off
    minibatch_kernel_dim: int = 5  # Salimans sec. 3.2: C, the dimension of each kernel
    # Salimans sec. 3.3's formula: lambda_h ||theta - mean of past theta||^2 (squared L2 summed over parameters;
    # not the reference code's mean |difference|)
    historical_averaging_critic: float = 0.0
    historical_averaging_generator: float = 0.0  # the same for the generator's parameters
    label_smoothing: float = 0.0  # Salimans sec. 3.4, one-sided: real targets 1 - this (0.1 -> 0.9)
    virtual_batch_norm: str = "none"  # Salimans sec. 3.5: none, generator, critic, both (batch-norm layers)
    vbn_reference_size: int = 64  # rows of the reference batch fixed at the start of training
    instance_noise: float = 0.0  # Sonderby et al. 2016: std of Gaussian noise on critic inputs (real, fake)
    instance_noise_anneal: bool = False  # anneal the instance-noise std linearly to 0 over train.steps


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    critic: CriticConfig = field(default_factory=CriticConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    tricks: TricksConfig = field(default_factory=TricksConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def demo(cls, kind: str = "points") -> Config:
        """The packaged config that ``wgan train`` starts from when no ``--config`` is given, for a ``kind`` of
        data: ``"points"`` (the demo: WGAN-GP on 8 Gaussians, width 128, lambda 0.1, Adam 3e-4 decayed
        linearly with beta (0.5, 0.9), 3,500 steps), ``"images"`` (WGAN-GP with DCGAN nets at 32x32, data
        ``digits``) or ``"text"`` (the WGAN-GP character language model; set ``data.name`` to a corpus).
        ``Config()`` itself holds the library's field defaults (the paper's Algorithm 1 values at width 512),
        not the demo."""
        return load_toml(demo_path(kind))


def demo_path(kind: str = "points") -> Path:
    """The packaged starting config of a data kind (:meth:`Config.demo`; `wgan train` without --config): the
    file ``demo_<kind>.toml`` beside this module. A new data kind adds its file; nothing here names the kinds."""
    files = {p.stem.removeprefix("demo_"): p.name for p in sorted(Path(__file__).parent.glob("demo_*.toml"))}
    if kind not in files:
        raise unknown("demo config kind", kind, list(files))
    return Path(__file__).with_name(files[kind])


@dataclass(frozen=True)
class Bound:
    """The values a numeric config field accepts: ``lo`` to ``hi``, each end closed unless ``*_open``.

    Every float must also be finite (TOML and ``--set`` read ``inf`` and ``nan``). ``why`` completes the
    error message (what the value means or what to do instead)."""

    lo: float
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False
    why: str = ""

    def admits(self, v: float) -> bool:
        if isinstance(v, float) and not math.isfinite(v):
            return False
        above = v > self.lo if self.lo_open else v >= self.lo
        below = v < self.hi if self.hi_open else v <= self.hi
        return above and below

    def describe(self) -> str:
        def num(v: float) -> str:
            return str(int(v)) if float(v).is_integer() and abs(v) < 10**10 else f"{v:.3g}"

        if self.hi == math.inf:
            return f"{'>' if self.lo_open else '>='} {num(self.lo)}"
        return f"in {'(' if self.lo_open else '['}{num(self.lo)}, {num(self.hi)}{')' if self.hi_open else ']'}"


# Upper bounds: far above any setting of the papers or a sane study, low enough that a typo (an extra
# few zeros) fails at once instead of hanging, exhausting memory or overflowing torch's int64 sizes.
# Memory for the sizes that remain is estimated before allocating (wgan.limits).
_MAX_STEPS = 10**9  # 10^9 generator steps: weeks at a thousand steps a second
_MAX_SIZE = 2**31 - 1  # widths, batch sizes, sample counts: torch indexes many kernels with int32
_UNIT = Bound(0, 1, hi_open=True)
_NONNEG = Bound(0)
_EVERY = Bound(1, _MAX_STEPS)

BOUNDS: dict[str, Bound] = {
    "data.batch_size": Bound(1, 2**20),
    "data.seq_len": Bound(1, 2**16),
    "data.vocab_size": Bound(3, 2**20, why=" (padding, unknown and at least one character)"),
    "data.val_size": Bound(1, _MAX_SIZE),
    "data.max_lines": Bound(0, 2**62, why=" (0 = all)"),
    "data.image_size": Bound(0, 4096, why=" (0 = the dataset's own size)"),
    "data.subset": Bound(0, 2**62, why=" (0 = all images)"),
    "data.split_seed": Bound(0, 2**32 - 1),
    "generator.latent_dim": Bound(1, 2**16),
    "generator.depth": Bound(0, 1000),
    "generator.width": Bound(1, 2**24),
    "generator.noise_std": _NONNEG,
    "generator.n_classes": Bound(0, 2**16, why=" (0 = unconditional)"),
    "generator.extra_layers": Bound(0, 100),
    "critic.depth": Bound(0, 1000),
    "critic.width": Bound(1, 2**24),
    "critic.n_classes": Bound(0, 2**16, why=" (0 = no auxiliary classifier)"),
    "critic.extra_layers": Bound(0, 100),
    "critic.spectral_norm_iterations": Bound(1, 100, why=" (power iterations per forward pass; Miyato et al. use 1)"),
    "objective.penalty_weight": _NONNEG,
    "objective.clip": Bound(0, why=" (0 disables clipping)"),
    "objective.weight_decay": Bound(0, why=" (0 = off)"),
    "critic.weight_norm_scale": Bound(0, lo_open=True, why=" (the fixed norm of every unit's weights)"),
    "objective.n_critic": Bound(1, 10_000),
    "objective.dragan_scale": Bound(0, lo_open=True),
    "objective.acgan_critic_scale": _NONNEG,
    "objective.acgan_generator_scale": _NONNEG,
    # Learning rates: Adam and RMSprop move every weight by about lr per step whatever the gradient's
    # scale, so lr = 1 already moves weights initialised at ~1/sqrt(fan_in) by more than their size each
    # step (the papers use 5e-5 to 1e-3); plain SGD scales by the gradient, so it gets one more decade.
    # The optimiser-specific bound is checked in resolve().
    "optim.lr": Bound(0, 10, lo_open=True),
    "optim.critic_lr": Bound(0, 10, lo_open=True),
    "optim.beta1": _UNIT,
    "optim.beta2": _UNIT,
    "train.steps": Bound(1, _MAX_STEPS),
    "train.seed": Bound(0, 2**32 - 1, why=" (a 32-bit seed; the run derives its other streams from it)"),
    "train.log_every": _EVERY,
    "train.eval_every": _EVERY,
    "train.sample_every": _EVERY,
    "train.checkpoint_every": _EVERY,
    "train.g_batch_multiple": Bound(1, 1024),
    "train.ema": Bound(0, 1, hi_open=True, why=" (the EMA decay; 0 = off)"),
    "train.log_val_every": Bound(0, _MAX_STEPS, why=" (0 = every log_every steps)"),
    "train.threads": Bound(0, 4096, why=" (0 = chosen from the work per step)"),
    "data.workers": Bound(-1, 256, why=" (-1 = one per core but one, 0 = decode in the training process)"),
    "eval.n_samples": Bound(1, 10**7),
    "tricks.minibatch_kernels": Bound(0, 4096, why=" (0 = off)"),
    "tricks.minibatch_kernel_dim": Bound(1, 4096),
    "tricks.historical_averaging_critic": Bound(0, why=" (0 = off)"),
    "tricks.historical_averaging_generator": Bound(0, why=" (0 = off)"),
    "tricks.label_smoothing": Bound(0, 1, hi_open=True, why=" (real target 1 - value)"),
    "tricks.vbn_reference_size": Bound(1, 2**16),
    "tricks.instance_noise": Bound(0, why=" (0 = off)"),
}
ADAPTIVE_MAX_LR = 1.0  # optim.lr and optim.critic_lr for adam and rmsprop (see above)
_ANY_INT = Bound(-(2**63), 2**63 - 1)  # a numeric field without an entry above: torch's int64 range
_ANY_FLOAT = Bound(-math.inf, math.inf)


def check_value(key: str, value: Any, label: str | None = None) -> None:
    """Raise ConfigError unless ``value`` lies in ``key``'s :data:`BOUNDS` (``None`` = unset passes).
    ``label`` names it in the message when it came from elsewhere (a command-line flag)."""
    if value is None or isinstance(value, (bool, str)):
        return
    bound = BOUNDS.get(key) or (_ANY_FLOAT if isinstance(value, float) else _ANY_INT)
    if not bound.admits(value):
        shown = f"{value:.6g}" if isinstance(value, float) else (str(value) if abs(value) < 10**30 else f"{value:.3g}")
        finite = " and finite" if isinstance(value, float) else ""
        raise ConfigError(f"{label or key} must be {bound.describe()}{finite}{bound.why}, got {shown}")


def check_bounds(cfg: Config) -> None:
    """Every numeric field of ``cfg`` against :data:`BOUNDS` (and every float finite)."""
    for f in fields(cfg):
        section = getattr(cfg, f.name)
        for sf in fields(section):
            check_value(f"{f.name}.{sf.name}", getattr(section, sf.name))


_SECTION_TYPES = typing.get_type_hints(Config)


def _hint(section: str, key: str) -> Any:
    return typing.get_type_hints(_SECTION_TYPES[section])[key]


def _type_name(t: Any) -> str:
    args = typing.get_args(t)
    if args:
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    return getattr(t, "__name__", str(t))


def _coerce(section: str, key: str, value: Any) -> Any:
    """Check ``value`` against the field's type; ints are accepted for floats. Raises ConfigError."""
    t = _hint(section, key)
    allowed = [a for a in typing.get_args(t) if a is not type(None)] if _is_optional(t) else [t]
    for a in allowed:
        if a is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                value = float(value)
            except OverflowError:  # an integer beyond float range
                value = math.inf
            check_value(f"{section}.{key}", value)
            return value
        if a is int and isinstance(value, int) and not isinstance(value, bool):
            check_value(f"{section}.{key}", value)
            return value
        if a in (str, bool) and isinstance(value, a):
            return value
    raise ConfigError(f"{section}.{key} must be {_type_name(t)}, got {value!r} ({type(value).__name__})")


def _is_optional(t: Any) -> bool:
    return (typing.get_origin(t) in (typing.Union, types.UnionType)) and type(None) in typing.get_args(t)


_SYNONYMS = {"lambda": "penalty_weight", "lamda": "penalty_weight", "lam": "penalty_weight",
             "gp_weight": "penalty_weight", "critic_iters": "n_critic", "d_steps": "n_critic",
             "learning_rate": "lr", "optimizer": "name", "iters": "steps", "batch": "batch_size"}


def unknown(kind: str, name: str, valid: list[str], where: str = "", prefix: str = "") -> ConfigError:
    """``unknown <kind> '<prefix><name>' in <where> (did you mean ...?); valid: ...``"""
    close = [_SYNONYMS[name]] if _SYNONYMS.get(name) in valid else difflib.get_close_matches(name, valid, n=1)
    hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
    where = f" in {where}" if where else ""
    return ConfigError(f"unknown {kind} '{prefix}{name}'{where}{hint}; valid: {', '.join(valid)}")


def apply(cfg: Config, updates: dict[str, Any], origin: str = "config") -> Config:
    """Return ``cfg`` with a nested ``{section: {key: value}}`` mapping applied, every key checked."""
    sections = {}
    for section, values in updates.items():
        if section not in _SECTION_TYPES:
            raise unknown("section", section, list(_SECTION_TYPES), origin)
        if not isinstance(values, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table of key = value pairs")
        current = getattr(cfg, section)
        valid = [f.name for f in fields(current)]
        changes = {}
        for key, value in values.items():
            if key not in valid:
                raise unknown("key", key, valid, origin, prefix=f"{section}.")
            changes[key] = _coerce(section, key, value)
        sections[section] = replace(current, **changes)
    return replace(cfg, **sections)


def read_toml(path: str | Path, what: str = "config file") -> dict[str, Any]:
    """The tables of a TOML file; a missing or malformed file is a one-line ConfigError naming ``what`` and it."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {str(path)!r} does not exist")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{what} {str(path)!r} is not valid TOML: {e}") from None


def load_toml(path: str | Path, base: Config | None = None) -> Config:
    return apply(base or Config(), read_toml(path), origin=str(path))


def parse_set(item: str) -> tuple[str, str, Any]:
    """Parse ``section.key=value``; the value is read as a TOML literal (``0.1``, ``true``, ``"x"``) and
    otherwise kept as a bare string (``objective.name=wgan``)."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected section.key=value, e.g. --set objective.penalty_weight=0.1")
    dotted, raw = item.split("=", 1)
    if dotted.count(".") != 1:
        raise ConfigError(f"--set {item!r}: the key must be section.key, e.g. train.steps")
    section, key = (s.strip() for s in dotted.split("."))
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return section, key, value


def apply_sets(cfg: Config, items: list[str]) -> Config:
    for item in items:
        section, key, value = parse_set(item)
        if section in _SECTION_TYPES and not isinstance(value, str):
            hints = typing.get_type_hints(_SECTION_TYPES[section])
            if hints.get(key) is str:  # a bare word that TOML reads as a number (data.name=nan) stays text
                value = item.split("=", 1)[1].strip()
        cfg = apply(cfg, {section: {key: value}}, origin="--set")
    return cfg


def from_dict(d: dict[str, Any]) -> Config:
    """Rebuild a Config from ``Config.to_dict()`` output (e.g. a run's config.json)."""
    return apply(Config(), {k: {kk: vv for kk, vv in v.items() if vv is not None} for k, v in d.items()},
                 origin="saved config")


def to_toml(cfg: Config) -> str:
    """The config as TOML (unset values are omitted), as ``--dry-run`` prints it."""
    lines = []
    for f in fields(cfg):
        section = getattr(cfg, f.name)
        assert is_dataclass(section)
        lines.append(f"[{f.name}]")
        for sf in fields(section):
            v = getattr(section, sf.name)
            if v is not None:
                lines.append(f"{sf.name} = {json.dumps(v)}")
        lines.append("")
    return "\n".join(lines)

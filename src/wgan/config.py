"""Typed run configuration: frozen dataclasses, TOML files, ``--set key=value`` overrides.

Unknown sections/keys and wrong types are rejected with a message naming the key. Objective and
optimiser hyperparameters left unset (``None``) take the objective preset's paper defaults when the
config is *resolved* (:func:`resolve`); the resolved config is what a run saves and what resumes read.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
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
    # text corpora (a .txt file or a folder of text files, one example per line; wgan.data.text)
    seq_len: int = 32  # characters per example: lines are truncated or padded to this (WGAN-GP sec. 5.5)
    vocab_size: int = 96  # at most this many symbols: padding, unknown and the most frequent characters
    val_size: int = 640  # lines held out for validation (the authors: 10 batches of 64); images: see below
    max_lines: int = 10_000_000  # read at most this many lines (the authors' MAX_N_EXAMPLES); 0 = all
    # image datasets (digits, MNIST IDX, CIFAR-10 batches, image folders; wgan.data.images). Validation
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


@dataclass(frozen=True)
class ObjectiveConfig:
    name: str = "wgan-gp"  # a preset: its paper's defaults fill every field left unset below
    loss: str | None = None  # wasserstein, minimax, non-saturating, least-squares
    penalty: str | None = None  # none, gp, lp, dragan
    penalty_weight: float | None = None  # lambda
    clip: float | None = None  # weight clipping bound c; 0 disables
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
    amp: bool = False  # automatic mixed precision (autocast; fp16 adds loss scaling); on the CPU: autocast too
    amp_dtype: str = "bfloat16"  # "bfloat16" (no loss scaling needed) or "float16" (GradScaler)
    channels_last: bool = False  # channels-last memory format for image nets and batches (faster convs on GPUs)
    log_val_every: int = 0  # critic loss on the held-out split (loss/critic_val) every N steps; 0 = log_every
    threads: int = 0  # torch CPU threads; 0 = auto: 1 for small nets, else the idle cores (wgan.threads)


@dataclass(frozen=True)
class EvalConfig:
    n_samples: int = 2000  # generated and data points for exact W1 and mode statistics; images: per metric
    # image runs (wgan.kinds.images, wgan.metrics.images): comma-separated metric names (`wgan list`, e.g.
    # "fid2k_classifier,msssim1k_pairs") or "default" (classifier FID + IS when a classifier fits, MS-SSIM)
    metrics: str = "default"
    classifier: str = ""  # feature network file from `wgan classifier train`, "auto" (train one in-process), "" none
    inception_weights: str = ""  # pt_inception-2015-12-05-*.pth for the *_inception* metrics (never downloaded)


VBN_CHOICES: tuple[str, ...] = ("none", "generator", "critic", "both")  # tricks.virtual_batch_norm


@dataclass(frozen=True)
class TricksConfig:
    """Improved-GAN techniques, each usable with every objective (wgan.tricks; all off by default)."""

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
        data: ``"points"`` (the demo: WGAN-GP on 8 Gaussians, width 128, lambda 0.1, beta (0.5, 0.9), 5,000
        steps), ``"images"`` (WGAN-GP with DCGAN nets at 32x32, data ``digits``) or ``"text"`` (the WGAN-GP
        character language model; set ``data.name`` to a corpus). ``Config()`` itself holds the library's
        field defaults (the paper's Algorithm 1 values at width 512), not the demo."""
        if kind not in DEMO_FILES:
            raise _unknown("demo config kind", kind, list(DEMO_FILES))
        return load_toml(Path(__file__).with_name(DEMO_FILES[kind]))


# the packaged starting config of each data kind (Config.demo; `wgan train` without --config)
DEMO_FILES = {"points": "demo.toml", "images": "demo_images.toml", "text": "demo_text.toml"}

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
            return float(value)
        if a is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if a in (str, bool) and isinstance(value, a):
            return value
    raise ConfigError(f"{section}.{key} must be {_type_name(t)}, got {value!r} ({type(value).__name__})")


def _is_optional(t: Any) -> bool:
    return (typing.get_origin(t) in (typing.Union, types.UnionType)) and type(None) in typing.get_args(t)


_SYNONYMS = {"lambda": "penalty_weight", "lamda": "penalty_weight", "lam": "penalty_weight",
             "gp_weight": "penalty_weight", "critic_iters": "n_critic", "d_steps": "n_critic",
             "learning_rate": "lr", "optimizer": "name", "iters": "steps", "batch": "batch_size"}


def _unknown(kind: str, name: str, valid: list[str], where: str = "", prefix: str = "") -> ConfigError:
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
            raise _unknown("section", section, list(_SECTION_TYPES), origin)
        if not isinstance(values, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table of key = value pairs")
        current = getattr(cfg, section)
        valid = [f.name for f in fields(current)]
        changes = {}
        for key, value in values.items():
            if key not in valid:
                raise _unknown("key", key, valid, origin, prefix=f"{section}.")
            changes[key] = _coerce(section, key, value)
        sections[section] = replace(current, **changes)
    return replace(cfg, **sections)


def load_toml(path: str | Path, base: Config | None = None) -> Config:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {e}") from None
    return apply(base or Config(), data, origin=str(path))


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


def resolve(cfg: Config, check_data: bool = True) -> Config:
    """Fill unset objective/optimiser fields from the objective preset and validate every choice.

    ``check_data=False`` skips the data-name check, for code that hands the loop its own sampler."""
    from .data import NAMED_DATA
    from .nets import CRITICS, GENERATORS
    from .nets.images import net_options
    from .nets.mlp import INITS
    from .objectives import LOSSES, get_preset
    from .penalties import PENALTIES

    try:
        p = get_preset(cfg.objective.name)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    o, op = cfg.objective, cfg.optim

    def pick(v, default):
        return default if v is None else v

    obj = replace(o, loss=pick(o.loss, p.loss), penalty=pick(o.penalty, p.penalty),
                  penalty_weight=pick(o.penalty_weight, p.penalty_weight), clip=pick(o.clip, p.clip or 0.0),
                  n_critic=pick(o.n_critic, p.n_critic))
    lr = pick(op.lr, p.lr)
    opt = replace(op, name=pick(op.name, p.optimizer), lr=lr, beta1=pick(op.beta1, p.beta1),
                  beta2=pick(op.beta2, p.beta2), critic_lr=pick(op.critic_lr, lr))
    out = replace(cfg, objective=obj, optim=opt)
    out = _apply_archs(out)
    cfg = replace(cfg, generator=out.generator, critic=out.critic)

    def choice(key: str, value: str, valid) -> None:
        if value not in valid:
            raise _unknown(f"{key}", value, list(valid))

    choice("objective.loss", obj.loss, LOSSES)
    choice("objective.penalty", obj.penalty, PENALTIES)
    choice("optim.name", opt.name, ("adam", "rmsprop", "rmsprop_tf", "sgd"))
    choice("generator.net", cfg.generator.net, GENERATORS)
    choice("critic.net", cfg.critic.net, CRITICS)
    for section in ("generator", "critic"):
        s = getattr(cfg, section)
        norms, activations = net_options(section, s.net)  # what this network family accepts
        choice(f"{section}.activation", s.activation, activations)
        choice(f"{section}.norm", s.norm, norms)
        if s.n_classes < 0 or s.extra_layers < 0:
            raise ConfigError(f"{section}.n_classes and {section}.extra_layers must be >= 0, got "
                              f"{s.n_classes} and {s.extra_layers}")
        choice(f"{section}.init", s.init, INITS)
        if s.net == "dcgan-deep" and s.extra_layers:
            raise ConfigError(f"{section}.net = 'dcgan-deep' sets its extra layers from {section}.depth (conv layers "
                              f"in all); set {section}.extra_layers = 0")
    positive = {"data.batch_size": cfg.data.batch_size, "train.steps": cfg.train.steps,
                "objective.n_critic": obj.n_critic, "train.log_every": cfg.train.log_every,
                "train.eval_every": cfg.train.eval_every, "train.sample_every": cfg.train.sample_every,
                "train.checkpoint_every": cfg.train.checkpoint_every, "eval.n_samples": cfg.eval.n_samples,
                "generator.latent_dim": cfg.generator.latent_dim, "generator.width": cfg.generator.width,
                "critic.width": cfg.critic.width}
    for key, v in positive.items():
        if v < 1:
            raise ConfigError(f"{key} must be at least 1, got {v}")
    d = cfg.data
    if d.seq_len < 1 or d.vocab_size < 3 or d.val_size < 1 or d.max_lines < 0:
        raise ConfigError(f"text data needs data.seq_len >= 1, data.vocab_size >= 3 (padding, unknown, one character), "
                          f"data.val_size >= 1 and data.max_lines >= 0 (0 = all); got {d.seq_len}, {d.vocab_size}, "
                          f"{d.val_size}, {d.max_lines}")
    choice("data.split", d.split, ("ordered", "random"))
    if d.split_seed < 0:
        raise ConfigError(f"data.split_seed must be >= 0, got {d.split_seed}")
    if d.image_size < 0 or d.subset < 0:  # image data (wgan.data.images)
        raise ConfigError(f"data.image_size and data.subset must be >= 0 (0 = the dataset's own size / all images), "
                          f"got {d.image_size} and {d.subset}")
    choice("data.variant", d.variant, ("plain", "stacked", "color"))
    for key, v in {"optim.lr": opt.lr, "optim.critic_lr": opt.critic_lr}.items():
        if not v > 0:
            raise ConfigError(f"{key} must be positive, got {v}")
    if obj.penalty_weight < 0 or obj.clip < 0:
        raise ConfigError("objective.penalty_weight and objective.clip must be >= 0 (clip = 0 disables clipping)")
    if not (0 <= opt.beta1 < 1 and 0 <= opt.beta2 < 1):
        raise ConfigError(f"optim.beta1 and optim.beta2 must lie in [0, 1), got {opt.beta1}, {opt.beta2}")
    if check_data and cfg.data.name not in NAMED_DATA:
        if not Path(cfg.data.name).exists():
            raise ConfigError(f"data {cfg.data.name!r} is neither a named dataset ({', '.join(NAMED_DATA)}) "
                              "nor an existing file or folder")
        # an absolute path keeps the saved config valid when a run is resumed from another folder
        out = replace(out, data=replace(cfg.data, name=str(Path(cfg.data.name).resolve())))
    _check_tricks(cfg.tricks, obj.loss)
    t = cfg.train
    choice("optim.lr_decay", opt.lr_decay, ("none", "linear"))
    choice("train.amp_dtype", t.amp_dtype, ("bfloat16", "float16"))
    if t.g_batch_multiple < 1:
        raise ConfigError(f"train.g_batch_multiple must be at least 1, got {t.g_batch_multiple}")
    if not 0 <= t.ema < 1:
        raise ConfigError(f"train.ema is the EMA decay of the generator and must lie in [0, 1) (0 = off), got {t.ema}")
    if t.threads < 0:
        raise ConfigError(f"train.threads must be >= 0 (0 = chosen from the work per step), got {t.threads}")
    if t.log_val_every < 0:
        raise ConfigError(f"train.log_val_every must be >= 0 (0 = every log_every steps), got {t.log_val_every}")
    if obj.acgan_critic_scale < 0 or obj.acgan_generator_scale < 0:
        raise ConfigError("objective.acgan_critic_scale and objective.acgan_generator_scale must be >= 0")
    n_g, n_d = getattr(cfg.generator, "n_classes", 0), getattr(cfg.critic, "n_classes", 0)
    if n_d != n_g and n_d > 0:
        raise ConfigError(f"critic.n_classes = {n_d} but generator.n_classes = {n_g}: an AC-GAN run needs both set to "
                          "the number of classes of the data")
    out = _resolve_eval(out)
    dev = cfg.train.device
    if not (dev in ("auto", "cpu") or dev == "cuda" or dev.startswith("cuda:")):
        raise ConfigError(f"train.device must be auto, cpu, cuda or cuda:N, got {dev!r}")
    return out


def _apply_archs(cfg: Config) -> Config:
    """Expand ``generator.arch`` / ``critic.arch`` (wgan.nets.space) into the fields they set. A field the user
    set to another value than both its default and the arch's is an error, never silently overridden."""
    from .nets.space import arch_fields

    penalised = cfg.objective.penalty not in (None, "none")
    sections = {}
    for role in ("generator", "critic"):
        s = getattr(cfg, role)
        if not s.arch:
            continue
        try:
            wanted = arch_fields(role, s.arch, penalised)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        default = type(s)()
        for key, value in wanted.items():
            have = getattr(s, key)
            if have != value and have != getattr(default, key):
                raise ConfigError(f"{role}.arch = {s.arch!r} sets {role}.{key} = {value!r}, but the config sets "
                                  f"{role}.{key} = {have!r}; remove one of the two")
        sections[role] = replace(s, **wanted)
    return replace(cfg, **sections)


def _check_tricks(t: TricksConfig, loss: str) -> None:
    """Validate the [tricks] section (wgan.tricks) against the resolved loss."""
    if t.virtual_batch_norm not in VBN_CHOICES:
        raise _unknown("tricks.virtual_batch_norm", t.virtual_batch_norm, list(VBN_CHOICES))
    if t.minibatch_kernels < 0 or t.minibatch_kernel_dim < 1 or t.vbn_reference_size < 1:
        raise ConfigError("tricks.minibatch_kernels must be >= 0 (0 = off), tricks.minibatch_kernel_dim and "
                          "tricks.vbn_reference_size >= 1")
    for key in ("historical_averaging_critic", "historical_averaging_generator", "instance_noise"):
        if not getattr(t, key) >= 0:
            raise ConfigError(f"tricks.{key} must be >= 0 (0 = off), got {getattr(t, key)}")
    if not 0 <= t.label_smoothing < 1:
        raise ConfigError(f"tricks.label_smoothing must lie in [0, 1) (real target 1 - value), got {t.label_smoothing}")
    if t.label_smoothing > 0 and loss == "wasserstein":
        raise ConfigError("tricks.label_smoothing needs a loss with targets (minimax, non-saturating, least-squares); "
                          "the Wasserstein critic has no labels to smooth: set tricks.label_smoothing = 0")


def _resolve_eval(cfg: Config) -> Config:
    """Check image metric names; make the classifier / Inception paths absolute (they must exist)."""
    from .metrics.images import parse_metric

    e = cfg.eval
    names = [m.strip() for m in e.metrics.split(",") if m.strip()]
    if names != ["default"]:
        if not names:
            raise ConfigError('eval.metrics is empty; name metrics (see `wgan list`) or use "default"')
        for m in names:
            parse_metric(m)
    paths = {}
    for key, value in (("classifier", e.classifier), ("inception_weights", e.inception_weights)):
        if value and not (key == "classifier" and value == "auto"):
            if not Path(value).is_file():
                raise ConfigError(f"eval.{key} = {value!r} is not a file" + (
                    ' (train one with `wgan classifier train`, or use "auto")' if key == "classifier" else
                    " (pytorch-fid's pt_inception-2015-12-05-6726825d.pth, downloaded by you; nothing is "
                    "downloaded here)"))
            paths[key] = str(Path(value).resolve())
    return replace(cfg, eval=replace(e, **paths)) if paths else cfg


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

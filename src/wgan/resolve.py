"""Resolve a :class:`~wgan.config.Config`: fill the objective preset's defaults and check every choice against
the modules that define the choices (objectives, penalties, network families, data sources, image metrics).

:mod:`wgan.config` is the schema (dataclasses, bounds, TOML and ``--set``); this module holds the checks across
modules and imports downward only: the registries it reads never import it back.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .config import ADAPTIVE_MAX_LR, VBN_CHOICES, Config, TricksConfig, check_bounds, unknown
from .constraints import check_constraints
from .errors import ConfigError


def resolve(cfg: Config, check_data: bool = True) -> Config:
    """Fill unset objective/optimiser fields from the objective preset and validate every choice.

    ``check_data=False`` skips the data-name check, for code that hands the loop its own sampler."""
    from .data import NAMED_DATA, TOY_DATA
    from .data.image_datasets import VARIANTS
    from .nets import CRITICS, GENERATORS, net_options
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

    if o.penalty not in (None, "none", p.penalty) and o.penalty_weight is None and not p.penalty_weight:
        raise ConfigError(f"objective.penalty = {o.penalty!r} with objective {cfg.objective.name!r}, whose preset has "
                          "no penalty weight: the penalty would add nothing; set objective.penalty_weight (lambda, "
                          "e.g. 10; gamma for r1/r2)")
    obj = replace(o, loss=pick(o.loss, p.loss), penalty=pick(o.penalty, p.penalty),
                  penalty_weight=pick(o.penalty_weight, p.penalty_weight), clip=pick(o.clip, p.clip or 0.0),
                  n_critic=pick(o.n_critic, p.n_critic))
    lr = pick(op.lr, p.lr)
    opt = replace(op, name=pick(op.name, p.optimizer), lr=lr, beta1=pick(op.beta1, p.beta1),
                  beta2=pick(op.beta2, p.beta2), critic_lr=pick(op.critic_lr, lr))
    out = replace(cfg, objective=obj, optim=opt)
    out = _apply_archs(out)
    cfg = replace(cfg, generator=out.generator, critic=out.critic)
    check_bounds(out)  # every numeric field in its range, every float finite (BOUNDS)
    if opt.name in ("adam", "rmsprop"):
        for key, v in (("optim.lr", opt.lr), ("optim.critic_lr", opt.critic_lr)):
            if v > ADAPTIVE_MAX_LR:
                raise ConfigError(f"{key} = {v:g} is too large for {opt.name}, which moves every weight by about lr "
                                  f"per step: use at most {ADAPTIVE_MAX_LR:g} (the papers use 5e-5 to 1e-3)")

    def choice(key: str, value: str, valid) -> None:
        if value not in valid:
            raise unknown(f"{key}", value, list(valid))

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
        choice(f"{section}.init", s.init, INITS)
        if s.net == "dcgan-deep" and s.extra_layers:
            raise ConfigError(f"{section}.net = 'dcgan-deep' sets its extra layers from {section}.depth (conv layers "
                              f"in all); set {section}.extra_layers = 0")
    d = cfg.data
    choice("data.split", d.split, ("ordered", "random"))
    choice("data.variant", d.variant, VARIANTS)
    if check_data and cfg.data.name not in NAMED_DATA:
        if not Path(cfg.data.name).exists():
            raise ConfigError(f"data {cfg.data.name!r} is neither a named dataset ({', '.join(NAMED_DATA)}) "
                              "nor an existing file or folder")
        # an absolute path keeps the saved config valid when a run is resumed from another folder
        out = replace(out, data=replace(cfg.data, name=str(Path(cfg.data.name).resolve())))
    _check_tricks(cfg.tricks, obj.loss)
    _check_spectral_norm(cfg, obj.clip)
    check_constraints(replace(cfg, objective=obj))
    t = cfg.train
    _check_augment(cfg, check_data)
    choice("optim.lr_decay", opt.lr_decay, ("none", "linear"))
    choice("train.amp_dtype", t.amp_dtype, ("bfloat16", "float16"))
    choice("train.critic_schedule", t.critic_schedule, ("constant", "wgan"))
    choice("eval.generator_mode", cfg.eval.generator_mode, ("running", "batch"))
    if t.tensorboard:
        from .rundir import require_tensorboard

        require_tensorboard()
    if t.compile:
        from .training.compiled import check_compilable

        check_compilable(out)
    n_g, n_d = getattr(cfg.generator, "n_classes", 0), getattr(cfg.critic, "n_classes", 0)
    if n_d != n_g and n_d > 0:
        raise ConfigError(f"critic.n_classes = {n_d} but generator.n_classes = {n_g}: an AC-GAN run needs both set to "
                          "the number of classes of the data")
    out = _resolve_eval(out)
    if Path(cfg.data.name).suffix in (".npy", ".csv") or cfg.data.name in TOY_DATA:
        from .limits import check_w1_size  # points: every evaluation is an exact W1 on eval.n_samples a side

        check_w1_size(cfg.eval.n_samples, cfg.eval.n_samples, "lower eval.n_samples")
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
    """Validate the [tricks] section (wgan.training.trick_hooks) against the resolved loss."""
    from .objectives import LOSSES

    if t.virtual_batch_norm not in VBN_CHOICES:
        raise unknown("tricks.virtual_batch_norm", t.virtual_batch_norm, list(VBN_CHOICES))
    if t.label_smoothing > 0 and loss in LOSSES and not LOSSES[loss].targets:
        with_targets = ", ".join(k for k in LOSSES if LOSSES[k].targets)
        raise ConfigError(f"tricks.label_smoothing needs a loss with targets ({with_targets}); the {loss} critic "
                          "has no labels to smooth: set tricks.label_smoothing = 0")


def _check_spectral_norm(cfg: Config, clip: float) -> None:
    """``critic.spectral_norm`` (wgan.nets.spectral) against weight clipping, and its iteration count without it."""
    c = cfg.critic
    if c.spectral_norm and clip > 0:
        raise ConfigError(f"critic.spectral_norm = true with weight clipping (objective.clip = {clip:g}): spectral "
                          "normalisation divides each weight by its largest singular value, which undoes the clip's "
                          "scale and leaves only its distortion of the weights; set objective.clip = 0 (or "
                          "critic.spectral_norm = false)")
    if c.spectral_norm and cfg.tricks.minibatch_kernels > 0:
        raise ConfigError("critic.spectral_norm = true with tricks.minibatch_kernels: the minibatch-discrimination "
                          "layers wrapped around the critic (their kernel and output layer) would stay unnormalised; "
                          "use one of the two")
    if not c.spectral_norm and c.spectral_norm_iterations != 1:
        raise ConfigError(f"critic.spectral_norm_iterations = {c.spectral_norm_iterations} has no effect without "
                          "critic.spectral_norm = true; set both, or remove the iterations")


def _check_augment(cfg: Config, check_data: bool) -> None:
    """``train.augment`` (wgan.training.augment): known policy names, each once, and image data only. Without the
    data check (a sampler given in code) the trainer checks the sampler's kind."""
    from .data import source_of
    from .training.augment import check_kind, parse

    parse(cfg.train.augment)
    source = source_of(cfg.data.name) if check_data else None
    if source is not None:
        check_kind(cfg.train.augment, source.kind, cfg.data.name)


def _resolve_eval(cfg: Config) -> Config:
    """Check image metric names; make the classifier / Inception paths absolute (they must exist)."""
    from .metrics.image_metrics import parse_metric

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
                    " (pytorch-fid's pt_inception-2015-12-05-6726825d.pth; leave it empty to have it fetched into "
                    "the cache)"))
            paths[key] = str(Path(value).resolve())
    return replace(cfg, eval=replace(e, **paths)) if paths else cfg

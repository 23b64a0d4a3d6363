"""A study spec: which runs a study holds. TOML (``wgan study SPEC.toml``) or built in Python.

```toml
name = "lr-sweep"                 # the study's folder name (default: the spec file's stem)
config = "base.toml"              # optional base run config, relative to the spec file
seeds = 3                         # 3 -> seeds 0, 1, 2; or a list [0, 7]
metric = "is2k_classifier"        # optional: the summary.json figure the markdown table and figure lead with

[set]                             # every run: section.key = value (dotted keys, or [set.train] tables)
"train.steps" = 200

[grid]                            # the cartesian product of these lists
"objective.name" = ["wgan-gp", "ns-gan"]
"optim.lr" = [1e-4, 2e-4]

[random]                          # n draws (seeded) from these distributions, each crossed with the grid
n = 8
seed = 0
"critic.width" = {choice = [32, 64, 128]}
"optim.lr" = {log_uniform = [1e-5, 1e-3]}   # also uniform = [a, b], int_uniform = [a, b] (both ends in)

[[variants]]                      # explicit points, each crossed with the grid and the random draws
label = "small"                   # optional readable name
"generator.width" = 8

[[axes.constraint]]               # named axes of bundles (several keys set together), crossed with each other
label = "clip"                    # in the order the axes are written, then with the variants, grid and draws
"objective.clip" = 0.01
[[axes.constraint]]
label = "gp"
"objective.penalty" = "gp"

[[refuse]]                        # combinations not run: a point whose settings match every key is left out
"objective.loss" = "wasserstein"  # and listed with its reason (--dry-run, study.md, study.json)
"objective.penalty" = "r1"
reason = "the Wasserstein critic is unbounded with a penalty at the real points only"
```

Runs = variants x axes x grid x random draws x seeds, less the refused points; each is an ordinary run directory
under ``<out>/runs/<slug>-<hash>-s<seed>`` whose name depends only on its overrides and seed, so running the same
spec again finds the runs it already did. Every run's config is built and validated before any run starts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config, apply, load_toml, read_toml
from ..errors import ConfigError
from ..resolve import resolve

SPEC_KEYS = ("name", "config", "seeds", "metric", "set", "grid", "random", "variants", "axes", "refuse")
DISTRIBUTIONS = ("choice", "uniform", "log_uniform", "int_uniform")


@dataclass(frozen=True)
class RunSpec:
    """One run of a study: its overrides (``section.key -> value``), seed, folder name and label."""

    overrides: tuple[tuple[str, Any], ...]  # sorted, the point's own settings (not the study-wide [set])
    seed: int
    name: str  # folder under <out>/runs
    label: str  # readable name of the point (the variant label or the varying values)

    @property
    def point(self) -> str:
        """The run's point without its seed (seeds of one point are aggregated together)."""
        return self.label


@dataclass(frozen=True)
class Refused:
    """A point of the spec that is not run: its label, its own settings and the ``[[refuse]]`` reason."""

    label: str
    overrides: tuple[tuple[str, Any], ...]
    reason: str


@dataclass
class Study:
    """The runs of a study. ``base`` is the config every run starts from; ``common`` the study-wide overrides;
    ``points`` one dict of overrides per point (with an optional ``"label"``); ``refused`` the points a
    ``[[refuse]]`` rule left out, with its reason."""

    name: str
    points: list[dict[str, Any]]
    seeds: list[int]
    base: Config = field(default_factory=Config)
    common: dict[str, Any] = field(default_factory=dict)
    metric: str | None = None
    refused: list[Refused] = field(default_factory=list)

    def runs(self) -> list[RunSpec]:
        out, names = [], set()
        for point in self.points:
            overrides = {k: v for k, v in point.items() if k != "label"}
            items = tuple(sorted(overrides.items()))
            label = str(point.get("label") or _slug(items) or "base")
            for seed in self.seeds:
                name = f"{_safe(label)[:60]}-{_hash(items)}-s{seed}"
                if name in names:
                    raise ConfigError(f"study {self.name!r}: two runs with the same settings ({label}, seed {seed}); "
                                      "make the points distinct")
                names.add(name)
                out.append(RunSpec(items, seed, name, label))
        return out

    def config(self, run: RunSpec) -> Config:
        """The resolved config of ``run`` (ConfigError naming the run when a value is invalid)."""
        try:
            cfg = apply(self.base, _nest({**self.common, **dict(run.overrides), "train.seed": run.seed}),
                        origin=f"study {self.name!r}, run {run.label}")
            return resolve(cfg)
        except ConfigError as e:
            raise ConfigError(f"study {self.name!r}, run {run.label} (seed {run.seed}): {e}") from None


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", text).strip("_") or "run"


def _slug(items: tuple[tuple[str, Any], ...]) -> str:
    return ",".join(f"{k}={v}" for k, v in items)


def _hash(items: tuple[tuple[str, Any], ...]) -> str:
    return hashlib.sha1(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _nest(flat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, value in flat.items():
        if key.count(".") != 1:
            raise ConfigError(f"study setting {key!r} must be section.key, e.g. train.steps")
        section, k = key.split(".")
        out.setdefault(section, {})[k] = value
    return out


def _flatten(table: dict[str, Any], where: str, leaf_dicts: bool = False) -> dict[str, Any]:
    """``{"train.steps": 1}`` and ``{"train": {"steps": 1}}`` both give ``{"train.steps": 1}``. With
    ``leaf_dicts`` a value that is a distribution table (``{choice = [...]}``) stays a leaf."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        is_leaf = not isinstance(value, dict) or "." in key or (leaf_dicts and set(value) <= set(DISTRIBUTIONS))
        if is_leaf:
            out[key] = value
        else:
            for k, v in value.items():
                out[f"{key}.{k}"] = v
    for key in out:
        if key.count(".") != 1:
            raise ConfigError(f"{where}: {key!r} must be section.key (e.g. \"train.steps\" or a [{where}.train] table)")
    return out


def _draw(rng: random.Random, key: str, dist: Any) -> Any:
    if not isinstance(dist, dict) or len(dist) != 1 or next(iter(dist)) not in DISTRIBUTIONS:
        raise ConfigError(f"[random] {key}: expected one of {{{', '.join(f'{d} = [...]' for d in DISTRIBUTIONS)}}}, "
                          f"got {dist!r}")
    kind, args = next(iter(dist.items()))
    if not isinstance(args, list) or not args:
        raise ConfigError(f"[random] {key}: {kind} needs a non-empty list, got {args!r}")
    if kind == "choice":
        return rng.choice(args)
    if len(args) != 2 or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args) \
            or args[0] > args[1]:
        raise ConfigError(f"[random] {key}: {kind} needs [low, high] numbers with low <= high, got {args!r}")
    lo, hi = args
    if kind == "uniform":
        return rng.uniform(lo, hi)
    if kind == "int_uniform":
        return rng.randint(int(lo), int(hi))
    if lo <= 0:
        raise ConfigError(f"[random] {key}: log_uniform needs positive bounds, got {args!r}")
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def expand_points(grid: dict[str, list[Any]], random_spec: dict[str, Any] | None,
                  variants: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """variants x grid x random draws, as one override dict per point."""
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"[grid] {key} must be a non-empty list of values, got {values!r}")
    grid_points = [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())] if grid else [{}]
    draws: list[dict[str, Any]] = [{}]
    if random_spec:
        spec = dict(random_spec)
        n, seed = spec.pop("n", None), spec.pop("seed", 0)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"[random] needs n = a positive number of draws, got {n!r}")
        dists = _flatten(spec, "random", leaf_dicts=True)
        rng = random.Random(seed)
        draws = [{k: _draw(rng, k, d) for k, d in dists.items()} for _ in range(n)]
    points = []
    for v in variants or [{}]:
        for g in grid_points:
            for r in draws:
                point = {**v, **g, **r}
                if v.get("label") and (len(grid_points) > 1 or len(draws) > 1):
                    varying = {**g, **r}
                    point["label"] = f"{v['label']}," + _slug(tuple(sorted(varying.items())))
                points.append(point)
    return points


def expand_axes(axes: Any, where: str) -> list[dict[str, Any]]:
    """``[[axes.NAME]]`` tables -> one merged bundle per combination (the axes crossed in the order written),
    labelled by its bundles' labels joined with commas."""
    if not isinstance(axes, dict) or not axes:
        raise ConfigError(f"{where}: axes must be [[axes.NAME]] tables, one list of bundles per axis")
    lists = []
    for name, bundles in axes.items():
        if not (isinstance(bundles, list) and bundles and all(isinstance(b, dict) for b in bundles)):
            raise ConfigError(f"{where}: axis {name!r} must be a non-empty list of [[axes.{name}]] tables")
        flat = []
        for b in bundles:
            settings = _flatten({k: v for k, v in b.items() if k != "label"}, f"axes.{name}")
            if not settings:
                raise ConfigError(f"{where}: an [[axes.{name}]] table sets nothing; give it section.key settings")
            flat.append((str(b.get("label") or _slug(tuple(sorted(settings.items())))), settings))
        labels = [lb for lb, _ in flat]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"{where}: axis {name!r} has two bundles labelled alike ({', '.join(labels)}); "
                              "label each differently")
        lists.append(flat)
    out = []
    for combo in itertools.product(*lists):
        merged: dict[str, Any] = {}
        for (_, settings), name in zip(combo, axes, strict=True):
            clash = sorted(set(merged) & set(settings))
            if clash:
                raise ConfigError(f"{where}: axes {name!r} and another set the same key(s) {', '.join(clash)}; "
                                  "an axis owns its keys")
            merged.update(settings)
        out.append({**merged, "label": ",".join(label for label, _ in combo)})
    return out


def _cross(variant: dict[str, Any], combo: dict[str, Any], where: str) -> dict[str, Any]:
    clash = sorted((set(variant) & set(combo)) - {"label"})
    if clash:
        raise ConfigError(f"{where}: [[variants]] and [[axes]] set the same key(s) {', '.join(clash)}")
    label = ",".join(x for x in (variant.get("label"), combo["label"]) if x)
    return {**variant, **combo, "label": label}


def _written(study: Study, point: dict[str, Any], key: str) -> Any:
    """A run's setting ``key`` as the spec and the base config write it (before a preset fills unset fields)."""
    merged = {**study.common, **{k: v for k, v in point.items() if k != "label"}}
    if key in merged:
        return merged[key]
    section, k = key.split(".")
    return getattr(getattr(study.base, section), k)


def apply_refusals(study: Study, rules: Any, where: str) -> None:
    """Move the points every key of a ``[[refuse]]`` rule matches into ``study.refused``. A rule that names no
    reason, an unknown setting, or matches no point is an error (a typo must not refuse nothing silently)."""
    if not (isinstance(rules, list) and all(isinstance(r, dict) for r in rules)):
        raise ConfigError(f"{where}: refuse must be [[refuse]] tables (settings to match and a reason)")
    for i, rule in enumerate(rules, 1):
        reason = rule.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: [[refuse]] rule {i} needs reason = \"why this combination is not run\"")
        match = _flatten({k: v for k, v in rule.items() if k != "reason"}, "refuse")
        if not match:
            raise ConfigError(f"{where}: [[refuse]] rule {i} matches on nothing; give the settings it refuses")
        for key in match:
            section, k = key.split(".")
            if not hasattr(study.base, section) or not hasattr(getattr(study.base, section), k):
                raise ConfigError(f"{where}: [[refuse]] rule {i}: unknown setting {key!r} (see `wgan list`)")
        hit = [p for p in study.points if all(_written(study, p, k) == v for k, v in match.items())]
        if not hit:
            raise ConfigError(f"{where}: [[refuse]] rule {i} ({_slug(tuple(sorted(match.items())))}) matches no "
                              "point of the study; fix its settings or remove it")
        for p in hit:
            overrides = tuple(sorted((k, v) for k, v in p.items() if k != "label"))
            study.refused.append(Refused(str(p.get("label") or _slug(overrides) or "base"), overrides,
                                         reason.strip()))
        study.points = [p for p in study.points if not any(p is h for h in hit)]
    if rules and not study.points:
        raise ConfigError(f"{where}: [[refuse]] rules refuse every point; nothing is left to run")


def load_spec(path: str | Path) -> Study:
    """Read a study spec (see the module docstring); ConfigError for anything malformed."""
    path = Path(path)
    data = read_toml(path, "study spec")
    unknown = sorted(set(data) - set(SPEC_KEYS))
    if unknown:
        raise ConfigError(f"study spec {str(path)!r}: unknown key(s) {', '.join(unknown)}; valid: "
                          f"{', '.join(SPEC_KEYS)}")
    base = Config()
    if "config" in data:
        base = load_toml((path.parent / str(data["config"])), base)
    seeds = data.get("seeds", 1)
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1:
        seeds = list(range(seeds))
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)):
        raise ConfigError(f"study spec {str(path)!r}: seeds must be a positive count or a list of integers, "
                          f"got {seeds!r}")
    variants = data.get("variants")
    if variants is not None and not (isinstance(variants, list) and all(isinstance(v, dict) for v in variants)):
        raise ConfigError(f"study spec {str(path)!r}: variants must be [[variants]] tables")
    flat_variants = [_flatten({k: v for k, v in var.items() if k != "label"}, "variants") |
                     ({"label": str(var["label"])} if "label" in var else {}) for var in variants or []]
    if "axes" in data:  # each variant crossed with every combination of the axes' bundles
        where = f"study spec {str(path)!r}"
        combos = expand_axes(data["axes"], where)
        flat_variants = [_cross(v, c, where) for v in flat_variants or [{}] for c in combos]
    points = expand_points(_flatten(data.get("grid", {}), "grid"), data.get("random"), flat_variants or None)
    study = Study(str(data.get("name", path.stem)), points, seeds, base, _flatten(data.get("set", {}), "set"),
                  data.get("metric"))
    if "refuse" in data:
        apply_refusals(study, data["refuse"], f"study spec {str(path)!r}")
    for run in study.runs():  # every config valid before anything runs
        study.config(run)
    return study


__all__ = ["Refused", "RunSpec", "Study", "apply_refusals", "expand_axes", "expand_points", "load_spec"]

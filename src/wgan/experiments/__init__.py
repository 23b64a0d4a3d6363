"""Paper reproductions, registered by name: ``wgan reproduce NAME``.

Each reproduction is a function ``run(ctx: Context) -> Result`` that trains what the paper trained (at a
size 2 CPU cores manage, or tiny in ``ctx.quick`` mode), draws the figure into ``ctx.out`` and returns
the measured claims. :func:`run_experiment` writes ``results.json`` (every measured number plus the
protocol) atomically and the CLI prints one verdict line per claim.

To add one: a module in this package with a function decorated by :func:`register` (every module of
the package is imported on first use; helpers shared by several go in ``_common.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..io import write_json


@dataclass
class Claim:
    """One claim of a paper and what we measured about it.

    ``holds`` is the verdict of ``criterion`` applied to ``measured`` (None when the claim is descriptive
    and has no pass/fail direction)."""

    name: str
    statement: str  # what the paper claims, in one sentence
    criterion: str  # the measurable test we apply, e.g. "ratio first/last layer > 100 with clipping"
    measured: dict[str, Any]
    holds: bool | None

    def verdict(self) -> str:
        mark = {True: "HOLDS", False: "DOES NOT HOLD", None: "MEASURED"}[self.holds]
        nums = ", ".join(f"{k}={_fmt(v)}" for k, v in self.measured.items() if not isinstance(v, (list, dict)))
        return f"[{mark}] {self.name}: {self.criterion} -- {nums}"


@dataclass
class Result:
    claims: list[Claim]
    protocol: dict[str, Any]  # steps, seeds, sample counts, deviations from the paper
    figures: list[str] = field(default_factory=list)  # file names inside the output folder
    data: dict[str, Any] = field(default_factory=dict)  # curves and tables behind the figures


@dataclass(frozen=True)
class Context:
    out: Path
    quick: bool = False
    seeds: int | None = None  # None: the experiment's default
    steps: int | None = None
    device: str = "cpu"
    data: str | None = None  # a data file or folder, for reproductions that train on a corpus or dataset


@dataclass(frozen=True)
class Experiment:
    name: str
    paper: str
    figure: str
    claim: str
    run: Callable[[Context], Result]


EXPERIMENTS: dict[str, Experiment] = {}


def register(name: str, paper: str, figure: str, claim: str) -> Callable:
    def deco(fn: Callable[[Context], Result]) -> Callable[[Context], Result]:
        if name in EXPERIMENTS:
            raise RuntimeError(f"reproduction {name!r} registered twice")
        EXPERIMENTS[name] = Experiment(name, paper, figure, claim, fn)
        return fn

    return deco


def _load_all() -> None:
    """Import every module of this package once, so their ``@register`` calls run."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def get(name: str) -> Experiment:
    _load_all()
    if name not in EXPERIMENTS:
        valid = ", ".join(EXPERIMENTS) or "(none registered)"
        raise ConfigError(f"unknown reproduction {name!r}; valid: {valid} (see `wgan reproduce --list`)")
    return EXPERIMENTS[name]


def all_experiments() -> dict[str, Experiment]:
    _load_all()
    return dict(EXPERIMENTS)


def run_experiment(name: str, ctx: Context) -> Result:
    """Run a reproduction and write ``results.json`` into ``ctx.out``."""
    exp = get(name)
    ctx.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    result = exp.run(ctx)
    wall = time.perf_counter() - start
    write_json(ctx.out / "results.json", {
        "reproduction": name, "paper": exp.paper, "figure": exp.figure, "claim": exp.claim,
        "quick": ctx.quick, "wall_time_s": wall,
        "claims": [asdict(c) | {"verdict": c.verdict()} for c in result.claims],
        "protocol": result.protocol, "figures": result.figures, "data": result.data,
    })
    return result


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)

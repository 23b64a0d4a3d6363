"""Paper reproductions, registered by name: ``wgan reproduce NAME``.

Each reproduction is a function ``run(ctx: Context) -> Result`` that trains what the paper trained (at a
size 2 CPU cores manage, or tiny in ``ctx.quick`` mode), draws the figure into ``ctx.out`` and returns
the measured claims. :func:`run_experiment` writes ``results.json`` (every measured number plus the
protocol, whose ``table`` is the reproduction's registered protocol table, see :mod:`._protocol`) atomically
and the CLI prints one verdict line per claim.

To add one: a module of this package named as the reproduction (``wgan reproduce NAME``, dashes as underscores;
``parallel_lines_gan`` for ``parallel-lines``, whose name :mod:`wgan.metrics.parallel_lines` holds) with a function
decorated by :func:`register`, with its protocol table. Every module of the package whose name does not start
with ``_`` is imported on first use. A reproduction module imports no other reproduction module
(tests/test_imports.py): what several share goes in a ``_`` module -- ``_common.py`` for pieces used across papers,
or the family's own (``_toy_runs``, ``_deep_critic``, ``_images``, ``_architectures``, ``_many_paths``).

Each reproduction declares its claims with ``register(..., claims=[ClaimSpec(...), ...])`` (see :mod:`._claims`:
the paper's quote and where it says so, the criterion as a function of the measured numbers, its negative and
positive controls and the adequacy gate) and returns ``spec.judge(measured)`` for each: HOLDS, DOES NOT HOLD,
INCONCLUSIVE (the run cannot decide), IDENTITY (a check of the code) or MEASURED (descriptive).
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..console import duration
from ..errors import ConfigError
from ..io import write_json
from ._claims import Claim, ClaimSpec
from ._protocol import Row, check_table

__all__ = ["Claim", "ClaimSpec", "Context", "Experiment", "Progress", "Result", "Row", "all_experiments", "get",
           "register", "run_experiment"]

T = TypeVar("T")


@dataclass
class Result:
    claims: list[Claim]
    protocol: dict[str, Any]  # steps, seeds, sample counts, deviations from the paper
    figures: list[str] = field(default_factory=list)  # file names inside the output folder
    data: dict[str, Any] = field(default_factory=dict)  # curves and tables behind the figures


class Progress:
    """Where a reproduction is: its part, runs done of the part's total, elapsed time and ETA (mean time per
    finished run of the part times the runs left). ``report`` receives one line per run started (the CLI prints
    them to stderr; ``None`` keeps quiet); ``stage`` is the latest of them, for the message after Ctrl-C."""

    def __init__(self, name: str = "", report: Callable[[str], None] | None = None) -> None:
        self.name, self.report = name, report
        self.start = time.perf_counter()
        self.stage = "its first part"  # until a part is tracked (many-paths prints its own per-ensemble lines)
        self.kept: list[tuple[Path, str]] = []
        self.work_full = self.work_probe = 0  # an estimate's step sums (see ._budget.probe_steps)

    def elapsed(self) -> str:
        """Time since the reproduction started, e.g. ``3 min 07 s``."""
        return duration(time.perf_counter() - self.start)

    def track(self, items: Iterable[T], part: str, label: Callable[[T], str] = str) -> Iterator[T]:
        items = list(items)
        t0 = time.perf_counter()
        for i, item in enumerate(items):
            now = time.perf_counter()
            eta = f", ETA {duration((now - t0) / i * (len(items) - i))}" if i else ""
            self.stage = f"{part}, run {i + 1}/{len(items)} ({label(item)})"
            if self.report is not None:
                self.report(f"[{self.name}] {self.stage}: {duration(now - self.start)} elapsed{eta}")
            yield item
        self.stage = f"the work after {part}"


class Resumed:
    """What a reproduction took from its kept runs (``cached_run`` in :mod:`._common`) in this process: how many
    finished runs it reused and the time they had taken when they were made, against how many it trained now.
    :func:`run_experiment` records it in ``results.json`` so that a run spread over several starts says so beside
    its wall time (the last start's alone)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.reused, self.trained, self.reused_s = 0, 0, 0.0

    def to_json(self) -> dict[str, Any] | None:
        if not self.reused:
            return None
        return {"reused": self.reused, "trained": self.trained, "reused_s": self.reused_s}


RESUMED = Resumed()


@dataclass(frozen=True)
class Context:
    out: Path
    quick: bool = False
    seeds: int | None = None  # None: the experiment's default
    steps: int | None = None
    device: str = "cpu"
    data: str | None = None  # a data file or folder, for reproductions that train on a corpus or dataset
    n: int | None = None  # studies: how many points (e.g. architectures); None: the reproduction's default
    workers: int = 1  # studies: worker processes of the local pool (wgan.studies)
    backend: str = "local"  # studies: "local" or "ray"
    ray_address: str | None = None  # studies on Ray: join this cluster (None: start a local one)
    budget: str = "cpu"  # "cpu" (sized for 2 CPU cores) or "paper" (the paper's sizes): see ._budget
    probe: float | None = None  # set only while --estimate probes the run: the fraction of its steps (._budget)
    progress: Progress = field(default_factory=Progress, compare=False)

    def track(self, items: Iterable[T], part: str, label: Callable[[T], str] = str) -> Iterator[T]:
        """Iterate over a part's runs (a list, or anything finite), reporting each one started: ``part``, run i
        of n, ``label(item)``, elapsed time and ETA (see :class:`Progress`)."""
        return self.progress.track(items, part, label)

    def keeps(self, folder: Path, what: str) -> None:
        """Declare that finished runs are saved in ``folder`` as they finish (``what`` says how they are reused),
        so that an interrupted reproduction can say what it kept."""
        self.progress.kept.append((Path(folder), what))


@dataclass(frozen=True)
class Experiment:
    name: str
    paper: str
    figure: str
    claim: str
    run: Callable[[Context], Result]
    table: Callable[[Context], list[Row]]  # the protocol table of a run with this context
    # studies: the wgan.studies.Study a run with this context trains and the folder of its runs (for --estimate)
    study: Callable[[Context], tuple[Any, Path]] | None = None
    claims: tuple[ClaimSpec, ...] = ()  # the claims it judges, declared before it runs (see ._claims)


EXPERIMENTS: dict[str, Experiment] = {}


def register(name: str, paper: str, figure: str, claim: str, *, table: Callable[[Context], list[Row]],
             study: Callable[[Context], tuple[Any, Path]] | None = None,
             claims: Iterable[ClaimSpec] = ()) -> Callable:
    """Register ``run`` under ``name``; ``table(ctx)`` gives its protocol table (see :mod:`._protocol`);
    ``study(ctx)``, for reproductions run through the study runner, its study and runs folder; ``claims``, the
    claims it judges (see :mod:`._claims`), which its results must then be exactly."""
    def deco(fn: Callable[[Context], Result]) -> Callable[[Context], Result]:
        if name in EXPERIMENTS:
            raise RuntimeError(f"reproduction {name!r} registered twice")
        specs = tuple(claims)
        names = [c.name for c in specs]
        if len(set(names)) != len(names):
            raise RuntimeError(f"reproduction {name!r} declares a claim name twice: {names}")
        EXPERIMENTS[name] = Experiment(name, paper, figure, claim, fn, table, study, specs)
        return fn

    return deco


def full_table(name: str, ctx: Context) -> list[dict[str, str]]:
    """The checked protocol table of reproduction ``name`` run with ``ctx``, as ``results.json`` stores it."""
    return check_table(get(name).table(ctx), name)


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
    table = full_table(name, ctx)  # before the run: a broken table fails at once, not after an hour
    ctx.out.mkdir(parents=True, exist_ok=True)
    from ..studies.estimate import cpu_clock

    RESUMED.reset()
    start, cpu_start = time.perf_counter(), cpu_clock()
    result = exp.run(ctx)
    wall = time.perf_counter() - start
    # this process and its ended children (a local pool's workers); Ray's workers are not its children: not recorded
    cpu = cpu_clock() - cpu_start if ctx.backend == "local" else None
    if "table" in result.protocol:
        raise RuntimeError(f"{name}: the protocol table is registered with the reproduction, not returned by it")
    check_claims(exp, result.claims)
    write_json(ctx.out / "results.json", {
        "reproduction": name, "paper": exp.paper, "figure": exp.figure, "claim": exp.claim,
        "quick": ctx.quick, "wall_time_s": wall, "cpu_time_s": cpu, "options": options(ctx),
        **({"resumed": resumed} if (resumed := RESUMED.to_json()) else {}),
        "claims": [c.to_json() for c in result.claims],
        "protocol": result.protocol | {"table": table}, "figures": result.figures, "data": result.data,
    })
    return result


def check_claims(exp: Experiment, claims: list[Claim]) -> None:
    """A reproduction that declares its claims returns exactly those, each judged by its spec (a mismatch is a
    bug of the reproduction: RuntimeError)."""
    if not exp.claims:
        return
    declared = {s.name: s for s in exp.claims}
    got = [c.name for c in claims]
    if sorted(got) != sorted(declared):
        raise RuntimeError(f"{exp.name}: returned claims {got}, declared {list(declared)}")
    unjudged = [c.name for c in claims
                if (c.quote, c.criterion) != (declared[c.name].quote, declared[c.name].criterion)]
    if unjudged:
        raise RuntimeError(f"{exp.name}: claims {unjudged} were not made by their spec's judge()")


def options(ctx: Context) -> dict[str, Any]:
    """The command-line options of a run (what ``wgan reproduce NAME ...`` was given), for its command line."""
    return {"budget": ctx.budget, "seeds": ctx.seeds, "steps": ctx.steps, "data": ctx.data, "n": ctx.n,
            "device": ctx.device}


def data_placeholder(value: str) -> str:
    """What a user types for ``--data`` in place of a run's own path: a named dataset (``mnist``) as it is, a folder
    as ``NAME_DIR`` (``/data/mnist`` -> ``MNIST_DIR``), a file as ``PATH/TO/name.ext``."""
    from pathlib import PurePath

    if "/" not in value and "\\" not in value:
        return value
    p = PurePath(value)
    return f"PATH/TO/{p.name}" if p.suffix else f"{p.name.upper().replace('-', '_')}_DIR"


def command(name: str, opts: dict[str, Any] | None = None, *, user: bool = False) -> str:
    """The ``wgan reproduce`` command that makes a run with ``opts`` (see :func:`options`); ``user``: with a
    path given to ``--data`` shown as what a user types (:func:`data_placeholder`), not the run's machine path."""
    parts = [f"wgan reproduce {name}"]
    for k, v in (opts or {}).items():
        if v is not None and not (k in ("device", "budget") and v == "cpu"):
            parts.append(f"--{k} {data_placeholder(str(v)) if user and k == 'data' else v}")
    return " ".join(parts)

"""The claim record of a reproduction: the paper's own words, a criterion that can pass as well as fail, and one
of four verdicts (issue 23).

A :class:`ClaimSpec` is declared with its reproduction (``register(..., claims=[...])``), so that it is known
before anything runs and ``wgan reproduce --list`` can print it:

- ``quote`` (the paper's words, verbatim) and ``where`` (section / figure / table as numbered in the texts the
  project follows, see :data:`PAPERS`);
- ``criterion`` (what we test, in words) and ``decide(measured) -> bool`` (the same as a function of the measured
  numbers: exactly what the quote says, no stronger and no weaker);
- ``gate(measured) -> Gate``: the adequacy gate, the measured condition under which this run can decide the claim
  at all (the reference arm trained, enough seeds, ...); ``adequacy`` says it in words;
- ``negative_control()`` / ``positive_control()``: measured-number inputs that must fail / pass ``decide`` (the
  positive one the paper's own reported numbers where it gives any, ``positive_source`` says which), and, for a
  gated claim, ``inadequate_control()``: numbers of a run that cannot decide, which the gate must refuse.

After a run, ``spec.judge(measured, interval=...)`` gives the :class:`Claim`, whose ``status`` is one of

- ``HOLDS`` / ``DOES NOT HOLD``: the gate passed and ``decide`` says so;
- ``INCONCLUSIVE``: the gate failed; the claim carries the measured shortfall and the budget that would reach it;
- ``IDENTITY``: a mathematical identity (closed form, exact solver, analytic bound) evaluated by the library's
  code -- a check of the code, not a reproduced result. One that fails is ``IDENTITY FAILS``: a bug of wgan;
- ``MEASURED``: a descriptive measurement without a verdict.

Claims built directly as ``Claim(...)`` (without a spec) still work; they carry no quote and no gate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

HOLDS, DOES_NOT_HOLD, INCONCLUSIVE = "HOLDS", "DOES NOT HOLD", "INCONCLUSIVE"
IDENTITY, IDENTITY_FAILS, MEASURED = "IDENTITY", "IDENTITY FAILS", "MEASURED"
VERDICTS = (HOLDS, DOES_NOT_HOLD, INCONCLUSIVE, IDENTITY, IDENTITY_FAILS, MEASURED)
Kind = Literal["empirical", "identity", "descriptive"]

# The papers the claims quote: key -> (the paper, its text in the shared papers folder). Sections, figures and
# tables are numbered as these texts number them.
PAPERS: dict[str, tuple[str, str]] = {
    "WGAN-GP": ("Gulrajani et al. 2017, Improved Training of Wasserstein GANs", "000_16ffe2bba73d09db.txt"),
    "WGAN": ("Arjovsky et al. 2017, Wasserstein GAN", "002_8049a02488e81b49.txt"),
    "Many Paths": ("Fedus et al. 2018, Many Paths to Equilibrium", "003_d109b7f09d489690.txt"),
    "Weng": ("Weng 2019, From GAN to WGAN", "004_4b290f888a4cfdec.txt"),
}


@dataclass(frozen=True)
class Gate:
    """Whether a run can decide its claim: ``shortfall`` (measured) and ``budget`` (what would reach it) are
    stated when it cannot."""

    passed: bool
    shortfall: str = ""
    budget: str = ""


def too_few_seeds(measured: Mapping[str, Any], need: int) -> list[str]:
    """The seeds shortfall of a run (``measured["seeds"]`` below ``need``) as a one-item list, else ``[]``: the
    first entry of most gates' shortfall list."""
    have = measured["seeds"]
    return [] if have >= need else [f"{have} seed(s), fewer than {need}"]


def gate_from(shortfalls: list[str], budget: str) -> Gate:
    """The gate whose measured shortfalls are ``shortfalls`` (passed when there are none) and whose ``budget``
    says what would reach it."""
    return Gate(not shortfalls, "; ".join(shortfalls), budget)


def adequate(_measured: Mapping[str, Any]) -> Gate:
    """The gate of a claim every run can decide (an exact computation, or a claim whose measurement is its own
    adequacy); the spec's ``adequacy`` text says why."""
    return Gate(True)


@dataclass(frozen=True)
class Interval:
    """The uncertainty of a claim's statistic: ``low``..``high`` around ``estimate`` by ``method``."""

    statistic: str
    estimate: float
    low: float
    high: float
    method: str


def mean_interval(values: Sequence[float], statistic: str, level: float = 0.95) -> Interval:
    """The mean of ``values`` (one per seed/run) with its Student-t interval at ``level`` (the seeds as i.i.d.
    draws; with one value the interval is unbounded)."""
    from scipy import stats

    x = [float(v) for v in values]
    n = len(x)
    mean = sum(x) / n if n else math.nan
    if n < 2:
        return Interval(statistic, mean, -math.inf, math.inf, f"mean of {n} run(s): too few for an interval")
    sd = math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(statistic, mean, mean - half, mean + half, f"mean of {n} runs, Student-t {level:.0%} interval")


def count_interval(successes: int, n: int, statistic: str, level: float = 0.95) -> Interval:
    """A share ``successes / n`` with its Clopper-Pearson interval at ``level``."""
    from scipy import stats

    r = stats.binomtest(successes, n).proportion_ci(confidence_level=level, method="exact") if n else None
    low, high = (r.low, r.high) if r is not None else (0.0, 1.0)
    return Interval(statistic, successes / n if n else math.nan, float(low), float(high),
                    f"{successes} of {n}, Clopper-Pearson {level:.0%} interval")


@dataclass
class Claim:
    """One claim of a paper and what we measured about it.

    ``holds`` is the verdict of the criterion on ``measured`` (None for a descriptive measurement). ``identity``:
    the claim is a mathematical identity computed by the library's code. ``gate``: the adequacy gate's answer
    (None: the claim has none); ``status`` combines them into the verdict (see the module docstring)."""

    name: str
    statement: str  # what the paper claims, in one sentence of ours
    criterion: str  # the measurable test we apply
    measured: dict[str, Any]
    holds: bool | None
    identity: bool = False
    quote: str = ""  # the paper's own words
    where: str = ""  # e.g. "WGAN-GP sec. 5.1, Table 2"
    gate: Gate | None = None
    interval: Interval | None = None
    ours: bool = False  # a claim of ours beside the paper's (labelled so), not the paper's

    @property
    def kind(self) -> Kind:
        return "identity" if self.identity else ("descriptive" if self.holds is None else "empirical")

    @property
    def status(self) -> str:
        if self.identity:
            return IDENTITY if self.holds else IDENTITY_FAILS
        if self.holds is None:
            return MEASURED
        if self.gate is not None and not self.gate.passed:
            return INCONCLUSIVE
        return HOLDS if self.holds else DOES_NOT_HOLD

    def verdict(self) -> str:
        """The one-line verdict the CLI prints."""
        status = self.status
        mark = f"{status} -- a bug in wgan's code, please report it" if status == IDENTITY_FAILS else status
        nums = ", ".join(f"{k}={_fmt(v)}" for k, v in self.measured.items() if not isinstance(v, (list, dict)))
        line = f"[{mark}] {self.name}{' (ours)' if self.ours else ''}: {self.criterion} -- {nums}"
        if self.interval is not None:
            i = self.interval
            line += f"; {i.statistic} {_fmt(i.estimate)} [{_fmt(i.low)}, {_fmt(i.high)}] ({i.method})"
        if status == INCONCLUSIVE and self.gate is not None:
            line += f"; the run cannot decide: {self.gate.shortfall}; needs {self.gate.budget}"
        return line

    def to_json(self) -> dict[str, Any]:
        """The claim as ``results.json`` stores it: every field, ``kind``, ``verdict`` (the status) and ``line``."""
        return asdict(self) | {"kind": self.kind, "verdict": self.status, "line": self.verdict()}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


Measured = Mapping[str, Any]


@dataclass(frozen=True)
class ClaimSpec:
    """A claim as declared with its reproduction, before anything runs (see the module docstring)."""

    name: str
    paper: str  # a key of PAPERS
    quote: str
    where: str
    criterion: str
    decide: Callable[[Measured], bool] | None = None  # None: a descriptive measurement
    kind: Kind = "empirical"
    gate: Callable[[Measured], Gate] = adequate
    adequacy: str = ""  # the gate in words (or why every run can decide)
    negative_control: Callable[[], dict[str, Any]] | None = None
    positive_control: Callable[[], dict[str, Any]] | None = None
    positive_source: str = ""  # where the positive control's numbers come from ("Table 2", "constructed: ...")
    inadequate_control: Callable[[], dict[str, Any]] | None = None
    statement: str = ""
    ours: bool = False
    trained: bool = False  # decided from trained networks: judge() should be given an interval
    extras: tuple[str, ...] = field(default=())  # labelled measurements reported beside the verdict

    def __post_init__(self) -> None:
        where = f"claim {self.name!r}"
        if self.paper not in PAPERS:
            raise ValueError(f"{where}: paper {self.paper!r} is not one of {', '.join(PAPERS)}")
        if self.kind != "descriptive":
            missing = [k for k in ("quote", "where", "criterion") if not getattr(self, k).strip()
                       and not (k == "quote" and self.ours)]  # a claim of ours has no quote
            if self.decide is None:
                missing.append("decide")
            if self.kind == "empirical":
                missing += [k for k in ("negative_control", "positive_control") if getattr(self, k) is None]
                if not self.adequacy.strip():
                    missing.append("adequacy")
                if self.gate is not adequate and self.inadequate_control is None:
                    missing.append("inadequate_control")
            if missing:
                raise ValueError(f"{where}: a {self.kind} claim needs {', '.join(missing)}")

    def judge(self, measured: Measured, *, interval: Interval | None = None, statement: str = "") -> Claim:
        """The claim with its verdict on ``measured`` (see :attr:`Claim.status`)."""
        measured = dict(measured)
        holds = None if self.decide is None else bool(self.decide(measured))
        gate = self.gate(measured) if self.kind == "empirical" else None
        return Claim(self.name, statement or self.statement, self.criterion, measured, holds,
                     identity=self.kind == "identity", quote=self.quote, where=self.where, gate=gate,
                     interval=interval, ours=self.ours)

    def listing(self) -> str:
        """The claim as ``wgan reproduce --list`` prints it (before anything runs)."""
        ours = " (ours, not the paper's)" if self.ours else ""
        head = f"{self.name}{ours} [{self.kind}]"
        lines = [head]
        words = self.quote.split()
        first = " ".join(words[:12]) + (" ..." if len(words) > 12 else "")
        lines.append(f'{self.paper}, {self.where}' + (f': "{first}"' if self.quote else ""))
        return "\n".join(lines)


CLAIMS_BEGIN = "<!-- claims (generated from the registered claims: python -m wgan.experiments docs/reproductions) -->"
CLAIMS_END = "<!-- end claims -->"


def claims_markdown(specs: Sequence[ClaimSpec]) -> str:
    """The claims of a reproduction as its page shows them: quote, where, criterion, adequacy gate, controls."""
    out = ["These are the claims as `wgan reproduce` now judges them (issue 23: the paper's words, a criterion with "
           "negative and positive controls, an adequacy gate). Runs described elsewhere on this page were judged by "
           "the criteria of their time; the verdict table (docs/reproductions.md) shows only runs published under "
           "these.", ""]
    for s in specs:
        head = f"- **{s.name}** ({s.kind}{', ours: not a claim of the paper' if s.ours else ''})"
        if s.quote:
            head += f": “{s.quote}” ({PAPERS[s.paper][0]}, {s.where})"
        out.append(head)
        out.append(f"  - criterion: {s.criterion}")
        if s.kind == "empirical":
            out.append(f"  - adequacy gate: {s.adequacy}")
            out.append(f"  - positive control: {s.positive_source}")
    return "\n".join(out)


def normalise(text: str) -> str:
    """``text`` with every run of whitespace made one space (for comparing a quote with a paper's text)."""
    return re.sub(r"\s+", " ", text).strip()


def quote_found(spec: ClaimSpec, papers: Path) -> bool:
    """Whether the spec's quote occurs verbatim (whitespace-normalised) in the text of the paper it cites."""
    text = (papers / PAPERS[spec.paper][1]).read_text(encoding="utf-8")
    return normalise(spec.quote) in normalise(text)

"""The protocol table of a reproduction: one row per setting, the paper's (or its official code's) value with
where it says so, ours, and why they differ.

Every registered reproduction declares its table with ``register(..., table=fn)``, ``fn(ctx) -> list[Row]``: a
function of the run's :class:`~wgan.experiments.Context` only (the setting, not the measurements), so the table
is known before the run, printed by ``wgan reproduce NAME --protocol``, written into ``results.json`` as
``protocol.table`` and rendered on the reproduction's page in ``docs/reproductions/`` (between the markers
below; ``python -m wgan.experiments docs/reproductions`` rewrites them, a test checks they are current).

Sources are cited as a paper section ("WGAN-GP sec. 4, Algorithm 1") or a file and line of the official code
("improved_wgan_training/gan_toy.py:23" for github.com/igul222/improved_wgan_training, "WassersteinGAN/main.py:176"
for github.com/martinarjovsky/WassersteinGAN).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# The settings every table names, in this order (more rows may follow). The discriminator-update row is
# ``n_critic`` (its schedule included).
SETTINGS: tuple[str, ...] = ("data", "nets", "init", "objective", "optimiser", "lr", "betas", "n_critic", "batch",
                             "steps", "seeds", "eval_mode", "statistic", "criterion")
KEYS = ("setting", "paper", "source", "ours", "why")
NO_TRAINING = "no training: an exact computation"

BEGIN = "<!-- protocol table (generated from the registered table: python -m wgan.experiments docs/reproductions) -->"
END = "<!-- end protocol table -->"


@dataclass(frozen=True)
class Row:
    """One setting: the paper's value, where the paper or its code says so, ours, why they differ ("" = same)."""

    setting: str
    paper: str
    source: str
    ours: str
    why: str = ""


def not_applicable(*settings: str, why: str = NO_TRAINING) -> list[Row]:
    """Rows for settings that do not apply to a reproduction (e.g. the optimiser of an exact computation)."""
    return [Row(s, "n/a", "", "n/a", why) for s in settings]


def check_table(rows: Iterable[Row], name: str = "") -> list[dict[str, str]]:
    """The rows as dicts, after checking each is complete and every setting of :data:`SETTINGS` is there.

    Raises ValueError naming what is missing (a reproduction's table is code: a gap is a bug, not user input)."""
    out = []
    for r in rows:
        if not isinstance(r, Row):
            raise ValueError(f"{name}: protocol table rows must be Row objects, got {type(r).__name__}")
        d = asdict(r)
        empty = [k for k in ("setting", "paper", "ours") if not str(d[k]).strip()]
        if empty:
            raise ValueError(f"{name}: protocol row {r.setting!r} has empty {', '.join(empty)}")
        out.append({k: str(d[k]) for k in KEYS})
    have = [d["setting"] for d in out]
    missing = [s for s in SETTINGS if s not in have]
    if missing:
        raise ValueError(f"{name}: protocol table lacks the settings {', '.join(missing)}")
    dup = sorted({s for s in have if have.count(s) > 1})
    if dup:
        raise ValueError(f"{name}: protocol table names {', '.join(dup)} more than once")
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def table_markdown(rows: list[dict[str, Any]]) -> str:
    """The table as markdown: setting | paper / official code | source | ours | why."""
    lines = ["| setting | paper / official code | source | ours | why they differ |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append("| " + " | ".join(_cell(str(r[k])) for k in KEYS) + " |")
    return "\n".join(lines)


def page_block(rows: list[dict[str, Any]]) -> str:
    return f"{BEGIN}\n{table_markdown(rows)}\n{END}"


def sync_page(path: Path, rows: list[dict[str, Any]]) -> bool:
    """Write the table into the page at ``path`` (replacing the marked block, or appending a "Protocol" section);
    returns whether the file changed."""
    return sync_block(path, BEGIN, END, table_markdown(rows),
                      "**Protocol.** Each setting against the paper and the official code:")


def sync_block(path: Path, begin: str, end: str, body: str, heading: str) -> bool:
    """Write ``body`` between the markers ``begin`` and ``end`` of the page at ``path`` (appending ``heading`` and
    the marked block when the page has none); returns whether the file changed."""
    text = path.read_text(encoding="utf-8")
    block = f"{begin}\n{body}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        new = pattern.sub(lambda _: block, text)
    else:
        new = text.rstrip("\n") + f"\n\n{heading}\n\n" + block + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def marked_block(path: Path, begin: str, end: str) -> str | None:
    """The block of the page at ``path`` between ``begin`` and ``end`` (markers included), or None."""
    m = re.search(re.escape(begin) + r".*?" + re.escape(end), path.read_text(encoding="utf-8"), re.S)
    return m.group(0) if m else None


def page_table(path: Path) -> str | None:
    """The marked protocol block of a page, or None."""
    return marked_block(path, BEGIN, END)

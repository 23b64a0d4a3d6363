"""A study's aggregate: one CSV row per run, one markdown row per point (mean and std over its seeds), one
figure of the lead metric per point.

* ``study.csv``: ``name, label, seed, status, wall_s``, one column per overridden setting, then every numeric
  top-level figure of the run's ``summary.json`` (a failed run leaves its figures empty).
* ``study.md``: per point: runs finished / in all (a run not run yet has status ``todo``), then ``mean ± std``
  (sample std, n - 1) of each figure over the point's finished runs; the lead metric (the spec's ``metric``, else
  the first figure) first.
* ``study.png``: the lead metric per point, each seed a dot, the mean a bar.

``study.md`` ends with the points the spec's ``[[refuse]]`` rules left out, each with its reason, and the failed
runs with their errors.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..io import atomic_write
from .spec import RunSpec, Study

SKIP = ("steps", "train_time_s", "wall_time_s")  # bookkeeping, still in the CSV


def figures(summary: dict[str, Any] | None) -> dict[str, float]:
    """The numeric top-level figures of a summary (booleans and nested protocol dicts left out)."""
    if not summary:
        return {}
    return {k: float(v) for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def point_table(runs: list[RunSpec], results: list[Any]) -> tuple[list[str], dict[str, dict[str, list[float]]]]:
    """``(metric names, {point label: {metric: [value per finished run]}})`` in the spec's order."""
    names: list[str] = []
    table: dict[str, dict[str, list[float]]] = {}
    for run, res in zip(runs, results, strict=True):
        row = table.setdefault(run.label, defaultdict(list))
        for k, v in figures(res.summary if res.status != "failed" else None).items():
            if k not in names:
                names.append(k)
            row[k].append(v)
    return names, table


def _mean_std(values: list[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return float("nan"), float("nan")
    m = sum(finite) / len(finite)
    s = math.sqrt(sum((v - m) ** 2 for v in finite) / (len(finite) - 1)) if len(finite) > 1 else 0.0
    return m, s


def _write_text(path: Path, text: str) -> None:
    data = text.encode()
    atomic_write(path, lambda f: f.write(data))


def aggregate(study: Study, runs: list[RunSpec], results: list[Any], out: Path) -> dict[str, str]:
    """Write ``study.csv``, ``study.md`` and ``study.png`` into ``out``; returns their paths by kind."""
    keys = sorted({k for r in runs for k, _ in r.overrides})
    metric_names: list[str] = []
    for res in results:
        for k in figures(res.summary):
            if k not in metric_names:
                metric_names.append(k)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["name", "label", "seed", "status", "wall_s", *keys, *metric_names])
    for run, res in zip(runs, results, strict=True):
        ov = dict(run.overrides)
        fig = figures(res.summary) if res.status != "failed" else {}
        w.writerow([run.name, run.label, run.seed, res.status, f"{res.wall_s:.3f}", *[ov.get(k, "") for k in keys],
                    *[repr(fig[m]) if m in fig else "" for m in metric_names]])
    _write_text(out / "study.csv", buf.getvalue())

    names, table = point_table(runs, results)
    lead = study.metric if study.metric in names else next((n for n in names if n not in SKIP), None)
    shown = ([lead] if lead else []) + [n for n in names if n != lead and n not in SKIP]
    n_runs: dict[str, int] = defaultdict(int)
    n_ok: dict[str, int] = defaultdict(int)
    for run, res in zip(runs, results, strict=True):
        n_runs[run.label] += 1
        n_ok[run.label] += res.status not in ("failed", "todo")
    lines = [f"# Study {study.name}", "", f"{len(runs)} runs ({len(study.seeds)} seed(s) per point); figures: mean ± "
             "std over a point's finished runs (summary.json of each run).", "",
             "| point | runs ok | " + " | ".join(shown) + " |", "|---|---|" + "---|" * len(shown)]
    for label, row in table.items():
        cells = []
        for n in shown:
            m, s = _mean_std(row.get(n, []))
            cells.append("" if math.isnan(m) else f"{m:.4g} ± {s:.2g}")
        lines.append(f"| {label} | {n_ok[label]}/{n_runs[label]} | " + " | ".join(cells) + " |")
    if study.refused:
        lines += ["", "Refused combinations (not run; the spec's [[refuse]] rules):", ""]
        lines += [f"- {r.label}: {r.reason}" for r in study.refused]
    failed = [(run, res) for run, res in zip(runs, results, strict=True) if res.status == "failed"]
    if failed:
        lines += ["", "Failed runs:", ""] + [f"- {run.name}: {res.error}" for run, res in failed]
    _write_text(out / "study.md", "\n".join(lines) + "\n")
    files = {"csv": str(out / "study.csv"), "markdown": str(out / "study.md")}
    if lead:
        _plot(table, lead, out / "study.png", study.name)
        files["figure"] = str(out / "study.png")
    return files


def _plot(table: dict[str, dict[str, list[float]]], metric: str, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(table)
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.28 * len(labels) + 1)))
    for i, label in enumerate(labels):
        vals = [v for v in table[label].get(metric, []) if math.isfinite(v)]
        if vals:
            ax.barh(i, sum(vals) / len(vals), color="tab:blue", alpha=0.35)
            ax.plot(vals, [i] * len(vals), "o", color="tab:blue", ms=3)
    ax.set_yticks(range(len(labels)), [lb if len(lb) <= 48 else lb[:45] + "..." for lb in labels], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(metric)
    ax.set_title(f"{title}: {metric} per point (dots: seeds)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    data = buf.getvalue()
    atomic_write(path, lambda f: f.write(data))


__all__ = ["aggregate", "figures", "point_table"]

"""The constraint study's table and figure (docs/constraint-study.md), made from the study's own aggregate.

    wgan study configs/studies/constraints.toml --workers 1
    python benchmarks/constraint_study_report.py studies/constraints [--doc docs/constraint-study.md]
        [--figure docs/figures/constraint-study.png] [--time-log LOG]

Reads ``STUDY/study.csv`` (one row per run: its status and every figure of its ``summary.json``, written by
``wgan study``), ``STUDY/study.json`` (the refused points and their reasons) and, for a failed run, the last line
of ``STUDY/runs/NAME/error.txt``. Per cell (constraint x loss x data): the runs finished of those asked for, and
the mean of each figure over the finished seeds with its Student-t 95% interval. Each cell's failure modes are
named by the fixed rules below (thresholds chosen before the study's results were read), from the cell's means.
The markdown replaces the text between the two GENERATED markers of ``--doc``; without ``--doc`` it is printed.
``--time-log``: a log holding ``/usr/bin/time -f "NAME user %U s sys %S s wall %e s"`` lines of the study's
commands; their CPU and wall seconds go into the generated text.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
from scipy import stats

CONSTRAINTS = {"clip": "weight clipping (c 0.01)", "gp": "gradient penalty (two-sided, lambda 10)",
               "lp": "one-sided penalty (lambda 10)", "sn": "spectral norm", "r1": "R1 (gamma 10)"}
LOSSES = {"wasserstein": "Wasserstein", "ns": "non-saturating", "hinge": "hinge"}
TOYS = {"8gaussians": ("8 Gaussians", 8), "25gaussians": ("25 Gaussians", 25)}
DIGITS = "digits"
FID, FID_VAL = "fid500_classifier", "fid500_classifier_val"
PR = "prdc500_5nn_classifier"

# Failure-mode rules, on a cell's means over its finished seeds (fixed before the study's results were read, but
# for one correction after the first runs: "collapse" first meant at most 1.5 modes covered whatever the recall, which
# named diffuse clouds with recall 1.0 and no mode covered a collapse; toy_failures now reads precision and recall
# first, docs/constraint-study.md says so):
CONVERGED = 1.5  # W1 within 1.5x its data-vs-data floor: the criterion the `wgan train` demo was chosen by
MODES_KEPT = 0.9  # fewer than 90% of the mixture's modes covered: mode dropping
COLLAPSE = 1.5  # at most one mode covered on average: collapse onto a mode
LOW = 0.5  # precision (recall) below 0.5: half the samples off the data (half the data not reached)
SEED_SPREAD = 3.0  # the seeds' largest W1/floor over the smallest above 3: the outcome depends on the seed
FID_FAR = 10.0  # digits: FID above 10x the held-out images' FID against the same reference
RELATIVE = 0.5  # digits: precision (recall) below half the held-out images' own


def mean_ci(values: list[float]) -> tuple[float, float, float]:
    """Mean and its Student-t 95% interval (the seeds as i.i.d. draws); NaN when there are none."""
    x = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if x.size < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.975, x.size - 1)) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return m, m - half, m + half


def fmt(v: float, digits: int = 3) -> str:
    return "–" if not math.isfinite(v) else f"{v:.{digits}g}"


def cell_text(values: list[float], digits: int = 3) -> str:
    m, lo, hi = mean_ci(values)
    if not math.isfinite(m):
        return "–"
    return fmt(m, digits) + (f" [{fmt(lo, digits)}, {fmt(hi, digits)}]" if math.isfinite(lo) else "")


def _num(row: dict[str, str], key: str) -> float:
    v = row.get(key, "")
    try:
        return float(v)
    except ValueError:
        return math.nan


def load(study: Path) -> tuple[dict[tuple[str, str, str], list[dict[str, str]]], list[dict], dict[str, str]]:
    """(rows per cell, refused points, error line per failed run)."""
    cells: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    with (study / "study.csv").open() as f:
        for row in csv.DictReader(f):
            c, lo, d = row["label"].split(",")
            cells.setdefault((c, lo, d), []).append(row)
    refused = json.loads((study / "study.json").read_text()).get("refused", [])
    errors = {}
    for rows in cells.values():
        for r in rows:
            path = study / "runs" / r["name"] / "error.txt"
            if r["status"] == "failed" and path.is_file():
                lines = [x for x in path.read_text().splitlines() if x.strip()]
                errors[r["name"]] = lines[-1] if lines else "failed"
    return cells, refused, errors


FINISHED = ("done", "resumed", "skipped")  # statuses of study.csv with figures; "failed" and "todo" have none


def finished(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in rows if r["status"] in FINISHED]


def _not_run(rows: list[dict[str, str]]) -> str:
    todo = sum(r["status"] == "todo" for r in rows)
    return f"{todo} of {len(rows)} seeds not run yet" if todo else ""


def toy_failures(rows: list[dict[str, str]], n_modes: int) -> str:
    ok = finished(rows)
    names = []
    bad = [r for r in ok if not math.isfinite(_num(r, "w1_over_floor"))]
    failed = sum(r["status"] == "failed" for r in rows) + len(bad)
    if failed:
        names.append(f"diverged in {failed} of {len(ok) + failed} seeds")
    ratios = [v for v in (_num(r, "w1_over_floor") for r in ok) if math.isfinite(v)]
    if not ratios:
        return "; ".join(x for x in (*names, _not_run(rows)) if x) or "no finished run"
    w1 = float(np.mean(ratios))
    modes = float(np.mean([_num(r, "modes_covered") for r in ok]))
    prec = float(np.mean([_num(r, "precision") for r in ok]))
    rec = float(np.mean([_num(r, "recall") for r in ok]))
    # precision and recall first, the mode count beside them: a generator that covers no mode can have collapsed
    # (on the data, little of it reached), be a diffuse cloud (much of the data reached, few samples on it) or be
    # off the data altogether
    if prec < LOW and rec < LOW:
        names.append(f"off the data (precision {prec:.2f}, recall {rec:.2f})")
    elif prec < LOW:
        names.append(f"diffuse: samples spread over and between the modes (precision {prec:.2f}, recall {rec:.2f})")
    elif rec < LOW:
        names.append(f"collapse onto one mode (modes {modes:.2g}/{n_modes}, recall {rec:.2f})" if modes <= COLLAPSE
                     else f"mode dropping (modes {modes:.3g}/{n_modes}, recall {rec:.2f})")
    elif modes < MODES_KEPT * n_modes:
        names.append(f"mode dropping (modes {modes:.3g}/{n_modes})")
    if len(ratios) > 1 and min(ratios) > 0 and max(ratios) / min(ratios) > SEED_SPREAD:
        names.append(f"seed-dependent (W1/floor {min(ratios):.3g} to {max(ratios):.3g})")
    if not names:
        names.append(f"none: within {CONVERGED}x floor" if w1 <= CONVERGED else
                     f"no named failure, not converged ({w1:.3g}x floor)")
    elif w1 <= CONVERGED:
        names.append(f"yet within {CONVERGED}x floor")
    return "; ".join(x for x in (*names, _not_run(rows)) if x)


def digit_failures(rows: list[dict[str, str]]) -> str:
    ok = finished(rows)
    names = []
    bad = [r for r in ok if not math.isfinite(_num(r, FID))]
    failed = sum(r["status"] == "failed" for r in rows) + len(bad)
    if failed:
        names.append(f"diverged in {failed} of {len(ok) + failed} seeds")
    good = [r for r in ok if math.isfinite(_num(r, FID))]
    if not good:
        return "; ".join(x for x in (*names, _not_run(rows)) if x) or "no finished run"
    fid = float(np.mean([_num(r, FID) for r in good]))
    fid_val = float(np.mean([_num(r, FID_VAL) for r in good]))
    prec = float(np.mean([_num(r, f"{PR}_precision") for r in good]))
    rec = float(np.mean([_num(r, f"{PR}_recall") for r in good]))
    prec_val = float(np.mean([_num(r, f"{PR}_val_precision") for r in good]))
    rec_val = float(np.mean([_num(r, f"{PR}_val_recall") for r in good]))
    if fid > FID_FAR * fid_val:
        names.append(f"far from the data (FID {fid:.3g}, {fid / fid_val:.3g}x held-out)")
    if prec < RELATIVE * prec_val:
        names.append(f"low fidelity (precision {prec:.2f}, held-out {prec_val:.2f})")
    if rec < RELATIVE * rec_val:
        names.append(f"low diversity (recall {rec:.2f}, held-out {rec_val:.2f})")
    if not names:
        names.append("none by these rules")
    return "; ".join(x for x in (*names, _not_run(rows)) if x)


def _refused_reason(refused: list[dict], c: str, lo: str, d: str) -> str | None:
    for r in refused:
        if r["label"] == f"{c},{lo},{d}":
            return r["reason"]
    return None


def tables(study: Path, time_log: Path | None = None) -> str:
    cells, refused, errors = load(study)
    rows_all = [r for rows in cells.values() for r in rows]
    out = [f"Generated by `python benchmarks/constraint_study_report.py {study}` from `{study}/study.csv` "
           f"({len(rows_all)} runs: {len(finished(rows_all))} finished, "
           f"{sum(r['status'] == 'failed' for r in rows_all)} failed, {sum(r['status'] == 'todo' for r in rows_all)} "
           f"not run yet; {len(refused)} point(s) refused). "
           "Each figure: mean over the cell's finished seeds [Student-t 95% interval].", ""]
    reasons = {r["reason"] for r in refused}
    for d, (name, n_modes) in TOYS.items():
        out += [f"### {name} (W1 exact on 2,000 points, `w1_exact_2k`; precision/recall `prdc2k_5nn_coords`)", "",
                f"| constraint | loss | runs | W1 / floor | modes covered (of {n_modes}) | precision | recall | "
                "failure modes (named by the rules below) |", "|---|---|---|---|---|---|---|---|"]
        for c in CONSTRAINTS:
            for lo in LOSSES:
                reason = _refused_reason(refused, c, lo, d)
                if reason is not None:
                    out.append(f"| {c} | {LOSSES[lo]} | refused | | | | | refused: see below |")
                    continue
                rows = cells.get((c, lo, d), [])
                ok = finished(rows)
                out.append(f"| {c} | {LOSSES[lo]} | {len(ok)}/{len(rows)} | "
                           f"{cell_text([_num(r, 'w1_over_floor') for r in ok])} | "
                           f"{cell_text([_num(r, 'modes_covered') for r in ok])} | "
                           f"{cell_text([_num(r, 'precision') for r in ok], 2)} | "
                           f"{cell_text([_num(r, 'recall') for r in ok], 2)} | "
                           f"{toy_failures(rows, n_modes) if rows else 'not run yet'} |")
        floors = [_num(r, "w1_floor") for rows in cells.values() for r in finished(rows) if r["label"].endswith(d)]
        out += ["", f"Floor (W1 between two independent 2,000-point data samples): {cell_text(floors, 3)} over the "
                "runs' seeds.", ""]
    out += ["### Digits (8x8, classifier FID on 500 images `fid500_classifier`; precision/recall "
            "`prdc500_5nn_classifier`)", "",
            "| constraint | loss | runs | FID | precision | recall | failure modes (named by the rules below) |",
            "|---|---|---|---|---|---|---|"]
    for c in CONSTRAINTS:
        for lo in LOSSES:
            if _refused_reason(refused, c, lo, DIGITS) is not None:
                out.append(f"| {c} | {LOSSES[lo]} | refused | | | | refused: see below |")
                continue
            rows = cells.get((c, lo, DIGITS), [])
            ok = finished(rows)
            out.append(f"| {c} | {LOSSES[lo]} | {len(ok)}/{len(rows)} | {cell_text([_num(r, FID) for r in ok])} | "
                       f"{cell_text([_num(r, f'{PR}_precision') for r in ok], 2)} | "
                       f"{cell_text([_num(r, f'{PR}_recall') for r in ok], 2)} | "
                       f"{digit_failures(rows) if rows else 'not run yet'} |")
    dig = [r for rows in cells.values() for r in finished(rows) if r["label"].endswith(DIGITS)]
    out += ["", f"Held-out digits against the same reference (the data's own level): FID "
            f"{cell_text([_num(r, FID_VAL) for r in dig])}, precision "
            f"{cell_text([_num(r, f'{PR}_val_precision') for r in dig], 2)}, recall "
            f"{cell_text([_num(r, f'{PR}_val_recall') for r in dig], 2)}.", ""]
    out += ["Refused (not run), with the spec's reason:", ""]
    out += [f"- {', '.join(r['label'] for r in refused if r['reason'] == reason)}: {reason}" for reason in reasons]
    if errors:
        out += ["", "Failed runs:", ""] + [f"- {name}: {line}" for name, line in sorted(errors.items())]
    run_s = sum(_num(r, "wall_time_s") for r in finished(rows_all) if math.isfinite(_num(r, "wall_time_s")))
    train_s = sum(_num(r, "train_time_s") for r in finished(rows_all) if math.isfinite(_num(r, "train_time_s")))
    out += ["", f"Time: the finished runs' own wall times (`wall_time_s` of their summaries) add up to {run_s:,.0f} s "
            f"(their training loops {train_s:,.0f} s of it; the rest evaluation, pictures and the digit classifier)"
            + (";" if time_log else ".")]
    if time_log is not None:
        total_cpu = total_wall = 0.0
        for m in re.finditer(r"(\S+) user ([\d.]+) s sys ([\d.]+) s wall ([\d.]+) s", time_log.read_text()):
            cpu = float(m.group(2)) + float(m.group(3))
            total_cpu += cpu
            total_wall += float(m.group(4))
            wall = float(m.group(4))
            out.append(f"  `{m.group(1)}`: {cpu:,.0f} s of CPU (user + sys) in {wall:,.0f} s of wall time;")
        out.append(f"  in all {total_cpu:,.0f} s of CPU in {total_wall:,.0f} s of wall time (`/usr/bin/time`).")
    return "\n".join(out) + "\n"


def figure(study: Path, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    cells, refused, _ = load(study)
    panels = [(d, name, "w1_over_floor", "W1 / floor") for d, (name, _) in TOYS.items()]
    panels.append((DIGITS, "digits", FID, "classifier FID"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 5.2))
    for ax, (d, name, key, what) in zip(axes, panels, strict=True):
        grid = np.full((len(CONSTRAINTS), len(LOSSES)), np.nan)
        for i, c in enumerate(CONSTRAINTS):
            for j, lo in enumerate(LOSSES):
                vals = [_num(r, key) for r in finished(cells.get((c, lo, d), []))]
                vals = [v for v in vals if math.isfinite(v)]
                if vals:
                    grid[i, j] = np.mean(vals)
        finite = grid[np.isfinite(grid)]
        norm = LogNorm(vmin=max(finite.min(), 1e-3), vmax=max(finite.max(), finite.min() * 1.01)) if finite.size \
            else None
        im = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis_r", norm=norm, aspect="auto")
        if norm is not None:
            fig.colorbar(im, ax=ax, shrink=0.8).set_label(f"{what} (log scale; lower is better)", fontsize=8)
        for i, c in enumerate(CONSTRAINTS):
            for j, lo in enumerate(LOSSES):
                rows = finished(cells.get((c, lo, d), []))
                if _refused_reason(refused, c, lo, d) is not None:
                    ax.text(j, i, "refused", ha="center", va="center", fontsize=8, color="black")
                    continue
                if not rows:
                    ax.text(j, i, "–", ha="center", va="center", fontsize=8)
                    continue
                if d == DIGITS:
                    extra = f"P {np.mean([_num(r, f'{PR}_precision') for r in rows]):.2f}\n" \
                            f"R {np.mean([_num(r, f'{PR}_recall') for r in rows]):.2f}"
                else:
                    extra = f"modes {np.mean([_num(r, 'modes_covered') for r in rows]):.3g}\n" \
                            f"P {np.mean([_num(r, 'precision') for r in rows]):.2f}\n" \
                            f"R {np.mean([_num(r, 'recall') for r in rows]):.2f}"
                v = grid[i, j]
                n = f" ({len(rows)} seed{'s' if len(rows) > 1 else ''})"
                ax.text(j, i, f"{fmt(v)}{n}\n{extra}", ha="center", va="center", fontsize=6.5,
                        color="white" if norm is not None and math.isfinite(v) and norm(v) > 0.6 else "black")
        ax.set_xticks(range(len(LOSSES)), ["Wasserstein", "non-\nsaturating", "hinge"], fontsize=8)
        ax.set_yticks(range(len(CONSTRAINTS)), list(CONSTRAINTS), fontsize=8)
        ax.set_title(f"{name}: {what}\n(mean over the finished seeds; P/R precision/recall)", fontsize=9)
    fig.suptitle("Critic constraint x loss (configs/studies/constraints.toml)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


BEGIN, END = "<!-- BEGIN GENERATED: benchmarks/constraint_study_report.py -->", "<!-- END GENERATED -->"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study", type=Path, help="the study folder (studies/constraints)")
    ap.add_argument("--doc", type=Path, help="markdown file whose GENERATED section is replaced")
    ap.add_argument("--figure", type=Path, help="PNG to write (docs/figures/constraint-study.png)")
    ap.add_argument("--time-log", type=Path, help="log with the study commands' /usr/bin/time -f lines")
    args = ap.parse_args(argv)
    text = tables(args.study, args.time_log)
    if args.doc is None:
        sys.stdout.write(text)
    else:
        doc = args.doc.read_text()
        if BEGIN not in doc or END not in doc:
            raise SystemExit(f"{args.doc} has no {BEGIN} ... {END} section to replace")
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        args.doc.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")
        print(f"wrote the table into {args.doc}")
    if args.figure is not None:
        figure(args.study, args.figure)
        print(f"wrote {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How well `--estimate` predicts a finished study reproduction's run times.

    python benchmarks/estimate_accuracy.py random-architectures --out /tmp/full/random-architectures --n 40

Estimates every run of the study as if none had trained (into an empty scratch folder, so all are "todo"),
then reads each finished run's ``summary.json`` (``wall_time_s``) from ``OUT/study/runs`` and prints the total
and per-run ratios actual / estimate. On the CPU the estimate is CPU time and ``summary.json`` keeps wall time:
runs that trained beside more processes than the machine has cores waited for them, so the ratio is the estimate's
error and that waiting together (compare runs trained at one worker per core on an otherwise idle machine).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from wgan.experiments import Context, get
from wgan.io import read_json
from wgan.studies.estimate import estimate_study


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", help="a study reproduction: random-architectures or architecture-zoo")
    ap.add_argument("--out", required=True, help="the reproduction's --out, holding the finished runs")
    ap.add_argument("--n", type=int, default=None, help="the reproduction's --n")
    args = ap.parse_args()
    exp = get(args.name)
    with tempfile.TemporaryDirectory() as scratch:
        study, _ = exp.study(Context(out=Path(scratch), n=args.n))
        t0 = time.perf_counter()
        estimates = estimate_study(study, Path(scratch) / "study")
        took = time.perf_counter() - t0
    runs = Path(args.out) / "study" / "runs"
    pairs = []
    for e in estimates:
        summary = runs / e.name / "summary.json"
        if summary.is_file():
            pairs.append((e.seconds, float(read_json(summary)["wall_time_s"])))
    if not pairs:
        raise SystemExit(f"no finished run of this study in {runs}")
    est, act = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    ratios = [a / e for e, a in pairs]
    print(f"{len(pairs)} finished runs of {len(estimates)}; estimating took {took:.1f} s")
    print(f"estimated {est:,.0f} s, actual {act:,.0f} s: actual / estimate {act / est:.2f} in all; per run median "
          f"{statistics.median(ratios):.2f}, {min(ratios):.2f}-{max(ratios):.2f}")


if __name__ == "__main__":
    main()

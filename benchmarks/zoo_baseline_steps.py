"""How far the architecture-zoo's DCGAN baseline row trains with more generator steps (or a wider DIM) at the cpu
budget's 16x16: the study's own run of that row under one method, seed 0, scored every EVERY steps.

    OMP_NUM_THREADS=1 python benchmarks/zoo_baseline_steps.py wgan-gp 15000 3000 8
    OMP_NUM_THREADS=1 python benchmarks/zoo_baseline_steps.py dcgan 20000 2000 8
    OMP_NUM_THREADS=1 python benchmarks/zoo_baseline_steps.py dcgan 6000 1000 32

METHOD STEPS EVERY DIM [OUT]: the run goes to OUT/zoo-steps-METHOD-wDIM-STEPS (default OUT /tmp/wgan-zoo-steps), the
score classifier to OUT/classifier.pt (trained as the reproduction trains it); the scores are printed at the end
(and are in the run's metrics.jsonl as eval/is1k_classifier). The gate of both zoo claims needs the baseline at
0.7 of the way from the untrained generator's score to real images' (docs/reproductions/architecture-zoo.md).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from wgan.config import Config
from wgan.experiments import Context
from wgan.experiments._architectures import metric_key, reference_scores, setting, study_sets, train_score_classifier
from wgan.experiments.architecture_zoo import ZOO_METHODS, zoo_point
from wgan.io import read_jsonl
from wgan.nets.space import ZOO
from wgan.studies import Study, run_study


def main() -> int:
    if len(sys.argv) not in (5, 6) or sys.argv[1] not in ZOO_METHODS:
        print(f"usage: zoo_baseline_steps.py METHOD STEPS EVERY DIM [OUT]  (METHOD: {', '.join(ZOO_METHODS)})",
              file=sys.stderr)
        return 2
    method, steps, every, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    out = Path(sys.argv[5] if len(sys.argv) == 6 else "/tmp/wgan-zoo-steps")
    s = replace(setting(Context(out=out), "zoo"), zoo_width=width)
    clf, _ = train_score_classifier(s, out)
    refs = reference_scores(s, clf)
    sets = study_sets(s, clf, "cpu") | {"train.steps": steps, "train.eval_every": every, "train.log_every": every,
                                         "train.sample_every": every, "train.checkpoint_every": every}
    study = Study("zoo-steps", [zoo_point(ZOO["baseline"], method, s)], [0], Config(), sets, metric_key(s))
    where = out / f"zoo-steps-{method}-w{width}-{steps}"
    run_study(study, where, workers=1)
    print(f"untrained generator {refs['untrained_generator']:.3f}, real images {refs['real']:.3f}")
    for r in read_jsonl(next((where / "runs").iterdir()) / "metrics.jsonl"):
        if f"eval/{metric_key(s)}" in r:
            print(f"step {r['step']}: {r[f'eval/{metric_key(s)}']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

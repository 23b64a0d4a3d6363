"""Studies: many independent runs from one spec (a grid or a random sample of configs x seeds), each an
ordinary run directory, on a local process pool or a Ray cluster; finished runs are skipped, interrupted
ones resumed, and all are aggregated into one table and figure. ``wgan study SPEC.toml``; docs/studies.md.

* :mod:`wgan.studies.spec`: the spec format and its expansion into runs;
* :mod:`wgan.studies.runner`: the backends and the skip/resume rules;
* :mod:`wgan.studies.aggregate`: ``study.csv``, ``study.md``, ``study.png``;
* :mod:`wgan.studies.estimate`: each run's training time from a few timed steps (``--estimate``).
"""

from .aggregate import aggregate, figures, point_table
from .runner import BACKENDS, RunResult, StudyReport, run_study, run_task
from .spec import Refused, RunSpec, Study, expand_points, load_spec

__all__ = ["BACKENDS", "Refused", "RunResult", "RunSpec", "Study", "StudyReport", "aggregate", "expand_points",
           "figures", "load_spec", "point_table", "run_study", "run_task"]

"""Whether a loss curve tracks sample quality: the measure of ``loss-curves`` (WGAN sec. 4.3, Figs. 4-5), shared
with ``failed-run-loss`` (Fig. 4's failed run) so that both judge tracking by the same test.

Curves are measured at evenly spaced steps, step 0 first: the critic's estimate (-critic loss, or the JS lower
bound) against the exact W1 of the samples at the same steps.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

ALPHA = 0.05  # the one-sided test's level


def _spearman(x: list[float], y: list[float]) -> float:
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def after_drop(values: list[float]) -> list[float]:
    """The second half of a curve measured at evenly spaced steps (step 0 first): the part after the initial
    drop, where two decreasing curves no longer correlate just because both fall."""
    return values[len(values) // 2:]


def spearman_after_drop(estimate: list[float], w1: list[float]) -> float:
    return _spearman(after_drop(estimate), after_drop(w1))


def spearman_p(estimate: list[float], w1: list[float]) -> float:
    """One-sided p-value of a positive Spearman correlation between a run's estimate and its exact W1 (1 when a
    curve is flat or too short)."""
    if len(estimate) < 3 or np.std(estimate) == 0 or np.std(w1) == 0:
        return 1.0
    return float(spearmanr(estimate, w1, alternative="greater").pvalue)

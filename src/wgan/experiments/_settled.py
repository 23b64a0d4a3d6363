"""Whether a trained critic's value has settled (the "trained to optimality" gates of ``optimal-critic`` and
``value-surfaces``).

A relative change ``|last - before| / |last|`` says nothing when the value itself is near 0 (a saturated
discriminator's log loss, a clipped critic's tiny dual value): a change of 1e-5 on a value of 1e-5 is "100%".
So a value counts as settled when EITHER its relative change is below :data:`SETTLED_SHARE` OR its absolute change
is below ``eps`` = :data:`SETTLED_SHARE` of the distance the value travelled during training (max - min of its
recorded curve: the means of the tenths of training, or the measurements at the checkpoints): the last stretch
moved it by less than 1% of the way it came. The curve starts at the first tenth / checkpoint, not at the
initial value: a weight-clipped critic's first loss is that of its unclipped initial weights, orders of magnitude
off the clipped scale. Both parts were fixed from the quantity's meaning before looking at any verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SETTLED_SHARE = 0.01


@dataclass(frozen=True)
class Settling:
    """One value's last change: ``change`` (absolute), ``relative`` (over |last|), ``eps`` (the absolute bar)."""

    change: float
    relative: float
    eps: float
    last: float

    @property
    def over(self) -> float:
        """The change over what is allowed, ``|change| / max(eps, SETTLED_SHARE |last|)``: below 1 = settled."""
        allowed = max(self.eps, SETTLED_SHARE * abs(self.last))
        return self.change / allowed if allowed > 0 else (0.0 if self.change == 0 else float("inf"))

    @property
    def settled(self) -> bool:
        return self.over < 1


def settling(curve: Sequence[float], before: float, last: float) -> Settling:
    """The change from ``before`` to ``last`` judged against ``curve`` (the value's recorded course: tenths'
    means or checkpoints) -- see the module docstring."""
    values = [float(v) for v in curve]
    travel = max(values) - min(values) if values else 0.0
    change = abs(last - before)
    return Settling(change, change / max(abs(last), 1e-12), SETTLED_SHARE * travel, float(last))


def improving_over(curve: Sequence[float], start: float) -> float:
    """How far a falling value (a distance to the data, a loss being minimised) is from having stopped improving:
    its fall between the last two points of ``curve`` (the value at evenly spaced points of training, the end
    last) over :data:`SETTLED_SHARE` of the way it travelled from ``start`` (its value before training) over the
    curve. Below 1: the last stretch improved it by less than 1% of the way it came (settled, or getting worse:
    a rise is where the run ends, not a shortfall of steps); above 1: still improving.

    Unlike :func:`settling`, the value's own size does not excuse a fall: a distance drifting down by 0.7% of
    itself per stretch, steadily, is far from where it ends (its value says nothing about how far it has left
    to go); only the way it has travelled does."""
    values = [float(start), *map(float, curve)]
    if len(values) < 3:
        return float("inf")
    fall = values[-2] - values[-1]
    travel = max(values) - min(values)
    if fall <= 0:
        return 0.0
    return fall / (SETTLED_SHARE * travel) if travel > 0 else float("inf")

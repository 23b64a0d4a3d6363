"""Metrics, registered by names that state their protocol (see ``METRICS``)."""

from .frechet import frechet_distance, frechet_distance_from_samples
from .modes import ModeStats, mode_stats
from .wasserstein import w1_exact

METRICS = {
    "w1_exact_2k": "exact W1 (POT network simplex), 2,000 generated vs 2,000 data points, with the "
                   "data-vs-data floor from two independent 2,000-point samples",
    "modes_3std": "Gaussian mixtures: modes covered (>= 10% of the uniform share of high-quality samples) "
                  "and share of samples within 3 std of a mode, over the same 2,000 samples",
    "frechet_gaussian_closed_form": "squared Frechet distance between the data Gaussian and the generator's "
                                    "Gaussian, both from parameters in closed form (no samples; exact for "
                                    "singular covariances), Fedus et al. 2018 sec. 4",
}

__all__ = ["METRICS", "ModeStats", "frechet_distance", "frechet_distance_from_samples", "mode_stats", "w1_exact"]

"""Metrics, registered by names that state their protocol (see ``METRICS``); the image metric families register
themselves in :data:`wgan.metrics.image_metrics.IMAGE_METRICS`; the FID Inception weights register in
:data:`wgan.fetch.FETCHABLE` (:mod:`wgan.metrics.inception`)."""

from . import inception  # noqa: F401  (registers its weights file in wgan.fetch.FETCHABLE)
from . import prdc as _prdc  # noqa: F401  (registers the prdc family in IMAGE_METRICS)
from .frechet import frechet_distance, frechet_distance_from_samples
from .image_metrics import IMAGE_METRICS
from .modes import ModeStats, mode_stats
from .wasserstein import w1_exact

METRICS = {
    "w1_exact_2k": "exact W1 (POT network simplex), 2,000 generated vs 2,000 data points, with the "
                   "data-vs-data floor from two independent 2,000-point samples",
    "modes_3std": "Gaussian mixtures: modes covered (>= 10% of the uniform share of high-quality samples) "
                  "and share of samples within 3 std of a mode, over the same 2,000 samples",
    "prdc2k_5nn_coords": "points: precision, recall (Kynkaanniemi et al. 2019), density, coverage (Naeem et al. "
                         "2020) of the same 2,000 generated vs 2,000 data points on the coordinates, k = 5 nearest "
                         "neighbours",
    "frechet_gaussian_closed_form": "squared Frechet distance between the data Gaussian and the generator's "
                                    "Gaussian, both from parameters in closed form (no samples; exact for "
                                    "singular covariances), Fedus et al. 2018 sec. 4",
    "ngram_js_bits_640": "text: character n-gram (n = 1..4) Jensen-Shannon divergence in bits between 640 argmax-"
                         "decoded generated sequences and all training lines, with the 640 held-out validation "
                         "lines vs training as the baseline (WGAN-GP sec. 5.5, the authors' js_with)",
}
# images: the names each family of wgan.metrics.image_metrics lists (<family><count>_<network>; any sample count
# may replace the number)
METRICS.update({name: text for family in IMAGE_METRICS.values() for name, text in family.listed.items()})

__all__ = ["METRICS", "ModeStats", "frechet_distance", "frechet_distance_from_samples", "mode_stats", "w1_exact"]

"""Many independent GANs trained at once, vectorised over members (see :mod:`wgan.ensemble.model`)."""

from .model import (
    NO_EFFECT,
    SUPPORTED,
    Ensemble,
    StackedOptimizer,
    Summary,
    ensemble_settings,
    has_cpp_compiler,
    plot_sweep,
    summarize,
    unsupported_settings,
)

__all__ = ["NO_EFFECT", "SUPPORTED", "Ensemble", "StackedOptimizer", "Summary", "ensemble_settings",
           "has_cpp_compiler", "plot_sweep", "summarize", "unsupported_settings"]

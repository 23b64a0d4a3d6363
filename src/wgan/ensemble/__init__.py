"""Many independent GANs trained at once, vectorised over members (Many Paths to Equilibrium, Fedus et al. 2018,
sec. 4: hundreds of seeds per setting).

* :mod:`.model` -- :class:`Ensemble`: the members' stacked parameters, randomness and training loop;
* :mod:`.fused` -- the batched MLP and the analytic fused critic gradient;
* :mod:`.stacked_optimizer` -- :class:`StackedOptimizer`, torch.optim's updates over stacked parameters;
* :mod:`.support` -- which config fields the ensemble implements (:data:`SUPPORTED`, :data:`NO_EFFECT`).

Statistics over seeds live in :mod:`wgan.stats`, their plot in :func:`wgan.diagnostics.plots.plot_sweep`.
"""

from ..stats import Summary, summarize
from ..toolchain import has_cpp_compiler
from .model import Ensemble
from .stacked_optimizer import StackedOptimizer
from .support import NO_EFFECT, SUPPORTED, ensemble_settings, unsupported_settings

__all__ = ["NO_EFFECT", "SUPPORTED", "Ensemble", "StackedOptimizer", "Summary", "ensemble_settings",
           "has_cpp_compiler", "summarize", "unsupported_settings"]

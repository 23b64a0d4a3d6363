"""wgan: train and study Wasserstein GANs and gradient-penalty GANs, and reproduce the papers' claims.

>>> from wgan import Config, Trainer
>>> summary = Trainer(Config()).fit("runs/demo")          # doctest: +SKIP
"""

__version__ = "0.1.0"

from .config import Config, ConfigError  # noqa: E402
from .objectives import PRESETS, Objective  # noqa: E402
from .penalties import Penalty, clip_weights_, input_gradient_norms, make_penalty  # noqa: E402
from .train import Trainer  # noqa: E402

__all__ = ["Config", "ConfigError", "Objective", "PRESETS", "Penalty", "Trainer", "clip_weights_",
           "input_gradient_norms", "make_penalty", "__version__"]

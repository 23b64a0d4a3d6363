"""wgan: train and study Wasserstein GANs and gradient-penalty GANs, and reproduce the papers' claims.

>>> from wgan import Config, Trainer
>>> summary = Trainer(Config.demo()).fit("runs/demo")      # doctest: +SKIP

The names below are imported on first use (PEP 562), so that ``import wgan`` and the command line's
``--help`` and ``list`` do not pay for importing torch. The Python API with examples: docs/api.md.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "Config": "config", "ConfigError": "errors",
    "Objective": "objectives", "PRESETS": "objectives",
    "Penalty": "penalties", "clip_weights_": "penalties", "input_gradient_norms": "penalties",
    "make_penalty": "penalties",
    "Trainer": "training.trainer",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'wgan' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

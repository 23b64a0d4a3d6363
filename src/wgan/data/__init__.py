"""Data samplers. ``make_sampler(name_or_path, data_cfg)`` returns a :class:`Sampler`.

Dispatch: a toy distribution's name or a ``.npy``/``.csv`` point file -> :mod:`wgan.data.toy`. Other kinds
(image datasets, text corpora) add their names to ``NAMED_DATA`` and their recognisers to ``make_sampler``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .image_datasets import IMAGE_DATA, image_sampler, is_image_source
from .manifold import LineData
from .toy import TOY_DATA, GaussianMixture, PointSet, Sampler, SwissRoll
from .toy import make_sampler as make_toy_sampler

# every data name `wgan list` shows and `resolve` accepts without a path: name -> one-line description
NAMED_DATA: dict[str, str] = dict(TOY_DATA)
NAMED_DATA.update(IMAGE_DATA)  # digits (wgan.data.image_datasets)


def make_sampler(name: str, data_cfg: Any = None) -> Sampler:
    """The sampler for ``data.name`` (``data_cfg`` is the run's :class:`wgan.config.DataConfig`, for options
    such as image size; ``None`` takes the defaults)."""
    from .text_corpora import is_text_source, text_sampler

    if is_image_source(name):  # digits, or a folder of MNIST IDX files / CIFAR-10 batches / images
        return image_sampler(name, data_cfg)
    if is_text_source(name):  # a .txt file or a folder of text files: character sequences
        return text_sampler(name, data_cfg)
    if Path(name).is_dir():  # neither images nor text: the image reader's error lists what it looked for
        return image_sampler(name, data_cfg)
    return make_toy_sampler(name)


__all__ = ["NAMED_DATA", "TOY_DATA", "GaussianMixture", "LineData", "PointSet", "Sampler", "SwissRoll",
           "make_sampler", "make_toy_sampler"]

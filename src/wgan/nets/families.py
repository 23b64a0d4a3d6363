"""The registries of network families: :data:`GENERATORS` (``generator.net``) and :data:`CRITICS`
(``critic.net``).

Each family is registered where its builder is defined (:mod:`wgan.nets.vector_nets`: mlp, data-plus-noise;
:mod:`wgan.nets.conv1d`; :mod:`wgan.nets.image_nets`: dcgan, resnet, ...). :func:`wgan.nets.build_generator`
and :func:`~wgan.nets.build_critic` dispatch through them; ``wgan list`` shows their descriptions and
:func:`wgan.resolve.resolve` checks ``norm`` and ``activation`` against the choices each family declares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..registry import Registry

VECTOR_NORMS: tuple[str, ...] = ("none", "batch", "layer")  # mlp, conv1d (wgan.nets.mlp, wgan.nets.blocks)


@dataclass(frozen=True)
class Family:
    """One network family: its ``wgan list`` line, ``build(cfg, shape) -> nn.Module`` (``cfg`` the
    ``generator``/``critic`` config section, ``shape`` an int for vectors or a sample shape), and the
    ``norms`` and ``activations`` its section accepts."""

    description: str
    build: Callable[[Any, Any], Any]
    norms: tuple[str, ...]
    activations: tuple[str, ...]


GENERATORS: Registry[Family] = Registry("generator.net")
CRITICS: Registry[Family] = Registry("critic.net")


def registry(section: str) -> Registry[Family]:
    """:data:`GENERATORS` for ``"generator"``, :data:`CRITICS` for ``"critic"``."""
    return GENERATORS if section == "generator" else CRITICS


def net_options(section: str, net: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(norms, activations)`` a ``generator``/``critic`` of family ``net`` accepts."""
    family = registry(section).lookup(net)
    return family.norms, family.activations


def descriptions(section: str) -> dict[str, str]:
    """``{family: one-line description}`` for ``wgan list``."""
    return {name: f.description for name, f in registry(section).items()}

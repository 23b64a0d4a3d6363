"""WGAN-GP's architecture space (Gulrajani et al. 2017, sec. 5.1, Table 1) and its Fig. 2 zoo (sec. 5.2),
as names a config selects: ``generator.arch`` / ``critic.arch``.

**Table 1** (starting from DCGAN, each choice drawn independently for G and for D)::

    nonlinearity       relu, leaky_relu, softplus_shifted (softplus(2x + 2) / 2 - 1), tanh
    depth              4, 8, 12, 20      conv layers in the network
    batch norm         true, false       the critic's becomes layer norm under a gradient penalty (sec. 5.2)
    base filter count  32, 64, 128       the DCGAN ``ngf`` / ``ndf`` (``width``)

A point of one player is named ``space:<nonlinearity>-d<depth>-<bn|nobn>-f<filters>``, e.g.
``space:tanh-d8-bn-f64``; it builds the ``dcgan-deep`` family (:mod:`wgan.nets.dcgan`: the WGAN authors'
DCGAN, with the layers beyond the plain net's ``log2(H) - 1`` as 3x3 convs at the last resolution, the
place the WGAN code's ``n_extra_layers`` puts them; the paper does not say where its extra layers go).
:func:`sample_space` draws points with a seeded RNG.

**Fig. 2** (the architectures the authors' ``gan_64x64.py`` lists in ``GeneratorAndDiscriminator``,
lines 38-69): :data:`ZOO` maps each to a generator arch and a critic arch:

    baseline           DCGAN G and D                                  ``zoo:dcgan`` / ``zoo:dcgan``
    g-nobn-constant    G: no BN, constant filter count; D: DCGAN      ``zoo:dcgan-nobn-constant``
    g-mlp              G: 4-layer 512-unit ReLU MLP; D: DCGAN         ``zoo:mlp-4x512``
    no-norm            no normalisation in G or D                     ``zoo:dcgan-nobn``
    gated              gated multiplicative nonlinearities (G, D)     ``zoo:dcgan-gated``
    tanh               tanh nonlinearities everywhere (G, D)          ``zoo:dcgan-tanh``
    resnet101          101-layer bottleneck ResNet G and D            ``zoo:resnet101``

Zoo archs keep the config's ``width`` (the authors' ``DIM``), except the MLP (512 units, fixed).

**How an arch applies**: :func:`arch_fields` turns a name into the fields of the ``generator`` / ``critic``
config section it sets (``net``, ``depth``, ``norm``, ``activation``, ...); :func:`wgan.resolve.resolve` applies
them and refuses a field the user set to something else (an arch never silently overrides a setting).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["generator", "critic"]

# WGAN-GP Table 1
NONLINEARITIES: tuple[str, ...] = ("relu", "leaky_relu", "softplus_shifted", "tanh")
DEPTHS: tuple[int, ...] = (4, 8, 12, 20)
BATCH_NORM: tuple[bool, ...] = (True, False)
FILTERS: tuple[int, ...] = (32, 64, 128)

_POINT = re.compile(r"^space:(?P<act>[a-z_]+)-d(?P<depth>\d+)-(?P<bn>bn|nobn)-f(?P<filters>\d+)$")


@dataclass(frozen=True)
class PlayerPoint:
    """One player's choices in Table 1."""

    nonlinearity: str
    depth: int
    batch_norm: bool
    filters: int

    @property
    def name(self) -> str:
        return f"space:{self.nonlinearity}-d{self.depth}-{'bn' if self.batch_norm else 'nobn'}-f{self.filters}"

    @classmethod
    def parse(cls, name: str) -> PlayerPoint:
        m = _POINT.match(name)
        if m is None:
            raise ValueError(f"{name!r} is not a Table 1 point; expected space:<nonlinearity>-d<depth>-<bn|nobn>-"
                             f"f<filters>, e.g. space:tanh-d8-bn-f64 (nonlinearities: {', '.join(NONLINEARITIES)})")
        act, depth, filters = m["act"], int(m["depth"]), int(m["filters"])
        if act not in NONLINEARITIES:
            raise ValueError(f"{name!r}: unknown nonlinearity {act!r}; Table 1 has {', '.join(NONLINEARITIES)}")
        if depth < 1 or filters < 1:
            raise ValueError(f"{name!r}: depth and filters must be >= 1")
        return cls(act, depth, m["bn"] == "bn", filters)


@dataclass(frozen=True)
class ArchPoint:
    """A point of the space: the generator's and the critic's choices."""

    generator: PlayerPoint
    critic: PlayerPoint

    @property
    def name(self) -> str:
        return f"G={self.generator.name[6:]}_D={self.critic.name[6:]}"

    def sets(self) -> list[str]:
        """``--set`` items selecting this point."""
        return [f"generator.arch={self.generator.name}", f"critic.arch={self.critic.name}"]


def sample_player(rng: random.Random, filter_scale: float = 1.0) -> PlayerPoint:
    """One player's choices, each uniform over Table 1 and independent; filters scaled by ``filter_scale``
    (rounded, at least 1) for a CPU-sized study."""
    act = rng.choice(NONLINEARITIES)
    depth = rng.choice(DEPTHS)
    bn = rng.choice(BATCH_NORM)
    filters = max(1, round(rng.choice(FILTERS) * filter_scale))
    return PlayerPoint(act, depth, bn, filters)


def sample_space(n: int, seed: int = 0, filter_scale: float = 1.0) -> list[ArchPoint]:
    """``n`` points of Table 1 (G first, then D, for each), the same for the same ``seed``; distinct points
    (a repeat is redrawn, so ``n`` is at most the size of the space)."""
    size = (len(NONLINEARITIES) * len(DEPTHS) * len(BATCH_NORM) * len(FILTERS)) ** 2
    if not 0 <= n <= size:
        raise ValueError(f"the space has {size} points; asked for {n}")
    rng = random.Random(seed)
    points: list[ArchPoint] = []
    seen: set[ArchPoint] = set()
    while len(points) < n:
        p = ArchPoint(sample_player(rng, filter_scale), sample_player(rng, filter_scale))
        if p not in seen:
            seen.add(p)
            points.append(p)
    return points


# ------------------------------------------------------------------------------------------------ Fig. 2 zoo
# zoo arch -> (roles it exists for, description, source in the authors' gan_64x64.py)
ZOO_ARCHS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "zoo:dcgan": (("generator", "critic"), "DCGAN with batch norm (critic: layer norm under a penalty)",
                  "gan_64x64.py:234 DCGANGenerator, :428 DCGANDiscriminator"),
    "zoo:dcgan-nobn-constant": (("generator",), "DCGAN, no batch norm, `width` filters in every layer",
                                "gan_64x64.py:272 WGANPaper_CrippledDCGANGenerator"),
    "zoo:mlp-4x512": (("generator",), "4 hidden ReLU layers of 512 units, tanh output",
                      "gan_64x64.py:220 FCGenerator"),
    "zoo:dcgan-nobn": (("generator", "critic"), "DCGAN without any normalisation",
                       "gan_64x64.py:57 DCGANGenerator/Discriminator(bn=False)"),
    "zoo:dcgan-gated": (("generator", "critic"), "DCGAN with gated multiplicative nonlinearities tanh(a) sigmoid(b)",
                        "gan_64x64.py:322 MultiplicativeDCGANGenerator, :368 MultiplicativeDCGANDiscriminator"),
    "zoo:dcgan-tanh": (("generator", "critic"), "DCGAN with tanh nonlinearities (batch norm kept)",
                       "gan_64x64.py:63-64 DCGANGenerator/Discriminator(bn=True, nonlinearity=tf.tanh)"),
    "zoo:resnet101": (("generator", "critic"), "101-layer ResNet of bottleneck blocks",
                      "gan_64x64.py:294 ResnetGenerator, :395 ResnetDiscriminator, :123 BottleneckResidualBlock"),
}


@dataclass(frozen=True)
class ZooEntry:
    name: str
    generator: str  # a zoo arch
    critic: str
    label: str  # Fig. 2's row title

    def sets(self) -> list[str]:
        return [f"generator.arch={self.generator}", f"critic.arch={self.critic}"]


ZOO: dict[str, ZooEntry] = {e.name: e for e in (
    ZooEntry("baseline", "zoo:dcgan", "zoo:dcgan", "Baseline (G: DCGAN, D: DCGAN)"),
    ZooEntry("g-nobn-constant", "zoo:dcgan-nobn-constant", "zoo:dcgan", "G: no BN and a constant number of filters"),
    ZooEntry("g-mlp", "zoo:mlp-4x512", "zoo:dcgan", "G: 4-layer 512-dim ReLU MLP"),
    ZooEntry("no-norm", "zoo:dcgan-nobn", "zoo:dcgan-nobn", "No normalization in either G or D"),
    ZooEntry("gated", "zoo:dcgan-gated", "zoo:dcgan-gated", "Gated multiplicative nonlinearities everywhere"),
    ZooEntry("tanh", "zoo:dcgan-tanh", "zoo:dcgan-tanh", "tanh nonlinearities everywhere"),
    ZooEntry("resnet101", "zoo:resnet101", "zoo:resnet101", "101-layer ResNet G and D"),
)}


def _norm(role: str, batch_norm: bool, penalty: bool) -> str:
    if not batch_norm:
        return "none"
    return "layer" if role == "critic" and penalty else "batch"  # sec. 5.2: no batch norm in a penalised critic


def arch_fields(role: Role, arch: str, penalty: bool) -> dict[str, Any]:
    """The config fields of section ``role`` that ``arch`` sets; ``penalty``: the run has a gradient penalty
    (the critic's batch norm becomes layer norm). ValueError for an unknown arch or one not made for ``role``."""
    if arch.startswith("space:"):
        p = PlayerPoint.parse(arch)
        return {"net": "dcgan-deep", "depth": p.depth, "width": p.filters, "activation": p.nonlinearity,
                "norm": _norm(role, p.batch_norm, penalty), "extra_layers": 0,
                **({"constant_width": False} if role == "generator" else {})}
    if arch not in ZOO_ARCHS:
        raise ValueError(f"unknown {role}.arch {arch!r}; choose a Table 1 point (space:<nonlinearity>-d<depth>-"
                         f"<bn|nobn>-f<filters>, e.g. space:relu-d8-bn-f64) or one of: "
                         f"{', '.join(a for a, (roles, _, _) in ZOO_ARCHS.items() if role in roles)}")
    roles = ZOO_ARCHS[arch][0]
    if role not in roles:
        raise ValueError(f"{arch!r} is a {' and '.join(roles)} arch; {role}.arch cannot use it (valid: "
                         f"{', '.join(a for a, (rs, _, _) in ZOO_ARCHS.items() if role in rs)})")
    g = {"constant_width": False} if role == "generator" else {}
    default_act = "relu" if role == "generator" else "leaky_relu"
    dcgan = {"net": "dcgan", "extra_layers": 0, **g}
    if arch == "zoo:dcgan":
        return {**dcgan, "activation": default_act, "norm": _norm(role, True, penalty)}
    if arch == "zoo:dcgan-nobn-constant":
        return {**dcgan, "activation": "relu", "norm": "none", "constant_width": True}
    if arch == "zoo:mlp-4x512":
        return {"net": "mlp", "depth": 4, "width": 512, "activation": "relu", "norm": "none"}
    if arch == "zoo:dcgan-nobn":
        return {**dcgan, "activation": default_act, "norm": "none"}
    if arch == "zoo:dcgan-gated":
        return {**dcgan, "activation": "gated", "norm": _norm(role, True, penalty)}
    if arch == "zoo:dcgan-tanh":
        return {**dcgan, "activation": "tanh", "norm": _norm(role, True, penalty)}
    assert arch == "zoo:resnet101"
    return {"net": "resnet-bottleneck", "depth": 101, "activation": "relu", "norm": _norm(role, True, penalty)}


def arch_listing() -> dict[str, str]:
    """Name -> description, for ``wgan list``."""
    out = {"space:<act>-d<D>-<bn|nobn>-f<F>": (f"WGAN-GP Table 1 point: act in {', '.join(NONLINEARITIES)}; D conv "
                                                f"layers ({'/'.join(map(str, DEPTHS))}); F filters "
                                                f"({'/'.join(map(str, FILTERS))})")}
    for a, (roles, text, src) in ZOO_ARCHS.items():
        out[a] = f"{text} [{'/'.join(r[0].upper() for r in roles)}] ({src})"
    return out


__all__ = ["ArchPoint", "BATCH_NORM", "DEPTHS", "FILTERS", "NONLINEARITIES", "PlayerPoint", "ZOO", "ZOO_ARCHS",
           "ZooEntry", "arch_fields", "arch_listing", "sample_player", "sample_space"]

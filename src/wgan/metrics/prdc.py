"""Precision, recall, density and coverage: fidelity and diversity of generated samples, measured apart.

Each real sample ``r_i`` gets a ball of radius ``rad_i`` = the distance to its k-th nearest other real sample
(the sample itself counts as the 0-th); each generated sample ``f_j`` likewise gets ``fad_j`` among the
generated ones. With d the Euclidean distance and strict inequalities throughout:

* **precision** (Kynkäänniemi et al. 2019, "Improved precision and recall", eq. 1-2): the share of generated
  samples inside some real ball, ``mean_j [exists i: d(r_i, f_j) < rad_i]`` (fidelity);
* **recall** (ibid.): the share of real samples inside some generated ball, ``mean_i [exists j: d(r_i, f_j) <
  fad_j]`` (diversity);
* **density** (Naeem et al. 2020, "Reliable fidelity and diversity metrics", eq. 4): how many real balls hold
  each generated sample, over k: ``1/(k M) sum_j sum_i [d(r_i, f_j) < rad_i]`` -- not bounded by 1; for
  generated = real (and no tied distances) it is exactly 1, since each ball then holds its own centre and
  the k - 1 nearer neighbours;
* **coverage** (ibid., eq. 5): the share of real balls that hold at least one generated sample,
  ``mean_i [min_j d(r_i, f_j) < rad_i]``.

The numbers are those of the authors' reference implementation (the ``prdc`` package of Naeem et al.,
``compute_prdc``), which the tests use as an oracle (``prdc`` is in the ``dev`` extra only). Written by hand
with torch: ``prdc`` is numpy/scikit-learn and holds the full N x M distance matrices (800 MB each in float64
for 10k x 10k) and runs on the CPU only, whereas :func:`prdc` computes float64 distances with ``torch.cdist`` in
row blocks of at most :data:`BLOCK_ENTRIES` entries on the samples' device, so memory stays bounded (a few
blocks and O(N + M) vectors), and precision is read off density's counts (a sample is inside some ball when
it is inside at least one).

Names: images ``prdc<count>_<k>nn_<network>`` (e.g. ``prdc5k_5nn_classifier``: 5,000 generated vs 5,000
training images, k = 5, the classifier's features; registered in
:data:`wgan.metrics.image_metrics.IMAGE_METRICS`); toy points ``prdc<count>_<k>nn_coords`` on the coordinates
themselves (:mod:`wgan.kinds.point_runs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import ConfigError
from .image_metrics import IMAGE_METRICS, Measuring, MetricFamily, MetricSpec, _device_of, _real_pair, count_text

BLOCK_ENTRIES = 1 << 24  # distances held at once (128 MiB in float64)
DIRECT_DIM = 16  # up to this many coordinates, distances from differences (see _cdist)
POINTS_K = 5  # toy points: the k Naeem et al. recommend and use


@dataclass(frozen=True)
class PRDC:
    precision: float
    recall: float
    density: float
    coverage: float

    def as_dict(self) -> dict[str, float]:
        return {key: getattr(self, key) for key in KEYS}


def _check(real: torch.Tensor, fake: torch.Tensor, k: int) -> None:
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise ConfigError(f"precision/recall/density/coverage need two (N, D) feature sets of one width, got "
                          f"{tuple(real.shape)} and {tuple(fake.shape)}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"precision/recall/density/coverage: k nearest neighbours must be a positive integer, "
                          f"got {k!r}")
    if k >= min(len(real), len(fake)):
        raise ConfigError(f"precision/recall/density/coverage: k = {k} nearest neighbours needs more than k samples "
                          f"on each side, got {len(real)} real and {len(fake)} generated; lower k or draw more")


def _rows(n: int, m: int) -> int:
    return max(1, BLOCK_ENTRIES // max(m, 1))


def _cdist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distances; up to :data:`DIRECT_DIM` coordinates from the differences themselves (faster there,
    and exactly 0 between equal points), above it through matrix products (much faster for wide features)."""
    mode = "donot_use_mm_for_euclid_dist" if a.shape[1] <= DIRECT_DIM else "use_mm_for_euclid_dist_if_necessary"
    return torch.cdist(a, b, compute_mode=mode)


def knn_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """``(N,)`` distance of each row of ``x`` ``(N, D)`` to its k-th nearest row of ``x``, the row itself being
    the 0-th (so duplicates of a row count as neighbours at distance 0), in blocks of rows."""
    out = []
    step = _rows(len(x), len(x))
    for i in range(0, len(x), step):
        d = _cdist(x[i:i + step], x)  # (b, N)
        out.append(d.topk(k + 1, dim=1, largest=False).values[:, -1])
    return torch.cat(out)


@torch.no_grad()
def prdc(real: torch.Tensor, fake: torch.Tensor, k: int) -> PRDC:
    """Precision, recall, density and coverage of ``fake`` ``(M, D)`` against ``real`` ``(N, D)`` with ``k``
    nearest neighbours (see the module docstring), in float64 on ``real``'s device. Non-finite generated samples
    give NaN for all four."""
    _check(real, fake, k)
    if not torch.isfinite(fake).all():
        nan = float("nan")
        return PRDC(nan, nan, nan, nan)
    r, f = real.double(), fake.to(real.device).double()
    rad, fad = knn_radii(r, k), knn_radii(f, k)  # (N,), (M,)
    balls_holding = torch.zeros(len(f), dtype=torch.int64, device=r.device)  # per generated sample
    recalled, covered = [], []  # per real sample
    step = _rows(len(r), len(f))
    for i in range(0, len(r), step):
        d = _cdist(r[i:i + step], f)  # (b, M)
        inside = d < rad[i:i + step, None]  # (b, M): f_j inside the ball of r_i
        balls_holding += inside.sum(0)
        recalled.append((d < fad[None, :]).any(1))
        covered.append(inside.any(1))
    return PRDC(float((balls_holding > 0).double().mean()), float(torch.cat(recalled).double().mean()),
                float(balls_holding.double().mean() / k), float(torch.cat(covered).double().mean()))


@torch.no_grad()
def features(x: torch.Tensor, net: torch.nn.Module, batch_size: int = 500) -> torch.Tensor:
    """``net``'s features of images ``x`` ``(N, C, H, W)``, ``(N, F)`` in float64 on ``net``'s device."""
    device = _device_of(net)
    return torch.cat([net(x[i:i + batch_size].to(device)).reshape(min(batch_size, len(x) - i), -1).double()
                      for i in range(0, len(x), batch_size)])


def points_protocol(n_fake: int, n_real: int, k: int) -> str:
    """The toy points' protocol sentence."""
    return (f"prdc{count_text(n_fake)}_{k}nn_coords: precision and recall (Kynkaanniemi et al. 2019), density and "
            f"coverage (Naeem et al. 2020) of {n_fake} generated vs {n_real} data points on the coordinates, "
            f"k = {k} nearest neighbours (the data sample w1 is measured against)")


KEYS = ("precision", "recall", "density", "coverage")


def _measure(m: Measuring, s: MetricSpec) -> dict[str, float]:
    ref, val, x = _real_pair(m, s)
    if not torch.isfinite(x).all():
        return {f"_{key}": float("nan") for key in KEYS}
    net = m.net(s.network)
    ref_f = features(ref, net.features, net.batch_size)
    out = {f"_{key}": v for key, v in prdc(ref_f, features(x, net.features, net.batch_size), s.k).as_dict().items()}
    if len(val):
        base = prdc(ref_f, features(val, net.features, net.batch_size), s.k)
        out |= {f"_val_{key}": v for key, v in base.as_dict().items()}
    return out


def _baseline(m: Measuring, s: MetricSpec) -> str:
    text = (f"; keys {s.name}_{{{','.join(KEYS)}}}; reference: {s.count} training images drawn with replacement "
            f"(seed {10_000 + m.seed})")
    return text + (f"; {s.name}_val_*: {s.count} validation images vs the same reference" if m.has_val else
                   "; no validation split")


IMAGE_METRICS.add("prdc", MetricFamily(
    ("classifier", "inception", "inception_pytorchfid"),
    "precision and recall (Kynkaanniemi et al. 2019), density and coverage (Naeem et al. 2020) of N generated "
    "vs N reference images in feature space, k = K nearest neighbours (Euclidean, float64; equal to the "
    "authors' prdc package)", _measure, _baseline, {
        "prdc5k_5nn_classifier": "precision, recall, density, coverage (Kynkaanniemi et al. 2019; Naeem et al. "
                                 "2020) of 5,000 generated vs 5,000 training images, k = 5 nearest neighbours, "
                                 "classifier features; keys <name>_precision, _recall, _density, _coverage",
        "prdc10k_5nn_inception": "precision, recall, density, coverage of 10,000 vs 10,000 8-bit images, k = 5, "
                                 "pool3 of the 2015 TF FID Inception (Naeem et al.'s protocol: 10k, k = 5)"},
    min_count=2, neighbours=True))

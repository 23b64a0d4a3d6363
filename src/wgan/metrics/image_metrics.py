"""Image metrics with a pluggable feature network, registered by names that state their protocol.

* **FID** (Heusel et al. 2017, eq. 6: the squared Fréchet distance between Gaussians fitted to features of
  generated and reference images) and **KID** (Bińkowski et al. 2018: the unbiased MMD^2 with the cubic
  polynomial kernel, mean over subsets) come from torchmetrics, given a feature network: the library's own
  classifier (:mod:`wgan.metrics.classifier`, the offline default, as Fedus et al. 2018 sec. 5 used a
  CIFAR-trained network) or the 2015 TF FID Inception network from pytorch-fid's weights, fetched into the
  cache once or a file the user names (:mod:`wgan.metrics.inception`; ``_inception``: the TF graph's own input
  path, ``_inception_pytorchfid``: pytorch-fid's). A run may hand FID the reference's cached mean and
  covariance instead of the reference images (:meth:`Measuring.cached_stats`; :mod:`wgan.metrics.fid_cache`).
* The **Inception Score** (Salimans et al. 2016: exp E_x KL(p(y|x) || p(y))): ``is*_inception`` follows the
  official protocol (the authors' ``inception_score/model.py``, copied as ``tflib/inception_score.py`` of
  improved_wgan_training, whose published scores it gives): 8-bit images, the 2015 graph's softmax, 10
  consecutive splits, population std -- written by hand (:func:`inception_score_official`), since
  torchmetrics shuffles and takes the unbiased std. ``is*_inception_torchmetrics`` and ``is*_classifier``
  follow torchmetrics' ``InceptionScore`` (seeded random permutation, ``torch.chunk`` splits, unbiased std).
* **Stacked MNIST mode counting** (Metz et al. 2017, sec. 3.3.2; VEEGAN/PacGAN protocol): each of the three
  channels is labelled by a 1-channel digit classifier, the triple is one of 1,000 modes; report modes hit
  and KL(mode histogram || uniform). Written by hand: no library counts modes.
* **MS-SSIM diversity** (Odena et al. 2017, AC-GAN sec. 4.2): mean MS-SSIM over random pairs of generated
  images next to the same over real pairs (lower = more diverse), torchmetrics' multiscale SSIM with the
  number of scales and the kernel reduced for small images (:func:`ms_ssim_settings`).
* **Independent Wasserstein critic** (Fedus et al. 2018, *Many Paths*, sec. 5.1; Danihelka et al. 2017): a
  fresh critic trained with WGAN-GP on held-out real images against generated ones; its estimate
  E f(real) - E f(fake) on a further held-out split and fresh samples. Written by hand (a short loop).

Metric names: ``<family><count>_<network>``, e.g. ``fid5k_classifier`` (5,000 generated vs 5,000 reference
images, classifier features); the count is the number of generated samples and may be any number
(``fid2000_classifier``, ``fid50k_inception``). A family whose protocol has k nearest neighbours states k
after the count: ``prdc5k_5nn_classifier`` (precision/recall/density/coverage, :mod:`wgan.metrics.prdc`).
:func:`protocol_text` states each name's protocol.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..registry import Registry
from .fid_cache import fid_to_stats

# (family, network) -> what that pairing adds to the family's protocol
VARIANTS: dict[tuple[str, str], str] = {
    ("fid", "inception"): "features: the 2015 TF FID Inception with the TF graph's own input path (TTUR fid.py; "
                          "torchmetrics' default torch-fidelity network), on 8-bit images",
    ("kid", "inception"): "features: the 2015 TF FID Inception with the TF graph's own input path, on 8-bit images",
    ("fid", "inception_pytorchfid"): "features: the 2015 TF FID Inception with pytorch-fid's input path (pool3 "
                                     "tested equal to pytorch-fid's InceptionV3 to 1e-5), on 8-bit images",
    ("kid", "inception_pytorchfid"): "features: the 2015 TF FID Inception with pytorch-fid's input path, on 8-bit "
                                     "images",
    ("is", "inception"): "the official protocol (Salimans et al.'s inception_score/model.py = improved_wgan_training "
                         "tflib/inception_score.py:25-53): the softmax of the 2015 graph (1008 classes, logits "
                         "pool3 @ W without bias) on 8-bit images, 10 consecutive splits in generation order, mean "
                         "and population std (ddof 0) of the per-split scores",
    ("is", "inception_torchmetrics"): "torchmetrics' InceptionScore protocol on the network and inputs of "
                                      "is*_inception: a seeded random permutation cut by torch.chunk into 10 "
                                      "splits, mean and unbiased (n - 1) std of the per-split scores",
    ("is", "classifier"): "torchmetrics' InceptionScore protocol on the classifier's softmax: a seeded random "
                          "permutation cut by torch.chunk into 10 splits, mean and unbiased (n - 1) std",
}
IS_PROTOCOL = {"classifier": "torchmetrics", "inception": "official", "inception_torchmetrics": "torchmetrics"}


class Measuring(Protocol):
    """What a family's ``measure`` draws on, at one evaluation of an image run (:mod:`wgan.kinds.image_runs`):
    the run's ``seed``, ``n_samples`` (``eval.n_samples``) and whether the data has a validation split."""

    seed: int
    n_samples: int
    has_val: bool
    classifier_module: Any  # the ImageClassifier (mode counting labels each channel with it), or None

    def real(self, split: str, n: int, seed: int) -> torch.Tensor: ...  # (n, C, H, W); empty when no such split

    def fake(self, n: int) -> torch.Tensor: ...  # n generated images (the same tensor for the same n)

    def net(self, network: str) -> FeatureNetwork | None: ...  # the feature network a metric name names

    def independent_critic(self, n: int) -> tuple[float, float]: ...  # (held-out W estimate, last training gap)

    def independent_critic_protocol(self, n: int) -> str: ...  # how it was trained and measured

    # the reference's FID statistics (mean, covariance) from the cache, computed from ``reference`` the first
    # time; None when this run does not cache them (wgan.metrics.fid_cache)
    def cached_stats(self, spec: MetricSpec, reference: torch.Tensor, net: FeatureNetwork
                     ) -> tuple[np.ndarray, np.ndarray] | None: ...

    def cached_stats_file(self, spec: MetricSpec) -> Path | None: ...  # the file cached_stats reads, or None


@dataclass(frozen=True)
class MetricFamily:
    """An image metric family of :data:`IMAGE_METRICS` (names ``<family><count>_<network>``): the ``networks``
    it accepts, its ``protocol`` sentence (" N " becomes the count), ``measure(m, spec)`` -> ``{suffix: value}``
    (suffix ``""``: the metric itself; ``"_val"``, ``"_real"``, ``"_std"``, ...: baselines and spreads),
    ``baseline(m, spec)``: the protocol's sentence on those baselines, the names ``wgan list`` shows
    (``listed``: name -> description) and the least sample count with the reason (``min_count``, ``min_why``).
    ``on_network``: whether the protocol names the feature network; ``neighbours``: whether its names carry
    ``_<k>nn`` after the count (" K " in the protocol becomes k)."""

    networks: tuple[str, ...]
    protocol: str
    measure: Callable[[Measuring, MetricSpec], dict[str, float]]
    baseline: Callable[[Measuring, MetricSpec], str]
    listed: dict[str, str]
    on_network: bool = True
    min_count: int = 2
    min_why: str = "needs at least 2 samples"
    neighbours: bool = False  # the name states k nearest neighbours after the count: ``prdc5k_5nn_classifier``


IMAGE_METRICS: Registry[MetricFamily] = Registry("image metric family")


def _name_pattern() -> re.Pattern[str]:
    """``<family><count>[_<k>nn]_<network>`` over the registered families."""
    return re.compile(rf"^({'|'.join(IMAGE_METRICS)})(\d+)(k?)(?:_(\d+)nn)?_([a-z_]+)$")


@dataclass(frozen=True)
class MetricSpec:
    """A parsed metric name: ``family``, sample ``count``, ``network`` and, for the families whose protocol
    has one, ``k`` nearest neighbours (0: none) (see :data:`IMAGE_METRICS`)."""

    family: str
    count: int
    network: str
    k: int = 0

    @property
    def name(self) -> str:
        return metric_name(self.family, self.count, self.network, self.k)


def count_text(n: int) -> str:
    """5000 -> '5k', 2500 -> '2500'."""
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def metric_name(family: str, count: int, network: str, k: int = 0) -> str:
    return f"{family}{count_text(count)}{f'_{k}nn' if k else ''}_{network}"


def parse_metric(name: str) -> MetricSpec:
    """``fid5k_classifier`` -> MetricSpec('fid', 5000, 'classifier'); a bad name is a ConfigError listing
    the valid forms."""
    m = _name_pattern().match(name.strip())
    valid = ", ".join(listed for family in IMAGE_METRICS.values() for listed in family.listed)
    if not m:
        raise ConfigError(f"unknown image metric {name!r}; valid: {valid} (any sample count may replace the "
                          "number, e.g. fid2k_classifier)")
    family, digits, thousands, nn, network = m.groups()
    entry = IMAGE_METRICS[family]
    if network not in entry.networks:
        raise ConfigError(f"metric {name!r}: {family} works with {' or '.join(entry.networks)}, not {network!r}")
    if entry.neighbours and not nn:
        raise ConfigError(f"metric {name!r}: {family} needs k nearest neighbours after the count, e.g. "
                          f"{metric_name(family, 5000, network, 5)}")
    if nn and not entry.neighbours:
        raise ConfigError(f"metric {name!r}: {family} takes no k nearest neighbours; drop _{nn}nn")
    count, k = int(digits) * (1000 if thousands else 1), int(nn or 0)
    if count < 2:
        raise ConfigError(f"metric {name!r}: needs at least 2 samples")
    if count < entry.min_count:
        raise ConfigError(f"metric {name!r}: {entry.min_why}")
    if entry.neighbours and not 1 <= k < count:
        raise ConfigError(f"metric {name!r}: k nearest neighbours must be at least 1 and below the sample count "
                          f"{count}, got {k}")
    return MetricSpec(family, count, network, k)


def protocol_text(spec: MetricSpec) -> str:
    """The protocol sentence of a parsed metric name (its family's text with the count, and its variant's)."""
    text = IMAGE_METRICS[spec.family].protocol.replace(" N ", f" {spec.count} ").replace(" K ", f" {spec.k} ")
    extra = VARIANTS.get((spec.family, spec.network))
    return f"{text}; {extra}" if extra else text


# ---------------------------------------------------------------------------------------------- networks
@dataclass
class FeatureNetwork:
    """A feature network for FID/KID (``features``: ``(B, C, H, W) -> (B, F)``) and the Inception Score
    (``logits``: ``-> (B, K)``), both carrying ``num_features``; ``description`` goes into the protocol."""

    name: str  # the metric names' network: "classifier", "inception", "inception_pytorchfid", ...
    features: nn.Module
    logits: nn.Module
    description: str
    accuracy: float | None = None  # held-out accuracy of a trained classifier
    batch_size: int = 500  # images per forward pass (the Inception network at 299x299 takes 100, as tflib does)

    def to(self, device: torch.device | str) -> FeatureNetwork:
        self.features.to(device)
        self.logits.to(device)
        return self


def classifier_network(net, info=None) -> FeatureNetwork:
    """A :class:`~wgan.metrics.classifier.ImageClassifier` (and its :class:`ClassifierInfo`) as a
    :class:`FeatureNetwork`."""
    from .classifier import FeatureNet, LogitNet

    desc = f"classifier penultimate layer ({net.n_features} features), trained on images of shape {net.shape}"
    if info is not None:
        desc = (f"classifier trained on {info.dataset} ({net.n_features} features; held-out accuracy "
                f"{info.held_out_accuracy:.4f} on {info.n_held_out} images)")
    return FeatureNetwork("classifier", FeatureNet(net), LogitNet(net), desc,
                          info.held_out_accuracy if info is not None else None)


def _device_of(module: nn.Module) -> torch.device:
    p = next(module.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _batches(x: torch.Tensor, batch_size: int):
    for i in range(0, len(x), batch_size):
        yield x[i:i + batch_size]


# ---------------------------------------------------------------------------------------------- FID / KID / IS
def fid(real: torch.Tensor, fake: torch.Tensor, net: FeatureNetwork, batch_size: int | None = None) -> float:
    """FID between ``real`` and ``fake`` ``(N, C, H, W)`` in [-1, 1] in ``net``'s feature space (torchmetrics'
    ``FrechetInceptionDistance(feature=net.features)``, float64 statistics)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    batch_size = batch_size or net.batch_size
    device = _device_of(net.features)
    metric = FrechetInceptionDistance(feature=net.features, reset_real_features=True).to(device)
    with torch.no_grad():
        for b in _batches(real, batch_size):
            metric.update(b.to(device), real=True)
        for b in _batches(fake, batch_size):
            metric.update(b.to(device), real=False)
        return float(metric.compute())


def kid(real: torch.Tensor, fake: torch.Tensor, net: FeatureNetwork, subsets: int = 100,
        subset_size: int = 1000, seed: int = 0, batch_size: int | None = None) -> tuple[float, float]:
    """KID mean and std over ``subsets`` random subsets of ``min(subset_size, N)`` images (torchmetrics'
    ``KernelInceptionDistance``); the subsets come from torch's global RNG, seeded here and restored."""
    from torchmetrics.image.kid import KernelInceptionDistance

    batch_size = batch_size or net.batch_size
    device = _device_of(net.features)
    size = min(subset_size, len(real), len(fake))
    with warnings.catch_warnings():  # torchmetrics warns that KID keeps every feature vector: we know
        warnings.filterwarnings("ignore", message=".*will save all extracted features")
        metric = KernelInceptionDistance(feature=net.features, subsets=subsets, subset_size=size).to(device)
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for b in _batches(real, batch_size):
            metric.update(b.to(device), real=True)
        for b in _batches(fake, batch_size):
            metric.update(b.to(device), real=False)
        mean, std = metric.compute()
    return float(mean), float(std)


def inception_score(fake: torch.Tensor, net: FeatureNetwork, splits: int = 10, seed: int = 0,
                    batch_size: int | None = None, protocol: str = "torchmetrics") -> tuple[float, float]:
    """Inception Score mean and std over ``splits`` splits of ``fake`` ``(N, C, H, W)`` from ``net.logits``.

    ``protocol="torchmetrics"``: torchmetrics' ``InceptionScore(feature=net.logits)`` (a random permutation
    from torch's global RNG, seeded here and restored; ``torch.chunk`` splits; unbiased std).
    ``protocol="official"``: :func:`inception_score_official` on the softmax of the same logits."""
    batch_size = batch_size or net.batch_size
    if protocol == "official":
        return inception_score_official(_probabilities(fake, net, batch_size), splits)
    if protocol != "torchmetrics":
        raise ConfigError(f"unknown Inception Score protocol {protocol!r}; valid: official, torchmetrics")
    from torchmetrics.image.inception import InceptionScore

    device = _device_of(net.logits)
    with warnings.catch_warnings():  # the feature-buffer note, and std() of a single split
        warnings.filterwarnings("ignore", message=".*will save all extracted features|std\\(\\): degrees of freedom")
        metric = InceptionScore(feature=net.logits, splits=splits).to(device)
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for b in _batches(fake, batch_size):
                metric.update(b.to(device))
            mean, std = metric.compute()
    return float(mean), float(std) if splits > 1 else 0.0


@torch.no_grad()
def _probabilities(x: torch.Tensor, net: FeatureNetwork, batch_size: int) -> torch.Tensor:
    """p(y|x) ``(N, K)`` in float64: the softmax of ``net.logits``."""
    device = _device_of(net.logits)
    return torch.cat([net.logits(b.to(device)).double().softmax(1).cpu() for b in _batches(x, batch_size)])


def inception_score_official(probs: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """Inception Score of class probabilities ``probs`` ``(N, K)`` by the official protocol
    (``tflib/inception_score.py:47-53`` of improved_wgan_training, from Salimans et al.'s
    ``inception_score/model.py``): split ``i`` is rows ``i N // splits`` to ``(i + 1) N // splits`` in
    order, its score exp(mean_x KL(p(y|x) || mean p(y|x) of the split)); the mean and the population std
    (numpy's default, ddof 0) over splits. Written by hand: torchmetrics shuffles the rows, cuts them with
    ``torch.chunk`` (other sizes when ``splits`` does not divide N) and takes the unbiased std. float64;
    0 log 0 = 0."""
    n = len(probs)
    if n < splits:
        raise ConfigError(f"the Inception Score needs at least {splits} images for {splits} splits, got {n}")
    p = probs.double()
    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]  # (n_i, K)
        kl = torch.special.xlogy(part, part) - torch.special.xlogy(part, part.mean(0, keepdim=True))  # (n_i, K)
        scores.append(torch.exp(kl.sum(1).mean()))
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(unbiased=False))


# ---------------------------------------------------------------------------------------------- modes
@dataclass(frozen=True)
class StackedModes:
    modes_hit: int
    n_modes: int
    kl_to_uniform: float
    counts: list[int]


@torch.no_grad()
def stacked_mnist_modes(x: torch.Tensor, classifier: nn.Module, batch_size: int = 500) -> StackedModes:
    """Modes of Stacked MNIST samples ``x`` ``(N, 3, H, W)``: channel ``c`` is labelled by ``classifier``
    (logits ``(B, 10)`` for ``(B, 1, H, W)`` inputs), mode = 100 d0 + 10 d1 + d2. ``kl_to_uniform`` =
    sum_m p_m log(1000 p_m) over the modes hit (0 for a uniform histogram, log 1000 for a single mode)."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ConfigError(f"Stacked MNIST mode counting needs (N, 3, H, W) images, got {tuple(x.shape)}")
    device = _device_of(classifier)
    n, _, h, w = x.shape
    labels = []
    for b in _batches(x, batch_size):
        logits = classifier(b.reshape(-1, 1, h, w).to(device))  # (3B, 10)
        if logits.shape[1] != 10:
            raise ConfigError(f"Stacked MNIST mode counting needs a 10-class digit classifier, got "
                              f"{logits.shape[1]} classes")
        labels.append(logits.argmax(1).reshape(-1, 3).cpu())  # (B, 3)
    d = torch.cat(labels)  # (N, 3)
    modes = d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2]
    counts = torch.bincount(modes, minlength=1000)
    p = counts[counts > 0].double() / n
    return StackedModes(int((counts > 0).sum()), 1000, float((p * torch.log(1000 * p)).sum()), counts.tolist())


# ---------------------------------------------------------------------------------------------- MS-SSIM
_BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003, the 5-scale weights


def ms_ssim_settings(height: int, width: int) -> tuple[int, int, float, tuple[float, ...]]:
    """(scales, kernel size, Gaussian sigma, betas) for images of this size.

    Standard MS-SSIM uses 5 scales and an 11x11 Gaussian window (sigma 1.5), which needs >= 176 pixels a
    side. For smaller images: the most scales (at most 5) whose coarsest level still holds a window of
    >= 7 pixels (else >= 3), the largest such window (11, 9, 7, 5, 3) and sigma = 1.5 * k / 11 (torchmetrics
    sizes the Gaussian window from sigma); the betas are the first ``scales`` standard weights renormalised
    to sum 1. 28x28 / 32x32 -> 3 scales, 7x7; 64x64 -> 4 scales, 7x7; 8x8 -> 2 scales, 3x3."""
    side = min(height, width)
    for k_min, m_min in ((7, 2), (3, 2), (3, 1)):
        for m in range(5, m_min - 1, -1):
            for k in (11, 9, 7, 5, 3):
                # torchmetrics also requires side // (m - 1)^2 > k - 1
                if k >= k_min and side / 2 ** (m - 1) >= k and side // max(1, m - 1) ** 2 > k - 1:
                    betas = _BETAS[:m]
                    return m, k, 1.5 * k / 11, tuple(b / sum(betas) for b in betas)
    raise ConfigError(f"images of {height}x{width} pixels are too small for MS-SSIM (need at least 3x3)")


def ms_ssim_pairs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """MS-SSIM of each pair ``(a[i], b[i])``, ``(N, C, H, W)`` in [-1, 1] -> ``(N,)`` (torchmetrics)."""
    from torchmetrics.functional.image import multiscale_structural_similarity_index_measure as msssim

    _, k, sigma, betas = ms_ssim_settings(a.shape[-2], a.shape[-1])
    return msssim(a.float(), b.float(), sigma=sigma, kernel_size=k, betas=betas, data_range=(-1.0, 1.0),
                  reduction="none")


def ms_ssim_diversity(x: torch.Tensor, n_pairs: int, seed: int = 0, batch_size: int = 500) -> float:
    """Mean MS-SSIM over ``n_pairs`` random pairs of distinct images of ``x`` ``(N, C, H, W)``."""
    if len(x) < 2:
        raise ConfigError("MS-SSIM diversity needs at least 2 images")
    g = torch.Generator().manual_seed(seed)
    i = torch.randint(len(x), (n_pairs,), generator=g)
    j = (i + torch.randint(1, len(x), (n_pairs,), generator=g)) % len(x)  # j != i
    total = 0.0
    for s in range(0, n_pairs, batch_size):
        total += float(ms_ssim_pairs(x[i[s:s + batch_size]], x[j[s:s + batch_size]]).double().sum())
    return total / n_pairs


# ---------------------------------------------------------------------------------------------- independent critic
@dataclass(frozen=True)
class CriticEstimate:
    w_estimate: float  # E f(real_eval) - E f(fake_eval)
    steps: int
    final_train_w: float  # the same on the last training batch


def independent_critic_w(make_critic: Callable[[], nn.Module], real_train: torch.Tensor, fake_train: torch.Tensor,
                         real_eval: torch.Tensor, fake_eval: torch.Tensor, steps: int = 500, batch_size: int = 64,
                         lr: float = 1e-4, penalty_weight: float = 10.0, seed: int = 0,
                         device: torch.device | str = "cpu") -> CriticEstimate:
    """Train a fresh critic with the WGAN-GP loss (Adam lr 1e-4, betas (0, 0.9), lambda 10; WGAN-GP
    Algorithm 1) on ``real_train`` vs ``fake_train`` for ``steps`` steps, then estimate W on the held-out
    ``real_eval`` vs ``fake_eval``: E f(real) - E f(fake), a lower bound on W1 up to the critic's Lipschitz
    constant."""
    from ..penalties import make_penalty

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        critic = make_critic().to(device)
    penalty = make_penalty("gp", penalty_weight)
    assert penalty is not None
    opt = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.0, 0.9))
    rng = torch.Generator().manual_seed(seed)
    pen_rng = torch.Generator(device=device).manual_seed(seed + 1)
    w = math.nan
    critic.train()
    for _ in range(steps):
        real = real_train[torch.randint(len(real_train), (batch_size,), generator=rng)].to(device)
        fake = fake_train[torch.randint(len(fake_train), (batch_size,), generator=rng)].to(device)
        gap = critic(real).mean() - critic(fake).mean()
        pen, _ = penalty(critic, real, fake, pen_rng)
        opt.zero_grad(set_to_none=True)
        (-gap + penalty.weight * pen).backward()
        opt.step()
        w = float(gap.detach())
    critic.eval()
    with torch.no_grad():
        f_real = torch.cat([critic(b.to(device)).float().cpu() for b in _batches(real_eval, 500)])
        f_fake = torch.cat([critic(b.to(device)).float().cpu() for b in _batches(fake_eval, 500)])
    return CriticEstimate(float(f_real.double().mean() - f_fake.double().mean()), steps, w)


# ---------------------------------------------------------------------------------------------- the families
def _real_pair(m: Measuring, s: MetricSpec) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(training reference, validation images, generated images), ``s.count`` of each."""
    ref, val = m.real("train", s.count, 10_000 + m.seed), m.real("val", s.count, 20_000 + m.seed)
    return ref, val, m.fake(s.count)


def _measure_fid(m: Measuring, s: MetricSpec) -> dict[str, float]:
    ref, val, x = _real_pair(m, s)
    if not torch.isfinite(x).all():
        return {"": float("nan")}
    net = m.net(s.network)
    stats = m.cached_stats(s, ref, net)  # None unless the run caches them (a named dataset, an Inception network)
    if stats is None:
        return {"": fid(ref, x, net)} | ({"_val": fid(ref, val, net)} if len(val) else {})
    return {"": fid_to_stats(stats, x, net)} | ({"_val": fid_to_stats(stats, val, net)} if len(val) else {})


def _measure_kid(m: Measuring, s: MetricSpec) -> dict[str, float]:
    ref, val, x = _real_pair(m, s)
    if not torch.isfinite(x).all():
        return {"": float("nan")}
    net = m.net(s.network)
    value, std = kid(ref, x, net, seed=m.seed)
    return {"": value, "_std": std} | ({"_val": kid(ref, val, net, seed=m.seed)[0]} if len(val) else {})


def _measure_is(m: Measuring, s: MetricSpec) -> dict[str, float]:
    _, val, x = _real_pair(m, s)
    if not torch.isfinite(x).all():
        return {"": float("nan")}
    net, how = m.net(s.network), IS_PROTOCOL[s.network]
    value, std = inception_score(x, net, seed=m.seed, protocol=how)
    if len(val):
        return {"": value, "_std": std, "_val": inception_score(val, net, seed=m.seed, protocol=how)[0]}
    return {"": value, "_std": std}


def _measure_modes(m: Measuring, s: MetricSpec) -> dict[str, float]:
    g = stacked_mnist_modes(m.fake(s.count), m.classifier_module)
    r = stacked_mnist_modes(m.real("train", s.count, 10_000 + m.seed), m.classifier_module)
    return {"": float(g.modes_hit), "_kl": g.kl_to_uniform, "_real": float(r.modes_hit), "_real_kl": r.kl_to_uniform}


def _measure_msssim(m: Measuring, s: MetricSpec) -> dict[str, float]:
    n, m_gen = s.count, max(s.count, 2)
    return {"": ms_ssim_diversity(m.fake(max(m_gen, m.n_samples))[:m_gen], n, seed=m.seed),
            "_real": ms_ssim_diversity(m.real("train", m_gen, 10_000 + m.seed), n, seed=m.seed)}


def _measure_w(m: Measuring, s: MetricSpec) -> dict[str, float]:
    w, train_gap = m.independent_critic(s.count)
    return {"": w, "_train": train_gap}


def _reference_baseline(m: Measuring, s: MetricSpec) -> str:
    return (f"; reference: {s.count} training images drawn with replacement (seed {10_000 + m.seed}); "
            f"{s.name}_val: {s.count} validation images vs the same reference" if m.has_val else
            f"; reference: {s.count} training images (seed {10_000 + m.seed}); no validation split")


def _fid_baseline(m: Measuring, s: MetricSpec) -> str:
    path = m.cached_stats_file(s)
    cached = f"; the reference's mean and covariance are computed once and cached as {path}" if path else ""
    return _reference_baseline(m, s) + cached


def _real_baseline(m: Measuring, s: MetricSpec) -> str:
    return f"; {s.name}_real: the same on {s.count} training images"


_INCEPTION = ("classifier", "inception", "inception_pytorchfid")
IMAGE_METRICS.add("fid", MetricFamily(
    _INCEPTION, "FID (torchmetrics, float64 statistics): squared Frechet distance of Gaussians fitted to the "
    "features of N generated and N reference images", _measure_fid, _fid_baseline, {
        "fid5k_classifier": "FID (torchmetrics), 5,000 generated vs 5,000 training images, features of the "
                            "library's classifier (`wgan classifier train`; its held-out accuracy is recorded)",
        "fid10k_inception": "FID, 10,000 vs 10,000 8-bit images, pool3 of the 2015 TF FID Inception with the TF "
                            "graph's input path (TF1 bilinear resize), weights fetched into the cache once (or "
                            "--inception-weights PATH)",
        "fid10k_inception_pytorchfid": "FID as fid10k_inception with pytorch-fid's input path (F.interpolate "
                                       "bilinear; pool3 tested equal to pytorch-fid's network)"}))
IMAGE_METRICS.add("kid", MetricFamily(
    _INCEPTION, "KID (torchmetrics): unbiased MMD^2, cubic polynomial kernel, mean and std over 100 subsets of at "
    "most 1000 of the N generated and N reference images", _measure_kid, _reference_baseline, {
        "kid5k_classifier": "KID (torchmetrics, unbiased MMD^2, cubic kernel, 100 subsets of 1,000), classifier "
                            "features",
        "kid10k_inception": "KID, 10,000 vs 10,000 8-bit images, pool3 of the 2015 TF FID Inception (TF graph input "
                            "path)",
        "kid10k_inception_pytorchfid": "KID as kid10k_inception with pytorch-fid's input path"}))
IMAGE_METRICS.add("is", MetricFamily(
    ("classifier", "inception", "inception_torchmetrics"), "Inception Score: exp E KL(p(y|x) || p(y)) over N "
    "generated images in 10 splits", _measure_is,
    lambda m, s: f"; {s.name}_val: the same on {s.count} validation images" if m.has_val else "", {
        "is5k_classifier": "Inception Score (torchmetrics' protocol: random permutation, 10 chunks, unbiased std) of "
                           "5,000 generated images, classifier logits",
        "is50k_inception": "Inception Score by the official protocol (Salimans et al.; improved_wgan_training "
                           "tflib/inception_score.py): 50,000 8-bit images, the 2015 graph's 1008-class softmax, 10 "
                           "consecutive splits, population std",
        "is50k_inception_torchmetrics": "Inception Score as is50k_inception but torchmetrics' split protocol (random "
                                        "permutation, torch.chunk, unbiased std)"},
    min_count=10, min_why="the Inception Score takes 10 splits, so at least 10 samples"))
IMAGE_METRICS.add("modes", MetricFamily(
    ("stacked_classifier",), "Stacked MNIST: each channel of N generated images labelled by a 1-channel digit "
    "classifier; modes hit out of 1,000 and KL(mode histogram || uniform)", _measure_modes, _real_baseline, {
        "modes26k_stacked_classifier": "Stacked MNIST: modes hit of 1,000 and KL(mode histogram || uniform) over "
                                       "26,000 samples, each channel labelled by an MNIST classifier"}))
IMAGE_METRICS.add("msssim", MetricFamily(
    ("pairs",), "MS-SSIM (torchmetrics, scales reduced for small images) averaged over N random pairs of generated "
    "images, next to the same over N pairs of real images", _measure_msssim, _real_baseline, {
        "msssim1k_pairs": "MS-SSIM (torchmetrics, scales reduced for small images) over 1,000 random generated "
                          "pairs, next to the same over real pairs (lower = more diverse)"}, on_network=False))
IMAGE_METRICS.add("w", MetricFamily(
    ("indep_critic",), "independent critic (Many Paths sec. 5.1): a fresh WGAN-GP critic trained on held-out real "
    "vs generated images; E f(real) - E f(fake) on a further held-out split, N per side", _measure_w,
    lambda m, s: m.independent_critic_protocol(s.count), {
        "w2k_indep_critic": "independent WGAN-GP critic trained on held-out real vs generated images; E f(real) - "
                            "E f(fake) on a further held-out split, 2,000 per side (Many Paths sec. 5.1)"},
    on_network=False))

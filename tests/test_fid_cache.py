"""FID reference statistics cached once per protocol (wgan.metrics.fid_cache): the same FID as torchmetrics'
from the statistics, the protocol in the file name, a second evaluation reads the file."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from torch import nn

from wgan.metrics.fid_cache import cached_reference_stats, feature_stats, fid_to_stats, stats_file
from wgan.metrics.image_metrics import FeatureNetwork, fid


def small_net() -> FeatureNetwork:
    torch.manual_seed(0)
    f = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16), nn.Tanh())
    f.num_features = 16  # what torchmetrics reads instead of probing the module
    return FeatureNetwork("toy", f, f, "a random 16-feature map", batch_size=32)


def images(n: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, 8, 8, generator=g) * 2 - 1 + shift).clamp(-1, 1)


def test_fid_from_statistics_equals_torchmetrics():
    net, real, fake = small_net(), images(200, 1), images(150, 2, shift=0.3)
    direct = fid(real, fake, net)
    from_stats = fid_to_stats(feature_stats(real, net), fake, net)
    assert direct > 0.01 and from_stats == pytest.approx(direct, rel=1e-5)


def test_reference_statistics_are_computed_once_and_named_by_protocol(tmp_path, monkeypatch):
    monkeypatch.setenv("WGAN_CACHE", str(tmp_path))
    net = small_net()
    protocol = {"n": 200, "seed": 10_000, "net": "inception", "weights": "6726825d0af5", "size": 0}
    first = cached_reference_stats("cifar10", protocol, images(200, 1), net)
    path = stats_file("cifar10", protocol)
    assert path.is_file() and path.parent == tmp_path / "fid-stats"
    assert path.name == "cifar10-n200-seed10000-netinception-weights6726825d0af5-size0.npz"
    again = cached_reference_stats("cifar10", protocol, images(200, 99), net)  # other images: the file is read
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    other = cached_reference_stats("cifar10", {**protocol, "n": 100}, images(100, 99), net)  # another protocol
    assert not np.allclose(first[0], other[0])
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        [path.name, stats_file("cifar10", {**protocol, "n": 100}).name])  # no temporary file left


class Run:
    """The run's side of wgan.metrics.image_metrics.Measuring, with reference statistics cached or not."""

    seed, n_samples, has_val, classifier_module = 0, 100, True, None

    def __init__(self, stats=None, path=None) -> None:
        self.stats, self.path, self._net = stats, path, small_net()

    def real(self, split: str, n: int, seed: int) -> torch.Tensor:
        return images(n, seed)

    def fake(self, n: int) -> torch.Tensor:
        return images(n, 7, shift=0.3)

    def net(self, network: str) -> FeatureNetwork:
        return self._net

    def cached_stats(self, spec, reference, net):
        return self.stats

    def cached_stats_file(self, spec):
        return self.path


def test_the_fid_family_measures_against_the_cached_statistics_when_the_run_has_them(tmp_path):
    from wgan.metrics.image_metrics import IMAGE_METRICS, parse_metric

    family, spec = IMAGE_METRICS["fid"], parse_metric("fid100_inception")
    plain = Run()
    direct = family.measure(plain, spec)
    assert direct[""] == pytest.approx(fid(images(100, 10_000), plain.fake(100), plain.net("inception")))
    assert "cached" not in family.baseline(plain, spec)
    stats = feature_stats(images(300, 5), plain.net("inception"))  # other reference images than the run draws
    cached = Run(stats, tmp_path / "s.npz")
    got = family.measure(cached, spec)
    assert got[""] == pytest.approx(fid_to_stats(stats, cached.fake(100), cached.net("inception")))
    assert got["_val"] == pytest.approx(fid_to_stats(stats, images(100, 20_000), cached.net("inception")))
    assert got[""] != pytest.approx(direct[""], rel=1e-3)
    assert f"cached as {tmp_path / 's.npz'}" in family.baseline(cached, spec)


def test_an_image_run_caches_inception_fid_statistics_of_named_datasets_only(tmp_path, monkeypatch):
    from dataclasses import replace
    from types import SimpleNamespace

    from wgan.config import Config
    from wgan.kinds.image_runs import Plan, _Measuring
    from wgan.metrics.image_metrics import parse_metric

    monkeypatch.setenv("WGAN_CACHE", str(tmp_path / "cache"))
    weights = tmp_path / "weights.pth"
    weights.write_bytes(b"stand-in weights")
    net = small_net()
    plan = Plan([], inception={"inception": net}, inception_weights=str(weights))

    def run(data: str) -> _Measuring:
        cfg = Config()
        trainer = SimpleNamespace(cfg=replace(cfg, data=replace(cfg.data, name=data)), eval_cache={},
                                  sampler=SimpleNamespace(validation=None))
        return _Measuring(trainer, plan)

    fid_inception, fid_classifier = parse_metric("fid100_inception"), parse_metric("fid100_classifier")
    named = run("mnist")
    path = named.cached_stats_file(fid_inception)
    assert path is not None and path.parent == tmp_path / "cache" / "fid-stats" and path.name.startswith("mnist-n100-")
    assert f"-weights{hashlib.sha256(b'stand-in weights').hexdigest()[:12]}-" in path.name
    stats = named.cached_stats(fid_inception, images(100, 1), net)
    assert path.is_file() and stats[0].shape == (16,)
    assert named.cached_stats_file(fid_classifier) is None  # classifier features: a user's file, never cached
    assert run("digits").cached_stats_file(fid_inception) is None  # not a fetched dataset
    assert run(str(tmp_path)).cached_stats(fid_inception, images(100, 1), net) is None  # a folder may change

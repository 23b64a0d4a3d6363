"""Image metrics: closed forms of FID/KID/IS through a feature network, MS-SSIM, mode counting, the
library's classifier, the Inception loader's errors, and the images data kind in a tiny run."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from wgan.errors import ConfigError
from wgan.io import read_json
from wgan.metrics import frechet_distance_from_samples
from wgan.metrics.classifier import load_classifier, save_classifier, train_classifier
from wgan.metrics.image_metrics import (
    FeatureNetwork,
    classifier_network,
    fid,
    inception_score,
    independent_critic_w,
    kid,
    ms_ssim_diversity,
    ms_ssim_pairs,
    ms_ssim_settings,
    parse_metric,
    stacked_mnist_modes,
)


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    """Small convs and feature maps: one torch thread is faster, and much faster on a loaded machine."""
    yield


def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 8 - 1  # (1797, 1, 8, 8) in [-1, 1]
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    return x[perm], torch.tensor(d.target)[perm]


class _Linear(nn.Module):
    """A fixed linear feature map of flattened images, with ``num_features`` as torchmetrics reads it."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)
        self.num_features = d_out

    def forward(self, x):
        return self.lin(x.flatten(1))


class _OneHot(nn.Module):
    """Logits = 50 * one-hot of the class written in pixel (0, 0, 0) (an integer 0..K-1)."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k, self.num_features = k, k
        self.dummy = nn.Parameter(torch.zeros(()))  # a parameter, so the metrics find a device

    def forward(self, x):
        return 50.0 * nn.functional.one_hot(x[:, 0, 0, 0].long(), self.k).double()


@pytest.fixture(scope="module")
def linear_net() -> FeatureNetwork:
    torch.manual_seed(0)
    lin = _Linear(64, 8)
    return FeatureNetwork("classifier", lin, lin, "fixed linear map")


def test_fid_matches_frechet_distance_and_vanishes_on_itself(linear_net):
    g = torch.Generator().manual_seed(1)
    a = torch.rand(400, 1, 8, 8, generator=g) * 2 - 1
    b = (torch.rand(300, 1, 8, 8, generator=g) * 2 - 1) * 0.7 + 0.1
    assert fid(a, a, linear_net) == pytest.approx(0.0, abs=1e-6)
    with torch.no_grad():
        fa, fb = linear_net.features(a).double().numpy(), linear_net.features(b).double().numpy()
    expected = frechet_distance_from_samples(fa, fb)
    assert expected > 0.01
    assert fid(a, b, linear_net, batch_size=128) == pytest.approx(expected, rel=1e-6)


def test_kid_unbiased_near_zero_for_same_distribution(linear_net):
    g = torch.Generator().manual_seed(2)
    a = torch.rand(600, 1, 8, 8, generator=g) * 2 - 1
    b = torch.rand(600, 1, 8, 8, generator=g) * 2 - 1
    c = a * 0.5 + 0.5
    same, _ = kid(a, b, linear_net, subsets=20, subset_size=300)
    different, _ = kid(a, c, linear_net, subsets=20, subset_size=300)
    assert abs(same) < 0.1 * different
    assert kid(a, b, linear_net, subsets=20, subset_size=300) == kid(a, b, linear_net, subsets=20, subset_size=300)


@pytest.mark.parametrize("k", [3, 10])
def test_inception_score_closed_forms(k):
    net = FeatureNetwork("classifier", _OneHot(k), _OneHot(k), "one-hot")
    x = torch.zeros(20 * k, 1, 4, 4)
    x[:, 0, 0, 0] = torch.arange(20 * k) % k  # every class equally often: p(y) uniform, p(y|x) one-hot
    mean, _ = inception_score(x, net, splits=1)
    assert mean == pytest.approx(k, rel=1e-9)
    x[:, 0, 0, 0] = 1  # every prediction the same: KL(p(y|x) || p(y)) = 0
    mean, std = inception_score(x, net, splits=4)
    assert mean == pytest.approx(1.0, abs=1e-9) and std == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("side,expected", [(8, (2, 3)), (28, (3, 7)), (32, (3, 7)), (64, (4, 7)), (180, (5, 11))])
def test_ms_ssim_settings_and_identity(side, expected):
    scales, k, _, betas = ms_ssim_settings(side, side)
    assert (scales, k) == expected and sum(betas) == pytest.approx(1.0)
    x = torch.rand(3, 1, side, side, generator=torch.Generator().manual_seed(side)) * 2 - 1
    torch.testing.assert_close(ms_ssim_pairs(x, x), torch.ones(3), atol=1e-5, rtol=0)
    assert ms_ssim_pairs(x, -x).max() < 0.5


def test_ms_ssim_diversity_orders_collapse_above_variety():
    x, _ = _digits()
    noise = torch.randn(50, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    collapsed = x[:1].expand(50, -1, -1, -1) + 0.01 * noise
    assert ms_ssim_diversity(collapsed, 100) > 0.95
    assert ms_ssim_diversity(x[:200], 100) < 0.8


def test_stacked_mnist_mode_counting_on_constructed_images():
    # a "classifier" reading the digit from the mean pixel value: digit d is drawn as a constant image d/10
    class MeanDigit(nn.Module):
        def __init__(self):
            super().__init__()
            self.dummy = nn.Parameter(torch.zeros(()))

        def forward(self, x):  # (B, 1, H, W) -> (B, 10)
            d = (x.mean((1, 2, 3)) * 10).round().long()
            return nn.functional.one_hot(d, 10).float()

    triples = torch.tensor([[1, 2, 3], [1, 2, 3], [9, 0, 0], [4, 5, 6]])
    x = (triples.float() / 10)[:, :, None, None].expand(-1, -1, 6, 6)  # (4, 3, 6, 6)
    m = stacked_mnist_modes(x, MeanDigit(), batch_size=3)
    assert m.modes_hit == 3 and m.counts[123] == 2 and m.counts[900] == 1 and m.counts[456] == 1
    expected_kl = 0.5 * math.log(1000 * 0.5) + 2 * 0.25 * math.log(1000 * 0.25)
    assert m.kl_to_uniform == pytest.approx(expected_kl)
    every = torch.arange(1000)
    digits = torch.stack([every // 100, every // 10 % 10, every % 10], 1).float() / 10
    m = stacked_mnist_modes(digits[:, :, None, None].expand(-1, -1, 4, 4), MeanDigit())
    assert m.modes_hit == 1000 and m.kl_to_uniform == pytest.approx(0.0, abs=1e-12)


@pytest.fixture(scope="module")
def digits_classifier(tmp_path_factory):
    """A tiny classifier trained on 1,400 digits, measured on the other 397, saved to a file."""
    from wgan.experiments._common import single_thread

    x, y = _digits()
    with single_thread():
        net, info = train_classifier(x[:1400], y[:1400], x[1400:], y[1400:], 10, dataset="digits", steps=250,
                                     width=16, n_features=32)
    path = tmp_path_factory.mktemp("clf") / "digits.pt"
    save_classifier(path, net, info)
    return net, info, path


def test_classifier_trains_on_digits_saves_and_scores(digits_classifier):
    x, _ = _digits()
    net, info, path = digits_classifier
    assert info.held_out_accuracy > 0.9 and info.n_held_out == 397 and info.train_time_s < 30
    net2, info2 = load_classifier(path)
    assert info2 == info
    torch.testing.assert_close(net2(x[:5]), net(x[:5]))
    cnet = classifier_network(net2, info2)
    assert cnet.features.num_features == 32 and cnet.logits.num_features == 10
    assert "digits" in cnet.description
    real, held = x[:600], x[1200:1797]
    assert fid(real, held, cnet) < fid(real, torch.rand_like(held) * 2 - 1, cnet)
    is_real, _ = inception_score(held, cnet)
    assert 5 < is_real <= 10
    with pytest.raises(ConfigError, match="shape"):
        fid(real, torch.zeros(10, 1, 9, 9), cnet)


def test_classifier_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_classifier(tmp_path / "missing.pt")
    torch.save({"a": 1}, tmp_path / "foreign.pt")
    with pytest.raises(ConfigError, match="not a classifier"):
        load_classifier(tmp_path / "foreign.pt")


def test_inception_weights_missing_or_wrong_is_config_error(tmp_path):
    from wgan.metrics.inception import load_fid_inception

    with pytest.raises(ConfigError, match="does not exist.*pt_inception-2015-12-05"):
        load_fid_inception(tmp_path / "nope.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    with pytest.raises(ConfigError, match="cannot read"):
        load_fid_inception(tmp_path / "junk.pth")
    torch.save(nn.Linear(3, 2).state_dict(), tmp_path / "other.pth")
    with pytest.raises(ConfigError, match="not an Inception"):
        load_fid_inception(tmp_path / "other.pth")
    # torchvision's ImageNet inception_v3 weights (1,000 classes) are not the FID network's
    torch.save({"fc.weight": torch.zeros(1000, 2048), "fc.bias": torch.zeros(1000)}, tmp_path / "tv.pth")
    with pytest.raises(ConfigError, match="1000-class fc"):
        load_fid_inception(tmp_path / "tv.pth")
    torch.save({"fc.weight": torch.zeros(1008, 2048), "fc.bias": torch.zeros(1008)}, tmp_path / "partial.pth")
    with pytest.raises(ConfigError, match="does not match"):
        load_fid_inception(tmp_path / "partial.pth")
    # a pickle that would run code is refused by weights_only loading
    torch.save({"fc.weight": _Evil()}, tmp_path / "evil.pth")
    with pytest.raises(ConfigError, match="refused to load .*nothing was run"):
        load_fid_inception(tmp_path / "evil.pth")


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


# ---------------------------------------------------------------------------------------------- FID Inception
@pytest.fixture(scope="module")
def fid_weights(tmp_path_factory):
    """(path, state): random FID-network weights saved as pytorch-fid's file is (a state_dict, 1008 classes)."""
    from wgan.metrics.inception import random_fid_state

    state = random_fid_state(0)
    path = tmp_path_factory.mktemp("inception") / "pt_inception-random.pth"
    torch.save(state, path)
    return path, state


def test_fid_inception_equals_pytorch_fid_network_on_the_same_random_weights(fid_weights, monkeypatch):
    """pytorch-fid's InceptionV3 (dev extra; its constructor would download its weights: load_state_dict_from_url
    is replaced by our random weights and sockets are closed) is the oracle of the FID graph. Negative control:
    torchvision's Inception3 (padding counted in the average pools, an average pool in Mixed_7c) with the same
    weights is far from it."""
    import socket

    pfi = pytest.importorskip("pytorch_fid.inception")
    from torchvision.models.inception import Inception3

    from wgan.metrics.inception import inception_network, quantize_8bit

    def no_network(*args, **kwargs):
        raise AssertionError("the test tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    path, state = fid_weights
    monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *a, **k: dict(state))  # the same names: no mapping
    oracle = pfi.InceptionV3([3], resize_input=True, normalize_input=True, use_fid_inception=True).eval()
    ours = inception_network(path, network="inception_pytorchfid")

    pixels = torch.randint(0, 256, (2, 3, 64, 64), generator=torch.Generator().manual_seed(1)).float()
    x = pixels / 127.5 - 1  # 8-bit images in [-1, 1], as the data pipeline decodes them
    assert torch.equal(quantize_8bit(x), pixels)
    with torch.no_grad():
        expected = oracle(pixels / 255)[0].flatten(1)  # (2, 2048)
        got = ours.features(x)
        logits = ours.logits(x[:1])
        tv = Inception3(num_classes=1008, aux_logits=False, transform_input=False, init_weights=False).eval()
        tv.load_state_dict(state)
        h = 2 * nn.functional.interpolate(pixels[:1] / 255, size=(299, 299), mode="bilinear", align_corners=False) - 1
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
                     "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
                     "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"):
            h = getattr(tv, name)(h)
    assert got.shape == (2, 2048) and 0.1 < float(expected.abs().mean()) < 10  # features of order 1
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert float((h.flatten(1) - expected[:1]).abs().max()) > 0.1  # torchvision's blocks are another network
    # the Inception Score's logits: pool3 @ W, no bias (tflib/inception_score.py)
    torch.testing.assert_close(logits, got[:1] @ state["fc.weight"].t(), atol=1e-5, rtol=1e-5)
    assert ours.logits.num_features == 1008 and ours.features.num_features == 2048


def test_tf1_resize_follows_tensorflow_1x_resize_bilinear():
    """TF 1.x ResizeBilinear (align_corners=False): output i reads input position i * in / out, neighbours
    floor and min(floor + 1, in - 1). Checked against a scalar loop of that formula and the known 2 -> 4 case."""
    import math

    from wgan.metrics.inception import inception_input, resize_bilinear_tf1

    row = torch.tensor([[[[10.0, 20.0]]]])
    torch.testing.assert_close(resize_bilinear_tf1(row, (1, 4)), torch.tensor([[[[10.0, 15.0, 20.0, 20.0]]]]))
    x = torch.rand(2, 3, 5, 7, generator=torch.Generator().manual_seed(0))
    for size in ((11, 13), (3, 4), (299, 299)):
        got = resize_bilinear_tf1(x, size)
        ref = torch.zeros(2, 3, *size)
        for i in range(size[0]) if size[0] < 50 else (0, 1, 150, 297, 298):
            fy = i * 5 / size[0]
            y0, dy = math.floor(fy), fy - math.floor(fy)
            y1 = min(y0 + 1, 4)
            for j in range(size[1]) if size[1] < 50 else (0, 2, 200, 298):
                fx = j * 7 / size[1]
                x0, dx = math.floor(fx), fx - math.floor(fx)
                x1 = min(x0 + 1, 6)
                top = x[..., y0, x0] + (x[..., y0, x1] - x[..., y0, x0]) * dx
                bottom = x[..., y1, x0] + (x[..., y1, x1] - x[..., y1, x0]) * dx
                ref[..., i, j] = top + (bottom - top) * dy
                torch.testing.assert_close(got[..., i, j], ref[..., i, j], atol=1e-5, rtol=0)
    # the graph's scaling: 0..255 pixels -> (p - 128) / 128; pytorch-fid's: p / 255 -> [-1, 1]
    black, white = -torch.ones(1, 1, 4, 4), torch.ones(1, 1, 4, 4)
    torch.testing.assert_close(inception_input(black, "tf1"), torch.full((1, 3, 299, 299), -1.0))
    torch.testing.assert_close(inception_input(white, "tf1"), torch.full((1, 3, 299, 299), 127 / 128))
    torch.testing.assert_close(inception_input(white, "pytorch-fid"), torch.full((1, 3, 299, 299), 1.0))
    with pytest.raises(ConfigError, match="1 or 3"):
        inception_input(torch.zeros(1, 2, 4, 4))


def test_official_inception_score_uses_consecutive_splits_and_population_std():
    """The official protocol (tflib/inception_score.py): consecutive splits in order, numpy's std (ddof 0).
    Images of class 0 then class 1: each consecutive split holds one class (IS 1 each), where torchmetrics'
    shuffled splits mix both classes (IS near 2)."""
    from wgan.metrics.image_metrics import inception_score_official

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(7) * 0.3, size=103)  # 103 rows: splits of 10 and 11 rows
    mean, std = inception_score_official(torch.tensor(probs), splits=10)
    scores = []  # the formula of tflib/inception_score.py:47-53, written out in numpy
    for i in range(10):
        part = probs[i * 103 // 10:(i + 1) * 103 // 10]
        kl = part * (np.log(part) - np.log(np.mean(part, 0, keepdims=True)))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    assert mean == pytest.approx(np.mean(scores), rel=1e-12) and std == pytest.approx(np.std(scores), rel=1e-9)
    assert std != pytest.approx(np.std(scores, ddof=1), rel=1e-3)

    net = FeatureNetwork("inception", _OneHot(2), _OneHot(2), "one-hot")
    x = torch.zeros(100, 1, 4, 4)
    x[50:, 0, 0, 0] = 1  # class 0 then class 1
    official, _ = inception_score(x, net, protocol="official")
    shuffled, _ = inception_score(x, net, protocol="torchmetrics")
    assert official == pytest.approx(1.0, abs=1e-9) and shuffled > 1.5
    x[:, 0, 0, 0] = torch.arange(100) % 2  # both classes in every split: p(y) uniform, p(y|x) one-hot
    assert inception_score(x, net, protocol="official")[0] == pytest.approx(2.0, rel=1e-9)
    with pytest.raises(ConfigError, match="at least 10"):
        inception_score(x[:5], net, protocol="official")


def test_metric_names_state_their_protocol():
    s = parse_metric("fid5k_classifier")
    assert (s.family, s.count, s.network, s.name) == ("fid", 5000, "classifier", "fid5k_classifier")
    assert parse_metric("msssim250_pairs").count == 250
    assert parse_metric("is50k_inception_torchmetrics").network == "inception_torchmetrics"
    assert parse_metric("fid50k_inception_pytorchfid").network == "inception_pytorchfid"
    for bad in ("fid_classifier", "fid5k_pairs", "xyz5k_classifier", "fid5k_inception_torchmetrics",
                "is5k_inception_pytorchfid", "is9_inception"):
        with pytest.raises(ConfigError, match="valid|works with|10 splits"):
            parse_metric(bad)


def test_independent_critic_separates_shifted_data():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(800, 1, 4, 4, generator=g)
    fake = torch.randn(800, 1, 4, 4, generator=g)

    def make():
        return nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1), nn.Flatten(0))

    near = independent_critic_w(make, real[:400], fake[:400], real[400:], fake[400:], steps=150, lr=1e-3)
    far = independent_critic_w(make, real[:400], fake[:400] + 1.0, real[400:], fake[400:] + 1.0, steps=150, lr=1e-3)
    # W1 between N(0, I) and N(1, I) in 16 dimensions is |shift| * 4 = 4; a 1-Lipschitz critic stays below it
    assert far.w_estimate > 2.0 and far.w_estimate < 4.4
    assert abs(near.w_estimate) < 0.5


def test_independent_critic_sees_images_near_zero():
    """The independent critic of an image run is the run's critic family without normalisation: a layer-norm
    critic cannot see its input's scale, so images within 1e-4 of 0 (an untrained DCGAN generator's) looked to
    it much closer to the data than an all-black batch (here 11.4 against 18.1; on 32x32 stacked MNIST 0.30
    against 47.5), though they are no closer."""
    from dataclasses import replace

    from wgan import Trainer
    from wgan.config import Config, apply_sets
    from wgan.kinds.image_runs import _critic_real, independent_critic_config
    from wgan.nets import build_critic

    tr = Trainer(apply_sets(Config(), ["generator.net=dcgan", "critic.net=dcgan", "generator.width=8",
                                       "critic.width=8", "data.name=digits", "data.image_size=16",
                                       "critic.norm=batch", "objective.name=ns-gan"]))
    cc = independent_critic_config(tr.cfg.critic)
    assert cc.norm == "none" and independent_critic_config(replace(tr.cfg.critic, norm="layer")).norm == "none"
    real_a, real_b, _ = _critic_real(tr, 128)
    g = torch.Generator().manual_seed(0)

    def w(fake_a, fake_b):
        return independent_critic_w(lambda: build_critic(cc, tr.sampler.shape), real_a, fake_a, real_b, fake_b,
                                    steps=200, lr=1e-3, seed=0).w_estimate

    near = w(1e-4 * torch.randn(real_a.shape, generator=g), 1e-4 * torch.randn(real_b.shape, generator=g))
    black = w(-torch.ones_like(real_a), -torch.ones_like(real_b))
    assert near > 0.85 * black > 0  # layer norm: 0.63 x


# ---------------------------------------------------------------------------------------------- the images kind
TINY_IMAGES = ["generator.net=dcgan", "critic.net=dcgan", "generator.width=8", "critic.width=8",
               "generator.latent_dim=8", "data.name=digits", "eval.n_samples=200"]


def test_tiny_image_run_writes_grid_and_summary_with_protocol(tmp_path, digits_classifier):
    from wgan import Trainer

    from .helpers import tiny_config

    _, info, path = digits_classifier
    tr = Trainer(tiny_config(*TINY_IMAGES, f"eval.classifier={path}"))
    summary = tr.fit(tmp_path / "run")
    assert (tmp_path / "run" / "samples" / "step-0000004.png").is_file()
    assert summary["fid200_classifier"] > summary["fid200_classifier_val"] > 0
    assert 1 <= summary["is200_classifier"] <= 10 and summary["classifier_held_out_accuracy"] == info.held_out_accuracy
    assert 0 < summary["msssim200_pairs_real"] < 1
    p = summary["protocol"]
    assert "200 generated and 200 reference" in p["fid200_classifier"] and "held-out accuracy" in p["fid200_classifier"]
    assert "validation" in p["fid200_classifier"]
    rows = [__import__("json").loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert "eval/fid200_classifier" in rows[-1]


def test_without_classifier_reports_ms_ssim_and_says_why():
    from wgan import Trainer

    from .helpers import tiny_config

    tr = Trainer(tiny_config(*TINY_IMAGES, "train.steps=1"))
    s = tr.fit(None)
    assert "msssim200_pairs" in s and not any(k.startswith("fid") for k in s)
    assert "eval.classifier" in s["protocol"]["absent fid/is"]


def test_wgan_eval_on_an_image_run(tmp_path, digits_classifier, capsys):

    from wgan.cli import main

    _, _, path = digits_classifier
    sets = [a for item in TINY_IMAGES + ["train.steps=2", "data.batch_size=16"] for a in ("--set", item)]
    assert main(["train", "--out", str(tmp_path), *sets]) == 0
    run = next(tmp_path.iterdir())
    assert main(["eval", str(run), "--metrics", "fid5k_classifier,kid5k_classifier,msssim1k_pairs",
                 "--classifier", str(path), "--n-samples", "150"]) == 0
    ev = read_json(run / "eval.json")
    assert {"fid150_classifier", "kid150_classifier", "kid150_classifier_std", "msssim150_pairs"} <= set(ev)
    assert set(ev["protocol"]) >= {"fid150_classifier", "kid150_classifier", "msssim150_pairs"}
    capsys.readouterr()
    assert main(["eval", str(run), "--metrics", "fid5k_inception"]) == 2
    assert "inception_weights" in capsys.readouterr().err
    assert main(["eval", str(run), "--metrics", "fid5k_pairs"]) == 2


def test_wgan_eval_inception_metrics_state_their_protocols(tmp_path, fid_weights, monkeypatch, capsys):
    """The *_inception* names reach their input path and IS protocol (the network's forward replaced by a cheap
    fixed map of the 299x299 input, so the wiring is tested in seconds; the network itself is tested above).
    KID stands for FID here: torchmetrics' FID of 2048 features costs ~10 s of eigendecomposition each."""

    from wgan.cli import main
    from wgan.metrics import inception as inc

    proj = torch.randn(3, 2048, generator=torch.Generator().manual_seed(0))
    seen = []

    def cheap(self, x):  # (B, 3, 299, 299) -> (B, 2048)
        seen.append(x.shape)
        return x.mean((2, 3)) @ proj

    monkeypatch.setattr(inc.FIDInception, "forward", cheap)
    sets = [a for item in TINY_IMAGES + ["train.steps=2", "data.batch_size=16"] for a in ("--set", item)]
    assert main(["train", "--out", str(tmp_path), *sets]) == 0
    run = next(tmp_path.iterdir())
    names = "kid5k_inception,kid5k_inception_pytorchfid,is5k_inception,is5k_inception_torchmetrics"
    assert main(["eval", str(run), "--metrics", names, "--inception-weights", str(fid_weights[0]),
                 "--n-samples", "20"]) == 0
    ev = read_json(run / "eval.json")
    assert seen and all(s[1:] == (3, 299, 299) for s in seen)
    for key in ("kid20_inception", "kid20_inception_pytorchfid", "is20_inception", "is20_inception_torchmetrics"):
        assert math.isfinite(ev[key]) and key in ev["protocol"]
    assert ev["kid20_inception"] != ev["kid20_inception_pytorchfid"]  # two input paths
    assert ev["is20_inception_std"] != ev["is20_inception_torchmetrics_std"]  # two split protocols
    p = ev["protocol"]
    assert "TF1 ResizeBilinear" in p["kid20_inception"]
    assert "pytorch-fid's input path" in p["kid20_inception_pytorchfid"]
    assert "consecutive splits" in p["is20_inception"] and "population std" in p["is20_inception"]
    assert "random permutation" in p["is20_inception_torchmetrics"]
    assert "8 bits" in p["is20_inception"] and "no bias" in p["is20_inception"]


def test_classifier_cli_writes_a_measured_file(tmp_path, capsys):
    from wgan.cli import main

    assert main(["classifier", "train", "--data", "digits", "--out", str(tmp_path / "c.pt"), "--steps", "20"]) == 0
    _, info = load_classifier(tmp_path / "c.pt")
    assert info.dataset == "digits" and info.steps == 20 and info.shape == [1, 8, 8] and info.n_held_out > 0
    assert "held-out accuracy" in capsys.readouterr().out
    assert main(["classifier", "train", "--data", "digits", "--out", str(tmp_path / "c.pt")]) == 2  # exists


def test_conditional_grid_has_one_row_per_class(tmp_path):
    from types import SimpleNamespace

    from PIL import Image

    from wgan.kinds.image_runs import grid_images, save_grid

    def generate(n, seed, labels=None):  # class c -> a constant image of value -1 + c (classes 0, 1, 2)
        return (labels.float() - 1.0)[:, None, None, None].expand(n, 1, 4, 4).clone()

    tr = SimpleNamespace(conditional=True, n_classes=3, generate=generate, sampler=SimpleNamespace(shape=(1, 4, 4)),
                         cfg=SimpleNamespace(train=SimpleNamespace(seed=0)))
    x, per_row = grid_images(tr)
    assert x.shape == (24, 1, 4, 4) and per_row == 8
    save_grid(x, per_row, tmp_path / "g.png")
    img = torch.from_numpy(np.array(Image.open(tmp_path / "g.png").convert("L")))
    assert img.shape == (3 * 6 + 2, 8 * 6 + 2)
    row_values = [img[2 + 6 * r + 1, 2 + 6 * c + 1].item() for r in range(3) for c in range(8)]
    assert row_values == [0] * 8 + [128] * 8 + [255] * 8


def test_image_eval_options_refuse_a_points_run(tmp_path, capsys):
    from wgan.cli import main

    from .helpers import TINY

    assert main(["train", "--out", str(tmp_path), *[a for item in TINY for a in ("--set", item)]]) == 0
    run = next(tmp_path.iterdir())
    capsys.readouterr()
    assert main(["eval", str(run), "--metrics", "fid5k_classifier"]) == 2
    assert "image runs" in capsys.readouterr().err

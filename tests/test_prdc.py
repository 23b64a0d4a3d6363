"""Precision, recall, density, coverage (wgan.metrics.prdc): equal to the authors' reference implementation
(the ``prdc`` package, a dev-only test oracle) on random features with ties and duplicates, the constructed
cases (identical, disjoint, collapsed), bounded-memory blocks, bad input, and the image and points wiring."""

import contextlib
import io
import math

import pytest
import torch

from wgan.errors import ConfigError
from wgan.metrics import prdc as prdc_module
from wgan.metrics.image_metrics import FeatureNetwork, parse_metric, protocol_text
from wgan.metrics.prdc import PRDC, knn_radii, prdc

from .helpers import tiny_config


def _oracle(real: torch.Tensor, fake: torch.Tensor, k: int) -> dict[str, float]:
    prdc_ref = pytest.importorskip("prdc")
    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the sample counts
        out = prdc_ref.compute_prdc(real.double().numpy(), fake.double().numpy(), nearest_k=k)
    return {key: float(v) for key, v in out.items()}


def _assert_close(ours: PRDC, theirs: dict[str, float]) -> None:
    for key, v in ours.as_dict().items():
        assert v == pytest.approx(theirs[key], abs=1e-12), key


@pytest.mark.parametrize("n,m,dim,k", [(60, 60, 2, 1), (80, 50, 2, 3), (150, 220, 16, 5), (300, 120, 64, 10)])
def test_equals_the_reference_implementation_on_random_features(n, m, dim, k):
    g = torch.Generator().manual_seed(n + m + dim + k)
    real = torch.randn(n, dim, generator=g, dtype=torch.float64)
    fake = 0.8 * torch.randn(m, dim, generator=g, dtype=torch.float64) + 0.3  # overlapping, not equal
    _assert_close(prdc(real, fake, k), _oracle(real, fake, k))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_equals_the_reference_implementation_with_ties_and_duplicates(k):
    """Integer points on a small grid: many equal distances (ties at the radii), repeated rows within each
    set and rows shared by both sets; integer coordinates keep every distance exact in both implementations."""
    g = torch.Generator().manual_seed(k)
    real = torch.randint(0, 4, (90, 3), generator=g).double()
    fake = torch.cat([torch.randint(0, 5, (60, 3), generator=g).double(), real[:10], real[:10]])
    ours = prdc(real, fake, k)
    assert len(torch.unique(real, dim=0)) < len(real)  # duplicates are there
    _assert_close(ours, _oracle(real, fake, k))


def test_blocks_give_the_same_numbers(monkeypatch):
    g = torch.Generator().manual_seed(3)
    real, fake = torch.randn(210, 5, generator=g), torch.randn(170, 5, generator=g) + 0.5
    whole = prdc(real, fake, 4)
    monkeypatch.setattr(prdc_module, "BLOCK_ENTRIES", 1000)  # blocks of 4-5 rows
    assert prdc(real, fake, 4) == whole
    r = real.double()
    assert torch.allclose(knn_radii(r, 4), torch.cdist(r, r).sort(1).values[:, 4], rtol=0, atol=1e-12)


def test_identical_sets_give_one_and_density_exactly_one():
    """Each real ball then holds its own centre and the k - 1 nearer neighbours (no tied distances in continuous
    data), so density = k M / (k M) = 1 exactly, and precision, recall and coverage are 1."""
    x = torch.randn(400, 2, generator=torch.Generator().manual_seed(0))
    for k in (1, 3, 5):
        assert prdc(x, x.clone(), k) == PRDC(1.0, 1.0, 1.0, 1.0)


def test_disjoint_far_apart_sets_give_zero():
    g = torch.Generator().manual_seed(1)
    real, fake = torch.randn(300, 2, generator=g), torch.randn(300, 2, generator=g) + 100.0
    assert prdc(real, fake, 5) == PRDC(0.0, 0.0, 0.0, 0.0)


def _eight_gaussians(n: int, seed: int, modes: int = 8) -> torch.Tensor:
    from wgan.data import make_sampler

    s = make_sampler("8gaussians")
    x = s.sample(8 * n, torch.Generator().manual_seed(seed))
    nearest = torch.cdist(x, s.modes).argmin(1)
    return x[nearest < modes][:n] if modes < 8 else x[:n]


def test_a_collapsed_generator_has_high_precision_and_low_recall_and_coverage():
    real = _eight_gaussians(2000, 0)
    one_mode = _eight_gaussians(2000, 1, modes=1)  # samples of the first mode only
    point = real[:1] + 1e-3 * torch.randn(2000, 2, generator=torch.Generator().manual_seed(2))  # one real point
    healthy = prdc(real, _eight_gaussians(2000, 3), 5)
    for collapsed in (prdc(real, one_mode, 5), prdc(real, point, 5)):
        assert collapsed.precision > 0.9
        assert collapsed.recall < 0.2 and collapsed.coverage < 0.2
        assert healthy.recall > 0.9 and healthy.coverage > 0.9
    assert prdc(real, point, 5).coverage < 0.01  # only the balls reaching one point


@pytest.mark.parametrize("real,fake,k,match", [
    ((10, 2), (10, 2), 10, "needs more than k samples"),
    ((10, 2), (4, 2), 4, "needs more than k samples"),
    ((10, 2), (10, 2), 0, "positive integer"),
    ((10, 2), (10, 3), 3, "one width"),
    ((10,), (10,), 3, "one width"),
])
def test_bad_input_is_one_line(real, fake, k, match):
    with pytest.raises(ConfigError, match=match) as e:
        prdc(torch.zeros(real), torch.zeros(fake), k)
    assert "\n" not in str(e.value)


def test_non_finite_samples_give_nan():
    fake = torch.zeros(20, 2)
    fake[3, 0] = math.nan
    assert all(math.isnan(v) for v in prdc(torch.randn(20, 2), fake, 3).as_dict().values())


def test_metric_names_state_k_and_the_count():
    s = parse_metric("prdc5k_5nn_classifier")
    assert (s.family, s.count, s.k, s.network, s.name) == ("prdc", 5000, 5, "classifier", "prdc5k_5nn_classifier")
    assert parse_metric("prdc2000_3nn_inception").name == "prdc2k_3nn_inception"
    text = protocol_text(parse_metric("prdc300_3nn_classifier"))
    assert "300 generated vs 300 reference" in text and "k = 3 nearest" in text
    for bad, match in [("prdc5k_classifier", "needs k nearest"), ("fid5k_5nn_classifier", "takes no k"),
                       ("prdc5_5nn_classifier", "below the sample count"), ("prdc5k_5nn_pairs", "works with")]:
        with pytest.raises(ConfigError, match=match):
            parse_metric(bad)


class _Stub:
    """What the prdc family draws on at an image evaluation: real images drawn by seed, fixed fakes."""

    seed, n_samples, has_val = 0, 40, True

    def __init__(self, fake: torch.Tensor) -> None:
        self._fake = fake
        lin = torch.nn.Linear(16, 4)
        self._net = FeatureNetwork("classifier", torch.nn.Sequential(torch.nn.Flatten(), lin), lin, "a linear map")

    def real(self, split: str, n: int, seed: int) -> torch.Tensor:
        return torch.randn(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))

    def fake(self, n: int) -> torch.Tensor:
        return self._fake[:n]

    def net(self, network: str) -> FeatureNetwork:
        return self._net


def test_image_family_measures_all_four_and_the_validation_baseline():
    from wgan.metrics.image_metrics import IMAGE_METRICS

    spec = parse_metric("prdc40_3nn_classifier")
    far = _Stub(torch.randn(40, 1, 4, 4, generator=torch.Generator().manual_seed(5)) + 50.0)
    out = IMAGE_METRICS["prdc"].measure(far, spec)
    assert set(out) == {f"_{p}{key}" for p in ("", "val_") for key in ("precision", "recall", "density", "coverage")}
    assert out["_precision"] == out["_recall"] == out["_coverage"] == 0.0
    assert out["_val_recall"] > 0.5  # validation draws of the same distribution overlap the reference
    real_like = _Stub(_Stub(torch.zeros(0)).real("train", 40, 10_000))  # the reference itself
    assert IMAGE_METRICS["prdc"].measure(real_like, spec)["_density"] == 1.0
    assert "_val_" in IMAGE_METRICS["prdc"].baseline(far, spec)


def test_wgan_eval_n_samples_keeps_k_in_the_name():
    from wgan.kinds.image_runs import eval_config

    cfg = tiny_config("data.name=digits", "generator.net=dcgan", "critic.net=dcgan")
    out = eval_config(cfg, metrics="prdc5k_5nn_classifier,fid5k_classifier", n_samples=300)
    assert out.eval.metrics == "prdc300_5nn_classifier,fid300_classifier"
    with pytest.raises(ConfigError, match="below the sample count"):
        eval_config(cfg, metrics="prdc5k_5nn_classifier", n_samples=5)


def test_points_run_reports_prdc_with_its_protocol():
    from wgan import Trainer

    s = Trainer(tiny_config("train.steps=2")).fit(None)
    for key in ("precision", "recall", "coverage"):
        assert 0.0 <= s[key] <= 1.0
    assert s["density"] >= 0.0
    assert "200 generated vs 200 data points" in s["protocol"]["prdc"] and "k = 5" in s["protocol"]["prdc"]


def test_points_run_with_too_few_evaluation_points_says_why():
    from wgan import Trainer

    s = Trainer(tiny_config("train.steps=2", "eval.n_samples=5")).fit(None)
    assert "precision" not in s and "eval.n_samples is 5" in s["protocol"]["prdc"]

"""Toy distributions as the WGAN-GP authors' ``gan_toy.py`` builds them, and user point files."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from wgan.data import TOY_DATA, GaussianMixture, PointSet, make_sampler
from wgan.errors import ConfigError


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _eight_centres() -> torch.Tensor:
    s = 1.0 / math.sqrt(2)
    unit = [(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)]
    return 2.0 * torch.tensor(unit, dtype=torch.float64) / 1.414


def _check_mixture(x: torch.Tensor, centres: torch.Tensor, std: float) -> None:
    """Every sample within 5 std of a centre, per-mode std ~ std, modes ~ uniform."""
    x = x.double()
    d, idx = torch.cdist(x, centres).min(dim=1)
    assert d.max().item() < 5 * std
    k = len(centres)
    counts = torch.bincount(idx, minlength=k).double()
    expected = len(x) / k
    # multinomial sd is sqrt(n p (1 - p)) < sqrt(expected); allow 5 sd
    assert (counts - expected).abs().max().item() < 5 * math.sqrt(expected)
    for j in range(k):
        pts = x[idx == j]
        resid = pts - centres[j]
        # per-coordinate std of each mode
        assert resid.std(dim=0).numpy() == pytest.approx([std, std], rel=0.1)
        assert resid.mean(dim=0).abs().max().item() < 5 * std / math.sqrt(len(pts))


def test_eight_gaussians():
    """8 centres 2 * (unit circle points) / 1.414, std 0.02 / 1.414 (gan_toy.py)."""
    sampler = make_sampler("8gaussians")
    x = sampler.sample(20_000, _gen())
    assert x.shape == (20_000, 2) and x.dtype == torch.float32
    centres = _eight_centres()
    _check_mixture(x, centres, 0.02 / 1.414)
    assert sampler.mode_std == pytest.approx(0.02 / 1.414)
    torch.testing.assert_close(sampler.modes.double(), centres, atol=1e-6, rtol=0)


def test_twenty_five_gaussians():
    """5x5 grid (2i, 2j) / 2.828, i, j in -2..2, std 0.05 / 2.828 (gan_toy.py)."""
    sampler = make_sampler("25gaussians")
    x = sampler.sample(25_000, _gen(1))
    assert x.shape == (25_000, 2) and x.dtype == torch.float32
    centres = torch.tensor([(2.0 * i, 2.0 * j) for i in range(-2, 3) for j in range(-2, 3)],
                           dtype=torch.float64) / 2.828
    _check_mixture(x, centres, 0.05 / 2.828)
    assert sampler.mode_std == pytest.approx(0.05 / 2.828)
    assert len(sampler.modes) == 25


def test_swissroll():
    """sklearn swiss roll, columns 0 and 2, / 7.5: radius up to 4.5 pi / 7.5 ~ 1.9 plus noise."""
    sampler = make_sampler("swissroll")
    x = sampler.sample(2000, _gen())
    assert x.shape == (2000, 2) and x.dtype == torch.float32
    assert x.abs().max().item() < 2.25
    r = x.norm(dim=1)
    # t in [1.5 pi, 4.5 pi], points at radius t / 7.5 (noise 0.25 / 7.5 per coordinate)
    assert r.min().item() > 1.5 * math.pi / 7.5 - 0.2
    assert r.max().item() > 1.6  # it is really scaled by 7.5, not larger
    assert sampler.modes is None


@pytest.mark.parametrize("name", list(TOY_DATA))
def test_same_seed_same_batches(name):
    """A caller-owned torch.Generator makes the data stream reproducible (and resumable)."""
    s = make_sampler(name)
    g1, g2 = _gen(42), _gen(42)
    a = [s.sample(64, g1) for _ in range(3)]
    b = [s.sample(64, g2) for _ in range(3)]
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
    assert not torch.equal(a[0], a[1])
    assert not torch.equal(a[0], s.sample(64, _gen(43)))


def test_gaussian_mixture_is_a_mixture():
    assert isinstance(make_sampler("8gaussians"), GaussianMixture)
    assert set(TOY_DATA) == {"8gaussians", "25gaussians", "swissroll"}


def test_pointset_npy(tmp_path):
    """A .npy of (N, D) points: samples are rows of the file, drawn with replacement."""
    pts = np.arange(30, dtype=np.float64).reshape(10, 3)
    path = tmp_path / "pts.npy"
    np.save(path, pts)
    s = make_sampler(str(path))
    assert isinstance(s, PointSet) and s.dim == 3 and s.name == "pts"
    x = s.sample(100, _gen())
    assert x.shape == (100, 3) and x.dtype == torch.float32
    rows = {tuple(r) for r in pts.tolist()}
    assert all(tuple(r) in rows for r in x.tolist())
    assert len({tuple(r) for r in x.tolist()}) == 10  # 100 draws hit all 10 rows
    assert torch.equal(x, s.sample(100, _gen()))


def test_pointset_csv(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("0.5,1.5\n-2,3\n4,-0.25\n")
    s = make_sampler(str(path))
    assert s.dim == 2
    torch.testing.assert_close(s.points, torch.tensor([[0.5, 1.5], [-2, 3], [4, -0.25]]))
    x = s.sample(50, _gen())
    assert x.shape == (50, 2)


def test_pointset_csv_with_one_header_line(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("x,y\n0.5,1.5\n-2,3\n")
    torch.testing.assert_close(make_sampler(str(path)).points, torch.tensor([[0.5, 1.5], [-2, 3]]))
    path.write_text("x,y\nunits,units\n0.5,1.5\n-2,3\n")  # a second text line is not data: refused
    with pytest.raises(ConfigError, match="pts.csv"):
        make_sampler(str(path))


def _write_npy(path, arr):
    np.save(path, arr)
    return path


@pytest.mark.parametrize("case", ["missing", "suffix", "one_d", "nan", "inf", "text_csv", "one_row"])
def test_pointset_errors(tmp_path, case):
    """Unreadable point files raise ConfigError (a ValueError) naming the file."""
    if case == "missing":
        path = tmp_path / "nope.npy"
    elif case == "suffix":
        path = tmp_path / "pts.dat"
        path.write_text("1,2\n3,4\n")
    elif case == "one_d":
        path = _write_npy(tmp_path / "flat.npy", np.arange(5.0))
    elif case == "nan":
        path = _write_npy(tmp_path / "nan.npy", np.array([[1.0, 2.0], [np.nan, 1.0]]))
    elif case == "inf":
        path = tmp_path / "inf.csv"
        path.write_text("1,2\ninf,3\n")
    elif case == "text_csv":
        path = tmp_path / "words.csv"
        path.write_text("a,b\nc,d\n")
    else:
        path = tmp_path / "row.csv"
        path.write_text("1,2\n")
    with pytest.raises(ConfigError) as info:
        make_sampler(str(path))
    assert isinstance(info.value, ValueError)
    assert str(path) in str(info.value)


def test_unknown_name_lists_choices(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        make_sampler("nonsense")
    msg = str(info.value)
    assert "nonsense" in msg
    for name in TOY_DATA:
        assert name in msg

"""The cached data-vs-data W1 floor (wgan.metrics.w1_floor): a hit is bit-identical to recomputing, a miss computes
and writes, a malformed file is recomputed, and another sample count, other seeds or other solver versions are
other entries. Every test has its own cache folder and an empty in-process memo."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch

from wgan import Trainer
from wgan.data import make_sampler
from wgan.metrics import w1_floor as wf
from wgan.metrics.wasserstein import w1_exact

from .helpers import tiny_config


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("WGAN_CACHE", str(folder))
    wf._MEMO.clear()
    yield folder
    wf._MEMO.clear()


@pytest.fixture
def computed(monkeypatch):
    """Counts the exact W1 computations w1_floor makes."""
    calls = []

    def counting(x, y):
        calls.append(len(x))
        return w1_exact(x, y)

    monkeypatch.setattr(wf, "w1_exact", counting)
    return calls


def samples(n: int, seed: int = 0, name: str = "8gaussians") -> tuple[torch.Tensor, torch.Tensor]:
    sampler = make_sampler(name)
    return (sampler.sample(n, torch.Generator().manual_seed(10_000 + seed)),
            sampler.sample(n, torch.Generator().manual_seed(20_000 + seed)))


def entries(folder) -> list:
    return sorted((folder / wf.SUBDIR).glob("*.json"))


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def test_miss_computes_and_writes_then_a_hit_reads_the_same_double(cache, computed):
    a, b = samples(300)
    first = wf.w1_floor(a, b)
    assert computed == [300] and len(entries(cache)) == 1
    assert bits(first) == bits(w1_exact(a, b))
    wf._MEMO.clear()  # a new process: only the file is left
    again = wf.w1_floor(a, b)
    assert computed == [300]  # read back, not recomputed
    assert bits(again) == bits(first)
    entry = json.loads(entries(cache)[0].read_text())
    assert entry["protocol"] == wf.PROTOCOL and entry["n"] == [300, 300] and entry["dim"] == 2
    assert wf.PROTOCOL in entries(cache)[0].name


def test_memo_serves_the_same_process_without_the_file(cache, computed):
    a, b = samples(200)
    first = wf.w1_floor(a, b)
    for path in entries(cache):
        path.unlink()
    assert bits(wf.w1_floor(a.numpy(), b.numpy())) == bits(first)  # the same points as arrays: the same entry
    assert computed == [200]


@pytest.mark.parametrize("content", [
    b"", b"\xff\xfe not utf-8", b"{not json", b"[]", b"null", b'{"floor": 0.1}',
    b'{"protocol": "w1_exact_2k", "format": 1, "key": "KEY", "floor": "0.1"}',
    b'{"protocol": "w1_exact_2k", "format": 1, "key": "KEY", "floor": true}',
    b'{"protocol": "w1_exact_2k", "format": 1, "key": "KEY", "floor": NaN}',
    b'{"protocol": "w1_exact_2k", "format": 1, "key": "KEY", "floor": -1.0}',
    b'{"protocol": "w1_exact_2k", "format": 1, "key": "another", "floor": 0.5}',
    b'{"protocol": "w1_exact_2k", "format": 99, "key": "KEY", "floor": 0.5}',
    b'{"protocol": "another", "format": 1, "key": "KEY", "floor": 0.5}',
])
def test_malformed_file_is_recomputed_and_rewritten(cache, computed, content):
    a, b = samples(200)
    x, y = a.double().numpy(), b.double().numpy()
    key = wf.floor_key(x, y)
    path = wf.cache_path(x, y, key)
    path.parent.mkdir(parents=True)
    path.write_bytes(content.replace(b"KEY", key.encode()))
    value = wf.w1_floor(a, b)
    assert computed == [200]
    assert bits(value) == bits(w1_exact(a, b))
    entry = json.loads(path.read_text())  # replaced by a good entry
    assert entry["key"] == key and bits(entry["floor"]) == bits(value)


def test_a_well_formed_file_is_trusted(cache, computed):
    """What the cache holds is what a hit returns (so the malformed cases above are caught by the checks alone)."""
    a, b = samples(200)
    x, y = a.double().numpy(), b.double().numpy()
    key = wf.floor_key(x, y)
    path = wf.cache_path(x, y, key)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"protocol": wf.PROTOCOL, "format": wf.FORMAT, "key": key, "floor": 0.125}))
    assert wf.w1_floor(a, b) == 0.125 and computed == []


def test_other_count_seeds_data_or_versions_are_other_entries(cache, computed, monkeypatch):
    floors = {wf.w1_floor(*samples(200)), wf.w1_floor(*samples(300)), wf.w1_floor(*samples(200, seed=1)),
              wf.w1_floor(*samples(200, name="25gaussians"))}
    assert computed == [200, 300, 200, 200] and len(entries(cache)) == 4 and len(floors) == 4
    a, b = samples(200)
    wf.w1_floor(b, a)  # the order of the two samples is part of the key
    assert len(entries(cache)) == 5
    monkeypatch.setattr(wf, "solver_versions", lambda: {"pot": "0.0", "scipy": "0.0", "numpy": "0.0"})
    wf.w1_floor(a, b)  # a library upgrade: computed again, never the old entry
    assert computed == [200, 300, 200, 200, 200, 200] and len(entries(cache)) == 6


def test_a_cache_that_cannot_be_written_costs_only_the_recomputation(tmp_path, monkeypatch, computed):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("WGAN_CACHE", str(blocker))
    a, b = samples(200)
    assert bits(wf.w1_floor(a, b)) == bits(w1_exact(a, b)) and computed == [200]


def test_default_folder_is_the_user_cache(monkeypatch, tmp_path):
    """The floors live in the one cache folder of wgan.fetch (datasets, weights, FID statistics)."""
    import wgan.fetch

    monkeypatch.delenv("WGAN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(wgan.fetch.sys, "platform", "linux")
    assert wf.cache_dir() == tmp_path / "xdg" / "wgan"
    monkeypatch.setenv("WGAN_CACHE", str(tmp_path / "mine"))
    assert wf.cache_dir() == tmp_path / "mine"


def test_run_reports_the_same_floor_from_the_cache(cache, computed):
    """A run's floor is the recomputed W1 between its two reference samples, and a second run of the same data
    takes it from the cache with every reported figure unchanged."""
    first = Trainer(tiny_config())
    s1 = first.fit()
    a, b = first.reference_data()
    assert bits(s1["w1_floor"]) == bits(w1_exact(a, b)) and computed == [200]
    wf._MEMO.clear()
    s2 = Trainer(tiny_config()).fit()
    assert computed == [200] and len(entries(cache)) == 1
    drop = ("train_time_s", "wall_time_s")
    assert {k: v for k, v in s1.items() if k not in drop} == {k: v for k, v in s2.items() if k not in drop}


def test_errors_are_those_of_w1_exact():
    with pytest.raises(ValueError, match="non-empty"):
        wf.w1_floor(np.zeros((0, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="dimension"):
        wf.w1_floor(np.zeros((3, 2)), np.zeros((3, 3)))

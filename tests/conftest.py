import os

import pytest
import torch

# Under pytest-xdist (the README's `pytest` runs two workers, see pyproject.toml) each worker gets one of the
# machine's two cores; run alone, a test gets both.
_THREADS = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(_THREADS)
    yield


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Everything wgan caches or fetches goes to one temporary folder, never the user's cache, and nothing touches
    the network (WGAN_OFFLINE=1); subprocesses inherit both. Session-scoped, so that it is in place before any
    module- or class-scoped fixture trains a run (the W1 floors of wgan.metrics.w1_floor)."""
    folder = tmp_path_factory.mktemp("wgan-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WGAN_CACHE", str(folder))
        mp.setenv("WGAN_OFFLINE", "1")
        mp.delenv("WGAN_DOWNLOAD_BASE", raising=False)
        yield folder


@pytest.fixture(autouse=True)
def _offline(_private_cache, monkeypatch):
    """Each test starts offline against the session's temporary cache, whatever an earlier test set; a test that
    serves files on 127.0.0.1 sets WGAN_OFFLINE=0 and its own WGAN_CACHE (tests/test_fetch.py,
    tests/test_w1_floor.py)."""
    monkeypatch.setenv("WGAN_OFFLINE", "1")
    monkeypatch.setenv("WGAN_CACHE", str(_private_cache))
    monkeypatch.delenv("WGAN_DOWNLOAD_BASE", raising=False)


@pytest.fixture
def one_thread():
    """Tiny vectorised networks run faster on one torch thread (see wgan.experiments._common)."""
    from wgan.experiments._common import single_thread

    with single_thread():
        yield

import pytest
import torch


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
    yield


@pytest.fixture(scope="session")
def _private_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("wgan-cache")


@pytest.fixture(autouse=True)
def _cache(_private_cache, monkeypatch):
    """Every test keeps what wgan caches (the W1 floors of wgan.metrics.w1_floor) in a temporary folder, never the
    user's cache; subprocesses inherit it. tests/test_w1_floor.py gives each of its tests a folder of its own."""
    monkeypatch.setenv("WGAN_CACHE", str(_private_cache))


@pytest.fixture
def one_thread():
    """Tiny vectorised networks run faster on one torch thread (see wgan.experiments._common)."""
    from wgan.experiments._common import single_thread

    with single_thread():
        yield

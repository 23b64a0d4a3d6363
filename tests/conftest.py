import pytest
import torch


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
    yield


@pytest.fixture(scope="session")
def _empty_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("wgan-cache")


@pytest.fixture(autouse=True)
def _offline(_empty_cache, monkeypatch):
    """Every test runs offline (WGAN_OFFLINE=1) against an empty temporary cache, never the user's; a test that
    serves files on 127.0.0.1 sets WGAN_OFFLINE=0 and its own WGAN_CACHE (tests/test_fetch.py)."""
    monkeypatch.setenv("WGAN_OFFLINE", "1")
    monkeypatch.setenv("WGAN_CACHE", str(_empty_cache))
    monkeypatch.delenv("WGAN_DOWNLOAD_BASE", raising=False)


@pytest.fixture
def one_thread():
    """Tiny vectorised networks run faster on one torch thread (see wgan.experiments._common)."""
    from wgan.experiments._common import single_thread

    with single_thread():
        yield

import pytest
import torch


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
    yield


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """What wgan caches (the W1 floors of wgan.metrics.w1_floor) goes to a temporary folder, never the user's cache;
    subprocesses inherit it. Session-scoped, so that it is in place before any module- or class-scoped fixture
    trains a run; tests/test_w1_floor.py gives each of its tests a folder of its own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WGAN_CACHE", str(tmp_path_factory.mktemp("wgan-cache")))
        yield


@pytest.fixture
def one_thread():
    """Tiny vectorised networks run faster on one torch thread (see wgan.experiments._common)."""
    from wgan.experiments._common import single_thread

    with single_thread():
        yield

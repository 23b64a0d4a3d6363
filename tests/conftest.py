import pytest
import torch


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
    yield


@pytest.fixture
def one_thread():
    """Tiny vectorised networks run faster on one torch thread (see wgan.experiments._common)."""
    from wgan.experiments._common import single_thread

    with single_thread():
        yield

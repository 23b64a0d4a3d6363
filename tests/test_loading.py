"""The input pipeline (wgan.data.loading): seeded draws that are pure functions of (seed, draw number), the
same batches with and without DataLoader workers, restarts at any draw, tiny folders, device-held datasets."""

import numpy as np
import pytest
import torch

from wgan.config import ConfigError
from wgan.data.image_datasets import FolderSampler, decode_image, image_sampler
from wgan.data.loading import FolderStream, default_workers, draw_indices, draw_seed


class _Data:  # the DataConfig fields the folder reader reads
    def __init__(self, image_size=8, dequantize=False):
        self.image_size, self.dequantize, self.val_size, self.subset = image_size, dequantize, 4, 0


def _folder(tmp_path, n=14, px=(12, 10), classes=("a", "b")):
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n):
        sub = tmp_path / classes[i % len(classes)]
        sub.mkdir(parents=True, exist_ok=True)
        arr = rng.integers(0, 256, (px[1], px[0], 3), dtype=np.uint8)
        Image.fromarray(arr).save(sub / f"{i:03d}.{'jpg' if i % 2 else 'png'}")
    return tmp_path


def test_draw_seeds_are_pure_and_distinct():
    assert draw_seed(3, 7) == draw_seed(3, 7)
    seeds = {draw_seed(s, k) for s in range(4) for k in range(50)}
    assert len(seeds) == 200 and all(0 <= x < 2**63 for x in seeds)
    torch.testing.assert_close(draw_indices(0, 5, 9, 100), draw_indices(0, 5, 9, 100))
    assert not torch.equal(draw_indices(0, 5, 64, 100), draw_indices(0, 6, 64, 100))


@pytest.mark.parametrize("dequantize", [False, True])
def test_workers_0_and_2_give_identical_batches_in_order_and_after_a_restart(tmp_path, dequantize):
    sampler = image_sampler(str(_folder(tmp_path)), _Data(dequantize=dequantize))
    assert isinstance(sampler, FolderSampler)
    sync = FolderStream(sampler, 5, seed=11, workers=0)
    par = FolderStream(sampler, 5, seed=11, workers=2, prefetch=3)
    a = [sync.batch(k) for k in range(4)]
    b = [par.batch(k) for k in range(4)]
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        assert xa.shape == (5, 3, 8, 8) and xa.dtype == torch.float32 and -1 <= xa.min() and xa.max() <= 1
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
        assert set(ya.tolist()) <= {0, 1}
    # draw 2 asked for again (a resume): the same batch, from a restarted stream
    x2, y2 = FolderStream(sampler, 5, seed=11, workers=2).batch(2)
    assert torch.equal(x2, a[2][0]) and torch.equal(y2, a[2][1])
    assert torch.equal(par.batch(1)[0], a[1][0])  # going back restarts the workers at that draw
    # the batch is what the sampler's own decode gives for the drawn indices
    idx = draw_indices(11, 3, 5, len(sampler))
    pixels = torch.stack([decode_image(sampler.files[int(i)], 8) for i in idx]).float()
    if not dequantize:
        torch.testing.assert_close(a[3][0], pixels * (2 / 255) - 1)
    else:
        assert ((a[3][0] + 1) * 128 - pixels).min() >= 0 and ((a[3][0] + 1) * 128 - pixels).max() < 1 + 1e-4
    assert not torch.equal(a[0][0], FolderStream(sampler, 5, seed=12, workers=0).batch(0)[0])  # seed matters
    par.close()


def test_a_folder_of_tiny_images_upscales_and_crops(tmp_path):
    sampler = image_sampler(str(_folder(tmp_path, n=10, px=(5, 3), classes=("x",))), _Data(image_size=4))
    x, y = FolderStream(sampler, 3, seed=0, workers=0).batch(0)
    assert x.shape == (3, 3, 4, 4) and torch.equal(y, torch.full((3,), -1))  # one class folder: unlabelled
    assert decode_image(sampler.files[0], 16).shape == (3, 16, 16)  # smaller than the target: no draft


def test_bad_worker_counts_and_default():
    assert default_workers(2) == 1 and default_workers(1) == 1 and default_workers(64) == 8
    with pytest.raises(ConfigError, match="data.workers"):
        FolderStream(FolderSampler("f", [], None, 0, 8), 4, 0, workers=-2)


def test_in_memory_images_move_to_a_device_and_draw_there():
    from wgan.data import make_sampler

    base = make_sampler("digits")
    moved = base.to("cpu")
    a = base.sample_with_labels(16, torch.Generator().manual_seed(0))
    b = moved.sample_with_labels(16, torch.Generator().manual_seed(0))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and moved.validation is not None


def test_a_folder_run_resumes_bit_identically_through_the_loader(tmp_path):
    from wgan import Trainer

    from .helpers import tiny_config

    folder = _folder(tmp_path / "imgs", n=14, px=(20, 18))
    sets = [f"data.name={folder}", "data.image_size=16", "data.batch_size=4", "data.workers=1",
            "generator.net=dcgan", "critic.net=dcgan", "generator.width=4", "critic.width=4",
            "generator.latent_dim=8", "objective.n_critic=2", "train.steps=4"]
    full = Trainer(tiny_config(*sets))
    assert full.stream is not None and full.stream.workers == 1
    for _ in range(4):
        full.train_step()
    first = Trainer(tiny_config(*sets[:-2], "data.workers=0", "objective.n_critic=2", "train.steps=4"))
    for _ in range(2):
        first.train_step()
    resumed = Trainer(tiny_config(*sets[:-2], "data.workers=0", "objective.n_critic=2", "train.steps=4"))
    resumed.load_state_dict(first.state_dict())  # a checkpoint: the loader's position is the step counter
    for _ in range(2):
        resumed.train_step()
    assert resumed.draw == full.draw == 8
    for p, q in zip(full.G.state_dict().values(), resumed.G.state_dict().values(), strict=True):
        assert torch.equal(p, q)
    for p, q in zip(full.D.state_dict().values(), resumed.D.state_dict().values(), strict=True):
        assert torch.equal(p, q)
    wait = full._flush()["time/data_wait_s"]
    assert 0 <= wait < 60

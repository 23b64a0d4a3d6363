"""Image data: digits, MNIST IDX files, CIFAR-10 batches, image folders, variants, splits, format detection,
and a few WGAN-GP training steps on digits with the image nets (CPU)."""

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from wgan.config import ConfigError
from wgan.data import NAMED_DATA, make_sampler
from wgan.data.image_datasets import ImageSampler, detect_format, read_idx, to_unit_range
from wgan.resolve import resolve

from .helpers import tiny_config


def _cfg(*sets):
    return resolve(tiny_config(*sets), check_data=False).data


def _write_idx(path, arr: np.ndarray, gz: bool) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}i", *arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def _mnist(folder, split="t10k", n=30, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = np.arange(n) % 10
    suffix = ".gz" if gz else ""
    _write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", x, gz)
    _write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", y, gz)
    return x, y


def test_digits_is_named_and_scaled():
    assert "digits" in NAMED_DATA
    s = make_sampler("digits", _cfg())
    assert s.kind == "images" and s.shape == (1, 8, 8) and s.n_classes == 10
    assert len(s) + len(s.validation) == 1797 and len(s.validation) == 1797 // 5
    x, y = s.sample_with_labels(64, torch.Generator().manual_seed(0))
    assert x.shape == (64, 1, 8, 8) and y.shape == (64,) and x.min() == -1 and x.max() == 1
    # a digit pixel of value 16 is white (+1), 0 is black (-1), 8 is 2*round(127.5)/255 - 1
    from sklearn.datasets import load_digits
    img = torch.from_numpy(load_digits().images[0]).float()
    torch.testing.assert_close(s.pixels[0, 0].float(), torch.round(img * 255 / 16))
    s32 = make_sampler("digits", _cfg("data.image_size=32"))
    assert s32.shape == (1, 32, 32) and s32.validation.shape == (1, 32, 32)


def test_pixels_map_to_unit_range_with_and_without_dequantisation():
    pixels = torch.tensor([0, 255, 128], dtype=torch.uint8).view(1, 1, 1, 3)
    g = torch.Generator().manual_seed(0)
    expected = torch.tensor([-1.0, 1.0, 2 * 128 / 255 - 1]).view(1, 1, 1, 3)
    torch.testing.assert_close(to_unit_range(pixels, False, g), expected)
    many = pixels.expand(2000, 1, 1, 3)
    x = to_unit_range(many, True, g)
    v = (x + 1) * 128 - pixels.float()  # the noise u in [0, 1)
    assert v.min() >= 0 and v.max() < 1 and abs(float(v.mean()) - 0.5) < 0.02


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_idx_test_split_only(tmp_path, gz):
    x, y = _mnist(tmp_path, "t10k", n=30, gz=gz)
    assert detect_format(tmp_path) == "mnist"
    torch.testing.assert_close(torch.from_numpy(read_idx(next(tmp_path.glob("t10k-images*")))), torch.from_numpy(x))
    s = make_sampler(str(tmp_path), _cfg("data.val_size=4"))
    assert s.name == "mnist" and s.shape == (1, 28, 28) and s.n_classes == 10
    assert len(s) == 26 and len(s.validation) == 4  # the last val_size images held out
    torch.testing.assert_close(s.validation.pixels[:, 0], torch.from_numpy(x[-4:]))
    torch.testing.assert_close(s.validation.labels, torch.from_numpy(y[-4:]).long())


def test_mnist_train_and_test_splits_and_subset(tmp_path):
    xtr, _ = _mnist(tmp_path, "train", n=40, seed=1)
    xte, _ = _mnist(tmp_path, "t10k", n=20, seed=2)
    s = make_sampler(str(tmp_path), _cfg("data.subset=10", "data.image_size=32"))
    assert len(s) == 10 and len(s.validation) == 20 and s.shape == (1, 32, 32)
    s = make_sampler(str(tmp_path), _cfg())
    torch.testing.assert_close(s.pixels[:, 0], torch.from_numpy(xtr))
    torch.testing.assert_close(s.validation.pixels[:, 0], torch.from_numpy(xte))


def test_random_split_draws_subset_and_held_out_images_at_random(tmp_path):
    x, _ = _mnist(tmp_path, "t10k", n=60, seed=3)
    rows = lambda t: {bytes(r.numpy().tobytes()) for r in t[:, 0]}  # noqa: E731 -- images as a set
    s = make_sampler(str(tmp_path), _cfg("data.val_size=10", "data.subset=20", "data.split=random",
                                         "data.split_seed=5"))
    assert len(s) == 20 and len(s.validation) == 10
    assert not rows(s.pixels) & rows(s.validation.pixels)  # disjoint
    ordered = make_sampler(str(tmp_path), _cfg("data.val_size=10", "data.subset=20"))
    assert rows(ordered.validation.pixels) == rows(torch.from_numpy(x[-10:])[:, None])
    assert rows(s.validation.pixels) != rows(ordered.validation.pixels)  # not the last 10
    assert rows(s.pixels) != rows(ordered.pixels)  # not the first 20
    again = make_sampler(str(tmp_path), _cfg("data.val_size=10", "data.subset=20", "data.split=random",
                                             "data.split_seed=5"))
    torch.testing.assert_close(again.pixels, s.pixels)  # seeded
    other = make_sampler(str(tmp_path), _cfg("data.val_size=10", "data.subset=20", "data.split=random",
                                             "data.split_seed=6"))
    assert rows(other.pixels) != rows(s.pixels)
    full = make_sampler(str(tmp_path), _cfg("data.val_size=10", "data.split=random", "data.split_seed=5"))
    torch.testing.assert_close(full.pixels[:20], s.pixels)  # the subset is the head of the shuffled split
    with pytest.raises(ConfigError, match="data.split"):
        _cfg("data.split=shuffled")
    with pytest.raises(ConfigError, match="split_seed"):
        _cfg("data.split_seed=-1")


def test_mnist_missing_labels_and_bad_files_are_config_errors(tmp_path):
    _mnist(tmp_path, "t10k")
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ConfigError, match="t10k-labels-idx1-ubyte"):
        make_sampler(str(tmp_path), _cfg())
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="t10k-images-idx3-ubyte"):
        make_sampler(str(empty), _cfg())
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "t10k-images-idx3-ubyte").write_bytes(b"\x01\x02\x03\x04")
    (bad / "t10k-labels-idx1-ubyte").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ConfigError, match="IDX"):
        make_sampler(str(bad), _cfg())


def test_stacked_and_color_variants(tmp_path):
    _mnist(tmp_path, "t10k", n=50)
    g = torch.Generator().manual_seed(0)
    s = make_sampler(str(tmp_path), _cfg("data.variant=stacked"))
    assert s.shape == (3, 28, 28) and s.n_classes == 1000 and s.validation.shape == (3, 28, 28)
    x, y = s.sample_with_labels(200, g)
    # every channel is an MNIST image whose label is the matching decimal digit of y
    base = s.base
    for c, digit in enumerate((y // 100, (y // 10) % 10, y % 10)):
        match = ((x[:, c:c + 1, None] - to_unit_range(base.pixels, False, g)[None]).abs().flatten(2).amax(2) < 1e-6)
        labels = base.labels[match.float().argmax(1)]  # (200,)
        assert match.any(1).all() and torch.equal(labels, digit)
    assert len(set(y.tolist())) > 50
    c = make_sampler(str(tmp_path), _cfg("data.variant=color"))
    x, y = c.sample_with_labels(8, g)
    assert x.shape == (8, 3, 28, 28) and y.max() < 10 and x.min() >= -1 and x.max() <= 1
    with pytest.raises(ConfigError, match="variant"):
        resolve(tiny_config("data.variant=rainbow"), check_data=False)


def test_cifar10_batches(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data = {}
    for name, n in (("data_batch_1", 12), ("data_batch_2", 8), ("test_batch", 5)):
        x = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        data[name] = x
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": x, b"labels": [i % 10 for i in range(n)]}, f)
    assert detect_format(tmp_path) == "cifar10"
    s = make_sampler(str(tmp_path), _cfg())
    assert s.name == "cifar10" and s.shape == (3, 32, 32) and len(s) == 20 and len(s.validation) == 5
    torch.testing.assert_close(s.pixels[12], torch.from_numpy(data["data_batch_2"][0].reshape(3, 32, 32)))
    assert s.labels[12] == 0 and s.labels[13] == 1


def test_image_folder_resize_crop_and_labels(tmp_path):
    from PIL import Image
    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        (tmp_path / cls).mkdir()
        for i in range(5):
            arr = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)  # H 20, W 30: resized to 16x24, cropped
            Image.fromarray(arr).save(tmp_path / cls / f"{i}.png")
    assert detect_format(tmp_path) == "folder"
    s = make_sampler(str(tmp_path), _cfg("data.image_size=16"))
    assert s.shape == (3, 16, 16) and s.n_classes == 2 and len(s) == 8 and len(s.validation) == 2
    x, y = s.sample_with_labels(6, torch.Generator().manual_seed(0))
    assert x.shape == (6, 3, 16, 16) and set(y.tolist()) <= {0, 1} and x.min() >= -1 and x.max() <= 1
    # one image by hand: resize the shorter side to 16 (PIL antialiased) and crop the centre 16 columns
    im = Image.open(s.files[0]).convert("RGB").resize((24, 16), Image.BILINEAR)
    expected = torch.from_numpy(np.array(im)).permute(2, 0, 1)[:, :, 4:20]
    assert (s.load(0).int() - expected.int()).abs().max() <= 1


def test_unrecognised_folder_is_a_config_error(tmp_path):
    (tmp_path / "notes.bin").write_bytes(b"\x00\x01")
    with pytest.raises(ConfigError):
        make_sampler(str(tmp_path), _cfg())


def test_image_sampler_rejects_float_pixels():
    with pytest.raises(ValueError, match="uint8"):
        ImageSampler("x", torch.zeros(2, 1, 4, 4))


@pytest.mark.parametrize("net", ["dcgan", "resnet", "mnist-conv"])
def test_trainer_runs_wgan_gp_on_digits(one_thread, net):
    """A few WGAN-GP steps on digits (8x8; 32x32 for the 28/32-only MNIST net) with the image nets on the CPU."""
    from wgan.training.trainer import Trainer

    size = 32 if net == "mnist-conv" else 8
    cfg = tiny_config("data.name=digits", f"data.image_size={size}", f"generator.net={net}", f"critic.net={net}",
                      "generator.width=8", "critic.width=8", "generator.depth=1", "critic.depth=1",
                      "generator.latent_dim=8", "data.batch_size=8", "critic.norm=layer", "objective.n_critic=2")
    trainer = Trainer(cfg)
    before = [p.detach().clone() for p in trainer.G.parameters()]
    for _ in range(2):
        trainer.train_step()
    assert trainer.fuse_critic_passes  # the layer-norm critic is per-sample
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.G.parameters(), strict=True))
    assert all(torch.isfinite(p).all() for p in trainer.D.parameters())

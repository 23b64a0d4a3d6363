"""The restricted unpickler of data files (wgan.data.safe_pickle): hostile pickles run nothing and fail in
one clear line; genuine CIFAR-10 batches (Python 2 protocol-2 form, numpy 1 names) and numpy 2 pickles load."""

from __future__ import annotations

import io
import os
import pickle
import struct

import numpy as np
import pytest

from wgan.data.image_datasets import read_cifar10
from wgan.data.safe_pickle import load_data_pickle
from wgan.errors import ConfigError


class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Writes ``bytes`` as Python 2 ``str`` (BINSTRING), as the CIFAR-10 files (pickled by Python 2) hold
    them; ``encoding='bytes'`` reads those back as ``bytes``."""

    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]

    def save_py2_str(self, obj: bytes) -> None:
        self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def _genuine_batch_bytes(n: int = 6) -> tuple[bytes, np.ndarray]:
    """A batch in the original files' form: protocol 2, Python 2 strings, numpy 1's ``numpy.core`` names."""
    x = np.random.default_rng(0).integers(0, 256, (n, 3072), dtype=np.uint8)
    d = {b"batch_label": b"training batch 1 of 5", b"labels": [i % 10 for i in range(n)], b"data": x,
         b"filenames": [f"img_{i}.png".encode() for i in range(n)]}
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(d)
    raw = buf.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")  # GLOBAL: text names
    assert b"numpy.core.multiarray\n_reconstruct" in raw and b"_codecs" not in raw
    return raw, x


def test_genuine_python2_batch_loads(tmp_path):
    raw, x = _genuine_batch_bytes()
    (tmp_path / "data_batch_1").write_bytes(raw)
    d = load_data_pickle(tmp_path / "data_batch_1", "a CIFAR-10 python batch")
    assert d[b"batch_label"] == b"training batch 1 of 5" and d[b"filenames"][0] == b"img_0.png"
    np.testing.assert_array_equal(d[b"data"], x)
    pixels, labels = read_cifar10(tmp_path)["train"]
    assert pixels.shape == (6, 3, 32, 32) and labels.tolist() == list(range(6))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_numpy2_pickles_load(tmp_path, protocol):
    x = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": x, b"labels": [3, 4]}, f, protocol=protocol)
    pixels, labels = read_cifar10(tmp_path)["test"]
    np.testing.assert_array_equal(pixels.reshape(2, 3072).numpy(), x)
    assert labels.tolist() == [3, 4]


class _System:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Exec:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


class _EvalInDtype:  # hidden inside an array-looking structure
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w')",))


@pytest.mark.parametrize("payload, named", [(_System, "system"), (_Exec, ".exec"),
                                            (_EvalInDtype, ".eval")])
def test_hostile_batch_runs_nothing(tmp_path, payload, named):
    marker = tmp_path / "PWNED"
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump({b"data": payload(marker), b"labels": [0]}, f, protocol=2)
    with pytest.raises(ConfigError) as info:
        read_cifar10(tmp_path)
    msg = str(info.value)
    assert not marker.exists()  # nothing ran
    assert "\n" not in msg and "refused" in msg and named in msg and "data_batch_1" in msg and "nothing was run" in msg


def test_hostile_global_via_extension_registry_is_refused(tmp_path):
    import copyreg

    marker = tmp_path / "PWNED"
    code = 0x7FFF_FF00  # a copyreg extension code: EXT4 opcode resolves through find_class too
    copyreg.add_extension(os.system.__module__, "system", code)
    try:
        raw = pickle.dumps(_System(marker), protocol=2)
    finally:
        copyreg.remove_extension(os.system.__module__, "system", code)
    assert b"system" not in raw  # the name travels as a number
    (tmp_path / "data_batch_1").write_bytes(raw)
    copyreg.add_extension(os.system.__module__, "system", code)  # a reader whose registry knows the code still refuses
    try:
        with pytest.raises(ConfigError, match="refused"):
            load_data_pickle(tmp_path / "data_batch_1", "a CIFAR-10 python batch")
    finally:
        copyreg.remove_extension(os.system.__module__, "system", code)
    assert not marker.exists()


@pytest.mark.parametrize("content, expect", [
    (b"", "EOFError"), (b"\x80\x02}q\x00(", "not a CIFAR-10"), (b"not a pickle at all", "not a CIFAR-10"),
    (pickle.dumps([1, 2, 3], protocol=2), "not a CIFAR-10"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.float64), b"labels": [0, 1]}), "uint8"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}), "0..9"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}), "KeyError"),
    (pickle.dumps({b"data": np.array([object()] * 3072 * 2).reshape(2, 3072), b"labels": [0, 1]}), "refused"),
])
def test_foreign_or_broken_batches_fail_in_one_line(tmp_path, content, expect):
    (tmp_path / "test_batch").write_bytes(content)
    with pytest.raises(ConfigError) as info:
        read_cifar10(tmp_path)
    assert expect in str(info.value) and "test_batch" in str(info.value) and "\n" not in str(info.value)

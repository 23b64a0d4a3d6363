"""wgan.fetch and the named datasets against a local HTTP server on 127.0.0.1 (nothing beyond the loopback
address): success and cache hit, each failure's one-line message with nothing left half-written, offline mode,
two processes fetching one file at once, the CIFAR-10 archive's unpacking, the pinned Inception weights."""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import json
import os
import pickle
import re
import subprocess
import sys
import tarfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from wgan import fetch as F
from wgan.fetch import FetchError, Remote

SRC = str(Path(__file__).resolve().parents[1] / "src")


class Server:
    """Routes ``path -> (behaviour, body, content type)``; ``hits`` counts requests per path."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes, str]] = {}
        self.hits: Counter[str] = Counter()
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                server.hits[self.path] += 1
                how, body, ctype = server.routes.get(self.path, ("404", b"", ""))
                if how == "404":
                    self.send_error(404, "Not Found")
                    return
                if how == "silent":  # a server that never answers
                    server.stop.wait(10)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                if how == "truncated":
                    self.send_header("Content-Length", str(2 * len(body)))
                elif how == "huge":
                    self.send_header("Content-Length", str(10**12))
                elif how != "no-length":
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if how == "slow":  # in pieces, so that a second process arrives mid-download
                    for i in range(0, len(body), 1000):
                        self.wfile.write(body[i:i + 1000])
                        self.wfile.flush()
                        time.sleep(0.01)
                elif how != "huge":
                    self.wfile.write(body)
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def serve(self, relpath: str, body: bytes, how: str = "ok", ctype: str = "application/octet-stream") -> str:
        self.routes[f"/{relpath}"] = (how, body, ctype)
        return f"{self.base}/{relpath}"

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local server, online mode, an empty cache in tmp_path/cache, downloads pointed at the server."""
    s = Server()
    monkeypatch.setenv("WGAN_OFFLINE", "0")
    monkeypatch.setenv("WGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("WGAN_DOWNLOAD_BASE", s.base)
    monkeypatch.setenv("WGAN_DOWNLOAD_TIMEOUT", "5")
    yield s
    s.close()


def remote(body: bytes, relpath: str = "things/blob.bin", max_bytes: int = 1 << 20) -> Remote:
    # the published URL is never contacted: WGAN_DOWNLOAD_BASE points every fetch at the local server
    return Remote(relpath, ("https://example.invalid/blob.bin",), hashlib.sha256(body).hexdigest(), "sha256",
                  max_bytes)


def cache_files(root: Path) -> list[str]:
    """Everything under the cache except the lock files."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".locks" not in p.parts)


BODY = bytes(range(256)) * 200  # 51,200 bytes


def test_fetch_then_cache_hit(server, tmp_path, capsys):
    r = remote(BODY)
    url = server.serve(r.relpath, BODY)
    path = F.fetch(r, progress=True)
    assert path == tmp_path / "cache" / "things" / "blob.bin" and path.read_bytes() == BODY
    err = capsys.readouterr().err
    done = [line for line in err.splitlines() if line.startswith("wgan: fetched")]
    assert done == [f"wgan: fetched {url} -> {path} (51,200 bytes, sha256 checked)"]
    assert F.fetch(r) == path and server.hits[f"/{r.relpath}"] == 1  # a cache hit asks nobody
    assert cache_files(tmp_path / "cache") == ["things/blob.bin"]


@pytest.mark.parametrize("case", ["mismatch", "truncated", "html", "html-sniffed", "huge", "huge-unannounced",
                                  "404", "timeout", "disk-full"])
def test_each_failure_is_one_line_and_leaves_nothing(server, tmp_path, monkeypatch, case):
    r = remote(BODY, max_bytes=2 * len(BODY))
    served = {"mismatch": (BODY[:-1] + b"x", "ok"), "truncated": (BODY, "truncated"),
              "html": (b"<p>Access denied</p>", "ok"), "html-sniffed": (b"<!DOCTYPE html><html>sign in</html>", "ok"),
              "huge": (b"", "huge"), "huge-unannounced": (BODY * 3, "no-length"), "404": (b"", "404"),
              "timeout": (b"", "silent"), "disk-full": (BODY, "ok")}[case]
    url = server.serve(r.relpath, served[0], served[1], "text/html" if case == "html" else "application/octet-stream")
    if case == "timeout":
        monkeypatch.setenv("WGAN_DOWNLOAD_TIMEOUT", "0.3")
    if case == "disk-full":
        def full(f, chunk):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(F, "_write", full)
    with pytest.raises(FetchError) as info:
        F.fetch(r)
    msg = str(info.value)
    print(f"{case}: {msg}")
    expected = {"mismatch": "its sha256 is .* not the published", "truncated": "cut short: 51,200 of 102,400 bytes",
                "html": "HTML page", "html-sniffed": "HTML page", "huge": "announces 1,000,000,000,000 bytes",
                "huge-unannounced": "runs past 102,400 bytes", "404": "HTTP 404", "timeout": "no answer .* 0.3 s",
                "disk-full": "the disk is full"}[case]
    assert re.search(expected, msg), msg
    assert "\n" not in msg and url in msg and str(r.path) in msg  # the URL, what was wrong, where to put it
    assert cache_files(tmp_path / "cache") == []  # no target, no .part file


def test_offline_never_connects_and_names_url_and_path(server, monkeypatch):
    r = remote(BODY)
    server.serve(r.relpath, BODY)
    monkeypatch.setenv("WGAN_OFFLINE", "1")
    with pytest.raises(FetchError, match="offline") as info:
        F.fetch(r)
    msg = str(info.value)
    assert f"{server.base}/{r.relpath} -> {r.path}" in msg and "\n" not in msg
    assert sum(server.hits.values()) == 0
    r.path.parent.mkdir(parents=True)
    r.path.write_bytes(BODY)  # placed by hand: used offline
    assert F.fetch(r) == r.path
    r.path.write_bytes(BODY[::-1])  # a different file placed by hand: refused, both digests named
    with pytest.raises(FetchError, match="not the published .*delete it"):
        F.fetch(r)


def test_mirrors_are_tried_in_order(server, monkeypatch):
    monkeypatch.delenv("WGAN_DOWNLOAD_BASE")
    good = server.serve("m2/blob.bin", BODY)
    r = Remote("things/blob.bin", (f"{server.base}/m1/blob.bin", good), hashlib.sha256(BODY).hexdigest())
    assert F.fetch(r).read_bytes() == BODY and server.hits["/m1/blob.bin"] == 1


def test_leftovers_of_a_killed_download_are_removed(server):
    r = remote(BODY)
    server.serve(r.relpath, BODY)
    r.path.parent.mkdir(parents=True)
    stale = r.path.parent / ".blob.bin.abc123.part"
    stale.write_bytes(b"half")
    F.fetch(r)
    assert not stale.exists()


CHILD = """
import json, sys
from wgan.fetch import Remote, fetch
r = Remote(**json.loads(sys.argv[1]))
print(fetch(r))
"""


def test_two_processes_fetching_one_file(server, tmp_path):
    body = os.urandom(200_000)
    r = remote(body)
    server.serve(r.relpath, body, "slow")  # about 2 s: both processes start within it
    spec = json.dumps({"relpath": r.relpath, "urls": list(r.urls), "digest": r.digest, "max_bytes": r.max_bytes})
    env = {**os.environ, "PYTHONPATH": SRC}
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, spec], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [o[0].strip() for o in outs] == [str(r.path)] * 2
    assert r.path.read_bytes() == body and server.hits[f"/{r.relpath}"] == 1  # the second waited, then hit
    assert cache_files(tmp_path / "cache") == [r.relpath]


# ------------------------------------------------------------------------------------------ named datasets
def idx_gz(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + np.asarray(arr.shape, dtype=">i4").tobytes()
    return gzip.compress(header + arr.astype(np.uint8).tobytes())


def md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


@pytest.fixture
def tiny_mnist(server, monkeypatch):
    """A 30 + 10 image MNIST served locally; the family table points at it (the code path is the real one)."""
    from wgan.data import named_datasets as nd

    rng = np.random.default_rng(0)
    files, table = {}, {"train": [], "test": []}
    for split, n in (("train", 30), ("t10k", 10)):
        files[f"{split}-images-idx3-ubyte.gz"] = idx_gz(rng.integers(0, 256, (n, 28, 28)))
        files[f"{split}-labels-idx1-ubyte.gz"] = idx_gz(rng.integers(0, 10, (n,)))
    for name, body in files.items():
        rel = f"datasets/mnist/{name}"
        server.serve(rel, body)
        table["train" if name.startswith("train") else "test"].append(
            Remote(rel, ("https://example.invalid/" + name,), md5(body), "md5", nd.IDX_MAX_BYTES))
    monkeypatch.setattr(nd, "family", lambda name: nd.Family(name, files=table))
    return files


def test_named_mnist_fetched_then_read_offline(tiny_mnist, server, monkeypatch):
    from wgan.data import make_sampler

    s = make_sampler("mnist-test")  # the test split alone: 2 files
    assert s.name == "mnist-test" and s.shape == (1, 28, 28) and len(s) + len(s.validation) == 10
    assert sum(server.hits.values()) == 2
    monkeypatch.setenv("WGAN_OFFLINE", "1")
    with pytest.raises(FetchError, match="2 files .*train-images.*the test split is there: --data mnist-test"):
        make_sampler("mnist")
    monkeypatch.setenv("WGAN_OFFLINE", "0")
    s = make_sampler("mnist")
    assert s.name == "mnist" and len(s) == 30 and len(s.validation) == 10 and sum(server.hits.values()) == 4
    monkeypatch.setenv("WGAN_OFFLINE", "1")
    assert len(make_sampler("mnist")) == 30 and sum(server.hits.values()) == 4  # from the cache


def test_wgan_train_offline_with_an_empty_cache_names_the_files(tmp_path, capsys):
    from wgan.cli import main

    assert main(["train", "--data", "mnist", "--offline", "--steps", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "4 files that are not in the cache" in err
    assert "/mnist/train-images-idx3-ubyte.gz -> " in err and "datasets/mnist/t10k-labels-idx1-ubyte.gz" in err


def test_wgan_fetch_checks_every_name_then_fetches_each(tiny_mnist, server, monkeypatch, tmp_path, capsys):
    from wgan.cli import main
    from wgan.data.named_datasets import NAMED_IMAGES
    from wgan.metrics import inception as inc

    fake = b"not really weights" * 10
    monkeypatch.setattr(inc, "WEIGHTS_SHA256", hashlib.sha256(fake).hexdigest())
    monkeypatch.setattr(inc, "WEIGHTS_BYTES", len(fake))
    server.serve(f"weights/{inc.WEIGHTS_NAME}", fake)
    assert main(["fetch", "mnist-test", "no-such-set"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown name to fetch 'no-such-set'" in err
    assert set(err.split("valid: ")[1].split(", ")) == {*NAMED_IMAGES, "inception"}  # the valid names
    assert sum(server.hits.values()) == 0  # every name is checked before anything is fetched
    assert main(["fetch", "mnist-test", "inception"]) == 0
    out = capsys.readouterr().out
    assert f"mnist-test: {tmp_path / 'cache' / 'datasets' / 'mnist'}\n" in out
    assert f"inception: {tmp_path / 'cache' / 'weights' / inc.WEIGHTS_NAME}\n" in out
    assert sum(server.hits.values()) == 3
    assert main(["fetch", "--offline", "mnist"]) == 2  # the training split is not in the cache
    assert "the test split is there: --data mnist-test" in capsys.readouterr().err
    assert sum(server.hits.values()) == 3


def cifar_tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


def cifar_batch(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return pickle.dumps({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         b"labels": rng.integers(0, 10, n).tolist()})


def serve_cifar(server, monkeypatch, extra: dict[str, bytes] | None = None) -> Remote:
    from wgan.data import named_datasets as nd

    batches = {f"data_batch_{i}": cifar_batch(4, i) for i in range(1, 6)} | {"test_batch": cifar_batch(10, 9)}
    tgz = cifar_tar({f"cifar-10-batches-py/{k}": v for k, v in batches.items()} | (extra or {}))
    archive = Remote("datasets/cifar10/cifar-10-python.tar.gz", ("https://example.invalid/c.tgz",), md5(tgz), "md5",
                     nd.CIFAR_MAX_BYTES)
    server.serve(archive.relpath, tgz)
    fam = nd.Family("cifar10", archive=archive, member_folder="cifar-10-batches-py",
                    members={"train": {k: md5(v) for k, v in batches.items() if k != "test_batch"},
                             "test": {"test_batch": md5(batches["test_batch"])}})
    monkeypatch.setattr(nd, "family", lambda name: fam)
    return archive


def test_named_cifar10_unpacked_and_read_by_the_restricted_unpickler(server, monkeypatch, tmp_path):
    from wgan.data import make_sampler

    archive = serve_cifar(server, monkeypatch)
    s = make_sampler("cifar10")
    assert s.shape == (3, 32, 32) and len(s) == 20 and len(s.validation) == 10
    (tmp_path / "cache/datasets/cifar10/cifar-10-batches-py/data_batch_1").write_bytes(b"damaged")
    t = make_sampler("cifar10-test")  # the test split alone (the training batches unread), its last images held out
    assert len(t) + len(t.validation) == 10 and len(t.validation) == 2
    assert server.hits[f"/{archive.relpath}"] == 1
    assert sorted(cache_files(tmp_path / "cache")) == sorted(
        [archive.relpath] + [f"datasets/cifar10/cifar-10-batches-py/{n}" for n in
                             ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                              "test_batch"]])


def test_an_archive_escaping_its_folder_is_refused(server, monkeypatch, tmp_path):
    from wgan.data.named_datasets import prepare

    serve_cifar(server, monkeypatch, extra={"../../escaped.txt": b"x"})
    with pytest.raises(FetchError, match="cannot unpack"):
        prepare("cifar10")
    assert not list(tmp_path.rglob("escaped.txt")) and not (tmp_path / "cache/datasets/cifar10/cifar-10-batches-py"
                                                            ).exists()


def test_cifar10_offline_names_the_archive_and_the_folder(monkeypatch):
    from wgan.data.named_datasets import prepare

    with pytest.raises(FetchError, match="cifar-10-python.tar.gz -> .*, or its unpacked cifar-10-batches-py folder at"):
        prepare("cifar10")


def test_tables_come_from_torchvision():
    import torchvision.datasets as tvd

    from wgan.data.named_datasets import family

    m = family("mnist")
    first = m.files["train"][0]
    assert first.urls == tuple(mirror + tvd.MNIST.resources[0][0] for mirror in tvd.MNIST.mirrors)
    assert first.digest == tvd.MNIST.resources[0][1] and first.relpath.startswith("datasets/mnist/")
    c = family("cifar10")
    assert c.archive.urls == (tvd.CIFAR10.url,) and c.archive.digest == tvd.CIFAR10.tgz_md5


# ------------------------------------------------------------------------------------------ Inception weights
def test_inception_weights_pinned_and_fetched(server, monkeypatch, tmp_path):
    from wgan.metrics import inception as inc

    assert inc.WEIGHTS_SHA256.startswith(inc.WEIGHTS_NAME.rsplit("-", 1)[1].split(".")[0])  # torch.hub's prefix
    fake = b"not really weights" * 100
    monkeypatch.setattr(inc, "WEIGHTS_SHA256", hashlib.sha256(fake).hexdigest())
    monkeypatch.setattr(inc, "WEIGHTS_BYTES", len(fake))
    server.serve(f"weights/{inc.WEIGHTS_NAME}", fake)
    path = inc.fid_inception_weights()
    assert path == tmp_path / "cache" / "weights" / inc.WEIGHTS_NAME and path.read_bytes() == fake
    monkeypatch.setenv("WGAN_CACHE", str(tmp_path / "other"))
    monkeypatch.setenv("WGAN_OFFLINE", "1")
    with pytest.raises(FetchError, match="offline.*--inception-weights PATH"):
        inc.fid_inception_weights()


def test_default_cache_dir_is_the_platform_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("WGAN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert F.cache_dir() == tmp_path / "wgan"


def test_a_download_base_without_a_scheme_is_one_line(server, monkeypatch):
    """WGAN_DOWNLOAD_BASE=notaurl: the request cannot even be built; that is a FetchError naming the URL, never a
    traceback."""
    monkeypatch.setenv("WGAN_DOWNLOAD_BASE", "notaurl")
    with pytest.raises(F.FetchError, match="cannot fetch notaurl/things/blob.bin"):
        F.fetch(remote(BODY))

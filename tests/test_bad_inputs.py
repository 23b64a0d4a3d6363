"""Bad input across every subcommand gets a clear error: a non-zero exit, no traceback, at most two lines on
stderr, naming the key, flag or file (issue 14). Hostile files (pickles that would run code) also prove that
nothing ran: each would create a marker file.

Everything runs in-process through ``wgan.cli.main`` (a few ms a case); two tiny runs (points, digits images)
are trained once for the eval/sample cases.
"""

from __future__ import annotations

import gzip
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from wgan.cli import main
from wgan.limits import available_memory

TINY = ["--set", "generator.width=8", "--set", "critic.width=8", "--set", "generator.depth=1", "--set",
        "critic.depth=1", "--set", "data.batch_size=16", "--set", "eval.n_samples=64", "--set", "train.eval_every=2",
        "--set", "train.sample_every=2", "--set", "train.checkpoint_every=2", "--set", "train.device=cpu"]


class Marker:
    """A pickled object that, when unpickled by an unrestricted loader, creates ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def _idx(arr: np.ndarray) -> bytes:
    return bytes([0, 0, 8, arr.ndim]) + struct.pack(">" + "i" * arr.ndim, *arr.shape) + arr.astype(np.uint8).tobytes()


def _mnist(folder: Path, images: bytes, labels: bytes, raw_images: bool = False) -> str:
    folder.mkdir()
    img = folder / "t10k-images-idx3-ubyte.gz"
    img.write_bytes(images if raw_images else gzip.compress(images))
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    return str(folder)


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    """A workspace: bad data files, hostile files, and two tiny trained runs."""
    root = tmp_path_factory.mktemp("bad")
    marker = root / "PWNED"
    f: dict[str, str] = {"root": str(root), "marker": str(marker)}
    (root / "broken-results").mkdir()
    (root / "broken-results" / "results.json").write_text('{"claims": [1')  # cut short

    def npy(name, arr):
        np.save(root / name, arr)
        f[name] = str(root / name)

    npy("empty_rows.npy", np.zeros((0, 2)))
    npy("complex.npy", np.ones((10, 2)) + 1j)
    npy("const.npy", np.ones((50, 2)))
    npy("huge.npy", np.random.default_rng(0).normal(size=(50, 2)) * 1e30)
    npy("nan.npy", np.full((5, 2), np.nan))
    npy("cube.npy", np.ones((4, 2, 2)))
    npy("strings.npy", np.array([["a", "b"]] * 4))
    npy("points.npy", np.random.default_rng(0).normal(size=(200, 2)))
    (root / "zero.npy").write_bytes(b"")
    (root / "truncated.npy").write_bytes((root / "points.npy").read_bytes()[:200])
    (root / "pickled.npy").write_bytes(pickle.dumps(Marker(marker)))  # np.load(allow_pickle=True) would run it
    np.save(root / "objects.npy", np.array([Marker(marker)] * 4, dtype=object), allow_pickle=True)
    (root / "ragged.csv").write_text("1,2\n3\n")
    (root / "words.csv").write_text("1,2\nx,y\n")
    for name in ("zero.npy", "truncated.npy", "pickled.npy", "objects.npy", "ragged.csv", "words.csv"):
        f[name] = str(root / name)

    x, y = np.random.default_rng(0).integers(0, 256, (10, 28, 28)), np.arange(10) % 10
    good = gzip.compress(_idx(x))
    f["mnist_truncated_gz"] = _mnist(root / "m1", b"", _idx(y))
    (root / "m1" / "t10k-images-idx3-ubyte.gz").write_bytes(good[: len(good) // 2])
    f["mnist_not_gzip"] = _mnist(root / "m2", _idx(x), _idx(y), raw_images=True)
    f["mnist_4d"] = _mnist(root / "m3", _idx(x[:, None]), _idx(y))
    f["mnist_0d"] = _mnist(root / "m4", bytes([0, 0, 8, 0]), _idx(y))
    f["mnist_short"] = _mnist(root / "m5", _idx(x)[:500], _idx(y))
    f["mnist_labels_2d"] = _mnist(root / "m6", _idx(x), _idx(y[:, None]))
    f["mnist_bad_magic"] = _mnist(root / "m7", b"\x12\x34\x56\x78" + _idx(x)[4:], _idx(y))

    def cifar(name, obj):
        (root / name).mkdir()
        with open(root / name / "data_batch_1", "wb") as fh:
            pickle.dump(obj, fh, protocol=2)
        f[name] = str(root / name)

    cifar("cifar_hostile", {b"data": Marker(marker), b"labels": [0]})
    cifar("cifar_list", [1, 2, 3])
    cifar("cifar_float", {b"data": np.zeros((2, 3072)), b"labels": [0, 1]})
    cifar("cifar_nolabels", {b"data": np.zeros((2, 3072), np.uint8)})

    (root / "broken_images").mkdir()
    for i in range(6):
        (root / "broken_images" / f"{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)  # a header, no image
    f["broken_images"] = str(root / "broken_images")

    torch.save(Marker(marker), root / "hostile.pt")  # weights_only=True refuses to build it
    (root / "garbage.pt").write_bytes(b"not a torch file")
    (root / "bad.toml").write_text("[optim\nlr = 1")
    (root / "nan.toml").write_text("[optim]\nlr = nan\n")
    (root / "unknown.toml").write_text("[optim]\nlearning_rte = 0.1\n")
    (root / "notarun").mkdir()
    for name in ("hostile.pt", "garbage.pt", "bad.toml", "nan.toml", "unknown.toml", "notarun"):
        f[name] = str(root / name)

    runs = root / "runs"
    assert main(["train", "--steps", "2", "--out", str(runs), *TINY]) == 0
    assert main(["train", "--data", "digits", "--steps", "2", "--out", str(runs), *TINY, "--set", "generator.net=mlp",
                 "--set", "critic.net=mlp", "--set", "eval.metrics=msssim1k_pairs"]) == 0
    f["points_run"], f["image_run"] = (str(p) for p in sorted(runs.iterdir()))
    (root / "exists.npy").write_bytes(b"x")
    f["exists.npy"] = str(root / "exists.npy")

    # checkpoints that are valid (weights-only) pickles of the wrong structure, and hostile / damaged ones
    from wgan.rundir import load_checkpoint

    good = load_checkpoint(runs.iterdir().__next__())  # the state inside the checksummed envelope
    wide = {**good, "generator": {k: torch.zeros([2 * d for d in v.shape]) for k, v in good["generator"].items()}}
    for name, obj in (("ckpt_list", [1, 2, 3]), ("ckpt_no_generator", {k: v for k, v in good.items()
                                                                       if k != "generator"}),
                      ("ckpt_wide", wide), ("ckpt_old_format", {**good, "format": 1}),
                      ("ckpt_bad_step", {**good, "step": "ten"}), ("ckpt_hostile", Marker(marker)),
                      ("ckpt_truncated", None),
                      ("ckpt_nan", {**good, "generator": {k: torch.full_like(v, float("nan")) if v.is_floating_point()
                                                          else v for k, v in good["generator"].items()}})):
        (root / name / "checkpoints").mkdir(parents=True)
        path = root / name / "checkpoints" / "latest.pt"
        if obj is None:
            torch.save(good, path)
            path.write_bytes(path.read_bytes()[:5000])
        else:
            torch.save(obj, path)
        f[name] = str(root / name)
    return f


def _fails(capsys, argv: list[str], needle: str) -> str:
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse
        rc = e.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc not in (0, None), f"exit 0 for {argv}: {err}"
    assert "Traceback" not in err
    assert 1 <= len(lines) <= 2, f"{len(lines)} lines on stderr: {err}"
    assert needle in err, f"{needle!r} not in {err!r}"
    return err


def _fill(text: str, w: dict[str, str]) -> str:
    for key, value in w.items():
        text = text.replace("{" + key + "}", value)
    return text


_T = ["train", "--dry-run"]
_TR = ["train", "--steps", "1", "--out", "{root}/never"]  # reaches data loading / network building
CASES: list = [
    # ---- train: numbers out of range or not finite (caught as they are set, before anything is built)
    ([*_T, "--set", "optim.lr=inf"], "optim.lr"),
    ([*_T, "--set", "optim.lr=nan"], "optim.lr"),
    ([*_T, "--set", "optim.lr=1e6"], "optim.lr"),
    ([*_T, "--set", "optim.lr=2"], "too large for adam"),
    ([*_T, "--set", "optim.critic_lr=0"], "optim.critic_lr"),
    ([*_T, "--set", "optim.beta1=1"], "optim.beta1"),
    ([*_T, "--set", "optim.beta2=-0.1"], "optim.beta2"),
    ([*_T, "--set", "objective.penalty_weight=nan"], "objective.penalty_weight"),
    ([*_T, "--set", "objective.penalty_weight=inf"], "objective.penalty_weight"),
    ([*_T, "--set", "objective.clip=nan"], "objective.clip"),
    ([*_T, "--set", "objective.dragan_scale=nan"], "objective.dragan_scale"),
    ([*_T, "--set", "objective.dragan_scale=0"], "objective.dragan_scale"),
    ([*_T, "--set", "objective.n_critic=1000000000000"], "objective.n_critic"),
    ([*_T, "--set", "generator.noise_std=nan"], "generator.noise_std"),
    ([*_T, "--set", "generator.depth=-1"], "generator.depth"),
    ([*_T, "--set", "critic.depth=-3"], "critic.depth"),
    ([*_T, "--set", "generator.width=0"], "generator.width"),
    ([*_T, "--seed", str(2**63)], "train.seed"),
    ([*_T, "--seed", "-1"], "train.seed"),
    ([*_T, "--set", f"train.seed={2**64}"], "train.seed"),
    ([*_T, "--steps", "0"], "train.steps"),
    ([*_T, "--set", "train.steps=1000000000000000"], "train.steps"),
    ([*_T, "--set", "train.ema=1"], "train.ema"),
    ([*_T, "--set", "train.g_batch_multiple=0"], "train.g_batch_multiple"),
    ([*_T, "--set", "data.batch_size=0"], "data.batch_size"),
    ([*_T, "--set", "data.batch_size=1000000000"], "data.batch_size"),
    ([*_T, "--set", "data.image_size=-1"], "data.image_size"),
    ([*_T, "--set", "eval.n_samples=100000000"], "eval.n_samples"),
    ([*_T, "--set", "eval.n_samples=1000000"], "exact W1"),  # ~42 TB for POT: refused before training
    ([*_T, "--set", "tricks.instance_noise=nan"], "tricks.instance_noise"),
    ([*_T, "--objective", "ns-gan", "--set", "tricks.label_smoothing=1"], "tricks.label_smoothing"),
    ([*_T, "--set", "train.stepz=3"], "train.stepz"),
    ([*_T, "--set", "optim.lr"], "section.key=value"),
    (["train", "--steps", "abc"], "--steps"),
    ([*_T, "--config", "{root}/missing.toml"], "missing.toml"),
    ([*_T, "--config", "{bad.toml}"], "bad.toml"),
    ([*_T, "--config", "{nan.toml}"], "optim.lr"),
    ([*_T, "--config", "{unknown.toml}"], "learning_rte"),
    # ---- train: networks the family rejects or that cannot fit in memory (checked on the meta device)
    ([*_TR, *TINY, "--set", "generator.width=10000000", "--set", "generator.depth=3"], "generator.width"),
    ([*_TR, *TINY, "--set", "critic.width=200000", "--set", "critic.depth=40"], "critic.width"),
    ([*_TR, *TINY, "--set", "generator.net=resnet"], "generator.net"),
    ([*_TR, *TINY, "--data", "digits", "--set", "generator.net=dcgan", "--set", "data.image_size=12"], "image size"),
    # ---- train: bad and hostile data files
    ([*_TR, "--data", "{zero.npy}"], "zero.npy"),
    ([*_TR, "--data", "{empty_rows.npy}"], "empty_rows.npy"),
    ([*_TR, "--data", "{complex.npy}"], "complex"),
    ([*_TR, "--data", "{const.npy}"], "same point"),
    ([*_TR, "--data", "{huge.npy}"], "rescale"),
    ([*_TR, "--data", "{nan.npy}"], "NaN"),
    ([*_TR, "--data", "{cube.npy}"], "cube.npy"),
    ([*_TR, "--data", "{strings.npy}"], "strings.npy"),
    ([*_TR, "--data", "{truncated.npy}"], "cut short"),
    ([*_TR, "--data", "{pickled.npy}"], "pickled"),
    ([*_TR, "--data", "{objects.npy}"], "pickled"),
    ([*_TR, "--data", "{ragged.csv}"], "ragged.csv"),
    ([*_TR, "--data", "{words.csv}"], "words.csv"),
    ([*_TR, "--data", "{root}/nowhere.npy"], "nowhere.npy"),
    ([*_TR, "--data", "{mnist_truncated_gz}"], "cut short"),
    ([*_TR, "--data", "{mnist_not_gzip}"], "not gzip-compressed"),
    ([*_TR, "--data", "{mnist_4d}"], "(N, H, W)"),
    ([*_TR, "--data", "{mnist_0d}"], "0 dimensions"),
    ([*_TR, "--data", "{mnist_short}"], "cut short or damaged"),
    ([*_TR, "--data", "{mnist_labels_2d}"], "t10k-labels-idx1-ubyte.gz"),
    ([*_TR, "--data", "{mnist_bad_magic}"], "bad magic"),
    ([*_TR, "--data", "{cifar_hostile}"], "refused"),
    ([*_TR, "--data", "{cifar_list}"], "data_batch_1"),
    ([*_TR, "--data", "{cifar_float}"], "uint8"),
    ([*_TR, "--data", "{cifar_nolabels}"], "labels"),
    (["train", "--steps", "1", "--out", "{root}/runs_broken", *TINY, "--set", "generator.net=mlp", "--set",
      "critic.net=mlp", "--set", "data.image_size=8", "--data", "{broken_images}"], "remove it from the folder"),
    # ---- train --resume
    (["train", "--resume", "{root}/no_run"], "no_run"),
    (["train", "--resume", "{notarun}"], "notarun"),
    (["train", "--resume", "{points_run}", "--seed", "3"], "--seed"),
    (["train", "--resume", "{ckpt_list}"], "holds a list"),
    (["train", "--resume", "{ckpt_no_generator}"], "'generator'"),
    (["train", "--resume", "{ckpt_wide}"], "does not fit"),
    (["train", "--resume", "{ckpt_old_format}"], "format 1"),
    (["train", "--resume", "{ckpt_bad_step}"], "'step'"),
    (["train", "--resume", "{ckpt_hostile}"], "ckpt_hostile"),
    (["train", "--resume", "{ckpt_truncated}"], "ckpt_truncated"),
    # ---- eval
    (["eval", "{ckpt_wide}"], "does not fit"),
    (["eval", "{ckpt_list}"], "holds a list"),
    (["eval", "{ckpt_nan}"], "diverged"),
    (["eval", "{root}/no_run"], "no_run"),
    (["eval", "{points_run}", "--n-samples", "0"], "--n-samples"),
    (["eval", "{points_run}", "--n-samples", "100000000000"], "eval.n_samples"),
    (["eval", "{points_run}", "--n-samples", "1000000"], "exact W1"),
    (["eval", "{points_run}", "--metrics", "fid2k_classifier"], "image runs"),
    (["eval", "{image_run}", "--metrics", "nosuchmetric"], "nosuchmetric"),
    pytest.param(["eval", "{image_run}", "--metrics", "msssim1k_pairs", "--n-samples", "9000000"], "9,000,000 images",
                 marks=pytest.mark.skipif((available_memory() or 0) > 100 * 2**30, reason="needs < 100 GiB free")),
    (["eval", "{image_run}", "--classifier", "{root}/missing.pt"], "missing.pt"),
    (["eval", "{image_run}", "--metrics", "fid64_classifier", "--classifier", "{hostile.pt}"], "hostile.pt"),
    (["eval", "{image_run}", "--metrics", "fid64_classifier", "--classifier", "{garbage.pt}"], "garbage.pt"),
    (["eval", "{image_run}", "--metrics", "fid64_inception", "--inception-weights", "{hostile.pt}"], "hostile.pt"),
    # ---- sample
    (["sample", "{ckpt_no_generator}", "--out", "{root}/s.npy"], "'generator'"),
    (["sample", "{ckpt_hostile}", "--out", "{root}/s.npy"], "ckpt_hostile"),
    (["sample", "{ckpt_nan}", "--out", "{root}/from_nan.npy"], "non-finite"),
    (["sample", "{points_run}", "--n", "0", "--out", "{root}/s.npy"], "--n"),
    (["sample", "{points_run}", "--n", "-5", "--out", "{root}/s.npy"], "--n"),
    (["sample", "{points_run}", "--n", "100000000000000", "--out", "{root}/s.npy"], "of disk"),
    (["sample", "{points_run}", "--n", "100000000000000", "--out", "{root}/s.csv"], "of disk"),
    (["sample", "{points_run}", "--n", "2000000", "--out", "{root}/s.png"], "s.png"),
    (["sample", "{points_run}", "--n", "5", "--out", "{root}/s.jpg"], "s.jpg"),
    (["sample", "{points_run}", "--n", "5", "--out", "{root}/s.txt"], "not text"),
    (["sample", "{points_run}", "--n", "5", "--seed", "-1", "--out", "{root}/s.npy"], "--seed"),
    (["sample", "{points_run}", "--n", "5", "--seed", str(2**64), "--out", "{root}/s.npy"], "--seed"),
    (["sample", "{points_run}", "--n", "5", "--out", "{exists.npy}"], "exists.npy"),
    (["sample", "{points_run}", "--n", "x"], "--n"),
    (["sample", "{root}/no_run", "--out", "{root}/s.npy"], "no_run"),
    (["sample", "{image_run}", "--n", "5", "--out", "{root}/s.csv"], ".npy, .png"),
    (["sample", "{image_run}", "--n", "20000", "--out", "{root}/s.png"], "s.png"),
    (["sample", "{image_run}", "--n", "5"], ".npy, .png"),
    # ---- reproduce
    (["reproduce"], "--list"),
    (["reproduce", "no-such-figure"], "no-such-figure"),
    (["reproduce", "value-surfaces", "--steps", "0"], "--steps"),
    (["reproduce", "value-surfaces", "--steps", "1000000000000"], "--steps"),
    (["reproduce", "value-surfaces", "--seeds", "0"], "--seeds"),
    (["reproduce", "value-surfaces", "--seeds", "1000000000000"], "--seeds"),
    (["reproduce", "value-surfaces", "--quick", "--estimate"], "drop --quick"),
    (["reproduce", "value-surfaces", "--quick", "--budget", "paper"], "drop --budget paper or --quick"),
    # ---- classifier
    (["classifier", "train", "--data", "digits", "--out", "{root}/c.pt", "--steps", "0"], "--steps"),
    (["classifier", "train", "--data", "digits", "--out", "{root}/c.pt", "--steps", "100000000000000"], "--steps"),
    (["classifier", "train", "--data", "digits", "--out", "{root}/c.pt", "--seed", "-1"], "--seed"),
    (["classifier", "train", "--data", "8gaussians", "--out", "{root}/c.pt"], "needs images"),
    (["classifier", "train", "--data", "{root}/nowhere", "--out", "{root}/c.pt"], "nowhere"),
    (["classifier", "train", "--data", "digits", "--out", "{root}/c.pt", "--set", "generator.width=3"], "data options"),
    (["classifier", "train", "--data", "digits", "--out", "{root}/c.pt", "--set", "data.image_size=-1"],
     "data.image_size"),
    (["classifier", "train", "--data", "{cifar_hostile}", "--out", "{root}/c.pt"], "refused"),
    (["classifier", "train", "--data", "{mnist_not_gzip}", "--out", "{root}/c.pt"], "t10k-images-idx3-ubyte.gz"),
    (["classifier", "train", "--data", "digits", "--out", "{exists.npy}"], "exists.npy"),
    (["classifier", "train", "--data", "digits"], "--out"),
    # ---- combinations that would silently do nothing or less than asked
    ([*_T, "--objective", "hinge", "--set", "objective.penalty=r1"], "set objective.penalty_weight"),
    ([*_T, "--objective", "ns-gan", "--set", "objective.penalty=gp"], "set objective.penalty_weight"),
    ([*_T, "--set", "critic.spectral_norm=true", "--set", "tricks.minibatch_kernels=10"], "minibatch"),
    ([*_T, "--set", "train.augment=translation"], "train.augment applies to image runs"),
    ([*_T, "--data", "digits", "--set", "train.augment=colour,cutout"], "valid: color, translation, cutout"),
    # ---- reproduce --publish: a damaged results.json
    (["reproduce", "em-vs-js", "--publish", "--out", "{root}/broken-results"], "not a readable results.json"),
    # ---- list, and the command itself
    (["list", "--bogus"], "--bogus"),
    (["bogus"], "bogus"),
]


def _argv(case) -> list[str]:
    return case.values[0] if hasattr(case, "values") else case[0]


@pytest.mark.parametrize("argv, needle", CASES, ids=[" ".join(_argv(c))[:80] for c in CASES])
def test_bad_input_fails_in_one_clear_line(w, capsys, argv, needle):
    argv = [_fill(a, w) for a in argv]
    _fails(capsys, argv, _fill(needle, w))
    assert not Path(w["marker"]).exists(), "a hostile file ran code"
    assert not Path(w["root"], "never").exists() or not any(Path(w["root"], "never").iterdir()), \
        "a refused run left a run directory behind"


def test_enough_cases_across_every_subcommand():
    commands = {_argv(c)[0] for c in CASES}
    assert len(CASES) >= 60 and {"train", "eval", "sample", "reproduce", "classifier", "list"} <= commands


def test_zero_floor_has_no_ratio_and_plots(tmp_path):
    """A W1 floor of 0 (both data samples the same points) gives w1_over_floor = None with a note, a headline
    without a ratio, and a curves figure on a linear axis (no 'Axis limits cannot be NaN or Inf')."""
    from types import SimpleNamespace

    from wgan.cli import _headline
    from wgan.diagnostics.plots import plot_curves
    from wgan.kinds.point_runs import summary

    trainer = SimpleNamespace(cfg=SimpleNamespace(eval=SimpleNamespace(n_samples=10)))
    s = summary(trainer, {"eval/w1": 0.5, "eval/w1_floor": 0.0})
    assert s["w1_over_floor"] is None and "floor is 0" in s["protocol"]["w1"]
    assert "no ratio to a zero floor" in _headline({**s, "steps": 3}, "points")
    assert summary(trainer, {"eval/w1": 0.5, "eval/w1_floor": 0.25})["w1_over_floor"] == 2.0
    records = [{"step": i, "loss/critic": 0.1, "eval/w1": w, "eval/w1_floor": 0.0} for i, w in ((1, 0.5), (2, 0.0))]
    plot_curves(records, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0

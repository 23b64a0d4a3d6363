"""Text data, the 1-D language-model networks, the n-gram JS metric and text runs (WGAN-GP sec. 5.5)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch

from wgan.config import ConfigError, apply_sets
from wgan.data import make_sampler
from wgan.data.text_corpora import PAD, PAD_CHAR, UNK, CharMap, TextSampler, argmax_decode, is_text_source, read_lines
from wgan.io import read_json
from wgan.metrics.ngrams import js_bits, ngram_js, ngram_model
from wgan.nets import build_critic, build_generator, is_per_sample
from wgan.nets.blocks import ResBlock
from wgan.nets.conv1d import SequenceCritic, SequenceGenerator
from wgan.penalties import Penalty, input_gradient_norms
from wgan.resolve import resolve

from .helpers import tiny_config

CORPUS = ["the cat sat on the mat", "", "a dog ran far away", "   ", "the end"] + [
    f"line {i} of some text here" for i in range(40)]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    return path


def text_config(path, *sets: str):
    return tiny_config(f"data.name={path}", "generator.net=conv1d", "critic.net=conv1d", "generator.latent_dim=8",
                       "generator.width=8", "critic.width=8", "generator.depth=1", "critic.depth=1",
                       "data.seq_len=12", "data.val_size=5", "data.batch_size=8", "eval.n_samples=5", *sets)


# ------------------------------------------------------------------ data
def test_lines_truncated_padded_and_one_hot(corpus):
    s = TextSampler(read_lines(corpus), seq_len=12, vocab_size=96, val_size=5)
    assert s.kind == "text" and s.shape == (12, s.vocab_size) and s.dim == 12 * s.vocab_size
    assert len(s.train) + len(s.val) == len(CORPUS) - 2  # the empty and the blank line are dropped
    x = s.sample(7, torch.Generator().manual_seed(0))  # (7, 12, V)
    assert x.shape == (7, 12, s.vocab_size) and x.dtype == torch.float32
    torch.testing.assert_close(x.sum(-1), torch.ones(7, 12))
    decoded = set(s.charmap.decode(argmax_decode(x)))
    every = {line[:12] for line in CORPUS if line.strip()}
    assert decoded <= every
    short = s.charmap.encode(np.array([[ord(c) for c in "the end"] + [0] * 5], dtype=np.uint32))
    assert (short[0, 7:] == PAD).all() and (short[0, :7] != PAD).all()


def test_charmap_keeps_most_frequent_and_maps_the_rest_to_unknown():
    lines = ["aaaa bbb cc d"] * 3
    s = TextSampler(lines, seq_len=16, vocab_size=4, val_size=1)  # padding, unknown, 'a', ' '
    assert s.charmap.chars == ["a", " "]  # a: 4 per line, ' ': 3, b: 3 -> tie broken by code point
    row = s.train[0]
    assert row[:4].tolist() == [2] * 4 and row[4].item() == 3 and row[5].item() == UNK
    assert s.charmap.decode(row[None])[0] == "aaaa " + "\ufffd" * 3 + " " + "\ufffd" * 2 + " " + "\ufffd"


def test_decode_strips_trailing_padding_only():
    cm = CharMap(["a", "b"])
    rows = torch.tensor([[2, PAD, 3, PAD, PAD], [PAD] * 5])
    assert cm.decode(rows) == [f"a{PAD_CHAR}b", ""]
    assert cm.decode(rows, strip=False)[0] == f"a{PAD_CHAR}b{PAD_CHAR}{PAD_CHAR}"


def test_argmax_decoding_of_softmax_rows():
    logits = torch.full((2, 3, 4), -5.0)
    want = torch.tensor([[2, 0, 3], [1, 1, 2]])
    logits.scatter_(2, want[..., None], 5.0)
    assert torch.equal(argmax_decode(torch.softmax(logits, -1)), want)


def test_folder_of_files_and_dispatch(tmp_path, corpus):
    folder = tmp_path / "shards"
    folder.mkdir()
    (folder / "news.en-00001-of-00002").write_text("first shard line\nsecond one\n")
    (folder / "news.en-00002-of-00002").write_text("third line\n" * 10)
    (folder / ".hidden").write_bytes(b"\x00\x01")
    assert read_lines(folder) == ["first shard line", "second one"] + ["third line"] * 10
    assert is_text_source(str(folder)) and is_text_source(str(corpus))
    s = make_sampler(str(folder), apply_sets(tiny_config(), ["data.val_size=2", "data.seq_len=8"]).data)
    assert s.kind == "text" and s.shape[0] == 8 and len(s.val) == 2 and len(s.train) == 10
    with pytest.raises(ConfigError, match="data.val_size = 640"):  # the default hold-out needs more lines
        make_sampler(str(corpus))
    npy = tmp_path / "pts"
    npy.mkdir()
    (npy / "data_batch_1").write_bytes(b"\x80\x04\x95\x00\x00binary")
    assert not is_text_source(str(npy))


def test_validation_split_fixed_and_disjoint_rows():
    lines = [f"{i:04d}" for i in range(100)]
    a = TextSampler(lines, seq_len=4, vocab_size=20, val_size=10)
    b = TextSampler(lines, seq_len=4, vocab_size=20, val_size=10)
    assert torch.equal(a.val, b.val) and len(a.val) == 10 and len(a.train) == 90
    val = set(a.charmap.decode(a.val))
    assert not val & set(a.charmap.decode(a.train))


@pytest.mark.parametrize("content, match", [
    (b"", "no non-empty lines"),
    (b"\n  \n\t\n", "no non-empty lines"),
    (b"abc\x00def\n", "NUL bytes"),
    (b"caf\xe9 au lait\n", "not UTF-8"),
])
def test_bad_text_is_a_config_error(tmp_path, content, match):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=match):
        make_sampler(str(path))


def test_missing_unreadable_and_too_small(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_lines(tmp_path / "nope.txt")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="holds no files"):
        read_lines(empty)
    with pytest.raises(ConfigError, match="too few to hold out"):
        TextSampler(["one", "two"], val_size=2)
    if os.geteuid() != 0:  # root reads any file
        locked = tmp_path / "locked.txt"
        locked.write_text("x\n")
        locked.chmod(0)
        with pytest.raises(ConfigError, match="cannot read"):
            read_lines(locked)


def test_config_validates_text_fields(corpus):
    with pytest.raises(ConfigError, match="data.seq_len"):
        resolve(text_config(corpus, "data.seq_len=0"))
    with pytest.raises(ConfigError, match="data.vocab_size"):
        resolve(text_config(corpus, "data.vocab_size=2"))


# ------------------------------------------------------------------ networks
def test_networks_shapes_and_contract(corpus):
    cfg = text_config(corpus, "generator.depth=2", "critic.depth=3")
    s = make_sampler(str(corpus), cfg.data)
    g, d = build_generator(cfg.generator, s.shape), build_critic(cfg.critic, s.shape)
    assert isinstance(g, SequenceGenerator) and isinstance(d, SequenceCritic)
    blocks = [m for m in g.modules() if isinstance(m, ResBlock)]
    assert len(blocks) == 2 and all(b.dims == 1 and b.scale == 0.3 and b.conv1.kernel_size == (5,) for b in blocks)
    assert sum(isinstance(m, ResBlock) for m in d.modules()) == 3
    y = g(torch.randn(6, 8))  # (6, L, V)
    assert y.shape == (6, *s.shape)
    torch.testing.assert_close(y.sum(-1), torch.ones(6, 12))
    assert d(y).shape == (6,) and d.features(y).shape == (6, 12 * 8)
    assert is_per_sample(g) and is_per_sample(d)


def test_conv1d_rejects_point_data():
    cfg = tiny_config("generator.net=conv1d")
    with pytest.raises(ConfigError, match="seq_len, vocab"):
        build_generator(cfg.generator, (2,))


# ------------------------------------------------------------------ penalty over (positions x vocabulary)
def test_penalty_norm_over_all_positions_and_vocabulary():
    """A linear critic f(x) = <W, x> has gradient W at every point, so the norm per sample is the Frobenius
    norm ||W||_F over (L, V) and the penalty is exactly (||W||_F - 1)^2. A popular PyTorch port took the
    norm over dim=1 only (positions): that gives V norms per sample and another penalty."""
    torch.manual_seed(0)
    L, V = 6, 5
    W = torch.randn(L, V)

    def critic(x):  # (B, L, V) -> (B,)
        return (x * W).sum(dim=(1, 2))

    real = torch.nn.functional.one_hot(torch.randint(V, (4, L)), V).float()
    fake = torch.softmax(torch.randn(4, L, V), -1)
    pen, norms = Penalty("gp", 10.0)(critic, real, fake, torch.Generator().manual_seed(1))
    frob = W.pow(2).sum().sqrt()
    torch.testing.assert_close(norms, frob.expand(4))
    torch.testing.assert_close(pen, (frob - 1) ** 2)
    buggy = W.expand(4, L, V).norm(dim=1)  # (B, V): the port's norm over positions only
    buggy_pen = (buggy - 1).pow(2).mean()
    assert not torch.allclose(pen, buggy_pen, rtol=1e-2)


def test_penalty_norm_of_the_sequence_critic(corpus):
    cfg = text_config(corpus)
    s = make_sampler(str(corpus), cfg.data)
    d = build_critic(cfg.critic, s.shape)
    x = torch.softmax(torch.randn(3, *s.shape), -1).requires_grad_(True)
    (grad,) = torch.autograd.grad(d(x).sum(), x)  # (3, L, V)
    norms, _ = input_gradient_norms(d, x)
    torch.testing.assert_close(norms, grad.pow(2).sum(dim=(1, 2)).sqrt())
    assert not torch.allclose(norms, grad.norm(dim=1).mean(dim=1))


# ------------------------------------------------------------------ n-gram JS
def test_ngram_counts():
    m = ngram_model(np.array([[0, 1, 2], [0, 1, 1]]), n=2, vocab=3)
    assert dict(zip(m.keys.tolist(), m.counts.tolist(), strict=True)) == {1: 2, 5: 1, 4: 1}  # 01 x2, 12, 11
    assert m.total == 4


def test_js_closed_forms():
    a = ngram_model(np.array([[0, 1, 0, 1]]), 1, 4)
    assert js_bits(a, a) == pytest.approx(0.0, abs=1e-12)
    b = ngram_model(np.array([[2, 3, 3, 2]]), 1, 4)
    assert js_bits(a, b) == pytest.approx(1.0, abs=1e-12)  # disjoint supports: 1 bit
    c = ngram_model(np.array([[0, 0]]), 1, 4)  # P = (1/2, 1/2), Q = (1, 0): M = (3/4, 1/4)
    want = 0.5 * (0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)) + 0.5 * math.log2(1 / 0.75)
    assert js_bits(a, c) == pytest.approx(want, rel=1e-12)
    assert js_bits(c, a) == pytest.approx(want, rel=1e-12)
    assert ngram_js(np.array([[0, 0]]), a) == pytest.approx(want, rel=1e-12)


def test_padding_free_ngrams():
    seqs = np.array([[2, 3, PAD, PAD], [PAD, PAD, PAD, PAD]])
    m = ngram_model(seqs, 2, 4, exclude=PAD)
    assert m.keys.tolist() == [2 * 4 + 3] and m.counts.tolist() == [1]
    all_pad = ngram_model(np.zeros((3, 4), dtype=np.int64), 2, 4, exclude=PAD)
    assert all_pad.total == 0
    assert js_bits(all_pad, m) == 1.0 and js_bits(all_pad, all_pad) == 0.0
    assert ngram_js(seqs, m, exclude=PAD) == pytest.approx(0.0, abs=1e-12)


def test_js_matches_scipy_on_random_counts():
    from scipy.spatial.distance import jensenshannon

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 7, (50, 10)), rng.integers(0, 5, (30, 10))
    for n in (1, 2):
        p, q = ngram_model(x, n, 7), ngram_model(y, n, 7)
        union = np.union1d(p.keys, q.keys)
        pp, qq = np.zeros(len(union)), np.zeros(len(union))
        pp[np.searchsorted(union, p.keys)] = p.counts
        qq[np.searchsorted(union, q.keys)] = q.counts
        assert js_bits(p, q) == pytest.approx(jensenshannon(pp, qq, base=2) ** 2, rel=1e-9)


# ------------------------------------------------------------------ training runs
def test_fit_writes_samples_and_js(corpus, tmp_path, one_thread):
    from wgan.io import read_jsonl
    from wgan.training.trainer import Trainer

    cfg = text_config(corpus, "train.steps=4", "train.sample_every=2", "objective.n_critic=2")
    run = tmp_path / "run"
    summary = Trainer(cfg).fit(run)
    for n in range(1, 5):
        assert 0.0 <= summary[f"js{n}"] <= 1.0 and 0.0 <= summary[f"js{n}_val"] <= 1.0
    assert summary["js1_val"] < summary["js4_val"]  # finer n-grams of 5 lines match the corpus less well
    assert "ngram_js_bits_640" in summary["protocol"]["js"]
    step_file = (run / "samples" / "step-0000004.txt").read_text().splitlines()
    assert len(step_file) == 64 and all(len(line) <= 12 for line in step_file)
    log = (run / "samples.txt").read_text()
    assert log.count("# step ") == 2 and "# step 2\n" in log and "# step 4\n" in log
    records = read_jsonl(run / "metrics.jsonl")
    assert {"eval/js4", "eval/js4_val", "eval/js4_text", "eval/js4_text_val"} <= set(records[-1])
    assert summary["js1_text_val"] <= summary["js4_text_val"] <= 1.0


def test_cli_sample_prints_sentences(corpus, tmp_path, capsys, one_thread):
    from wgan.cli import main
    from wgan.training.trainer import Trainer

    run = tmp_path / "run"
    Trainer(text_config(corpus, "train.steps=2")).fit(run)
    capsys.readouterr()
    assert main(["sample", str(run), "--n", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(len(line) <= 12 for line in lines)
    out = tmp_path / "s.txt"
    assert main(["sample", str(run), "--n", "5", "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 5


def test_reproduce_char_lm_quick(tmp_path, one_thread):

    from wgan.experiments import Context, run_experiment

    out = tmp_path / "char-lm"
    result = run_experiment("char-lm", Context(out=out, quick=True))
    saved = read_json(out / "results.json")
    assert saved["reproduction"] == "char-lm" and (out / "char-lm.png").stat().st_size > 0
    names = [c.name for c in result.claims]
    assert names == ["wgan-gp-learns", "ns-gan-not-comparable", "ns-gan-not-comparable-equal-budget",
                     "authors-padded-metric"]
    assert {c.name: c.status for c in result.claims}["ns-gan-not-comparable"] == "INCONCLUSIVE"  # 1 quick seed
    runs = saved["data"]["runs"]
    assert [r["objective"] for r in runs] == ["wgan-gp", "ns-gan", "ns-gan-k10"]
    assert all(len(r["samples"]) == 20 for r in runs) and all(0 < r["distinct"] <= 1 for r in runs)
    assert all(r["steps"] == runs[0]["steps"] for r in runs)  # equal generator steps
    assert {r["setting"]: r["ours"] for r in saved["protocol"]["table"]}["n_critic"].startswith("wgan-gp 10")
    text = (out / "samples.txt").read_text()
    assert text.count("# ") == 3 and len(text.splitlines()) == 63

    # every finished run is kept and reused by the same command: a second start trains nothing and agrees
    kept = sorted(p.name for p in (out / "runs").glob("*.json"))
    assert kept == ["ns-gan-k10-seed0.json", "ns-gan-seed0.json", "wgan-gp-seed0.json"]
    (out / "results.json").unlink()
    import wgan.experiments.char_lm as char_lm

    def no_training(*a, **k):
        raise AssertionError("a kept run was trained again")

    monkey = pytest.MonkeyPatch()
    monkey.setattr(char_lm, "train_lm", no_training)
    try:
        again = run_experiment("char-lm", Context(out=out, quick=True))
    finally:
        monkey.undo()
    assert [c.measured for c in again.claims] == [c.measured for c in result.claims]
    # a run kept from another setting (here: another corpus) is trained again, not reused
    from wgan.io import write_json

    path = out / "runs" / "wgan-gp-seed0.json"
    saved_run = read_json(path)
    write_json(path, saved_run | {"setting": saved_run["setting"] | {"corpus": "another"}})
    (out / "results.json").unlink()
    monkey.setattr(char_lm, "train_lm", no_training)
    try:
        with pytest.raises(AssertionError, match="trained again"):
            run_experiment("char-lm", Context(out=out, quick=True))
    finally:
        monkey.undo()


def test_reproduce_char_lm_needs_a_corpus(tmp_path):
    from wgan.experiments import Context, run_experiment

    with pytest.raises(ConfigError, match="--data"):
        run_experiment("char-lm", Context(out=tmp_path, quick=False))

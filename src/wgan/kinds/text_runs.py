"""Training-loop hooks for text runs (``Sampler.kind == "text"``, :class:`wgan.data.text_corpora.TextSampler`).

* ``evaluate``: generated sequences decoded by argmax (the authors' ``gan_language.py``), then the character
  n-gram Jensen-Shannon divergence in bits, n = 1..4, against the n-gram models of all training lines
  (``eval/js1`` .. ``eval/js4``; metric ``ngram_js_bits_640``, :mod:`wgan.metrics.ngrams`), and the same for
  the held-out validation lines as a baseline (``eval/js1_val`` ..): what a sample of real text of the
  same size scores. WGAN-GP sec. 5.5 / Table 4 report these per n. ``eval/js{n}_text`` (and ``_text_val``)
  leave out n-grams containing padding, which an all-padding (empty-line) generator cannot game.
* ``summary``: ``js1..js4``, ``js1_val..js4_val`` and the protocol.
* ``save_samples``: ``samples/step-NNNNNNN.txt`` (64 decoded sequences, one a line) and the first 10 of them
  appended under a ``# step N`` header to ``samples.txt`` in the run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..data.text_corpora import PAD, TextSampler, argmax_decode
from ..io import atomic_write
from ..metrics.ngrams import NgramModel, js_bits, ngram_js, ngram_model
from .base import KINDS, DataKind, Run

MAX_N = 4  # n-grams of n = 1..4, as the paper
N_STEP_SAMPLES = 64  # sequences per samples/step-NNNNNNN.txt
N_LOG_SAMPLES = 10  # of which appended to samples.txt


def _sampler(trainer: Run) -> TextSampler:
    s = trainer.sampler
    if not isinstance(s, TextSampler):
        raise TypeError(f"text hooks need a TextSampler, got {type(s).__name__}")
    return s


def n_eval(trainer: Run) -> int:
    """Generated sequences per evaluation: ``eval.n_samples`` capped at the validation size, so the
    validation baseline is measured on as many sequences as the generator is."""
    return min(trainer.cfg.eval.n_samples, len(_sampler(trainer).val))


def reference(trainer: Run) -> tuple[list[NgramModel], list[NgramModel], dict[str, float]]:
    """The training lines' n-gram models (n = 1..4) with padding counted (the authors') and without, and the
    validation-vs-training baseline JS of each per n; computed once per run (they depend on the data only)."""
    if "text_ref" not in trainer.eval_cache:
        s = _sampler(trainer)
        val = s.val[: n_eval(trainer)]
        models = [ngram_model(s.train, n, s.vocab_size) for n in range(1, MAX_N + 1)]
        text = [ngram_model(s.train, n, s.vocab_size, exclude=PAD) for n in range(1, MAX_N + 1)]
        baseline = {f"eval/js{m.n}_val": js_bits(ngram_model(val, m.n, s.vocab_size), m) for m in models}
        baseline |= {f"eval/js{m.n}_text_val": js_bits(ngram_model(val, m.n, s.vocab_size, PAD), m) for m in text}
        trainer.eval_cache["text_ref"] = (models, text, baseline)
    return trainer.eval_cache["text_ref"]


def generated_indices(trainer: Run, n: int, seed: int):
    """``n`` generated sequences from streams seeded by ``seed``, argmax-decoded to ``(n, L)`` indices."""
    return argmax_decode(trainer.generate(n, seed=seed))


def evaluate(trainer: Run) -> dict[str, float]:
    models, text, baseline = reference(trainer)
    fake = generated_indices(trainer, n_eval(trainer), seed=30_000 + trainer.cfg.train.seed)  # (n, L)
    out = {f"eval/js{m.n}": ngram_js(fake, m) for m in models}
    out |= {f"eval/js{m.n}_text": ngram_js(fake, m, exclude=PAD) for m in text}
    out.update(baseline)
    return out


def summary(trainer: Run, ev: dict[str, float]) -> dict[str, Any]:
    s = _sampler(trainer)
    n = n_eval(trainer)
    out: dict[str, Any] = {k.split("/", 1)[1]: v for k, v in sorted(ev.items())}
    out["protocol"] = {
        "js": f"ngram_js_bits_640: character n-gram (n = 1..{MAX_N}) Jensen-Shannon divergence in bits between "
              f"{n} argmax-decoded generated sequences and all {len(s.train)} training lines (windows inside each "
              f"{s.seq_len}-symbol padded line, padding included); js*_val: {n} held-out validation lines vs "
              "the training lines (the baseline); js*_text: the same without n-grams that contain padding (an "
              "all-padding output scores 1)",
        "vocabulary": f"{s.vocab_size} symbols (padding, unknown, {s.vocab_size - 2} most frequent characters)",
    }
    return out


def sample_lines(trainer: Run, n: int, seed: int) -> list[str]:
    """``n`` generated sequences as strings (argmax-decoded, trailing padding stripped)."""
    return _sampler(trainer).charmap.decode(generated_indices(trainer, n, seed))


def save_samples(trainer: Run, folder: Path) -> None:
    lines = sample_lines(trainer, N_STEP_SAMPLES, seed=40_000 + trainer.cfg.train.seed)
    text = "".join(line + "\n" for line in lines).encode()
    atomic_write(Path(folder) / f"step-{trainer.step:07d}.txt", lambda f: f.write(text))
    log = Path(folder).parent / "samples.txt"
    previous = log.read_bytes() if log.exists() else b""
    entry = (f"# step {trainer.step}\n" + "".join(line + "\n" for line in lines[:N_LOG_SAMPLES])).encode()
    atomic_write(log, lambda f: f.write(previous + entry))  # append, but never leave a torn file


def headline(summary: dict[str, Any], steps: str, took: str) -> str:
    """n-gram JS in bits per n, next to the held-out lines' (the baseline)."""
    ns = [n for n in range(1, 10) if f"js{n}" in summary]
    gen = ", ".join(f"{n}-gram {summary[f'js{n}']:.3f}" for n in ns)
    val = ", ".join(f"{summary[f'js{n}_val']:.3f}" for n in ns if f"js{n}_val" in summary)
    return f"n-gram JS to the corpus (bits) {steps}: {gen}  (held-out lines: {val}){took}"


KINDS.add("text", DataKind(evaluate, summary, headline, save_samples, sample_lines=sample_lines))

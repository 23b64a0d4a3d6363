"""Character n-gram Jensen-Shannon divergence, the text metric of WGAN-GP (Gulrajani et al. 2017, sec. 5.5;
the authors' ``language_helpers.NgramLanguageModel.js_with``).

An n-gram model of a set of sequences is the empirical distribution of every window of ``n`` consecutive
symbols inside each sequence (padding included, as the authors count it). The divergence between two
such models P and Q, with M = (P + Q) / 2, is

    JS(P, Q) = 1/2 KL(P || M) + 1/2 KL(Q || M)   in bits (log base 2), so 0 <= JS <= 1,

0 when the distributions are equal and 1 when their supports are disjoint. The authors sum over each
model's own n-grams in natural logs and divide by log 2: the same number. Written here with NumPy (an
n-gram is one base-V integer, counted by ``np.unique``) because no library we depend on counts n-grams.

Counting padding lets a generator that emits only padding match a corpus of short lines well (an all-padding
output scores about 0.63 bits at n = 4 on tinyshakespeare); ``exclude=PAD`` gives the padding-free variant,
n-grams of characters only, which such an output cannot game.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class NgramModel:
    """Counts of the distinct n-grams (as base-``vocab`` integers ``keys``, sorted) of some sequences."""

    n: int
    vocab: int
    keys: np.ndarray  # (K,) int64, sorted
    counts: np.ndarray  # (K,) int64

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def ngram_model(sequences: torch.Tensor | np.ndarray, n: int, vocab: int, exclude: int | None = None) -> NgramModel:
    """The n-gram counts of index rows ``(N, L)`` (values in ``[0, vocab)``), windows inside each row;
    ``exclude`` drops every window that contains that symbol (e.g. padding)."""
    seqs = np.asarray(sequences.cpu() if isinstance(sequences, torch.Tensor) else sequences, dtype=np.int64)
    if seqs.ndim != 2 or seqs.shape[1] < n or n < 1:
        raise ValueError(f"need index rows (N, L) with L >= n >= 1, got shape {seqs.shape} and n = {n}")
    if vocab ** n >= 2**63:
        raise ValueError(f"{n}-grams over {vocab} symbols do not fit in 64-bit keys")
    windows = seqs.shape[1] - n + 1
    keys = np.zeros((seqs.shape[0], windows), dtype=np.int64)  # (N, L - n + 1)
    keep = np.ones(keys.shape, dtype=bool)
    for j in range(n):  # key = s[i] V^(n-1) + ... + s[i+n-1]
        keys = keys * vocab + seqs[:, j: j + windows]
        if exclude is not None:
            keep &= seqs[:, j: j + windows] != exclude
    uniq, counts = np.unique(keys[keep], return_counts=True)
    return NgramModel(n, vocab, uniq, counts.astype(np.int64))


def js_bits(p: NgramModel, q: NgramModel) -> float:
    """Jensen-Shannon divergence in bits between two n-gram models (exact over the union of their n-grams).
    A model without any n-gram (e.g. all padding with padding excluded) shares nothing: 1 bit (0 if both are)."""
    if p.n != q.n:
        raise ValueError(f"cannot compare {p.n}-gram and {q.n}-gram models")
    if p.total == 0 or q.total == 0:
        return float(p.total != q.total)
    union = np.union1d(p.keys, q.keys)  # (K,)
    pp = np.zeros(len(union))
    qq = np.zeros(len(union))
    pp[np.searchsorted(union, p.keys)] = p.counts / p.total
    qq[np.searchsorted(union, q.keys)] = q.counts / q.total
    m = 0.5 * (pp + qq)

    def kl_to_m(a: np.ndarray) -> float:
        nz = a > 0  # 0 log 0 = 0; where a > 0, m > 0 too
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return 0.5 * kl_to_m(pp) + 0.5 * kl_to_m(qq)


def ngram_js(generated: torch.Tensor | np.ndarray, reference: NgramModel, exclude: int | None = None) -> float:
    """JS in bits between the n-grams of ``generated`` index rows ``(N, L)`` and a reference model (built with
    the same ``exclude``)."""
    return js_bits(ngram_model(generated, reference.n, reference.vocab, exclude), reference)


__all__ = ["NgramModel", "js_bits", "ngram_js", "ngram_model"]

"""Character sequences for the language model of WGAN-GP (Gulrajani et al. 2017, sec. 5.5, Table 4; the
authors' code ``language_helpers.load_dataset`` and ``gan_language.py``).

One example per line, as the Billion Word corpus stores sentences: a plain-text file or a folder of files
(read in sorted order). Empty (or all-whitespace) lines are dropped, so a play such as tinyshakespeare
becomes its non-empty lines. Each line is truncated to ``seq_len`` characters and padded at the end with a
padding symbol. The vocabulary is the padding symbol (index 0), an unknown symbol (index 1) and the
``vocab_size - 2`` most frequent characters of the corpus (ties by code point); rarer characters become
the unknown symbol. The authors count the padding symbol as an ordinary character and keep up to 2048;
we reserve its index instead, which is the same map whenever the corpus has fewer characters than that.

A fixed shuffle (seed 0, independent of the run's seed) holds out ``val_size`` lines for validation (the
authors hold out the first 10 batches of 64 of their shuffled lines). A sample is ``(seq_len, V)`` one-hot
float32 rows, drawn uniformly with replacement from the training lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError
from .sources import SOURCES, DataSource
from .toy import Sampler

PAD, UNK = 0, 1
PAD_CHAR = "`"  # how the padding symbol prints inside a line (the authors' padding character)
UNK_CHAR = "\ufffd"  # how the unknown symbol prints
TEXT_SUFFIXES = (".txt", ".text")


def is_text_source(name: str) -> bool:
    """True for a ``.txt``/``.text`` file, or a folder whose files (hidden ones aside) are all text files or
    files without a known binary suffix -- e.g. the Billion Word shards ``news.en-00001-of-00100``."""
    path = Path(name)
    if path.is_file():
        return path.suffix.lower() in TEXT_SUFFIXES
    if path.is_dir():
        files = _files(path)
        return bool(files) and all(f.suffix.lower() in TEXT_SUFFIXES or f.suffix.lower() not in _BINARY_SUFFIXES
                                   for f in files) and not any(_looks_binary(f) for f in files[:8])
    return False


def _looks_binary(path: Path) -> bool:
    """A NUL byte in the first 4 KiB (pickled arrays such as CIFAR-10's ``data_batch_1`` have them)."""
    try:
        with open(path, "rb") as f:
            return b"\x00" in f.read(4096)
    except OSError:
        return False


_BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".npy", ".npz", ".pt", ".gz", ".zip",
                    ".tar", ".pkl", ".pickle", ".csv"}


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not any(s.startswith(".") for s in
                                                                           p.relative_to(folder).parts))


def read_lines(path: str | Path, max_lines: int = 0) -> list[str]:
    """The non-empty lines of a UTF-8 text file or of every file in a folder; ``max_lines > 0`` keeps the
    first that many. Raises ConfigError for a missing, unreadable, binary or empty source."""
    path = Path(path)
    if path.is_dir():
        files = _files(path)
        if not files:
            raise ConfigError(f"text folder {str(path)!r} holds no files; put one or more UTF-8 text files "
                              "(one example per line) in it")
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError(f"text data {str(path)!r} does not exist; give a UTF-8 .txt file or a folder of "
                          "text files with one example per line")
    lines: list[str] = []
    for f in files:
        try:
            raw = f.read_bytes()
        except OSError as e:
            raise ConfigError(f"cannot read text file {str(f)!r}: {e.strerror or e}; check its permissions") from None
        if b"\x00" in raw:
            raise ConfigError(f"{str(f)!r} contains NUL bytes, so it is binary, not text; give a UTF-8 text file "
                              "with one example per line")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(f"{str(f)!r} is not UTF-8 text (byte {e.start}: {e.reason}); convert it with "
                              "`iconv -t utf-8` or give another file") from None
        lines.extend(line for line in text.splitlines() if line.strip())
        if 0 < max_lines <= len(lines):
            return lines[:max_lines]
    if not lines:
        raise ConfigError(f"text data {str(path)!r} has no non-empty lines; it needs one example per line")
    return lines


def code_points(lines: Sequence[str], seq_len: int) -> np.ndarray:
    """``(N, seq_len)`` uint32 Unicode code points of the lines truncated/padded to ``seq_len``; 0 pads
    (text with NUL characters is rejected, so 0 never occurs in a line)."""
    padded = "".join(line[:seq_len].ljust(seq_len, "\x00") for line in lines)
    return np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).reshape(len(lines), seq_len)


class CharMap:
    """Index <-> character: index 0 pads, 1 is the unknown symbol, then characters by falling frequency."""

    def __init__(self, chars: Sequence[str]) -> None:
        self.chars = list(chars)  # the characters of indices 2, 3, ...
        self.symbols = [PAD_CHAR, UNK_CHAR, *self.chars]  # printable form of every index

    def __len__(self) -> int:
        return len(self.symbols)

    @classmethod
    def from_code_points(cls, codes: np.ndarray, vocab_size: int) -> CharMap:
        """The ``vocab_size - 2`` most frequent non-padding characters of ``codes`` (ties: lower code point)."""
        values, counts = np.unique(codes[codes != 0], return_counts=True)
        order = np.lexsort((values, -counts))[: vocab_size - 2]  # by count falling, then code point
        return cls([chr(int(v)) for v in values[order]])

    def encode(self, codes: np.ndarray) -> np.ndarray:
        """Code points ``(N, L)`` -> indices ``(N, L)`` int64 (0 -> PAD, unknown characters -> UNK)."""
        table = np.array([ord(c) for c in self.chars], dtype=np.uint32)
        order = np.argsort(table)
        pos = np.searchsorted(table[order], codes).clip(0, max(len(table) - 1, 0))
        found = table[order][pos] == codes if len(table) else np.zeros(codes.shape, bool)
        out = np.where(found, order[pos] + 2, UNK).astype(np.int64)
        out[codes == 0] = PAD
        return out

    def decode(self, indices: torch.Tensor | np.ndarray, strip: bool = True) -> list[str]:
        """Index rows ``(N, L)`` -> strings; ``strip`` drops trailing padding (padding inside a line prints
        as ``PAD_CHAR``)."""
        rows = np.asarray(indices.cpu() if isinstance(indices, torch.Tensor) else indices)
        out = []
        for row in rows:
            if strip:
                nonpad = np.flatnonzero(row != PAD)
                row = row[: nonpad[-1] + 1] if len(nonpad) else row[:0]
            out.append("".join(self.symbols[int(i)] for i in row))
        return out


def argmax_decode(x: torch.Tensor) -> torch.Tensor:
    """One-hot rows or softmax outputs ``(N, L, V)`` -> the most likely index per position ``(N, L)``
    (the authors decode generated samples by argmax, ``gan_language.py``)."""
    return x.argmax(dim=-1)


class TextSampler(Sampler):
    """Lines of a text corpus as ``(seq_len, V)`` one-hot rows. ``train``/``val``: ``(N, L)`` int64 indices;
    ``charmap`` decodes them."""

    kind = "text"

    def __init__(self, lines: Sequence[str] | Iterable[str], seq_len: int = 32, vocab_size: int = 96,
                 val_size: int = 640, name: str = "text") -> None:
        lines = list(lines)
        if seq_len < 1 or vocab_size < 3:
            raise ConfigError(f"text data needs seq_len >= 1 and vocab_size >= 3 (padding, unknown and one "
                              f"character), got seq_len={seq_len}, vocab_size={vocab_size}")
        if val_size < 1 or len(lines) < val_size + 1:
            raise ConfigError(f"text data {name!r} has {len(lines)} non-empty lines, too few to hold out "
                              f"data.val_size = {val_size} for validation and train on the rest; lower "
                              "data.val_size or give more text")
        self.name, self.seq_len = name, seq_len
        codes = code_points(lines, seq_len)  # (N, L)
        order = torch.randperm(len(lines), generator=torch.Generator().manual_seed(0)).numpy()
        val_codes, train_codes = codes[order[:val_size]], codes[order[val_size:]]
        self.charmap = CharMap.from_code_points(train_codes, vocab_size)
        self.vocab_size = len(self.charmap)
        self.train = torch.from_numpy(self.charmap.encode(train_codes))  # (N_train, L)
        self.val = torch.from_numpy(self.charmap.encode(val_codes))  # (N_val, L)
        self.dim = seq_len * self.vocab_size

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.seq_len, self.vocab_size)

    def one_hot(self, indices: torch.Tensor) -> torch.Tensor:
        """``(N, L)`` indices -> ``(N, L, V)`` float32 one-hot rows."""
        return torch.nn.functional.one_hot(indices, self.vocab_size).float()

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(len(self.train), (n,), generator=generator)
        return self.one_hot(self.train[idx])  # (n, L, V)


def text_sampler(path: str | Path, data_cfg=None) -> TextSampler:
    """A :class:`TextSampler` for a file or folder, with ``data.seq_len``, ``data.vocab_size``,
    ``data.val_size`` and ``data.max_lines`` from ``data_cfg`` (defaults when None)."""
    seq_len = getattr(data_cfg, "seq_len", 32)
    vocab_size = getattr(data_cfg, "vocab_size", 96)
    val_size = getattr(data_cfg, "val_size", 640)
    max_lines = getattr(data_cfg, "max_lines", 0)
    lines = read_lines(path, max_lines)
    return TextSampler(lines, seq_len, vocab_size, val_size, name=Path(path).stem or str(path))


SOURCES.add("text", DataSource(kind="text", recognises=is_text_source, make=text_sampler, order=10))

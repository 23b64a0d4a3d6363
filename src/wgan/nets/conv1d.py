"""The 1-D convolutional residual networks of the WGAN-GP character-level language model (Gulrajani et al.
2017, sec. 5.5 and Table 4; the authors' code ``gan_language.py``).

* Generator: z (latent, 128 in the paper) -> Linear -> ``(width, L)`` -> ``depth`` residual blocks ->
  1x1 convolution to the vocabulary -> softmax over the vocabulary at every position. Its output
  ``(B, L, V)`` goes to the critic as is: no sampling, so the generator stays differentiable.
* Critic: one-hot (real) or softmax (generated) rows ``(B, L, V)`` -> 1x1 convolution to ``width`` ->
  ``depth`` residual blocks -> flatten -> Linear to one value.

The residual blocks are :class:`wgan.nets.blocks.ResBlock` with ``dims=1``: ``x + 0.3 * conv5(relu(conv5(
relu(x))))`` in the paper's setting (width 512, 5 blocks, kernel 5, no normalisation) -- the same block as
the image ResNets, parametrised, not copied.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .blocks import ResBlock
from .families import CRITICS, GENERATORS, VECTOR_NORMS, Family
from .mlp import ACTIVATIONS

KERNEL_SIZE = 5  # the authors' ResBlock convolutions
RESIDUAL_SCALE = 0.3  # output = inputs + 0.3 * body (gan_language.py)


def _sequence_shape(shape: int | tuple[int, ...], net: str) -> tuple[int, int]:
    if isinstance(shape, int) or len(shape) != 2:
        raise ConfigError(f"the {net!r} network needs text data of shape (seq_len, vocab), got samples of shape "
                          f"{shape}; use a .txt file or folder as data.name, or another generator.net/critic.net")
    return int(shape[0]), int(shape[1])


def residual_stack(width: int, depth: int, norm: str, activation: str) -> nn.Sequential:
    return nn.Sequential(*[ResBlock(1, width, width, KERNEL_SIZE, None, norm, activation, RESIDUAL_SCALE)  # type: ignore[arg-type]
                           for _ in range(depth)])


class SequenceGenerator(nn.Module):
    """``(B, latent_dim)`` noise -> ``(B, L, V)`` per-position softmax over the vocabulary."""

    per_sample = True

    def __init__(self, seq_len: int, vocab: int, latent_dim: int = 128, width: int = 512, depth: int = 5,
                 norm: str = "none", activation: str = "relu") -> None:
        super().__init__()
        self.seq_len, self.vocab, self.width, self.latent_dim = seq_len, vocab, width, latent_dim
        self.fc = nn.Linear(latent_dim, width * seq_len)
        self.blocks = residual_stack(width, depth, norm, activation)
        self.out = nn.Conv1d(width, vocab, 1)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, self.width, self.seq_len)  # (B, W, L), as the authors' reshape
        h = self.blocks(h)  # (B, W, L)
        return self.out(h).transpose(1, 2)  # (B, L, V)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return F.softmax(self.logits(z), dim=-1)  # (B, L, V), rows sum to 1


class SequenceCritic(nn.Module):
    """``(B, L, V)`` one-hot or softmax rows -> ``(B,)``; ``features(x)`` is the flattened ``(B, L * width)``
    output of the residual stack that the final linear layer reads."""

    per_sample = True

    def __init__(self, seq_len: int, vocab: int, width: int = 512, depth: int = 5, norm: str = "none",
                 activation: str = "relu") -> None:
        super().__init__()
        self.seq_len, self.vocab, self.width = seq_len, vocab, width
        self.inp = nn.Conv1d(vocab, width, 1)
        self.blocks = residual_stack(width, depth, norm, activation)
        self.fc = nn.Linear(width * seq_len, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x.transpose(1, 2))  # (B, V, L) -> (B, W, L)
        return self.blocks(h).flatten(1)  # (B, W * L)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x)).squeeze(1)  # (B,)


def build_sequence_generator(cfg, shape: int | tuple[int, ...]) -> SequenceGenerator:
    seq_len, vocab = _sequence_shape(shape, "conv1d")
    return SequenceGenerator(seq_len, vocab, cfg.latent_dim, cfg.width, cfg.depth, cfg.norm, cfg.activation)


def build_sequence_critic(cfg, shape: int | tuple[int, ...]) -> SequenceCritic:
    seq_len, vocab = _sequence_shape(shape, "conv1d")
    return SequenceCritic(seq_len, vocab, cfg.width, cfg.depth, cfg.norm, cfg.activation)


GENERATORS.add("conv1d", Family("text: latent -> (width, L) -> depth 1-D residual blocks -> softmax over the "
                                "vocabulary (WGAN-GP LM)", build_sequence_generator, VECTOR_NORMS, tuple(ACTIVATIONS)))
CRITICS.add("conv1d", Family("text: one-hot/softmax (L, V) -> 1x1 conv -> depth 1-D residual blocks -> linear "
                             "(WGAN-GP LM)", build_sequence_critic, VECTOR_NORMS, tuple(ACTIVATIONS)))


__all__ = ["SequenceCritic", "SequenceGenerator", "build_sequence_critic", "build_sequence_generator"]

"""Spectral normalisation of the critic (Miyato, Kataoka, Koyama, Yoshida 2018, *Spectral Normalization for
Generative Adversarial Networks*, eq. 8 and Algorithm 1): ``critic.spectral_norm = true``.

Every weight ``W`` of the critic's linear and convolutional layers is used as ``W / sigma(W)``, ``sigma(W)`` its
largest singular value, estimated by power iteration: two unit vectors ``u`` (rows) and ``v`` (columns), buffers of
the layer, take ``critic.spectral_norm_iterations`` steps ``u <- W v / |W v|``, ``v <- W^T u / |W^T u|`` on every
forward pass in training mode, and ``sigma = u^T W v``. In eval mode the vectors are used as they are (no iteration,
no change). The implementation is torch's ``torch.nn.utils.parametrizations.spectral_norm``; this module chooses
the layers and states what is normalised.

What is normalised, and what that bounds:

* ``nn.Linear``: the ``(out, in)`` matrix, so the layer is 1-Lipschitz (in the l2 norm) once the power iteration has
  converged (until then ``u^T W v <= sigma(W)``, so the normalised matrix's largest singular value is >= 1).
* Convolutions: the kernel ``(out, in, k_1, ..., k_d)`` reshaped to the matrix ``(out, in * k_1 * ... * k_d)`` (as
  torch's implementation does, and as Miyato et al. treat a kernel) -- *not* the convolution as a linear map of its
  input. That
  map's norm is at most ``sqrt(k_1 * ... * k_d)`` times the reshaped matrix's (a stride or zero padding only lowers
  it), and it can exceed 1: a kernel whose ``k`` spatial slices are equal reaches about ``sqrt(k)`` on a large
  constant image. tests/test_spectral_norm.py measures both.
* Not normalised: biases, the gains of layer norm (``critic.norm = "layer"``) and batch norm, and the kernels of
  minibatch discrimination (``tricks.minibatch_kernels``). A residual block ``x + s * f(x)`` of normalised layers
  is at most ``1 + s``-Lipschitz, not 1. Batch norm divides by the batch's standard deviation, which no weight
  normalisation bounds (``wgan.penalties.warn_if_batchnorm`` warns).

The vectors ``u``, ``v`` are buffers: the critic's ``state_dict`` holds them, so checkpoints carry them and a resumed
run continues the power iteration where it stopped. Measurements made in training mode keep them
(``wgan.training.steps.gradient_norms`` and ``validation_losses`` restore the critic's buffers).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrizations, parametrize

# the layers whose weight is normalised; transposed convolutions hold (in, out, ...) kernels, normalised over dim 1
LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
                                       nn.ConvTranspose2d, nn.ConvTranspose3d)
# torch's power-iteration module (private name, public since torch 1.9 through parametrizations.spectral_norm)
POWER_ITERATION: type[nn.Module] = parametrizations._SpectralNorm

# `wgan list`: the critic options every critic.net takes
CRITIC_OPTIONS: dict[str, str] = {
    "spectral_norm": "bool; every linear/conv weight W used as W / sigma(W), sigma by power iteration (Miyato et "
                     "al. 2018); conv kernels as (out, in*k*k) matrices; not with objective.clip",
    "spectral_norm_iterations": "int, power iterations per training forward pass (default 1, as Miyato et al.)",
}


def spectral_normalise(net: nn.Module, iterations: int = 1) -> nn.Module:
    """Spectrally normalise every layer of ``net`` in :data:`LAYERS` in place (module docstring); returns ``net``.

    Torch initialises each layer's ``u``, ``v`` from the global random stream and runs 15 power iterations at once,
    so ``sigma`` is close from the first step. Layers already parametrised are left as they are."""
    if iterations < 1:
        raise ValueError(f"critic.spectral_norm_iterations must be >= 1, got {iterations}")
    for m in [m for m in net.modules() if isinstance(m, LAYERS) and not parametrize.is_parametrized(m, "weight")]:
        parametrizations.spectral_norm(m, n_power_iterations=iterations,
                                       dim=1 if isinstance(m, nn.modules.conv._ConvTransposeNd) else 0)
    return net


def spectral_layers(net: nn.Module) -> list[nn.Module]:
    """The layers of ``net`` whose weight is spectrally normalised, in module order."""
    return [m for m in net.modules() if parametrize.is_parametrized(m, "weight")
            and any(isinstance(p, POWER_ITERATION) for p in m.parametrizations.weight)]


def weight_matrix(layer: nn.Module) -> torch.Tensor:
    """The matrix spectral normalisation normalises, from the layer's effective weight: ``(out, in)`` for a linear
    layer, the kernel reshaped to ``(out, in * prod(kernel))`` for a convolution (transposed ones too: their
    ``(in, out, ...)`` kernel is permuted first, torch's ``dim=1``). Reading ``layer.weight`` in training mode runs
    a power iteration; call it in eval mode to leave ``u``, ``v`` as they are."""
    w = layer.weight
    if isinstance(layer, nn.modules.conv._ConvTransposeNd):
        w = w.transpose(0, 1)
    return w.reshape(w.shape[0], -1)


__all__ = ["CRITIC_OPTIONS", "LAYERS", "POWER_ITERATION", "spectral_layers", "spectral_normalise", "weight_matrix"]

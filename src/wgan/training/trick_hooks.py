"""Improved-GAN techniques as switches of the one training loop (config section ``[tricks]``).

Each works with every objective; :data:`TRICKS` describes them for ``wgan list``.

* Feature matching (Salimans et al. 2016, sec. 3.1): the generator minimises
  ``||E f(x) - E f(G(z))||_2^2`` with ``f`` the critic's last hidden layer (``critic.features``), in place
  of the objective's generator loss.
* Minibatch discrimination (sec. 3.2): :class:`wgan.nets.trick_layers.MinibatchCritic`.
* Historical averaging (sec. 3.3): each player adds ``lambda_h ||theta - (1/t) sum_{i<=t} theta[i]||^2``,
  the running mean updated online after every optimiser step (:class:`HistoricalAverage`).
* One-sided label smoothing (sec. 3.4): real targets ``1 - label_smoothing`` (:class:`wgan.objectives.Objective`).
* Virtual batch normalisation (sec. 3.5): :class:`wgan.nets.trick_layers.VirtualBatchNet`.
* Instance noise (Sonderby et al. 2016, sec. 3.1; Arjovsky & Bottou 2017, sec. 3.3): ``N(0, s_t^2 I)`` added to
  every critic input, real and fake (also in the generator step, so the generator is trained against the
  critic it faces); ``s_t`` optionally annealed linearly from ``instance_noise`` to 0 over training.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from ..config import Config
from ..data import Sampler
from ..errors import ConfigError
from ..nets.trick_layers import MinibatchCritic, VirtualBatchNet

TRICKS: dict[str, str] = {
    "feature_matching": "bool; generator matches the mean critic features of real data (Salimans et al. 2016 §3.1)",
    "minibatch_kernels": "int B > 0 turns on minibatch discrimination in the critic (Salimans §3.2); 0 = off",
    "minibatch_kernel_dim": "int C, the dimension of each minibatch-discrimination kernel (default 5)",
    "historical_averaging_critic": "lambda_h of ||theta - mean of past theta||^2 for the critic (Salimans §3.3)",
    "historical_averaging_generator": "the same for the generator",
    "label_smoothing": "one-sided: real targets 1 - value (0.1 -> 0.9) for logistic/least-squares (Salimans §3.4)",
    "virtual_batch_norm": "none|generator|critic|both: batch-norm layers normalise by a fixed reference (§3.5)",
    "vbn_reference_size": "rows of the reference batch fixed at the start (default 64)",
    "instance_noise": "std of Gaussian noise on every critic input, real and fake (Sonderby et al. 2016)",
    "instance_noise_anneal": "bool; anneal the instance-noise std linearly to 0 over train.steps",
}

def instance_noise_std(step: int, total_steps: int, std: float, anneal: bool) -> float:
    """The instance-noise std at generator step ``step`` (0-based): ``std``, or ``std * (1 - step / total)``
    when annealed (Sonderby et al. 2016 anneal the noise to zero over training)."""
    if not anneal:
        return std
    return std * max(0.0, 1.0 - step / total_steps)


def feature_matching_loss(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``||mean f(real) - mean f(fake)||_2^2`` over the critic's ``features`` (Salimans et al. 2016, sec. 3.1)."""
    with torch.no_grad():
        target = critic.features(real).mean(0)  # (F,)
    return (critic.features(fake).mean(0) - target).pow(2).sum()


class HistoricalAverage:
    """Running mean of a player's parameters and the penalty ``weight * ||theta - mean||^2`` (Salimans et al.
    2016, sec. 3.3). The mean starts at the initial parameters and is updated online by :meth:`update`
    after every optimiser step; it is a constant for the penalty's gradient, ``2 weight (theta - mean)``.

    This is the paper's formula: the squared L2 norm, summed over all parameters. The authors' reference code
    (openai/improved-gan) penalises a mean absolute difference instead; that variant is not implemented, so
    lambda values tuned for it do not carry over."""

    def __init__(self, params: Iterable[nn.Parameter], weight: float) -> None:
        self.params = list(params)
        self.weight = weight
        self.mean = [p.detach().clone() for p in self.params]
        self.count = 1

    def penalty(self) -> torch.Tensor:
        return self.weight * sum((p - m).pow(2).sum() for p, m in zip(self.params, self.mean, strict=True))

    @torch.no_grad()
    def update(self) -> None:
        self.count += 1
        for p, m in zip(self.params, self.mean, strict=True):
            m.add_((p.detach() - m) / self.count)

    def state_dict(self) -> dict[str, Any]:
        return {"mean": [m.clone() for m in self.mean], "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for m, saved in zip(self.mean, state["mean"], strict=True):
            m.copy_(saved)
        self.count = int(state["count"])


class Tricks:
    """The ``[tricks]`` switches of one run, as the loop uses them: :meth:`wrap` the networks once, then
    :meth:`noisy` critic inputs, :meth:`add_history_penalty` to each player's loss and :meth:`record_history`
    after each of its steps. With every switch off each of these is the identity."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg.tricks
        self.total_steps = cfg.train.steps
        self.seed = cfg.train.seed
        self.penalty_name = cfg.objective.penalty
        self.history: dict[str, HistoricalAverage] = {}

    @property
    def feature_matching(self) -> bool:
        return self.cfg.feature_matching

    def wrap(self, G: nn.Module, D: nn.Module, sampler: Sampler, latent_dim: int,
             device: torch.device) -> tuple[nn.Module, nn.Module]:
        """Apply virtual batch norm and minibatch discrimination to the networks; start the histories."""
        t = self.cfg
        if t.virtual_batch_norm in ("generator", "both"):
            z_ref = torch.randn(t.vbn_reference_size, latent_dim, generator=torch.Generator().manual_seed(
                self.seed + 50_000))  # (n_ref, latent): fixed at the start, saved with the generator
            G = self._vbn(G, z_ref, "generator")
        if t.virtual_batch_norm in ("critic", "both"):
            x_ref = sampler.sample(t.vbn_reference_size, torch.Generator().manual_seed(self.seed + 60_000))
            D = self._vbn(D, x_ref, "critic")
        if (t.feature_matching or t.minibatch_kernels) and not callable(getattr(D, "features", None)):
            raise ConfigError(f"feature matching and minibatch discrimination need a critic with a features(x) "
                              f"method; critic.net = {type(D).__name__} has none")
        if t.minibatch_kernels:
            was_training = D.training
            D.eval()  # the probe must not touch batch-norm running statistics
            with torch.no_grad():
                probe = torch.zeros(2, *sampler.shape, device=next(D.parameters()).device)
                feature_dim = D.features(probe).shape[1]  # (2, F)
            D.train(was_training)
            D = MinibatchCritic(D, feature_dim, t.minibatch_kernels, t.minibatch_kernel_dim)
            if self.penalty_name != "none":
                warnings.warn(
                    "minibatch discrimination makes each critic output depend on the whole batch, which breaks the "
                    "per-sample gradient a gradient penalty constrains (WGAN-GP sec. 4); the penalty is applied anyway",
                    UserWarning, stacklevel=3)
        G, D = G.to(device), D.to(device)
        if t.historical_averaging_critic > 0:
            self.history["critic"] = HistoricalAverage(D.parameters(), t.historical_averaging_critic)
        if t.historical_averaging_generator > 0:
            self.history["generator"] = HistoricalAverage(G.parameters(), t.historical_averaging_generator)
        return G, D

    def _vbn(self, net: nn.Module, reference: torch.Tensor, player: str) -> nn.Module:
        try:
            return VirtualBatchNet(net, reference.to(next(net.parameters()).device))
        except (ValueError, StopIteration):
            raise ConfigError(f"tricks.virtual_batch_norm = {self.cfg.virtual_batch_norm!r} makes the {player}'s "
                              f"batch-norm layers virtual, but it has none; set {player}.norm = \"batch\"") from None

    def noisy(self, x: torch.Tensor, step: int, rng: torch.Generator) -> torch.Tensor:
        """``x`` plus instance noise at generator step ``step`` (``x`` itself when the noise is off)."""
        std = instance_noise_std(step, self.total_steps, self.cfg.instance_noise, self.cfg.instance_noise_anneal)
        if std <= 0:
            return x
        return x + std * torch.randn(x.shape, generator=rng, device=x.device, dtype=x.dtype)

    def add_history_penalty(self, player: str, loss: torch.Tensor,
                            log: Callable[[str, torch.Tensor], None]) -> torch.Tensor:
        """``loss`` plus the player's historical-averaging penalty (logged as ``penalty/historical_<player>``)."""
        h = self.history.get(player)
        if h is None:
            return loss
        pen = h.penalty()
        log(f"penalty/historical_{player}", pen)
        return loss + pen

    def record_history(self, player: str) -> None:
        if player in self.history:
            self.history[player].update()

    def state_dict(self) -> dict[str, Any]:
        return {k: h.state_dict() for k, h in self.history.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k, h in self.history.items():
            h.load_state_dict(state[k])

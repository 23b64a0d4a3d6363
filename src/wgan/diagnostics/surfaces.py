"""The critic's value surface over a 2-D box (WGAN-GP Fig. 1a)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


@torch.no_grad()
def critic_surface(critic: nn.Module, extent: tuple[float, float, float, float], n: int = 128,
                   device: torch.device | str = "cpu") -> np.ndarray:
    """Critic values on an ``n x n`` grid over ``extent = (xmin, xmax, ymin, ymax)``.

    Returns ``(n, n)`` with rows indexing y (ascending) and columns x, as ``plt.contourf`` expects.
    """
    xs = torch.linspace(extent[0], extent[1], n)
    ys = torch.linspace(extent[2], extent[3], n)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1).to(device)  # (n*n, 2)
    was_training = critic.training
    critic.eval()
    try:
        values = critic(pts).float().cpu().numpy()
    finally:
        critic.train(was_training)
    return values.reshape(n, n)

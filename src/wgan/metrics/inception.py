"""The standard Inception v3 feature network from a local weights file -- never downloaded.

FID (Heusel et al. 2017) uses the 2,048-d pool3 features of Inception v3 on images resized to 299x299; the
Inception Score (Salimans et al. 2016) its class probabilities. The architecture is torchvision's
``Inception3`` (built with ``weights=None``, so nothing is fetched); its weights come from a file the user
names: a ``state_dict`` saved with ``torch.save`` (torchvision's ``inception_v3`` weights, 1,000 classes, or
a port of the TF FID network with 1,008 classes; the auxiliary head is optional). ``transform_input=False``:
the network sees [-1, 1] pixels, the range the original TF Inception takes (torchvision's
``transform_input`` maps ImageNet-normalised input to exactly this range). Grey images are repeated to 3
channels; resizing is bilinear. Numbers from a port differ slightly from the TF reference implementation
(resize and weights), so they are comparable with each other, and only approximately with published FIDs.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError


class InceptionFeatures(nn.Module):
    """``(B, C, H, W)`` in [-1, 1] -> pool3 features ``(B, 2048)`` (or logits ``(B, K)`` with ``logits=True``)."""

    def __init__(self, net: nn.Module, logits: bool = False) -> None:
        super().__init__()
        self.net = net.eval().requires_grad_(False)
        self.logits = logits
        self.num_features = net.fc.out_features if logits else net.fc.in_features

    def train(self, mode: bool = True) -> InceptionFeatures:  # always in eval mode
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)  # (B, 3, H, W)
        if x.shape[1] != 3:
            raise ConfigError(f"the Inception network takes 1- or 3-channel images, got {x.shape[1]} channels")
        x = F.interpolate(x.float(), size=(299, 299), mode="bilinear", align_corners=False)  # (B, 3, 299, 299)
        n = self.net
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                     "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
                     "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"):
            x = getattr(n, name)(x)
        x = torch.flatten(x, 1)  # (B, 2048) pool3
        return n.fc(x) if self.logits else x


def load_inception(path: str | Path, device: str | torch.device = "cpu") -> tuple[InceptionFeatures, InceptionFeatures]:
    """(pool3 features, logits) modules of Inception v3 with the weights in ``path``; a missing or
    unreadable file, or one that does not hold Inception v3 weights, is a ConfigError."""
    from torchvision.models.inception import Inception3

    from .classifier import read_weights

    state = read_weights(path, "Inception weights file", "name a local state_dict of torchvision's inception_v3 "
                         "(nothing is downloaded)")
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not isinstance(state.get("fc.weight"), torch.Tensor):
        raise ConfigError(f"{str(path)!r} is not an Inception v3 state_dict (no 'fc.weight'); save one with "
                          "torch.save(model.state_dict(), PATH)")
    aux = any(k.startswith("AuxLogits.") for k in state)
    net = Inception3(num_classes=state["fc.weight"].shape[0], aux_logits=aux, transform_input=False,
                     init_weights=False)
    try:
        net.load_state_dict(state)
    except RuntimeError as e:
        raise ConfigError(f"{str(path)!r} does not match torchvision's Inception v3: "
                          f"{str(e).splitlines()[0]}") from None
    net = net.to(device).eval()
    return InceptionFeatures(net), InceptionFeatures(net, logits=True)


def inception_network(path: str | Path, device: str | torch.device = "cpu"):
    """:func:`load_inception` as a :class:`wgan.metrics.images.FeatureNetwork`."""
    from .images import FeatureNetwork

    feats, logits = load_inception(path, device)
    return FeatureNetwork("inception", feats, logits,
                          "Inception v3 pool3 (2048 features, bilinear resize to 299) from "
                          f"{str(Path(path).resolve())}")

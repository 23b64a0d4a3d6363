"""A small convolutional classifier trained on the dataset itself: the offline feature network.

Fedus et al. 2018 (*Many Paths to Equilibrium*, sec. 5) score CIFAR-10 samples with FID and Inception Score
computed from a classifier trained on CIFAR-10 rather than ImageNet's Inception network; this module is that
protocol for any labelled image dataset, with no download. ``wgan classifier train --data DATA --out PATH``
trains :class:`ImageClassifier` on the training split and stores its held-out accuracy with the weights.

* its penultimate layer (``features(x)``, ``(B, F)``) is the feature vector of FID / KID,
* its logits (``forward(x)``, ``(B, K)``) give p(y|x) for the Inception Score (Salimans et al. 2016, eq. in
  sec. 4: IS = exp E_x KL(p(y|x) || p(y))) and the per-channel digit labels of Stacked MNIST mode counting.

:class:`FeatureNet` / :class:`LogitNet` wrap a classifier for torchmetrics' custom ``feature`` argument (they
carry the ``num_features`` attribute torchmetrics reads instead of probing the net with a dummy image).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError

CLASSIFIER_FORMAT = 1


class ImageClassifier(nn.Module):
    """Two conv blocks (3x3 convs, batch norm, ReLU, 2x2 max pool while the side allows), global average
    pooling, a ``n_features``-unit ReLU layer (the feature vector) and a linear layer to ``n_classes`` logits.

    Works for any ``(C, H, W)`` input in [-1, 1]; ``shape`` is recorded so a wrong-sized input is an error."""

    def __init__(self, shape: tuple[int, int, int], n_classes: int, width: int = 32, n_features: int = 128) -> None:
        super().__init__()
        c, h, w = shape
        self.shape, self.n_classes, self.width, self.n_features = (c, h, w), n_classes, width, n_features
        layers: list[nn.Module] = []
        side, ch_in = min(h, w), c
        for ch in (width, 2 * width):
            layers += [nn.Conv2d(ch_in, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU(),
                       nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU()]
            if side >= 4:
                layers.append(nn.MaxPool2d(2))
                side //= 2
            ch_in = ch
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, n_features), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(n_features, n_classes)

    def _check(self, x: torch.Tensor) -> None:
        if tuple(x.shape[1:]) != self.shape:
            raise ConfigError(f"the classifier was trained on images of shape {self.shape}, got {tuple(x.shape[1:])};"
                              " train one on this dataset with `wgan classifier train`")

    def features(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, F)
        self._check(x)
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, K) logits
        return self.fc(self.features(x))

    def arch(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "n_classes": self.n_classes, "width": self.width,
                "n_features": self.n_features}


class FeatureNet(nn.Module):
    """``x -> classifier.features(x)`` ``(B, F)`` for torchmetrics' FID/KID ``feature=`` argument; frozen."""

    def __init__(self, net: ImageClassifier) -> None:
        super().__init__()
        self.net = net.eval().requires_grad_(False)
        self.num_features = net.n_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x.to(next(self.net.parameters()).dtype))

    def train(self, mode: bool = True) -> FeatureNet:  # torchmetrics may call .train(): stay in eval mode
        return self


class LogitNet(FeatureNet):
    """``x -> classifier(x)`` logits ``(B, K)`` for torchmetrics' InceptionScore ``feature=`` argument."""

    def __init__(self, net: ImageClassifier) -> None:
        super().__init__(net)
        self.num_features = net.n_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.to(next(self.net.parameters()).dtype))


@dataclass(frozen=True)
class ClassifierInfo:
    """What a classifier file records next to its weights: how it was trained and how well it classifies."""

    dataset: str
    shape: list[int]
    n_classes: int
    held_out_accuracy: float
    n_train: int
    n_held_out: int
    steps: int
    batch_size: int
    seed: int
    train_time_s: float
    protocol: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@torch.no_grad()
def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> float:
    """Share of ``x`` ``(N, C, H, W)`` whose arg-max logit equals ``y`` ``(N,)`` (eval mode)."""
    was = net.training
    net.eval()
    device = next(net.parameters()).device
    correct = 0
    for i in range(0, len(x), batch_size):
        pred = net(x[i:i + batch_size].to(device)).argmax(1).cpu()
        correct += int((pred == y[i:i + batch_size]).sum())
    net.train(was)
    return correct / max(len(x), 1)


def train_classifier(x_train: torch.Tensor, y_train: torch.Tensor, x_held: torch.Tensor, y_held: torch.Tensor,
                     n_classes: int, dataset: str = "tensors", steps: int = 2000, batch_size: int = 64,
                     lr: float = 1e-3, width: int = 32, n_features: int = 128, seed: int = 0,
                     device: str | torch.device = "cpu") -> tuple[ImageClassifier, ClassifierInfo]:
    """Train :class:`ImageClassifier` with Adam (cross-entropy, batches drawn with replacement, learning rate
    decayed linearly to 0) on ``x_train`` ``(N, C, H, W)`` / ``y_train`` ``(N,)``; report accuracy on the
    held-out ``x_held`` / ``y_held``. Deterministic given ``seed`` and the thread count."""
    if len(x_train) == 0 or len(x_held) == 0:
        raise ConfigError("classifier training needs a non-empty training split and held-out split")
    if steps < 1:
        raise ConfigError(f"--steps must be at least 1, got {steps}")
    torch.manual_seed(seed)
    net = ImageClassifier(tuple(x_train.shape[1:]), n_classes, width, n_features).to(device)  # type: ignore[arg-type]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 - s / steps)
    rng = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    net.train()
    for _ in range(steps):
        idx = torch.randint(len(x_train), (batch_size,), generator=rng)
        loss = F.cross_entropy(net(x_train[idx].to(device)), y_train[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    elapsed = time.perf_counter() - start
    acc = accuracy(net, x_held, y_held)
    info = ClassifierInfo(
        dataset=dataset, shape=list(x_train.shape[1:]), n_classes=n_classes, held_out_accuracy=acc,
        n_train=len(x_train), n_held_out=len(x_held), steps=steps, batch_size=batch_size, seed=seed,
        train_time_s=elapsed,
        protocol=f"ImageClassifier(width {width}, {n_features} features) trained {steps} Adam steps (lr {lr:g} "
                 f"linearly decayed, batch {batch_size}) on {len(x_train)} training images of {dataset}; "
                 f"accuracy on {len(x_held)} held-out images")
    return net.eval(), info


def save_classifier(path: str | Path, net: ImageClassifier, info: ClassifierInfo) -> None:
    """Write weights, architecture and :class:`ClassifierInfo` to ``path`` atomically."""
    import io

    from ..io import atomic_write

    buf = io.BytesIO()
    torch.save({"format": CLASSIFIER_FORMAT, "kind": "wgan-image-classifier", "arch": net.arch(),
                "info": info.as_dict(), "state_dict": {k: v.cpu() for k, v in net.state_dict().items()}}, buf)
    atomic_write(path, lambda f: f.write(buf.getbuffer()))


def read_weights(path: str | Path, what: str, fix: str) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; a missing or unreadable file is a one-line
    ConfigError naming ``what`` it should be and, for a missing one, the ``fix``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {str(path)!r} does not exist; {fix}")
    from ..io import load_tensors

    return load_tensors(path, what)


def load_classifier(path: str | Path, device: str | torch.device = "cpu") -> tuple[ImageClassifier, ClassifierInfo]:
    """The classifier in ``path`` (written by :func:`save_classifier`), in eval mode, and its info."""
    state = read_weights(path, "classifier file", "train one with `wgan classifier train --data DATA --out PATH`")
    if not isinstance(state, dict) or state.get("kind") != "wgan-image-classifier":
        raise ConfigError(f"{str(path)!r} is not a classifier written by `wgan classifier train`")
    if state.get("format") != CLASSIFIER_FORMAT:
        raise ConfigError(f"{str(path)!r} has classifier format {state.get('format')}, this wgan reads "
                          f"{CLASSIFIER_FORMAT}")
    a = state["arch"]
    net = ImageClassifier(tuple(a["shape"]), a["n_classes"], a["width"], a["n_features"])
    net.load_state_dict(state["state_dict"])
    return net.to(device).eval(), ClassifierInfo(**state["info"])


def default_steps(n_train: int, batch_size: int = 64) -> int:
    """About 10 epochs, at least 300 and at most 3,000 steps (digits: ~300, MNIST-sized sets: 3,000)."""
    return int(min(3000, max(300, math.ceil(10 * n_train / batch_size))))

"""The FID Inception network (the 2015 TF Inception graph of published FIDs and Inception Scores): pytorch-fid's
weights, fetched once into the cache (SHA-256 pinned here) or read from a local file the user names.

Published FIDs (Heusel et al. 2017, TTUR's ``fid.py``) and Inception Scores (Salimans et al. 2016; the
authors' ``inception_score/model.py``, copied as ``tflib/inception_score.py`` in improved_wgan_training) run
the TF graph ``classify_image_graph_def.pb`` of ``inception-2015-12-05.tgz``. Its blocks differ from
torchvision's ``Inception3`` (whose weights are a different ImageNet training) in three places, all built
here as the TF graph has them:

* the 3x3 average pools of the 35x35, 17x17 and first 8x8 blocks (``Mixed_5b``-``Mixed_5d``,
  ``Mixed_6b``-``Mixed_6e``, ``Mixed_7b``) do not count the zero padding (TF ``SAME`` average pooling,
  ``count_include_pad=False``; torchvision counts it);
* the last block (``Mixed_7c``) max-pools in its pool branch (3x3, stride 1, ``SAME``) instead of averaging;
* the classifier has 1,008 outputs (``fc``: 2048 -> 1008), and the Inception Score's softmax uses the
  logits ``pool3 @ W`` WITHOUT the bias (``tflib/inception_score.py:92-94`` takes the weight input of
  ``softmax/logits/MatMul`` and multiplies pool3 by it; torch-fidelity calls these "logits_unbiased").

pool3 = the mean of ``Mixed_7c``'s 8x8 map, 2,048 features. Every convolution is conv (no bias) + batch norm
(eps 0.001, running statistics) + ReLU: torchvision's ``BasicConv2d``, reused so that parameter names are
torchvision's. The 17x17 and 8x8 reduction blocks (``Mixed_6a``, ``Mixed_7a``) are exactly torchvision's
``InceptionB``/``InceptionD`` (``VALID`` max pools), reused as they are.

Input path, before the network (``(B, C, H, W)`` images in [-1, 1]; grey images repeated to 3 channels):

1. **8-bit quantisation** (``quantize=True``, every metric of the library): ``q = floor((x + 1) * 255.99 / 2)``
   clipped to 0..255, the conversion of ``gan_cifar_resnet.py:330`` before ``get_inception_score``; published
   FIDs are computed on 8-bit images too. A real image decoded from 8 bits comes back to its own pixels.
2. **Resize to 299x299 and scaling**, one of :data:`RESIZES`:

   * ``"tf1"`` -- the 2015 graph's own input path, which TTUR's FID and the official IS feed with 0..255
     pixels: ``ResizeBilinear`` of TF 1.x with ``align_corners=False`` and no half-pixel centres (output pixel
     ``i`` samples input position ``i * in / out``, neighbours ``floor`` and ``min(floor + 1, in - 1)``),
     then ``(v - 128) / 128``. Written by hand (:func:`resize_bilinear_tf1`): torch has no such mode.
   * ``"pytorch-fid"`` -- pytorch-fid's ``InceptionV3(resize_input=True, normalize_input=True)``: images in
     [0, 1] (``q / 255``), ``F.interpolate(size=(299, 299), mode="bilinear", align_corners=False)``, then
     ``2 u - 1``. Tested against pytorch-fid's own network (same random weights: pool3 equal to 1e-5).

Weights: pytorch-fid's port of the 2015 graph, ``pt_inception-2015-12-05-6726825d.pth`` (a ``state_dict``
with torchvision's parameter names, no ``AuxLogits``, ``fc`` 1008 x 2048). :func:`fid_inception_weights` fetches
it from pytorch-fid's release (:data:`WEIGHTS_URL`) into ``$WGAN_CACHE/weights/`` on first use and checks its
SHA-256 against :data:`WEIGHTS_SHA256` (:mod:`wgan.fetch`; ``WGAN_OFFLINE=1`` never downloads); a local file
named by ``eval.inception_weights`` (``--inception-weights``) is used instead when given. It is read with
``torch.load(weights_only=True)``, so the file cannot run code; torchvision's own ``inception_v3`` weights
(1,000 classes) are refused, since they are not the FID network's.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..fetch import FETCHABLE, FetchError, Remote, fetch

RESIZES = ("tf1", "pytorch-fid")
N_CLASSES = 1008  # the 2015 graph's softmax: 1,000 ImageNet classes and 8 unused ones
WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{WEIGHTS_NAME}"
# the file's SHA-256 (its name carries the first 8 hex digits, torch.hub's convention) and size, as recorded for
# the same file (pytorch-fid's release, re-hosted by torch-fidelity) in several public projects' pinned manifests
WEIGHTS_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
WEIGHTS_BYTES = 95_628_359


# ---------------------------------------------------------------------------------------------- input path
def quantize_8bit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images -> integer-valued floats 0..255: ``floor((x + 1) * 255.99 / 2)`` (improved_wgan_training,
    ``gan_cifar_resnet.py:330``), clipped."""
    return torch.floor((x.float() + 1.0) * (255.99 / 2)).clamp_(0.0, 255.0)


def _tf1_weights(n_in: int, n_out: int, device: torch.device) -> torch.Tensor:
    """``(n_out, n_in)`` interpolation matrix of TF 1.x ``ResizeBilinear`` (``align_corners=False``, legacy
    corner mode): output ``i`` reads input position ``i * n_in / n_out`` (float32, as TF computes it)."""
    scale = torch.tensor(n_in / n_out, dtype=torch.float32)
    pos = torch.arange(n_out, dtype=torch.float32) * scale  # (n_out,)
    lo = torch.floor(pos)
    frac = pos - lo
    lo = lo.long().clamp(0, n_in - 1)
    hi = (lo + 1).clamp(max=n_in - 1)
    w = torch.zeros(n_out, n_in)
    rows = torch.arange(n_out)
    w.index_put_((rows, lo), 1.0 - frac, accumulate=True)
    w.index_put_((rows, hi), frac, accumulate=True)
    return w.to(device)


def resize_bilinear_tf1(x: torch.Tensor, size: tuple[int, int] = (299, 299)) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(B, C, *size)`` as TF 1.x ``tf.image.resize_bilinear(align_corners=False)`` (the
    op inside the 2015 Inception graph). Bilinear resizing is separable, so it is two matrix products."""
    wh = _tf1_weights(x.shape[-2], size[0], x.device)  # (out_h, H)
    ww = _tf1_weights(x.shape[-1], size[1], x.device)  # (out_w, W)
    return torch.einsum("oh,bchw,pw->bcop", wh, x, ww)


def inception_input(x: torch.Tensor, resize: str = "tf1", quantize: bool = True) -> torch.Tensor:
    """``(B, 1 or 3, H, W)`` images in [-1, 1] -> ``(B, 3, 299, 299)`` as the FID network takes them (see the
    module docstring for the exact steps of each ``resize``)."""
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ConfigError(f"the Inception network takes (B, 1 or 3, H, W) images, got shape {tuple(x.shape)}")
    x = x.float()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    pixels = quantize_8bit(x) if quantize else (x + 1.0) * 127.5  # 0..255
    if resize == "tf1":
        return (resize_bilinear_tf1(pixels) - 128.0) / 128.0
    if resize == "pytorch-fid":
        u = pixels / 255.0 if quantize else (x + 1.0) / 2.0  # [0, 1]
        return 2.0 * F.interpolate(u, size=(299, 299), mode="bilinear", align_corners=False) - 1.0
    raise ConfigError(f"unknown Inception resize {resize!r}; valid: {', '.join(RESIZES)}")


# ---------------------------------------------------------------------------------------------- the network
def _conv(c_in: int, c_out: int, kernel, padding=0, stride: int = 1) -> nn.Module:
    from torchvision.models.inception import BasicConv2d

    return BasicConv2d(c_in, c_out, kernel_size=kernel, stride=stride, padding=padding)


def _avg_pool_tf(x: torch.Tensor) -> torch.Tensor:
    """TF ``avg_pool(3x3, stride 1, SAME)``: the mean over the window's pixels inside the map (padding not counted)."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _max_pool_tf(x: torch.Tensor) -> torch.Tensor:
    """TF ``max_pool(3x3, stride 1, SAME)``."""
    return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class Block35(nn.Module):
    """The 35x35 block (TF ``mixed``, ``mixed_1``, ``mixed_2``; torchvision ``InceptionA``): 1x1 | 1x1-5x5 |
    1x1-3x3-3x3 | TF average pool-1x1 -> 224 + ``pool_features`` channels."""

    def __init__(self, c_in: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = _conv(c_in, 64, 1)
        self.branch5x5_1 = _conv(c_in, 48, 1)
        self.branch5x5_2 = _conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _conv(c_in, 64, 1)
        self.branch3x3dbl_2 = _conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _conv(96, 96, 3, padding=1)
        self.branch_pool = _conv(c_in, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_avg_pool_tf(x))], 1)


class Block17(nn.Module):
    """The 17x17 block (TF ``mixed_4``-``mixed_7``; torchvision ``InceptionC``): 1x1 | 1x1-1x7-7x1 |
    1x1-7x1-1x7-7x1-1x7 | TF average pool-1x1 -> 768 channels."""

    def __init__(self, c_in: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = _conv(c_in, 192, 1)
        self.branch7x7_1 = _conv(c_in, c7, 1)
        self.branch7x7_2 = _conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = _conv(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = _conv(c_in, c7, 1)
        self.branch7x7dbl_2 = _conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _conv(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = _conv(c_in, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for conv in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                     self.branch7x7dbl_5):
            d = conv(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg_pool_tf(x))], 1)


class Block8(nn.Module):
    """The 8x8 block (TF ``mixed_9``, ``mixed_10``; torchvision ``InceptionE``): 1x1 | 1x1-(1x3, 3x1) |
    1x1-3x3-(1x3, 3x1) | pool-1x1 -> 2048 channels; ``pool`` is TF's average pool in ``Mixed_7b`` and a max
    pool in ``Mixed_7c``, as the 2015 graph has it."""

    def __init__(self, c_in: int, pool: str) -> None:
        super().__init__()
        self.pool = {"avg": _avg_pool_tf, "max": _max_pool_tf}[pool]
        self.branch1x1 = _conv(c_in, 320, 1)
        self.branch3x3_1 = _conv(c_in, 384, 1)
        self.branch3x3_2a = _conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = _conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = _conv(c_in, 448, 1)
        self.branch3x3dbl_2 = _conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = _conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = _conv(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = _conv(c_in, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.branch3x3_1(x)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        return torch.cat([self.branch1x1(x), self.branch3x3_2a(s), self.branch3x3_2b(s),
                          self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d), self.branch_pool(self.pool(x))], 1)


class FIDInception(nn.Module):
    """The 2015 TF Inception graph: ``(B, 3, 299, 299)`` in [-1, 1] -> pool3 ``(B, 2048)``; :meth:`logits`
    ``pool3 -> (B, 1008)`` without the bias, as the official Inception Score takes them. Parameter names are
    torchvision's ``Inception3`` (without ``AuxLogits``), the names of pytorch-fid's weights file."""

    def __init__(self) -> None:
        super().__init__()
        from torchvision.models.inception import InceptionB, InceptionD

        self.Conv2d_1a_3x3 = _conv(3, 32, 3, stride=2)  # 149x149
        self.Conv2d_2a_3x3 = _conv(32, 32, 3)  # 147x147
        self.Conv2d_2b_3x3 = _conv(32, 64, 3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)  # 73x73
        self.Conv2d_3b_1x1 = _conv(64, 80, 1)
        self.Conv2d_4a_3x3 = _conv(80, 192, 3)  # 71x71
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)  # 35x35
        self.Mixed_5b = Block35(192, 32)
        self.Mixed_5c = Block35(256, 64)
        self.Mixed_5d = Block35(288, 64)
        self.Mixed_6a = InceptionB(288)  # 17x17
        self.Mixed_6b = Block17(768, 128)
        self.Mixed_6c = Block17(768, 160)
        self.Mixed_6d = Block17(768, 160)
        self.Mixed_6e = Block17(768, 192)
        self.Mixed_7a = InceptionD(768)  # 8x8
        self.Mixed_7b = Block8(1280, "avg")
        self.Mixed_7c = Block8(2048, "max")
        self.fc = nn.Linear(2048, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for m in self.children():
            if m is self.fc:
                break
            x = m(x)
        return x.mean((2, 3))  # (B, 2048) pool3

    def logits(self, pool3: torch.Tensor) -> torch.Tensor:
        return pool3 @ self.fc.weight.t()  # (B, 1008), no bias (tflib/inception_score.py:92-93)


class InceptionFeatures(nn.Module):
    """``(B, C, H, W)`` images in [-1, 1] -> pool3 features ``(B, 2048)`` (or the unbiased logits ``(B, 1008)``
    with ``logits=True``) through :func:`inception_input` with ``resize`` and ``quantize``."""

    def __init__(self, net: FIDInception, logits: bool = False, resize: str = "tf1", quantize: bool = True) -> None:
        super().__init__()
        if resize not in RESIZES:
            raise ConfigError(f"unknown Inception resize {resize!r}; valid: {', '.join(RESIZES)}")
        self.net = net.eval().requires_grad_(False)
        self.logits, self.resize, self.quantize = logits, resize, quantize
        self.num_features = N_CLASSES if logits else 2048

    def train(self, mode: bool = True) -> InceptionFeatures:  # always in eval mode (batch norm running stats)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool3 = self.net(inception_input(x, self.resize, self.quantize))
        return self.net.logits(pool3) if self.logits else pool3


def random_fid_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights for :class:`FIDInception`, named as pytorch-fid's file: He-normal convolutions and batch-norm
    parameters and running statistics near 1 / 0, so that pool3 features stay of order 1 through the 94
    convolutions. A stand-in for the real file in tests and checks (it measures nothing about images)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, v in FIDInception().state_dict().items():
        if k.endswith("conv.weight"):
            out[k] = torch.randn(v.shape, generator=g) * (2 / v[0].numel()) ** 0.5
        elif k.endswith(("bn.weight", "running_var")):
            out[k] = torch.rand(v.shape, generator=g) * 0.5 + 0.75
        elif k.endswith(("bn.bias", "running_mean")):
            out[k] = torch.rand(v.shape, generator=g) * 0.4 - 0.2
        elif k.startswith("fc."):
            out[k] = torch.randn(v.shape, generator=g) * 0.02
        else:  # num_batches_tracked
            out[k] = v
    return out


def load_fid_inception(path: str | Path, device: str | torch.device = "cpu") -> FIDInception:
    """The FID network with the weights in ``path`` (pytorch-fid's ``pt_inception-2015-12-05-*.pth``), in eval
    mode; a missing, unreadable or foreign file is a one-line ConfigError."""
    from .classifier import read_weights

    fix = (f"give pytorch-fid's {WEIGHTS_NAME} ({WEIGHTS_URL}), or leave eval.inception_weights empty to have it "
           "fetched into the cache")
    state = read_weights(path, "Inception weights file", fix)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    fc = state.get("fc.weight") if isinstance(state, dict) else None
    if not isinstance(fc, torch.Tensor):
        raise ConfigError(f"{str(path)!r} is not an Inception v3 state_dict (no 'fc.weight'); the FID network needs "
                          f"{WEIGHTS_NAME}")
    if tuple(fc.shape) != (N_CLASSES, 2048):
        raise ConfigError(f"{str(path)!r} has a {fc.shape[0]}-class fc: not the 2015 FID Inception (1,008 classes; "
                          f"torchvision's ImageNet inception_v3 gives other FIDs); use {WEIGHTS_NAME}")
    state = {k: v for k, v in state.items() if not k.startswith("AuxLogits.")}
    net = FIDInception()
    try:
        net.load_state_dict(state)
    except RuntimeError as e:
        raise ConfigError(f"{str(path)!r} does not match the FID Inception network: "
                          f"{str(e).splitlines()[0]}") from None
    return net.to(device).eval()


def fid_inception_weights() -> Path:
    """The cached weights file, fetched from :data:`WEIGHTS_URL` and SHA-256-checked on first use."""
    try:
        return fetch(Remote(f"weights/{WEIGHTS_NAME}", (WEIGHTS_URL,), WEIGHTS_SHA256, "sha256", WEIGHTS_BYTES))
    except FetchError as e:
        raise FetchError(f"{e}; or name a local copy with --inception-weights PATH (eval.inception_weights)") from None


FETCHABLE.add("inception", fid_inception_weights)  # wgan fetch inception

# the metric names' Inception networks -> their input path (wgan.metrics.image_metrics.IMAGE_METRICS)
NETWORKS = {"inception": "tf1", "inception_torchmetrics": "tf1", "inception_pytorchfid": "pytorch-fid"}
_HOW = {"tf1": "the 2015 graph's input path: TF1 ResizeBilinear to 299x299 (align_corners=False, no half-pixel "
               "centres), then (p - 128) / 128",
        "pytorch-fid": "pytorch-fid's input path: u = p / 255, F.interpolate(size=(299, 299), mode='bilinear', "
                       "align_corners=False), then 2 u - 1"}


def inception_network(path: str | Path, device: str | torch.device = "cpu", network: str = "inception",
                      net: FIDInception | None = None):
    """The FID network in ``path`` (or the loaded ``net``) as a :class:`wgan.metrics.image_metrics.FeatureNetwork`
    named ``network`` (one of :data:`NETWORKS`): pool3 features and the unbiased 1008-class logits, on
    8-bit-quantised images through that network's input path."""
    from .image_metrics import FeatureNetwork

    if network not in NETWORKS:
        raise ConfigError(f"unknown Inception network {network!r}; valid: {', '.join(NETWORKS)}")
    resize = NETWORKS[network]
    net = load_fid_inception(path, device) if net is None else net
    return FeatureNetwork(network, InceptionFeatures(net, False, resize), InceptionFeatures(net, True, resize),
                          f"2015 TF FID Inception from {str(Path(path).resolve())} (pool3: 2048 features; IS: "
                          f"softmax of pool3 @ fc.weight, 1008 classes, no bias); images quantised to 8 bits, "
                          f"p = floor((x + 1) * 255.99 / 2), then {_HOW[resize]}", batch_size=100)

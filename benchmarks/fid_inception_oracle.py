"""pool3 of wgan's FID Inception vs pytorch-fid's network (the oracle) on the same random weights.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/fid_inception_oracle.py [--images 2] [--size 64]

Prints the max abs difference of pool3 features against pytorch-fid's ``InceptionV3`` (pytorch-fid's input path,
which tests/test_image_metrics.py asserts to 1e-5), the same for torchvision's ``Inception3`` with the same
weights (the negative control) and for wgan's TF1 input path (``*_inception``), with the features' mean size.
Needs pytorch-fid (the dev extra); its weight download is replaced by the random weights, sockets closed.
"""

from __future__ import annotations

import argparse
import socket

import torch
import torch.nn.functional as F


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import pytorch_fid.inception as pfi
    from torchvision.models.inception import Inception3

    from wgan.metrics.inception import FIDInception, InceptionFeatures, random_fid_state

    def no_network(*args, **kwargs):
        raise RuntimeError("no network access")

    socket.socket.connect = no_network  # type: ignore[method-assign]
    torch.set_num_threads(1)
    state = random_fid_state(a.seed)
    pfi.load_state_dict_from_url = lambda *args, **kwargs: dict(state)
    oracle = pfi.InceptionV3([3], resize_input=True, normalize_input=True, use_fid_inception=True).eval()
    net = FIDInception()
    net.load_state_dict(state)
    tv = Inception3(num_classes=1008, aux_logits=False, transform_input=False, init_weights=False).eval()
    tv.load_state_dict(state)
    g = torch.Generator().manual_seed(a.seed + 1)
    pixels = torch.randint(0, 256, (a.images, 3, a.size, a.size), generator=g).float()
    x = pixels / 127.5 - 1
    with torch.no_grad():
        ref = oracle(pixels / 255)[0].flatten(1)
        ours = InceptionFeatures(net, resize="pytorch-fid")(x)
        tf1 = InceptionFeatures(net, resize="tf1")(x)
        h = 2 * F.interpolate(pixels / 255, size=(299, 299), mode="bilinear", align_corners=False) - 1
        for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
                     "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
                     "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"):
            h = getattr(tv, name)(h)
    print(f"{a.images} images {a.size}x{a.size}, random weights seed {a.seed}; pool3 mean |f| = "
          f"{float(ref.abs().mean()):.4f}, max |f| = {float(ref.abs().max()):.4f}")
    print(f"max |wgan (pytorch-fid input path) - pytorch-fid| = {float((ours - ref).abs().max()):.3g}")
    print(f"max |torchvision Inception3 - pytorch-fid|         = {float((h.flatten(1) - ref).abs().max()):.3g}")
    print(f"max |wgan (TF1 input path) - pytorch-fid|          = {float((tf1 - ref).abs().max()):.3g}")


if __name__ == "__main__":
    main()

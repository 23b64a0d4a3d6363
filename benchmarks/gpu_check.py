"""Seconds per generator step of the library's loop on one GPU, for the settings users run at scale.

No downloads: the data is synthetic (uniform random 32x32 RGB and 28x28 grayscale images held in memory, and a
folder of JPEGs written to a temporary directory), so the figures are speed only -- nothing here is trained to
quality. Rows (WGAN-GP, Algorithm 1: n_critic 5, lambda 10, Adam 1e-4, beta (0, 0.9)):

* ``resnet32 eager``: the WGAN-GP CIFAR ResNet (width 128, batch 64, generator batch 128) on 32x32 images;
* ``+amp``: bfloat16 autocast; ``+amp+channels-last``: and channels-last memory format;
* ``+compile``: ``train.compile = true`` (float32; its compile time is reported apart);
* ``mnist-conv 28x28``: the WGAN-GP MNIST nets (width 64, batch 50) on MNIST-shaped images;
* ``dcgan64 folder``: the DCGAN nets (width 64, batch 64) on a folder of 256x256 JPEGs resized to 64x64 through the
  input pipeline (DataLoader workers, wgan.data.loading), with the time the step waited for data.

Each row: ``--warmup`` steps (the compile row's first step compiles), then ``--steps`` timed steps with CUDA
synchronised. Prints one table and writes it as JSON (``--out``). Without a GPU it runs a tiny CPU variant of the
same rows (small widths and images, few steps; the compile row is skipped: compiling costs minutes on a CPU), so
the script itself is tested (tests/test_gpu_check.py).

    bash benchmarks/gpu_check.sh [--out gpu_check.json] [--steps 30]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from wgan import Config, Trainer
from wgan.config import apply_sets
from wgan.data.image_datasets import ImageSampler

GP = ["objective.name=wgan-gp", "train.eval_every=1000000", "train.log_every=10"]


def synthetic(shape: tuple[int, ...], n: int, seed: int = 0) -> ImageSampler:
    g = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (n, *shape), generator=g, dtype=torch.uint8)
    return ImageSampler(f"synthetic-{'x'.join(map(str, shape))}", pixels)


def make_jpegs(folder: Path, n: int, px: int = 256) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n):
        coarse = torch.from_numpy(rng.uniform(0, 255, (3, 8, 8)).astype(np.float32))
        img = torch.nn.functional.interpolate(coarse[None], size=(px, px), mode="bilinear")[0]
        Image.fromarray(img.clamp(0, 255).byte().permute(1, 2, 0).numpy()).save(folder / f"{i:05d}.jpg", quality=90)


def time_row(name: str, sets: list[str], sampler, steps: int, warmup: int, device: str) -> dict:
    cfg = apply_sets(Config(), [*GP, *sets, f"train.device={device}", "train.steps=1000000"])
    tr = Trainer(cfg, sampler=sampler)
    sync = torch.cuda.synchronize if tr.device.type == "cuda" else (lambda: None)
    start = time.perf_counter()
    tr.train_step()
    sync()
    first_s = time.perf_counter() - start
    for _ in range(warmup - 1):
        tr.train_step()
    tr._flush()
    sync()
    start = time.perf_counter()
    for s in range(1, steps + 1):
        tr.train_step()
        if s % 10 == 0:
            tr._flush()
    sync()
    per_step = (time.perf_counter() - start) / steps
    rec = tr._flush()
    row = {"row": name, "s_per_step": per_step, "first_step_s": first_s, "steps": steps,
           "images_per_s": tr.cfg.objective.n_critic * tr.cfg.data.batch_size / per_step}
    if "time/data_wait_s" in rec:
        row["data_wait_s_per_critic_step"] = rec["time/data_wait_s"]
    if tr.stream is not None:
        tr.stream.close()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="gpu_check.json")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--cpu", action="store_true", help="the tiny CPU variant even when a GPU is present")
    args = ap.parse_args()
    gpu = torch.cuda.is_available() and not args.cpu
    device = "cuda" if gpu else "cpu"
    if gpu:
        width, size, batch, steps, warmup, mwidth, dwidth, folder_n = 128, 32, 64, args.steps, args.warmup, 64, 64, 1000
        dev_name = torch.cuda.get_device_name()
        torch.backends.cuda.matmul.allow_tf32 = False  # float32 as the eager reference computes it
    else:  # tiny CPU variant: the same rows, sized to run in seconds
        width, size, batch, steps, warmup, mwidth, dwidth, folder_n = 8, 16, 8, 2, 1, 8, 8, 40
        dev_name = f"CPU ({os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}), tiny variant"
        torch.set_num_threads(1)
    resnet = ["generator.net=resnet", "critic.net=resnet", f"generator.width={width}", f"critic.width={width}",
              "generator.latent_dim=128", "generator.norm=batch", "critic.norm=none", f"data.batch_size={batch}",
              "train.g_batch_multiple=2"]
    cifar = synthetic((3, size, size), 2048 if gpu else 64)
    rows = [
        ("resnet32 eager", resnet),
        ("resnet32 +amp", [*resnet, "train.amp=true"]),
        ("resnet32 +amp+channels-last", [*resnet, "train.amp=true", "train.channels_last=true"]),
        ("resnet32 +compile", [*resnet, "train.compile=true"]),
    ]
    table = []
    for name, sets in rows:
        if name.endswith("compile") and not gpu:
            table.append({"row": name, "skipped": "CPU variant: compiling costs minutes on a CPU; run on a GPU"})
            continue
        table.append(time_row(name, sets, cifar, steps, warmup, device))
        print(json.dumps(table[-1]), flush=True)
    mnist = synthetic((1, 28, 28), 2048 if gpu else 64)
    table.append(time_row("mnist-conv 28x28", ["generator.net=mnist-conv", "critic.net=mnist-conv",
                                               f"generator.width={mwidth}", f"critic.width={mwidth}",
                                               "generator.latent_dim=128", "data.batch_size=50"],
                          mnist, steps, warmup, device))
    print(json.dumps(table[-1]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        make_jpegs(Path(tmp), folder_n)
        dsize = 64 if gpu else 16
        table.append(time_row(f"dcgan{dsize} folder", [
            f"data.name={tmp}", f"data.image_size={dsize}", "data.val_size=16", "generator.net=dcgan",
            "critic.net=dcgan", f"generator.width={dwidth}", f"critic.width={dwidth}", "generator.latent_dim=128",
            "generator.norm=batch", "critic.norm=layer", f"data.batch_size={64 if gpu else 8}"],
            None, steps, warmup, device))
    print(f"\n{dev_name}; torch {torch.__version__}; {steps} timed steps per row after {warmup} warm-up")
    print(f"{'row':32s} {'s/step':>9s} {'images/s':>10s} {'first step s':>13s} {'data wait s':>12s}")
    for r in table:
        if "skipped" in r:
            print(f"{r['row']:32s} skipped: {r['skipped']}")
            continue
        wait = r.get("data_wait_s_per_critic_step")
        print(f"{r['row']:32s} {r['s_per_step']:9.4f} {r['images_per_s']:10.0f} {r['first_step_s']:13.1f} "
              f"{'' if wait is None else f'{wait:.4f}':>12s}")
    Path(args.out).write_text(json.dumps({"device": dev_name, "torch": torch.__version__, "rows": table}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Seconds per step of the library's loop on one GPU (CIFAR ResNet WGAN-GP eager, +AMP, +channels-last, +compile;
# the MNIST nets; the DCGAN at 64x64 from a synthetic JPEG folder through the input pipeline). No downloads:
# synthetic data only. About 5-10 minutes on one H100/H200; without a GPU, a tiny CPU variant of the same rows
# (seconds). Prints one table and writes it as JSON:
#
#   bash benchmarks/gpu_check.sh [--out gpu_check.json] [--steps 30]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python "$here/gpu_check.py" "$@"

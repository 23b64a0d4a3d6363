"""Data-parallel training over processes launched by ``torchrun`` (one GPU per process, any number of nodes).

Every rank holds full copies of both networks and their optimisers, draws its own data and noise (streams
seeded by ``seed + rank * RANK_SEED_OFFSET``) and backpropagates its own total loss -- objective, gradient
penalty (a double backward) and auxiliary terms -- exactly as a single process would. Before each optimiser
step :func:`all_reduce_gradients` replaces every gradient by its mean over ranks. With equal per-rank batches
and per-sample-mean losses that mean *is* the gradient of the same loss over the concatenated global batch,
so n ranks with batch B train like one process with batch n*B (the gradient penalty included: its value is a
mean of per-sample terms). Identical initial parameters, identical averaged gradients and deterministic
optimisers keep the ranks identical; buffers (batch-norm running statistics) are averaged once per step.

Why not ``torch.nn.parallel.DistributedDataParallel``? Its documented limits meet a gradient-penalty GAN
head on: it "does not work with torch.autograd.grad()" (the penalty's input gradient), it assumes one
forward per backward with a fixed set of used parameters (the critic runs on real, fake and interpolated
batches, and its parameters are frozen during the generator step), and its gradient hooks fire per bucket
during backward while the penalty's graph is differentiated a second time. Reducing the finished gradients
by hand (one flattened all-reduce per optimiser step, as StyleGAN3's training loop does) is correct for every
objective and penalty at the cost of not overlapping communication with the backward pass.

Launch: ``torchrun --nproc_per_node 8 -m wgan.cli train --config cifar.toml`` (``data.batch_size`` is per
rank). Rank 0 alone writes files; every rank reads the checkpoint on resume (use a shared folder across nodes).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

RANK_SEED_OFFSET = 1_000_003  # rank r draws data/noise from seed + r * offset (rank 0: the single-process streams)


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0")) if is_distributed() else 0


def init_from_env() -> bool:
    """Join the process group ``torchrun`` describes in the environment (``WORLD_SIZE`` > 1); NCCL when CUDA
    is available, else gloo. Returns True when this process is one of several ranks."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or (dist.is_available() and dist.is_initialized()):
        return is_distributed()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)
    return is_distributed()


def _grads(params: Iterable[nn.Parameter]) -> list[torch.Tensor]:
    return [p.grad for p in params if p.grad is not None]


def all_reduce_gradients(params: Iterable[nn.Parameter]) -> None:
    """Replace each ``p.grad`` by its mean over ranks: one all-reduce of one flattened buffer.

    Every rank must hold gradients for the same parameters (true here: the same loss on every rank)."""
    if not is_distributed():
        return
    grads = _grads(params)
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])  # (P,)
    dist.all_reduce(flat)  # SUM (gloo has no AVG)
    flat /= dist.get_world_size()
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset:offset + n].view_as(g))
        offset += n


def average_buffers(module: nn.Module) -> None:
    """Mean over ranks of every floating-point buffer (batch-norm running mean/var), so ranks stay identical."""
    if not is_distributed():
        return
    bufs = [b for b in module.buffers() if b.is_floating_point()]
    if not bufs:
        return
    flat = torch.cat([b.reshape(-1) for b in bufs])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for b in bufs:
        b.copy_(flat[offset:offset + b.numel()].view_as(b))
        offset += b.numel()


def broadcast_module(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank (done once at the start)."""
    if not is_distributed():
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def _comm_device() -> torch.device:
    """Where small host values go for a collective: NCCL reduces CUDA tensors only."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_means(values: dict[str, float], mins: dict[str, float], maxs: dict[str, float]
                     ) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Means of ``values`` over ranks and min/max of ``mins``/``maxs`` (same keys on every rank)."""
    if not is_distributed():
        return values, mins, maxs
    out = []
    for d, op, scale in ((values, dist.ReduceOp.SUM, 1.0 / dist.get_world_size()), (mins, dist.ReduceOp.MIN, 1.0),
                         (maxs, dist.ReduceOp.MAX, 1.0)):
        keys = sorted(d)
        t = torch.tensor([d[k] for k in keys], dtype=torch.float64, device=_comm_device())
        if keys:
            dist.all_reduce(t, op=op)
        out.append({k: float(v) * scale for k, v in zip(keys, t.tolist(), strict=True)})
    return out[0], out[1], out[2]


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj`` (e.g. RNG states), in rank order, on every rank."""
    if not is_distributed():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (e.g. the run directory rank 0 created)."""
    if not is_distributed():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def shutdown() -> None:
    """Leave the process group (if this process joined one)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()

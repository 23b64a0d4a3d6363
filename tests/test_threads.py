"""train.threads: validation, the work-per-step estimate and the automatic choice (wgan.threads)."""

import pytest
import torch

from wgan.config import ConfigError
from wgan.resolve import resolve
from wgan.threads import PARALLEL_WORK, auto_threads, forward_flops, run_threads, torch_threads, work_per_step

from .helpers import tiny_config


def test_threads_is_validated():
    with pytest.raises(ConfigError, match="train.threads"):
        resolve(tiny_config("train.threads=-1"))
    assert resolve(tiny_config("train.threads=3")).train.threads == 3


def test_work_counts_the_networks_flops_without_touching_the_rng():
    cfg = resolve(tiny_config("generator.width=128", "critic.width=128", "generator.depth=3", "critic.depth=3"))
    before = torch.get_rng_state()
    f = forward_flops(cfg, (2,))
    assert torch.equal(before, torch.get_rng_state())
    # 2 -> 128 -> 128 -> 128 -> (2 | 1), multiply-adds counted as 2 FLOPs
    mlp = lambda i, o: 2 * (i * 128 + 2 * 128 * 128 + 128 * o)  # noqa: E731
    assert f == mlp(2, 2) + mlp(2, 1)
    assert work_per_step(cfg, (2,)) == f * cfg.data.batch_size


def test_auto_rule_one_thread_for_small_work_else_idle_cores():
    assert auto_threads(PARALLEL_WORK / 10, cores=16, load=0.0) == 1
    assert auto_threads(PARALLEL_WORK * 10, cores=16, load=0.0) == 16
    assert auto_threads(PARALLEL_WORK * 10, cores=16, load=12.2) == 4
    assert auto_threads(PARALLEL_WORK * 10, cores=2, load=7.0) == 1
    cfg = resolve(tiny_config("train.threads=2"))
    assert run_threads(cfg, (2,)) == 2
    assert run_threads(resolve(tiny_config()), (2,)) == 1  # a toy MLP: one thread


def test_torch_threads_restores():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before

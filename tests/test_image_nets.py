"""Image networks: the shared residual block, DCGAN / ResNet / MNIST-conv families and their contracts."""

import pytest
import torch
from torch import nn

from wgan.nets import is_per_sample
from wgan.nets.blocks import ChannelLayerNorm, ConditionalBatchNorm, OptimizedDownBlock, ResBlock


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("resample", [None, "up", "down"])
@pytest.mark.parametrize("norm", ["none", "batch", "layer", "cond-batch"])
def test_resblock_shapes_and_per_sample(dims, resample, norm):
    torch.manual_seed(0)
    block = ResBlock(dims, 4, 6, 3, resample=resample, norm=norm, n_classes=3)
    x = torch.randn(5, 4, *([8] * dims))
    y = torch.tensor([0, 1, 2, 0, 1])
    out = block(x, y)
    size = {None: 8, "up": 16, "down": 4}[resample]
    assert out.shape == (5, 6, *([size] * dims))
    assert is_per_sample(block) == (norm in ("none", "layer"))


def test_resblock_identity_shortcut_and_scale():
    """With matching shapes the shortcut is the identity: out = x + scale * body(x) exactly."""
    torch.manual_seed(0)
    block = ResBlock(1, 8, 8, 5, norm="none", activation="relu", scale=0.3)
    assert isinstance(block.shortcut, nn.Identity)
    x = torch.randn(3, 8, 12)
    body = block.conv2(torch.relu(block.conv1(torch.relu(x))))
    torch.testing.assert_close(block(x), x + 0.3 * body)


def test_resblock_down_and_up_match_hand_computation():
    torch.manual_seed(0)
    down = ResBlock(2, 3, 5, 3, resample="down")
    x = torch.randn(2, 3, 8, 8)
    body = nn.functional.avg_pool2d(down.conv2(torch.relu(down.conv1(torch.relu(x)))), 2)
    torch.testing.assert_close(down(x), nn.functional.avg_pool2d(down.shortcut(x), 2) + body)
    up = ResBlock(2, 3, 5, 3, resample="up")
    x_up = nn.functional.interpolate(x, scale_factor=2, mode="nearest")
    body = up.conv2(torch.relu(up.conv1(torch.relu(x_up))))
    torch.testing.assert_close(up(x), up.shortcut(x_up) + body)


def test_layer_norm_is_per_sample_over_all_features():
    torch.manual_seed(0)
    ln = ChannelLayerNorm(4)
    x = torch.randn(3, 4, 5, 5) * 7 + 2
    out = ln(x)
    flat = out.flatten(1)
    torch.testing.assert_close(flat.mean(1), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(flat.var(1, unbiased=False), torch.ones(3), atol=1e-3, rtol=0)
    torch.testing.assert_close(ln(x[:1]), out[:1])  # one sample alone gives the same row
    assert is_per_sample(ln)


def test_conditional_batch_norm_uses_per_class_gain_and_bias():
    cbn = ConditionalBatchNorm(2, 2, n_classes=3)
    with torch.no_grad():
        cbn.gain.weight.copy_(torch.tensor([[1.0, 1.0], [2.0, 3.0], [0.5, 0.5]]))
        cbn.bias.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, -1.0], [0.0, 0.0]]))
    x = torch.randn(4, 2, 3, 3)
    y = torch.tensor([1, 1, 0, 2])
    normed = nn.functional.batch_norm(x, None, None, training=True)
    expected = normed.clone()
    expected[:2, 0] = 2 * normed[:2, 0] + 1
    expected[:2, 1] = 3 * normed[:2, 1] - 1
    expected[3] = 0.5 * normed[3]
    torch.testing.assert_close(cbn(x, y), expected)
    with pytest.raises(ValueError, match="labels"):
        cbn(x)


def test_optimized_down_block():
    torch.manual_seed(0)
    block = OptimizedDownBlock(3, 8)
    x = torch.randn(2, 3, 8, 8)
    assert block(x).shape == (2, 8, 4, 4)
    assert is_per_sample(block)


def test_resblock_rejects_bad_arguments():
    with pytest.raises(ValueError, match="dims"):
        ResBlock(3, 4, 4)
    with pytest.raises(ValueError, match="norm"):
        ResBlock(2, 4, 4, norm="group")
    with pytest.raises(ValueError, match="odd"):
        ResBlock(2, 4, 4, kernel_size=4)

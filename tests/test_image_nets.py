"""Image networks: the shared residual block, DCGAN / ResNet / MNIST-conv families and their contracts."""

import warnings

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


# ---- every registered image family: build -> shapes, per-sample, penalty double backward, contracts ----

from wgan.config import ConfigError  # noqa: E402
from wgan.nets import CRITICS, GENERATORS, build_critic, build_generator  # noqa: E402
from wgan.nets.image_nets import IMAGE_CRITICS, IMAGE_GENERATORS  # noqa: E402
from wgan.penalties import make_penalty, warn_if_batchnorm  # noqa: E402
from wgan.resolve import resolve  # noqa: E402
from wgan.training.trainer import count_parameters  # noqa: E402

from .helpers import tiny_config  # noqa: E402

IMAGE_NETS = ["mlp", *IMAGE_GENERATORS]
SHAPES = {"mnist-conv": (1, 28, 28), "mlp": (1, 8, 8), "dcgan": (3, 16, 16), "resnet": (3, 16, 16),
          "resnet64": (3, 16, 16), "dcgan-deep": (3, 16, 16), "resnet-bottleneck": (3, 16, 16)}
DEPTHS = {"dcgan-deep": 4, "resnet-bottleneck": 11}  # conv layers in all (3 + 1 extra; 3 bottleneck blocks + 2)


def _nets(net, *sets, shape=None):
    depth = DEPTHS.get(net, 1)
    cfg = resolve(tiny_config(f"generator.net={net}", f"critic.net={net}", "generator.width=8", "critic.width=8",
                              f"generator.depth={depth}", f"critic.depth={depth}", "generator.latent_dim=6", *sets),
                  check_data=False)
    shape = shape or SHAPES[net]
    return build_generator(cfg.generator, shape), build_critic(cfg.critic, shape), shape


def test_every_image_family_is_registered():
    for net in IMAGE_GENERATORS:
        assert net in GENERATORS and net in CRITICS and net in IMAGE_CRITICS


@pytest.mark.parametrize("net", IMAGE_NETS)
@pytest.mark.parametrize("norm", ["none", "layer", "batch"])
def test_image_family_contract(net, norm):
    torch.manual_seed(0)
    g_norm = "none" if norm == "layer" else norm
    G, D, shape = _nets(net, f"critic.norm={norm}", f"generator.norm={g_norm}")
    assert G.latent_dim == 6
    x = G(torch.randn(5, 6))
    assert x.shape == (5, *shape)
    assert x.abs().max() <= 1
    out = D(x)
    assert out.shape == (5,)
    h = D.features(x)
    assert h.dim() == 2 and h.shape[0] == 5
    torch.testing.assert_close(D.head(h), out)
    assert is_per_sample(D) == (norm != "batch")
    if norm != "batch":  # one sample alone gives the same output as in the batch
        torch.testing.assert_close(D(x[:1]), out[:1], rtol=1e-4, atol=1e-5)
    # a gradient penalty's double backward reaches every critic parameter
    penalty = make_penalty("gp", 10.0)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert warn_if_batchnorm(D, penalty) == (norm == "batch")
    real = torch.rand(5, *shape) * 2 - 1
    gp, norms = penalty(D, real, x.detach(), torch.Generator().manual_seed(0))
    assert norms.shape == (5,) and torch.isfinite(gp)
    gp.backward()
    grads = [p.grad for p in D.parameters() if p.grad is not None]  # the head's bias gets none
    # (a bottleneck critic's last norm is followed by the linear head only: its shift gets none either)
    no_grad = 2 if net == "resnet-bottleneck" and norm != "none" else 1
    assert len(grads) >= len(list(D.parameters())) - no_grad and all(torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("net", list(IMAGE_GENERATORS))
def test_conditional_generator_and_acgan_head(net):
    torch.manual_seed(0)
    for g_norm in ("cond-batch", "none"):  # labels through conditional BN, or one-hot appended to z
        G, D, shape = _nets(net, "generator.n_classes=3", "critic.n_classes=3", f"generator.norm={g_norm}")
        y = torch.tensor([0, 1, 2, 1])
        x = G(torch.randn(4, 6), y)
        assert x.shape == (4, *shape)
        with pytest.raises(ValueError, match="labels"):
            G(torch.randn(4, 6))
        assert D.class_logits(D.features(x)).shape == (4, 3)
    z = torch.randn(1, 6).expand(4, 6)  # same noise, different labels -> different images
    G.eval()
    assert not torch.allclose(G(z, y)[0], G(z, y)[1])


def test_critic_without_classes_has_no_class_head():
    _, D, _ = _nets("dcgan")
    with pytest.raises(ValueError, match="n_classes"):
        D.class_logits(torch.zeros(2, D.n_features))


def test_dcgan_variants():
    torch.manual_seed(0)
    G, D, _ = _nets("dcgan", "generator.activation=gated", "critic.activation=gated", "generator.norm=none",
                    "generator.constant_width=true", "generator.extra_layers=1", "critic.extra_layers=1")
    convs = [m for m in G.modules() if isinstance(m, (nn.ConvTranspose2d, nn.Conv2d))]
    assert [m.out_channels for m in convs] == [16, 16, 16, 3]  # constant 8 filters, doubled for the gate
    assert not any(isinstance(m, nn.BatchNorm2d) for m in G.modules())
    assert G(torch.randn(2, 6)).shape == (2, 3, 16, 16)
    G, D, _ = _nets("dcgan", "generator.norm=batch", "critic.activation=leaky_relu")
    convs = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [m.out_channels for m in convs] == [16, 8, 3]  # filters halve per doubling, width at H/2
    assert any(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in D.modules())
    G, D, _ = _nets("dcgan", "generator.activation=tanh", "critic.activation=tanh", shape=(1, 8, 8))
    assert G(torch.randn(2, 6)).shape == (2, 1, 8, 8) and D(torch.zeros(2, 1, 8, 8)).shape == (2,)
    with pytest.raises(ValueError, match="power-of-two"):
        _nets("dcgan", shape=(3, 12, 12))


def test_resnet_depth_and_authors_cifar_layout():
    G, D, _ = _nets("resnet", shape=(3, 32, 32))
    assert sum(isinstance(m, ResBlock) for m in G.modules()) == 3  # one up block per doubling 4 -> 32
    assert sum(isinstance(m, (ResBlock, OptimizedDownBlock)) for m in D.modules()) == 4
    G3, D3, _ = _nets("resnet", "generator.depth=3", "critic.depth=3", shape=(3, 32, 32))
    assert sum(isinstance(m, ResBlock) for m in G3.modules()) == 9
    assert sum(isinstance(m, (ResBlock, OptimizedDownBlock)) for m in D3.modules()) == 1 + 3 + 4
    G64, D64, _ = _nets("resnet64", shape=(3, 64, 64))
    ups = [m for m in G64.modules() if isinstance(m, ResBlock)]
    assert [b.conv2.out_channels for b in ups] == [64, 32, 16, 8]  # 8w, 4w, 2w, w
    downs = [m for m in D64.modules() if isinstance(m, ResBlock)]
    assert [b.conv2.out_channels for b in downs] == [16, 32, 64, 64]  # 2w, 4w, 8w, 8w


def test_cifar_resnet_parameter_count():
    """Width 128, depth 1: the WGAN-GP CIFAR ResNet. Counted by hand from its layers: generator
    linear 128 -> 4*4*128, three up blocks (two 3x3 convs, a 1x1 shortcut, two BNs), BN + conv3x3 to RGB."""
    block_g = 2 * (128 * 128 * 9 + 128) + (128 * 128 + 128) + 2 * 256
    expected_g = (128 * 2048 + 2048) + 3 * block_g + 256 + (128 * 3 * 9 + 3)
    opt = (3 * 128 * 9 + 128) + (128 * 128 * 9 + 128) + (3 * 128 + 128)
    plain = 2 * (128 * 128 * 9 + 128)
    expected_d = opt + (plain + 128 * 128 + 128) + 2 * plain + 129
    cfg = resolve(tiny_config("generator.net=resnet", "critic.net=resnet", "generator.width=128",
                              "critic.width=128", "generator.depth=1", "critic.depth=1", "generator.latent_dim=128",
                              "generator.norm=batch"), check_data=False)
    assert count_parameters(build_generator(cfg.generator, (3, 32, 32))) == expected_g == 1_204_483
    assert count_parameters(build_critic(cfg.critic, (3, 32, 32))) == expected_d == 1_053_825


def test_mnist_conv_crop_and_sizes():
    G, D, _ = _nets("mnist-conv", shape=(1, 32, 32))
    assert G(torch.randn(2, 6)).shape == (2, 1, 32, 32)
    with pytest.raises(ValueError, match="28x28 or 32x32"):
        _nets("mnist-conv", shape=(1, 16, 16))


def test_resolve_checks_image_net_choices():
    with pytest.raises(ConfigError, match="cond-batch"):
        resolve(tiny_config("critic.net=dcgan", "critic.norm=cond-batch"), check_data=False)
    with pytest.raises(ConfigError, match="gated"):
        resolve(tiny_config("generator.activation=gated"), check_data=False)  # mlp has no gated units
    with pytest.raises(ConfigError, match="n_classes"):
        resolve(tiny_config("generator.n_classes=-1"), check_data=False)
    resolve(tiny_config("generator.net=dcgan", "generator.norm=cond-batch", "generator.activation=gated"),
            check_data=False)

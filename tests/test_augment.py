"""DiffAugment (``train.augment``, wgan.training.augment): each policy's contract on constructed images, gradients
through the augmentation, the run's own augment stream (same seed, same augmentation; resumes bit-identical), the
penalty at the augmented points, and the refusals by name."""

import pytest
import torch

from wgan import Trainer
from wgan.config import ConfigError
from wgan.data import LineData
from wgan.ensemble import Ensemble
from wgan.resolve import resolve
from wgan.training import steps
from wgan.training.augment import POLICIES, Augment, cutout, cutout_mask, half_up, make_augment, translation

from .helpers import tiny_config
from .test_train import _assert_resume_is_bit_identical

ALL = "translation,cutout,color"
IMAGES = ["data.name=digits", "data.image_size=16", "data.batch_size=8", "generator.net=dcgan", "critic.net=dcgan",
          "generator.latent_dim=8", "generator.width=4", "critic.width=4", "generator.depth=1", "critic.depth=1",
          "eval.metrics=msssim50_pairs", "objective.name=wgan-gp", "objective.n_critic=2"]


def _images(b=6, c=3, h=28, w=28, seed=0):
    return torch.rand(b, c, h, w, generator=torch.Generator().manual_seed(seed)) * 2 - 1  # (B, C, H, W) in [-1, 1)


# ---------------------------------------------------------------------------------------------- the policies
def test_the_registry_holds_the_papers_three_policies():
    assert list(POLICIES) == ["color", "translation", "cutout"]
    assert all(p.description for p in POLICIES.values())


@pytest.mark.parametrize("name", list(POLICIES))
def test_each_policy_keeps_shape_and_dtype_and_follows_its_generator(name):
    aug, x = Augment((name,)), _images()
    a = aug(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and a.dtype == x.dtype and torch.isfinite(a).all()
    assert torch.equal(a, aug(x, torch.Generator().manual_seed(1)))  # same seed, same augmentation
    assert not torch.equal(a, aug(x, torch.Generator().manual_seed(2)))
    assert not torch.equal(a, x)


def test_translation_shifts_a_constructed_image_by_the_drawn_amount():
    x = torch.arange(1, 1 + 2 * 10 * 12, dtype=torch.float32).view(2, 1, 10, 12)  # every pixel its own value
    out = translation(x, (torch.tensor([2, -1]), torch.tensor([-3, 4])))
    want = torch.zeros_like(x)
    want[0, :, 2:, :-3] = x[0, :, :-2, 3:]  # down 2, left 3
    want[1, :, :-1, 4:] = x[1, :, 1:, :-4]  # up 1, right 4
    assert torch.equal(out, want)


def test_translation_draws_cover_one_eighth_of_the_size_and_only_move_pixels():
    x = torch.arange(1, 1 + 28 * 28, dtype=torch.float32).view(1, 1, 28, 28).expand(4000, 1, 28, 28)
    dy, dx = POLICIES["translation"].draws(x, torch.Generator().manual_seed(0))
    assert half_up(28, 1 / 8) == 4 and half_up(32, 1 / 8) == 4 and half_up(8, 1 / 8) == 1
    assert set(dy.tolist()) == set(dx.tolist()) == set(range(-4, 5))  # uniform over [-4, 4]: all 9 appear
    out = translation(x, (dy, dx))
    assert torch.isin(out[out != 0], x[0].flatten()).all()  # every value kept is a pixel of x
    # each image keeps exactly (28 - |dy|)(28 - |dx|) of its pixels
    assert torch.equal((out != 0).flatten(1).sum(1), (28 - dy.abs()) * (28 - dx.abs()))


def test_cutout_zeroes_a_quarter_inside_and_the_clipped_square_at_a_border():
    x = torch.ones(3, 1, 28, 28)
    out = cutout(x, (torch.tensor([14, 0, 27]), torch.tensor([14, 0, 20])))
    zeros = (out == 0).flatten(1).sum(1)
    # rows cy - 7 .. cy + 6: a 14 x 14 square inside, 196 = 1/4 of 784; centre (0, 0): rows and columns 0..6,
    # 7 x 7; centre (27, 20): rows 20..27, columns 13..26, 8 x 14
    assert zeros.tolist() == [196, 49, 112]
    assert (out[0, 0, 7:21, 7:21] == 0).all() and out[0].sum() == 784 - 196


def test_cutout_zeroes_the_expected_area_share_over_all_centres():
    """Every centre pixel once: a square of side 14 centred on row cy covers min(cy + 7, 28) - max(cy - 7, 0) rows,
    on average 14 - (1 + ... + 7 + 1 + ... + 6) / 28 = 14 - 49 / 28 = 12.25 of 28; the area share is the product of
    the rows' and the columns' shares, (12.25 / 28)^2 = 0.19140625, exactly."""
    cy, cx = torch.meshgrid(torch.arange(28), torch.arange(28), indexing="ij")
    mask = cutout_mask((28 * 28, 1, 28, 28), cy.flatten(), cx.flatten())
    assert (~mask).float().mean().item() == (12.25 / 28) ** 2 == 0.19140625


def test_color_shifts_the_mean_by_the_brightness_and_matches_its_formulas():
    x = _images(b=4, c=3)
    # per image: brightness, saturation, contrast draws
    u = torch.tensor([[0.9, 0.25, 0.0], [0.5, 0.5, 0.5], [0.1, 0.0, 1.0], [0.5, 0.5, 0.9]])
    out = POLICIES["color"].apply(x, (u,))
    # saturation keeps each pixel's channel mean and contrast the image's mean: only the brightness moves it
    torch.testing.assert_close(out.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)) + (u[:, 0] - 0.5))
    torch.testing.assert_close(out[1], x[1])  # brightness 0, saturation x 1, contrast x 1: the image itself
    grey = out[2]  # saturation 0: every channel is the pixel's channel mean
    torch.testing.assert_close(grey, grey.mean(dim=0, keepdim=True).expand_as(grey))
    m = x[3].mean()  # contrast 1.4 about the image's mean
    torch.testing.assert_close(out[3], m + (x[3] - m) * 1.4)
    one = _images(b=4, c=1)  # one channel: saturation changes nothing
    other = u.clone()
    other[:, 1] = 1 - u[:, 1]
    torch.testing.assert_close(POLICIES["color"].apply(one, (u,)), POLICIES["color"].apply(one, (other,)))


@pytest.mark.parametrize("name", list(POLICIES))
def test_the_gradient_flows_through_each_policy(name):
    """d/dx sum(w * T(x)) is T's vector-Jacobian product: nonzero, and for translation w moved back."""
    x = _images(b=2, c=1, h=8, w=8).requires_grad_(True)
    draws = POLICIES[name].draws(x, torch.Generator().manual_seed(3))
    w = torch.rand(x.shape, generator=torch.Generator().manual_seed(4))
    (g,) = torch.autograd.grad((w * POLICIES[name].apply(x, draws)).sum(), x)
    assert g.abs().sum() > 0
    if name == "translation":
        dy, dx = draws
        back = translation(w, (-dy, -dx))  # the shift's adjoint is the opposite shift (zeros where nothing landed)
        torch.testing.assert_close(g, back)


def test_the_generator_step_differentiates_through_the_augmentation():
    """The generator's gradient with augmentation is the gradient of -E D(T(G(z))) with the stream's draws:
    reproduced by hand from a copy of the augment stream, and different from the gradient without T."""
    tr = Trainer(tiny_config(*IMAGES, f"train.augment={ALL}"))
    G, D = tr.G, tr.D
    noise_state, aug_state = tr.noise_rng.get_state(), tr.augment_rng.get_state()
    steps.generator_step(tr.state)
    got = [p.grad.clone() for p in G.parameters()]
    for p in G.parameters():
        p.grad = None
    z = torch.randn(8, tr.latent_dim, generator=torch.Generator().set_state(noise_state))
    fake = G(z)

    def grads(x):
        return torch.autograd.grad(-D(x).mean(), list(G.parameters()), retain_graph=True)

    with_t = grads(tr.state.setup.augment(fake, torch.Generator().set_state(aug_state)))
    without = grads(fake)
    for a, b in zip(got, with_t, strict=True):
        torch.testing.assert_close(a, b)
    assert any((a - c).abs().max() > 1e-6 for a, c in zip(got, without, strict=True))
    assert all(a.abs().sum() > 0 for a in got)


# ---------------------------------------------------------------------------------------------- in the run
def test_same_seed_same_augmentation_and_no_other_stream_moves():
    a, b = Trainer(tiny_config(*IMAGES, f"train.augment={ALL}")), Trainer(tiny_config(*IMAGES, f"train.augment={ALL}"))
    off = Trainer(tiny_config(*IMAGES))
    for t in (a, b, off):
        t.train_step()
    for p, q in zip(a.D.parameters(), b.D.parameters(), strict=True):
        assert torch.equal(p, q)
    assert any(not torch.equal(p, q) for p, q in zip(a.D.parameters(), off.D.parameters(), strict=True))
    for stream in ("data_rng", "noise_rng", "diag_rng", "val_rng"):  # augmentation draws from its own stream only
        assert torch.equal(getattr(a, stream).get_state(), getattr(off, stream).get_state()), stream
    assert not torch.equal(a.augment_rng.get_state(), off.augment_rng.get_state())


def test_the_penalty_is_taken_at_the_augmented_points(monkeypatch):
    """The critic step's penalty gets T(x) and T(G(z)) (docs: the critic only ever sees augmented images), the
    batches the step returns; T drawn from the augment stream, real batch first."""
    on, off = Trainer(tiny_config(*IMAGES, "train.augment=translation,cutout")), Trainer(tiny_config(*IMAGES))
    seen = []
    penalty = on.state.setup.penalty

    class Spy:
        name, weight = penalty.name, penalty.weight

        def __call__(self, critic, real, fake, generator=None, scale=1.0):
            seen.append((real.detach().clone(), fake.detach().clone()))
            return penalty(critic, real, fake, generator, scale)

    monkeypatch.setattr(on.state.setup, "penalty", Spy())
    aug_state = on.augment_rng.get_state()
    real, fake = steps.critic_step(on.state)
    raw_real, raw_fake = steps.critic_step(off.state)  # the same data and noise: the un-augmented batches
    g = torch.Generator().set_state(aug_state)
    t = on.state.setup.augment
    want_real, want_fake = t(raw_real, g), t(raw_fake, g)
    assert torch.equal(seen[0][0], want_real) and torch.equal(seen[0][1], want_fake)
    assert torch.equal(real, want_real) and torch.equal(fake, want_fake)
    assert not torch.equal(want_real, raw_real)


def test_resume_with_augmentation_is_bit_identical(tmp_path):
    _assert_resume_is_bit_identical(tmp_path, *IMAGES, f"train.augment={ALL}",
                                    "train.checkpoint_every=3", "train.log_every=2")


def test_a_checkpoint_holds_the_augment_stream():
    tr = Trainer(tiny_config(*IMAGES, f"train.augment={ALL}"))
    tr.train_step()
    state = tr.state_dict()
    assert torch.equal(state["rng"]["augment"], tr.augment_rng.get_state())


# ---------------------------------------------------------------------------------------------- refusals
def test_unknown_repeated_and_empty_policy_names_are_one_line_errors():
    with pytest.raises(ConfigError, match=r"unknown train.augment policy 'colour' \(did you mean color\?\); "
                                          r"valid: color, translation, cutout$"):
        resolve(tiny_config(*IMAGES, "train.augment=translation,colour"))
    with pytest.raises(ConfigError, match="names 'cutout' twice"):
        make_augment("cutout,color,cutout")
    with pytest.raises(ConfigError, match="empty policy name"):
        make_augment("color,")
    assert make_augment("") is None and make_augment(" translation , color ").names == ("translation", "color")


def test_point_and_text_runs_refuse_it_by_name(tmp_path):
    with pytest.raises(ConfigError, match=r"^train.augment applies to image runs; data '8gaussians' is points data"):
        resolve(tiny_config("train.augment=translation"))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"line {i}\n" for i in range(40)))
    with pytest.raises(ConfigError, match="train.augment applies to image runs; .* is text data"):
        resolve(tiny_config(f"data.name={corpus}", "train.augment=cutout"))
    # a sampler given in code: checked on the sampler
    with pytest.raises(ConfigError, match="train.augment applies to image runs; data .* is points data"):
        Trainer(tiny_config("train.augment=color"), sampler=LineData(dim=3))
    assert resolve(tiny_config(*IMAGES, f"train.augment={ALL}")).train.augment == ALL


def test_the_ensemble_refuses_it_by_name():
    with pytest.raises(ConfigError, match=r"the ensemble does not implement train.augment = 'cutout'"):
        Ensemble(tiny_config(*IMAGES[:1], "train.augment=cutout"), seeds=[0, 1])


def test_feature_matching_compares_augmented_features():
    """With tricks.feature_matching the generator step augments the fakes and the real batch (two draws of T)."""
    on = Trainer(tiny_config(*IMAGES, "tricks.feature_matching=true", f"train.augment={ALL}"))
    off = Trainer(tiny_config(*IMAGES, "tricks.feature_matching=true"))
    state = on.augment_rng.get_state()
    steps.generator_step(on.state)
    steps.generator_step(off.state)
    g = torch.Generator().set_state(state)
    x = torch.zeros(8, *on.sampler.shape)
    for _ in ("the fakes'", "the real batch's"):
        on.state.setup.augment.draws(x, g)
    assert torch.equal(on.augment_rng.get_state(), g.get_state())
    assert any(not torch.equal(p, q) for p, q in zip(on.G.parameters(), off.G.parameters(), strict=True))

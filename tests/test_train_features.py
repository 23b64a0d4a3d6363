"""Loop features for image-scale training (issue 5, "Training"): generator batch multiple, linear lr decay,
generator EMA, AC-GAN terms, held-out critic loss, mixed precision with a loss-scaled penalty, channels-last,
and data parallelism over 2 gloo processes. Stand-in networks keep every test tiny and independent of the
image families."""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import wgan.training.trainer as train_mod
from wgan import Trainer
from wgan.config import Config, ConfigError, apply_sets
from wgan.data import Sampler
from wgan.nets import MLP
from wgan.objectives import Objective
from wgan.penalties import Penalty, input_gradient_norms
from wgan.rundir import load_checkpoint
from wgan.training import steps

from .helpers import tiny_config

K = 3  # classes of the labelled stand-in data


class Blobs(Sampler):
    """K labelled Gaussian blobs in 2-D (label = blob); ``validation`` is an independent split of them."""

    name, kind, dim, n_classes = "blobs", "points", 2, K

    def __init__(self, shift: float = 0.0, with_validation: bool = True) -> None:
        self.centres = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]) + shift
        if with_validation:
            self.validation = Blobs(shift=0.05, with_validation=False)

    def sample_with_labels(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(K, (n,), generator=generator)
        return self.centres[y] + 0.1 * torch.randn(n, 2, generator=generator), y  # (n, 2), (n,)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.sample_with_labels(n, generator)[0]


class StandInCritic(nn.Module):
    """``forward(x) == head(features(x))`` and an AC-GAN ``class_logits(features)``, like the image critics."""

    per_sample = True

    def __init__(self, dim: int, n_classes: int, width: int = 16) -> None:
        super().__init__()
        self.body = MLP(dim, width, depth=1, width=width)
        self.out = nn.Linear(width, 1)
        self.classifier = nn.Linear(width, n_classes) if n_classes else None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x.flatten(1)))  # (B, width)

    def head(self, h: torch.Tensor) -> torch.Tensor:
        return self.out(h).squeeze(1)  # (B,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def class_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.classifier(h)  # (B, K)


class StandInGenerator(nn.Module):
    """``forward(z, y=None)``: an MLP on [z, one_hot(y)]."""

    def __init__(self, latent_dim: int, dim: int, n_classes: int, width: int = 16) -> None:
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.net = MLP(latent_dim + n_classes, dim, depth=2, width=width)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.n_classes:
            z = torch.cat([z, F.one_hot(y, self.n_classes).to(z)], dim=1)
        return self.net(z)


@pytest.fixture
def stand_in_nets(monkeypatch):
    """Conditional configs build the stand-ins (the loop only relies on the image nets' contract)."""
    build_g, build_d = train_mod.build_generator, train_mod.build_critic
    monkeypatch.setattr(train_mod, "build_generator", lambda cfg, shape: StandInGenerator(
        cfg.latent_dim, math.prod(shape), cfg.n_classes) if cfg.n_classes else build_g(cfg, shape))
    monkeypatch.setattr(train_mod, "build_critic", lambda cfg, shape: StandInCritic(
        math.prod(shape), cfg.n_classes) if cfg.n_classes else build_d(cfg, shape))


def conditional(*sets: str):
    return tiny_config(f"generator.n_classes={K}", f"critic.n_classes={K}", *sets)


def _clone(g: torch.Generator) -> torch.Generator:
    out = torch.Generator(device=g.device)
    out.set_state(g.get_state())
    return out


# ---------------------------------------------------------------------- batch multiple, lr decay, EMA
def test_generator_batch_is_a_multiple_of_the_critic_batch():
    tr = Trainer(tiny_config("train.g_batch_multiple=2", "data.batch_size=8", "objective.n_critic=2"))
    sizes: list[int] = []
    tr.G.register_forward_hook(lambda m, inp, out: sizes.append(out.shape[0]))
    tr.train_step()
    assert sizes == [8, 8, 16]  # two critic steps, then the generator step on twice the batch


def test_linear_lr_decay_reaches_zero():
    tr = Trainer(tiny_config("optim.lr_decay=linear", "train.steps=4", "optim.lr=1e-3", "optim.critic_lr=2e-3"))
    for k in range(1, 5):
        tr.train_step()
        assert tr.opt_g.param_groups[0]["lr"] == pytest.approx(1e-3 * (1 - k / 4), abs=1e-12)
        assert tr.opt_d.param_groups[0]["lr"] == pytest.approx(2e-3 * (1 - k / 4), abs=1e-12)
    assert Trainer(tiny_config()).schedulers == []


def test_ema_generator_follows_the_recursion_and_samples_from_it():
    d = 0.75
    tr = Trainer(tiny_config(f"train.ema={d}", "generator.norm=batch"))
    ema = None
    for _ in range(3):
        tr.train_step()
        now = [t.detach().clone() for t in list(tr.G.parameters()) + list(tr.G.buffers())
               if t.is_floating_point()]
        ema = now if ema is None else [d * e + (1 - d) * p for e, p in zip(ema, now, strict=True)]
    got = [t for t in list(tr.G_ema.module.parameters()) + list(tr.G_ema.module.buffers()) if t.is_floating_point()]
    for e, g in zip(ema, got, strict=True):  # parameters and batch-norm statistics alike
        torch.testing.assert_close(g, e)
    x = tr.generate(16, seed=5)
    z = torch.randn(16, tr.latent_dim, generator=torch.Generator().manual_seed(5))
    tr.G_ema.module.eval()
    torch.testing.assert_close(x, tr.G_ema.module(z))
    assert not torch.allclose(x, tr.G.eval()(z))


# ---------------------------------------------------------------------- AC-GAN
def test_acgan_critic_term_has_its_closed_form_gradient(stand_in_nets):
    lr, scale = 0.1, 0.5
    tr = Trainer(conditional("optim.name=sgd", f"optim.lr={lr}", "objective.n_critic=1",
                             f"objective.acgan_critic_scale={scale}"), sampler=Blobs())
    x, y = tr.sampler.sample_with_labels(tr.cfg.data.batch_size, _clone(tr.data_rng))  # the step's real batch
    with torch.no_grad():
        h = tr.D.features(x)
    W = tr.D.classifier.weight.detach().clone().requires_grad_(True)
    b = tr.D.classifier.bias.detach().clone().requires_grad_(True)
    ce = F.cross_entropy(F.linear(h, W, b), y)
    gW, gb = torch.autograd.grad(scale * ce, [W, b])
    tr.critic_step()  # the Wasserstein loss and the gradient penalty never touch the classifier head
    torch.testing.assert_close(tr.D.classifier.weight, W - lr * gW)
    torch.testing.assert_close(tr.D.classifier.bias, b - lr * gb)
    torch.testing.assert_close(tr.meters.pending["loss/ac_real"][0], ce.detach())
    assert tr.meters.pending["acgan/real_accuracy"][0].shape == (tr.cfg.data.batch_size,)


def test_acgan_generator_term_is_logged_and_weighted(stand_in_nets):
    tr = Trainer(conditional("train.g_batch_multiple=2"), sampler=Blobs())
    n = 2 * tr.cfg.data.batch_size
    rng = _clone(tr.noise_rng)
    z = torch.randn(n, tr.latent_dim, generator=rng)
    y = torch.randint(K, (n,), generator=rng)  # uniform fake labels after the noise, as the loop draws them
    with torch.no_grad():
        logits = tr.D.class_logits(tr.D.features(tr.G(z, y)))
        expected = F.cross_entropy(logits, y)
    tr.generator_step()
    torch.testing.assert_close(tr.meters.pending["loss/ac_fake"][0], expected)
    rec = tr._flush()
    assert 0 <= rec["acgan/fake_accuracy"] <= 1


def test_conditional_config_needs_labelled_data(stand_in_nets):
    with pytest.raises(ConfigError, match="has no labels"):
        Trainer(conditional())  # 8gaussians has no labels
    with pytest.raises(ConfigError, match="both set"):
        Trainer(tiny_config("critic.n_classes=3"), sampler=Blobs())


def test_conditional_samples_cycle_through_the_classes(stand_in_nets):
    tr = Trainer(conditional(), sampler=Blobs())
    z = torch.randn(6, tr.latent_dim, generator=torch.Generator().manual_seed(1))
    tr.G.eval()
    torch.testing.assert_close(tr.generate(6, seed=1), tr.G(z, torch.arange(6) % K))


# ---------------------------------------------------------------------- held-out critic loss
def test_validation_loss_is_the_objectives_loss_on_the_held_out_split(tmp_path):
    class Split(Blobs):
        name = "split"

        def __init__(self) -> None:
            super().__init__(with_validation=False)

        def validation(self) -> Sampler:  # a method works as well as an attribute
            return Blobs(shift=0.5, with_validation=False)

    tr = Trainer(tiny_config("objective.name=wgan-gp"), sampler=Split())
    tr.train_step()
    rng, data_state = _clone(tr.val_rng), tr.data_rng.get_state()
    n = tr.cfg.data.batch_size
    val, train = tr.val_sampler.sample(n, rng), tr.sampler.sample(n, rng)
    z = torch.randn(n, tr.latent_dim, generator=rng)
    with torch.no_grad():
        fake_out = tr.D(tr.G(z))
        expected = fake_out.mean() - tr.D(val).mean()
        expected_train = fake_out.mean() - tr.D(train).mean()
    got = tr.validation_losses()
    torch.testing.assert_close(got["loss/critic_val"], expected)
    torch.testing.assert_close(got["loss/critic_trainset"], expected_train)
    assert torch.equal(tr.data_rng.get_state(), data_state)  # the training stream is untouched
    tr.fit(tmp_path / "run")
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all("loss/critic_val" in r and "loss/critic_trainset" in r for r in rows)


def test_no_validation_split_logs_no_validation_loss():
    tr = Trainer(tiny_config())
    assert tr.val_sampler is None


# ---------------------------------------------------------------------- mixed precision
@pytest.mark.parametrize("critic", ["linear", "mlp"])
def test_penalty_under_loss_scaling_equals_the_unscaled_penalty(critic):
    """PyTorch's AMP recipe: the penalty from the gradient of scale * D(x), times 1 / scale, is the plain
    penalty -- value and parameter gradients. A linear critic f(x) = w.x has ||grad|| = |w| exactly."""
    torch.manual_seed(0)
    D = nn.Linear(5, 1) if critic == "linear" else MLP(5, 1, depth=2, width=8, squeeze=True)
    f = (lambda x: D(x).squeeze(1)) if critic == "linear" else D
    real, fake = torch.randn(16, 5), torch.randn(16, 5)
    pen = Penalty("gp", 10.0)
    results = []
    for scale in (1.0, 2.0**16):
        value, norms = pen(f, real, fake, torch.Generator().manual_seed(3), scale=scale)
        params = [p for p in D.parameters() if p.dim() == 2]  # biases do not enter an input gradient
        grads = torch.autograd.grad(value, params)
        results.append((value, norms, grads))
    (v1, n1, g1), (v2, n2, g2) = results
    torch.testing.assert_close(v2, v1)
    torch.testing.assert_close(n2, n1)
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(b, a)
    if critic == "linear":
        torch.testing.assert_close(n1, D.weight.norm().expand(16))
        torch.testing.assert_close(v1, (D.weight.norm() - 1) ** 2)


def test_float16_autocast_penalty_with_a_grad_scaler_matches_float32():
    torch.manual_seed(0)
    D = MLP(5, 1, depth=2, width=16, squeeze=True)
    points = torch.randn(32, 5)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)

    def d16(x):
        with torch.autocast("cpu", dtype=torch.float16):
            return D(x).float()

    n32, _ = input_gradient_norms(D, points)
    n16, _ = input_gradient_norms(d16, points, scale=scaler.get_scale())
    assert n16.dtype == torch.float32
    torch.testing.assert_close(n16, n32, rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_amp_trains_on_the_cpu(dtype):
    tr = Trainer(tiny_config("train.amp=true", f"train.amp_dtype={dtype}", "objective.name=wgan-gp"))
    assert tr.scaler_d.is_enabled() == (dtype == "float16")
    summary = tr.fit(None)
    assert tr.step == 4 and math.isfinite(summary["w1"])
    assert all(torch.isfinite(p).all() for p in tr.D.parameters())


def test_channels_last():
    with pytest.raises(ConfigError, match="channels_last applies to images"):
        Trainer(tiny_config("train.channels_last=true"))

    class Tiny(Sampler):
        name, kind, dim = "tiny-images", "points", 16

        @property
        def shape(self):
            return (1, 4, 4)

        def sample(self, n, generator):
            return torch.rand(n, 1, 4, 4, generator=generator) * 2 - 1

    tr = Trainer(tiny_config("train.channels_last=true"), sampler=Tiny())
    real, _ = steps.real_batch(tr.state, 8, tr.sampler, tr.data_rng)
    assert real.is_contiguous(memory_format=torch.channels_last)
    tr.train_step()


def test_feature_config_is_validated():
    for bad, msg in [("train.g_batch_multiple=0", "g_batch_multiple"), ("train.ema=1.0", "train.ema"),
                     ("optim.lr_decay=cosine", "lr_decay"), ("train.amp_dtype=float8", "amp_dtype"),
                     ("objective.acgan_critic_scale=-1", "acgan")]:
        with pytest.raises(ConfigError, match=msg):
            Trainer(tiny_config(bad))


# ---------------------------------------------------------------------- checkpoints
def _state(tr: Trainer) -> list[torch.Tensor]:
    ts = list(tr.G.parameters()) + list(tr.D.parameters()) + list(tr.G_ema.parameters())
    return [t.detach().clone() for t in ts]


def test_resume_with_every_feature_is_bit_identical(tmp_path, stand_in_nets):
    sets = ["optim.lr_decay=linear", "train.ema=0.9", "train.g_batch_multiple=2", "train.amp=true",
            "train.amp_dtype=float16", "train.steps=4", "train.checkpoint_every=2", "train.log_every=1"]
    full = Trainer(conditional(*sets, "train.keep_checkpoints=true"), sampler=Blobs())
    full.fit(tmp_path / "full")
    # the run as if stopped after step 2 (the lr schedule depends on train.steps, so no shorter run can stand in)
    (tmp_path / "part" / "checkpoints").mkdir(parents=True)
    shutil.copy(tmp_path / "full" / "checkpoints" / "step-0000002.pt", tmp_path / "part" / "checkpoints" / "latest.pt")
    shutil.copy(tmp_path / "full" / "metrics.jsonl", tmp_path / "part" / "metrics.jsonl")
    resumed = Trainer.resume(tmp_path / "part", sampler=Blobs())
    assert resumed.step == 2 and resumed.scaler_d.is_enabled()
    resumed.fit(tmp_path / "part")
    for a, b in zip(_state(full), _state(resumed), strict=True):
        assert torch.equal(a, b)
    assert resumed.opt_g.param_groups[0]["lr"] == full.opt_g.param_groups[0]["lr"] == 0.0

    def lines(run):
        return [{k: v for k, v in json.loads(x).items() if k != "time/elapsed_s"}
                for x in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]

    assert lines("full") == lines("part")
    assert "loss/critic_val" in lines("full")[0] and "loss/ac_fake" in lines("full")[0]


# ---------------------------------------------------------------------- data parallel (2 gloo processes)
def _worker(rank: int, world: int, folder: str) -> None:
    import torch.distributed as tdist

    from wgan.distributed import all_reduce_gradients

    torch.set_num_threads(1)
    tdist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=world)
    try:
        # (a) the penalty's double backward, reduced over ranks, is the gradient over the concatenated batch
        torch.manual_seed(0)
        D = MLP(3, 1, depth=2, width=8, squeeze=True)
        g = torch.Generator().manual_seed(1)
        real, fake = torch.randn(2 * 6, 3, generator=g), torch.randn(2 * 6, 3, generator=g)
        eps = torch.rand(2 * 6, 1, generator=g)
        rows = slice(6 * rank, 6 * rank + 6)
        loss = _critic_loss(D, real[rows], fake[rows], eps[rows])
        loss.backward()
        all_reduce_gradients(D.parameters())
        torch.save([p.grad for p in D.parameters()], f"{folder}/grads{rank}.pt")
        # (b) the Trainer: ranks stay identical, draw different data, only rank 0 writes
        cfg = tiny_config("generator.norm=batch", "train.steps=3", "train.checkpoint_every=2", "train.ema=0.5",
                          "train.log_every=1")
        tr = Trainer(cfg)
        first = tr.sampler.sample(4, _clone(tr.data_rng))
        tr.fit(Path(folder) / "run")
        state = [t.detach() for t in list(tr.G.parameters()) + list(tr.D.parameters()) + list(tr.G.buffers())
                 + list(tr.G_ema.parameters())]
        torch.save({"state": state, "first": first}, f"{folder}/trainer{rank}.pt")
    finally:
        tdist.destroy_process_group()


def _critic_loss(D: nn.Module, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    norms, _ = input_gradient_norms(D, eps * real + (1 - eps) * fake)
    return Objective("wasserstein").critic_loss(D(real), D(fake)) + 10.0 * Penalty("gp", 10.0).from_norms(norms)


def test_two_gloo_ranks_match_one_process_and_stay_identical(tmp_path):
    import torch.multiprocessing as mp

    os.environ.pop("WORLD_SIZE", None)
    mp.spawn(_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    torch.manual_seed(0)
    D = MLP(3, 1, depth=2, width=8, squeeze=True)
    g = torch.Generator().manual_seed(1)
    real, fake = torch.randn(12, 3, generator=g), torch.randn(12, 3, generator=g)
    eps = torch.rand(12, 1, generator=g)
    _critic_loss(D, real, fake, eps).backward()
    for rank in (0, 1):
        for got, want in zip(torch.load(tmp_path / f"grads{rank}.pt"), [p.grad for p in D.parameters()], strict=True):
            torch.testing.assert_close(got, want)
    a, b = torch.load(tmp_path / "trainer0.pt"), torch.load(tmp_path / "trainer1.pt")
    for x, y in zip(a["state"], b["state"], strict=True):
        assert torch.equal(x, y)
    assert not torch.equal(a["first"], b["first"])  # each rank draws its own data
    rows = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in rows] == [1, 2, 3]  # one writer
    ckpt = load_checkpoint(tmp_path / "run")
    assert len(ckpt["ranks"]) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = Trainer.resume(tmp_path / "run", steps=4)  # evaluating a torchrun run in one process: no warning
    with pytest.warns(UserWarning, match="checkpointed by 2 process"):
        tr.fit(tmp_path / "run")  # continuing it in one process does not continue it exactly: say so
    assert tr.step == 4


def test_image_nets_with_every_feature(tmp_path):
    """The real contract: DCGAN nets on the bundled digits, conditional, EMA, bf16 autocast, channels-last."""
    cfg = tiny_config("data.name=digits", "data.image_size=16", "data.batch_size=8", "generator.net=dcgan",
                      "critic.net=dcgan", "generator.width=8", "critic.width=8", "generator.norm=cond-batch",
                      "critic.norm=none", "generator.n_classes=10", "critic.n_classes=10", "train.ema=0.9",
                      "train.amp=true", "train.channels_last=true", "train.g_batch_multiple=2",
                      "optim.lr_decay=linear")
    tr = Trainer(cfg)
    assert tr.conditional and tr.val_sampler is not None
    for _ in range(2):
        tr.train_step()
    rec = {**tr._flush(), **{k: v.item() for k, v in tr.validation_losses().items()}}
    assert {"loss/ac_real", "loss/ac_fake", "acgan/real_accuracy", "loss/critic_val"} <= set(rec)
    assert all(math.isfinite(v) for v in rec.values())
    x = tr.generate(10, seed=0)
    assert x.shape == (10, 1, 16, 16) and torch.isfinite(x).all()


def test_validation_losses_leave_batch_norm_statistics_alone():
    """The held-out critic loss runs the networks in training mode (batch statistics) but must not move their
    running averages: evaluation in running mode and resumes would otherwise depend on train.log_val_every."""
    cfg = apply_sets(Config.demo("images"), ["data.name=digits", "generator.width=8", "critic.width=8",
                                            "data.batch_size=16", "train.steps=2", "generator.norm=batch"])
    tr = Trainer(cfg)
    assert tr.val_sampler is not None
    before = {k: v.clone() for k, v in tr.G.state_dict().items() if "running" in k or "num_batches" in k}
    assert before  # the control: there are batch-norm statistics to disturb
    tr.validation_losses()
    assert all(torch.equal(before[k], tr.G.state_dict()[k]) for k in before)


def test_resume_to_a_new_total_under_linear_decay_warns(tmp_path):
    Trainer(tiny_config("optim.lr_decay=linear", "train.steps=2")).fit(tmp_path / "run")
    with pytest.warns(UserWarning, match="restarts the schedule"):
        Trainer.resume(tmp_path / "run", steps=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Trainer.resume(tmp_path / "run", steps=2)  # the same total: exact, no warning

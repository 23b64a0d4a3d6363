"""Compiled steps (wgan.training.compiled): the torch.func programs equal the eager autograd steps for every network
family and penalty (gradients, updates, logged values), compiled by torch.compile they still do to round-off,
and what cannot be compiled is refused by name.

Compile cost: the Inductor tests generate and build C++ -- the toy MLP's step alone took 227 s on the shared
2-core machine at load 30 (about 30 s of CPU time) -- so every test that compiles is marked ``compile`` and
deselected by default: ``python -m pytest tests/test_compiled.py -m compile`` runs them (the toy step, every
family with the gradient penalty, every penalty on the MLP). By default the torch.func programs themselves are
checked against the eager autograd steps for every family and penalty, uncompiled."""

import pytest
import torch

from wgan import Trainer
from wgan.config import ConfigError
from wgan.nets import CRITICS, GENERATORS
from wgan.objectives import LOSSES, PRESETS
from wgan.penalties import REGISTRY
from wgan.resolve import resolve
from wgan.toolchain import has_cpp_compiler
from wgan.training.compiled import COMPILABLE, CompiledSteps, check_compilable

from .helpers import tiny_config

IMAGE = ["data.name=digits", "data.image_size=16", "data.batch_size=6", "generator.latent_dim=8",
         "generator.width=4", "critic.width=4", "generator.depth=1", "critic.depth=1"]
FAMILIES = {
    "mlp": [],
    "dcgan": [*IMAGE, "generator.net=dcgan", "critic.net=dcgan", "generator.norm=batch", "critic.norm=layer"],
    "dcgan-deep": [*IMAGE, "generator.net=dcgan-deep", "critic.net=dcgan-deep", "generator.depth=4",
                   "critic.depth=4"],
    "resnet": [*IMAGE, "generator.net=resnet", "critic.net=resnet", "generator.norm=batch"],
    "resnet64": [*IMAGE, "generator.net=resnet64", "critic.net=resnet64"],
    "resnet-bottleneck": [*IMAGE, "generator.net=resnet-bottleneck", "critic.net=resnet-bottleneck",
                          "generator.depth=11", "critic.depth=11"],
    "mnist-conv": [*IMAGE, "data.image_size=28", "generator.net=mnist-conv", "critic.net=mnist-conv"],
}
# every registered penalty the compiled path runs, under the first preset that uses it (its paper's loss and
# optimiser; wgan-gp's for a penalty no preset uses), and weight clipping
PENALTIES = {**{name: [f"objective.name={next((k for k, p in PRESETS.items() if p.penalty == name), 'wgan-gp')}",
                       f"objective.penalty={name}"] for name in REGISTRY if "compiled" in REGISTRY[name].paths},
             "clip": ["objective.name=wgan"]}


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("".join(f"line {i} of some text\n" for i in range(40)))
    return path


def _sets(family, penalty, tmp_path):
    if family == "conv1d":
        path = tmp_path / "corpus.txt"
        path.write_text("".join(f"line {i} of some text\n" for i in range(40)))
        fam = [f"data.name={path}", "generator.net=conv1d", "critic.net=conv1d", "generator.latent_dim=8",
               "generator.width=8", "critic.width=8", "generator.depth=1", "critic.depth=1", "data.seq_len=8",
               "data.val_size=5", "data.batch_size=6"]
    else:
        fam = FAMILIES[family]
    # SGD: an update is lr * gradient, so parameter differences stay round-off sized (Adam's g / sqrt(v)
    # turns a round-off sign flip of a near-zero gradient into a full lr step)
    return [*fam, *PENALTIES[penalty], "optim.name=sgd", "optim.lr=1e-3", "objective.n_critic=2",
            "train.steps=10"]


def _pair(sets):
    return Trainer(tiny_config(*sets)), Trainer(tiny_config(*sets))


def _assert_same_state(a, b, atol):
    for x, y in ((a.G, b.G), (a.D, b.D)):
        for (k, p), (_, q) in zip(x.state_dict().items(), y.state_dict().items(), strict=True):
            torch.testing.assert_close(p, q, atol=atol, rtol=1e-4, msg=lambda m, k=k: f"{k}: {m}")


def test_every_family_is_listed():
    assert set(COMPILABLE) == (set(GENERATORS) | set(CRITICS)) - {"data-plus-noise"}


# every family with the gradient penalty, every penalty (and clipping) on the MLP: the penalty code is shared
CASES = [(f, "gp") for f in [*FAMILIES, "conv1d"]] + [("mlp", p) for p in PENALTIES if p != "gp"]


@pytest.mark.parametrize(("family", "penalty"), CASES)
def test_torch_func_steps_equal_the_eager_steps(family, penalty, tmp_path):
    _func_matches_eager(_sets(family, penalty, tmp_path))


# spectral normalisation (wgan.nets.spectral): its power iteration updates the critic's u, v buffers in place inside
# the torch.func programs as in the eager passes (one per critic call); every penalty, conv and residual families.
# Weight clipping is refused with spectral norm (wgan.resolve), so not here
SPECTRAL_CASES = [(f, "gp") for f in ("mlp", "dcgan", "resnet", "conv1d")] + [
    ("mlp", p) for p in PENALTIES if p not in ("gp", "clip")]


@pytest.mark.parametrize(("family", "penalty"), SPECTRAL_CASES)
def test_torch_func_steps_with_spectral_norm_equal_the_eager_steps(family, penalty, tmp_path):
    _func_matches_eager([*_sets(family, penalty, tmp_path), "critic.spectral_norm=true"], shake=True)


def _shake(trainer):
    """Move every critic weight by noise of its own size (the same in every trainer), so that the power iteration
    of the next step moves u, v by O(1) instead of by the round-off of a converged estimate."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in trainer.D.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * p.abs().mean().clamp_min(0.01))


def _func_matches_eager(sets, shake=False):
    eager, func = _pair(sets)
    if shake:
        _shake(eager)
        _shake(func)
        # (a one-output layer's u is the number 1, which never moves)
        before = {k: b.clone() for k, b in eager.D.named_buffers() if k.endswith(("._u", "._v")) and b.numel() > 1}
    func.compiled = CompiledSteps(func.state, compile=False)  # the torch.func programs, run eagerly
    eager.train_step()  # n_critic critic steps and a generator step
    func.train_step()
    # same draws, same formulas: equal to round-off (a wrong formula is off by O(1))
    _assert_same_state(eager, func, atol=1e-5)
    if shake:  # the power iteration moved every u, v, and the torch.func programs moved them alike (state above)
        assert before and all((dict(eager.D.named_buffers())[k] - b).abs().max() > 1e-3 for k, b in before.items())
    for name, p in eager.D.named_parameters():
        torch.testing.assert_close(p.grad, dict(func.D.named_parameters())[name].grad, atol=1e-4, rtol=1e-3)
    a, b = eager._flush(), func._flush()
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-3, abs=1e-6), k


@pytest.mark.parametrize("loss", list(LOSSES))
def test_torch_func_steps_equal_the_eager_steps_for_every_loss(loss, tmp_path):
    """The compiled programs read the objective from LOSSES like the eager step: every loss (hinge included),
    with the gradient penalty, on the MLP."""
    eager, func = _pair([*_sets("mlp", "gp", tmp_path), f"objective.loss={loss}"])
    func.compiled = CompiledSteps(func.state, compile=False)
    eager.train_step()
    func.train_step()
    _assert_same_state(eager, func, atol=1e-5)


# DiffAugment (wgan.training.augment): the programs apply the augmentation with the draws the eager step makes (a
# program that skipped it would differ from the eager step, which applies it: tests/test_augment.py), for a penalty
# at interpolates (gp) and one at the real points (r1)
AUGMENT_CASES = [("mnist-conv", "gp"), ("dcgan", "r1")]


@pytest.mark.parametrize(("family", "penalty"), AUGMENT_CASES)
def test_torch_func_steps_with_augmentation_equal_the_eager_steps(family, penalty, tmp_path):
    _func_matches_eager([*_sets(family, penalty, tmp_path), "train.augment=translation,cutout,color"])


def test_refusals_name_the_option():
    with pytest.raises(ConfigError, match="family 'data-plus-noise'"):
        check_compilable(resolve(tiny_config("generator.net=data-plus-noise")))
    with pytest.raises(ConfigError, match="train.amp"):
        check_compilable(resolve(tiny_config("train.amp=true")))
    with pytest.raises(ConfigError, match=r"\[tricks\]"):
        check_compilable(resolve(tiny_config("tricks.instance_noise=0.1")))


needs_cxx = pytest.mark.skipif(not has_cpp_compiler(), reason="torch.compile's CPU backend needs a C++ compiler")


def _compiled_matches(sets):
    # each Trainer compiles a new closure of the same program code; past torch._dynamo's recompile limit (8)
    # in one process, fullgraph=True fails, so every compiled comparison starts from an empty dynamo cache
    torch._dynamo.reset()
    eager, comp = Trainer(tiny_config(*sets)), Trainer(tiny_config(*sets, "train.compile=true"))
    assert comp.compiled is not None
    eager.train_step()
    comp.train_step()
    _assert_same_state(eager, comp, atol=2e-5)
    a, b = eager._flush(), comp._flush()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-3, abs=1e-5), k


@needs_cxx
@pytest.mark.compile
def test_compiled_toy_step_equals_eager(tmp_path, one_thread):
    _compiled_matches(_sets("mlp", "gp", tmp_path))


@needs_cxx
@pytest.mark.compile
@pytest.mark.parametrize("family", [*FAMILIES, "conv1d"])
def test_compiled_family_steps_equal_eager(family, tmp_path, one_thread):
    _compiled_matches(_sets(family, "gp", tmp_path))


@needs_cxx
@pytest.mark.compile
@pytest.mark.parametrize("penalty", [p for p in PENALTIES if p != "gp"])
def test_compiled_penalties_equal_eager(penalty, tmp_path, one_thread):
    _compiled_matches(_sets("mlp", penalty, tmp_path))


@needs_cxx
@pytest.mark.compile
def test_compiled_hinge_equals_eager(tmp_path, one_thread):
    _compiled_matches([*_sets("mlp", "r1", tmp_path), "objective.loss=hinge"])


@needs_cxx
@pytest.mark.compile
def test_compiled_augmentation_step_equals_eager(tmp_path, one_thread):
    _compiled_matches([*_sets("dcgan", "gp", tmp_path), "train.augment=translation,cutout,color"])


@needs_cxx
@pytest.mark.compile
@pytest.mark.parametrize("family", ["mlp", "dcgan"])
def test_compiled_spectral_norm_step_equals_eager(family, tmp_path, one_thread):
    _compiled_matches([*_sets(family, "gp", tmp_path), "critic.spectral_norm=true"])

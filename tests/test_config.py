"""Typed run configuration: defaults, preset resolution, ``--set`` overrides, TOML round trips, errors."""

from __future__ import annotations

import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest

from wgan.config import (
    Config,
    ObjectiveConfig,
    apply,
    apply_sets,
    from_dict,
    load_toml,
    parse_set,
    to_toml,
)
from wgan.errors import ConfigError
from wgan.resolve import resolve

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_defaults():
    c = Config()
    assert (c.data.name, c.data.batch_size) == ("8gaussians", 256)
    g = c.generator
    assert (g.net, g.latent_dim, g.depth, g.width, g.activation, g.norm) == ("mlp", 2, 3, 512, "relu", "none")
    assert (c.critic.net, c.critic.depth, c.critic.width, c.critic.norm) == ("mlp", 3, 512, "none")
    o = c.objective
    assert o.name == "wgan-gp"
    assert (o.loss, o.penalty, o.penalty_weight, o.clip, o.n_critic) == (None,) * 5
    assert o.dragan_scale == 0.5
    assert (c.optim.name, c.optim.lr, c.optim.beta1, c.optim.beta2, c.optim.critic_lr) == (None,) * 5
    assert (c.train.steps, c.train.seed, c.train.device) == (2000, 0, "auto")
    assert c.eval.n_samples == 2000


def test_resolve_default_is_wgan_gp():
    """Unset fields take WGAN-GP Algorithm 1's values: lambda 10, n_critic 5, Adam(1e-4, (0, 0.9))."""
    r = resolve(Config())
    o, op = r.objective, r.optim
    assert (o.loss, o.penalty, o.penalty_weight, o.clip, o.n_critic) == ("wasserstein", "gp", 10.0, 0.0, 5)
    assert (op.name, op.lr, op.beta1, op.beta2, op.critic_lr) == ("adam", 1e-4, 0.0, 0.9, 1e-4)
    assert r.data == Config().data and r.train == Config().train


def test_resolve_wgan_preset():
    """WGAN Algorithm 1: clip c = 0.01, RMSProp, lr 5e-5, n_critic 5, no penalty."""
    r = resolve(apply_sets(Config(), ["objective.name=wgan"]))
    assert r.objective.clip == 0.01
    assert r.objective.penalty == "none" and r.objective.penalty_weight == 0.0
    assert r.objective.n_critic == 5
    assert (r.optim.name, r.optim.lr, r.optim.critic_lr) == ("rmsprop", 5e-5, 5e-5)


def test_explicit_values_win_over_preset():
    c = apply(Config(), {"objective": {"name": "wgan", "clip": 0.05, "n_critic": 2, "penalty": "gp",
                                       "penalty_weight": 10.0},
                         "optim": {"lr": 1e-3, "name": "adam", "beta1": 0.5}})
    r = resolve(c)
    assert (r.objective.clip, r.objective.n_critic, r.objective.penalty) == (0.05, 2, "gp")
    assert (r.optim.name, r.optim.lr, r.optim.beta1) == ("adam", 1e-3, 0.5)
    assert r.optim.critic_lr == 1e-3  # defaults to the (explicit) lr
    assert r.optim.beta2 == 0.0  # unset: from the wgan preset
    r2 = resolve(apply_sets(c, ["optim.critic_lr=3e-4", "objective.clip=0"]))
    assert r2.optim.critic_lr == 3e-4
    assert r2.objective.clip == 0.0  # an explicit 0 is kept, not replaced by the preset's 0.01


def test_resolve_is_idempotent():
    r = resolve(apply_sets(Config(), ["objective.name=dragan-ns"]))
    assert resolve(r) == r


def test_apply_sets():
    c = apply_sets(Config(), ["objective.penalty_weight=0.1", "train.steps=5", "objective.name=wgan",
                              "generator.width=64"])
    assert c.objective.penalty_weight == 0.1
    assert c.train.steps == 5 and isinstance(c.train.steps, int)
    assert c.objective.name == "wgan"
    assert c.generator.width == 64
    assert c.critic.width == 512  # other sections untouched


def test_parse_set_values():
    """Values are TOML literals, else bare strings."""
    assert parse_set("objective.penalty_weight=0.1") == ("objective", "penalty_weight", 0.1)
    assert parse_set(" train.steps = 5 ") == ("train", "steps", 5)
    assert parse_set("objective.name=wgan-gp") == ("objective", "name", "wgan-gp")
    assert parse_set('data.name="a=b.csv"') == ("data", "name", "a=b.csv")


def test_int_accepted_for_float():
    c = apply_sets(Config(), ["objective.penalty_weight=10", "optim.lr=1"])
    assert c.objective.penalty_weight == 10.0 and isinstance(c.objective.penalty_weight, float)
    assert isinstance(c.optim.lr, float)


def _err(fn, *args) -> str:
    with pytest.raises(ConfigError) as info:
        fn(*args)
    return str(info.value)


def test_unknown_section():
    msg = _err(apply_sets, Config(), ["model.width=3"])
    assert "model" in msg and "generator" in msg


def test_unknown_key_suggests():
    msg = _err(apply_sets, Config(), ["objective.lamda=3"])
    assert "objective.lamda" in msg
    assert "did you mean objective.penalty_weight" in msg
    assert "objective.penalty_weght" in _err(apply_sets, Config(), ["objective.penalty_weght=3"])


@pytest.mark.parametrize("item,key", [("train.steps=abc", "train.steps"), ("train.steps=1.5", "train.steps"),
                                      ("objective.penalty_weight=true", "objective.penalty_weight")])
def test_wrong_type_names_key(item, key):
    assert key in _err(apply_sets, Config(), [item])


def test_wrong_type_for_text_field_in_toml_names_key():
    """In a TOML file types are explicit: a number where text is expected is an error."""
    assert "data.name" in _err(apply, Config(), {"data": {"name": 3}})


def test_set_keeps_bare_words_as_text_for_text_fields():
    """--set data.name=nan or generator.net=1 is text for a text field, not TOML's float/int."""
    assert apply_sets(Config(), ["data.name=nan"]).data.name == "nan"
    assert apply_sets(Config(), ["data.name=3"]).data.name == "3"


@pytest.mark.parametrize("item", ["trainsteps5", "steps=5", "a.b.c=1"])
def test_bad_set_syntax(item):
    assert item in _err(apply_sets, Config(), [item])


def test_section_must_be_table():
    assert "table" in _err(apply, Config(), {"train": 5})


@pytest.mark.parametrize("sets,needle", [
    (["objective.name=wgan-gpp"], "wgan-gpp"),
    (["optim.lr=-1e-4"], "optim.lr"),
    (["optim.critic_lr=0"], "optim.critic_lr"),
    (["optim.beta1=1.0"], "beta1"),
    (["optim.beta2=-0.1"], "beta2"),
    (["data.batch_size=0"], "data.batch_size"),
    (["objective.n_critic=0"], "objective.n_critic"),
    (["objective.penalty_weight=-1"], "penalty_weight"),
    (["objective.loss=hinge-squared"], "hinge-squared"),
    (["objective.penalty=l2"], "l2"),
    (["optim.name=adagrad"], "adagrad"),
    (["critic.norm=group"], "group"),
    (["generator.activation=gelu"], "gelu"),
    (["train.device=tpu"], "tpu"),
    (["data.name=no_such_file.npy"], "no_such_file.npy"),
])
def test_resolve_rejects(sets, needle):  # a value out of its range fails as it is set, a bad choice in resolve
    assert needle in _err(lambda: resolve(apply_sets(Config(), sets)))


def test_load_toml(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[objective]\nname = "wgan"\npenalty_weight = 2\n\n[train]\nsteps = 7\n'
                    '[generator]\nwidth = 32\n')
    c = load_toml(path)
    assert c.objective.name == "wgan" and c.objective.penalty_weight == 2.0
    assert c.train.steps == 7 and c.generator.width == 32
    assert c.critic == Config().critic
    # a base config is overridden only where the file says so
    base = replace(Config(), train=replace(Config().train, seed=9))
    assert load_toml(path, base).train.seed == 9


def test_load_toml_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[objective\nname = wgan\n")
    assert str(bad) in _err(load_toml, bad)
    missing = tmp_path / "missing.toml"
    assert str(missing) in _err(load_toml, missing)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[objective]\nlamda = 1.0\n")
    msg = _err(load_toml, unknown)
    assert str(unknown) in msg and "objective.lamda" in msg


@pytest.mark.parametrize("name", ["wgan-gp", "wgan", "lsgan"])
def test_dict_round_trip(name):
    cfg = resolve(apply_sets(Config(), [f"objective.name={name}", "train.steps=5"]))
    assert from_dict(cfg.to_dict()) == cfg


def test_dict_round_trip_unresolved():
    cfg = apply_sets(Config(), ["optim.lr=0.001"])
    assert from_dict(cfg.to_dict()) == cfg


def test_to_toml_round_trip(tmp_path):
    cfg = resolve(apply_sets(Config(), ["objective.name=wgan", "optim.lr=5e-05", "data.batch_size=64"]))
    text = to_toml(cfg)
    assert tomllib.loads(text) == cfg.to_dict()
    path = tmp_path / "cfg.toml"
    path.write_text(text)
    assert load_toml(path) == cfg


def test_to_toml_omits_unset():
    parsed = tomllib.loads(to_toml(Config()))
    assert "loss" not in parsed["objective"] and "lr" not in parsed["optim"]
    assert parsed["objective"]["name"] == "wgan-gp"


def test_data_path_resolved_to_absolute(tmp_path, monkeypatch):
    """A saved config must stay valid when the run is resumed from another folder."""
    np.save(tmp_path / "pts.npy", np.zeros((4, 2)))
    monkeypatch.chdir(tmp_path)
    r = resolve(apply_sets(Config(), ["data.name=pts.npy"]))
    assert Path(r.data.name).is_absolute()
    assert Path(r.data.name) == (tmp_path / "pts.npy").resolve()


def test_objective_config_is_frozen():
    with pytest.raises(AttributeError):
        ObjectiveConfig().name = "wgan"  # type: ignore[misc]


def test_every_numeric_field_has_a_bound():
    """Each int/float field of every section has its range in config.BOUNDS (add one for a new field)."""
    import typing

    from wgan.config import BOUNDS

    missing = []
    for f in fields(Config):
        for sf, t in typing.get_type_hints(type(getattr(Config(), f.name))).items():
            if {int, float} & ({t} | set(typing.get_args(t))) and f"{f.name}.{sf}" not in BOUNDS:
                missing.append(f"{f.name}.{sf}")
    assert not missing, f"no entry in wgan.config.BOUNDS for {missing}"
    assert set(BOUNDS) <= {f"{f.name}.{sf.name}" for f in fields(Config) for sf in fields(getattr(Config(), f.name))}


@pytest.mark.parametrize("item", ["optim.lr=inf", "optim.lr=nan", "optim.lr=1e6", "objective.penalty_weight=nan",
                                  "objective.clip=-inf", "train.seed=18446744073709551616", "train.ema=1",
                                  "generator.depth=-2", "objective.n_critic=1000000000000"])
def test_out_of_range_values_fail_as_they_are_set(item):
    assert item.split("=")[0] in _err(apply_sets, Config(), [item])


def test_adaptive_optimisers_take_lr_up_to_one():
    assert resolve(apply_sets(Config(), ["optim.name=sgd", "optim.lr=2"])).optim.lr == 2
    assert "too large for adam" in _err(resolve, apply_sets(Config(), ["optim.lr=2"]))
    assert "optim.critic_lr" in _err(resolve, apply_sets(Config(), ["optim.name=rmsprop", "optim.critic_lr=1.5"]))

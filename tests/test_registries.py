"""The registries that dispatch (wgan.registry): each lists every entry in its errors and in `wgan list`, and the
entries of one registry agree with those of the others (every data source's kind has hooks and a starting config)."""

from __future__ import annotations

import pytest

from wgan.cli import main
from wgan.config import Config, demo_path
from wgan.data import NAMED_DATA, SOURCES, make_sampler
from wgan.data.toy import TOYS
from wgan.errors import ConfigError
from wgan.fetch import FETCHABLE
from wgan.kinds import KINDS, data_kind
from wgan.metrics import METRICS
from wgan.nets import CRITICS, GENERATORS, net_options
from wgan.objectives import LOSSES, PRESETS
from wgan.penalties import PENALTIES
from wgan.registry import Registry

REGISTRIES = {"losses": LOSSES, "generators": GENERATORS, "critics": CRITICS, "sources": SOURCES, "kinds": KINDS,
              "toys": TOYS, "fetchable": FETCHABLE}


@pytest.mark.parametrize("name", list(REGISTRIES))
def test_unknown_name_lists_every_entry(name):
    registry = REGISTRIES[name]
    with pytest.raises(ConfigError) as e:
        registry.lookup("no-such-entry")
    message = str(e.value)
    assert message.startswith(f"unknown {registry.what} 'no-such-entry'")
    assert message.endswith("valid: " + ", ".join(registry))


def test_registry_refuses_a_name_twice_and_keeps_order():
    r: Registry[str] = Registry("thing")
    r.add("b", "first")

    @r.register("a", make=lambda f: f.__name__)
    def entry() -> None: ...

    assert list(r) == ["b", "a"] and r["a"] == "entry" == r.lookup("a") and callable(entry)
    with pytest.raises(ValueError, match="twice"):
        r.add("b", "again")
    with pytest.raises(ConfigError, match=r"unknown thing 'c'.*valid: b, a"):
        r.lookup("c")


def test_wgan_list_shows_every_registered_name(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for table in (PRESETS, PENALTIES, NAMED_DATA, GENERATORS, CRITICS, METRICS):
        for name in table:
            assert f"\n  {name} " in out, name
    for family, entry in GENERATORS.items():
        assert entry.description in out, family


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_has_a_starting_config_and_a_source(kind):
    assert demo_path(kind).is_file()
    assert isinstance(Config.demo(kind), Config)
    assert any(s.kind == kind for s in SOURCES.values()), f"no data source makes {kind} samplers"
    hooks = data_kind(kind)
    assert ".npy" in hooks.sample_formats and callable(hooks.headline)


@pytest.fixture
def named_files_at_hand(monkeypatch):
    """The named datasets read as 20 random images a split of their shape (the tests never download)."""
    import torch

    from wgan.data import named_datasets as nd

    def read(name: str) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        named, g = nd.NAMED_IMAGES[name], torch.Generator().manual_seed(0)
        shape = (3, 32, 32) if named.family == "cifar10" else (1, 28, 28)
        return {split: (torch.randint(0, 256, (20, *shape), generator=g, dtype=torch.uint8),
                        torch.randint(0, 10, (20,), generator=g)) for split in named.splits}

    monkeypatch.setattr(nd, "read_named", read)


@pytest.mark.parametrize("source", list(SOURCES))
def test_every_source_makes_samplers_of_a_registered_kind(source, named_files_at_hand):
    s = SOURCES[source]
    assert s.kind in KINDS
    for name in s.names:  # a named dataset is recognised by its own source and makes a sampler of its kind
        assert s.recognises(name)
        assert make_sampler(name).kind == s.kind


FAMILIES = [("generator", n) for n in GENERATORS] + [("critic", n) for n in CRITICS]


@pytest.mark.parametrize(("section", "family"), FAMILIES)
def test_every_family_declares_its_options(section, family):
    norms, activations = net_options(section, family)
    assert "none" in norms and activations

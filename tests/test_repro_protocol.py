"""The protocol table of every registered reproduction (issue 12): complete, in results.json, on its page."""

from pathlib import Path

import pytest

from wgan.cli import main
from wgan.experiments import Claim, Context, all_experiments, full_table
from wgan.experiments._protocol import KEYS, SETTINGS, Row, check_table, page_block, page_table

DOCS = Path(__file__).resolve().parents[1] / "docs" / "reproductions"
NAMES = sorted(all_experiments())


@pytest.mark.parametrize("quick", [True, False])
@pytest.mark.parametrize("name", NAMES)
def test_every_reproduction_declares_a_complete_table(name, quick):
    rows = full_table(name, Context(out=Path("unused"), quick=quick))
    assert rows and all(set(r) == set(KEYS) for r in rows)
    settings = [r["setting"] for r in rows]
    assert settings[:len(SETTINGS)] == list(SETTINGS) or set(SETTINGS) <= set(settings)
    n_critic = next(r for r in rows if r["setting"] == "n_critic")
    assert n_critic["paper"].strip() and n_critic["ours"].strip()
    assert all(r["paper"].strip() and r["ours"].strip() for r in rows)


def test_check_table_names_what_is_missing():
    rows = [Row(s, "p", "src", "ours") for s in SETTINGS if s != "n_critic"]
    with pytest.raises(ValueError, match="lacks the settings n_critic"):
        check_table(rows, "x")
    with pytest.raises(ValueError, match="empty ours"):
        check_table([Row(s, "p", "", "ours" if s != "lr" else " ") for s in SETTINGS], "x")
    with pytest.raises(ValueError, match="more than once"):
        check_table([Row(s, "p", "", "o") for s in SETTINGS] + [Row("lr", "p", "", "o")], "x")


@pytest.mark.parametrize("name", NAMES)
def test_each_page_shows_the_current_table(name):
    page = DOCS / f"{name}.md"
    assert page.is_file(), f"no page {page}"
    assert page_table(page) == page_block(full_table(name, Context(out=Path(".")))), (
        f"{page} is out of date: run python -m wgan.experiments docs/reproductions")


def test_cli_prints_the_table(capsys):
    assert main(["reproduce", "loss-curves", "--protocol"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| setting | paper / official code |") and "| n_critic |" in out


def test_identity_claims_are_marked_as_checks_of_the_code():
    c = Claim("x", "s", "c", {"v": 1.0}, True, identity=True)
    assert c.kind == "identity" and c.verdict().startswith("[IDENTITY] x")
    assert Claim("x", "s", "c", {}, False, identity=True).verdict().startswith("[IDENTITY FAILS -- a bug")
    assert Claim("x", "s", "c", {}, True).kind == "empirical"
    assert Claim("x", "s", "c", {}, None).kind == "descriptive"

"""The claim record over the whole registry (issue 23): every empirical criterion fails its negative control and
passes its positive one (the paper's own numbers where it gives any), a failed adequacy gate gives INCONCLUSIVE,
every quote occurs verbatim in the paper it cites, and the verdict table is the one ``--report`` generates."""

import json
import math
from pathlib import Path

import pytest

from wgan.cli import main
from wgan.errors import ConfigError
from wgan.experiments import Claim, ClaimSpec, Experiment, all_experiments, check_claims
from wgan.experiments._claims import (
    CLAIMS_BEGIN,
    CLAIMS_END,
    DOES_NOT_HOLD,
    HOLDS,
    IDENTITY,
    IDENTITY_FAILS,
    INCONCLUSIVE,
    MEASURED,
    Gate,
    adequate,
    claims_markdown,
    count_interval,
    gate_from,
    mean_interval,
    quote_found,
    too_few_seeds,
)
from wgan.experiments._protocol import marked_block
from wgan.experiments._report import (
    RUN_BEGIN,
    RUN_END,
    load_published,
    paper_cost,
    publish,
    render_report,
    run_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
PAPERS = ROOT.parent / "shared" / "papers"  # the papers' texts, where the checkout has them (not in CI)
SPECS = [(e.name, s) for e in all_experiments().values() for s in e.claims]
EMPIRICAL = [(n, s) for n, s in SPECS if s.kind == "empirical"]
GATED = [(n, s) for n, s in EMPIRICAL if s.gate is not adequate]


def _ids(pairs):
    return [f"{n}/{s.name}" for n, s in pairs]


@pytest.mark.parametrize(("repro", "spec"), EMPIRICAL, ids=_ids(EMPIRICAL))
def test_negative_control_fails_and_positive_control_passes(repro, spec):
    assert spec.decide(spec.negative_control()) is False
    pos = spec.positive_control()
    assert spec.decide(pos) is True, f"{repro}/{spec.name} fails its positive control ({spec.positive_source})"
    assert spec.positive_source.strip()
    assert spec.judge(spec.negative_control()).status in (DOES_NOT_HOLD, INCONCLUSIVE)


@pytest.mark.parametrize(("repro", "spec"), GATED, ids=_ids(GATED))
def test_a_failed_gate_gives_inconclusive(repro, spec):
    bad = spec.inadequate_control()
    gate = spec.gate(bad)
    assert not gate.passed and gate.shortfall.strip() and gate.budget.strip()
    claim = spec.judge(bad)
    assert claim.status == INCONCLUSIVE and "cannot decide" in claim.verdict()
    assert spec.gate(spec.positive_control()).passed  # the paper's own state is one a run can decide from


@pytest.mark.parametrize(("repro", "spec"), SPECS, ids=_ids(SPECS))
def test_every_claim_quotes_its_paper(repro, spec):
    if (spec.kind == "descriptive" or spec.ours) and not spec.quote:
        assert spec.where.strip()  # ours or descriptive: no quote, but where it sits beside the paper
        return
    assert spec.quote.strip() and spec.where.strip()
    if not PAPERS.is_dir():
        pytest.skip(f"{PAPERS} not here: the quotes are checked where the papers' texts are")
    assert quote_found(spec, PAPERS), f"{repro}/{spec.name}: the quote is not in {spec.paper}'s text"


def test_the_four_verdicts():
    spec = ClaimSpec("x", "WGAN", "q", "sec. 1", "v > 1", decide=lambda m: m["v"] > 1,
                     gate=lambda m: Gate(m["n"] >= 3, f"{m['n']} seeds of 3", "3 seeds"), adequacy="3 seeds",
                     negative_control=lambda: {"v": 0, "n": 3}, positive_control=lambda: {"v": 2, "n": 3},
                     inadequate_control=lambda: {"v": 2, "n": 1})
    assert spec.judge({"v": 2, "n": 3}).status == HOLDS
    assert spec.judge({"v": 0, "n": 3}).status == DOES_NOT_HOLD
    assert spec.judge({"v": 0, "n": 1}).status == INCONCLUSIVE  # DOES NOT HOLD only where the gate passes
    ident = ClaimSpec("i", "WGAN", "q", "sec. 1", "exact", decide=lambda m: m["err"] < 1e-6, kind="identity")
    assert ident.judge({"err": 0.0}).status == IDENTITY
    broken = ident.judge({"err": 1.0})
    assert broken.status == IDENTITY_FAILS and "bug" in broken.verdict()
    assert ClaimSpec("d", "WGAN", "", "", "what it is", kind="descriptive").judge({"v": 1}).status == MEASURED
    with pytest.raises(ValueError, match="needs negative_control, positive_control, adequacy"):
        ClaimSpec("y", "WGAN", "q", "sec. 1", "c", decide=lambda m: True)
    with pytest.raises(ValueError, match="inadequate_control"):
        ClaimSpec("y", "WGAN", "q", "sec. 1", "c", decide=lambda m: True, gate=lambda m: Gate(True), adequacy="a",
                  negative_control=dict, positive_control=dict)


def test_gate_helpers_name_the_seeds_shortfall_and_join_the_rest():
    assert too_few_seeds({"seeds": 3}, 3) == [] and too_few_seeds({"seeds": 5}, 3) == []
    assert too_few_seeds({"seeds": 2}, 3) == ["2 seed(s), fewer than 3"]
    assert gate_from([], "more steps") == Gate(True, "", "more steps")
    assert gate_from(["2 seed(s), fewer than 3", "not settled"], "b") == Gate(False, "2 seed(s), fewer than 3; "
                                                                                    "not settled", "b")


def test_intervals():
    i = mean_interval([1.0, 2.0, 3.0], "mean")
    assert i.estimate == pytest.approx(2.0) and i.low < 2.0 < i.high
    assert i.high - 2.0 == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)  # t(0.975, 2) * sd 1 / sqrt(3)
    one = mean_interval([1.0], "mean")
    assert one.low == -math.inf and one.high == math.inf
    c = count_interval(0, 10, "share")
    assert c.low == 0.0 and c.high == pytest.approx(1 - 0.025 ** (1 / 10))


def test_declared_claims_must_be_the_returned_ones():
    spec = ClaimSpec("d", "WGAN", "", "", "what it is", kind="descriptive")
    exp = Experiment("e", "p", "f", "c", run=lambda ctx: None, table=lambda ctx: [], claims=(spec,))
    check_claims(exp, [spec.judge({})])
    with pytest.raises(RuntimeError, match="declared"):
        check_claims(exp, [])
    with pytest.raises(RuntimeError, match="judge"):
        check_claims(exp, [Claim("d", "s", "other criterion", {}, None)])


# ---------------------------------------------------------------------------------------------- the verdict table
def test_the_committed_table_is_the_generated_one():
    committed = (ROOT / "docs" / "reproductions.md").read_text(encoding="utf-8")
    assert committed == render_report(ROOT / "docs" / "reproductions" / "results"), \
        "docs/reproductions.md is stale: run `wgan reproduce --report` from the repository root"


@pytest.mark.parametrize("name", sorted(all_experiments()))
def test_each_page_shows_its_published_run(name):
    page = ROOT / "docs" / "reproductions" / f"{name}.md"
    path = ROOT / "docs" / "reproductions" / "results" / f"{name}.json"
    body = run_markdown(all_experiments()[name], load_published(path) if path.is_file() else None,
                        paper_cost(name, ROOT / "docs" / "reproductions" / "results"))
    assert marked_block(page, RUN_BEGIN, RUN_END) == f"{RUN_BEGIN}\n{body}\n{RUN_END}", (
        f"{page}'s published-run block is stale: run `wgan reproduce --report` from the repository root")


def test_a_published_run_block_says_each_verdict_and_its_numbers(tmp_path):
    exp = all_experiments()["earth-mover-example"]
    res = load_published(ROOT / "docs" / "reproductions" / "results" / "earth-mover-example.json")
    text = run_markdown(exp, res)
    assert "wgan reproduce earth-mover-example" in text and "budget cpu" in text
    for c in res["claims"]:
        assert f"**{c['name']}**: **{c['verdict']}**" in text
    assert "No full run is published" in run_markdown(exp, None)


def _results(tmp_path: Path, quick: bool) -> Path:
    exp = next(e for e in all_experiments().values() if len(e.claims) >= 2)
    claims = [(s.judge(s.positive_control()) if s.kind == "empirical" else
               Claim(s.name, "", s.criterion, {}, None if s.decide is None else True, identity=s.kind == "identity",
                     quote=s.quote, where=s.where)).to_json() for s in exp.claims]
    path = tmp_path / "run" / "results.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"reproduction": exp.name, "quick": quick, "wall_time_s": 3600.0,
                                "options": {"seeds": 5, "steps": None}, "claims": claims, "data": {"big": [1] * 9}}))
    return path


def test_publish_and_report(tmp_path, monkeypatch):
    path = _results(tmp_path, quick=False)
    name = json.loads(path.read_text())["reproduction"]
    dest = tmp_path / "docs" / "results"
    dest.mkdir(parents=True)
    out = publish(path, name, dest)
    published = json.loads(out.read_text())
    assert "data" not in published and published["claims"]
    table = render_report(dest)
    row = next(line for line in table.splitlines() if line.startswith(f"| [{name}]"))
    assert f"wgan reproduce {name} --seeds 5" in table and "not yet run" not in row
    with pytest.raises(ConfigError, match="not of"):
        publish(path, "em-vs-js" if name != "em-vs-js" else "loss-curves", dest)
    # a run published under another criterion is stale: its claim shows as not yet run, never with old numbers
    stale = json.loads(out.read_text())
    stale["claims"][0]["criterion"] = "an older criterion"
    out.write_text(json.dumps(stale))
    rows = [line for line in render_report(dest).splitlines() if line.startswith(f"| [{name}]")]
    assert "not yet run" in rows[0] and "not yet run" not in rows[-1]


def test_an_inconclusive_verdict_says_what_the_papers_budget_costs(tmp_path):
    """Issue 23: each INCONCLUSIVE claim gives the budget it needs in CPU-hours here; the paper's own budget is
    read from the committed budget measurements (docs/reproductions/budgets.json), CPU time before wall time."""
    spec = next(s for e in all_experiments().values() for s in e.claims if s.inadequate_control is not None)
    exp = next(e for e in all_experiments().values() if spec in e.claims)
    claim = spec.judge(spec.inadequate_control())
    assert claim.status == "INCONCLUSIVE"
    results = tmp_path / "reproductions" / "results"
    results.mkdir(parents=True)
    path = results / f"{exp.name}.json"
    others = [(s.judge(s.positive_control()) if s.kind == "empirical" else
               Claim(s.name, "", s.criterion, {}, None if s.decide is None else True, identity=s.kind == "identity",
                     quote=s.quote, where=s.where)) for s in exp.claims if s is not spec]
    path.write_text(json.dumps({"reproduction": exp.name, "quick": False, "wall_time_s": 60.0, "options": {},
                                "claims": [c.to_json() for c in [claim, *others]]}))
    def row() -> str:
        return next(line for line in render_report(results).splitlines()
                    if line.startswith(f"| [{exp.name}]") and f"*{spec.name}*" in line)

    assert "CPU-hours" not in row() and "not sized" not in row()  # no budget measurements: nothing claimed
    budgets = tmp_path / "reproductions" / "budgets.json"
    budgets.write_text(json.dumps({"entries": {}}))
    assert "--budget paper: not sized yet" in row()
    budgets.write_text(json.dumps({"entries": {exp.name: {"paper": {"seconds": 9e5, "cpu_seconds": 7200.0}}}}))
    assert "--budget paper: ~2.0 CPU-hours" in row()
    assert "~2.0 CPU-hours" in run_markdown(exp, load_published(path), paper_cost(exp.name, results))
    budgets.write_text(json.dumps({"entries": {exp.name: {"paper": {"seconds": 3600.0}}}}))  # older: wall time
    assert "~1.0 hours of one process" in row() and "likely high" in row()
    budgets.write_text(json.dumps({"entries": {exp.name: {"paper": {"seconds": None, "how": "not estimated: x"}}}}))
    assert "not sized on the machine of docs/budgets.md" in row()
    budgets.write_text(json.dumps({"entries": {exp.name: {"paper": {"seconds": 400.0, "cpu_seconds": 170.0}}}}))
    assert "~0.05 CPU-hours" in row()  # a short paper budget does not read as zero hours
    budgets.write_text(json.dumps({"entries": {exp.name: {"paper": {"seconds": 9.0, "cpu_seconds": 2.0}}}}))
    assert "--budget paper: <0.01 CPU-hours" in row()
    budgets.write_text(json.dumps({"entries": {exp.name: {"paper": {
        "seconds": None, "cpu_seconds": 7200.0, "how": "study estimator (training steps only)"}}}}))
    assert "~2.0 CPU-hours of training steps (evaluation not counted)" in row()


def test_quick_results_are_refused(tmp_path, capsys):
    path = _results(tmp_path, quick=True)
    with pytest.raises(ConfigError, match="--quick run") as e:
        load_published(path)
    assert "\n" not in str(e.value)
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / f"{json.loads(path.read_text())['reproduction']}.json").write_text(path.read_text())
    with pytest.raises(ConfigError, match="--quick run"):
        render_report(folder)


def test_unpublished_reproductions_say_so_with_their_command(tmp_path):
    table = render_report(tmp_path / "nothing-published")
    for name in all_experiments():
        assert f"not yet run under the verdict framework: `wgan reproduce {name}`" in table


def test_cli_report_and_publish_refuse_bad_input(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["reproduce", "--report"]) == 2  # no docs/ here
    assert "root of the wgan repository" in capsys.readouterr().err
    assert main(["reproduce", "em-vs-js", "--publish", "--out", str(tmp_path / "none")]) == 2
    assert "run `wgan reproduce em-vs-js` first" in capsys.readouterr().err
    assert main(["reproduce", "em-vs-js", "--rejudge"]) == 2  # where would it write?
    assert "--out DIR" in capsys.readouterr().err


def test_list_prints_each_claims_place_quote_and_committed_verdict(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for _, spec in SPECS:
        assert f"{spec.paper}, {spec.where}" in out
        if spec.quote:
            assert " ".join(spec.quote.split()[:12]) in out
    published = json.loads((ROOT / "docs/reproductions/results/earth-mover-example.json").read_text())
    for c in published["claims"]:
        assert f"committed run: {c['verdict']} (budget cpu)" in out


@pytest.mark.parametrize("name", [n for n, e in all_experiments().items() if e.claims])
def test_each_page_shows_its_current_claims(name):
    page = ROOT / "docs" / "reproductions" / f"{name}.md"
    expected = f"{CLAIMS_BEGIN}\n{claims_markdown(all_experiments()[name].claims)}\n{CLAIMS_END}"
    assert marked_block(page, CLAIMS_BEGIN, CLAIMS_END) == expected, (
        f"{page} is out of date: run python -m wgan.experiments docs/reproductions")


def test_every_reproduction_declares_its_claims():
    bare = [n for n, e in all_experiments().items() if not e.claims]
    assert not bare, f"reproductions without declared claims (register(..., claims=...)): {bare}"
    for e in all_experiments().values():
        kinds = {s.kind for s in e.claims}
        assert kinds & {"empirical", "identity"}, f"{e.name} judges nothing"


def test_rejudge_applies_the_current_gate_to_the_published_numbers(tmp_path, capsys):
    from wgan.experiments import optimizer_stability as os_
    from wgan.experiments._report import rejudge

    old = os_.ADAM.judge(os_._m("adam", 0)).to_json() | {"verdict": "DOES NOT HOLD"}  # as an older gate judged it
    del old["measured"]["steps"]  # recorded under the sibling claim of the same run only
    high = os_.HIGH.judge(os_._m("high-lr", 3)).to_json()
    del high["measured"]["high-lr/unstable"]  # a number no claim of the run recorded
    res = {"reproduction": "optimizer-stability", "quick": False, "wall_time_s": 60.0,
           "options": {"data": "/somewhere/on/a/machine/mnist"}, "claims": [old, high]}
    (tmp_path / "optimizer-stability.json").write_text(json.dumps(res))
    out = rejudge("optimizer-stability", tmp_path)
    claims = {c["name"]: c for c in out["claims"]}
    assert claims["adam-unstable-at-times"]["verdict"] == "INCONCLUSIVE"  # 1,800 seed-steps: too few for 'at times'
    assert claims["adam-unstable-at-times"]["measured"]["steps"] == 600  # taken from the same run's sibling claim
    assert claims["high-lr-unstable-at-times"] == high  # its criterion's numbers were not recorded: kept as published
    assert out["rejudged"]["claims"] == ["adam-unstable-at-times"]
    assert "rerun" in out["rejudged"]["not_rejudged"]["high-lr-unstable-at-times"]
    page = run_markdown(all_experiments()["optimizer-stability"], out)
    assert "--rejudge" in page and "not judged again: high-lr-unstable-at-times" in page
    # a number only the current GATE needs, not recorded by the published run: the run cannot show it was adequate
    del res["claims"][0]["measured"]["rmsprop/w1_end_over_start"], res["claims"][1]["measured"][
        "rmsprop/w1_end_over_start"]
    (tmp_path / "optimizer-stability.json").write_text(json.dumps(res))
    adam = next(c for c in rejudge("optimizer-stability", tmp_path)["claims"] if c["name"] == "adam-unstable-at-times")
    assert adam["verdict"] == "INCONCLUSIVE"
    assert "did not record 'rmsprop/w1_end_over_start'" in adam["gate"]["shortfall"]
    assert "--data MNIST_DIR" in page and "/somewhere" not in page  # a command a user types, not a machine path


def test_a_run_spread_over_starts_says_what_it_reused(tmp_path):
    """Finished runs kept by ``cached_run`` and reused by a later start are counted in ``results.json``
    (``resumed``), and the page and the table say so beside the wall time, which is the last start's alone."""
    from wgan.experiments import EXPERIMENTS, Context, Result, register, run_experiment
    from wgan.experiments._common import cached_run
    from wgan.experiments._protocol import SETTINGS, Row
    from wgan.experiments._report import resumed_note

    name = "test-kept-runs"

    @register(name, "WGAN", "nowhere", "keeps its runs", table=lambda ctx: [Row(s, "x", "", "x") for s in SETTINGS])
    def run(ctx):
        for i in range(3):
            cached_run(ctx.out / "runs" / f"{i}.json", {"i": i}, lambda i=i: {"value": i})
        return Result([], {})

    try:
        ctx = Context(out=tmp_path / "out")
        run_experiment(name, ctx)
        first = json.loads((ctx.out / "results.json").read_text())
        assert "resumed" not in first and resumed_note(first) == ""
        kept = json.loads((ctx.out / "runs" / "1.json").read_text())
        assert kept["value"] == 1 and kept["setting"] == {"i": 1} and kept["took_s"] >= 0
        (ctx.out / "runs" / "2.json").unlink()
        for i in (0, 1):  # what the earlier start's runs had taken, as a slow start would have recorded it
            path = ctx.out / "runs" / f"{i}.json"
            path.write_text(json.dumps(json.loads(path.read_text()) | {"took_s": 1800.0}))
        run_experiment(name, ctx)
        second = json.loads((ctx.out / "results.json").read_text())
        assert second["resumed"] == {"reused": 2, "trained": 1, "reused_s": 3600.0}
        assert "2 of 3 runs were reused from earlier starts, which had taken 60.0 min" in resumed_note(second)
        assert "taken 1.00 h" in resumed_note(second, hours=True)
    finally:
        EXPERIMENTS.pop(name)


def test_results_record_the_cpu_time_of_the_run_and_its_workers(tmp_path):
    """Issue 23 asks for each full run's CPU time: ``results.json`` keeps it beside the wall time, counting the
    work of the worker processes a reproduction waited for (a study's local pool), and the page prints it."""
    import subprocess
    import sys

    from tests.helpers import spin
    from wgan.experiments import EXPERIMENTS, Context, Result, get, register, run_experiment
    from wgan.experiments._protocol import SETTINGS, Row

    name = "test-cpu-time"
    worker = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"

    @register(name, "WGAN", "nowhere", "works here and in a worker", table=lambda ctx: [Row(s, "x", "", "x")
                                                                                         for s in SETTINGS])
    def run(ctx):
        spin(0.3)
        subprocess.run([sys.executable, "-c", worker], check=True)  # a worker's 0.3 s
        return Result([], {})

    try:
        ctx = Context(out=tmp_path / "out")
        run_experiment(name, ctx)
        res = json.loads((ctx.out / "results.json").read_text())
        assert res["cpu_time_s"] >= 0.55  # its own 0.3 s and the worker's
        assert f"CPU time {res['cpu_time_s'] / 60:.1f} min" in run_markdown(get(name), res)
    finally:
        EXPERIMENTS.pop(name)

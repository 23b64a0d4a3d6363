"""Study specs with named axes of bundles and refused combinations (wgan.studies.spec: [[axes.NAME]],
[[refuse]]), and the shipped constraint study (configs/studies/constraints.toml) expanding to its grid."""

from __future__ import annotations

from pathlib import Path

import pytest

from wgan.cli import main
from wgan.errors import ConfigError
from wgan.io import write_json
from wgan.studies import RunResult, aggregate, load_spec
from wgan.studies.runner import _record, aggregate_finished

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "configs" / "studies" / "constraints.toml"

AXES = """
seeds = [0, 1]
[[axes.c]]
label = "clip"
"objective.clip" = 0.01
"objective.penalty" = "none"
[[axes.c]]
label = "r1"
"objective.penalty" = "r1"
"objective.penalty_weight" = 10.0
[[axes.l]]
label = "w"
"objective.loss" = "wasserstein"
[[axes.l]]
label = "ns"
"objective.loss" = "non-saturating"
[grid]
"critic.width" = [8, 16]
"""
REFUSE = """
[[refuse]]
"objective.loss" = "wasserstein"
"objective.penalty" = "r1"
reason = "unbounded"
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


def test_axes_cross_in_order_and_label_their_bundles(tmp_path: Path):
    study = load_spec(_write(tmp_path, AXES))
    runs = study.runs()
    assert len(runs) == 2 * 2 * 2 * 2  # axis c x axis l x grid x seeds
    labels = list(dict.fromkeys(r.label for r in runs))
    assert labels[:2] == ["clip,w,critic.width=8", "clip,w,critic.width=16"]
    assert labels[-1] == "r1,ns,critic.width=16"
    r1_ns = next(r for r in runs if r.label.startswith("r1,ns"))
    cfg = study.config(r1_ns)
    assert (cfg.objective.penalty, cfg.objective.penalty_weight, cfg.objective.loss) == ("r1", 10.0, "non-saturating")
    assert study.refused == []


def test_refuse_leaves_the_matching_points_out_with_their_reason(tmp_path: Path, capsys):
    p = _write(tmp_path, AXES + REFUSE)
    study = load_spec(p)
    assert len(study.runs()) == 3 * 2 * 2  # the r1 x wasserstein points (both widths) are out
    assert not any(r.label.startswith("r1,w,") for r in study.runs())
    assert [(r.label, r.reason) for r in study.refused] == [("r1,w,critic.width=8", "unbounded"),
                                                          ("r1,w,critic.width=16", "unbounded")]
    assert main(["study", str(p), "--dry-run", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "refused  r1,w,critic.width=8: unbounded" in out and "12 runs" in out and "2 point(s) refused" in out
    # the aggregate's markdown lists them too (no training needed for the table)
    runs = study.runs()
    results = [RunResult(r.name, r.label, r.seed, "done", 1.0, {"w1": 0.5}) for r in runs]
    aggregate(study, runs, results, tmp_path)
    md = (tmp_path / "study.md").read_text()
    assert "Refused combinations" in md and "- r1,w,critic.width=16: unbounded" in md


def test_refuse_matches_the_study_wide_settings_and_the_base(tmp_path: Path):
    # the loss set once for every run in [set]; the rule matches on it (and on the base config's clip 0 default)
    text = AXES.replace('[[axes.l]]\nlabel = "w"\n"objective.loss" = "wasserstein"\n[[axes.l]]\nlabel = "ns"\n'
                        '"objective.loss" = "non-saturating"\n', "") + '[set]\n"objective.loss" = "hinge"\n'
    text += '[[refuse]]\n"objective.loss" = "hinge"\n"objective.penalty" = "r1"\n"objective.dragan_scale" = 0.5\n' \
            'reason = "x"\n'
    study = load_spec(_write(tmp_path, text))
    assert {r.label for r in study.refused} == {"r1,critic.width=8", "r1,critic.width=16"}


@pytest.mark.parametrize("extra,match", [
    ('[[refuse]]\n"objective.loss" = "wasserstein"\n', "needs reason"),
    ('[[refuse]]\nreason = "x"\n', "matches on nothing"),
    ('[[refuse]]\n"objective.loss" = "hinge"\nreason = "x"\n', "matches no point"),
    ('[[refuse]]\n"objective.nope" = 1\nreason = "x"\n', "unknown setting 'objective.nope'"),
    ('[[refuse]]\n"objective.clip" = 0.01\nreason = "x"\n[[refuse]]\n"objective.penalty" = "r1"\nreason = "y"\n',
     "refuse every point"),
    ('[[axes.l2]]\n"objective.loss" = "hinge"\n', "set the same key"),
    ('[[axes.l2]]\nlabel = "x"\n', "sets nothing"),
    ('[axes]\nl3 = 1\n', "non-empty list"),
    ('[[variants]]\n"objective.loss" = "hinge"\n', "set the same key"),
])
def test_bad_axes_and_refusals_are_config_errors(tmp_path: Path, extra: str, match: str):
    with pytest.raises(ConfigError, match=match):
        load_spec(_write(tmp_path, AXES + extra))


def test_duplicate_bundle_labels_are_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="labelled alike"):
        load_spec(_write(tmp_path, AXES.replace('label = "ns"', 'label = "w"')))


def test_aggregate_of_the_runs_finished_so_far_trains_nothing(tmp_path: Path, capsys):
    p = _write(tmp_path, AXES + REFUSE)
    study = load_spec(p)
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match="no run of study"):
        aggregate_finished(study, out)
    runs = study.runs()
    done = runs[:3]
    for i, r in enumerate(done):  # three finished runs, as a worker leaves them
        write_json(out / "runs" / r.name / "study_run.json", _record(study, r))
        write_json(out / "runs" / r.name / "summary.json", {"steps": 4, "w1": 0.1 * (i + 1)})
    assert main(["study", str(p), "--aggregate", "--out", str(out)]) == 0
    assert f"3 of {len(runs)} runs finished" in capsys.readouterr().out
    rows = (out / "study.csv").read_text().splitlines()[1:]
    assert sum(",skipped," in x for x in rows) == 3 and sum(",todo," in x for x in rows) == len(runs) - 3
    md = (out / "study.md").read_text()
    assert f"| {done[0].label} | 2/2 | 0.15 ± 0.071 |" in md  # its seeds 0 and 1
    assert f"| {done[2].label} | 1/2 | 0.3 ± 0 |" in md
    assert "Refused combinations" in md and not (out / "runs" / runs[3].name).exists()  # nothing trained


# ---------------------------------------------------------------------------------- the shipped constraint study
CONSTRAINTS = {"clip": ("none", 0.0, 0.01, False), "gp": ("gp", 10.0, 0.0, False), "lp": ("lp", 10.0, 0.0, False),
               "sn": ("none", 0.0, 0.0, True), "r1": ("r1", 10.0, 0.0, False)}
LOSSES = {"wasserstein": "wasserstein", "ns": "non-saturating", "hinge": "hinge"}
DATA = {"8gaussians": "8gaussians", "25gaussians": "25gaussians", "digits": "digits"}


def test_constraint_study_spec_expands_to_its_grid():
    study = load_spec(SPEC)
    runs = study.runs()
    cells = {tuple(r.label.split(",")) for r in runs}
    want = {(c, lo, d) for c in CONSTRAINTS for lo in LOSSES for d in DATA} - {("r1", "wasserstein", d) for d in DATA}
    assert cells == want and len(cells) == 5 * 3 * 3 - 3
    assert study.seeds == [0, 1, 2] and len(runs) == 3 * len(want)
    # the one refused combination, with its reason
    assert {tuple(r.label.split(",")) for r in study.refused} == {("r1", "wasserstein", d) for d in DATA}
    assert all("R1" in r.reason and "no minimum" in r.reason for r in study.refused)
    for run in runs:
        c, lo, d = run.label.split(",")
        cfg = study.config(run)
        o, op = cfg.objective, cfg.optim
        assert (o.penalty, o.penalty_weight, o.clip, cfg.critic.spectral_norm) == CONSTRAINTS[c]
        assert o.loss == LOSSES[lo] and cfg.data.name == DATA[d] and cfg.train.seed == run.seed
        # one optimiser for every cell, fixed in the spec
        assert (op.name, op.lr, op.beta1, op.beta2, op.lr_decay, o.n_critic) == ("adam", 2e-4, 0.0, 0.9, "linear", 5)
        if d == "digits":
            assert cfg.eval.metrics == "fid500_classifier,prdc500_5nn_classifier" and cfg.eval.classifier == "auto"
        else:
            assert cfg.eval.n_samples == 2000  # w1_exact_2k and prdc2k_5nn_coords

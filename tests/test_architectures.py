"""WGAN-GP sec. 5.1-5.2 reproductions (random-architectures, architecture-zoo): each criterion with inputs that
must make it fail (negative controls) and one that must pass, and a tiny end-to-end run through the study runner."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from wgan.experiments import Context, run_experiment
from wgan.experiments._architectures import ArchSetting, reference_scores, succeeded, train_score_classifier
from wgan.experiments.architecture_zoo import PRIMARY, zoo_all_succeed
from wgan.experiments.random_architectures import (
    TABLE2_PAPER,
    THRESHOLDS,
    sign_test_p,
    table2_counts,
    table2_direction_holds,
)
from wgan.io import read_json

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny nets: one torch thread (conftest)


def _paper_counts() -> dict[float, dict[str, int]]:
    keys = ("only_gan", "only_wgan_gp", "both", "neither")
    return {t: dict(zip(keys, v, strict=True)) for t, v in TABLE2_PAPER.items()}


def test_success_threshold_controls(tmp_path: Path):
    """Real digits pass the zoo's threshold; an untrained generator's samples must fail it (negative control)."""
    s = ArchSetting("digits", 8, 1, 1 / 8, 8, 16, 32, 1, 500, 300, 8)
    clf, info = train_score_classifier(s, tmp_path)
    refs = reference_scores(s, clf)
    assert succeeded(refs["real"], PRIMARY), refs
    assert not succeeded(refs["untrained_generator"], PRIMARY), refs
    assert not succeeded(refs["untrained_generator"], THRESHOLDS[1])
    assert not succeeded(float("nan"), 1.0) and not succeeded(None, 1.0)  # a failed run never succeeds


def test_table2_counts_and_direction():
    assert table2_direction_holds(_paper_counts())  # the paper's own table passes
    scores = {"a": {"ns-gan": 2.0, "wgan-gp": 4.0}, "b": {"ns-gan": 6.0, "wgan-gp": 6.5},
              "c": {"ns-gan": None, "wgan-gp": 1.5}, "d": {"ns-gan": 0.5, "wgan-gp": float("nan")}}
    c = table2_counts(scores)
    assert c[3.0] == {"only_gan": 0, "only_wgan_gp": 1, "both": 1, "neither": 2}
    assert all(sum(v.values()) == 4 for v in c.values())
    assert table2_direction_holds(c)
    # negative controls: swapping the methods, identical methods, and one threshold the other way round must fail
    swapped = {k: {"ns-gan": v["wgan-gp"], "wgan-gp": v["ns-gan"]} for k, v in scores.items()}
    assert not table2_direction_holds(table2_counts(swapped))
    same = {k: {"ns-gan": v["wgan-gp"], "wgan-gp": v["wgan-gp"]} for k, v in scores.items()}
    assert not table2_direction_holds(table2_counts(same))
    one_off = _paper_counts()
    one_off[9.0] = {"only_gan": 1, "only_wgan_gp": 0, "both": 0, "neither": 199}
    assert not table2_direction_holds(one_off)


def test_table2_claim_is_judged_on_most_informative_thresholds():
    from wgan.experiments.random_architectures import TABLE2_CLAIM, informative_thresholds, one_sided_p, table2_measured

    paper = TABLE2_CLAIM.positive_control()
    assert informative_thresholds(paper) == [3.0, 5.0, 7.0]  # 1 is the score's floor, nobody passes 9
    assert TABLE2_CLAIM.judge(paper).status == "HOLDS"
    # the published 40-architecture run (docs/reproductions/random-architectures.md): only GAN 3 vs only WGAN-GP 1
    # at threshold 1 (untrained generator 1.006) decided the old every-threshold criterion; here 1 is excluded
    run = {1.0: (3, 1, 36, 0), 3.0: (0, 17, 2, 21), 5.0: (0, 6, 0, 34), 7.0: (0, 0, 0, 40), 9.0: (0, 0, 0, 40)}
    m = table2_measured({t: dict(zip(("only_gan", "only_wgan_gp", "both", "neither"), c, strict=True))
                         for t, c in run.items()}, 1.006)
    assert informative_thresholds(m) == [3.0, 5.0]
    assert TABLE2_CLAIM.judge(m).status == "HOLDS"
    assert not table2_direction_holds({t: {k: m[f"{k}@{t:g}"] for k in ("only_gan", "only_wgan_gp")} for t in run})
    # 'many': one architecture more at each threshold is not many, however significant
    few = m | {"only_wgan_gp@3": 3, "only_wgan_gp@5": 3}
    assert TABLE2_CLAIM.judge(few).status == "DOES NOT HOLD"
    assert one_sided_p(10, 0) == pytest.approx(1 / 1024) and one_sided_p(0, 0) == 1.0


def test_sign_test():
    assert sign_test_p(10, 0) == pytest.approx(2 / 1024)
    assert sign_test_p(0, 0) == 1.0 and sign_test_p(5, 5) == 1.0
    assert sign_test_p(88, 1) < 1e-20


def test_zoo_criterion_controls():
    rows = {"baseline": 5.0, "g-mlp": 4.0, "resnet101": 3.5}
    assert zoo_all_succeed(rows)
    assert not zoo_all_succeed({**rows, "resnet101": 2.9})  # one architecture below the threshold
    assert not zoo_all_succeed({**rows, "gated": None})  # one failed run
    assert not zoo_all_succeed({})


def test_random_architectures_end_to_end(tmp_path: Path):
    result = run_experiment("random-architectures", Context(out=tmp_path, quick=True, n=1, steps=2))
    data = read_json(tmp_path / "results.json")
    rows = {r["setting"]: r for r in data["protocol"]["table"]}
    assert {"n_critic", "nets", "criterion"} <= set(rows)
    assert [r["threshold"] for r in data["data"]["table2"]] == list(THRESHOLDS)
    for r in data["data"]["table2"]:
        assert r["only_gan"] + r["only_wgan_gp"] + r["both"] + r["neither"] == 1
    (arch, scores), = data["data"]["scores"].items()
    summaries = [json.loads(p.read_text()) for p in (tmp_path / "study" / "runs").glob("*/summary.json")]
    assert sorted(s["is100_classifier"] for s in summaries) == sorted(scores.values())  # the table is the runs'
    assert all(math.isfinite(v) for v in scores.values())
    assert isinstance(result.claims[0].holds, bool)
    assert "resumed" not in data
    # started again on the same folder: every run is read back, none trained, and results.json says so
    run_experiment("random-architectures", Context(out=tmp_path, quick=True, n=1, steps=2))
    again = read_json(tmp_path / "results.json")
    assert again["resumed"]["reused"] == len(summaries) and again["resumed"]["trained"] == 0
    assert again["resumed"]["reused_s"] == sum(s["train_time_s"] for s in summaries)
    assert again["data"]["scores"] == data["data"]["scores"]


def test_zoo_rows_are_seven_different_networks_at_the_default_resolution():
    """At the cpu budget (and --budget paper) every Fig. 2 row trains a different (generator, critic) pair under every
    method; at 8x8 they would not (the DCGAN has no middle layer there: 'constant filters' changes nothing)."""
    from dataclasses import replace

    from wgan.experiments._architectures import setting
    from wgan.experiments.architecture_zoo import ZOO_METHODS, zoo_signatures
    from wgan.nets.space import ZOO

    s = setting(Context(out=Path("unused")), "zoo")
    assert s.image_size == 16 and s.seeds >= 3 and s.latent_dim == 128 and s.mlp_init == "he"
    assert set(ZOO_METHODS) == {"wgan-gp", "wgan", "dcgan", "lsgan"}
    for m in ("wgan-gp", "dcgan"):  # the critic's batch norm is layer norm under the penalty only
        sig = zoo_signatures(s, m)
        assert set(sig) == set(ZOO) and len(set(sig.values())) == len(ZOO), m
        assert len({g for g, _ in sig.values()}) == len(ZOO)  # every row's generator differs (the critics by design
        # repeat the DCGAN's in the three G-only rows)
    at8 = zoo_signatures(replace(s, image_size=8))
    assert len(set(at8.values())) < len(ZOO)  # why 8x8 is not used
    assert setting(Context(out=Path("unused"), budget="paper"), "zoo").image_size == 64


def test_dead_generators_are_detected():
    """A generator whose output does not depend on z is dead; one at init that does is alive; the study's check
    rebuilds the very generator the run starts from (same seed, same weights)."""
    import torch

    from wgan.config import Config, apply_sets
    from wgan.experiments._architectures import generator_at_init, is_dead, output_spread, reinit

    class Constant(torch.nn.Module):
        def forward(self, z):
            return torch.zeros(len(z), 1, 8, 8) + 0.3

    assert is_dead(output_spread(Constant(), 4)) and is_dead(float("nan"))
    cfg = apply_sets(Config(), ["data.name=digits", "generator.arch=space:relu-d4-bn-f8", "generator.latent_dim=8"])
    g = generator_at_init(cfg, (1, 8, 8))
    assert not is_dead(output_spread(g, 8))
    g2 = generator_at_init(cfg, (1, 8, 8))
    assert all(torch.equal(a, b) for a, b in zip(g.state_dict().values(), g2.state_dict().values(), strict=True))
    # a 20-layer generator without batch norm under the DCGAN init N(0, 0.02) is dead (its signal shrinks per layer);
    # tflib's He-style default keeps it alive
    deep = apply_sets(Config(), ["data.name=digits", "generator.arch=space:relu-d20-nobn-f16",
                                 "generator.latent_dim=8"])
    g = generator_at_init(deep, (1, 8, 8))
    assert is_dead(output_spread(g, 8))
    reinit(g, "tflib-he")
    assert not is_dead(output_spread(g, 8))


def test_paired_differences_count_failed_runs_as_untrained():
    from wgan.experiments.random_architectures import paired_differences, wilcoxon_p

    d = paired_differences({"a": {"wgan-gp": 4.0, "ns-gan": 1.5}, "b": {"wgan-gp": None, "ns-gan": 2.0},
                            "c": {"wgan-gp": 3.0, "ns-gan": float("nan")}}, untrained=1.0)
    assert d == [2.5, -1.0, 2.0]
    assert wilcoxon_p([0.0, 0.0]) == 1.0 and wilcoxon_p([1.0] * 10) < 0.01


def test_zoo_aggregates_seeds_and_judges_the_means(tmp_path: Path, monkeypatch):
    """The zoo's verdicts come from each (row, method)'s mean over its seeds (a failed run scoring as the untrained
    generator); the runs' scores are stubbed (the training path is the random study's, tested above)."""
    from wgan.experiments import architecture_zoo as zoo

    def fake(ctx, study):
        key = study.metric
        out = {}
        for r in study.runs():
            row, m = r.label.split("|")
            v = 8.0 + r.seed if m == "wgan-gp" else (1.0 if row == "resnet101" else 7.0)
            out[f"{r.label}|s{r.seed}"] = None if (row, m, r.seed) == ("gated", "wgan", 1) else {key: v}
        return out | {"_wall_s": 0.0, "_failed": []}

    monkeypatch.setattr(zoo, "study_summaries", fake)
    monkeypatch.setattr(zoo, "reference_scores", lambda s, c: {"real": 9.5, "untrained_generator": 1.0})
    result = run_experiment("architecture-zoo", Context(out=tmp_path, quick=True, seeds=3))
    data = read_json(tmp_path / "results.json")["data"]
    assert data["scores"]["baseline"]["wgan-gp"] == pytest.approx(9.0)  # mean of 8, 9, 10
    assert data["scores_per_seed"]["gated"]["wgan"] == [7.0, 1.0, 7.0]  # the failed seed as untrained
    verdicts = {c.name: c.status for c in result.claims}
    assert verdicts == {"wgan-gp-trains-every-zoo-architecture": "HOLDS", "other-methods-fail-somewhere": "HOLDS"}
    assert all(c.interval is not None and c.interval.low <= c.interval.estimate <= c.interval.high
               for c in result.claims)


def test_zoo_other_methods_are_judged_only_where_their_own_baseline_trains():
    """Each method's bar is built on its own baseline row, so a method whose baseline barely leaves the untrained
    score would 'train' every row by a bar at noise level: the other-methods claim is then INCONCLUSIVE (not DOES
    NOT HOLD), naming the method, while the WGAN-GP claim, gated on its own baseline, is still decided."""
    from wgan.experiments.architecture_zoo import ZOO_GP, ZOO_OTHERS, _zoo

    weak_wgan = _zoo(7, 7, wgan_base=1.1)  # WGAN 'trains' all 7 rows by a bar of 1.05
    others = ZOO_OTHERS.judge(weak_wgan)
    assert others.status == "INCONCLUSIVE" and "under wgan scores 1.1" in others.gate.shortfall
    assert ZOO_GP.judge(weak_wgan).status == "HOLDS"
    assert ZOO_OTHERS.judge(_zoo(7, 7)).status == "DOES NOT HOLD"  # every baseline trains: decided
    assert ZOO_OTHERS.judge(_zoo(7, 5)).status == "HOLDS"


def test_zoo_clipping_and_lsgan_use_tensorflows_rmsprop():
    """gan_64x64.py:530-532, 554-556 train WGAN and LSGAN with tf.train.RMSPropOptimizer: rmsprop_tf, not torch's."""
    from wgan.experiments._architectures import setting
    from wgan.experiments.architecture_zoo import ZOO_METHODS, zoo_point
    from wgan.nets.space import ZOO

    s = setting(Context(out=Path("unused")), "zoo")
    names = {m: zoo_point(ZOO["baseline"], m, s).get("optim.name") for m in ZOO_METHODS}
    assert names == {"wgan-gp": None, "wgan": "rmsprop_tf", "dcgan": None, "lsgan": "rmsprop_tf"}


@pytest.mark.parametrize("baseline_score, stages", [(3.0, 1), (8.0, 2)])
def test_zoo_trains_the_other_rows_only_where_the_baseline_can_pass_a_gate(tmp_path: Path, monkeypatch,
                                                                            baseline_score, stages):
    """Both gates read only the baseline row (and the seeds): the baseline's 12 runs train first, and the other six
    rows only if its scores pass a gate. A baseline at 3 (of untrained 1, real 9.5: the gate needs 6.95) stops
    after stage 1 with both claims INCONCLUSIVE and the rows not trained named; at 8 all seven rows train."""
    from wgan.experiments import architecture_zoo as zoo

    asked: list[set[str]] = []

    def fake(ctx, study):
        asked.append({r.label.split("|")[0] for r in study.runs()})
        return {f"{r.label}|s{r.seed}": {study.metric: baseline_score if r.label.startswith("baseline|") else 5.0}
                for r in study.runs()} | {"_wall_s": 1.0, "_failed": []}

    monkeypatch.setattr(zoo, "study_summaries", fake)
    monkeypatch.setattr(zoo, "train_score_classifier", lambda s, out: (out / "classifier.pt", {}))
    monkeypatch.setattr(zoo, "reference_scores", lambda s, c: {"real": 9.5, "untrained_generator": 1.0})
    monkeypatch.setattr(zoo, "dead_at_init", lambda study, s: {f"{r.label}|s{r.seed}": 1.0 for r in study.runs()})
    result = run_experiment("architecture-zoo", Context(out=tmp_path))
    assert asked[0] == {"baseline"} and len(asked) == stages
    data = read_json(tmp_path / "results.json")
    trained = data["protocol"]["rows_trained"]
    verdicts = {c.name: c.status for c in result.claims}
    if stages == 1:
        assert trained == ["baseline"] and "the other 6 rows were not trained" in data["protocol"]["rows_not_trained"]
        assert set(verdicts.values()) == {"INCONCLUSIVE"} and list(data["data"]["scores"]) == ["baseline"]
        # three seeds were run: the budget asks for steps only
        assert all(c.gate.budget.startswith("more generator steps") for c in result.claims)
        assert {c.measured["rows_run"] for c in result.claims} == {1}
    else:
        assert asked[1] == set(zoo.ZOO) - {"baseline"} and len(trained) == 7
        assert data["protocol"]["rows_not_trained"] == ""
        assert verdicts["wgan-gp-trains-every-zoo-architecture"] == "HOLDS"  # 5.0 >= the bar 4.5 on every row

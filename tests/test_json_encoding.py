"""One encoding of non-finite numbers in every JSON file wgan writes: the strings "nan", "inf", "-inf" (strict
JSON), read back as floats by wgan.io.read_json."""

from __future__ import annotations

import json
import math

import pytest

from wgan.io import read_json, read_jsonl, write_json
from wgan.rundir import json_line


def _strict(text: str):
    def refuse(token: str):
        raise ValueError(f"non-strict JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_summary_files_are_strict_json_and_read_back_as_floats(tmp_path):
    obj = {"w1": math.inf, "nested": {"fid": math.nan, "list": [1.0, -math.inf]}, "name": "nan-free", "n": 3}
    write_json(tmp_path / "summary.json", obj)
    raw = _strict((tmp_path / "summary.json").read_text())
    assert raw["w1"] == "inf" and raw["nested"]["fid"] == "nan" and raw["nested"]["list"] == [1.0, "-inf"]
    back = read_json(tmp_path / "summary.json")
    assert back["w1"] == math.inf and math.isnan(back["nested"]["fid"]) and back["nested"]["list"] == [1.0, -math.inf]
    assert back["name"] == "nan-free" and back["n"] == 3


def test_metrics_lines_use_the_same_encoding(tmp_path):
    (tmp_path / "metrics.jsonl").write_text(json_line({"step": 1, "loss/critic": math.nan, "eval/w1": math.inf}))
    (row,) = read_jsonl(tmp_path / "metrics.jsonl")
    assert row == {"step": 1, "loss/critic": "nan", "eval/w1": "inf"}
    _strict((tmp_path / "metrics.jsonl").read_text())


def test_python_default_would_not_be_strict():
    """The control: json.dumps' default writes a bare Infinity, which the strict reader refuses."""
    with pytest.raises(ValueError, match="non-strict"):
        _strict(json.dumps({"w1": math.inf}))

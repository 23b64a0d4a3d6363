"""The Python blocks of docs/api.md and the README run as written, in order, at tiny sizes.

What is shrunk, and nothing else: ``Config.demo()`` gets width-8 networks, batch 64, 200 evaluation points and
20 steps; every ``"train.steps=N"`` becomes 20 and a ``steps=N`` of ``Trainer.resume`` becomes 30 (still above
the steps done); repository paths are made absolute. So a renamed function, a changed signature or a summary
key the docs print that no longer exists fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def _shrink(code: str) -> str:
    code = code.replace("Config.demo()", "_tiny(Config.demo())")
    code = re.sub(r'"train\.steps=\d+"', '"train.steps=20"', code)
    code = re.sub(r"Trainer\.resume\(([^()]*), steps=\d+\)", r"Trainer.resume(\1, steps=30)", code)
    return code.replace('"configs/', f'"{ROOT}/configs/')


def _tiny(cfg):
    from wgan.config import apply_sets

    return apply_sets(cfg, ["generator.width=8", "critic.width=8", "data.batch_size=64", "eval.n_samples=200",
                            "train.steps=20", "train.eval_every=20", "train.sample_every=20",
                            "train.checkpoint_every=20", "train.device=cpu"])


BLOCKS = [("docs/api.md", i, b) for i, b in enumerate(_python_blocks(ROOT / "docs" / "api.md"))] + [
    ("README.md", i, b) for i, b in enumerate(_python_blocks(ROOT / "README.md"))]


def test_docs_have_the_examples_the_api_page_promises():
    assert len([b for b in BLOCKS if b[0] == "docs/api.md"]) >= 6
    assert any("Config.demo()" in b for src, _, b in BLOCKS if src == "README.md")  # the README starts from the demo
    code = "".join(b for _, _, b in BLOCKS)
    for call in ("Trainer.resume(", ".generate(", "dataclasses.replace", "apply_sets(", "Ensemble(",
                 "run_experiment("):
        assert call in code, call


def test_docs_python_blocks_run(tmp_path, monkeypatch, capsys):
    import torch

    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for source, i, code in BLOCKS:  # in order: the loading example uses the run the first one trained
            try:
                exec(compile(_shrink(code), f"{source} python block {i + 1}", "exec"), {"_tiny": _tiny})
            except Exception as e:  # name the block, keep the traceback
                pytest.fail(f"{source}, python block {i + 1} failed: {type(e).__name__}: {e}")
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "W1 " in out and "[" in out  # the summaries and a reproduction's verdicts were printed

"""train.tensorboard: metrics, sample pictures and the config in RUN/tensorboard/, read back with TensorBoard's
own event reader; without the package, a one-line refusal naming the extra."""

import json
import sys

import pytest

from wgan import Trainer
from wgan.errors import ConfigError
from wgan.resolve import resolve

from .helpers import tiny_config


def _events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_tensorboard_holds_every_metric_the_samples_and_the_config(tmp_path):
    pytest.importorskip("tensorboard")
    cfg = tiny_config("train.steps=20", "train.log_every=5", "train.sample_every=10", "train.eval_every=20",
                      "train.checkpoint_every=20", "train.tensorboard=true")
    Trainer(cfg).fit(tmp_path)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [5, 10, 15, 20]
    acc = _events(tmp_path / "tensorboard")
    tags = acc.Tags()
    scalar_keys = {k for r in records for k, v in r.items() if k != "step" and isinstance(v, (int, float))}
    assert "loss/critic" in scalar_keys and "eval/w1" in scalar_keys
    assert scalar_keys <= set(tags["scalars"])
    for key in scalar_keys:  # every value at its step, as in metrics.jsonl (TensorBoard stores float32)
        logged = {e.step: e.value for e in acc.Scalars(key)}
        want = {r["step"]: r[key] for r in records if key in r}
        assert set(logged) == set(want), key
        for step, value in want.items():
            assert logged[step] == pytest.approx(value, rel=1e-6, abs=1e-30), (key, step)
    images = acc.Images("samples")  # the toy plots of steps 10 and 20, as PNGs
    assert [im.step for im in images] == [10, 20]
    assert images[0].width > 100 and images[0].height > 100
    assert images[0].encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n"
    config = acc.Tensors("config/text_summary")
    assert len(config) == 1 and b'"tensorboard": true' in config[0].tensor_proto.string_val[0]


def test_tensorboard_text_samples(tmp_path):
    pytest.importorskip("tensorboard")
    from wgan.rundir import TensorBoardSink

    sample = tmp_path / "step-0000003.txt"
    sample.write_text("to be or not\nthat is\n")
    sink = TensorBoardSink(tmp_path / "tb", {"config": {}}, step=0)
    sink.samples(3, sample)
    sink.close()
    text = _events(tmp_path / "tb").Tensors("samples/text_summary")
    assert [t.step for t in text] == [3] and b"that is" in text[0].tensor_proto.string_val[0]


def test_without_tensorboard_the_refusal_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # `import tensorboard` now raises ImportError
    with pytest.raises(ConfigError) as err:
        resolve(tiny_config("train.tensorboard=true"))
    message = str(err.value)
    assert "\n" not in message and 'pip install -e ".[tensorboard]"' in message
    resolve(tiny_config("train.tensorboard=false"))  # off: the package is not needed


def test_import_wgan_does_not_import_tensorboard():
    import subprocess

    code = "import sys, wgan, wgan.training.trainer, wgan.rundir; print('tensorboard' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""The run directory: where a run's files live and how they are written and read back.

```
runs/00007-8gaussians-wgan-gp/
  config.json        resolved config, library version, seed, device (run_info)
  metrics.jsonl      one JSON object per logged step (JsonlSink)
  checkpoints/       latest.pt (+ step-NNNNNNN.pt with train.keep_checkpoints), written atomically
  samples/           sample grids / toy plots (the data kind's save_samples)
  summary.json       final measured figures
```

A checkpoint holds the whole run state (:func:`trainer_state`): networks, optimisers, lr schedules, loss
scalers, the EMA generator, every random stream and the running means since the last record, so a resumed
run is bit-identical to an uninterrupted one. Files are replaced atomically (:func:`wgan.io.atomic_write`):
a crash leaves the previous complete file. Metrics go through sinks (``write(record)``, ``close()``) so
other sinks can sit beside metrics.jsonl.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import torch

from . import __version__
from . import distributed as dist
from .errors import ConfigError
from .io import atomic_write, load_tensors, read_jsonl, write_json

if TYPE_CHECKING:
    from .train import Trainer

CHECKPOINT_FORMAT = 3  # 3: lr schedulers, loss scalers, generator EMA, validation stream, per-rank RNG states
LATEST = "latest.pt"


# ---------------------------------------------------------------------- the directory
def create_run_dir(root: str | Path, data_name: str, objective: str) -> Path:
    """A new numbered run directory ``root/NNNNN-data-objective``; existing runs are never reused."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    slug = f"{Path(data_name).stem}-{objective}".replace(" ", "_")
    while True:
        numbers = [int(p.name[:5]) for p in root.iterdir() if p.name[:5].isdigit()]
        path = root / f"{max(numbers, default=-1) + 1:05d}-{slug}"
        try:
            path.mkdir()
            return path
        except FileExistsError:  # another process took that number: try the next one
            continue


def run_title(cfg) -> str:
    """``data / objective`` for figure titles, with a file or folder as its name alone (not a long path)."""
    return f"{Path(cfg.data.name).stem} / {cfg.objective.name}"


def gradnorm_place(cfg) -> tuple[str, bool]:
    """Where ``gradnorm/*`` is measured, for the curves' title, and whether the run's penalty pulls it to 1."""
    o = cfg.objective
    if o.penalty in ("gp", "lp"):
        return "at real-fake interpolates (the penalty's points)", True
    if o.penalty == "dragan":
        return "around the data (the DRAGAN penalty's points)", True
    how = "weights clipped, no penalty" if o.clip else "no penalty"
    return f"at real-fake interpolates (measured only: {how})", False


def run_info(tr: Trainer) -> dict[str, Any]:
    """The contents of ``config.json``."""
    return {"config": tr.cfg.to_dict(), "version": __version__, "seed": tr.cfg.train.seed,
            "device": str(tr.device), "torch": torch.__version__}


def start_run(run_dir: Path, tr: Trainer) -> None:
    """Before training into ``run_dir``: refuse to start a new run over an old one, write ``config.json`` and
    drop metrics records logged after the checkpoint a resumed run continues from."""
    if tr.step == 0 and any((run_dir / f).exists() for f in ("metrics.jsonl", f"checkpoints/{LATEST}")):
        raise ConfigError(f"{str(run_dir)!r} already holds a run; continue it with Trainer.resume (wgan train "
                          "--resume) or train into a new directory")
    write_json(run_dir / "config.json", run_info(tr))
    truncate_metrics(run_dir / "metrics.jsonl", tr.step)


# ---------------------------------------------------------------------- metrics sinks
class MetricsSink(Protocol):
    """Where metrics records go: ``write`` once per record (``{"step": s, "loss/critic": ..., ...}``)."""

    def write(self, record: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class JsonlSink:
    """``metrics.jsonl``: one JSON object per record, appended and flushed at once (a reader sees every
    complete record; a crash can tear only the last line, which :func:`wgan.io.read_jsonl` drops)."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "a")

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json_line(record))
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def open_sinks(run_dir: Path) -> list[MetricsSink]:
    """The metrics sinks of a run writing into ``run_dir``."""
    return [JsonlSink(run_dir / "metrics.jsonl")]


def json_line(record: dict[str, Any]) -> str:
    """One metrics record as a line of JSON; non-finite floats as strings (``"nan"``, ``"inf"``)."""
    return json.dumps({k: (v if not (isinstance(v, float) and not math.isfinite(v)) else str(v))
                       for k, v in record.items()}) + "\n"


def truncate_metrics(path: Path, step: int) -> None:
    """Drop records past ``step`` (logged after the checkpoint a run resumes from), atomically."""
    if not path.exists():
        return
    rows = read_jsonl(path)
    kept = [r for r in rows if r.get("step", 0) <= step]
    if len(kept) != len(rows) or path.read_text().count("\n") != len(rows):
        data = "".join(json_line(r) for r in kept).encode()
        atomic_write(path, lambda f: f.write(data))


# ---------------------------------------------------------------------- checkpoints
def _local_state(tr: Trainer) -> dict[str, Any]:
    """What differs between ranks: the random streams and the running means since the last record."""
    return {
        "rng": {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "data": tr.data_rng.get_state(),
            "noise": tr.noise_rng.get_state(),
            "diag": tr.diag_rng.get_state(),
            "val": tr.val_rng.get_state(),
        },
        "pending": tr.meters.state_dict(),
    }


def trainer_state(tr: Trainer) -> dict[str, Any]:
    """The whole run state. Under torchrun every rank must call it (it gathers every rank's streams)."""
    ranks = dist.gather_objects(_local_state(tr))
    return {
        "format": CHECKPOINT_FORMAT,
        "version": __version__,
        "config": tr.cfg.to_dict(),
        "step": tr.step,
        "elapsed_s": tr.elapsed_s,
        "generator": tr.G.state_dict(),
        "critic": tr.D.state_dict(),
        "opt_g": tr.opt_g.state_dict() if tr.opt_g is not None else None,
        "opt_d": tr.opt_d.state_dict(),
        **ranks[0],  # "rng", "pending" of rank 0 (of the only process in a single-process run)
        "ranks": ranks if len(ranks) > 1 else [],  # every rank's, in rank order, under torchrun
        "schedulers": [s.state_dict() for s in tr.schedulers],
        "scalers": {"critic": tr.scaler_d.state_dict(), "generator": tr.scaler_g.state_dict()},
        "ema": tr.G_ema.state_dict() if tr.G_ema is not None else None,
        "tricks": tr.tricks.state_dict(),  # historical-averaging means
    }


def load_trainer_state(tr: Trainer, state: dict[str, Any]) -> None:
    """Put ``state`` (from :func:`trainer_state`) into a Trainer built from the same config. A state that does
    not fit (networks of another shape, missing parts: a file edited or from another run) is a one-line
    ConfigError, and the trainer must then be discarded."""
    try:
        _load_trainer_state(tr, state)
    except (RuntimeError, KeyError, IndexError, ValueError, TypeError, AttributeError) as e:
        what = f"no {e}" if isinstance(e, KeyError) else (str(e).splitlines() or [""])[0].rstrip(":. ")
        detail = next((ln.strip() for ln in str(e).splitlines()[1:] if ln.strip()), "")
        detail = f"; {detail[:160]}" if detail else ""
        raise ConfigError(f"the checkpoint does not fit the run its config describes ({type(e).__name__}: {what}"
                          f"{detail}): it was edited or written by another run") from None


def _load_trainer_state(tr: Trainer, state: dict[str, Any]) -> None:
    tr.G.load_state_dict(state["generator"])
    tr.D.load_state_dict(state["critic"])
    if tr.opt_g is not None:
        tr.opt_g.load_state_dict(state["opt_g"])
    tr.opt_d.load_state_dict(state["opt_d"])
    for s, saved in zip(tr.schedulers, state["schedulers"], strict=True):
        s.load_state_dict(saved)
    tr.scaler_d.load_state_dict(state["scalers"]["critic"])
    tr.scaler_g.load_state_dict(state["scalers"]["generator"])
    if tr.G_ema is not None:
        tr.G_ema.load_state_dict(state["ema"])
    local, written_by = state, max(1, len(state["ranks"]))
    tr._resumed_by_other_world = written_by if written_by != tr.world else None  # warned by fit()
    if written_by == tr.world > 1:
        local = state["ranks"][tr.rank]
    rng = local["rng"]
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    tr.data_rng.set_state(rng["data"])
    tr.noise_rng.set_state(rng["noise"])
    tr.diag_rng.set_state(rng["diag"])
    tr.val_rng.set_state(rng["val"])
    tr.meters.load_state_dict(local["pending"], tr.device)
    tr.tricks.load_state_dict(state.get("tricks", {}))
    tr.step = int(state["step"])
    tr.elapsed_s = float(state["elapsed_s"])
    tr._eval_cache.pop("result", None)


def save_checkpoint(run_dir: str | Path, state: dict[str, Any], keep: bool = False) -> Path:
    """Write ``state`` to ``checkpoints/latest.pt`` atomically; with ``keep`` also to
    ``checkpoints/step-NNNNNNN.pt``. Returns the path of latest.pt."""
    folder = Path(run_dir) / "checkpoints"
    buf = io.BytesIO()
    torch.save(state, buf)
    if keep:
        atomic_write(folder / f"step-{state['step']:07d}.pt", lambda f: f.write(buf.getbuffer()))
    atomic_write(folder / LATEST, lambda f: f.write(buf.getbuffer()))
    return folder / LATEST


def load_checkpoint(run_dir: str | Path) -> dict[str, Any]:
    """The state in ``run_dir/checkpoints/latest.pt`` (tensors only: ``weights_only=True``)."""
    path = Path(run_dir) / "checkpoints" / LATEST
    if not path.is_file():
        raise ConfigError(f"no checkpoint at {str(path)!r}: is {str(run_dir)!r} a run directory made by "
                          "`wgan train`?")
    state = load_tensors(path, "checkpoint")  # weights_only; a damaged or foreign file: one line
    if not isinstance(state, dict):
        raise ConfigError(f"{str(path)!r} holds a {type(state).__name__}, not a wgan checkpoint (a dict of the run's "
                          "state written by `wgan train`)")
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(f"{str(path)!r} has checkpoint format {state.get('format')}, this wgan reads "
                          f"{CHECKPOINT_FORMAT}")
    missing = [k for k in ("config", "step", "generator", "critic") if k not in state]
    if missing:
        raise ConfigError(f"{str(path)!r} is not a complete wgan checkpoint: it lacks {', '.join(map(repr, missing))}")
    if not isinstance(state["config"], dict) or not isinstance(state["step"], int) or state["step"] < 0:
        raise ConfigError(f"{str(path)!r} is not a wgan checkpoint: its 'config' must be a dict and its 'step' a "
                          f"count, got {type(state['config']).__name__} and {state['step']!r}")
    bad = [name for name in ("generator", "critic", "ema") if not _all_finite(state.get(name))]
    if bad:
        raise ConfigError(f"{str(path)!r} holds non-finite (NaN/inf) {' and '.join(bad)} weights: the run diverged "
                          "before this checkpoint was written; use an earlier checkpoint (checkpoints/step-*.pt) "
                          "or train a new run with a lower optim.lr")
    return state


def _all_finite(obj: Any) -> bool:
    """Every floating-point tensor in a (nested) state dict is finite."""
    if isinstance(obj, torch.Tensor):
        return not obj.is_floating_point() or bool(torch.isfinite(obj).all())
    if isinstance(obj, dict):
        return all(_all_finite(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_all_finite(v) for v in obj)
    return True

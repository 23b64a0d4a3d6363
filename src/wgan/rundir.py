"""The run directory: where a run's files live and how they are written and read back.

```
runs/00007-8gaussians-wgan-gp/
  config.json        resolved config, library version, seed, device (run_info)
  metrics.jsonl      one JSON object per logged step (JsonlSink)
  checkpoints/       latest.pt (+ step-NNNNNNN.pt with train.keep_checkpoints), written atomically
  samples/           sample grids / toy plots (the data kind's save_samples)
  tensorboard/       with train.tensorboard: the same metrics, samples and config for TensorBoard
  summary.json       final measured figures
```

Here: the numbering of run directories, the run lock, leftovers of killed writers, the metrics sinks and the
checkpoint file (its checksummed envelope; what the state inside holds is :mod:`wgan.training.state`'s). Files
are replaced atomically (:func:`wgan.io.atomic_write`): a crash leaves the previous complete file. Metrics go
through sinks (``write(record)``, ``close()``) so other sinks can sit beside metrics.jsonl.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
from pathlib import Path
from typing import Any, Protocol

import torch

from . import __version__
from .errors import ConfigError
from .io import atomic_write, dumps, load_tensors, read_jsonl, write_json

CHECKPOINT_FORMAT = 3  # 3: lr schedulers, loss scalers, generator EMA, validation stream, per-rank RNG states
LATEST = "latest.pt"
LOCK = ".lock"  # the run lock's file (RunLock)
ENVELOPE = 1  # the checkpoint file around the state: {"wgan_checkpoint", "sha256", "payload"} (save_checkpoint)


# ---------------------------------------------------------------------- the directory
def create_run_dir(root: str | Path, data_name: str, objective: str) -> Path:
    """A new numbered run directory ``root/NNNNN-data-objective``; existing runs are never reused."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    slug = f"{Path(data_name).stem}-{objective}".replace(" ", "_")
    # the number is taken under a lock on the runs root: two processes starting runs of different data at once
    # would otherwise both pick the next number (mkdir of two different names both succeed)
    import fcntl

    fd = os.open(root, os.O_RDONLY)  # a flock on the root folder itself: no lock file among the runs
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        numbers = [int(p.name[:5]) for p in root.iterdir() if p.name[:5].isdigit()]
        path = root / f"{max(numbers, default=-1) + 1:05d}-{slug}"
        path.mkdir()
        return path
    finally:
        os.close(fd)  # releases the flock


def run_info(cfg: Any, device: torch.device) -> dict[str, Any]:
    """The contents of ``config.json`` for a run of the resolved config ``cfg`` on ``device``."""
    return {"config": cfg.to_dict(), "version": __version__, "seed": cfg.train.seed,
            "device": str(device), "torch": torch.__version__}


def start_run(run_dir: Path, info: dict[str, Any], step: int) -> None:
    """Before training into ``run_dir`` from ``step``: refuse to start a new run over an old one, write
    ``config.json`` (``info``: :func:`run_info`) and drop metrics records logged after the checkpoint a resumed
    run continues from."""
    if step == 0 and any((run_dir / f).exists() for f in ("metrics.jsonl", f"checkpoints/{LATEST}")):
        raise ConfigError(f"{str(run_dir)!r} already holds a run; continue it with Trainer.resume (wgan train "
                          "--resume) or train into a new directory")
    remove_stale_tmp(run_dir)
    write_json(run_dir / "config.json", info)
    truncate_metrics(run_dir / "metrics.jsonl", step)


# ---------------------------------------------------------------------- the run lock, leftovers
class RunLock:
    """An exclusive lock on a run directory while a process trains into it: ``RUN/.lock`` holds the PID of the
    holder, and the lock itself is an ``fcntl.flock`` on that file. The kernel drops a flock when its process
    dies, so the lock of a killed run is stale by construction and the next process takes it over (the dead PID
    is kept in ``took_over_from``); a live holder makes :meth:`acquire` refuse in one line naming its PID.
    The file is left in place on release (emptied): unlinking a flock file races with a process that opened it."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK
        self._fd: int | None = None
        self.took_over_from: int | None = None

    def acquire(self) -> RunLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ConfigError(f"run {str(self.path.parent)!r} is in use: wgan process {holder} is training into it; "
                              "wait for it to finish (or stop it), then resume") from None
        previous = os.read(fd, 64).decode(errors="replace").strip()
        self.took_over_from = int(previous) if previous.isdigit() and int(previous) != os.getpid() else None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        import fcntl

        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def remove_stale_tmp(run_dir: Path) -> list[Path]:
    """Delete the temporary files a killed writer left (``.NAME.*.tmp`` from :func:`wgan.io.atomic_write`) for the
    files a training process writes: everything in ``checkpoints/`` and ``samples/``, and config.json,
    metrics.jsonl, summary.json, curves.png. Call it holding the run lock: then no live process is writing them
    (``wgan eval``'s eval.json is not touched). Returns what was removed."""
    names = ("config.json", "metrics.jsonl", "summary.json", "curves.png")
    found = [p for p in Path(run_dir).glob(".*.tmp") if any(p.name.startswith(f".{n}.") for n in names)]
    for sub in ("checkpoints", "samples"):
        found += list((Path(run_dir) / sub).glob(".*.tmp"))
    for p in found:
        p.unlink(missing_ok=True)
    return found


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


TENSORBOARD_EXTRA = 'pip install -e ".[tensorboard]"'


def require_tensorboard() -> None:
    """Refuse ``train.tensorboard = true`` in one line when the tensorboard package is missing (imported here
    only, never at ``import wgan``)."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise ConfigError(f"train.tensorboard = true needs the tensorboard package: {TENSORBOARD_EXTRA} "
                          "(or set train.tensorboard = false)") from None


class TensorBoardSink:
    """``RUN/tensorboard/``: every scalar of every record at its step, the resolved config once (text), and
    each sample file the data kind writes (:meth:`samples`: a PNG as an image, a text file as text). Uses
    ``torch.utils.tensorboard.SummaryWriter``; flushed after each record so a live ``tensorboard --logdir``
    sees it at once. A resumed run (``step > 0``) purges the events logged after its checkpoint, as
    :func:`truncate_metrics` does for metrics.jsonl."""

    def __init__(self, path: Path, info: dict[str, Any], step: int = 0) -> None:
        require_tensorboard()
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(log_dir=str(path), purge_step=step + 1 if step > 0 else None)
        self._writer.add_text("config", "```json\n" + dumps(info, indent=2) + "\n```",
                              global_step=step)
        self._writer.flush()

    def write(self, record: dict[str, Any]) -> None:
        step = int(record["step"])
        for key, value in record.items():
            if key != "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                self._writer.add_scalar(key, float(value), global_step=step)
        self._writer.flush()

    def samples(self, step: int, path: Path) -> None:
        """The sample file ``path`` written at ``step``: ``.png`` as image ``samples``, ``.txt`` as text."""
        if path.suffix == ".png":
            import numpy as np
            from PIL import Image

            with Image.open(path) as im:
                pixels = np.asarray(im.convert("RGB"))
            self._writer.add_image("samples", pixels, global_step=step, dataformats="HWC")
        elif path.suffix == ".txt":  # four spaces: markdown shows the lines verbatim
            self._writer.add_text("samples", "".join("    " + line + "\n" for line in
                                                     path.read_text().splitlines()), global_step=step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def open_sinks(run_dir: Path, tensorboard: dict[str, Any] | None = None, step: int = 0) -> list[MetricsSink]:
    """The metrics sinks of a run writing into ``run_dir`` from ``step``: metrics.jsonl, and TensorBoard
    (``train.tensorboard``) when ``tensorboard`` gives the run's :func:`run_info` to show there."""
    sinks: list[MetricsSink] = [JsonlSink(run_dir / "metrics.jsonl")]
    if tensorboard is not None:
        try:
            sinks.append(TensorBoardSink(run_dir / "tensorboard", tensorboard, step))
        except BaseException:
            sinks[0].close()
            raise
    return sinks


def sample_files(folder: Path, step: int) -> list[Path]:
    """The sample files the data kind wrote into ``folder`` at ``step`` (``step-NNNNNNN.<ext>``)."""
    return sorted(folder.glob(f"step-{step:07d}.*")) if folder.is_dir() else []


def json_line(record: dict[str, Any]) -> str:
    """One metrics record as a line of JSON; non-finite floats as strings (``"nan"``, ``"inf"``: wgan.io.dumps)."""
    return dumps(record) + "\n"


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
def save_checkpoint(run_dir: str | Path, state: dict[str, Any], keep: bool = False) -> Path:
    """Write ``state`` to ``checkpoints/latest.pt`` atomically; with ``keep`` also to
    ``checkpoints/step-NNNNNNN.pt``. Returns the path of latest.pt.

    The file is an envelope ``{"wgan_checkpoint": 1, "sha256": hex, "payload": uint8 tensor}`` around the
    serialised state, so the checksum is written atomically with what it covers and verified on load (torch's
    zip format checks no CRC: a flipped byte in a tensor would otherwise load silently). On a full disk the
    previous checkpoint stays, and the error says so."""
    folder = Path(run_dir) / "checkpoints"
    buf = io.BytesIO()
    torch.save(state, buf)
    payload = buf.getvalue()
    envelope = io.BytesIO()
    torch.save({"wgan_checkpoint": ENVELOPE, "sha256": hashlib.sha256(payload).hexdigest(),
                "payload": torch.frombuffer(bytearray(payload), dtype=torch.uint8)}, envelope)
    targets = ([folder / f"step-{state['step']:07d}.pt"] if keep else []) + [folder / LATEST]
    for path in targets:
        try:
            atomic_write(path, lambda f: f.write(envelope.getbuffer()))
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            kept = f"the previous {path.name} is intact" if path.exists() else f"no {path.name} was written"
            raise CheckpointWriteError(f"disk full while writing checkpoint {str(path)!r} ({e.strerror}): {kept}; "
                                       "free space, then resume with wgan train --resume") from None
    return folder / LATEST


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (a full disk); the message says what survived."""

    def __str__(self) -> str:
        return str(self.args[0])


def _unwrap(path: Path, obj: Any) -> Any:
    """The state inside a checkpoint envelope, its checksum verified; a file without an envelope (written
    before checksums) is returned as it is."""
    if not (isinstance(obj, dict) and "wgan_checkpoint" in obj):
        return obj
    payload = obj.get("payload")
    if obj.get("wgan_checkpoint") != ENVELOPE or not isinstance(payload, torch.Tensor) or payload.dtype != torch.uint8:
        raise ConfigError(f"{str(path)!r} is not a checkpoint this wgan reads (envelope "
                          f"{obj.get('wgan_checkpoint')!r}); it is damaged or from another version")
    data = payload.numpy().tobytes()
    if hashlib.sha256(data).hexdigest() != obj.get("sha256"):
        raise ConfigError(f"checkpoint {str(path)!r} is damaged: its contents do not match the sha256 written with "
                          "it (a changed byte); use an earlier checkpoint (checkpoints/step-*.pt) or retrain")
    # the checksum held, so what remains to refuse is a payload torch cannot read back or one asking for code
    return load_tensors(io.BytesIO(data), "checkpoint", name=path)


def load_checkpoint(run_dir: str | Path) -> dict[str, Any]:
    """The state in ``run_dir/checkpoints/latest.pt`` (tensors only: ``weights_only=True``)."""
    path = Path(run_dir) / "checkpoints" / LATEST
    if not path.is_file():
        raise ConfigError(f"no checkpoint at {str(path)!r}: is {str(run_dir)!r} a run directory made by "
                          "`wgan train`?")
    state = _unwrap(path, load_tensors(path, "checkpoint"))  # weights_only; damaged or foreign: one line
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

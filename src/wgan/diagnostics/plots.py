"""Figures drawn from arrays and metric records. Uses matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..io import atomic_write  # noqa: E402

if TYPE_CHECKING:
    from ..stats import Summary


def save_figure(fig, path: str | Path) -> None:
    """Write a matplotlib figure as PNG atomically (a reader never sees half a file) and close it."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write(path, lambda f: f.write(buf.getbuffer()))


def plot_toy(real, fake, surface: np.ndarray | None, extent, path: str | Path, title: str = "") -> None:
    """Data (orange) and generated (blue) points over the critic's value surface in grey, as in WGAN-GP
    Fig. 1a; the legend sits below the axes so that it never covers a mode."""
    real, fake = np.asarray(real), np.asarray(fake)
    fig, ax = plt.subplots(figsize=(5, 5.4), layout="constrained")
    if surface is not None:
        n = surface.shape[0]
        xs, ys = np.linspace(extent[0], extent[1], n), np.linspace(extent[2], extent[3], n)
        cs = ax.contourf(xs, ys, surface, levels=20, cmap="Greys", alpha=0.9)
        fig.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label="critic value D(x)")
    # data as larger discs under the generated points, so that both stay visible where they coincide
    ax.scatter(real[:, 0], real[:, 1], s=18, c="tab:orange", edgecolors="none", label=f"data ({len(real)})")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c="tab:blue", edgecolors="none", label=f"generated ({len(fake)})")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    legend = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8, frameon=False)
    for handle in legend.legend_handles:  # one marker size in the legend, whatever the sizes in the plot
        handle.set_sizes([30])
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)


def _series(records: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    pts = [(r["step"], float(r[key])) for r in records if key in r]
    if not pts:
        return np.array([]), np.array([])
    s, v = zip(*pts, strict=True)
    return np.array(s), np.array(v)


def _lines(ax, records: list[dict], keys: list[tuple[str, str]]) -> None:
    """One line per logged ``(key, label)``; keys never logged are left out."""
    for key, label in keys:
        s, v = _series(records, key)
        if len(s):
            ax.plot(s, v, label=label, lw=1)


def _has(records: list[dict], key: str) -> bool:
    return any(key in r for r in records)


# image metrics (wgan.kinds.image_runs: eval/<family><count>_<network>) -> (panel title, y label, lower is better;
# None: closest to the real images' value is best)
_IMAGE_METRICS = {"fid": ("FID", "FID", True), "kid": ("KID", "KID", True), "is": ("Inception-style score", "IS",
                                                                                   False),
                  "msssim": ("MS-SSIM of random pairs (diversity)", "MS-SSIM", None),
                  "w": ("independent critic's W estimate", "E f(real) - E f(fake)", True),
                  "modes": ("Stacked MNIST modes hit", "modes", False)}


def _image_metric_keys(records: list[dict]) -> list[str]:
    """The logged image metrics (``eval/fid2k_classifier``, ...), without their ``*_real`` references."""
    import re

    keys = sorted({k for r in records for k in r if k.startswith("eval/") and not k.endswith("_real")})
    pattern = r"eval/(fid|kid|is|msssim|w|modes)\d+k?_(classifier|inception|pairs|indep_critic|stacked_classifier)"
    return [k for k in keys if re.fullmatch(pattern, k)]


def run_title(cfg: Any) -> str:
    """``data / objective`` for figure titles, with a file or folder as its name alone (not a long path)."""
    return f"{Path(cfg.data.name).stem} / {cfg.objective.name}"


def gradnorm_place(cfg: Any) -> tuple[str, bool]:
    """Where ``gradnorm/*`` is measured, for the curves' title, and whether the run's penalty pulls it to 1
    (r1 / r2 pull it to 0)."""
    from ..penalties import REGISTRY

    o = cfg.objective
    if o.penalty in REGISTRY:
        kind = REGISTRY[o.penalty]
        return kind.where, kind.target == 1.0
    how = "weights clipped, no penalty" if o.clip else "no penalty"
    return f"at real-fake interpolates (measured only: {how})", False


def plot_curves(records: list[dict], path: str | Path, title: str = "", gradnorm_at: str = "",
                unit_target: bool = True) -> None:
    """One panel per logged family, each with labelled axes: the losses and the critic's estimate; the critic
    loss on training batches vs held-out data (WGAN-GP Fig. 5b, when logged); the run's quality measure (exact W1
    against its data-vs-data floor for points, n-gram JS for text, each image metric with its real-data value);
    the critic's input-gradient norm (``gradnorm_at`` says where it is measured; ``unit_target`` draws the norm 1
    that a gp/lp penalty aims at)."""
    panels: list[tuple[str, Any]] = [("losses", None)]
    if _has(records, "loss/critic_val"):
        panels.append(("held-out", None))
    if _has(records, "eval/w1"):
        panels.append(("w1", None))
    if _has(records, "eval/js1"):
        panels.append(("js", None))
    panels += [("image", k) for k in _image_metric_keys(records)[:4]]
    if _has(records, "gradnorm/mean"):
        panels.append(("gradnorm", None))
    cols = 2 if len(panels) == 4 else min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), layout="constrained", squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (kind, key) in zip(list(axes.flat)[:len(panels)], panels, strict=True):
        ax.set_xlabel("generator step")
        if kind == "losses":
            _lines(ax, records, [(k, k) for k in ("loss/critic", "loss/generator", "critic/w_estimate",
                                                  "critic/js_estimate")])
            ax.set_title("losses and the critic's estimate", fontsize=10)
            ax.set_ylabel("loss / estimate")
        elif kind == "held-out":
            _lines(ax, records, [("loss/critic", "training batches"), ("loss/critic_trainset", "training images, "
                                 "fixed draw"), ("loss/critic_val", "held-out images")])
            ax.set_title("critic loss: training vs held-out", fontsize=10)
            ax.set_ylabel("critic loss (lower: D separates better)")
        elif kind == "w1":
            s, v = _series(records, "eval/w1")
            ax.plot(s, v, "o-", ms=3, label="exact W1, generated vs data")
            vf = _series(records, "eval/w1_floor")[1]
            if len(vf) and np.isfinite(vf[-1]):
                ax.axhline(vf[-1], color="gray", ls="--", label=f"data-vs-data floor {vf[-1]:.3f}")
            shown = np.concatenate([np.asarray(v, float), np.asarray(vf[-1:], float)])
            log = bool(len(shown)) and bool(np.all(np.isfinite(shown) & (shown > 0)))  # a zero floor or W1: linear
            if log:
                ax.set_yscale("log")
            ax.set_title("exact W1 to the data", fontsize=10)
            ax.set_ylabel("W1 (log scale)" if log else "W1")
        elif kind == "js":
            for n in range(1, 5):  # text runs (wgan.kinds.text_runs): n-gram JS in bits, validation baseline dashed
                s, v = _series(records, f"eval/js{n}")
                if len(s):
                    line = ax.plot(s, v, "o-", ms=3, label=f"{n}-gram")[0]
                    base = _series(records, f"eval/js{n}_val")[1]
                    if len(base):
                        ax.axhline(base[-1], color=line.get_color(), ls="--", lw=1)
            ax.set_title("n-gram JS to the corpus (dashed: held-out lines)", fontsize=10)
            ax.set_ylabel("Jensen-Shannon divergence (bits)")
        elif kind == "image":
            name = key.split("/", 1)[1]
            family = next(f for f in sorted(_IMAGE_METRICS, key=len, reverse=True) if name.startswith(f))
            panel_title, ylabel, lower = _IMAGE_METRICS[family]
            s, v = _series(records, key)
            ax.plot(s, v, "o-", ms=3, label=name)
            real = _series(records, key + "_real")[1]
            if len(real):
                ax.axhline(real[-1], color="gray", ls="--", label=f"real images {real[-1]:.3g}")
            better = {True: "lower is better", False: "higher is better", None: "real images: dashed"}[lower]
            ax.set_title(f"{panel_title}, {better}", fontsize=10)
            ax.set_ylabel(ylabel)
        else:
            _lines(ax, records, [(f"gradnorm/{k}", k) for k in ("min", "mean", "max")])
            if unit_target:
                ax.axhline(1.0, color="gray", ls=":", lw=1, label="1 (the penalty's target)")
            ax.set_title("critic input-gradient norm" + (f"\n{gradnorm_at}" if gradnorm_at else ""), fontsize=10)
            ax.set_ylabel("||grad_x D(x)||")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    save_figure(fig, path)


def plot_points(points, path: str | Path, title: str = "") -> None:
    pts = np.asarray(points)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(pts[:, 0], pts[:, 1], s=4, c="lime", edgecolors="none")
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)


def plot_sweep(x: Sequence[float], curves: dict[str, Sequence[Summary]], path: str | Path, *, xlabel: str,
               ylabel: str, title: str = "", logx: bool = False, logy: bool = True,
               reference: float | None = None, reference_label: str = "random init",
               center: Literal["median", "mean"] = "median") -> None:
    """A metric against a swept hyperparameter: per curve the median over seeds with the central 95% of the
    seeds shaded, or (``center="mean"``) the mean with its 95% interval shaded (on a log axis from at least a
    tenth of the mean: a normal interval of a skewed mean can reach below 0); ``reference`` draws a
    horizontal dashed line (e.g. a random generator's distance)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = np.asarray(x, dtype=float)
    for name, summaries in curves.items():
        if center == "mean":
            med = np.array([s.mean for s in summaries])
            lo = np.array([s.mean_lo for s in summaries])
            hi = np.array([s.mean_hi for s in summaries])
            if logy:  # a normal interval of a skewed mean can reach below 0: drawn from a tenth of the mean
                lo = np.maximum(lo, 0.1 * med)
        else:
            med = np.array([s.median for s in summaries])
            lo = np.array([s.lo for s in summaries])
            hi = np.array([s.hi for s in summaries])
        (line,) = ax.plot(xs, med, marker="o", ms=3, lw=1.3, label=name)
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.15, lw=0)
    if reference is not None:
        ax.axhline(reference, color="k", ls="--", lw=1, label=reference_label)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save_figure(fig, path)

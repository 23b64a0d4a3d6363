"""Figures drawn from arrays and metric records. Uses matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..io import atomic_write  # noqa: E402


def save_figure(fig, path: str | Path) -> None:
    """Write a matplotlib figure as PNG atomically (a reader never sees half a file) and close it."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write(path, lambda f: f.write(buf.getbuffer()))


def plot_toy(real, fake, surface: np.ndarray | None, extent, path: str | Path, title: str = "") -> None:
    """Real (orange) and generated (green) points over the critic's contour, as in WGAN-GP Fig. 1a."""
    real, fake = np.asarray(real), np.asarray(fake)
    fig, ax = plt.subplots(figsize=(5, 5))
    if surface is not None:
        n = surface.shape[0]
        xs, ys = np.linspace(extent[0], extent[1], n), np.linspace(extent[2], extent[3], n)
        cs = ax.contourf(xs, ys, surface, levels=20, cmap="viridis", alpha=0.8)
        fig.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label="critic value")
    ax.scatter(real[:, 0], real[:, 1], s=4, c="orange", label="data")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c="lime", edgecolors="none", label="generated")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)


def _series(records: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    pts = [(r["step"], float(r[key])) for r in records if key in r]
    if not pts:
        return np.array([]), np.array([])
    s, v = zip(*pts, strict=True)
    return np.array(s), np.array(v)


def plot_curves(records: list[dict], path: str | Path, title: str = "") -> None:
    """Critic loss and divergence estimate, exact W1 against its floor, and gradient norms over training."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    ax = axes[0]
    for key in ("loss/critic", "loss/generator", "critic/w_estimate", "critic/js_estimate"):
        s, v = _series(records, key)
        if len(s):
            ax.plot(s, v, label=key, lw=1)
    ax.set_xlabel("generator step")
    ax.set_title("losses and critic estimate")
    ax.legend(fontsize=7)
    ax = axes[1]
    s, v = _series(records, "eval/w1")
    if len(s):
        ax.plot(s, v, "o-", label="exact W1 (2k vs 2k)")
        sf, vf = _series(records, "eval/w1_floor")
        ax.axhline(vf[-1], color="gray", ls="--", label=f"data-vs-data floor {vf[-1]:.3f}")
        ax.set_yscale("log")
    ax.set_title("exact W1 to data")
    for n in range(1, 5):  # text runs (wgan.kinds.text): n-gram JS in bits, validation baseline dashed
        s, v = _series(records, f"eval/js{n}")
        if len(s):
            line = ax.plot(s, v, "o-", ms=3, label=f"{n}-gram JS")[0]
            ax.axhline(_series(records, f"eval/js{n}_val")[1][-1], color=line.get_color(), ls="--", lw=1)
            ax.set_title("n-gram JS (bits) to the corpus; dashed: validation lines")
    ax.set_xlabel("generator step")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    ax = axes[2]
    for key in ("gradnorm/min", "gradnorm/mean", "gradnorm/max"):
        s, v = _series(records, key)
        if len(s):
            ax.plot(s, v, label=key, lw=1)
    ax.axhline(1.0, color="gray", ls=":", lw=1)
    ax.set_xlabel("generator step")
    ax.set_title("critic gradient norm at interpolates")
    ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path)


def plot_points(points, path: str | Path, title: str = "") -> None:
    pts = np.asarray(points)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(pts[:, 0], pts[:, 1], s=4, c="lime", edgecolors="none")
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    save_figure(fig, path)

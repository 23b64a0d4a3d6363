"""``simultaneous-gradients``: training dynamics of the simplest two-player game (From GAN to WGAN, Weng 2019,
Fig. 3; the example is Goodfellow's NIPS 2016 tutorial sec. 8.2 / Salimans et al. 2016 sec. 3.1).

Player x minimises V(x, y) = x y, player y maximises it; the unique equilibrium is (0, 0).

* *Simultaneous* gradient steps with learning rate eta, (x, y) <- (x - eta y, y + eta x), multiply the
  state by [[1, -eta], [eta, 1]] = sqrt(1 + eta^2) * rotation: the radius grows by exactly
  sqrt(1 + eta^2) per step, an outward spiral.
* *Alternating* steps, x <- x - eta y then y <- y + eta x (the new x), have a map of determinant 1 that
  conserves Q(x, y) = x^2 + y^2 - eta x y, so the orbit is a closed ellipse and the radius stays within
  sqrt(Q0 / (1 - eta / 2)) (the smallest eigenvalue of Q's matrix is 1 - eta / 2).

The gradients come from autograd on V and the steps from ``torch.optim.SGD`` (``maximize=True`` for y), as in
a GAN's training loop.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ..diagnostics.plots import plt, save_figure
from . import Context, Result, register
from ._budget import steps
from ._claims import ClaimSpec
from ._protocol import Row, not_applicable

Schedule = Literal["simultaneous", "alternating"]


def play_xy(schedule: Schedule, steps: int, eta: float = 0.1, x0: float = 1.0, y0: float = 1.0) -> np.ndarray:
    """Gradient play on V = x y; returns the trajectory ``(steps + 1, 2)`` in float64."""
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(y0, dtype=torch.float64, requires_grad=True)
    opt_x = torch.optim.SGD([x], lr=eta)  # minimises V
    opt_y = torch.optim.SGD([y], lr=eta, maximize=True)  # maximises V
    traj = [(x0, y0)]
    for _ in range(steps):
        if schedule == "simultaneous":
            opt_x.zero_grad()
            opt_y.zero_grad()
            (x * y).backward()  # both gradients at the same (x, y)
            opt_x.step()
            opt_y.step()
        elif schedule == "alternating":
            opt_x.zero_grad()
            (x * y).backward(inputs=[x])
            opt_x.step()
            opt_y.zero_grad()
            (x * y).backward(inputs=[y])  # y sees the updated x
            opt_y.step()
        else:
            raise ValueError(f"unknown schedule {schedule!r}; choose simultaneous or alternating")
        traj.append((float(x.detach()), float(y.detach())))
    return np.array(traj)


def simultaneous_table(ctx: Context) -> list[Row]:
    n = steps(ctx, quick=100, cpu=1000, paper=1000)
    return [
        Row("data", "n/a: the game V(x, y) = x y from (1, 1)", "Weng 2019 Fig. 3; Goodfellow 2016 tutorial sec. 8.2",
            "the same", ""),
        Row("nets", "two scalars x, y", "Weng 2019 Fig. 3", "the same (float64)", ""),
        *not_applicable("init", "objective", "batch", "seeds", "eval_mode", why="a deterministic two-scalar game"),
        Row("optimiser", "plain gradient steps", "Weng 2019 Fig. 3", "torch.optim.SGD (maximize=True for y)", ""),
        Row("lr", "eta 0.1", "Weng 2019 Fig. 3", "0.1", ""),
        Row("betas", "n/a", "", "n/a", ""),
        Row("n_critic", "1: simultaneous steps (and, as a contrast, alternating)", "Weng 2019 Fig. 3",
            "1 step of each player per iteration, simultaneous and alternating", ""),
        Row("steps", "not stated", "Weng 2019 Fig. 3", str(n), ""),
        Row("statistic", "the trajectory", "Weng 2019 Fig. 3", "radius per step; Q = x^2 + y^2 - eta x y", ""),
        Row("criterion", "none (a figure)", "Weng 2019 Fig. 3",
            "identities (checks of the code): radius ratio = sqrt(1 + eta^2)^steps within 1e-9; alternating radius "
            "within the conserved-Q bound", ""),
    ]


SIM_SPIRALS = ClaimSpec(
    "simultaneous-spirals-out", "Weng", "With more iterations, the oscillation grows more and more unstable.",
    "'Hard to achieve Nash equilibrium', Fig. 3 (caption)",
    "radius after the steps / initial radius == sqrt(1 + eta^2)^steps (relative error < 1e-9), and the radius "
    "increases at every step", decide=lambda m: bool(m["relative_error"] < 1e-9 and m["monotone"]), kind="identity",
    statement="simultaneous gradient steps move away from the equilibrium: the radius grows every step")
ALT_BOUNDED = ClaimSpec(
    "alternating-bounded", "Weng", "", "'Hard to achieve Nash equilibrium' (our contrast: Weng does not discuss "
    "alternating steps)",
    "max over the steps of radius / initial radius <= sqrt(Q0 / (1 - eta/2)) / r0 (Q = x^2 + y^2 - eta x y is "
    "conserved)", decide=lambda m: bool(m["max_radius_ratio"] <= m["bound"] + 1e-9), kind="identity", ours=True,
    statement="alternating steps do not diverge the same way: the orbit stays bounded")


@register("simultaneous-gradients", paper="From GAN to WGAN (Weng 2019)", figure="Fig. 3",
          claim="on V(x, y) = x y, simultaneous gradient steps (eta 0.1) spiral outward from the equilibrium "
                "(alternating steps, our contrast, stay on a bounded orbit)", table=simultaneous_table,
          claims=(SIM_SPIRALS, ALT_BOUNDED))
def simultaneous_gradients(ctx: Context) -> Result:
    eta, x0, y0 = 0.1, 1.0, 1.0
    n = steps(ctx, quick=100, cpu=1000, paper=1000)
    sim = play_xy("simultaneous", n, eta, x0, y0)  # (n + 1, 2)
    alt = play_xy("alternating", n, eta, x0, y0)
    r_sim, r_alt = np.linalg.norm(sim, axis=1), np.linalg.norm(alt, axis=1)  # (n + 1,)
    r0 = math.hypot(x0, y0)
    predicted = (1 + eta**2) ** (n / 2)
    measured = float(r_sim[-1] / r0)
    rel = abs(measured / predicted - 1)
    bound = math.sqrt((x0**2 + y0**2 - eta * x0 * y0) / (1 - eta / 2)) / r0
    alt_max = float(r_alt.max() / r0)
    q = alt[:, 0] ** 2 + alt[:, 1] ** 2 - eta * alt[:, 0] * alt[:, 1]
    fig_name = "simultaneous-gradients.png"
    _plot(sim, alt, eta, ctx.out / fig_name)
    claims = [
        SIM_SPIRALS.judge({"radius_ratio": measured, "predicted": predicted, "relative_error": rel,
                           "monotone": bool(np.all(np.diff(r_sim) > 0))}),
        ALT_BOUNDED.judge({"max_radius_ratio": alt_max, "bound": bound, "final_radius_ratio": float(r_alt[-1] / r0),
                           "q_drift": float(np.abs(q - q[0]).max())}),
    ]
    protocol = {"game": "V(x, y) = x y, x minimises, y maximises", "eta": eta, "start": [x0, y0], "steps": n,
                "optimiser": "torch.optim.SGD (maximize=True for y), float64", "seeds": "deterministic",
                "deviations": "none"}
    every = max(1, n // 200)
    data = {"radius_simultaneous": r_sim[::every].tolist(), "radius_alternating": r_alt[::every].tolist(),
            "record_every": every}
    return Result(claims, protocol, [fig_name], data)


def _plot(sim: np.ndarray, alt: np.ndarray, eta: float, path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    n = min(len(sim), 101)
    for ax, traj, title in ((axes[0], sim[:n], "simultaneous"), (axes[1], alt[:n], "alternating")):
        ax.plot(traj[:, 0], traj[:, 1], "-", lw=1)
        ax.plot(traj[0, 0], traj[0, 1], "go", label="start")
        ax.plot(0, 0, "k*", label="equilibrium")
        ax.set_aspect("equal")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"{title} steps, eta {eta}, first {n - 1} steps", fontsize=9)
        ax.legend(fontsize=7)
    ax = axes[2]
    steps = np.arange(len(sim))
    ax.semilogy(steps, np.linalg.norm(sim, axis=1), label="simultaneous")
    ax.semilogy(steps, np.linalg.norm(alt, axis=1), label="alternating")
    ax.semilogy(steps, np.linalg.norm(sim[0]) * (1 + eta**2) ** (steps / 2), "k:", label="sqrt(1 + eta^2)^t")
    ax.set_xlabel("step")
    ax.set_title("distance from the equilibrium")
    ax.legend(fontsize=7)
    save_figure(fig, path)

"""``better-critic-gradients``: WGAN (Arjovsky, Chintala, Bottou 2017) sec. 4.4, "the better the critic, the higher
quality the gradients we use to train the generator".

On toy data the optimal critic is known exactly: between a fixed set of generated points ``G_theta(z_i)`` and a
fixed set of data points ``x_j`` (8 Gaussians, equal weights), POT's exact solver (``ot.emd``) gives the dual
potentials ``u`` (generated side) and ``v`` (data side); the optimal critic is ``f* = -u`` on the generated points,
tight (``u_i + v_j = ||g_i - x_j||``) on the plan's matched pairs, so it rises at slope 1 from ``g_i`` towards its
matched data point ``x_j*`` -- the generator gradient the optimal critic gives is
``(1/n) sum_i J_i^T (g_i - x_j*) / ||g_i - x_j*||`` = the gradient of the exact W1 with respect to theta (POT's
dual is degenerate: other pairs are tight too, so the direction is taken from the plan, not from an argmin).

A WGAN critic (clipping 0.01, RMSProp 5e-5, batches of m = 64 drawn from the two fixed sets: Algorithm 1) is
trained k steps for k on a grid; at each k we measure the critic's quality -- the share of the optimal dual value it
attains at its own Lipschitz scale, ``(E f(real) - E f(fake)) / (L * W1)`` with ``L`` the largest gradient norm of
the critic over the data, the generated points and interpolates between them (for discrete sets the optimal
potential's values are not unique, its dual value is) -- and the quality of the generator gradient it gives (cosine
with the exact one). A WGAN-GP critic is measured beside (ours).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.spatial.distance import cdist
from scipy.stats import spearmanr

from ..data import make_sampler
from ..nets import MLP
from ..objectives import Objective
from ..penalties import Penalty, clip_weights_
from . import Context, Result, _budget, register
from ._claims import ClaimSpec, Gate, gate_from, mean_interval, too_few_seeds
from ._common import one_thread
from ._protocol import Row
from ._wgan_stability import MAIN, WGAN

GRID = (0, 1, 5, 25, 100, 500, 2000, 10_000)  # critic steps at which to measure (cut at the budget's largest)
MIN_SEEDS, CRITIC_IMPROVES, IDENT_COS = 3, 0.2, 0.999


# ---------------------------------------------------------------------------------------------- the exact side
def optimal_directions(fake: np.ndarray, real: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """POT's exact W1 between the point sets ``fake`` (n, d) and ``real`` (n, d) (equal sizes and weights, so the
    optimal plan is a matching): the unit gradient of the optimal potential at each fake point (n, d) -- from the
    fake point's matched data point, where the potential ``-u`` rises at slope 1 --, the potentials on the fake
    (-u) and real (v) points, W1, and the share of fake points whose c-transform minimiser ``argmin_j
    ||g_i - x_j|| - v_j`` is their matched point (1 up to ties)."""
    import ot

    a, b = np.full(len(fake), 1 / len(fake)), np.full(len(real), 1 / len(real))
    cost = cdist(fake.astype(np.float64), real.astype(np.float64))  # (n, m) Euclidean
    plan, log = ot.emd(a, b, cost, numItermax=10_000_000, log=True)
    u, v = np.asarray(log["u"]), np.asarray(log["v"])
    j = plan.argmax(axis=1)  # the matched data point of each fake point
    agree = float(np.mean(np.argmin(cost - v[None, :], axis=1) == j))
    diff = fake - real[j]  # (n, d)
    norm = np.linalg.norm(diff, axis=1, keepdims=True)
    return diff / np.maximum(norm, 1e-12), -u, v, float(a @ u + b @ v), agree


def _flat_grad(loss: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    grads = torch.autograd.grad(loss, params)
    return torch.cat([g.reshape(-1) for g in grads])


def exact_generator_gradient(gen: torch.nn.Module, z: torch.Tensor, directions: np.ndarray) -> torch.Tensor:
    """d W1 / d theta through the optimal potential: (1/n) sum_i J_i^T direction_i, flattened."""
    out = gen(z)  # (n, d)
    d = torch.as_tensor(directions, dtype=out.dtype)
    return _flat_grad((out * d).sum(dim=1).mean(), list(gen.parameters()))


def critic_generator_gradient(gen: torch.nn.Module, critic: torch.nn.Module, z: torch.Tensor) -> torch.Tensor:
    """The WGAN generator's gradient from ``critic``: d/d theta of -mean f(G(z)), flattened."""
    return _flat_grad(-critic(gen(z)).mean(), list(gen.parameters()))


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    na, nb = float(a.norm()), float(b.norm())
    return float(a @ b) / (na * nb) if na > 0 and nb > 0 else 0.0


def critic_quality(critic, real: torch.Tensor, fake: torch.Tensor, w1: float, probe: torch.Tensor) -> float:
    """The share of the optimal dual value W1 that ``critic`` attains at its own Lipschitz scale:
    ``(E f(real) - E f(fake)) / (L * W1)``, ``L`` the largest input-gradient norm of the critic over ``real``,
    ``fake`` and ``probe`` (interpolates): 1 for an optimal critic, 0 for a constant one, negative when reversed."""
    x = torch.cat([real, fake, probe]).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x)
    lip = float(grad.norm(dim=1).max())
    with torch.no_grad():
        value = float(critic(real).mean() - critic(fake).mean())
    return value / (lip * w1) if lip > 0 and w1 > 0 else 0.0


def rank_corr(x: list[float], y: list[float]) -> float:
    """Spearman rho (0 where a side does not vary)."""
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return 0.0
    return float(spearmanr(x, y).statistic)


# ---------------------------------------------------------------------------------------------- one seed
def measure_seed(seed: int, n: int, width: int, depth: int, batch: int, grid: list[int], arm: str) -> dict[str, Any]:
    """One seed: a fixed generator and point sets, one critic trained along ``grid``; quality and cosine at each k."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    sampler = make_sampler("8gaussians")
    real = sampler.sample(n, g).float()  # (n, 2), fixed
    gen = MLP(2, 2, depth=depth, width=width)  # the untrained toy generator: PyTorch default init
    z = torch.randn(n, 2, generator=g)
    with torch.no_grad():
        fake = gen(z)  # (n, 2), fixed (the generator is not trained)
    dirs, _, _, w1, agree = optimal_directions(fake.numpy(), real.numpy())
    exact = exact_generator_gradient(gen, z, dirs)
    critic = MLP(2, 1, depth=depth, width=width, squeeze=True)
    objective = Objective("wasserstein")
    if arm == "clip":
        opt: torch.optim.Optimizer = torch.optim.RMSprop(critic.parameters(), lr=5e-5)  # main.py:161
        clip_weights_(critic, 0.01)  # main.py clamps before every critic step (:185-186)
        penalty = None
    else:  # WGAN-GP Algorithm 1: Adam 1e-4 (0, 0.9), lambda 10
        opt = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.0, 0.9))
        penalty = Penalty("gp", 10.0)
    t = torch.rand(n, 1, generator=g)
    probe = t * real + (1 - t) * fake[torch.randperm(n, generator=g)]  # (n, 2) interpolates
    out: dict[str, Any] = {"seed": seed, "w1": w1, "c_transform_agrees": agree, "k": [], "cosine": [], "quality": [],
                           "estimate": []}
    done = 0
    for k in grid:
        while done < k:
            i, j = torch.randint(n, (batch,), generator=g), torch.randint(n, (batch,), generator=g)
            loss = objective.critic_loss(critic(real[i]), critic(fake[j]))
            if penalty is not None:
                pen, _ = penalty(critic, real[i], fake[j], g)
                loss = loss + penalty.weight * pen
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if arm == "clip":
                clip_weights_(critic, 0.01)
            done += 1
        with torch.no_grad():
            estimate = float(critic(real).mean() - critic(fake).mean())
        out["k"].append(k)
        out["quality"].append(critic_quality(critic, real, fake, w1, probe))
        out["estimate"].append(estimate)
        out["cosine"].append(cosine(critic_generator_gradient(gen, critic, z), exact))
    out["rho"] = rank_corr(out["quality"], out["cosine"])
    return out


def exact_gradient_check(seed: int = 0, n: int = 64) -> float:
    """Cosine between the potential-based generator gradient and autograd through POT's exact W1 (``ot.emd2`` on
    torch tensors): 1 up to float error (an identity of the code)."""
    import ot

    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    real = make_sampler("8gaussians").sample(n, g).double()
    gen = MLP(2, 2, depth=2, width=32).double()
    z = torch.randn(n, 2, generator=g, dtype=torch.float64)
    with torch.no_grad():
        fake = gen(z)
    dirs, *_ = optimal_directions(fake.numpy(), real.numpy())
    ours = exact_generator_gradient(gen, z, dirs)
    out = gen(z)
    cost = torch.cdist(out, real)
    a = torch.full((n,), 1 / n, dtype=torch.float64)
    w1 = ot.emd2(a, a.clone(), cost)
    return cosine(_flat_grad(w1, list(gen.parameters())), ours)


# ---------------------------------------------------------------------------------------------- claims
QUOTE = "The better the critic, the higher quality the gradients we use to train the generator."


def _decide(m: dict[str, Any]) -> bool:
    return m["rho_low"] > 0


def _gate(m: dict[str, Any]) -> Gate:
    short = too_few_seeds(m, MIN_SEEDS)
    if not m["quality_gain"] >= CRITIC_IMPROVES:
        short.append(f"training did not make the critic better: its quality (share of the exact W1) rose by "
                     f"{m['quality_gain']:.3f} from k = 0 to {m['k_max']} (not >= {CRITIC_IMPROVES:g})")
    return gate_from(short, f"--seeds {MIN_SEEDS} and more critic steps than {m['k_max']}")


def _m(rho_low: float, seeds: int = 5, gain: float = 0.6) -> dict[str, Any]:
    return {"seeds": seeds, "k_max": 2000, "rho_low": rho_low, "quality_gain": gain}


BETTER = ClaimSpec(
    "better-critic-better-gradients", "WGAN", QUOTE, "sec. 4.4",
    "the WGAN critic (clipping, RMSProp 5e-5, m = 64) along k critic steps: per seed, Spearman rho between the "
    "critic's quality (the share of POT's exact W1 its dual value attains at its own Lipschitz scale) and the "
    "quality of the generator gradient it gives (cosine with the exact W1 gradient); the lower end of the 95% "
    "interval of the mean rho over seeds above 0", decide=_decide, gate=_gate,
    adequacy=f"at least {MIN_SEEDS} seeds, and training improves the critic: its mean quality (share of the exact "
              f"W1) rises by >= {CRITIC_IMPROVES:g} from k = 0 to the largest k", trained=True,
    negative_control=lambda: _m(-0.3), positive_control=lambda: _m(0.6),
    positive_source="constructed: gradient cosine rising with the critic's quality in every seed; the paper gives "
                    "no numbers", inadequate_control=lambda: _m(0.6, gain=0.05))
IDENT = ClaimSpec(
    "optimal-potential-gradient", "WGAN",
    "\\nabla_\\theta W(\\mathbb{P}_r, \\mathbb{P}_\\theta) = -\\mathbb{E}_{z \\sim p(z)}[\\nabla_\\theta "
    "f_w(g_\\theta(z))]", "sec. 3 (the gradient of W through the optimal critic, after eq. (3))",
    f"the optimal critic's generator gradient from POT's dual potential equals autograd through POT's exact W1 "
    f"(ot.emd2 on torch tensors): cosine >= {IDENT_COS}", decide=lambda m: m["cosine"] >= IDENT_COS, kind="identity")
CURVES = ClaimSpec(
    "cosine-by-k", "WGAN", "", "sec. 4.4 (measured beside)",
    "mean over seeds of the gradient cosine and of the critic's quality at each k, for the clipped critic and (ours) "
    "a WGAN-GP critic (Adam 1e-4 (0, 0.9), lambda 10)", kind="descriptive")


def _setting(ctx: Context) -> dict[str, Any]:
    k_max = _budget.count(ctx, quick=25, cpu=2000, paper=10_000)
    return {"n": _budget.pick(ctx, quick=128, cpu=512, paper=512), "width": _budget.pick(ctx, quick=32, cpu=128,
            paper=512), "depth": 3, "batch": 64, "k_max": k_max,
            "grid": [k for k in GRID if k < k_max] + [k_max],
            "seeds": _budget.seeds(ctx, quick=1, cpu=5, paper=5)}


def better_critic_gradients_table(ctx: Context) -> list[Row]:
    s = _setting(ctx)
    bud = "CPU cost; --budget paper runs the paper's value"
    return [
        Row("data", "not an experiment of the paper (an argument of sec. 3 and 4.4)", "WGAN sec. 4.4",
            f"8 Gaussians: {s['n']} fixed data points and {s['n']} fixed points of an untrained generator",
            "toy data: the optimal critic is known exactly only there"),
        Row("nets", "MLP critic (--mlp_D) 3 hidden ReLU layers x 512", f"{MAIN}:45; models/mlp.py:42-51",
            f"MLP generator and critic, {s['depth']} hidden ReLU layers x {s['width']}", "" if s["width"] == 512
            else bud),
        Row("init", "PyTorch default for Linear layers", f"{MAIN}:108-114", "PyTorch default", ""),
        Row("objective", "WGAN critic, clipping c = 0.01", f"WGAN Algorithm 1; {MAIN}:40-41",
            "wasserstein critic loss, clip 0.01 before each step; beside it a WGAN-GP critic (lambda 10)",
            "the WGAN-GP critic is ours"),
        Row("optimiser", "RMSProp (PyTorch's)", f"{MAIN}:161", "torch.optim.RMSprop; WGAN-GP arm: Adam", ""),
        Row("lr", "5e-5", f"WGAN Algorithm 1; {MAIN}:33", "5e-5; WGAN-GP arm 1e-4", ""),
        Row("betas", "n/a (RMSProp)", f"{MAIN}:161", "WGAN-GP arm (0, 0.9)", ""),
        Row("n_critic", "5 per generator step (100 early and every 500th); 'train the critic till optimality'",
            f"WGAN Algorithm 1, sec. 3; {MAIN}:176-179", f"k = {', '.join(map(str, s['grid']))} critic steps "
            "against a fixed generator", "the claim is about k: measured along it" + ("" if s["k_max"] >= 10_000
                                                                                    else f"; largest k: {bud}")),
        Row("batch", "m = 64", f"WGAN Algorithm 1; {MAIN}:26", f"{s['batch']} drawn from the fixed sets", ""),
        Row("steps", "n/a (no generator training here)", "", "no generator step", ""),
        Row("seeds", "none", "", str(s["seeds"]), "issue 23: at least 3 for an interval"),
        Row("eval_mode", "n/a: no batch norm", "", "n/a", ""),
        Row("statistic", "none (an argument)", "WGAN sec. 4.4",
            "critic quality: (E f(real) - E f(fake)) / (L W1), L its largest gradient norm on the points and "
            "interpolates, W1 exact (POT); "
            "gradient quality: cosine between the critic's generator gradient and the exact W1 gradient",
            "the optimal critic is exact on toy data"),
        Row("criterion", "none", "WGAN sec. 4.4", "per seed Spearman rho(critic quality, gradient cosine) over k; "
            "the 95% interval of the mean over seeds above 0", "'the better ..., the higher ...': a rank relation"),
    ]


@register("better-critic-gradients", WGAN, "sec. 4.4 (the better the critic, the better the gradients; toy data)",
          "A critic trained closer to optimality gives generator gradients closer to the exact W1 gradient",
          table=better_critic_gradients_table, claims=(BETTER, IDENT, CURVES))
@one_thread
def better_critic_gradients(ctx: Context) -> Result:
    s = _setting(ctx)
    runs: dict[str, list[dict[str, Any]]] = {"clip": [], "gp": []}
    for arm, seed in ctx.track([(a, k) for a in runs for k in range(s["seeds"])], "critics",
                               lambda r: f"{r[0]}, seed {r[1]}"):
        runs[arm].append(measure_seed(seed, s["n"], s["width"], s["depth"], s["batch"], s["grid"], arm))
    clip = runs["clip"]
    rhos = [r["rho"] for r in clip]
    interval = mean_interval(rhos, "Spearman rho(critic quality, gradient cosine), clipped critic")
    gain = float(np.mean([r["quality"][-1] - r["quality"][0] for r in clip]))
    m = {"seeds": s["seeds"], "k_max": s["k_max"], "rho_mean": interval.estimate, "rho_low": interval.low,
         "quality_gain": gain, "cosine_k0": float(np.mean([r["cosine"][0] for r in clip])),
         "cosine_k_max": float(np.mean([r["cosine"][-1] for r in clip]))}
    c1 = BETTER.judge(m, interval=interval)
    c2 = IDENT.judge({"cosine": exact_gradient_check()})
    curves = {f"{arm}/{key}_k{k}": float(np.mean([r[key][i] for r in rs]))
              for arm, rs in runs.items() for key in ("cosine", "quality") for i, k in enumerate(s["grid"])}
    c3 = CURVES.judge(curves)
    fig = "better-critic-gradients.png"
    _plot(runs, s["grid"], ctx.out / fig)
    return Result([c1, c2, c3], {"setting": s}, [fig], runs)


def _plot(runs: dict[str, list[dict[str, Any]]], grid: list[int], path: Path) -> None:
    import matplotlib.pyplot as plt

    from ..diagnostics.plots import save_figure

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    x = [max(k, 0.5) for k in grid]
    for arm, color in (("clip", "tab:orange"), ("gp", "tab:blue")):
        for r in runs[arm]:
            axes[0].plot(x, r["cosine"], "o-", ms=3, color=color, alpha=0.6)
            axes[1].plot(r["quality"], r["cosine"], "o", ms=3, color=color, alpha=0.6)
        axes[0].plot([], [], color=color, label={"clip": "WGAN (clipping)", "gp": "WGAN-GP (ours)"}[arm])
    axes[0].set_xscale("log")
    axes[0].set_xlabel("critic steps k (0 drawn at 0.5)")
    axes[0].set_ylabel("cosine(critic's generator gradient, exact W1 gradient)")
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("critic quality: (E f(real) - E f(fake)) / (L W1)")
    axes[1].set_ylabel("gradient cosine")
    fig.suptitle("WGAN sec. 4.4 on 8 Gaussians: the better the critic, the better the generator's gradient?",
                 fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)




"""``em-vs-js``: Wasserstein GAN (Arjovsky et al. 2017), Example 1 and Fig. 1.

Parallel lines P0 = (0, Z), P_theta = (theta, Z), Z ~ U[0, 1]. W = |theta| is continuous; JS (log 2), KL (+inf)
and TV (1) jump at theta = 0 and are flat elsewhere. Next to the closed forms, the estimates of a trained
WGAN-GP critic (E f(P0) - E f(P_theta)) and of a trained GAN discriminator (the JS lower bound log 2 - L/2 of
WGAN sec. 4.3, ``Objective.divergence_estimate``) at several theta, trained by the critic-only loop of
:mod:`._common`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..diagnostics.plots import plt, save_figure
from ..metrics.parallel_lines import (
    LOG2,
    parallel_lines_divergences,
    parallel_lines_js,
    parallel_lines_tv,
    parallel_lines_w1,
)
from ..nets import MLP
from ..objectives import Objective
from ..penalties import Penalty
from . import Context, Result, register
from ._budget import seeds, steps
from ._claims import ClaimSpec, Gate, gate_from, too_few_seeds
from ._common import SampleFn, one_thread, train_critic
from ._protocol import Row
from ._settled import SETTLED_SHARE, settling


@torch.no_grad()
def heldout_critic_loss(critic: nn.Module, objective: Objective, sample_real: SampleFn, sample_fake: SampleFn,
                        n: int, seed: int) -> float:
    """The critic loss on ``n`` fresh real and fake samples from a separate seed (an unbiased estimate of
    the trained critic's objective, not of the divergence's supremum)."""
    rng = torch.Generator().manual_seed(seed)
    return float(objective.critic_loss(critic(sample_real(n, rng)), critic(sample_fake(n, rng))))


def parallel_line(theta: float) -> SampleFn:
    """Sampler of P_theta = (theta, Z), Z ~ U[0, 1] (WGAN Example 1): ``(n, 2)``."""
    def sample(n: int, rng: torch.Generator) -> torch.Tensor:
        z = torch.rand(n, 1, generator=rng)  # (n, 1)
        return torch.cat([torch.full_like(z, theta), z], dim=1)  # (n, 2)

    return sample


# ---------------------------------------------------------------------------------------------- em-vs-js
W_ERR_MAX, W_RATIO_MAX, JS_ZERO_MAX, JS_RATIO_MIN = 0.1, 0.3, 0.1 * LOG2, 0.5


def critic_tracks_w(max_abs_error: float, ratio_small_over_big: float) -> bool:
    """The trained critic's W estimates are within 0.1 of |theta| and scale with it (small/big <= 0.3)."""
    return bool(max_abs_error <= W_ERR_MAX and ratio_small_over_big <= W_RATIO_MAX)


def js_estimate_jumps(js_at_0: float, ratio_small_over_big: float) -> bool:
    """The discriminator's JS estimate is ~0 at theta = 0 and near its plateau already at the smallest shift."""
    return bool(js_at_0 <= JS_ZERO_MAX and ratio_small_over_big >= JS_RATIO_MIN)


def _closed_form_estimates(kind: str, small: float = 0.1, big: float = 1.0, seeds: int = 3,
                           over: float = 0.0) -> dict[str, Any]:
    """The measured numbers an exact estimator would give: ``w`` estimates W = |theta|, ``js`` estimates JS (with
    ``seeds`` and the worst critic's settling ``over`` for the gate)."""
    f = parallel_lines_w1 if kind == "w" else parallel_lines_js
    est = {t: float(f(t)) for t in (0.0, small, big)}
    return {"max_abs_error": max(abs(v - abs(t)) for t, v in est.items()),
            "ratio_small_over_big": est[small] / est[big], "js_at_0": est[0.0],
            "js_ratio_small_over_big": est[small] / est[big], "seeds": seeds, "w_settle_over": over,
            "w_settle_worst": f"theta {big:g}, seed 0"}


# The critic-tracks-w gate, decided from the claim's meaning before rerunning (issue 23): the claim compares a
# trained critic's estimate with W, i.e. with the value of the OPTIMAL critic; a critic still moving at the end of
# training has not reached it, and its error says how far training got, not whether the trained critic tracks W.
# So every critic's held-out estimate (the same 4096 held-out samples each time) is measured at each tenth of its
# training, and it must have settled by the project's rule (._settled: the change between the last two tenths
# below 1% of the estimate or 1% of the way it travelled). theta = 0 is left out: there E f(P0) - E f(P_theta) = 0
# for EVERY critic, so there is nothing to converge to (its estimate is sampling noise of the held-out sets).
EM_MIN_SEEDS, EM_POINTS = 3, 10


def _em_gate(m: dict[str, Any]) -> Gate:
    short = too_few_seeds(m, EM_MIN_SEEDS)
    if not m["w_settle_over"] < 1:
        short.append(f"the critic's held-out estimate still moved between the last two tenths of training by "
                     f"{m['w_settle_over']:.3g} x what counts as settled ({SETTLED_SHARE:.0%} of the estimate or of "
                     f"the way it travelled; worst: {m['w_settle_worst']}): not trained to optimality")
    return gate_from(short, f"--seeds {EM_MIN_SEEDS} and more critic steps than "
                     f"{m.get('steps', '?')} (--steps; each theta's critics train for --steps updates)")


EM_CLOSED = ClaimSpec(
    "closed-forms", "WGAN",
    "converges to \\mathbb{P}_0 under the EM distance, but does not converge at all under either the JS, KL, "
    "reverse KL, or TV divergences", "sec. 2, Example 1, Fig. 1",
    "closed forms (wgan.metrics.parallel_lines) at theta = 1e-6: W < 1e-5 while JS = log 2, KL = inf, TV = 1",
    decide=lambda m: bool(m["w1"] < 1e-5 and m["js"] == LOG2 and m["kl"] == "inf" and m["tv"] == 1),
    kind="identity", statement="W(P0, P_theta) = |theta| -> 0 as theta -> 0, while JS = log 2, KL = +inf and TV = 1 "
                               "for every theta != 0")
EM_CRITIC = ClaimSpec(
    "critic-tracks-w", "WGAN", "", "sec. 2, Example 1 (our check on trained networks; the paper plots closed forms)",
    f"WGAN-GP critic's held-out E f(P0) - E f(P_theta): within {W_ERR_MAX:g} of |theta| at every theta, and "
    f"estimate(smallest |theta|) / estimate(largest) <= {W_RATIO_MAX:g}",
    decide=lambda m: critic_tracks_w(m["max_abs_error"], m["ratio_small_over_big"]), ours=True, trained=True,
    gate=_em_gate,
    adequacy=f"at least {EM_MIN_SEEDS} seeds, and every critic (each theta != 0, each seed) trained to optimality: "
             "its held-out estimate E f(P0) - E f(P_theta), measured on the same held-out samples at each tenth of "
             f"training, changed between the last two tenths by less than {SETTLED_SHARE:.0%} of the estimate or of "
             "the way it travelled (._settled); theta = 0 has no optimum to reach (the estimate is 0 for every "
             "critic)",
    negative_control=lambda: _closed_form_estimates("js"), positive_control=lambda: _closed_form_estimates("w"),
    positive_source="the closed form W = |theta| itself",
    inadequate_control=lambda: _closed_form_estimates("w", over=5.0))
EM_JS_JUMPS = ClaimSpec(
    "discriminator-js-jumps", "WGAN", "", "sec. 2, Example 1 (our check on trained networks)",
    f"held-out log 2 - L/2: <= 0.1 log 2 at theta = 0, and estimate(smallest |theta|) / estimate(largest) >= "
    f"{JS_RATIO_MIN:g}", decide=lambda m: js_estimate_jumps(m["js_at_0"], m["js_ratio_small_over_big"]), ours=True,
    adequacy="every run can decide it (as critic-tracks-w)",
    negative_control=lambda: _closed_form_estimates("w"), positive_control=lambda: _closed_form_estimates("js"),
    positive_source="the closed form JS itself")


def em_vs_js_table(ctx: Context) -> list[Row]:
    n_steps = steps(ctx, quick=300, cpu=1000, paper=1000)  # our addition: the paper trains no critic here
    n_seeds = seeds(ctx, quick=1, cpu=3, paper=3)
    return [
        Row("data", "P0 = (0, Z), P_theta = (theta, Z), Z ~ U[0, 1]", "WGAN Example 1",
            "the same, fresh samples each step; 4096 held-out samples for the estimates", ""),
        Row("nets", "none: closed forms only", "WGAN Example 1, Fig. 1",
            "our addition: critic and discriminator MLP 2 -> 2 x 64 ReLU -> 1", "the paper plots closed forms only"),
        Row("init", "n/a", "", "PyTorch default", "our addition"),
        Row("objective", "n/a", "", "critic: wasserstein + gradient penalty lambda 10; discriminator: minimax "
            "(logistic)", "GP (not clipping) so the critic's scale is W's (Lipschitz 1)"),
        Row("optimiser", "n/a", "", "torch.optim.Adam", "our addition"),
        Row("lr", "n/a", "", "1e-3", "our addition"),
        Row("betas", "n/a", "", "(0.5, 0.999)", "our addition"),
        Row("n_critic", "n/a", "", "n/a: the critic alone trains between two fixed distributions", ""),
        Row("batch", "n/a", "", "256", "our addition"),
        Row("steps", "n/a", "", f"{n_steps} critic steps per theta",
            "our addition; critic-tracks-w is INCONCLUSIVE when a critic's held-out estimate still moves between the "
            "last two tenths of training (._settled's rule)"),
        Row("seeds", "n/a", "", f"{n_seeds} (the estimates are means over seeds)", "our addition"),
        Row("eval_mode", "n/a", "", "n/a: no batch norm", ""),
        Row("statistic", "W, JS, KL, TV as functions of theta (closed forms)", "WGAN Example 1, Fig. 1",
            "the closed forms (wgan.metrics.parallel_lines) at theta = 1e-6; the critic's held-out E f(P0) - "
            "E f(P_theta) and the discriminator's log 2 - L / 2 at each theta", ""),
        Row("criterion", "none (a derivation)", "WGAN Example 1",
            f"closed forms: identity (a check of the code); critic within {W_ERR_MAX:g} of |theta| and small/big <= "
            f"{W_RATIO_MAX:g}, gated on {EM_MIN_SEEDS} seeds and every critic's estimate settled (theta != 0); "
            f"discriminator <= 0.1 log 2 at 0 and small/big >= {JS_RATIO_MIN:g}",
            "the closed-form JS fails the critic's criterion, the closed-form W the discriminator's (tests); issue 23: "
            "the convergence gate, since the claim is about a critic trained to its optimum"),
    ]


@register("em-vs-js", paper="Wasserstein GAN (Arjovsky et al. 2017)", figure="Example 1, Fig. 1",
          claim="for parallel lines at offset theta, W = |theta| is continuous and gives a gradient; JS, KL and TV "
                "jump at theta = 0 and are flat elsewhere; a trained critic tracks |theta|, a trained "
                "discriminator's JS estimate jumps", table=em_vs_js_table,
          claims=(EM_CLOSED, EM_CRITIC, EM_JS_JUMPS))
@one_thread
def em_vs_js(ctx: Context) -> Result:
    thetas = [0.0, 0.1, 1.0] if ctx.quick else [-1.0, -0.5, -0.25, -0.1, 0.0, 0.1, 0.25, 0.5, 1.0]
    n_steps = steps(ctx, quick=300, cpu=1000, paper=1000)  # our addition: the paper trains no critic here
    n_seeds = seeds(ctx, quick=1, cpu=3, paper=3)
    n_eval = 4096
    p0 = parallel_line(0.0)
    wgan, gan = Objective("wasserstein"), Objective("minimax")
    rows: list[dict[str, Any]] = []
    settle: list[tuple[float, str]] = []  # every critic's settling (theta != 0), worst first later
    every = max(1, n_steps // EM_POINTS)
    for theta in ctx.track(thetas, "critics per theta", lambda t: f"theta {t:g}"):
        w_est, js_est, w_curves = [], [], []
        for seed in range(n_seeds):
            pt = parallel_line(theta)
            torch.manual_seed(seed)
            critic = MLP(2, 1, depth=2, width=64, squeeze=True)
            curve: list[float] = []  # the held-out estimate (same held-out samples) at each tenth of training
            train_critic(critic, wgan, p0, pt, n_steps, lr=1e-3, penalty=Penalty("gp", 10.0), seed=seed,
                         callback=lambda _step, c=critic, pt=pt, seed=seed, curve=curve: curve.append(
                             -heldout_critic_loss(c, wgan, p0, pt, n_eval, seed=1000 + seed)), every=every)
            w_est.append(-heldout_critic_loss(critic, wgan, p0, pt, n_eval, seed=1000 + seed))
            w_curves.append(curve)
            if theta != 0 and len(curve) >= 2:
                settle.append((settling(curve, curve[-2], curve[-1]).over, f"theta {theta:g}, seed {seed}"))
            torch.manual_seed(seed)
            disc = MLP(2, 1, depth=2, width=64, squeeze=True)
            train_critic(disc, gan, p0, pt, n_steps, lr=1e-3, seed=seed)
            js_est.append(gan.divergence_estimate(heldout_critic_loss(disc, gan, p0, pt, n_eval, seed=1000 + seed)))
        rows.append({"theta": theta, **{k: float(v) for k, v in parallel_lines_divergences(theta).items()},
                     "w_critic": float(np.mean(w_est)), "js_discriminator": float(np.mean(js_est)),
                     "w_critic_per_seed": [float(v) for v in w_est], "w_critic_curves": w_curves})

    by_theta = {r["theta"]: r for r in rows}
    nonzero = sorted({abs(t) for t in thetas if t != 0})
    t_small, t_big = nonzero[0], nonzero[-1]

    def at(key: str, t: float) -> float:  # mean over +t and -t where both were measured
        return float(np.mean([by_theta[s][key] for s in (t, -t) if s in by_theta]))

    w_err = max(abs(r["w_critic"] - abs(r["theta"])) for r in rows)
    worst_theta = max(rows, key=lambda r: abs(r["w_critic"] - abs(r["theta"])))["theta"]
    worst_settle = max(settle) if settle else (float("inf"), "no critic at theta != 0 measured twice")
    w_ratio = at("w_critic", t_small) / at("w_critic", t_big)
    js_ratio = at("js_discriminator", t_small) / at("js_discriminator", t_big)
    js_zero = by_theta[0.0]["js_discriminator"]
    eps = 1e-6
    closed = parallel_lines_divergences(eps)
    fig_name = "em-vs-js.png"
    _plot_em_vs_js(rows, ctx.out / fig_name)
    claims = [
        EM_CLOSED.judge({"w1": closed["w1"], "js": closed["js"], "kl": str(closed["kl"]), "tv": closed["tv"]}),
        EM_CRITIC.judge({"seeds": n_seeds, "steps": n_steps, "max_abs_error": w_err, "worst_theta": worst_theta,
                         "ratio_small_over_big": w_ratio, "w_settle_over": worst_settle[0],
                         "w_settle_worst": worst_settle[1]}),
        EM_JS_JUMPS.judge({"js_at_0": js_zero, "js_at_small": at("js_discriminator", t_small),
                           "js_at_big": at("js_discriminator", t_big), "js_ratio_small_over_big": js_ratio}),
    ]
    protocol = {
        "thetas": thetas, "steps": n_steps, "seeds": n_seeds, "batch": 256, "heldout_samples": n_eval,
        "critic": "MLP 2 -> 2 x 64 ReLU -> 1, wasserstein critic_loss + 10 * gp, Adam 1e-3 betas (0.5, 0.999)",
        "discriminator": "same MLP, minimax (logistic) critic_loss, Adam 1e-3 betas (0.5, 0.999)",
        "estimates": "on held-out samples: W = -critic_loss; JS = Objective.divergence_estimate = log 2 - L/2",
        "gate": f"critic-tracks-w: each critic's held-out estimate at every tenth of training ({EM_POINTS} points, the "
                "same held-out samples); settled by ._settled's rule between the last two (theta != 0)",
        "deviations": "the paper plots the closed forms only; the trained estimates are our addition. The "
                      "gradient-penalty critic (not weight clipping) so that its scale is that of W (Lipschitz 1).",
    }
    return Result(claims, protocol, [fig_name], {"rows": rows})


def _plot_em_vs_js(rows: list[dict[str, Any]], path: Path) -> None:
    grid = np.linspace(-1, 1, 401)
    grid = np.sort(np.concatenate([grid, [0.0]]))
    th = np.array([r["theta"] for r in rows])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    ax = axes[0]
    ax.plot(grid, parallel_lines_w1(grid), color="tab:blue", label="W = |theta| (closed form)")
    ax.plot(th, [r["w_critic"] for r in rows], "o", color="tab:blue", mfc="none", label="trained WGAN-GP critic")
    ax.set_xlabel("theta")
    ax.set_title("earth mover (Wasserstein-1)")
    ax.legend(fontsize=8)
    ax = axes[1]
    nz = grid[grid != 0]
    for side, label in ((nz[nz < 0], False), (nz[nz > 0], True)):  # each side of the jump at 0
        ax.plot(side, parallel_lines_js(side), color="tab:red", label="JS (closed form)" if label else None)
        ax.plot(side, parallel_lines_tv(side), color="tab:green", ls="--", label="TV (closed form)" if label else None)
    ax.plot([0], [0], "o", color="tab:red", ms=5)  # JS = TV = 0 at theta = 0
    ax.plot(th, [r["js_discriminator"] for r in rows], "s", color="tab:red", mfc="none",
            label="trained discriminator, log 2 - L/2")
    ax.annotate("KL = +inf for theta != 0, 0 at theta = 0", xy=(0.02, 0.93), xycoords="axes fraction", fontsize=8)
    ax.axhline(LOG2, color="gray", ls=":", lw=1)
    ax.set_ylim(-0.05, 1.15)
    ax.set_xlabel("theta")
    ax.set_title("Jensen-Shannon, total variation, KL")
    ax.legend(fontsize=8, loc="center right")
    save_figure(fig, path)

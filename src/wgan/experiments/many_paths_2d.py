"""``many-paths-2d``: Many Paths to Equilibrium (Fedus et al. 2018) sec. 4.3, Figs. 3-4 -- the two-dimensional
pictures of the synthetic experiments' training: NS-GAN, GAN-GP and DRAGAN-NS, each at three points of training,
the generator's samples (red) over the data line (blue).

* Fig. 3: Experiment I (1-D latent) at 0, 10,000 and 20,000 steps; Fig. 4: Experiment II with "3 latent
  variables" at 0, 5,000 and 10,000 steps. "In two dimensions" is read as d = 2, where the picture is the whole
  space (no projection); the data, nets, k = 5 and Adam (0.5, 0.9) are :mod:`._many_paths`' (the sweeps').
* The captions make the claims: the model "converges upon the one dimensional synthetic data distribution"
  ("a single example of success is sufficient", Fig. 3), and in Fig. 4 "for poor initialization the
  non-saturating GAN suffers from mode collapse", which "adding a gradient penalty stabilizes". The paper draws
  one run; we train every model on the same :data:`DEFAULT_SEEDS` initialisations (one vectorised ensemble per
  model and figure, member i of every model starting from the same networks) and judge the captions on all of
  them, drawing one seed per figure.
* Converged: the member's final squared Fréchet distance to the data below 0.1 x its distance at
  initialisation (the same share as the sweeps' ``ns-gan-learns-the-manifold``). Mode collapse of a Gaussian
  generator: its total variance ``tr(W W^T)`` below 0.1 x the data's ``sigma^2 |W_r|^2`` at the end.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from . import Context, Result, _budget, register
from ._claims import ClaimSpec, Gate, count_interval, gate_from, too_few_seeds
from ._common import single_thread
from ._many_paths import PAPER_N_CRITIC, Setting, experiment_config, generator_gaussians, member_distances
from ._protocol import Row

MODELS = ("ns-gan", "gan-gp", "dragan-ns")
LABELS = {"ns-gan": "Non-saturating GAN", "gan-gp": "GAN-GP", "dragan-ns": "DRAGAN-NS"}
LR = 3e-3  # the sweeps' fixed learning rate (many-paths-exp1/2's d and k sweeps); the figures state none
CONVERGED, COLLAPSED, PLATEAU, TRAINED, MIN_SEEDS = 0.1, 0.1, 0.9, 0.5, 3
DEFAULT_SEEDS = 20
N_POINTS = 500  # points drawn per panel (data and model)


@dataclass(frozen=True)
class Figure:
    key: str  # "fig3" / "fig4"
    latent: int
    paper_steps: int  # the figure's last panel


FIG3, FIG4 = Figure("fig3", 1, 20_000), Figure("fig4", 3, 10_000)
DIM = 2


def _setting(fig: Figure) -> Setting:
    return Setting(dim=DIM, latent=fig.latent)


def fig_steps(ctx: Context, fig: Figure) -> int:
    """Generator steps to the figure's last panel: the paper's at ``--budget paper``, a tenth at ``cpu``."""
    return _budget.steps(ctx, quick=20, cpu=fig.paper_steps // 10, paper=fig.paper_steps)


def n_seeds(ctx: Context) -> int:
    return _budget.seeds(ctx, quick=3, cpu=DEFAULT_SEEDS, paper=DEFAULT_SEEDS)


def _record(e, sampler, steps: int, rec: dict[str, Any]) -> None:
    """One evaluation point of a figure's ensemble into ``rec``: every member's distance and total variance, and
    the generator parameters at the figure's three panels."""
    p = {k: v.detach().clone() for k, v in e.sampling_params.items()}
    with np.errstate(all="ignore"):
        rec["fd"].append(member_distances(e, sampler, params=p).tolist())
        _, covs = generator_gaussians(p)
        rec["total_var"].append(np.trace(covs, axis1=1, axis2=2).tolist())
    rec["at"].append(e.step)
    if e.step in (0, steps // 2, steps):
        rec["panels"][str(e.step)] = {k: v.tolist() for k, v in p.items()}


def train_figure(fig: Figure, steps: int, seeds: list[int]) -> dict[str, Any]:
    """Every model of one figure trained from the same initialisations: each member's distance and total variance
    at 20 evaluation points, and the generator parameters of every member at the figure's three panels."""
    from ..ensemble import Ensemble

    setting = _setting(fig)
    sampler = setting.sampler()
    every = max(1, steps // 20)
    out: dict[str, Any] = {"steps": steps, "paper_steps": fig.paper_steps, "eval_steps": [], "models": {}}
    for model in MODELS:
        t0 = time.perf_counter()
        ens = Ensemble(experiment_config(setting, model), seeds, sampler, lr=[LR] * len(seeds), rng="shared",
                       rng_seed=7919 + len(seeds))
        rec: dict[str, Any] = {"fd": [], "total_var": [], "panels": {}, "at": []}
        _record(ens, sampler, steps, rec)

        def maybe(e: Ensemble, rec: dict[str, Any] = rec) -> None:
            if e.step % every == 0 or e.step in (steps // 2, steps):
                _record(e, sampler, steps, rec)

        ens.fit(steps, callback=maybe, every=1)
        if ens.step not in rec["at"]:
            _record(ens, sampler, steps, rec)
        out["eval_steps"] = rec["at"]
        out["models"][model] = {"fd": rec["fd"], "total_var": rec["total_var"], "panels": rec["panels"],
                                "wall_s": time.perf_counter() - t0}
    mu_r, cov_r = sampler.gaussian()
    out["data_total_var"] = float(np.trace(cov_r))
    return out


# ------------------------------------------------------------------------------------------ statistics
def figure_measured(run: dict[str, Any], seeds: int) -> dict[str, Any]:
    """Per model: how many members converged and how many collapsed at the end, and whether the median distance
    was still falling over the last quarter of training (the convergence claims' gate)."""
    at = run["eval_steps"]
    late = min(range(len(at)), key=lambda i: abs(at[i] - 0.75 * at[-1]))
    m: dict[str, Any] = {"seeds": seeds, "steps": run["steps"], "paper_steps": run["paper_steps"]}
    for model, r in run["models"].items():
        fd, var = np.asarray(r["fd"], dtype=float), np.asarray(r["total_var"], dtype=float)
        init, final = fd[0], fd[-1]
        ok = np.isfinite(final)
        k = model.replace("-", "_")
        m[f"{k}_converged"] = int(np.sum(ok & (final < CONVERGED * init)))
        m[f"{k}_collapsed"] = int(np.sum(ok & (var[-1] < COLLAPSED * run["data_total_var"])))
        m[f"{k}_diverged"] = int(np.sum(~ok))
        med_late, med_end = float(np.nanmedian(fd[late])), float(np.nanmedian(fd[-1]))
        m[f"{k}_median_fd_end"] = med_end
        m[f"{k}_median_ratio_end"] = float(np.nanmedian(final / init))
        m[f"{k}_plateau"] = bool(med_end >= PLATEAU * med_late)  # < 10% better over the last quarter
    # seeds where NS-GAN collapsed: does each penalised model collapse on them too?
    collapsed = _collapsed_members(run)
    ns = set(collapsed["ns-gan"])
    for p in ("gan-gp", "dragan-ns"):
        m[f"{p.replace('-', '_')}_collapsed_where_ns_gan_did"] = len(ns & set(collapsed[p]))
    return m


def _collapsed_members(run: dict[str, Any]) -> dict[str, list[int]]:
    return {model: [i for i, v in enumerate(r["total_var"][-1])
                    if math.isfinite(v) and v < COLLAPSED * run["data_total_var"]]
            for model, r in run["models"].items()}


# ------------------------------------------------------------------------------------------ claims
def _converges(m: dict[str, Any]) -> bool:
    return all(m[f"{k}_converged"] >= 1 for k in ("ns_gan", "gan_gp", "dragan_ns"))


def _converge_gate(m: dict[str, Any]) -> Gate:
    short = too_few_seeds(m, MIN_SEEDS)
    for k in ("ns_gan", "gan_gp", "dragan_ns"):
        if m[f"{k}_converged"] > 0 or m["steps"] >= m["paper_steps"]:
            continue  # decided: it converged, or it had the paper's own steps
        name = k.replace("_", "-")
        if not m[f"{k}_plateau"]:
            short.append(f"{name} converged on no seed but its median distance was still falling (more than "
                         f"{1 - PLATEAU:.0%} over the last quarter of {m['steps']} steps)")
        elif not m[f"{k}_median_ratio_end"] < TRAINED:
            short.append(f"{name} converged on no seed and has hardly trained (median final / initial distance "
                         f"{m[f'{k}_median_ratio_end']:.2g}, not below {TRAINED:g}) in {m['steps']} steps")
    return gate_from(short, f"--seeds {MIN_SEEDS} or more and more steps (e.g. --steps "
                     f"{4 * m['steps']}; the paper's figure: --budget paper)")


def _fig_measured(**over: Any) -> dict[str, Any]:
    """Constructed numbers for the controls: 20 seeds, every model converging on most of them."""
    m: dict[str, Any] = {"seeds": 20, "steps": 2000, "paper_steps": 20_000}
    for k in ("ns_gan", "gan_gp", "dragan_ns"):
        m |= {f"{k}_converged": 15, f"{k}_collapsed": 0, f"{k}_diverged": 0, f"{k}_median_fd_end": 0.01,
              f"{k}_median_ratio_end": 0.01, f"{k}_plateau": True}
    m |= {"ns_gan_collapsed": 3, "gan_gp_collapsed_where_ns_gan_did": 0, "dragan_ns_collapsed_where_ns_gan_did": 0}
    return m | over


def _converge_spec(fig: Figure) -> ClaimSpec:
    if fig is FIG3:
        quote = ("Here the GAN model (red points) converges upon the one dimensional synthetic data distribution "
                 "(blue points).")
        extra = " (the caption adds: 'a single example of success is sufficient')"
    else:
        quote = ("Here the rank one GAN model (red points) converges upon the one dimensional synthetic data "
                 "distribution (blue points).")
        extra = ""
    num = fig.key[-1]
    return ClaimSpec(
        f"fig{num}-models-converge", "Many Paths", quote, f"sec. 4.3, Fig. {num}",
        f"NS-GAN, GAN-GP and DRAGAN-NS each converge on at least one seed{extra}: the final squared Fréchet distance "
        f"to the data below {CONVERGED:g} x the same member's distance at initialisation; the share of seeds that "
        "converge is reported with its interval",
        decide=_converges, gate=_converge_gate, trained=True,
        adequacy=f"at least {MIN_SEEDS} seeds, and a model that converged on no seed either had the figure's own "
                 f"steps or has trained and stopped improving (its median final / initial distance below {TRAINED:g}, "
                 f"and it fell by less than {1 - PLATEAU:.0%} over the last quarter of training)",
        negative_control=lambda: _fig_measured(ns_gan_converged=0, ns_gan_median_ratio_end=1.0),  # never converges
        positive_control=_fig_measured,
        positive_source=f"constructed: every model on the data line on most seeds, as Fig. {num}'s last panels "
                        "show; the paper gives the figure without numbers",
        inadequate_control=lambda: _fig_measured(ns_gan_converged=0, ns_gan_plateau=False))


def _collapse_decide(m: dict[str, Any]) -> bool:
    return m["ns_gan_collapsed"] >= 1 and all(
        m[f"{p}_collapsed_where_ns_gan_did"] < m["ns_gan_collapsed"] for p in ("gan_gp", "dragan_ns"))


def _collapse_gate(m: dict[str, Any]) -> Gate:
    short = too_few_seeds(m, MIN_SEEDS)
    if m["ns_gan_collapsed"] == 0:
        short.append(f"NS-GAN collapsed on none of the {m['seeds']} seeds: no 'poor initialization' was drawn")
    return gate_from(short, f"more seeds (e.g. --seeds {max(4 * m['seeds'], 20)}); the paper "
                     "does not say which initialisation is poor")


FIG3_CONVERGE, FIG4_CONVERGE = _converge_spec(FIG3), _converge_spec(FIG4)
FIG4_COLLAPSE = ClaimSpec(
    "fig4-penalty-prevents-collapse", "Many Paths",
    "We observe how for poor initialization the non-saturating GAN suffers from mode collapse. However, adding a "
    "gradient penalty stabilizes training.", "sec. 4.3, Fig. 4",
    f"on the same initialisations, NS-GAN ends collapsed (its total variance tr(W W^T) below {COLLAPSED:g} x the "
    "data's) on at least one seed, and GAN-GP and DRAGAN-NS each end collapsed on fewer of those seeds than NS-GAN",
    decide=_collapse_decide, gate=_collapse_gate, trained=True,
    adequacy=f"at least {MIN_SEEDS} seeds, and NS-GAN collapsed on at least one of them (the caption's 'poor "
             "initialization' was drawn; without one the run says nothing about what a penalty does to it)",
    negative_control=lambda: _fig_measured(gan_gp_collapsed_where_ns_gan_did=3),  # GAN-GP collapses on them too
    positive_control=_fig_measured,
    positive_source="constructed: NS-GAN collapsed on 3 of 20 seeds, the penalised models on none of them (the "
                    "caption's picture); the paper gives the figure without numbers",
    inadequate_control=lambda: _fig_measured(ns_gan_collapsed=0))


def _claims_for(m3: dict[str, Any], m4: dict[str, Any]) -> list:
    out = []
    for spec, m in ((FIG3_CONVERGE, m3), (FIG4_CONVERGE, m4)):
        n = m["seeds"]
        worst = min(("ns_gan", "gan_gp", "dragan_ns"), key=lambda k: m[f"{k}_converged"])
        out.append(spec.judge(m, interval=count_interval(
            m[f"{worst}_converged"], n, f"share of seeds on which {worst.replace('_', '-')} (the fewest) converged")))
    out.append(FIG4_COLLAPSE.judge(m4, interval=count_interval(
        m4["ns_gan_collapsed"], m4["seeds"], "share of seeds on which NS-GAN collapsed")))
    return out


# ------------------------------------------------------------------------------------------ figure
def _panel_points(params: dict[str, list], z: torch.Tensor) -> np.ndarray:
    w = torch.tensor(params["out.weight"], dtype=torch.float64)  # (d, g)
    b = torch.tensor(params["out.bias"], dtype=torch.float64)
    return (z[:, : w.shape[1]] @ w.T + b).numpy()


def plot_figure(run: dict[str, Any], fig: Figure, seed_index: int, path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sampler = _setting(fig).sampler()
    data = sampler.sample(N_POINTS, torch.Generator().manual_seed(1)).double().numpy()
    z = torch.randn(N_POINTS, max(1, fig.latent), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    steps = sorted(int(s) for s in run["models"]["ns-gan"]["panels"])
    figure, axes = plt.subplots(len(MODELS), len(steps), figsize=(3 * len(steps), 3 * len(MODELS)))
    for r, model in enumerate(MODELS):
        for c, step in enumerate(steps):
            p = run["models"][model]["panels"][str(step)]
            member = {k: v[seed_index] for k, v in p.items()}
            pts = _panel_points(member, z)
            ax = axes[r, c]
            ax.scatter(data[:, 0], data[:, 1], s=3, c="tab:blue", alpha=0.5)
            if np.isfinite(pts).all():
                ax.scatter(pts[:, 0], pts[:, 1], s=3, c="tab:red", alpha=0.5)
            ax.set_title(f"{LABELS[model]}, step {step}", fontsize=9)
            ax.set_aspect("equal", adjustable="datalim")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


# ------------------------------------------------------------------------------------------ protocol table
def table(ctx: Context) -> list[Row]:
    s3, s4, n = fig_steps(ctx, FIG3), fig_steps(ctx, FIG4), n_seeds(ctx)
    cpu = "" if (s3, s4) == (FIG3.paper_steps, FIG4.paper_steps) else "CPU cost; --budget paper runs the paper's value"
    return [
        Row("data", "a line in d dimensions (Eq. 11), pictured 'in two dimensions'", "Fedus et al. sec. 4.1, Figs. 3-4",
            f"LineData at d = {DIM}: sigma 1, W_r, b_r ~ N(0, 1) drawn once (seed 1234), as many-paths-exp1/2",
            "'in two dimensions' read as d = 2: the picture is the whole space, no projection"),
        Row("nets", "linear generator G(z) = z W + b, 1-D latent (Fig. 3) or '3 latent variables' (Fig. 4); "
            "discriminator one hidden ReLU layer", "Fedus et al. sec. 4.1-4.2, Fig. 4 caption",
            "the same: latent 1 (Fig. 3), 3 (Fig. 4); discriminator width 16 (as the sweeps)", "width not stated"),
        Row("init", "not stated", "", "PyTorch default; member i of every model from the same networks", ""),
        Row("objective", "NS-GAN, GAN-GP, DRAGAN-NS (lambda 10)", "Fedus et al. sec. 2.3, Figs. 3-4",
            "presets ns-gan, gan-gp, dragan-ns; lambda 10", ""),
        Row("n_critic", "5 discriminator updates per generator update", "Fedus et al. sec. 4.3",
            str(PAPER_N_CRITIC), ""),
        Row("optimiser", "Adam (stated for sec. 5)", "Fedus et al. sec. 5", "Adam (torch.optim's formula, stacked)",
            "sec. 4 names no optimiser: sec. 5's, as the sweeps"),
        Row("lr", "not stated for the figures", "", f"{LR:g} for both players", "the sweeps' fixed learning rate "
            "(many-paths-exp1/2's d and k sweeps), not tuned here"),
        Row("betas", "(0.5, 0.9)", "Fedus et al. sec. 5", "(0.5, 0.9)", ""),
        Row("batch", "not stated", "", "64", ""),
        Row("steps", "Fig. 3: 0, 10,000, 20,000; Fig. 4: 0, 5,000, 10,000", "Fedus et al. Figs. 3-4 captions",
            f"Fig. 3: 0, {s3 // 2}, {s3}; Fig. 4: 0, {s4 // 2}, {s4}", cpu),
        Row("seeds", "one run per figure ('a visual illustration ... not averaged out over multiple seeds')",
            "Fedus et al. Figs. 3-4 captions", f"{n} seeds, the same initialisations for every model; one drawn",
            "more than the paper: a caption about one run is judged on every seed (shares with intervals)"),
        Row("eval_mode", "n/a: no batch norm", "", "n/a (no EMA)", ""),
        Row("statistic", "pictures of one run", "Fedus et al. Figs. 3-4",
            "the pictures of one seed per figure, and over all seeds the squared Fréchet distance (Eq. 14, closed "
            "form from the parameters) and the generator's total variance at 20 points of training; counts of "
            "converged / collapsed seeds with Clopper-Pearson intervals", ""),
        Row("criterion", "none (figures); the captions' sentences are quoted with each claim",
            "Fedus et al. Figs. 3-4",
            f"converged: final squared Fréchet distance < {CONVERGED:g} x the member's at initialisation; collapsed: "
            f"total variance tr(W W^T) < {COLLAPSED:g} x the data's, at the end", "thresholds ours"),
    ]


# ------------------------------------------------------------------------------------------ the reproduction
@register("many-paths-2d", "Many Paths to Equilibrium (Fedus et al. 2018)", "sec. 4.3, Figs. 3-4",
          "NS-GAN, GAN-GP and DRAGAN-NS converge on the data line in two dimensions; for a poor initialisation "
          "NS-GAN collapses where a gradient penalty does not", table=table,
          claims=(FIG3_CONVERGE, FIG4_CONVERGE, FIG4_COLLAPSE))
def run(ctx) -> Result:
    if ctx.device != "cpu":
        from ..errors import ConfigError

        raise ConfigError(f"many-paths-2d trains on the CPU (vectorised ensembles); got --device {ctx.device}: "
                          "drop --device")
    seeds = list(range(n_seeds(ctx)))
    t0 = time.perf_counter()
    runs = {}
    with single_thread():
        for fig in ctx.track((FIG3, FIG4), "figure", lambda f: f.key):
            runs[fig.key] = train_figure(fig, fig_steps(ctx, fig), seeds)
    wall = time.perf_counter() - t0
    m3, m4 = figure_measured(runs["fig3"], len(seeds)), figure_measured(runs["fig4"], len(seeds))
    claims = _claims_for(m3, m4)
    figures = []
    for fig in (FIG3, FIG4):
        collapsed = _collapsed_members(runs[fig.key])["ns-gan"]
        show = collapsed[0] if fig is FIG4 and collapsed else 0
        why = (f"seed {show}: the first on which NS-GAN collapsed" if fig is FIG4 and collapsed else f"seed {show}")
        name = f"many-paths-2d-{fig.key}.png"
        plot_figure(runs[fig.key], fig, show, ctx.out / name,
                    f"Fig. {fig.key[-1]}: latent {fig.latent}, d = {DIM}, {why} of {len(seeds)} "
                    f"(red: model, blue: data)")
        figures.append(name)
        runs[fig.key]["shown_seed"] = show
    protocol = {"dim": DIM, "lr": LR, "n_critic": PAPER_N_CRITIC, "seeds": len(seeds),
                "figures": {f.key: asdict(f) | {"steps": runs[f.key]["steps"]} for f in (FIG3, FIG4)},
                "converged": f"final FD < {CONVERGED:g} x the member's initial FD",
                "collapsed": f"final tr(W W^T) < {COLLAPSED:g} x the data's total variance",
                "torch_threads": 1, "wall_s": wall}
    data = {k: {"steps": r["steps"], "paper_steps": r["paper_steps"], "eval_steps": r["eval_steps"],
                "shown_seed": r["shown_seed"],
                "data_total_var": r["data_total_var"],
                "models": {mm: {"fd": v["fd"], "total_var": v["total_var"], "wall_s": v["wall_s"]}
                           for mm, v in r["models"].items()}} for k, r in runs.items()}
    return Result(claims=claims, protocol=protocol, figures=figures, data=data)

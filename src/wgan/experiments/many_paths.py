"""Fedus et al. 2018, *Many Paths to Equilibrium*, sec. 4: the synthetic experiments (Figures 5, 9-14).

* Experiment I: data on a line in d dimensions, x = z W_r + b_r, z ~ N(0, sigma^2), W_r in R^{1 x d} and b_r
  drawn once (:class:`wgan.data.LineData`); generator G(z) = z W + b with a 1-D latent; discriminator a
  single-hidden-layer ReLU network.
* Experiment II: the same data, an overcomplete linear generator with latent size g, 1 < g <= d.

Metric: the squared Fréchet distance between the data Gaussian N(b_r, sigma^2 W_r^T W_r) and the generator's
N(b, W W^T), both from parameters in closed form (:func:`wgan.metrics.frechet_distance`, exact for the
rank-deficient covariances here), with the distance of the randomly initialised generators as reference.

Models: ns-gan, gan-gp, dragan-ns, wgan, wgan-gp with their presets (``wgan list``). Sweeps, each over many
seeds trained together by :class:`wgan.ensemble.Ensemble`: the learning rate at fixed d (one ensemble per
model, one member per (lr, seed)); d at fixed learning rate; discriminator updates per generator update
k in {1, 5, 10, 100} for ns-gan and gan-gp.

Deviations from the paper (stated in results.json and docs/reproductions/many-paths-exp*.md): far fewer
steps and seeds (the paper: 200,000 steps, 1,000 seeds per setting); our own choice of critic width, batch,
sigma, d grid and learning-rate grid.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from ..config import Config, apply_sets
from ..data import LineData
from ..ensemble import Ensemble, Summary, plot_sweep, summarize
from ..errors import ConfigError
from ..metrics.frechet import frechet_distance
from ..train import Trainer
from . import Claim, Context, Result, register
from ._common import single_thread
from ._protocol import Row

MODELS: tuple[str, ...] = ("ns-gan", "gan-gp", "dragan-ns", "wgan", "wgan-gp")
PENALISED = {"ns-gan": ("gan-gp", "dragan-ns"), "wgan": ("wgan-gp",)}


@dataclass(frozen=True)
class Setting:
    """One synthetic problem: the data's dimension and spread, the generator's latent size, the critic's
    width and the batch size. ``latent = 0`` means the overcomplete rule g = max(2, d // 2) (Exp. II)."""

    dim: int = 10
    latent: int = 1
    width: int = 16
    batch_size: int = 64
    sigma: float = 1.0
    data_seed: int = 1234

    def latent_for(self, dim: int) -> int:
        return self.latent if self.latent > 0 else min(dim, max(2, dim // 2))

    def sampler(self, dim: int | None = None) -> LineData:
        return LineData(dim or self.dim, self.sigma, seed=self.data_seed)


EXP1 = Setting(latent=1)
EXP2 = Setting(latent=0)


def experiment_config(setting: Setting, model: str, dim: int | None = None, n_critic: int | None = None,
                      steps: int = 1) -> Config:
    """The library config of one model on one setting (the preset's optimiser, lambda, clip, n_critic)."""
    dim = dim or setting.dim
    sets = ["generator.depth=0", f"generator.latent_dim={setting.latent_for(dim)}", "critic.depth=1",
            f"critic.width={setting.width}", "critic.activation=relu", f"data.batch_size={setting.batch_size}",
            "train.device=cpu", f"objective.name={model}", f"train.steps={steps}"]
    if n_critic is not None:
        sets.append(f"objective.n_critic={n_critic}")
    return apply_sets(Config(), sets)


def line_trainer(cfg: Config, sampler: LineData, seed: int) -> Trainer:
    """The normal training loop (:class:`wgan.train.Trainer`) on line data."""
    return Trainer(apply_sets(cfg, [f"data.name={sampler.name}", f"train.seed={seed}"]), sampler=sampler)


def generator_gaussians(ens: Ensemble) -> tuple[np.ndarray, np.ndarray]:
    """Every member's generator distribution N(b, W W^T): means ``(S, d)`` and covariances ``(S, d, d)``."""
    w = ens.g_params["out.weight"].detach().double().numpy()  # (S, d, g)
    b = ens.g_params["out.bias"].detach().double().numpy()  # (S, d)
    return b, w @ np.swapaxes(w, 1, 2)


def member_distances(ens: Ensemble, sampler: LineData) -> np.ndarray:
    """Squared Fréchet distance of every member's generator to the data ``(S,)``; NaN for a diverged member."""
    mu_r, cov_r = sampler.gaussian()
    mus, covs = generator_gaussians(ens)
    out = np.full(ens.S, np.nan)
    for i in range(ens.S):
        if np.isfinite(mus[i]).all() and np.isfinite(covs[i]).all():
            out[i] = frechet_distance(mu_r, cov_r, mus[i], covs[i])
    return out


# ------------------------------------------------------------------------------------------ sweeps
@dataclass(frozen=True)
class Plan:
    steps: int
    seeds: int
    lrs: tuple[float, ...]
    dims: tuple[int, ...]
    n_critics: tuple[int, ...]
    n_critic_steps: int  # generator steps of the n_critic sweep (k = 100 costs 100 critic steps each)
    fixed_lr: float


def make_plan(ctx: Context) -> Plan:
    if ctx.quick:
        p = Plan(steps=5, seeds=2, lrs=(1e-3, 1e-2), dims=(2, 4), n_critics=(1, 3), n_critic_steps=3,
                 fixed_lr=1e-3)
    else:
        p = Plan(steps=1000, seeds=10, lrs=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2), dims=(2, 5, 10, 20),
                 n_critics=(1, 5, 10, 100), n_critic_steps=250, fixed_lr=3e-3)
    if ctx.steps is not None:
        p = replace(p, steps=ctx.steps, n_critic_steps=max(1, ctx.steps // 4))
    if ctx.seeds is not None:
        p = replace(p, seeds=ctx.seeds)
    return p


def _run(cfg: Config, sampler: LineData, seeds: list[int], steps: int, lr: list[float] | None = None
         ) -> tuple[np.ndarray, np.ndarray]:
    """Train one ensemble; returns (initial distances, final distances), each ``(S,)``."""
    start = time.perf_counter()
    ens = Ensemble(cfg, seeds, sampler, lr=lr, rng="shared", rng_seed=7919 + len(seeds))
    init = member_distances(ens, sampler)
    with np.errstate(all="ignore"):
        ens.fit(steps)
    final = member_distances(ens, sampler)
    if steps >= 50:  # progress for full runs (stderr)
        print(f"  {cfg.objective.name:<9} d={sampler.dim:<3} n_critic={ens.n_critic:<3} S={ens.S:<4} {steps} steps: "
              f"median FD {np.nanmedian(final):.4g} ({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return init, final


def sweep_lr(setting: Setting, plan: Plan, models=MODELS) -> dict[str, Any]:
    """One ensemble per model with one member per (learning rate, seed)."""
    out: dict[str, Any] = {"x": list(plan.lrs), "models": {}}
    seeds = list(range(plan.seeds))
    t0 = time.perf_counter()
    for model in models:
        lrs = [lr for lr in plan.lrs for _ in seeds]
        init, final = _run(experiment_config(setting, model), setting.sampler(), seeds * len(plan.lrs),
                           plan.steps, lr=lrs)
        final = final.reshape(len(plan.lrs), plan.seeds)
        out["models"][model] = {"values": final.tolist(), "summaries": [asdict(summarize(v)) for v in final]}
        out.setdefault("random_init", asdict(summarize(init)))
    out["wall_s"] = time.perf_counter() - t0
    return out


def sweep_dim(setting: Setting, plan: Plan, models=MODELS) -> dict[str, Any]:
    out: dict[str, Any] = {"x": list(plan.dims), "models": {}, "random_init_by_dim": []}
    seeds = list(range(plan.seeds))
    t0 = time.perf_counter()
    for model in models:
        rows, inits = [], []
        for d in plan.dims:
            init, final = _run(experiment_config(setting, model, dim=d), setting.sampler(d), seeds, plan.steps,
                               lr=[plan.fixed_lr] * len(seeds))
            rows.append(final)
            inits.append(asdict(summarize(init)))
        out["models"][model] = {"values": [r.tolist() for r in rows],
                                "summaries": [asdict(summarize(r)) for r in rows]}
        out["random_init_by_dim"] = inits
    out["wall_s"] = time.perf_counter() - t0
    return out


def sweep_n_critic(setting: Setting, plan: Plan, models=("ns-gan", "gan-gp")) -> dict[str, Any]:
    out: dict[str, Any] = {"x": list(plan.n_critics), "models": {}, "steps": plan.n_critic_steps}
    seeds = list(range(plan.seeds))
    t0 = time.perf_counter()
    for model in models:
        rows = []
        for k in plan.n_critics:
            init, final = _run(experiment_config(setting, model, n_critic=k), setting.sampler(), seeds,
                               plan.n_critic_steps, lr=[plan.fixed_lr] * len(seeds))
            rows.append(final)
            out.setdefault("random_init", asdict(summarize(init)))
        out["models"][model] = {"values": [r.tolist() for r in rows],
                                "summaries": [asdict(summarize(r)) for r in rows]}
    out["wall_s"] = time.perf_counter() - t0
    return out


def _summaries(block: dict[str, Any], model: str) -> list[Summary]:
    return [Summary(**s) for s in block["models"][model]["summaries"]]


def _geo_median(block: dict[str, Any], model: str) -> float:
    """Geometric mean over the sweep of the per-setting median distance (diverged settings count as +inf)."""
    meds = [s.median if math.isfinite(s.median) else math.inf for s in _summaries(block, model)]
    return float(np.exp(np.mean(np.log(np.maximum(meds, 1e-12))))) if all(map(math.isfinite, meds)) else math.inf


# ------------------------------------------------------------------------------------------ the reproduction
def _reproduce(ctx: Context, setting: Setting, tag: str, label: str) -> Result:
    if ctx.device != "cpu":
        raise ConfigError(f"many-paths reproductions train on the CPU (vectorised ensembles); got --device "
                          f"{ctx.device}: drop --device")
    plan = make_plan(ctx)
    with single_thread():  # many small kernels: see _common.single_thread
        lr_block = sweep_lr(setting, plan)
        dim_block = sweep_dim(setting, plan)
        nc_block = sweep_n_critic(setting, plan)
    ref = lr_block["random_init"]["median"]
    figs = []
    name = f"many-paths-{tag}-lr.png"
    plot_sweep(plan.lrs, {m: _summaries(lr_block, m) for m in MODELS}, ctx.out / name, xlabel="learning rate",
               ylabel="squared Fréchet distance", logx=True, reference=ref,
               title=f"{label}: d={setting.dim}, {plan.steps} steps, {plan.seeds} seeds (median, 95% of seeds)")
    figs.append(name)
    name = f"many-paths-{tag}-dim.png"
    dim_curves = {m: _summaries(dim_block, m) for m in MODELS}
    dim_curves["random init"] = [Summary(**s) for s in dim_block["random_init_by_dim"]]
    plot_sweep(plan.dims, dim_curves, ctx.out / name, xlabel="data dimension d",
               ylabel="squared Fréchet distance", logx=True,
               title=f"{label}: lr={plan.fixed_lr:g}, {plan.steps} steps, {plan.seeds} seeds")
    figs.append(name)
    name = f"many-paths-{tag}-ncritic.png"
    plot_sweep(plan.n_critics, {m: _summaries(nc_block, m) for m in nc_block["models"]}, ctx.out / name,
               xlabel="discriminator updates per generator update", ylabel="squared Fréchet distance", logx=True,
               reference=nc_block["random_init"]["median"],
               title=f"{label}: d={setting.dim}, lr={plan.fixed_lr:g}, {plan.n_critic_steps} generator steps, "
                     f"{plan.seeds} seeds")
    figs.append(name)

    best = {m: min(s.median for s in _summaries(lr_block, m)) for m in MODELS}
    geo = {m: _geo_median(lr_block, m) for m in MODELS}
    claims = [
        Claim("ns-gan-learns-the-manifold",
              "NS-GAN learns data on a low-dimensional manifold, where the JS divergence gives no useful "
              "gradient (Fedus et al. sec. 4, Fig. 5)",
              "NS-GAN's median distance at its best learning rate < 10% of the random-init median",
              {"ns_gan_best_median": best["ns-gan"], "random_init_median": ref,
               "ratio": best["ns-gan"] / ref}, best["ns-gan"] < 0.1 * ref),
        Claim("penalties-help-ns-gan",
              "gradient penalties help non-Wasserstein GANs too: GAN-GP and DRAGAN-NS are at least as good as "
              "NS-GAN across learning rates (Fig. 5, 9-10)",
              "geometric mean over the lr sweep of the median distance: gan-gp and dragan-ns <= ns-gan",
              {"ns_gan": geo["ns-gan"], "gan_gp": geo["gan-gp"], "dragan_ns": geo["dragan-ns"]},
              geo["gan-gp"] <= geo["ns-gan"] and geo["dragan-ns"] <= geo["ns-gan"]),
        Claim("wgan-gp-beats-clipping",
              "WGAN-GP is more robust than weight-clipped WGAN across learning rates (Fig. 5, 9-10)",
              "geometric mean over the lr sweep of the median distance: wgan-gp < wgan",
              {"wgan": geo["wgan"], "wgan_gp": geo["wgan-gp"]}, geo["wgan-gp"] < geo["wgan"]),
    ]
    k_last = _summaries(nc_block, "ns-gan")[-1]
    claims.append(Claim(
        "ns-gan-with-many-d-steps",
        "NS-GAN still learns with many discriminator updates per generator update, where the "
        "divergence-minimisation view predicts vanishing generator gradients (Figs. 13-14)",
        f"NS-GAN median distance with k={plan.n_critics[-1]} < 10% of the random-init median",
        {"median_k_max": k_last.median, "random_init_median": nc_block["random_init"]["median"]},
        k_last.median < 0.1 * nc_block["random_init"]["median"]))
    dims_trend = {m: [s.median for s in _summaries(dim_block, m)] for m in MODELS}
    claims.append(Claim(
        "distance-vs-dimension", "how the final distance changes with the data dimension d (Fig. 5, 11-12)",
        "median distance at the smallest and the largest d, per model (descriptive)",
        {f"{m}_d{plan.dims[0]}": v[0] for m, v in dims_trend.items()}
        | {f"{m}_d{plan.dims[-1]}": v[-1] for m, v in dims_trend.items()}, None))
    protocol = {
        "setting": asdict(setting), "plan": asdict(plan), "models": list(MODELS),
        "metric": "frechet_gaussian_closed_form: squared Fréchet distance between N(b_r, sigma^2 W_r^T W_r) and "
                  "N(b, W W^T), from parameters (no samples)",
        "summaries": "per setting: mean, median, central 95% of the seeds (2.5/97.5 percentiles), 95% normal "
                     "interval of the mean; diverged (non-finite) members counted apart",
        "training": "wgan.ensemble.Ensemble (fused backend, shared randomness), presets' optimiser/betas/lambda/"
                    "clip/n_critic; lr sweep overrides both players' lr",
        "paper": "200,000 steps, 1,000 seeds per setting",
        "torch_threads": 1,
        "wall_s": {"lr": lr_block["wall_s"], "dim": dim_block["wall_s"], "n_critic": nc_block["wall_s"]},
    }
    return Result(claims=claims, protocol=protocol, figures=figs,
                  data={"lr": lr_block, "dim": dim_block, "n_critic": nc_block})


def many_paths_table(ctx: Context, exp: str) -> list[Row]:
    plan = make_plan(ctx)
    setting = EXP1 if exp == "exp1" else EXP2
    latent = "1-D latent, G(z) = z W + b" if exp == "exp1" else "latent g = max(2, d // 2), G(z) = z W + b"
    return [
        Row("data", "a line in d dimensions, x = z W_r + b_r, z ~ N(0, sigma^2)", "Fedus et al. sec. 4.1",
            f"the same (LineData), sigma {setting.sigma}, d {setting.dim} (lr sweep), d in {list(plan.dims)}", ""),
        Row("nets", f"linear generator ({latent}); discriminator one hidden ReLU layer", "Fedus et al. sec. 4.1",
            f"the same, discriminator width {setting.width}", "width not stated in the paper"),
        Row("init", "not stated", "", "PyTorch default", ""),
        Row("objective", "NS-GAN, GAN-GP, DRAGAN-NS, WGAN, WGAN-GP (lambda 10)", "Fedus et al. sec. 2-4",
            "presets ns-gan, gan-gp, dragan-ns, wgan, wgan-gp", ""),
        Row("optimiser", "Adam", "Fedus et al. sec. 5", "presets: Adam (wgan: torch.optim.RMSprop)", ""),
        Row("lr", "swept", "Fedus et al. Figs. 9-10", f"swept over {list(plan.lrs)}; fixed {plan.fixed_lr:g} for the "
            "d and k sweeps", ""),
        Row("betas", "(0.5, 0.9) for every variant", "Fedus et al. sec. 5",
            "presets: ns-gan (0.5, 0.999), gan-gp and dragan-ns (0.5, 0.9), wgan-gp (0, 0.9)",
            "the presets' own betas (under revision: issue 12 item 1)"),
        Row("n_critic", "5 discriminator updates per generator update for every variant (sec. 4.3); k swept in "
            "Figs. 13-14", "Fedus et al. sec. 4.3, Figs. 13-14",
            f"presets: ns-gan, gan-gp, dragan-ns 1; wgan, wgan-gp 5; k in {list(plan.n_critics)} for the k sweep",
            "the presets' own (under revision: issue 12 item 1)"),
        Row("batch", "not stated", "", str(setting.batch_size), ""),
        Row("steps", "200,000", "Fedus et al. sec. 4.3", f"{plan.steps} ({plan.n_critic_steps} for the k sweep)",
            "CPU cost"),
        Row("seeds", "1,000 runs per setting", "Fedus et al. sec. 4.3", f"{plan.seeds} per setting", "CPU cost"),
        Row("eval_mode", "n/a: no batch norm", "", "n/a", ""),
        Row("statistic", "squared Fréchet distance of the generator's Gaussian to the data's, averaged over runs",
            "Fedus et al. sec. 4.2, Fig. 5", "the same distance in closed form from parameters; median over seeds "
            "(diverged members counted apart)", "medians, not means (under revision: issue 12 item 2)"),
        Row("criterion", "none (figures)", "Fedus et al. sec. 4", "see each claim: NS-GAN best median < 0.1 x random "
            "init; geometric mean over the lr sweep: penalised <= unpenalised", ""),
    ]


@register("many-paths-exp1", "Many Paths to Equilibrium (Fedus et al. 2018)", "sec. 4 Experiment I, Figs. 5, 9-14",
          "GANs with and without gradient penalties learn a line in d dimensions; penalties make them more robust "
          "to the learning rate", table=lambda ctx: many_paths_table(ctx, "exp1"))
def run_exp1(ctx: Context) -> Result:
    return _reproduce(ctx, EXP1, "exp1", "Exp. I (1-D latent)")


@register("many-paths-exp2", "Many Paths to Equilibrium (Fedus et al. 2018)", "sec. 4 Experiment II, Figs. 5, 9-14",
          "the same with an overcomplete linear generator (latent size g = max(2, d // 2))",
          table=lambda ctx: many_paths_table(ctx, "exp2"))
def run_exp2(ctx: Context) -> Result:
    return _reproduce(ctx, EXP2, "exp2", "Exp. II (overcomplete latent)")

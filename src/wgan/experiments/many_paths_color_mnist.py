"""``many-paths-color-mnist``: Many Paths to Equilibrium (Fedus et al. 2018) sec. 5 on Color MNIST -- the
real-data part a CPU can start: NS-GAN, GAN-GP and DRAGAN-NS swept over learning rates and latent sizes, each run
scored by an independent Wasserstein critic (sec. 5.1, Fig. 7a), and sec. 5.4's claim that both penalties make
the non-saturating GAN more robust to hyperparameters judged on the sweep's lower quartile.

* Color MNIST (Metz et al. 2016), "data dimensionality (28,28,3)": three MNIST digits drawn independently as
  the R, G and B channels (the library's ``data.variant = stacked``; Metz et al.'s construction, which the
  library's Stacked MNIST follows). ``--data`` names an MNIST IDX folder (``/work/shared/data/mnist`` has the
  t10k split; its last 640 images are held out); ``--quick`` uses scikit-learn's bundled 8x8 digits.
* Sec. 5's protocol: lambda 10, batch norm, Adam (0.5, 0.9), batch 64, pixels in [-1, 1], one discriminator
  update per generator update for these three models, 100,000 steps; the sweep 3 discriminator x 3 generator
  learning rates in {1e-4, 2e-4, 3e-4} x latent sizes {10, 50, 75} (27 settings); DCGAN nets (the WGAN
  authors' ``dcgan.py``). ``--budget cpu`` runs a slice of it (the diagonal lr_D = lr_G, latent 10, narrow nets,
  few steps), which the claim's gate refuses: a robustness claim over the paper's sweep is decided on that sweep.
* Score: ``w{n}_indep_critic`` (:mod:`wgan.metrics.image_metrics`): a fresh WGAN-GP critic trained on held-out
  images against the run's samples, its E f(real) - E f(fake) on further held-out images; the paper plots the
  negative of it (higher is better).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np

from ..config import Config, apply_sets
from ..errors import ConfigError
from ..metrics.image_metrics import metric_name
from . import Context, Result, _budget, register
from ._claims import ClaimSpec, Gate, Interval, gate_from
from ._protocol import Row

MODELS = ("ns-gan", "gan-gp", "dragan-ns")
PAPER_LRS, PAPER_LATENTS, PAPER_STEPS = (1e-4, 2e-4, 3e-4), (10, 50, 75), 100_000
PAPER_SETTINGS = len(PAPER_LRS) ** 2 * len(PAPER_LATENTS)  # 27 (sec. 5.3)
MIN_SEEDS, QUARTILE, BOOT = 3, 25, 2000
TRAINED = 0.5  # NS-GAN's best run: its W estimate below half an untrained generator's


def plan(ctx: Context) -> dict[str, Any]:
    diag = [(lr, lr) for lr in PAPER_LRS]
    full = list(itertools.product(PAPER_LRS, PAPER_LRS))
    return {"lrs": _budget.pick(ctx, quick=[(2e-4, 2e-4)], cpu=diag, paper=full),  # (discriminator, generator)
            "latents": _budget.pick(ctx, quick=(10,), cpu=(10,), paper=PAPER_LATENTS),
            "steps": _budget.steps(ctx, quick=5, cpu=300, paper=PAPER_STEPS),
            "seeds": _budget.seeds(ctx, quick=1, cpu=MIN_SEEDS, paper=MIN_SEEDS),
            "width": _budget.pick(ctx, quick=8, cpu=16, paper=64),
            "n_w": _budget.pick(ctx, quick=64, cpu=500, paper=2000),
            "net": _budget.pick(ctx, quick="mlp", cpu="dcgan", paper="dcgan")}


def run_sets(model: str, data: str, p: dict[str, Any], lrs: tuple[float, float], latent: int, seed: int,
             device: str) -> list[str]:
    lr_d, lr_g = lrs
    size = 16 if data == "digits" else 32
    return [f"data.name={data}", "data.variant=stacked", f"data.image_size={size}", "data.batch_size=64",
            f"generator.net={p['net']}", f"critic.net={p['net']}", f"generator.width={p['width']}",
            f"critic.width={p['width']}", "generator.norm=batch",
            "critic.norm=" + ("batch" if p["net"] == "dcgan" else "none"),
            f"generator.latent_dim={latent}",
            f"objective.name={model}", "objective.n_critic=1", "optim.name=adam", "optim.beta1=0.5",
            "optim.beta2=0.9", f"optim.lr={lr_g}", f"optim.critic_lr={lr_d}", f"train.steps={p['steps']}",
            f"train.eval_every={max(1, p['steps'])}", f"train.seed={seed}", f"train.device={device}",
            f"eval.metrics={metric_name('w', p['n_w'], 'indep_critic')}"]


def train_one(sets: list[str]) -> dict[str, Any]:
    from ..training.trainer import Trainer

    t0 = time.perf_counter()
    trainer = Trainer(apply_sets(Config(), sets))
    trainer.fit(None)
    ev = trainer.evaluate()
    key = next(k for k in ev if k.endswith("_indep_critic"))
    return {"w": float(ev[key]), "wall_s": time.perf_counter() - t0}


def untrained_w(data: str, p: dict[str, Any], device: str) -> float:
    """The same score of an untrained NS-GAN generator (latent 10, seed 0): the level a run must leave."""
    from ..training.trainer import Trainer

    trainer = Trainer(apply_sets(Config(), run_sets("ns-gan", data, {**p, "steps": 1}, (2e-4, 2e-4), 10, 0,
                                                   device)))
    ev = trainer.evaluate()
    return float(ev[next(k for k in ev if k.endswith("_indep_critic"))])


# ---------------------------------------------------------------------------------------------- claim
def lower_quartile(x) -> float:
    return float(np.percentile(np.asarray(x, dtype=float), QUARTILE))


def measured_from(neg_w: dict[str, list[float]], n_settings: int, seeds: int, steps: int,
                  untrained_neg_w: float) -> tuple[dict[str, Any], Interval]:
    """The claim's numbers from every run's negative W estimate per model (settings x seeds): each model's lower
    quartile over the sweep, and a bootstrap 95% interval (over runs) of the smaller of the two penalised models'
    lower-quartile gains over NS-GAN."""
    q = {m: lower_quartile(v) for m, v in neg_w.items()}
    rng = np.random.default_rng(0)
    gains = []
    for _ in range(BOOT):
        qb = {m: lower_quartile(rng.choice(v, len(v))) for m, v in neg_w.items()}
        gains.append(min(qb["gan-gp"], qb["dragan-ns"]) - qb["ns-gan"])
    gain = min(q["gan-gp"], q["dragan-ns"]) - q["ns-gan"]
    m = {"seeds": seeds, "settings": n_settings, "steps": steps, "untrained_neg_w": untrained_neg_w,
         "ns_gan_best_neg_w": float(np.max(neg_w["ns-gan"]))}
    m |= {f"{k.replace('-', '_')}_q25": v for k, v in q.items()}
    m |= {f"{k.replace('-', '_')}_median": float(np.median(v)) for k, v in neg_w.items()}
    lo, hi = np.percentile(gains, [2.5, 97.5])
    return m, Interval("lower-quartile gain of the weaker penalty over NS-GAN (negative W)", gain, float(lo),
                       float(hi), f"bootstrap over runs, {BOOT} resamples, 95% percentile interval")


def _decide(m: dict[str, Any]) -> bool:
    return m["gan_gp_q25"] > m["ns_gan_q25"] and m["dragan_ns_q25"] > m["ns_gan_q25"]


def _gate(m: dict[str, Any]) -> Gate:
    short = []
    if m["seeds"] < MIN_SEEDS:
        short.append(f"{m['seeds']} seed(s) per setting, fewer than {MIN_SEEDS}")
    if m["settings"] < PAPER_SETTINGS:
        short.append(f"{m['settings']} of the paper's {PAPER_SETTINGS} hyperparameter settings: robustness to "
                     "hyperparameters is judged over the paper's sweep")
    # W estimates: lower is better; the paper's negative W: higher is better
    if not -m["ns_gan_best_neg_w"] < TRAINED * -m["untrained_neg_w"]:
        short.append(f"NS-GAN has not trained: its best W estimate {-m['ns_gan_best_neg_w']:.3g} is not below "
                     f"{TRAINED:g} x an untrained generator's {-m['untrained_neg_w']:.3g}")
    return gate_from(short, "`wgan reproduce many-paths-color-mnist --budget paper --data MNIST_DIR "
                     "--device cuda` (27 settings x 3 models x 3 seeds at 100,000 steps; size it with --estimate)")


def _m(**over: Any) -> dict[str, Any]:
    m = {"seeds": 3, "settings": PAPER_SETTINGS, "steps": PAPER_STEPS, "untrained_neg_w": -40.0,
         "ns_gan_best_neg_w": -2.0, "ns_gan_q25": -12.0, "gan_gp_q25": -4.0, "dragan_ns_q25": -4.5,
         "ns_gan_median": -6.0, "gan_gp_median": -3.0, "dragan_ns_median": -3.2}
    return m | over


ROBUST = ClaimSpec(
    "penalties-more-robust-color-mnist", "Many Paths",
    "Both gradient penalties help when training non-saturating GANs, by making the models more robust to "
    "hyperparameters.", "sec. 5.4, Fig. 7a (Color MNIST)",
    "over the hyperparameter sweep (every setting and seed), the lower quartile of the independent critic's "
    "negative W estimate (the paper's box plots; higher is better) is higher for GAN-GP and for DRAGAN-NS than "
    "for NS-GAN",
    decide=_decide, gate=_gate, trained=True,
    adequacy=f"the paper's {PAPER_SETTINGS}-setting sweep (3 x 3 learning rates x 3 latent sizes), at least "
             f"{MIN_SEEDS} seeds per setting, and NS-GAN trained (its best W estimate below {TRAINED:g} x an "
             "untrained generator's)",
    negative_control=lambda: _m(dragan_ns_q25=-15.0),  # DRAGAN-NS's bad settings worse than NS-GAN's
    positive_control=_m,
    positive_source="constructed: both penalised boxes' lower ends above NS-GAN's, as Fig. 7a shows; the paper "
                    "gives the figure without numbers",
    inadequate_control=lambda: _m(settings=3))


# ---------------------------------------------------------------------------------------------- protocol table
def table(ctx: Context) -> list[Row]:
    p = plan(ctx)
    cpu = "" if ctx.budget == "paper" and not ctx.quick else "CPU cost; --budget paper runs the paper's value"
    sweep = (f"lr (D, G) in {[(f'{a:g}', f'{b:g}') for a, b in p['lrs']]}, latent in {list(p['latents'])}: "
             f"{len(p['lrs']) * len(p['latents'])} settings")
    return [
        Row("data", "Color MNIST (Metz et al. 2016), 28 x 28 x 3", "Fedus et al. sec. 5",
            f"{'digits (8x8, bundled) stacked, resized to 16' if ctx.quick else (ctx.data or 'MNIST_DIR (--data)')} "
            "+ data.variant = stacked (three independent digits as R, G, B), resized to 32 x 32",
            "'Color MNIST' read as Metz et al.'s stacked digits; 32 x 32 for the DCGAN nets (powers of 2)"),
        Row("nets", "DCGAN (Radford et al. 2015; the WGAN code's dcgan.py)", "Fedus et al. sec. 5.1",
            f"{p['net']}, width {p['width']}", "" if p["width"] == 64 else "--quick: a smoke test" if ctx.quick else
            "CPU cost; --budget paper runs width 64"),
        Row("init", "not stated", "", "the library's dcgan init", ""),
        Row("objective", "NS-GAN, GAN-GP, DRAGAN-NS (lambda 10); WGAN-GP (quoted from Rosca et al. 2017)",
            "Fedus et al. sec. 5", "ns-gan, gan-gp, dragan-ns; lambda 10",
            "WGAN-GP left out: the claim judged compares the penalised non-saturating GANs with NS-GAN"),
        Row("optimiser", "Adam", "Fedus et al. sec. 5", "adam", ""),
        Row("lr", "discriminator and generator each in {1e-4, 2e-4, 3e-4}", "Fedus et al. sec. 5", sweep,
            "" if len(p["lrs"]) == 9 else cpu),
        Row("betas", "(0.5, 0.9)", "Fedus et al. sec. 5", "(0.5, 0.9)", ""),
        Row("n_critic", "1 for DCGAN, DRAGAN-NS, GAN-GP", "Fedus et al. sec. 5", "1", ""),
        Row("batch", "64", "Fedus et al. sec. 5", "64", ""),
        Row("steps", "100,000 (Color MNIST)", "Fedus et al. sec. 5", f"{p['steps']:,}",
            "" if p["steps"] == PAPER_STEPS else cpu),
        Row("seeds", "one run per setting", "Fedus et al. sec. 5.3", f"{p['seeds']} per setting",
            "more than the paper: intervals need seeds"),
        Row("eval_mode", "batch norm in both networks", "Fedus et al. sec. 5", "generator and critic norm = batch; "
            "samples in the library's default generator mode (running averages)", ""),
        Row("statistic", "independent Wasserstein critic's negative W, box plots over the sweep", "Fedus et al. "
            "sec. 5.1, Fig. 7a", f"{metric_name('w', p['n_w'], 'indep_critic')} (500 critic steps; negated); lower "
            "quartile over the sweep's runs, bootstrap interval", "sample count not stated"),
        Row("criterion", "none (box plots)", "Fedus et al. sec. 5.4",
            "lower quartile higher for GAN-GP and DRAGAN-NS than for NS-GAN", "the box's lower end: 'more robust'"),
    ]


# ---------------------------------------------------------------------------------------------- the reproduction
@register("many-paths-color-mnist", "Many Paths to Equilibrium (Fedus et al. 2018)", "sec. 5, 5.4, Fig. 7a",
          "gradient penalties make the non-saturating GAN more robust to its hyperparameters on Color MNIST "
          "(independent Wasserstein critic)", table=table, claims=(ROBUST,))
def run(ctx: Context) -> Result:
    p = plan(ctx)
    if ctx.quick:
        data = "digits"
    elif ctx.data is None:
        raise ConfigError("many-paths-color-mnist trains on MNIST: give --data MNIST_DIR (a folder of MNIST IDX "
                          "files, e.g. /work/shared/data/mnist), or run --quick")
    else:
        data = ctx.data
    settings = [(lrs, lat) for lrs in p["lrs"] for lat in p["latents"]]
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in MODELS}
    t0 = time.perf_counter()
    for model in MODELS:
        for (lrs, lat), seed in ctx.track(list(itertools.product(settings, range(p["seeds"]))), model,
                                         lambda x: f"lr {x[0][0]}, latent {x[0][1]}, seed {x[1]}"):
            r = train_one(run_sets(model, data, p, lrs, lat, seed, ctx.device))
            runs[model].append(r | {"lr_d": lrs[0], "lr_g": lrs[1], "latent": lat, "seed": seed})
    untrained = untrained_w(data, p, ctx.device)
    neg = {m: [-r["w"] for r in rs] for m, rs in runs.items()}
    m, interval = measured_from(neg, len(settings), p["seeds"], p["steps"], -untrained)
    protocol = {k: v for k, v in p.items()} | {"data": data, "wall_s": time.perf_counter() - t0}
    return Result(claims=[ROBUST.judge(m, interval=interval)], protocol=protocol, figures=[],
                  data={"runs": runs, "untrained_w": untrained})

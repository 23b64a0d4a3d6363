"""``generator-robustness``: WGAN (Arjovsky, Chintala, Bottou 2017) sec. 4.4, Figs. 6-8: with a DCGAN critic, the
WGAN trains generators that the standard GAN cannot -- a DCGAN generator without batch norm and with a constant
number of filters (Fig. 7), a 4-layer 512-unit ReLU MLP (Fig. 8) -- next to the DCGAN generator both train (Fig. 6).

Three generators x two algorithms (WGAN: RMSProp 5e-5, clip 0.01, the authors' critic schedule; the standard GAN
as the paper's DCGAN baseline: -log D trick, Adam 2e-4, beta1 0.5), the same DCGAN critic (batch norm), through
the library's Trainer. Quality: classifier-FID (:mod:`wgan.metrics.classifier` features, N generated vs N training
images) at step 0 and at the end; mode coverage: the digit classes the classifier assigns to the final samples.
Data: scikit-learn's 8x8 digits resized to 16x16 (so that "a constant number of filters" differs from the DCGAN's
doubling: at 8x8 the generator has no layer between the projection and the output), or ``--data`` (MNIST).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import Config, DataConfig, apply_sets
from ..data import make_sampler
from ..metrics.image_metrics import count_text
from ..training.trainer import Trainer
from . import Context, Result, _budget, register
from ._claims import ClaimSpec, Gate, gate_from, mean_interval, too_few_seeds
from ._common import fit_cadence, fit_measuring, one_thread
from ._protocol import Row
from ._wgan_stability import MAIN, WGAN

# generator arm -> (label, config sets; the critic is the DCGAN critic with batch norm in every arm)
GENERATORS: dict[str, tuple[str, list[str]]] = {
    "dcgan": ("DCGAN generator (Fig. 6)", ["generator.arch=zoo:dcgan"]),
    "nobn-constant": ("no batch norm, constant filters (Fig. 7)", ["generator.arch=zoo:dcgan-nobn-constant"]),
    "mlp": ("ReLU MLP, 4 linear layers x 512 (Fig. 8)", ["generator.net=mlp", "generator.depth=3",
                                                         "generator.width=512", "generator.norm=none"]),
}
# algorithm -> (label, config sets)
ALGORITHMS: dict[str, tuple[str, list[str]]] = {
    "wgan": ("WGAN", ["objective.name=wgan"]),  # RMSProp 5e-5, clip 0.01, n_critic 5 (preset) + main.py's schedule
    "gan": ("standard GAN (DCGAN, -log D)", ["objective.name=ns-gan"]),  # Adam 2e-4 (0.5, 0.999), 1 step
}
TRAINS, HIGH, MODE_SHARE, COLLAPSED, MIN_SEEDS = 0.5, 0.25, 0.05, 7, 3


@dataclass(frozen=True)
class RobustSetting:
    data: str
    image_size: int
    width: int  # ngf = ndf
    latent_dim: int
    batch: int
    steps: int
    n_fid: int
    n_modes: int  # final samples classified for the mode count
    classifier_steps: int
    seeds: int
    schedule: str


def robust_setting(ctx: Context) -> RobustSetting:
    data = ctx.data or "digits"
    return RobustSetting(
        data, image_size=_budget.pick(ctx, quick=16, cpu=16, paper=64),
        width=_budget.pick(ctx, quick=4, cpu=8, paper=64),
        latent_dim=100, batch=64,
        steps=_budget.steps(ctx, quick=5, cpu=300, paper=100_000),
        n_fid=_budget.pick(ctx, quick=100, cpu=500, paper=5000),
        n_modes=_budget.pick(ctx, quick=100, cpu=1000, paper=10_000),
        classifier_steps=_budget.pick(ctx, quick=20, cpu=400, paper=2000),
        seeds=_budget.seeds(ctx, quick=1, cpu=3, paper=3),
        # Algorithm 1's n_critic = 5 throughout; main.py's 100 early critic steps (2,500 of them before generator
        # step 25) would cost more than the rest of a CPU-sized run
        schedule=_budget.pick(ctx, quick="constant", cpu="constant", paper="wgan"))


def _classifier(s: RobustSetting, out: Path) -> tuple[Path, dict[str, Any]]:
    """The metric's classifier, trained once on the resized training split and saved to ``out/classifier.pt``."""
    from ..kinds.image_runs import train_data_classifier
    from ..metrics.classifier import save_classifier

    sampler = make_sampler(s.data, DataConfig(name=s.data, image_size=s.image_size))
    net, info = train_data_classifier(sampler, steps=s.classifier_steps, seed=0, width=16)
    path = out / "classifier.pt"
    out.mkdir(parents=True, exist_ok=True)
    save_classifier(path, net, info)
    return path, info.as_dict()


def class_shares(x: torch.Tensor, classifier: torch.nn.Module) -> np.ndarray:
    """The share of images ``x`` (N, C, H, W) the classifier assigns to each class."""
    with torch.no_grad():
        pred = torch.cat([classifier(b).argmax(dim=1) for b in x.split(500)])
    k = int(classifier(x[:1]).shape[1])
    return np.bincount(pred.numpy(), minlength=k) / len(x)


def modes_covered(shares: np.ndarray) -> int:
    """Classes holding at least :data:`MODE_SHARE` of the samples (half the uniform share of 10 classes)."""
    return int((shares >= MODE_SHARE).sum())


def train_arm(gen: str, algo: str, s: RobustSetting, classifier: Path, seed: int, device: str) -> dict[str, Any]:
    from ..metrics.classifier import load_classifier

    metric = f"fid{count_text(s.n_fid)}_classifier"
    cfg = apply_sets(Config(), [
        *ALGORITHMS[algo][1], *GENERATORS[gen][1], "critic.arch=zoo:dcgan", f"data.name={s.data}",
        f"data.image_size={s.image_size}", f"data.batch_size={s.batch}", f"generator.latent_dim={s.latent_dim}",
        f"critic.width={s.width}", *([f"generator.width={s.width}"] if gen != "mlp" else []),
        *([f"train.critic_schedule={s.schedule}"] if algo == "wgan" else []),
        f"eval.metrics={metric}", f"eval.n_samples={s.n_fid}", f"eval.classifier={classifier}",
        f"train.steps={s.steps}", f"train.seed={seed}", f"train.device={device}", *fit_cadence(s.steps)])
    trainer = Trainer(cfg)
    fid: list[float] = []
    fid_val: list[float] = []

    def measure(tr: Trainer, _trained: float) -> None:
        ev = tr.evaluate()
        fid.append(float(ev[f"eval/{metric}"]))
        fid_val.append(float(ev.get(f"eval/{metric}_val", float("nan"))))

    fit_measuring(trainer, {0, s.steps}, measure)
    net, _ = load_classifier(classifier)
    x = trainer.generate(s.n_modes, seed=40_000 + seed).float()
    shares = class_shares(x, net.eval())
    params = sum(p.numel() for p in trainer.G.parameters())
    return {"generator": gen, "algorithm": algo, "seed": seed, "fid_start": fid[0], "fid_end": fid[-1],
            "fid_val": fid_val[-1], "ratio": fid[-1] / fid[0] if fid[0] > 0 else float("nan"),
            "class_shares": shares.tolist(), "modes": modes_covered(shares), "generator_params": params,
            "grid": x[:64].numpy()}


# ---------------------------------------------------------------------------------------------- claims
def _gate(m: dict[str, Any]) -> Gate:
    short = too_few_seeds(m, MIN_SEEDS)
    for algo in ALGORITHMS:
        r = m[f"{algo}/dcgan/ratio"]
        if not r <= TRAINS:
            short.append(f"{algo} does not train the DCGAN generator (Fig. 6's pair): its FID ended at {r:.2f} x "
                         f"its step-0 value (not <= {TRAINS:g})")
    return gate_from(short, f"--seeds {MIN_SEEDS} and more generator steps than {m['steps']} "
                     "(the authors: 25 epochs of LSUN)")


ADEQ = (f"at least {MIN_SEEDS} seeds, and both algorithms train the DCGAN generator (Fig. 6: each one's mean FID "
        f"ends at most {TRAINS:g} x its step-0 value), so that the setting can train a GAN at all")


FIG6_ADEQ = (f"at least {MIN_SEEDS} seeds, and at least one of the two algorithms trains the DCGAN generator (its "
             f"mean FID ends at most {TRAINS:g} x its step-0 value): a run in which neither moves it is too short to "
             "say whether both can")


def _fig6_gate(m: dict[str, Any]) -> Gate:
    short = too_few_seeds(m, MIN_SEEDS)
    best = min(m["wgan/dcgan/ratio"], m["gan/dcgan/ratio"])
    if not best <= TRAINS:
        short.append(f"neither algorithm trains the DCGAN generator: the better one's FID ended at {best:.2f} x its "
                     f"step-0 value (not <= {TRAINS:g})")
    return gate_from(short, f"--seeds {MIN_SEEDS} and more generator steps than {m['steps']} "
                     "(the authors: 25 epochs of LSUN)")


def _m() -> dict[str, Any]:
    return {"seeds": 3, "steps": 600, "wgan/dcgan/ratio": 0.1, "gan/dcgan/ratio": 0.1, "wgan/nobn-constant/ratio": 0.3,
            "gan/nobn-constant/ratio": 0.9, "wgan/mlp/ratio": 0.3, "gan/mlp/ratio": 0.8, "wgan/dcgan/fid_end": 10.0,
            "wgan/mlp/fid_end": 30.0, "gan/mlp/fid_end": 80.0, "wgan/mlp/modes": 10.0, "gan/mlp/modes": 3.0}


def _ctl(**kw: float) -> dict[str, Any]:
    m = _m()
    m.update(kw)
    return m


FIG6 = ClaimSpec(
    "dcgan-both-train", "WGAN", "Both algorithms produce high quality samples.", "sec. 4.4, Fig. 6 (caption)",
    f"with the DCGAN generator, each algorithm's mean classifier-FID ends at most {HIGH:g} x its step-0 value ('high "
    "quality': our bar); decided only where at least one of them trains it (the gate)",
    decide=lambda m: m["wgan/dcgan/ratio"] <= HIGH and m["gan/dcgan/ratio"] <= HIGH, gate=lambda m: _fig6_gate(m),
    adequacy=FIG6_ADEQ, trained=True,
    negative_control=lambda: _ctl(**{"wgan/dcgan/ratio": 0.6}), positive_control=_m,
    positive_source="constructed: both FIDs fall to a tenth of their start; the paper shows samples only",
    inadequate_control=lambda: _ctl(**{"wgan/dcgan/ratio": 0.9, "gan/dcgan/ratio": 0.95}))
FIG7 = ClaimSpec(
    "nobn-constant-wgan-only", "WGAN",
    "As we can see the standard GAN failed to learn while the WGAN still was able to produce samples.",
    "sec. 4.4, Fig. 7 (caption)",
    f"generator without batch norm and with a constant filter count: WGAN's mean FID ends at most {TRAINS:g} x its "
    f"step-0 value (produces samples), the standard GAN's above {TRAINS:g} x (failed to learn)",
    decide=lambda m: m["wgan/nobn-constant/ratio"] <= TRAINS < m["gan/nobn-constant/ratio"], gate=_gate,
    adequacy=ADEQ, trained=True, negative_control=lambda: _ctl(**{"gan/nobn-constant/ratio": 0.3}),
    positive_control=_m, positive_source="constructed: the GAN's FID stays near its start, WGAN's falls",
    inadequate_control=lambda: _ctl(**{"wgan/dcgan/ratio": 0.9}))
FIG8 = ClaimSpec(
    "mlp-wgan-between", "WGAN",
    "The WGAN method still was able to produce samples, lower quality than the DCGAN, and of higher quality than the "
    "MLP of the standard GAN.", "sec. 4.4, Fig. 8 (caption)",
    f"MLP generator: WGAN's mean FID ends at most {TRAINS:g} x its start (produces samples), above WGAN's DCGAN "
    "generator's final FID (lower quality) and below the standard GAN's MLP final FID (higher quality); means over "
    "seeds", decide=lambda m: (m["wgan/mlp/ratio"] <= TRAINS and m["wgan/mlp/fid_end"] > m["wgan/dcgan/fid_end"]
                              and m["wgan/mlp/fid_end"] < m["gan/mlp/fid_end"]),
    gate=_gate, adequacy=ADEQ, trained=True, negative_control=lambda: _ctl(**{"gan/mlp/fid_end": 20.0}),
    positive_control=_m, positive_source="constructed: FIDs 10 (WGAN DCGAN) < 30 (WGAN MLP) < 80 (GAN MLP)",
    inadequate_control=lambda: _ctl(**{"gan/dcgan/ratio": 0.9}))
COLLAPSE = ClaimSpec(
    "gan-mlp-collapses", "WGAN", "Note the significant degree of mode collapse in the GAN MLP.",
    "sec. 4.4, Fig. 8 (caption)",
    f"the standard GAN's MLP generator covers at most {COLLAPSED} of the 10 digit classes (a class is covered when it "
    f"holds >= {MODE_SHARE:.0%} of the final samples by the metric's classifier; mean over seeds) and fewer than "
    "WGAN's MLP generator",
    decide=lambda m: m["gan/mlp/modes"] <= COLLAPSED and m["gan/mlp/modes"] < m["wgan/mlp/modes"],
    gate=_gate, adequacy=ADEQ, trained=True, negative_control=lambda: _ctl(**{"gan/mlp/modes": 10.0}),
    positive_control=_m, positive_source="constructed: 3 classes covered against WGAN's 10",
    inadequate_control=lambda: _ctl(seeds=2))
SIZES = ClaimSpec(
    "fids-and-modes", "WGAN", "", "sec. 4.4, Figs. 6-8 (measured beside)",
    "per generator and algorithm: mean final classifier-FID, FID ratio to step 0, classes covered, generator "
    "parameters (Fig. 7: 'reduced by a bit more than an order of magnitude')", kind="descriptive")


def generator_robustness_table(ctx: Context) -> list[Row]:
    s = robust_setting(ctx)
    bud = "CPU cost; --budget paper runs the paper's value"
    return [
        Row("data", "LSUN bedrooms 64x64", "WGAN sec. 4.2", f"{s.data} resized to {s.image_size}x{s.image_size} "
            "(data.image_size)", "LSUN is not available offline; 16x16 so that the constant-filter generator differs "
            "from the DCGAN's" + ("" if s.image_size == 64 else f"; {bud}")),
        Row("nets", "critic: DCGAN_D (batch norm) in every run; G: DCGAN_G, a DCGAN G without batch norm and with a "
            "constant filter count (paper; main.py's DCGAN_G_nobn keeps the doubling), MLP_G (4 linear layers x "
            "512 units, ReLU, no output nonlinearity)", f"WGAN sec. 4.4; {MAIN}:116-121, 133-137; "
            "models/dcgan.py:5-199; models/mlp.py:8-34",
            f"zoo:dcgan critic; G zoo:dcgan, zoo:dcgan-nobn-constant (the caption's constant filters), MLP 3 hidden "
            f"x 512 with a tanh output (the library's image MLP); ngf = ndf = {s.width}, nz {s.latent_dim}",
            ("" if s.width == 64 else f"width: {bud}; ") + "the MLP's tanh output is the library's"),
        Row("init", "conv N(0, 0.02), batch-norm gains N(1, 0.02) (weights_init); Linear: PyTorch default",
            f"{MAIN}:108-114", "the same (the dcgan family's init; the MLP: PyTorch default)", ""),
        Row("objective", "WGAN (clip 0.01) vs the standard GAN with the -log D trick (DCGAN)",
            "WGAN sec. 4.2, Algorithm 1", "wgan vs ns-gan presets", ""),
        Row("optimiser", "WGAN: RMSProp; DCGAN: Adam", f"{MAIN}:161-162; DCGAN sec. 4",
            "WGAN: torch RMSprop; GAN: torch Adam", ""),
        Row("lr", "WGAN 5e-5; DCGAN 2e-4", f"WGAN Algorithm 1; {MAIN}:33-34; DCGAN sec. 4", "the same", ""),
        Row("betas", "DCGAN (0.5, 0.999)", "DCGAN sec. 4", "(0.5, 0.999)", ""),
        Row("n_critic", "WGAN 5, 100 for the first 25 generator iterations and every 500th; DCGAN 1",
            f"WGAN Algorithm 1; {MAIN}:176-179", "WGAN: the same" if s.schedule == "wgan" else
            "WGAN: 5 throughout (Algorithm 1's value, without main.py's early 100)",
            "" if s.schedule == "wgan" else "CPU cost (the README: 'There shouldn't be a major difference in "
            "performance'); --budget paper runs main.py's schedule"),
        Row("batch", "64", f"WGAN Algorithm 1; {MAIN}:26", str(s.batch), ""),
        Row("steps", "25 epochs of LSUN (--niter 25)", f"{MAIN}:32", f"{s.steps:,} generator steps",
            "" if s.steps >= 100_000 else bud),
        Row("seeds", "one run per figure", "WGAN Figs. 6-8", f"{s.seeds} per arm", "issue 23: at least 3"),
        Row("eval_mode", "samples drawn in training mode (netG never switched to eval)", f"{MAIN}:236",
            "the Trainer's evaluation (generator in eval mode: batch norm running statistics)",
            "the library's evaluation protocol"),
        Row("statistic", "samples shown (not cherry-picked)", "WGAN sec. 4.4, Appendix H",
            f"classifier-FID, {s.n_fid} generated vs {s.n_fid} training images, at step 0 and the end; classes "
            f"covered by {s.n_modes} final samples", "a measured quality instead of pictures alone"),
        Row("criterion", "none (figures)", "WGAN Figs. 6-8",
            f"'produces samples': FID ends <= {TRAINS:g} x its start; 'failed to learn': above; 'high quality' "
            f"(Fig. 6): <= {HIGH:g} x; 'mode collapse': <= {COLLAPSED} of 10 classes with >= {MODE_SHARE:.0%} of "
            "the samples", "the bars are ours: the paper judges pictures"),
    ]


@register("generator-robustness", WGAN, "sec. 4.4, Figs. 6-8 (digits 16x16 by default)",
          "With a DCGAN critic, WGAN trains a generator without batch norm and constant filters, and a 512-unit MLP "
          "generator, where the standard GAN fails or collapses", table=generator_robustness_table,
          claims=(FIG6, FIG7, FIG8, COLLAPSE, SIZES))
@one_thread
def generator_robustness(ctx: Context) -> Result:
    s = robust_setting(ctx)
    classifier, info = _classifier(s, ctx.out)
    arms = [(g, a, k) for g in GENERATORS for a in ALGORITHMS for k in range(s.seeds)]
    runs: list[dict[str, Any]] = []
    for g, a, k in ctx.track(arms, "training", lambda r: f"{r[1]}, {r[0]} generator, seed {r[2]}"):
        runs.append(train_arm(g, a, s, classifier, k, ctx.device))
    m: dict[str, Any] = {"seeds": s.seeds, "steps": s.steps}
    for g in GENERATORS:
        for a in ALGORITHMS:
            rs = [r for r in runs if r["generator"] == g and r["algorithm"] == a]
            m[f"{a}/{g}/ratio"] = float(np.mean([r["ratio"] for r in rs]))
            m[f"{a}/{g}/fid_end"] = float(np.mean([r["fid_end"] for r in rs]))
            m[f"{a}/{g}/modes"] = float(np.mean([r["modes"] for r in rs]))

    def pick(*keys: str) -> dict[str, Any]:
        return {"seeds": m["seeds"], "steps": m["steps"], "wgan/dcgan/ratio": m["wgan/dcgan/ratio"],
                "gan/dcgan/ratio": m["gan/dcgan/ratio"]} | {k: m[k] for k in keys}

    def ratios(a: str, g: str) -> list[float]:
        return [r["ratio"] for r in runs if r["generator"] == g and r["algorithm"] == a]

    def paired(a1: str, g1: str, a2: str, g2: str, key: str) -> list[float]:
        x = {r["seed"]: r[key] for r in runs if r["generator"] == g1 and r["algorithm"] == a1}
        y = {r["seed"]: r[key] for r in runs if r["generator"] == g2 and r["algorithm"] == a2}
        return [y[k] - x[k] for k in sorted(x)]

    c6 = FIG6.judge(pick(), interval=mean_interval(ratios("wgan", "dcgan"), "WGAN's DCGAN FID ratio (end / start)"))
    c7 = FIG7.judge(pick("wgan/nobn-constant/ratio", "gan/nobn-constant/ratio"),
                    interval=mean_interval(paired("wgan", "nobn-constant", "gan", "nobn-constant", "ratio"),
                                           "FID ratio, GAN minus WGAN (no-BN constant G), paired by seed"))
    c8 = FIG8.judge(pick("wgan/mlp/ratio", "wgan/mlp/fid_end", "wgan/dcgan/fid_end", "gan/mlp/fid_end"),
                    interval=mean_interval(paired("wgan", "mlp", "gan", "mlp", "fid_end"),
                                           "final FID, GAN MLP minus WGAN MLP, paired by seed"))
    cc = COLLAPSE.judge(pick("gan/mlp/modes", "wgan/mlp/modes"),
                        interval=mean_interval(paired("gan", "mlp", "wgan", "mlp", "modes"),
                                               "classes covered, WGAN MLP minus GAN MLP, paired by seed"))
    params = {g: next(r["generator_params"] for r in runs if r["generator"] == g) for g in GENERATORS}
    cs = SIZES.judge({k: v for k, v in m.items() if "/" in k} | {f"params/{g}": p for g, p in params.items()})
    fig = "generator-robustness.png"
    _plot(runs, s, ctx.out / fig)
    data = {"runs": [{k: v for k, v in r.items() if k != "grid"} for r in runs], "classifier": info}
    return Result([c6, c7, c8, cc, cs], {"setting": asdict(s), "classifier": info}, [fig], data)


def _plot(runs: list[dict[str, Any]], s: RobustSetting, path: Path) -> None:
    import matplotlib.pyplot as plt

    from ..diagnostics.plots import save_figure

    fig, axes = plt.subplots(len(ALGORITHMS), len(GENERATORS), figsize=(3.2 * len(GENERATORS), 3.4 * len(ALGORITHMS)))
    for i, a in enumerate(ALGORITHMS):
        for j, g in enumerate(GENERATORS):
            r = next(r for r in runs if r["generator"] == g and r["algorithm"] == a)  # seed 0
            x = (np.clip(r["grid"][:36], -1, 1) + 1) / 2  # (36, C, H, W)
            c, h, w = x.shape[1:]
            tiles = x[:, 0] if c == 1 else x.transpose(0, 2, 3, 1)
            rows = [np.concatenate(list(tiles[k * 6:(k + 1) * 6]), axis=1) for k in range(6)]
            axes[i, j].imshow(np.concatenate(rows, axis=0), cmap="gray" if c == 1 else None)
            axes[i, j].set_title(f"{ALGORITHMS[a][0][:12]}, {g}: FID {r['fid_end']:.1f}, {r['modes']} classes",
                                 fontsize=8)
            axes[i, j].axis("off")
    fig.suptitle(f"WGAN Figs. 6-8 on {s.data} {s.image_size}x{s.image_size}, {s.steps} generator steps (seed 0)",
                 fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)

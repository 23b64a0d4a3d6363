"""The character-level language model of WGAN-GP (Gulrajani et al. 2017, sec. 5.5, Table 4; the authors' code
``gan_language.py``): a generator that emits a softmax over the vocabulary at each of 32 positions, fed to
the critic as is (no sampling), against one-hot real sentences.

The paper trains it with WGAN-GP and says the standard GAN objective "could not produce comparable
results". ``char-lm`` trains both for the same number of generator steps, each with its own paper's
optimiser settings -- WGAN-GP as the authors' language model (lambda 10, n_critic 10, Adam 1e-4, beta
(0.5, 0.9)), the non-saturating GAN with its preset (n_critic 1, Adam 2e-4, beta (0.5, 0.999)) -- and, at
an equal critic budget, the non-saturating GAN with 10 discriminator steps per generator step, on the
same networks, and measures the character n-gram Jensen-Shannon divergence (n = 1..4, bits; metric
``ngram_js_bits_640``) of argmax-decoded samples to the training lines over training, next to the
held-out validation lines' own divergence (the baseline a perfect generator would reach).

Full setting: the corpus given by ``--data`` (e.g. tinyshakespeare), width 16, depth 5, 1,500 steps on the CPU
(the paper: width 512, 200k steps, a GPU). ``--quick``: a small synthetic corpus built in memory, width 8.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config, apply_sets
from ..data.text_corpora import TextSampler, read_lines
from ..errors import ConfigError
from ..kinds.text_runs import MAX_N, reference, sample_lines
from ..training.trainer import Trainer
from . import Claim, Context, Result, register
from ._common import single_thread
from ._protocol import Row

WGAN_GP = "Improved Training of Wasserstein GANs (Gulrajani et al. 2017)"
LANG = "improved_wgan_training/gan_language.py"
# variant -> --set items. WGAN-GP with the authors' language-model settings (gan_language.py: CRITIC_ITERS 10,
# LAMBDA 10, Adam 1e-4, beta1 0.5, beta2 0.9); ns-gan with its own preset (wgan.objectives: 1 discriminator step);
# ns-gan-k10 the same with WGAN-GP's 10 discriminator steps per generator step (the equal critic budget).
VARIANTS: dict[str, list[str]] = {
    "wgan-gp": ["objective.name=wgan-gp", "objective.n_critic=10", "optim.beta1=0.5"],
    "ns-gan": ["objective.name=ns-gan"],
    "ns-gan-k10": ["objective.name=ns-gan", "objective.n_critic=10"],
}
OBJECTIVES = tuple(VARIANTS)
N_SAMPLES_SHOWN = 20


@dataclass(frozen=True)
class LMSetting:
    width: int
    depth: int
    seq_len: int
    batch: int
    steps: int
    n_points: int  # evaluations after step 0
    n_eval: int  # generated sequences per evaluation (and validation lines for the baseline)
    seeds: int
    latent_dim: int = 128  # the authors' noise size


def lm_setting(ctx: Context) -> LMSetting:
    if ctx.quick:
        return LMSetting(width=8, depth=1, seq_len=12, batch=16, steps=ctx.steps or 6, n_points=2, n_eval=64,
                         seeds=ctx.seeds or 1, latent_dim=16)
    return LMSetting(width=16, depth=5, seq_len=32, batch=64, steps=ctx.steps or 1500, n_points=10, n_eval=640,
                     seeds=ctx.seeds or 1)


def synthetic_corpus(n_lines: int = 600, seed: int = 0) -> list[str]:
    """Sentences of 2-5 words from a 16-word list (for ``--quick``: no file, no download)."""
    words = ["the", "cat", "dog", "sat", "ran", "on", "a", "mat", "far", "away", "and", "then", "we", "saw", "it",
             "home"]
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(words, size=rng.integers(2, 6))) for _ in range(n_lines)]


def make_corpus(ctx: Context, s: LMSetting) -> TextSampler:
    if ctx.quick and ctx.data is None:
        return TextSampler(synthetic_corpus(), seq_len=s.seq_len, vocab_size=32, val_size=s.n_eval, name="synthetic")
    if ctx.data is None:
        raise ConfigError("char-lm needs a text corpus: wgan reproduce char-lm --data FILE_OR_FOLDER (a UTF-8 file "
                          "with one example per line, e.g. tinyshakespeare.txt, or a folder such as Billion Word)")
    lines = read_lines(ctx.data)
    return TextSampler(lines, seq_len=s.seq_len, vocab_size=96, val_size=s.n_eval, name=Path(ctx.data).stem)


def lm_config(variant: str, s: LMSetting, seed: int, device: str) -> Config:
    return apply_sets(Config(), [
        *VARIANTS[variant],
        "generator.net=conv1d", "critic.net=conv1d", f"generator.latent_dim={s.latent_dim}",
        f"generator.width={s.width}", f"critic.width={s.width}", f"generator.depth={s.depth}",
        f"critic.depth={s.depth}", f"data.seq_len={s.seq_len}", f"data.val_size={s.n_eval}",
        f"data.batch_size={s.batch}", f"train.steps={s.steps}", f"eval.n_samples={s.n_eval}",
        f"train.seed={seed}", f"train.device={device}"])


@dataclass
class LMRun:
    objective: str
    seed: int
    steps: list[int] = field(default_factory=list)
    js: dict[int, list[float]] = field(default_factory=dict)  # n -> JS (bits) at each step
    js_text: dict[int, list[float]] = field(default_factory=dict)  # the same without n-grams containing padding
    baseline: dict[int, float] = field(default_factory=dict)  # n -> validation-vs-training JS
    baseline_text: dict[int, float] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    train_s: float = 0.0


def train_lm(objective: str, sampler: TextSampler, s: LMSetting, seed: int, device: str = "cpu") -> LMRun:
    """Train ``objective`` on ``sampler`` and measure the n-gram JS at ``s.n_points`` evenly spaced steps
    and step 0, through the Trainer's own seeded evaluation."""
    trainer = Trainer(lm_config(objective, s, seed, device), sampler=sampler)
    run = LMRun(objective, seed, js={n: [] for n in range(1, MAX_N + 1)}, js_text={n: [] for n in range(1, MAX_N + 1)})
    _, _, baseline = reference(trainer)
    run.baseline = {n: baseline[f"eval/js{n}_val"] for n in range(1, MAX_N + 1)}
    run.baseline_text = {n: baseline[f"eval/js{n}_text_val"] for n in range(1, MAX_N + 1)}
    marks = sorted({0, *np.linspace(0, s.steps, s.n_points + 1).round().astype(int).tolist()})
    start = time.perf_counter()
    for m in marks:
        t0 = time.perf_counter()
        while trainer.step < m:
            trainer.train_step()
        run.train_s += time.perf_counter() - t0
        ev = trainer.evaluate()
        run.steps.append(m)
        for n in run.js:
            run.js[n].append(ev[f"eval/js{n}"])
            run.js_text[n].append(ev[f"eval/js{n}_text"])
        print(f"char-lm {objective} seed {seed} step {m}: " + " ".join(
            f"js{n}={run.js[n][-1]:.3f}" for n in run.js) + " text " + " ".join(
            f"{run.js_text[n][-1]:.3f}" for n in run.js) + f" ({time.perf_counter() - start:.0f}s)", flush=True)
    run.samples = sample_lines(trainer, N_SAMPLES_SHOWN, seed=40_000 + seed)
    return run


def beats_every_n(ours: dict[int, float], theirs: dict[int, float]) -> bool:
    """Lower n-gram JS than ``theirs`` for every n (strictly)."""
    return all(ours[n] < theirs[n] for n in ours)


def char_lm_table(ctx: Context) -> list[Row]:
    s = lm_setting(ctx)
    return [
        Row("data", "Google Billion Word, lines of up to 32 characters; the first 10 batches of 64 held out as "
            "validation", f"WGAN-GP sec. 5.5; {LANG}:23, 33-39, 130-131",
            "--data (the full run: tinyshakespeare, lines up to 32 characters); 640 lines held out", "CPU cost"),
        Row("nets", "generator and critic: 5 residual blocks of two width-5 1-D convolutions, DIM 512; generator "
            "softmax output fed to the critic", f"{LANG}:24, 53-85", f"the same (conv1d) at width {s.width}, depth "
            f"{s.depth}", "width: CPU cost"),
        Row("init", "tflib Conv1D He uniform (std sqrt(4 / (fan_in + fan_out))), Linear Glorot uniform",
            "tflib/ops/conv1d.py:51-60; tflib/ops/linear.py:55-60", "PyTorch default",
            "tflib's initialisers are not implemented for the text nets"),
        Row("objective", "WGAN-GP (lambda 10); the standard GAN 'could not produce comparable results' (no setting "
            "given)", f"WGAN-GP sec. 5.5; {LANG}:29, 95-109", "wgan-gp (lambda 10); ns-gan; ns-gan-k10",
            "the paper does not say how its GAN baseline was trained"),
        Row("optimiser", "Adam", f"{LANG}:114-115", "torch.optim.Adam", ""),
        Row("lr", "1e-4", f"{LANG}:114-115", "wgan-gp 1e-4; ns-gan and ns-gan-k10 2e-4 (DCGAN preset)", "NS-GAN's "
            "own preset"),
        Row("betas", "(0.5, 0.9)", f"{LANG}:114-115", "wgan-gp (0.5, 0.9); ns-gan (0.5, 0.999)", "NS-GAN's own "
            "preset"),
        Row("n_critic", "10 critic iterations per generator iteration (WGAN-GP)", f"{LANG}:26, 161",
            "wgan-gp 10; ns-gan 1 (its preset); ns-gan-k10 10 (the equal critic budget)",
            "NS-GAN at 1 is the standard GAN setting; ns-gan-k10 gives it WGAN-GP's discriminator updates"),
        Row("batch", "64", f"{LANG}:21", str(s.batch), ""),
        Row("steps", "200,000 generator iterations", f"{LANG}:22", f"{s.steps} generator steps", "CPU cost"),
        Row("seeds", "one run", "WGAN-GP Table 4", str(s.seeds), ""),
        Row("eval_mode", "n/a: no batch norm", f"{LANG}:53-85", "n/a", ""),
        Row("statistic", "character n-gram JS (n = 1..4) of 640 samples to the whole corpus, next to the validation "
            "lines' own", f"{LANG}:130-134, 171-178", f"the same (ngram_js_bits_640, {s.n_eval} argmax-decoded "
            "samples vs the training lines); also without n-grams that contain padding",
            "padding-free n-grams added: the authors' metric rewards an all-padding generator on short lines"),
        Row("criterion", "none (samples, Table 4)", "WGAN-GP sec. 5.5",
            "final JS of wgan-gp below ns-gan's (and below ns-gan-k10's) for every n; wgan-gp's JS falls from step 0",
            "equal curves and a generator that did not move fail them (tests)"),
    ]


@register("char-lm", paper=WGAN_GP, figure="Table 4 / sec. 5.5",
          claim="a generator emitting a softmax per character, fed straight to the critic, learns character-level "
                "text with WGAN-GP; the standard GAN objective could not produce comparable results",
          table=char_lm_table)
def char_lm(ctx: Context) -> Result:
    s = lm_setting(ctx)
    sampler = make_corpus(ctx, s)
    runs: dict[str, list[LMRun]] = {o: [] for o in OBJECTIVES}
    with single_thread():
        for seed, objective in ctx.track([(seed, o) for seed in range(s.seeds) for o in OBJECTIVES], "training",
                                         lambda r: f"{r[1]}, seed {r[0]}"):
            runs[objective].append(train_lm(objective, sampler, s, seed, ctx.device))
    ns = range(1, MAX_N + 1)
    final = {o: {n: float(np.mean([r.js[n][-1] for r in rs])) for n in ns} for o, rs in runs.items()}
    start = {o: {n: float(np.mean([r.js[n][0] for r in rs])) for n in ns} for o, rs in runs.items()}
    final_text = {o: {n: float(np.mean([r.js_text[n][-1] for r in rs])) for n in ns} for o, rs in runs.items()}
    baseline = runs["wgan-gp"][0].baseline
    g, b = final["wgan-gp"], final["ns-gan"]
    gt, bt = final_text["wgan-gp"], final_text["ns-gan"]
    claims = [
        Claim("wgan-gp-beats-ns-gan",
              "with the same networks and generator steps, WGAN-GP models the text better than the standard "
              "(non-saturating) GAN objective",
              f"after {s.steps} generator steps the n-gram JS (bits, lower is better) of WGAN-GP is below NS-GAN's "
              f"for every n = 1..{MAX_N} (mean of {s.seeds} seed(s))",
              {"js4_wgan_gp": g[MAX_N], "js4_ns_gan": b[MAX_N], "js1_wgan_gp": g[1], "js1_ns_gan": b[1],
               "js4_validation": baseline[MAX_N], "js_wgan_gp": g, "js_ns_gan": b},
              beats_every_n(g, b)),
        Claim("wgan-gp-learns",
              "WGAN-GP training moves the generated text towards the corpus",
              f"WGAN-GP's n-gram JS falls from step 0 to step {s.steps} for every n = 1..{MAX_N}",
              {f"js{n}_start": start["wgan-gp"][n] for n in ns} | {f"js{n}_end": g[n] for n in ns},
              beats_every_n(g, start["wgan-gp"])),
        Claim("wgan-gp-beats-ns-gan-text",
              "the same with n-grams of characters only (added after the first full run: the authors' metric counts "
              "padding, and an all-padding generator scores well on a corpus of short lines)",
              f"after {s.steps} generator steps the padding-free n-gram JS of WGAN-GP is below NS-GAN's for every "
              f"n = 1..{MAX_N}",
              {"js4_text_wgan_gp": gt[MAX_N], "js4_text_ns_gan": bt[MAX_N], "js1_text_wgan_gp": gt[1],
               "js1_text_ns_gan": bt[1], "js4_text_validation": runs["wgan-gp"][0].baseline_text[MAX_N],
               "js_text_wgan_gp": gt, "js_text_ns_gan": bt},
              beats_every_n(gt, bt)),
        Claim("wgan-gp-beats-ns-gan-equal-budget",
              "the same at an equal critic budget: NS-GAN with WGAN-GP's 10 discriminator steps per generator step "
              "(the paper does not say how its GAN baseline was trained)",
              f"after {s.steps} generator steps WGAN-GP's n-gram JS is below NS-GAN-k10's for every n = 1..{MAX_N}, "
              "with padding and without",
              {"js4_ns_gan_k10": final["ns-gan-k10"][MAX_N], "js1_ns_gan_k10": final["ns-gan-k10"][1],
               "js4_text_ns_gan_k10": final_text["ns-gan-k10"][MAX_N],
               "js1_text_ns_gan_k10": final_text["ns-gan-k10"][1],
               "js_ns_gan_k10": final["ns-gan-k10"], "js_text_ns_gan_k10": final_text["ns-gan-k10"]},
              beats_every_n(g, final["ns-gan-k10"]) and beats_every_n(gt, final_text["ns-gan-k10"])),
        Claim("gap-to-validation",
              "how far each objective is from real text of the same size (the validation lines' own JS)",
              "final JS minus the validation baseline, per objective (descriptive)",
              {f"js{n}_gap_wgan_gp": g[n] - baseline[n] for n in (1, MAX_N)}
              | {f"js{n}_gap_ns_gan": b[n] - baseline[n] for n in (1, MAX_N)}
              | {f"js{n}_gap_ns_gan_k10": final["ns-gan-k10"][n] - baseline[n] for n in (1, MAX_N)},
              None),
    ]
    fig_name = "char-lm.png"
    _plot(runs, baseline, ctx.out / fig_name)
    sample_text = "".join(f"# {o}, seed 0, step {s.steps}\n" + "".join(f"{line}\n" for line in rs[0].samples)
                          for o, rs in runs.items())
    (ctx.out / "samples.txt").write_text(sample_text, encoding="utf-8")
    protocol = {
        "data": sampler.name, "lines_train": len(sampler.train), "lines_validation": len(sampler.val),
        "vocabulary": sampler.vocab_size, "seq_len": s.seq_len, "width": s.width, "depth": s.depth,
        "latent_dim": s.latent_dim, "batch": s.batch, "steps": s.steps, "seeds": s.seeds,
        "objectives": {o: " ".join(sets) for o, sets in VARIANTS.items()},
        "metric": f"ngram_js_bits_640: n-gram JS (bits) of {s.n_eval} argmax-decoded generated sequences vs all "
                  f"training lines; baseline: {s.n_eval} validation lines vs training lines; *_text: n-grams "
                  "containing padding left out (an all-padding output scores 1)",
        "deviations": f"width {s.width} instead of 512 and {s.steps} instead of 200,000 generator steps (2 CPU "
                      "cores); padding/unknown symbols reserved instead of counted as characters",
        "samples": "samples.txt",
    }
    data: dict[str, Any] = {
        "baseline": baseline, "baseline_text": runs["wgan-gp"][0].baseline_text,
        "runs": [{"objective": r.objective, "seed": r.seed, "steps": r.steps, "js": r.js, "js_text": r.js_text,
                  "train_s": r.train_s, "samples": r.samples} for rs in runs.values() for r in rs],
    }
    return Result(claims, protocol, [fig_name], data)


def _plot(runs: dict[str, list[LMRun]], baseline: dict[int, float], path: Path) -> None:
    from ..diagnostics.plots import plt, save_figure

    fig, axes = plt.subplots(1, MAX_N, figsize=(4 * MAX_N, 3.4), sharex=True)
    colours = {"wgan-gp": "tab:blue", "ns-gan": "tab:red", "ns-gan-k10": "tab:orange"}
    for n, ax in zip(range(1, MAX_N + 1), axes, strict=True):
        for o, rs in runs.items():
            for i, r in enumerate(rs):
                ax.plot(r.steps, r.js[n], "o-", ms=3, lw=1, color=colours.get(o), alpha=0.9 if i == 0 else 0.4,
                        label=o if i == 0 else None)
                ax.plot(r.steps, r.js_text[n], ":", lw=1.2, color=colours.get(o), alpha=0.9 if i == 0 else 0.4,
                        label=f"{o}, no padding n-grams" if i == 0 else None)
        ax.axhline(baseline[n], color="gray", ls="--", lw=1, label="validation lines")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{n}-gram JS (bits)", fontsize=10)
        ax.set_xlabel("generator step")
    axes[0].legend(fontsize=7)
    fig.suptitle("character LM: n-gram JS of argmax-decoded samples to the training lines", fontsize=10)
    save_figure(fig, path)

"""The ``wgan`` command line: parse, build a config, call library functions. Nothing else lives here."""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from . import __version__
from .errors import ConfigError, TrainingDiverged

DEMO_HELP = """\
With no --config, `wgan train` starts from the demo config: WGAN-GP on 8 Gaussians, about 2 minutes on
2 CPU cores, ending with the exact W1 of 2,000 samples next to the data-vs-data floor. With --data naming
images (digits, an MNIST or CIFAR-10 folder, a folder of images) it starts from WGAN-GP with DCGAN nets at
32x32; with --data naming a text corpus, from the WGAN-GP character language model at a CPU-sized width.
--dry-run prints the resolved config; --objective NAME switches to NAME with its paper defaults.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (what was wrong, where the help is) instead of the whole usage."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="wgan", description="Train and study Wasserstein GANs and "
                                "gradient-penalty GANs.")
    p.add_argument("--version", action="version", version=f"wgan {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a model (default: WGAN-GP on 8 Gaussians)", description=DEMO_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--config", metavar="FILE", help="TOML config file (see configs/)")
    t.add_argument("--objective", metavar="NAME",
                   help="objective preset with its paper defaults (resets the objective's and optimiser's "
                        "settings of the config; adjust them with --set); see `wgan list`")
    t.add_argument("--data", metavar="NAME|PATH", help="what to train on: a toy distribution (8gaussians, "
                   "25gaussians, swissroll), a .npy/.csv file of (N, D) points, images (digits; mnist, fashion-mnist, "
                   "cifar10, ...: fetched into the cache on first use; a folder of MNIST IDX files, CIFAR-10 "
                   "batches or image files) or a text corpus (a .txt file or a folder of them); "
                   "see `wgan list`")
    t.add_argument("--steps", type=int, metavar="N", help="generator steps in total (with --resume: the new total)")
    t.add_argument("--seed", type=int, metavar="N", help="random seed")
    t.add_argument("--out", metavar="DIR", default="runs",
                   help="folder for run directories; each run gets a new numbered one (default: runs)")
    t.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set objective.penalty_weight=0.1 (repeatable)")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its latest checkpoint")
    t.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    t.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: when stderr is a terminal)")
    _offline_flag(t)

    sub.add_parser("list", help="list objectives, penalties, data, networks and metrics")

    r = sub.add_parser("reproduce", help="reproduce a paper's claim: train, draw the figure, print measured verdicts")
    r.add_argument("name", nargs="?", metavar="NAME", help="reproduction name (see --list)")
    r.add_argument("--list", action="store_true", help="list every reproduction with its paper, figure and claim")
    r.add_argument("--quick", action="store_true", help="tiny setting that runs in seconds (for tests)")
    r.add_argument("--out", metavar="DIR", help="output folder (default: reproductions/NAME)")
    r.add_argument("--seeds", type=int, metavar="N", help="number of seeds (default: the reproduction's own)")
    r.add_argument("--steps", type=int, metavar="N", help="training steps (default: the reproduction's own)")
    r.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    r.add_argument("--data", metavar="PATH", help="data file, folder or named dataset (mnist, cifar10, ...): "
                   "the corpus of char-lm, the images of "
                   "image-objectives and critic-overfitting, the MNIST of improved-techniques' Stacked MNIST part")
    r.add_argument("--n", type=int, metavar="N", help="studies: number of points, e.g. architectures of "
                   "random-architectures (default 50; the paper: 200)")
    r.add_argument("--workers", type=int, default=1, metavar="N", help="studies: local worker processes (default 1)")
    r.add_argument("--backend", choices=("local", "ray"), default="local", help="studies: local pool or Ray")
    r.add_argument("--ray-address", metavar="ADDR", help="studies on Ray: join this cluster (default: a local one)")
    r.add_argument("--force", action="store_true", help="overwrite an existing results.json in the output folder")
    r.add_argument("--budget", choices=("cpu", "paper"), default="cpu", help="cpu (default): sizes for 2 CPU "
                   "cores, the deviations the protocol table lists; paper: the paper's own widths, steps, seeds and "
                   "sample counts (see --protocol --budget paper and --estimate --budget paper)")
    r.add_argument("--estimate", action="store_true", help="print the run's estimated time at --budget on --device "
                   "(studies: a few timed steps of every run still to train, at --workers; others: two short probe "
                   "runs in a temporary folder, extrapolated in the steps); keeps nothing")
    _offline_flag(r)
    r.add_argument("--protocol", action="store_true", help="print the protocol table (each setting against the "
                   "paper and the official code) for these options, without running")
    r.add_argument("--publish", action="store_true", help="copy the full run's results.json in --out (without its "
                   "curves) to docs/reproductions/results/NAME.json, for --report; run from the repository root")
    r.add_argument("--rejudge", action="store_true", help="judge the published run of NAME (docs/reproductions/"
                   "results/NAME.json) again by the current criteria and gates, on the numbers it measured (nothing "
                   "is retrained); writes --out/results.json, for --publish; run from the repository root")
    r.add_argument("--report", action="store_true", help="regenerate docs/reproductions.md (the verdict table) from "
                   "the published full runs in docs/reproductions/results/; run from the repository root")

    st = sub.add_parser("study", help="run a study: a grid or random sample of configs x seeds, each an ordinary "
                        "run directory; finished runs are skipped; aggregated into study.csv/.md/.png",
                        description="Spec format, backends and cluster use: docs/studies.md.")
    st.add_argument("spec", metavar="SPEC.toml", help="the study spec (grid, random, variants, seeds, set)")
    st.add_argument("--out", metavar="DIR", help="study folder (default: studies/NAME); run it again to resume")
    st.add_argument("--backend", choices=("local", "ray"), default="local",
                    help="local process pool (default) or Ray (pip install 'wgan[ray]')")
    st.add_argument("--workers", type=int, default=1, metavar="N", help="local backend: worker processes (default 1)")
    st.add_argument("--ray-address", metavar="ADDR", help="join a running Ray cluster (e.g. auto or ray://host:10001); "
                    "default: start a local one")
    st.add_argument("--ray-cpus", type=float, default=1, metavar="N", help="CPUs each run asks Ray for (default 1)")
    st.add_argument("--ray-gpus", type=float, default=0, metavar="N", help="GPUs each run asks Ray for (default 0; "
                    "0.25 packs 4 runs on a GPU)")
    st.add_argument("--dry-run", action="store_true", help="list the runs and exit")
    _offline_flag(st)
    st.add_argument("--estimate", action="store_true", help="time a few steps of every run still to train and print "
                    "each run's estimated training time and the study's wall time at --workers; trains nothing")
    st.add_argument("--aggregate", action="store_true", help="write study.csv, study.md and study.png from the runs "
                    "finished so far (the others listed as todo) and exit; trains nothing")

    e = sub.add_parser("eval", help="evaluate a run's latest checkpoint (points: exact W1, floor, modes; images: "
                                    "--metrics) into RUN_DIR/eval.json")
    e.add_argument("run_dir", metavar="RUN_DIR")
    e.add_argument("--metrics", metavar="NAME,NAME", help="image metrics (see `wgan list`), e.g. "
                   "fid5k_classifier,is5k_classifier,msssim1k_pairs,w2k_indep_critic (default: the run's eval.metrics)")
    e.add_argument("--classifier", metavar="PATH", help="feature network from `wgan classifier train`, or auto")
    e.add_argument("--inception-weights", metavar="PATH", help="pytorch-fid's pt_inception-2015-12-05-*.pth, a "
                   "local file for the *_inception* metrics (default: fetched into the cache once)")
    _offline_flag(e)
    e.add_argument("--n-samples", type=int, metavar="N", help="samples per metric (replaces the count in the names)")

    c = sub.add_parser("classifier", help="train the image classifier that image metrics use as feature network")
    csub = c.add_subparsers(dest="action", metavar="ACTION", required=True)
    ct = csub.add_parser("train", help="train on a dataset's training split; report and save held-out accuracy")
    ct.add_argument("--data", required=True, metavar="NAME|PATH",
                    help="digits, a named dataset (mnist, cifar10, ...; fetched on first use) or a folder of "
                         "MNIST / CIFAR-10 / images")
    ct.add_argument("--out", required=True, metavar="FILE", help="weights file to write (e.g. mnist-classifier.pt)")
    ct.add_argument("--steps", type=int, metavar="N", help="Adam steps (default: about 10 epochs, 300..3000)")
    ct.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    ct.add_argument("--set", dest="sets", action="append", default=[], metavar="data.KEY=VALUE",
                    help="data options, e.g. --set data.image_size=32 (repeatable)")
    ct.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    _offline_flag(ct)

    f = sub.add_parser("fetch", help="fetch named datasets and the FID Inception weights into the cache now "
                       "(then copy the cache folder to a machine without internet)")
    f.add_argument("names", nargs="+", metavar="NAME", help="named datasets (mnist, cifar10, ...; see `wgan list`) "
                   "and/or inception (pytorch-fid's FID Inception weights)")
    _offline_flag(f)  # with --offline: check what the cache holds, fetch nothing

    s = sub.add_parser("sample", help="draw samples from a run's generator into a .npy, .csv or .png file")
    s.add_argument("run_dir", metavar="RUN_DIR")
    s.add_argument("--n", type=int, default=1000, help="number of samples (default 1000)")
    s.add_argument("--out", default=None, metavar="FILE",
                   help="output file: .npy, .csv or .png (text runs: .txt, or print sentences when left out)")
    s.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    s.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    return p


def _offline_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--offline", action="store_true", help="never touch the network (as WGAN_OFFLINE=1): files "
                   "missing from the cache are an error naming their URL and the path to put them at")


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch the named files into the cache and print where each one is: each name is looked up in
    :data:`wgan.fetch.FETCHABLE`, where the modules that fetch register (the data sources, the metrics)."""
    from . import data, metrics  # noqa: F401  (their modules register what they fetch)
    from .fetch import FETCHABLE, cache_dir

    fetchers = [FETCHABLE.lookup(name) for name in args.names]  # every name checked before anything is fetched
    for name, fetch in zip(args.names, fetchers, strict=True):
        print(f"{name}: {fetch()}")
    print(f"cache: {cache_dir()} (copy it to $WGAN_CACHE, default ~/.cache/wgan, on another machine)")
    return 0


def demo_config_path(data: str | None = None) -> Path:
    """The packaged config that `wgan train` starts from when no --config is given: that of the data kind of
    ``--data`` (the kind of the data source that recognises it, :func:`wgan.data.source_of`; the toy demo
    without ``--data``): the papers' objective settings with CPU-sized nets for that kind of data."""
    from .config import demo_path

    if data is None:
        return demo_path()
    from .data import source_of

    source = source_of(data)
    return demo_path(source.kind) if source is not None else demo_path()


def build_config(args: argparse.Namespace):
    from .config import ObjectiveConfig, OptimConfig, apply, apply_sets, load_toml
    from .resolve import resolve

    cfg = load_toml(args.config) if args.config else load_toml(demo_config_path(args.data))
    if args.objective:
        cfg = replace(cfg, objective=ObjectiveConfig(name=args.objective,
                                                     dragan_scale=cfg.objective.dragan_scale),
                      optim=OptimConfig())
    quick = {}
    if args.data:
        quick.setdefault("data", {})["name"] = args.data
    if args.steps is not None:
        quick.setdefault("train", {})["steps"] = args.steps
    if args.seed is not None:
        quick.setdefault("train", {})["seed"] = args.seed
    cfg = apply(cfg, quick, origin="command line")
    cfg = apply_sets(cfg, args.sets)
    return resolve(cfg)


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from . import distributed
    from .config import to_toml
    from .rundir import create_run_dir
    from .threads import run_threads
    from .training.trainer import Trainer

    distributed.init_from_env()  # under torchrun: join the process group (one rank per GPU)
    lead = distributed.rank() == 0  # only rank 0 creates the run directory and prints
    progress = (sys.stderr.isatty() if args.progress is None else args.progress) and lead
    if args.resume:
        clash = [f for f in ("config", "objective", "data", "seed") if getattr(args, f)] + (["set"] if args.sets
                                                                                           else [])
        if clash:
            raise ConfigError(f"--resume continues a run with its saved config; drop --{', --'.join(clash)} "
                              "(only --steps may change)")
        trainer = Trainer.resume(args.resume, steps=args.steps)
        run_dir = Path(args.resume)
        if args.dry_run:
            print(to_toml(trainer.cfg))
            return 0
        if lead:
            print(f"resuming {run_dir} at step {trainer.step} of {trainer.cfg.train.steps}", file=sys.stderr)
    else:
        cfg = build_config(args)
        if args.dry_run:
            print(to_toml(cfg))
            return 0
        trainer = Trainer(cfg)
        run_dir = distributed.broadcast_object(create_run_dir(args.out, cfg.data.name, cfg.objective.name)
                                               if lead else None)
        if lead:
            print(f"run directory: {run_dir}", file=sys.stderr)
    threads = run_threads(trainer.cfg, tuple(trainer.sampler.shape))  # train.threads; 0 = from the work per step
    torch.set_num_threads(threads)
    session_start, resumed_at = time.perf_counter(), trainer.step
    try:
        summary = trainer.fit(run_dir, progress=progress)
    except KeyboardInterrupt:
        if lead:
            _say_interrupted(trainer, run_dir)
        return 130
    finally:
        distributed.shutdown()
    if not lead:
        return 0
    if resumed_at:  # a continuation: this session's time, next to the run's training time over all sessions
        session = time.perf_counter() - session_start
        print(_headline({k: v for k, v in summary.items() if k != "wall_time_s"}, trainer.sampler.kind) +
              f"; this session {session:.0f} s (steps {resumed_at}-{summary['steps']}, final evaluation and plots "
              f"included); training over all sessions {summary['train_time_s']:.0f} s")
    else:
        _print_summary(summary, trainer.sampler.kind)
    print(f"run directory: {run_dir}")
    return 0


def _say_interrupted(trainer, run_dir: Path) -> None:
    """The one message after Ctrl-C stopped ``trainer.fit``: where the checkpoint is and how to resume, or that
    the run stopped before its first checkpoint."""
    from .console import say

    latest = run_dir / "checkpoints" / "latest.pt"
    if not latest.is_file():
        say(f"\ninterrupted at step {trainer.step}, before the first checkpoint: nothing to resume ({run_dir} "
            "holds only the run's config and logs; start again with the same command)")
        return
    saved = trainer.checkpoint_step  # a second Ctrl-C stops at once and keeps the previous checkpoint
    if saved is None:
        at = "the last one saved"
    else:
        at = f"step {saved}" + (f" (stopped at step {trainer.step}; resuming trains the steps after {saved} again)"
                                if saved != trainer.step else "")
    say(f"\ninterrupted; checkpoint at {at}: {latest}\nresume with: wgan train --resume {run_dir}")


def _print_summary(summary: dict, kind: str) -> None:
    """The data kind's one headline line (:attr:`wgan.kinds.base.DataKind.headline`); every figure with its
    protocol is in summary.json / eval.json."""
    print(_headline(summary, kind))


def _headline(summary: dict, kind: str) -> str:
    from .kinds import data_kind

    steps = f"after {summary['steps']} steps" if "steps" in summary else ""
    took = f"; {summary['wall_time_s']:.0f} s" if "wall_time_s" in summary else ""
    return data_kind(kind).headline(summary, steps, took)


def cmd_list(args: argparse.Namespace) -> int:
    from .constraints import CONSTRAINT_OPTIONS
    from .data import NAMED_DATA
    from .metrics import METRICS
    from .nets.families import descriptions
    from .nets.spectral import CRITIC_OPTIONS
    from .objectives import PRESETS
    from .penalties import PENALTIES
    from .training.augment import POLICIES
    from .training.trick_hooks import TRICKS

    print("objectives (--objective NAME; defaults from the cited source):")
    for name, p in PRESETS.items():
        opt = f"{p.optimizer} lr {p.lr:g}" + (f" betas ({p.beta1:g}, {p.beta2:g})" if p.optimizer == "adam" else "")
        extra = f", penalty {p.penalty} lambda {p.penalty_weight:g}" if p.penalty != "none" else ""
        extra += f", clip {p.clip:g}" if p.clip else ""
        print(f"  {name:<10} {p.loss} loss{extra}, n_critic {p.n_critic}, {opt}\n  {'':<10} source: {p.source}")
    for title, table in (("penalties (objective.penalty)", PENALTIES), ("data (--data)", NAMED_DATA),
                         ("generators (generator.net)", descriptions("generator")),
                         ("critics (critic.net)", descriptions("critic")),
                         ("metrics", METRICS),
                         ("critic options, any critic.net and objective (--set critic.KEY=VALUE)",
                          CRITIC_OPTIONS | CONSTRAINT_OPTIONS),
                         ("Improved-GAN techniques, any objective (--set tricks.KEY=VALUE, [tricks] in TOML)", TRICKS),
                         ("DiffAugment policies, image runs (--set train.augment=translation,cutout,color)",
                          {k: v.description for k, v in POLICIES.items()})):
        print(f"\n{title}:")
        for k, v in table.items():
            print(f"  {k:<16} {v}")
    from .nets.space import ZOO, arch_listing

    print("\narchitectures (--set generator.arch=NAME / critic.arch=NAME; WGAN-GP Table 1 and Fig. 2):")
    for k, v in arch_listing().items():
        print(f"  {k:<24} {v}")
    print("  Fig. 2 zoo rows (generator.arch, critic.arch): " + "; ".join(
        f"{e.name} = ({e.generator}, {e.critic})" for e in ZOO.values()))
    print("\n  any .npy/.csv file of (N, D) points also works as --data PATH")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .experiments import Context, Progress, all_experiments, full_table, get, run_experiment
    from .experiments._claims import IDENTITY_FAILS
    from .experiments._protocol import table_markdown

    if args.list:
        from .experiments._report import committed_verdicts

        for e in all_experiments().values():
            print(f"{e.name:<24} {e.paper}, {e.figure}\n{'':<24} {e.claim}")
            verdicts = committed_verdicts(e.name)
            for spec in e.claims:
                print("\n".join(f"{'':<26}{line}" for line in spec.listing().splitlines()))
                print(f"{'':<28}committed run: {verdicts.get(spec.name, 'none published')}")
        return 0
    if args.report:
        from .experiments._report import REPORT, RESULTS_DIR, write_report

        if args.name:
            raise ConfigError("--report regenerates the whole table; give it no NAME (wgan reproduce --report)")
        changed, pages = write_report()
        print(f"{REPORT}: {'updated' if changed else 'current'} (from {RESULTS_DIR}); pages updated: "
              f"{', '.join(p.name for p in pages) or 'none'}")
        return 0
    if not args.name:
        raise ConfigError("name a reproduction (wgan reproduce NAME) or list them with wgan reproduce --list")
    exp = get(args.name)
    from .config import check_value

    if args.seeds is not None and not 1 <= args.seeds <= 10_000:
        raise ConfigError(f"--seeds must be in [1, 10000], got {args.seeds}")
    check_value("train.steps", args.steps, "--steps")
    for flag in ("n", "workers"):
        v = getattr(args, flag)
        if v is not None and v < 1:
            raise ConfigError(f"--{flag} must be at least 1, got {v}")
    out = Path(args.out) if args.out else Path("reproductions") / exp.name
    ctx = Context(out=out, quick=args.quick, seeds=args.seeds, steps=args.steps, device=args.device, data=args.data,
                  n=args.n, workers=args.workers, backend=args.backend, ray_address=args.ray_address,
                  budget=args.budget)
    if args.quick and args.budget != "cpu":
        raise ConfigError("--quick is a smoke-test size of its own; drop --budget paper or --quick")
    if args.protocol:
        print(table_markdown(full_table(exp.name, ctx)))
        return 0
    if args.rejudge:
        from .experiments._report import rejudge
        from .io import write_json

        if not args.out:
            raise ConfigError("--rejudge writes a results.json: name its folder with --out DIR")
        if (out / "results.json").exists() and not args.force:
            raise ConfigError(f"{out / 'results.json'} exists; choose another --out or pass --force to overwrite it")
        res = rejudge(exp.name)
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "results.json", res)
        for c in res["claims"]:
            print(c.get("line", f"[{c['verdict']}] {c['name']}"))
        for k, v in res["rejudged"]["not_rejudged"].items():
            print(f"not judged again: {k}: {v}")
        print(f"results: {out / 'results.json'} (publish it with --publish --out {out})")
        return 0
    if args.publish:
        from .experiments._report import publish

        print(f"published {publish(out / 'results.json', exp.name)}; now run wgan reproduce --report")
        return 0
    if args.estimate:
        if args.quick and exp.study is None:
            raise ConfigError("--estimate sizes a full run at --budget (cpu or paper); --quick runs in seconds: drop "
                              "--quick")
        if exp.study is not None:
            study, folder = exp.study(ctx)
            return _print_estimate(study, folder, args.workers)
        from .console import say
        from .experiments._budget import estimate

        print(estimate(exp.name, ctx, report=say).line(exp.name))
        return 0
    if (out / "results.json").exists() and not args.force:
        raise ConfigError(f"{out / 'results.json'} exists; choose another --out or pass --force to overwrite it")
    from .console import say

    say(f"{exp.name}: {exp.paper}, {exp.figure}{' (quick)' if args.quick else ''}")
    progress = Progress(exp.name, report=say)
    try:
        result = run_experiment(exp.name, replace(ctx, progress=progress))
    except KeyboardInterrupt:
        say(_reproduce_interrupted(exp.name, out, progress))
        return 130
    for claim in result.claims:
        print(claim.verdict())
    broken = [c.name for c in result.claims if c.status == IDENTITY_FAILS]
    if broken:
        say(f"BUG: the identit{'ies' if len(broken) > 1 else 'y'} {', '.join(broken)} failed: wgan's code computes a "
            "closed form wrongly; please report it with results.json")
    if args.quick:
        print("(--quick: tiny networks, few steps and seeds; these verdicts are a smoke test of the code, not "
              "measurements of the claim; run without --quick for those)")
    print(f"results: {out / 'results.json'}" + "".join(f"\nfigure: {out / f}" for f in result.figures))
    return 0


def _reproduce_interrupted(name: str, out: Path, progress) -> str:
    """One line after Ctrl-C stopped a reproduction: where it was, and what it kept."""
    kept = [f"{n} finished run(s) in {folder} ({what})" for folder, what in progress.kept
            if (n := sum(1 for f in folder.glob("*") if f.is_file()))]
    saved = "; kept " + ", ".join(kept) if kept else "; nothing kept (this reproduction writes its results at the end)"
    return (f"\nwgan reproduce {name}: interrupted after {progress.elapsed()}, during {progress.stage}; "
            f"{out / 'results.json'} not written{saved}")


def cmd_study(args: argparse.Namespace) -> int:
    from .studies import load_spec, run_study
    from .studies.runner import run_state

    study = load_spec(args.spec)
    out = Path(args.out) if args.out else Path("studies") / study.name
    runs = study.runs()
    if args.dry_run:
        for r in runs:
            done = run_state(out / "runs" / r.name) == "finished"
            print(f"{'done' if done else 'todo'}  {r.name}  {r.label}  seed {r.seed}")
        for r in study.refused:
            print(f"refused  {r.label}: {r.reason}")
        refused = f" ({len(study.refused)} point(s) refused)" if study.refused else ""
        print(f"{len(runs)} runs into {out}/runs{refused}")
        return 0
    if args.estimate:
        return _print_estimate(study, out, args.workers)
    if args.aggregate:
        from .studies.runner import aggregate_finished

        files, done = aggregate_finished(study, out)
        print(f"{study.name}: {done} of {len(runs)} runs finished; aggregate of those:")
        for kind, path in files.items():
            print(f"{kind}: {path}")
        return 0
    report = run_study(study, out, backend=args.backend, workers=args.workers, ray_address=args.ray_address,
                       ray_num_cpus=args.ray_cpus, ray_num_gpus=args.ray_gpus)
    print(f"{study.name}: {len(runs)} runs, {len(report.failed)} failed, {report.wall_s:.1f} s")
    for kind, path in report.files.items():
        print(f"{kind}: {path}")
    return 1 if report.failed else 0


def _print_estimate(study, out: Path, workers: int) -> int:
    from .console import duration
    from .studies.estimate import estimate_study, makespan

    def line(e) -> None:
        cost = "finished" if e.status == "done" else f"~{duration(e.seconds)} ({e.status}, {e.steps_left} steps)"
        print(f"{e.label}  seed {e.seed}: {cost}", flush=True)

    estimates = estimate_study(study, out, on_run=line)
    todo = [e.seconds for e in estimates if e.status != "done"]
    total = sum(todo)
    if study.refused:
        print(f"{len(study.refused)} point(s) refused by the spec, not estimated (--dry-run lists them)")
    clock = "CPU time" if all(e.on_cpu for e in estimates) else "training time (wall time on the GPU)"
    print(f"{study.name}: {len(todo)} of {len(estimates)} runs to train, ~{duration(total)} of {clock}; with "
          f"--workers {workers}: ~{duration(makespan(todo, workers))} (training steps only, one torch thread each; "
          "evaluation, samples and checkpoints not counted)")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .io import write_json
    from .training.trainer import Trainer

    trainer = Trainer.resume(args.run_dir)
    if any(v is not None for v in (args.metrics, args.classifier, args.inception_weights, args.n_samples)):
        from .kinds import eval_config

        if not trainer.kind.metric_options and any(v is not None for v in (args.metrics, args.classifier,
                                                                            args.inception_weights)):
            raise ConfigError(f"--metrics, --classifier and --inception-weights apply to image runs; this run's data "
                              f"is {trainer.sampler.kind} (its evaluation is fixed: see `wgan list`)")

        trainer.cfg = eval_config(trainer.cfg, args.metrics, args.classifier, args.inception_weights, args.n_samples)
        trainer.eval_cache.clear()
    summary = trainer.eval_summary()
    write_json(Path(args.run_dir) / "eval.json", summary)
    _print_summary(summary, trainer.sampler.kind)
    print(f"every figure with its protocol: {Path(args.run_dir) / 'eval.json'}")
    return 0


def cmd_classifier(args: argparse.Namespace) -> int:
    import torch

    from .config import Config, apply_sets, check_value
    from .data import make_sampler
    from .kinds import data_kind
    from .metrics.classifier import save_classifier
    from .resolve import resolve

    out = Path(args.out)
    if out.exists() and not args.force:
        raise ConfigError(f"{args.out!r} exists; choose another name or pass --force to overwrite it")
    if any(not item.startswith("data.") for item in args.sets):
        raise ConfigError("wgan classifier train: --set takes data options only, e.g. --set data.image_size=32")
    if args.steps is not None:
        check_value("train.steps", args.steps, "--steps")
    check_value("train.seed", args.seed, "--seed")
    cfg = resolve(apply_sets(Config(), [f"data.name={args.data}", *args.sets]))
    sampler = make_sampler(cfg.data.name, cfg.data)
    train_data_classifier = data_kind(sampler.kind).train_classifier
    if train_data_classifier is None:
        raise ConfigError(f"--data {args.data!r} is {sampler.kind} data; a classifier needs images")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    net, info = train_data_classifier(sampler, steps=args.steps, seed=args.seed, device=device)
    save_classifier(out, net, info)
    print(f"held-out accuracy {info.held_out_accuracy:.4f} on {info.n_held_out} images ({info.n_train} training "
          f"images, {info.steps} steps, {info.train_time_s:.1f} s, {torch.get_num_threads()} threads)")
    print(f"wrote {out}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from .training.trainer import Trainer

    if args.out is None or args.out.endswith(".txt"):
        return _sample_text(args)
    out = Path(args.out)
    if out.suffix not in (".npy", ".csv", ".png"):
        raise ConfigError(f"--out {args.out!r}: use a file name ending in .npy, .csv or .png")
    if out.exists() and not args.force:
        raise ConfigError(f"{args.out!r} exists; choose another name or pass --force to overwrite it")
    _check_sample_args(args)
    trainer = Trainer.resume(args.run_dir)
    from .samples import write_samples

    write_samples(trainer, args.n, args.seed, out)  # streamed in chunks; formats checked against the data kind
    print(f"wrote {args.n} samples to {out}")
    return 0


def _check_sample_args(args: argparse.Namespace) -> None:
    from .config import check_value

    if args.n < 1:
        raise ConfigError(f"--n must be at least 1, got {args.n}")
    check_value("train.seed", args.seed, "--seed")


def _sample_text(args: argparse.Namespace) -> int:
    """``wgan sample RUN`` for text runs: argmax-decoded sentences, printed or written one a line to ``--out``."""
    from .training.trainer import Trainer

    _check_sample_args(args)
    out = Path(args.out) if args.out is not None else None
    if out is not None and out.exists() and not args.force:
        raise ConfigError(f"{args.out!r} exists; choose another name or pass --force to overwrite it")
    trainer = Trainer.resume(args.run_dir)
    if trainer.kind.sample_lines is None:
        raise ConfigError(f"this run's data is of kind {trainer.sampler.kind!r}, not text: give --out FILE "
                          f"({', '.join(trainer.kind.sample_formats)})")
    lines = trainer.kind.sample_lines(trainer, args.n, args.seed)
    if out is None:
        print("\n".join(lines))
        return 0
    from .io import atomic_write

    data = "".join(line + "\n" for line in lines).encode()
    atomic_write(out, lambda f: f.write(data))
    print(f"wrote {args.n} sentences to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one ``wgan`` command; ``argv`` defaults to ``sys.argv[1:]``. Returns the exit code."""
    code = _run(argv)
    if argv is None:  # the `wgan` program itself (console script, python -m wgan.cli): the process ends next
        _skip_final_collection()
    return code


def _skip_final_collection() -> None:
    """Move every live object to the collector's permanent generation (``gc.freeze``), so that the interpreter's
    final collection at exit skips the millions that torch, POT and matplotlib made: it took about a second of a
    ``wgan train`` (issue #22), to free memory the system takes back anyway. Called only when the command has
    returned: its files are written and closed; atexit handlers still run and stdout/stderr are still flushed.
    Never in a caller's process (``main(argv)`` with a list), where frozen objects would never be collected."""
    import gc

    gc.freeze()


def _run(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    handler = {"train": cmd_train, "list": cmd_list, "eval": cmd_eval, "sample": cmd_sample,
               "reproduce": cmd_reproduce, "classifier": cmd_classifier, "study": cmd_study,
               "fetch": cmd_fetch}[args.command]
    if getattr(args, "offline", False):  # read by wgan.fetch here and in every worker process started below
        from .fetch import OFFLINE_ENV

        os.environ[OFFLINE_ENV] = "1"
    from .console import guarded_std_streams, say

    # stdout/stderr whose reader went away (`| head`, `| tee` killed by the same Ctrl-C) swallow what is written
    # to them, so that a closed pipe can neither stop a run before its checkpoint nor pass for success
    with guarded_std_streams():
        try:
            return handler(args)
        except TrainingDiverged as e:  # the NaN guard stopped a run (wgan.training.guard): exit 3, the fix in the line
            say(f"wgan {args.command}: error: {e}")
            return 3
        except ConfigError as e:
            say(f"wgan {args.command}: error: {e}")
            return 2
        except KeyboardInterrupt:  # Ctrl-C outside the training loop (which handles its own): stop, no traceback
            say(f"\nwgan {args.command}: interrupted")
            return 130
        except OSError as e:  # unwritable --out, full disk, ...: the system's own one-line reason
            say(f"wgan {args.command}: error: {e}")
            return 1
        except (MemoryError, RuntimeError) as e:  # what no estimate foresaw (wgan.limits checks the known sizes)
            if not isinstance(e, MemoryError) and type(e).__name__ != "OutOfMemoryError":
                raise
            first = (str(e).splitlines() or [""])[0][:200]
            say(f"wgan {args.command}: error: out of memory ({type(e).__name__}: {first}); lower data.batch_size, "
                "eval.n_samples or the network widths")
            return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

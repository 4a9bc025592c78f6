"""``creative4u eval``: score a judge on labelled pairs, compare runs, evaluate the check suite.

>>> args = build_action_parser("run").parse_args(["pairs.jsonl", "--backend", "single:sharpness", "--out", "o"])
>>> args.pairs, args.backend, args.orders
('pairs.jsonl', 'single:sharpness', None)
>>> split_action("compare", ["runs/a", "runs/b"])
('compare', ['runs/a', 'runs/b'])
>>> split_action("bench/test.jsonl", ["--backend", "random"])
('run', ['bench/test.jsonl', '--backend', 'random'])

Three forms share the ``eval`` command; the first word after it picks the action and anything else is a pairs file::

    creative4u eval PAIRS.jsonl --backend NAME --out DIR [--limit N] [--orders both|ab] [backend options]
    creative4u eval compare DIR1 DIR2 [...] [--out DIR]
    creative4u eval checks LABELS.jsonl --out DIR [--target-false-flag 0.05]

``run`` and ``checks`` read their config with :mod:`creative4u.config`: ``--config FILE`` (YAML, keys = the fields
that ``--help-config`` lists), then the flags given, then ``--set KEY=VALUE`` (dotted: any backend option is
``--set backend_options.KEY=VALUE``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from creative4u.config import add_config_arguments, config_from_args

USAGE = """creative4u eval PAIRS.jsonl --backend NAME --out DIR [--limit N] [--orders both|ab] [--set K=V] [options]
       creative4u eval compare DIR1 DIR2 [...] [--out DIR]
       creative4u eval checks LABELS.jsonl --out DIR [--target-false-flag 0.05]"""

EPILOG = """actions:
  (default) run   judge every pair of PAIRS.jsonl (resumable) -> predictions.jsonl, metrics.json, report.md/html
  compare         side-by-side table of run folders with paired significance tests
  checks          recall / false flags / ROC per check on per-image labels, and calibrated thresholds

`creative4u eval run --help`, `creative4u eval compare --help`, `creative4u eval checks --help` list every option."""

ACTIONS = ("run", "compare", "checks")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("eval", help="evaluate a judge on pairs; compare runs; evaluate the checks", usage=USAGE,
                       description="Offline evaluation of judges and checks.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", nargs="?", metavar="PAIRS.jsonl|compare|checks", help="pairs file, or an action name")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="the action's arguments")
    # The run options are known here too, so they may come before the pairs file (`eval --config C --out D`);
    # everything after the first word is parsed again by the action's own parser.
    _add_run_options(p)
    p.set_defaults(func=run_eval_command, eval_parser=p)


def split_action(target: str | None, rest: list[str]) -> tuple[str, list[str]]:
    """The action to run and its arguments: a leading action name is taken, anything else is a pairs file."""
    if target in ACTIONS:
        return target, list(rest)
    return "run", ([target] if target else []) + list(rest)


def _help(cls: type, name: str) -> str:
    """A config field's help text, escaped for argparse (which %-formats help strings)."""
    return next(f.metadata.get("help", "") for f in dataclasses.fields(cls) if f.name == name).replace("%", "%%")


def _run_parser() -> argparse.ArgumentParser:
    from creative4u.eval.runner import EvalConfig as C

    p = argparse.ArgumentParser(prog="creative4u eval", description="Judge every pair in both orders and score it.")
    p.add_argument("pairs", nargs="?", default=None, help=_help(C, "pairs"))
    _add_run_options(p)
    return p


def _add_run_options(p: argparse.ArgumentParser) -> None:
    from creative4u.cli.judge_flags import add_judge_flags
    from creative4u.eval.runner import EvalConfig as C

    add_config_arguments(p, C)
    p.add_argument("--out", default=None, help=_help(C, "out"))
    p.add_argument("--backend", default=None, help=_help(C, "backend") + " (default: feature)")
    p.add_argument("--feature", default=None, help=_help(C, "feature"))
    p.add_argument("--seed", type=int, default=None, help=_help(C, "seed"))
    p.add_argument("--orders", choices=["both", "ab"], default=None, help=_help(C, "orders") + " (default: both)")
    p.add_argument("--limit", type=int, default=None, help=_help(C, "limit"))
    p.add_argument("--batch-size", type=int, default=None, help=_help(C, "batch_size") + " (default: 32)")
    p.add_argument("--profile", default=None, help=_help(C, "profile"))
    p.add_argument("--cache-dir", default=None, help=_help(C, "cache_dir"))
    p.add_argument("--bootstrap", type=int, default=None, help=_help(C, "bootstrap"))
    p.add_argument("--worst", type=int, default=None, help=_help(C, "worst"))
    p.add_argument("--overwrite", action="store_true", default=None, help=_help(C, "overwrite"))
    p.add_argument("--no-report", dest="report", action="store_false", default=None, help="skip report.md/html")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None, help="no progress bar")
    # Typed from the backends' options dataclasses; each one is --set backend_options.<opt>=VALUE. After the run
    # options: --seed, --feature, --batch-size, --profile and --cache-dir keep eval's meaning.
    add_judge_flags(p, dest_prefix="opt_")


def _compare_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="creative4u eval compare", description="Compare evaluation runs side by side.")
    p.add_argument("dirs", nargs="+", help="run folders (the first is the reference)")
    p.add_argument("--out", default=None, help="where compare.md/json go (default: <parent of DIR1>/compare)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the McNemar test")
    return p


def _checks_parser() -> argparse.ArgumentParser:
    from creative4u.eval.checks_eval import ChecksEvalConfig as C

    p = argparse.ArgumentParser(prog="creative4u eval checks", description="Evaluate and calibrate the check suite.")
    p.add_argument("labels", nargs="?", default=None, help=_help(C, "labels"))
    add_config_arguments(p, C)
    p.add_argument("--out", default=None, help=_help(C, "out"))
    p.add_argument("--label-map", default=None, help=_help(C, "label_map"))
    p.add_argument("--profile", default=None, help=_help(C, "profile"))
    p.add_argument("--target-false-flag", type=float, default=None, help=_help(C, "target_false_flag"))
    p.add_argument("--ensemble-target", type=float, default=None, help=_help(C, "ensemble_target"))
    p.add_argument("--cache-dir", default=None, help=_help(C, "cache_dir"))
    p.add_argument("--limit", type=int, default=None, help=_help(C, "limit"))
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None, help="no progress bar")
    return p


def build_action_parser(action: str) -> argparse.ArgumentParser:
    return {"run": _run_parser, "compare": _compare_parser, "checks": _checks_parser}[action]()


# Flags that set the config field of the same name (argparse dest = field name); given ones go to config_from_args.
RUN_FIELDS = ("pairs", "out", "feature", "seed", "orders", "limit", "batch_size", "profile", "cache_dir", "bootstrap",
              "worst", "overwrite", "report", "progress")
CHECKS_FIELDS = ("labels", "out", "label_map", "profile", "target_false_flag", "ensemble_target", "cache_dir", "limit",
                 "progress")


def run_extra(args: argparse.Namespace) -> dict[str, Any]:
    """The dotted config values the run flags give (None = not given), for :func:`creative4u.config.config_from_args`.

    >>> ns = build_action_parser("run").parse_args(["p.jsonl", "--feature", "noise", "--timeout", "5"])
    >>> {k: v for k, v in run_extra(ns).items() if v is not None}
    {'pairs': 'p.jsonl', 'feature': 'noise', 'backend': 'single_feature', 'backend_options.timeout': 5.0}
    """
    extra = {k: getattr(args, k, None) for k in RUN_FIELDS}
    extra["backend"] = args.backend or ("single_feature" if args.feature else None)  # --feature alone: that baseline
    extra.update({f"backend_options.{k[4:]}": v for k, v in vars(args).items() if k.startswith("opt_")})
    return extra


def do_run(args: argparse.Namespace) -> int:
    from creative4u.eval.report import headline_rows
    from creative4u.eval.runner import EvalConfig, run_eval

    config = config_from_args(EvalConfig, args, run_extra(args))
    if not config.pairs or not config.out:
        raise ValueError("give the pairs file and --out DIR (or set pairs/out in --config)")
    metrics = run_eval(config)
    width = max(len(k) for k, _ in headline_rows(metrics))
    print("\n".join(f"{k.ljust(width)}  {v}" for k, v in headline_rows(metrics)))
    print(f"\nwrote {config.out}/metrics.json" + (f", {config.out}/report.md, report.html" if config.report else ""))
    return 0


def do_compare(args: argparse.Namespace) -> int:
    from creative4u.eval.compare import write_comparison

    out = args.out or str(Path(args.dirs[0]).resolve().parent / "compare")
    table, _ = write_comparison(args.dirs, out, alpha=args.alpha)
    print(table)
    print(f"wrote {out}/compare.md and compare.json")
    return 0


def do_checks(args: argparse.Namespace) -> int:
    from creative4u.eval.checks_eval import ChecksEvalConfig, run_checks_eval

    config = config_from_args(ChecksEvalConfig, args, {k: getattr(args, k, None) for k in CHECKS_FIELDS})
    if not config.labels or not config.out:
        raise ValueError("give the labels file and --out DIR (or set labels/out in --config)")
    m = run_checks_eval(config)
    print(f"{m['images']} images ({m['clean_images']} clean); target false flags {m['target_false_flag']:.0%}")
    for name, b in m["checks"].items():
        cal = b.get("calibrated") or {}
        cur = b["current"]
        print(f"  {name:14s} AUC {b.get('auc', 'n/a')!s:6s} current thr {cur['threshold']:<6} recall "
              f"{_pct(cur['recall'])} ffr {_pct(cur['false_flag_rate'])} | calibrated thr "
              f"{cal.get('threshold', 'n/a')!s:<8} recall {_pct(cal.get('recall'))} "
              f"ffr {_pct(cal.get('false_flag_rate'))}")
    ens = m["ensemble"]
    print(f"ensemble false rejections: current {_pct(ens['current']['false_rejection_rate'])}, "
          f"per-check calibrated {_pct(ens['calibrated']['false_rejection_rate'])}")
    if "ensemble_calibrated" in ens:
        e = ens["ensemble_calibrated"]
        print(f"jointly calibrated for {e['target']:.0%}: the suite rejects {_pct(e['false_rejection_rate'])} of "
              f"clean images; per-check false flags {e['per_check_false_flag']}")
    print(f"wrote {config.out}/checks_metrics.json, report.md, roc_*.png, calibrated_profile.yaml")
    return 0


def _pct(x: float | None) -> str:
    return "  n/a" if x is None else f"{x:5.1%}"


def run_eval_command(args: argparse.Namespace) -> int:
    early = {k: v for k, v in vars(args).items() if k not in _EVAL_KEYS and v not in (None, [])}
    if args.target is None and not args.rest and not early:
        args.eval_parser.print_help(sys.stderr)
        return 2
    action, rest = split_action(args.target, args.rest)
    if action != "run" and early:
        raise ValueError(f"eval {action}: put its options after the action name (got {sorted(early)} before it)")
    # Options given before the pairs file seed the namespace; the ones after it override them.
    sub = build_action_parser(action).parse_args(rest, namespace=argparse.Namespace(**early))
    return {"run": do_run, "compare": do_compare, "checks": do_checks}[action](sub)


_EVAL_KEYS = {"target", "rest", "func", "eval_parser", "command"}

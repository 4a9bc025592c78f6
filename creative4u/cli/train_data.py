"""Training-data actions of ``creative4u data``: build-sft, build-grpo, from-ctr, from-builder, validate, rationales.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="creative4u data")
>>> actions = parser.add_subparsers(dest="data_action")
>>> for name, (add, run, text) in ACTIONS.items():
...     add(actions.add_parser(name))
>>> args = parser.parse_args(["from-ctr", "log.csv", "--out", "pairs.jsonl", "--min-impressions", "500"])
>>> ctr_config(args).min_impressions, ctr_config(args).balance
(500, True)

:data:`ACTIONS` has the shape of ``creative4u.cli.data.ACTIONS`` (name -> (add arguments, run, help)), which
merges it; every run function imports its heavy dependencies itself. Options of ``from-ctr`` and ``build-*`` are
generated from the config dataclasses (:class:`creative4u.data.ctr_pairs.CTRPairConfig`,
:class:`creative4u.data.sft_data.BuildConfig`), so flags, YAML keys and help texts never drift apart.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from creative4u.data.ctr_pairs import CTRPairConfig
from creative4u.data.sft_data import BuildConfig


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_dataclass_flags(p: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """One ``--flag`` per dataclass field (bools: ``--x`` / ``--no-x``), help from the field's metadata."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        kind, text = hints[f.name], f.metadata.get("help", "")
        default = f.default if f.default is not dataclasses.MISSING else None
        if kind is bool:
            p.add_argument(_flag(f.name), dest=f.name, action=argparse.BooleanOptionalAction, default=default,
                           help=f"{text} (default: {default})")
        elif "list" in str(kind):
            p.add_argument(_flag(f.name), dest=f.name, type=int, nargs="+", default=default, help=text)
        else:
            base = next((t for t in (int, float) if t in typing.get_args(kind) or kind is t), str)
            p.add_argument(_flag(f.name), dest=f.name, type=base, default=default, help=f"{text} (default: {default})")


def _from_args(cls: type, args: argparse.Namespace) -> Any:
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)})


def ctr_config(args: argparse.Namespace) -> CTRPairConfig:
    return _from_args(CTRPairConfig, args)


# ---------------------------------------------------------------------------------------------------- actions
def _add_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("pairs", help="CreativePair JSONL (validated first)")
    p.add_argument("--out", required=True, help="output folder (dataset + README.md card + summary.json)")
    p.add_argument("--format", default="arrow", choices=["arrow", "parquet"], help="arrow (save_to_disk) or parquet")
    add_dataclass_flags(p, BuildConfig)


def _run_build(kind: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from creative4u.data.sft_data import build_and_save

        summary = build_and_save(args.pairs, args.out, kind, _from_args(BuildConfig, args), fmt=args.format)
        print(json.dumps({k: v for k, v in summary.items() if k != "pair_set"}, indent=2))
        return 0

    return run


def _add_from_ctr(p: argparse.ArgumentParser) -> None:
    p.add_argument("log", help="creatives with impressions and clicks: CSV (header) or JSONL")
    p.add_argument("--out", required=True, help="CreativePair JSONL to write")
    add_dataclass_flags(p, CTRPairConfig)


def _run_from_ctr(args: argparse.Namespace) -> int:
    from creative4u.data.ctr_pairs import pairs_from_ctr
    from creative4u.data.pairs import write_pairs

    pairs, stats = pairs_from_ctr(args.log, ctr_config(args))
    write_pairs(args.out, pairs)
    print(json.dumps({"output": args.out, **stats}, indent=2))
    return 0 if pairs else 1


def _add_from_builder(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="a folder written by build_pairs / `creative4u data build-bench`")
    p.add_argument("--splits", nargs="+", default=["train"], help="splits to convert (train, test)")
    p.add_argument("--out", required=True, help="CreativePair JSONL to write")


def _run_from_builder(args: argparse.Namespace) -> int:
    from creative4u.data.ctr_pairs import pairs_from_builder
    from creative4u.data.pairs import write_pairs
    from creative4u.data.validate import summarize_pairs

    pairs = pairs_from_builder(args.folder, args.splits)
    write_pairs(args.out, pairs)
    print(json.dumps({"output": args.out, **summarize_pairs(pairs)}, indent=2))
    return 0


def _add_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("pairs", help="CreativePair JSONL")
    p.add_argument("--decode", action="store_true", help="also decode every image with the safe loader (slower)")
    p.add_argument("--no-ties", action="store_true", help="a 'tie' label is a problem (training needs a winner)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")


def _run_validate(args: argparse.Namespace) -> int:
    from creative4u.data.validate import validate_pairs

    report = validate_pairs(args.pairs, decode_images=args.decode, allow_ties=not args.no_ties)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(json.dumps(report.summary, indent=2))
        for issue in report.issues[:50]:
            print(f"problem: {issue}", file=sys.stderr)
        if len(report.issues) > 50:
            print(f"... and {len(report.issues) - 50} more problems", file=sys.stderr)
    return 0 if report.ok else 1


def _add_rationales(p: argparse.ArgumentParser) -> None:
    p.add_argument("pairs", help="CreativePair JSONL")
    p.add_argument("--out", required=True, help="JSONL to write (pairs with their rationale)")
    p.add_argument("--mode", required=True, choices=["teacher", "template"], help="teacher VLM or check template")
    p.add_argument("--teacher-url", default="", help="teacher: OpenAI-compatible base URL (…/v1)")
    p.add_argument("--teacher-model", default="", help="teacher: model name")
    p.add_argument("--api-key", default="", help="teacher: API key (default $OPENAI_API_KEY)")
    p.add_argument("--concurrency", type=int, default=4, help="teacher: requests in flight")
    p.add_argument("--attempts", type=int, default=2, help="teacher: tries per pair before rejecting it")
    p.add_argument("--max-tokens", type=int, default=1024, help="teacher: max tokens per rationale")
    p.add_argument("--temperature", type=float, default=0.3, help="teacher: sampling temperature")
    p.add_argument("--no-checks", action="store_true", help="teacher: do not quote check reports in the prompt")
    p.add_argument("--profile", default="default", help="check profile")
    p.add_argument("--items", type=int, nargs="+", default=None, help="template: protocol items (default all)")
    p.add_argument("--no-scores", action="store_true", help="template: leave the check scores out")
    p.add_argument("--limit", type=int, default=None, help="teacher: at most this many new pairs in this run")


def _run_rationales(args: argparse.Namespace) -> int:
    if args.mode == "teacher":
        from creative4u.data.rationales import TeacherConfig, teacher_rationales

        cfg = TeacherConfig(url=args.teacher_url, model=args.teacher_model, api_key=args.api_key,
                            max_tokens=args.max_tokens, temperature=args.temperature, attempts=args.attempts,
                            concurrency=args.concurrency, with_checks=not args.no_checks, profile=args.profile)
        counts = teacher_rationales(args.pairs, args.out, cfg, limit=args.limit)
        print(json.dumps(counts, indent=2))
        return 0 if counts["errors"] == 0 else 1
    from creative4u.data.pairs import read_pairs, write_pairs
    from creative4u.data.rationales import template_rationales

    pairs = template_rationales(read_pairs(args.pairs), profile=args.profile, items=args.items,
                                scores=not args.no_scores, overwrite=True)
    n = write_pairs(Path(args.out), pairs)
    print(json.dumps({"output": args.out, "written": n}, indent=2))
    return 0


# name -> (add arguments, run, help): the shape of creative4u.cli.data.ACTIONS
ACTIONS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]] = {
    "build-sft": (_add_build, _run_build("sft"), "build the SFT dataset (images, prompt, completion) with a card"),
    "build-grpo": (_add_build, _run_build("grpo"), "build the GRPO dataset (prompt, images, label) with a card"),
    "from-ctr": (_add_from_ctr, _run_from_ctr, "pairs from a creative log with impressions and clicks (CTR gap)"),
    "from-builder": (_add_from_builder, _run_from_builder, "pairs from a build_pairs folder, with build records"),
    "validate": (_add_validate, _run_validate, "check a pair set (images, labels, duplicates) and summarise it"),
    "rationales": (_add_rationales, _run_rationales, "write CoT rationales: teacher VLM (resumable) or template"),
}

"""``creative4u check`` and ``creative4u select``.

>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> add_parser(sub)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from creative4u.cli.judge_flags import add_judge_flags, backend_help, given_options


def add_parser(sub: Any) -> None:
    check = sub.add_parser("check", help="screen images with the check suite", description="Screen creatives.")
    check.add_argument("images", nargs="+", help="image files")
    check.add_argument("--title", default="", help="product title (for the relevance / text_match checks)")
    check.add_argument("--query", "-q", action="append", default=[], dest="queries", help="a user query (repeat)")
    _common(check)
    check.add_argument("--evidence", metavar="DIR", help="write each check's evidence drawn on the image to DIR")
    check.set_defaults(func=run_check)

    select = sub.add_parser("select", help="pick the best creative", description="Pick the best of 2..N creatives.")
    select.add_argument("images", nargs="+", help="2..N image files of one product")
    select.add_argument("--title", default="", help="product title")
    select.add_argument("--query", "-q", action="append", default=[], dest="queries", help="a user query (repeat)")
    select.add_argument("--backend", default="feature", help=backend_help() + " (default: feature)")
    select.add_argument("--strategy", default="round_robin", choices=["round_robin", "tournament"])
    _common(select)
    add_judge_flags(select)  # after _common: --profile and --cache-dir stay the pipeline's
    select.set_defaults(func=run_select)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the structured result as JSON")
    p.add_argument("--profile", default="default", help="check profile name or YAML path (default: default)")
    p.add_argument("--cache-dir", default=None, help="on-disk cache of check measurements")


def _pipeline(args: argparse.Namespace) -> Any:
    from creative4u.pipeline import Pipeline, PipelineConfig

    options = given_options(args)  # only the flags given; one the backend does not take is an error there
    config = PipelineConfig(
        profile=args.profile,
        backend=getattr(args, "backend", "feature"),
        backend_options=options,
        strategy=getattr(args, "strategy", "round_robin"),
        cache_dir=args.cache_dir,
    )
    return Pipeline(config)


def _report_errors(errors: list[dict[str, str]]) -> None:
    for err in errors:
        print(f"creative4u: error: {err['message']}", file=sys.stderr)


def run_check(args: argparse.Namespace) -> int:
    pipeline = _pipeline(args)
    result = pipeline.check(args.images, evidence=bool(args.json), title=args.title, queries=args.queries)
    if args.evidence:
        result["evidence_files"] = _write_evidence(pipeline, args.images, args.evidence)
    return _emit(result, args.json, format_check_table)


def _emit(result: dict[str, Any], as_json: bool, formatter: Any) -> int:
    """Print unreadable files on stderr, the result on stdout; exit 1 when any file could not be read."""
    _report_errors(result["errors"])
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str) if as_json else formatter(result))
    return 1 if result["errors"] else 0


def _write_evidence(pipeline: Any, paths: list[str], out_dir: str) -> list[str]:
    from creative4u.checks.evidence import write_evidence

    images, _ = pipeline.load(paths)
    written: list[str] = []
    for img in images:
        written += [str(p) for p in write_evidence(img, pipeline.suite.screen(img), out_dir)]
    return written


def run_select(args: argparse.Namespace) -> int:
    pipeline = _pipeline(args)
    try:
        result = pipeline.select(args.images, title=args.title, queries=args.queries)
    finally:
        if pipeline._judge is not None:
            pipeline.judge.close()
    return _emit(result, args.json, format_select_table)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_check_table(result: dict[str, Any]) -> str:
    """Human-readable check results: one row per image, one column per check (score, * = flagged)."""
    if not result["images"]:
        return "no readable images"
    names = list(result["images"][0]["checks"])
    rows = [["image", "approved", *names]]
    for img in result["images"]:
        cells = []
        for n in names:
            r = img["checks"].get(n, {})
            mark = {"flagged": "*", "unavailable": " n/a", "error": " err"}.get(r.get("status", ""), "")
            cells.append(f"{r.get('score', 0):.2f}{mark}")
        rows.append([img["name"], "yes" if img["approved"] else "NO", *cells])
    reasons = [f"  {img['name']}: {r}" for img in result["images"] for r in img["reasons"]]
    out = _table(rows)
    return out + ("\n\nflagged (* above):\n" + "\n".join(reasons) if reasons else "")


def format_select_table(result: dict[str, Any]) -> str:
    """Human-readable selection: the ranking table, then the winner and the explanation."""
    rows = [["rank", "creative", "score", "wins", "status"]]
    for r in result["ranking"]:
        status = "vetoed" if r["vetoed"] else ("approved" if r["approved"] else "flagged")
        rows.append([str(r["rank"]), r["name"], f"{r['score']:.3f}", f"{r['wins']:g}", status])
    head = f"winner: {result['winner']}   (backend {result['backend']}, {result['judge_calls']} judge calls)"
    return f"{_table(rows)}\n\n{head}\n\n{result['explanation']}"

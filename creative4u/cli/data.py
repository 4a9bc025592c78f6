"""``creative4u data ACTION``: dataset chores, one entry per action in :data:`ACTIONS`.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="creative4u")
>>> add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["data", "build-bench", "--out", "bench", "--sources", "skimage"])
>>> args.data_action, bench_options(args)["sources"], bench_options(args)["seed"]
('build-bench', 'skimage', 0)

To add an action: write ``_add_<name>(parser)`` and ``_run_<name>(args)`` and list them in ``ACTIONS``; heavy
imports stay inside the run function.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


# Defaults of build-bench; eval/benchmarks/*.yaml name the standard sets (``--manifest``), flags override both.
@dataclass
class BenchBuild:
    """The ``build:`` mapping of a benchmark manifest (eval/benchmarks/*.yaml); every field is also a flag."""

    seed: int = field(default=0, metadata={"help": "seed of crops, degradations and the holdout split"})
    sources: str = field(default="skimage", metadata={"help": "comma-separated photo sources (skimage, debian)"})
    size: int | list[int] = field(default=384, metadata={"help": "creative size: S, or [W, H]"})
    per_photo: int = field(default=2, metadata={"help": "clean creatives per photo"})
    categories: str | list[str] | None = field(default=None, metadata={"help": "degradations (default: all)"})
    max_photos: int | None = field(default=None, metadata={"help": "use only the first N photos (by id)"})
    holdout: float = field(default=0.0, metadata={"help": "fraction of photos also listed in test.jsonl"})
    workers: int = field(default=1, metadata={"help": "processes rendering photos in parallel"})


@dataclass
class BenchManifest:
    """A benchmark manifest: its name, how to build it, which files it writes."""

    name: str = field(default="", metadata={"help": "benchmark name"})
    build: BenchBuild = field(default_factory=BenchBuild, metadata={"help": "build-bench options"})
    files: dict[str, str] = field(default_factory=dict, metadata={"help": "role -> file name in the output"})


BENCH_DEFAULTS: dict[str, Any] = {f.name: getattr(BenchBuild(), f.name) for f in fields(BenchBuild)}


def _add_build_bench(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder (pairs.jsonl, labels.jsonl, images/, manifests)")
    p.add_argument("--manifest", default=None, help="benchmark YAML whose `build:` mapping sets the options below")
    p.add_argument("--seed", type=int, default=None, help="seed: same seed, same bytes (default 0)")
    p.add_argument("--sources", default=None,
                   help="photo sources, comma-separated: skimage (in the wheel, default), debian (apt-get download, "
                        "cached)")
    p.add_argument("--size", type=int, nargs="+", default=None, help="creative size: S or W H (default 384)")
    p.add_argument("--per-photo", type=int, default=None, help="clean creatives per photo (default 2)")
    p.add_argument("--categories", default=None, help="comma-separated degradations (default: all)")
    p.add_argument("--max-photos", type=int, default=None, help="use only the first N photos (by id)")
    p.add_argument("--holdout", type=float, default=None,
                   help="fraction of photos also listed in test.jsonl (default 0: every pair is a benchmark pair)")
    p.add_argument("--workers", type=int, default=None, help="processes rendering photos in parallel (default 1)")


def bench_options(args: argparse.Namespace) -> dict[str, Any]:
    """Defaults, then the manifest's ``build:`` mapping, then the flags given on the command line."""
    from creative4u.config import load_config

    opts = dict(BENCH_DEFAULTS)
    if args.manifest:
        manifest = load_config(BenchManifest, args.manifest, where=f"benchmark manifest {args.manifest}")
        opts.update(asdict(manifest.build))
    opts.update({k: getattr(args, k) for k in BENCH_DEFAULTS if getattr(args, k, None) is not None})
    if isinstance(opts["size"], int):
        opts["size"] = [opts["size"]]
    if isinstance(opts["categories"], list):
        opts["categories"] = ",".join(opts["categories"])
    return opts


def _run_build_bench(args: argparse.Namespace) -> int:
    from creative4u.data.build_pairs import build_check_labels, build_pairs
    from creative4u.data.photos import list_photos

    start = time.perf_counter()
    o = bench_options(args)
    sources = tuple(s.strip() for s in str(o["sources"]).split(",") if s.strip())
    photos = list_photos(sources)[: o["max_photos"]]
    if not photos:
        raise ValueError(f"no photos found for sources {sources}")
    size = o["size"][0] if len(o["size"]) == 1 else tuple(o["size"][:2])
    categories = o["categories"].split(",") if o["categories"] else None
    manifest = build_pairs(args.out, photos, per_photo=o["per_photo"], categories=categories, seed=o["seed"],
                           size=size, holdout_fraction=o["holdout"], workers=o["workers"])
    labels = build_check_labels(args.out)
    bench = write_bench_files(Path(args.out), manifest, labels, {**o, "manifest": args.manifest})
    print(json.dumps({"seconds": round(time.perf_counter() - start, 1), **bench}, indent=2))
    return 0


def write_bench_files(out: Path, manifest: dict[str, Any], labels: dict[str, Any], args: dict[str, Any]) -> dict:
    """Write ``pairs.jsonl`` (every pair of both splits) and ``bench.json`` (what was built, from what, licences)."""
    lines = []
    for split in ("train", "test"):
        path = out / manifest["splits"][split]["file"]
        if path.is_file():
            lines += [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    lines.sort(key=lambda ln: json.loads(ln)["id"])  # one order whatever the split, so runs stay comparable
    (out / "pairs.jsonl").write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")
    bench = {
        "pairs": "pairs.jsonl",
        "n_pairs": len(lines),
        "test": manifest["splits"]["test"]["file"] if manifest["splits"]["test"]["pairs"] else None,
        "n_test_pairs": manifest["splits"]["test"]["pairs"],
        "test_photos": manifest["splits"]["test"]["photos"],
        "labels": "labels.jsonl",
        "n_label_images": labels["images"],
        "build": {k: args.get(k) for k in ("manifest", "seed", "sources", "size", "per_photo", "categories",
                                            "max_photos", "holdout")},
        "sources": manifest["sources"],
        "photos": [{k: p[k] for k in ("id", "source", "licence", "attribution")} for p in manifest["photos"]],
        "manifest": "manifest.json",
    }
    (out / "bench.json").write_text(json.dumps(bench, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return {k: bench[k] for k in ("pairs", "n_pairs", "test", "n_test_pairs", "labels", "n_label_images", "sources")}


# name -> (add the action's arguments, run it, one-line help)
ACTIONS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]] = {
    "build-bench": (_add_build_bench, _run_build_bench,
                    "build the offline benchmark: a pair set and a check-label set from real photos"),
}
# Training-data actions (build-sft, build-grpo, from-ctr, validate, rationales, ...): creative4u/cli/train_data.py
from creative4u.cli.train_data import ACTIONS as _TRAIN_DATA_ACTIONS  # noqa: E402 - kept next to the table it extends

ACTIONS.update(_TRAIN_DATA_ACTIONS)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("data", help="dataset tools (build-bench, ...)", description="Dataset tools.")
    actions = p.add_subparsers(dest="data_action", metavar="ACTION")
    for name, (add, run, text) in ACTIONS.items():
        ap = actions.add_parser(name, help=text, description=text)
        add(ap)
        ap.set_defaults(func=run)
    p.set_defaults(func=lambda args: _no_action(p))


def _no_action(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2

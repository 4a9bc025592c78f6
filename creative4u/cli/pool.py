"""``creative4u pool screen`` and ``creative4u pool judge``: whole pools on Ray Data (the ``pool`` extra).

>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> add_parser(sub)
>>> args = sub.choices["pool"].parse_args(["screen", "imgs/", "--out", "res/", "--num-cpus", "2"])
>>> args.src, args.out, args.num_cpus, args.address
('imgs/', 'res/', 2, None)

Without ``--address`` a local Ray cluster is started for the run (all cores, or ``--num-cpus``) and stopped at the
end; with ``--address`` (``auto``, ``ray://head:10001`` or ``head:6379``) the job runs on that cluster. A rerun with
the same ``--out`` resumes: images (pairs) already written are skipped.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from creative4u.cli.judge_flags import add_judge_flags, backend_help, given_options


def add_parser(sub: Any) -> None:
    pool = sub.add_parser("pool", help="screen or judge a whole pool on Ray", description=__doc__.split("\n\n")[0])
    actions = pool.add_subparsers(dest="pool_command", metavar="ACTION")

    screen = actions.add_parser("screen", help="run the check suite over every image of a pool",
                                description="Screen a pool: one Parquet row per image, as `check --json`.")
    screen.add_argument("src", help="a folder, a glob, a CreativePair/manifest JSONL or a Parquet/CSV of images")
    screen.add_argument("--out", required=True, help="output folder (Parquet parts; rerun it to resume)")
    screen.add_argument("--profile", default="default", help="check profile name or YAML path (default: default)")
    screen.add_argument("--column", default=None, help="the image column of a Parquet/CSV/JSONL source")
    screen.add_argument("--all-files", action="store_true", help="a folder: every file, not just image suffixes")
    screen.add_argument("--evidence", metavar="DIR", default=None, help="draw each check's evidence into DIR")
    screen.add_argument("--cache-dir", default=None, help="on-disk cache of check measurements (shared is best)")
    _ray_flags(screen)
    screen.set_defaults(func=run_screen)

    judge = actions.add_parser("judge", help="judge every pair of a CreativePair set in both orders",
                               description="Judge a pair set as `select` judges two creatives.")
    judge.add_argument("pairs", help="a CreativePair JSONL")
    judge.add_argument("--out", required=True, help="output folder (Parquet parts; rerun it to resume)")
    judge.add_argument("--backend", default="feature", help=backend_help() + " (default: feature)")
    judge.add_argument("--profile", default="default", help="check profile name or YAML path (default: default)")
    _ray_flags(judge)
    add_judge_flags(judge)  # --base-url, --model, --concurrency (requests in flight per worker), ...
    judge.set_defaults(func=run_judge)
    pool.set_defaults(func=lambda _args: pool.print_help() or 2)


def _ray_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--address", default=None, help="a running Ray cluster (default: start a local one)")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of the local cluster (default: all)")
    p.add_argument("--actors", type=int, default=None, help="worker actors, 1 CPU each (default: one per CPU)")
    p.add_argument("--batch-size", type=int, default=16, help="items per batch and per Parquet part (default: 16)")
    p.add_argument("--object-store-mb", type=int, default=512, help="a local cluster's object store (default: 512)")


def _ray(args: argparse.Namespace) -> Any:
    from creative4u.pool.cluster import RayOptions

    if args.batch_size < 1 or (args.actors is not None and args.actors < 1):
        raise ValueError("--batch-size and --actors must be at least 1")
    return RayOptions(address=args.address, num_cpus=args.num_cpus, object_store_mb=args.object_store_mb)


def run_screen(args: argparse.Namespace) -> int:
    from creative4u.pool.screen import ScreenJob, screen_pool

    job = ScreenJob(src=args.src, out=args.out, profile=args.profile, ray=_ray(args), batch_size=args.batch_size,
                    concurrency=args.actors, cache_dir=args.cache_dir, evidence_dir=args.evidence,
                    column=args.column, all_files=args.all_files)
    print(json.dumps(screen_pool(job), indent=2))
    return 0


def run_judge(args: argparse.Namespace) -> int:
    from creative4u.pool.judge import JudgeJob, judge_pool

    job = JudgeJob(pairs=args.pairs, out=args.out, backend=args.backend, backend_options=given_options(args),
                   profile=args.profile, ray=_ray(args), batch_size=args.batch_size, concurrency=args.actors)
    print(json.dumps(judge_pool(job), indent=2))
    return 0

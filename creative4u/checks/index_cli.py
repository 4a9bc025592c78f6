"""``creative4u index add DIR`` / ``creative4u index stats``: manage the store of known images (duplicate check).

>>> import tempfile, os
>>> from PIL import Image
>>> d = tempfile.mkdtemp(); Image.new("RGB", (32, 32), "red").save(os.path.join(d, "a.png"))
>>> db = os.path.join(d, "idx.sqlite")
>>> index_add(db, [d])["added"], index_stats(db)["images"]
(1, 1)

The lead's CLI wires these either through :func:`add_index_arguments` (argparse sub-commands) or by calling
:func:`index_add` / :func:`index_stats` directly. Every file goes through the safe loader, so a broken or hostile
file is reported and skipped, never indexed.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from creative4u.checks.duplicate import HashStore, default_db_path
from creative4u.images import IMAGE_SUFFIXES, ImageLoadError, load_image


def iter_image_files(paths: Iterable[str | os.PathLike], recursive: bool = True) -> Iterator[Path]:
    """Image files under each path (a file is yielded as is), sorted, by suffix.

    >>> list(iter_image_files([]))
    []
    """
    for p in map(Path, paths):
        if p.is_file():
            yield p
        elif p.is_dir():
            pattern = "**/*" if recursive else "*"
            yield from sorted(f for f in p.glob(pattern) if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)


def index_add(
    db: str | os.PathLike | None, dirs: Iterable[str | os.PathLike], recursive: bool = True
) -> dict[str, Any]:
    """Add every image under ``dirs`` to the store at ``db`` (default store when None); returns counts and errors."""
    store = HashStore(db)
    added = skipped = 0
    errors: list[str] = []
    for path in iter_image_files(dirs, recursive):
        try:
            img = load_image(path)
        except ImageLoadError as err:
            errors.append(str(err))
            continue
        if store.add(img, str(path)):
            added += 1
        else:
            skipped += 1  # the same file (by SHA-256) is already indexed
    total = store.stats()["images"] if store.exists() else 0
    return {"db": str(store.path), "added": added, "already_known": skipped, "errors": errors, "total": total}


def index_stats(db: str | os.PathLike | None = None) -> dict[str, Any]:
    """Counts and metadata of the store; ``{"db": ..., "images": 0, "exists": False}`` when there is none."""
    store = HashStore(db)
    if not store.exists():
        return {"db": str(store.path), "images": 0, "exists": False}
    return {**store.stats(), "exists": True}


def add_index_arguments(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``index add`` and ``index stats``; each sub-parser's ``func(args) -> int`` prints JSON."""
    parser = subparsers.add_parser("index", help="manage the store of known images used by the duplicate check")
    sub = parser.add_subparsers(dest="index_command", required=True)
    add = sub.add_parser("add", help="hash every image under DIR into the store")
    add.add_argument("dirs", nargs="+", metavar="DIR")
    add.add_argument("--db", default=None, help=f"SQLite store (default: $CREATIVE4U_INDEX or {default_db_path()})")
    add.add_argument("--no-recursive", action="store_true", help="only the top level of each DIR")
    add.set_defaults(func=_run_add)
    stats = sub.add_parser("stats", help="show how many images the store holds")
    stats.add_argument("--db", default=None)
    stats.set_defaults(func=_run_stats)
    return parser


def _run_add(args: argparse.Namespace) -> int:
    result = index_add(args.db, args.dirs, recursive=not args.no_recursive)
    print(json.dumps(result, indent=2))
    return 0 if result["added"] or result["already_known"] or not result["errors"] else 1


def _run_stats(args: argparse.Namespace) -> int:
    print(json.dumps(index_stats(args.db), indent=2))
    return 0

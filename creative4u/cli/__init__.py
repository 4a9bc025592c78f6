"""The ``creative4u`` console script: one command, subcommands registered from light modules.

>>> build_parser().parse_args(["select", "a.jpg", "b.jpg", "--json"]).json
True

Each subcommand module defines ``add_parser(subparsers)`` and imports its heavy dependencies inside the
function that runs, so ``creative4u --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from creative4u import __version__

# Subcommand modules, in help order. A module that cannot be imported is a bug, not a missing extra:
# extras are imported inside the command functions.
COMMAND_MODULES = [
    "creative4u.cli.screen",
    "creative4u.cli.index",
    "creative4u.cli.eval",
    "creative4u.cli.data",
    "creative4u.cli.serve",
    "creative4u.cli.jobs",
    "creative4u.cli.pool",
    "creative4u.cli.disgust",
    "creative4u.cli.train",
    "creative4u.cli.vllm",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="creative4u",
        description="Pick the better advertising creative and explain why.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"creative4u {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("creative4u: interrupted", file=sys.stderr)
        return 130
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"creative4u {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

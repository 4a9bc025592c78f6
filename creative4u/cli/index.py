"""``creative4u index add DIR...`` / ``creative4u index stats``: the store of known images for the duplicate check.

>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> add_parser(sub)
"""

from __future__ import annotations

from typing import Any


def add_parser(sub: Any) -> None:
    from creative4u.checks.index_cli import add_index_arguments

    add_index_arguments(sub)

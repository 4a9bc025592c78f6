"""Command-line flags for judge-backend options, derived from the backends' options dataclasses.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> "max_new_tokens" in add_judge_flags(p)
True
>>> sorted(given_options(p.parse_args(["--max-new-tokens", "16", "--timeout", "5", "--no-cache"])).items())
[('cache', False), ('max_new_tokens', 16), ('timeout', 5.0)]

One flag per option name of a registered backend (:mod:`creative4u.judge.options`), typed from the dataclass field
(``int | None`` -> ``int``; a ``bool`` gets ``--x`` / ``--no-x``); its help names the backends that take it. An
option whose type differs between backends (``forced_choice``: a mode for ``openai``, a switch for
``transformers``) or that is a mapping has no flag: set it in the config file. A flag the command already has
(``--profile``, ``--cache-dir``, eval's ``--seed``) keeps the command's meaning. Flags left out are ``None`` and
never reach the judge; a given flag the chosen backend does not take is an error from the judge resolver.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any

DEST_PREFIX = "opt_"
_SCALARS = (bool, int, float, str)


@dataclass
class JudgeFlag:
    """One option flag: the option name, its type, help text and the backends that take it."""

    name: str
    type: type
    help: str
    backends: list[str]

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _scalar(tp: Any) -> type | None:
    """``int``, ``float``, ``str`` or ``bool`` behind an annotation (``int | None`` included), else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        tp = inner[0] if len(inner) == 1 else None
    return tp if tp in _SCALARS else None


def judge_flags() -> list[JudgeFlag]:
    """Every flaggable option of the registered backends, in the order the backends declare them.

    >>> flags = {f.name: f for f in judge_flags()}
    >>> flags["max_new_tokens"].type.__name__, flags["max_new_tokens"].backends
    ('int', ['openai', 'transformers'])
    >>> "forced_choice" in flags, flags["tie_rate"].flag
    (False, '--tie-rate')
    """
    from creative4u.judge import JUDGES

    found: dict[str, JudgeFlag] = {}
    clashing: set[str] = set()
    for backend in JUDGES.names():
        cls = JUDGES.options(backend)
        if cls is None:
            continue
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            tp = _scalar(hints[f.name])
            if tp is None:
                clashing.add(f.name)
            elif f.name not in found:
                found[f.name] = JudgeFlag(f.name, tp, f.metadata.get("help", ""), [backend])
            elif found[f.name].type is tp:
                found[f.name].backends.append(backend)
            else:
                clashing.add(f.name)
    return [flag for name, flag in found.items() if name not in clashing]


def add_judge_flags(parser: argparse.ArgumentParser, dest_prefix: str = DEST_PREFIX) -> list[str]:
    """Add the option flags the parser does not have yet; returns the option names added."""
    taken = set(parser._option_string_actions)  # noqa: SLF001 - argparse has no public list of its flags
    added = []
    for spec in judge_flags():
        negative = "--no-" + spec.flag[2:]
        if spec.flag in taken or (spec.type is bool and negative in taken):
            continue
        help_text = f"{spec.help} [backend option of {', '.join(spec.backends)}]".replace("%", "%%")
        if spec.type is bool:
            parser.add_argument(spec.flag, dest=dest_prefix + spec.name, action=argparse.BooleanOptionalAction,
                                default=None, help=help_text)
        else:
            metavar = {int: "N", float: "X"}.get(spec.type, spec.name.upper())
            parser.add_argument(spec.flag, dest=dest_prefix + spec.name, type=spec.type, default=None,
                                metavar=metavar, help=help_text)
        added.append(spec.name)
    return added


def given_options(args: argparse.Namespace, dest_prefix: str = DEST_PREFIX) -> dict[str, Any]:
    """The backend options given on the command line (flags left out are not options)."""
    return {k[len(dest_prefix):]: v for k, v in vars(args).items() if k.startswith(dest_prefix) and v is not None}


def backend_help() -> str:
    """Help text of a ``--backend`` flag: the registered names, their aliases, and the plug-in form.

    >>> "single_feature" in backend_help() and "module:Class" in backend_help()
    True
    """
    from creative4u.judge import JUDGES

    aliases = ", ".join(f"{a} = {n}" for a, n in JUDGES.aliases().items())
    return f"judge backend: {', '.join(JUDGES.names())} ({aliases}), or a plug-in module:Class"

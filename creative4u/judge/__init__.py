"""Judge backends by name, and the one resolver from a judge spec and its options to a Judge.

>>> from creative4u.judge import JUDGES, resolve_judge
>>> JUDGES.names()
['feature', 'openai', 'random', 'single_feature', 'transformers']
>>> resolve_judge("random", {"seed": 3}).model_name
'random(seed=3)'
>>> resolve_judge("creative4u.judge.baselines:RandomJudge", {"seed": 1}).model_name
'random(seed=1)'
>>> resolve_judge("single", {"feature": "noise"}).model_name
'single_feature(noise)'

A spec is a registered name or alias, or ``"package.module:Class"`` for a plug-in judge. Registered backends
declare their options as a dataclass (:mod:`creative4u.judge.options`): an unknown option or a value of the wrong
type is an error before anything is built. A plug-in takes a free dict, passed through unchanged, unless its class
declares an ``options_class`` dataclass. ``get_judge("feature")`` is the built-in, offline judge; VLM backends are
imported only when asked for.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from creative4u.judge.base import Judge, JudgeUnavailableError, PairInput, Verdict
from creative4u.registry import Registry

_OPTIONS = "creative4u.judge.options"
JUDGES: Registry[type[Judge]] = Registry("judge backend")
JUDGES.register("feature", "creative4u.judge.feature:FeatureJudge", options=f"{_OPTIONS}:FeatureOptions")
JUDGES.register("openai", "creative4u.judge.openai_backend:OpenAIJudge", options=f"{_OPTIONS}:OpenAIOptions")
JUDGES.register(
    "transformers",
    "creative4u.judge.transformers_backend:TransformersJudge",
    options=f"{_OPTIONS}:TransformersOptions",
)
# Evaluation baselines (issue 7): a seeded coin flip and "the image with the lower score on one check wins".
JUDGES.register("random", "creative4u.judge.baselines:RandomJudge", options=f"{_OPTIONS}:RandomOptions")
JUDGES.register(
    "single_feature",
    "creative4u.judge.baselines:SingleFeatureJudge",
    aliases=("single",),
    options=f"{_OPTIONS}:SingleFeatureOptions",
)


def judge_factory(spec: str) -> Callable[..., Judge]:
    """The class (or factory) behind a spec; an unknown name raises KeyError listing the valid names and aliases.

    >>> judge_factory("single").__name__
    'SingleFeatureJudge'
    """
    if spec in JUDGES:
        return JUDGES.get(spec)
    module, sep, attr = spec.partition(":")
    if not sep:
        JUDGES.canonical(spec)  # raises: not a registered name, and not module:Class either
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"judge {spec!r}: cannot import {attr!r} from {module!r} ({err})") from err


def options_class(spec: str) -> type | None:
    """The options dataclass of a spec: the registry's for a name, a plug-in's ``options_class``, or None.

    >>> options_class("openai").__name__, options_class("creative4u.judge.base:Judge")
    ('OpenAIOptions', None)
    """
    if spec in JUDGES:
        return JUDGES.options(spec)
    return getattr(judge_factory(spec), "options_class", None)


def judge_options(spec: str, options: Mapping[str, Any] | Any = None, *, where: str = "") -> Any:
    """The spec's options, typed: an instance of its options dataclass, or the free dict of a plug-in.

    >>> judge_options("transformers", {"model": "m", "max_new_tokens": 16}).max_new_tokens
    16
    >>> judge_options("openai", {"max_new_tokens": "16"}, where="eval config")
    Traceback (most recent call last):
    ...
    creative4u.config.ConfigError: eval config: max_new_tokens: expected int, got str '16'
    """
    return _typed(spec, options, where)[0]


def _typed(spec: str, options: Any, where: str) -> tuple[Any, list[str]]:
    """Typed options and the names that were given (only those reach the constructor, whose defaults rule)."""
    from creative4u.config import ConfigError, from_dict

    cls = options_class(spec)
    if dataclasses.is_dataclass(options) and not isinstance(options, type):
        if cls is not None and not isinstance(options, cls):
            raise ConfigError(f"{where or spec}: {type(options).__name__} given, {cls.__name__} expected")
        return options, [f.name for f in dataclasses.fields(options)]
    data = dict(options or {})
    if cls is None:
        return data, list(data)
    valid = [f.name for f in dataclasses.fields(cls)]
    data = {k: v for k, v in data.items() if k in valid or v is not None}  # an unset CLI flag is not an option
    if unknown := sorted(set(data) - set(valid)):
        label = JUDGES.canonical(spec) if spec in JUDGES else spec
        prefix = f"{where}: " if where else ""
        listed = ", ".join(sorted(valid))
        raise ConfigError(f"{prefix}{label} judge: unknown option(s) {', '.join(unknown)}; valid: {listed}")
    return from_dict(cls, data, where=where or f"{spec} judge options"), list(data)


def resolve_judge(spec: str = "feature", options: Mapping[str, Any] | Any = None, *, where: str = "") -> Judge:
    """Build the judge a spec names, with its options checked against the backend's options dataclass.

    ``options`` is a mapping (only the keys given reach the constructor) or an instance of the options dataclass.
    """
    typed, given = _typed(spec, options, where)
    kwargs = dict(typed) if isinstance(typed, dict) else {k: getattr(typed, k) for k in given}
    return judge_factory(spec)(**kwargs)


def get_judge(name: str = "feature", **options: Any) -> Judge:
    """Build a judge backend; options go to its constructor (e.g. ``base_url``, ``model``)."""
    return resolve_judge(name, options)


__all__ = [
    "JUDGES",
    "Judge",
    "JudgeUnavailableError",
    "PairInput",
    "Verdict",
    "get_judge",
    "judge_factory",
    "judge_options",
    "options_class",
    "resolve_judge",
]

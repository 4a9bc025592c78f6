"""One way to read every config outside the TRL recipes: a dataclass, a YAML file, dotted ``--set a.b=c`` overrides.

>>> from dataclasses import dataclass, field
>>> @dataclass
... class Demo:
...     port: int = field(default=8000, metadata={"help": "TCP port."})
...     tags: dict[str, float] = field(default_factory=dict, metadata={"help": "Weights by tag."})
>>> load_config(Demo, None, ["port=9000", "tags.sharp=0.5"])
Demo(port=9000, tags={'sharp': 0.5})
>>> from_dict(Demo, {"prot": 1})
Traceback (most recent call last):
...
creative4u.config.ConfigError: Demo: unknown key 'prot' (did you mean 'port'?); valid keys: port, tags

The rules, the same for the gateway, disgust training, eval, the checks eval and check profiles:

* a config is a dataclass whose fields carry ``metadata={"help": ...}`` (:func:`config_help` prints them);
* the YAML file's keys are the field names; nested dataclasses and ``dict[str, SomeDataclass]`` nest in YAML too;
* ``--set a.b=c`` overrides one value; the value is read as YAML (``3``, ``0.5``, ``true``, ``[1, 2]``, ``null``),
  so a CLI string becomes a number only there; an override into a field the file does not set starts from that
  field's default, so ``--set backends.vllm.backend=openai`` adds a backend instead of replacing the default ones;
* unknown keys are an error naming the dotted path and the valid keys; a wrong type names path, expected and got.

Precedence in :func:`config_from_args`: defaults < YAML file < dedicated flags / positionals (``extra``) < ``--set``.
This module is core: it imports nothing of creative4u (pyyaml only).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import enum
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any, Literal, TypeVar, Union

import yaml

T = TypeVar("T")
Override = str | tuple[Sequence[str], Any]
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")  # PyYAML (YAML 1.1) reads "1e-3" as a string


class ConfigError(ValueError):
    """A config that cannot be built: unknown key, wrong type, bad override, unreadable file."""


# ------------------------------------------------------------------------------------------ dict -> dataclass


def from_dict(cls: type[T], data: Mapping[str, Any], *, where: str = "") -> T:
    """Build the dataclass ``cls`` from a mapping, checking every key and value against the field types.

    >>> from dataclasses import dataclass, field
    >>> @dataclass
    ... class Retry:
    ...     times: int = field(default=3, metadata={"help": "Attempts."})
    ...     wait_s: float = field(default=1.0, metadata={"help": "Pause between attempts."})
    >>> from_dict(Retry, {"wait_s": 2})
    Retry(times=3, wait_s=2.0)
    >>> from_dict(Retry, {"times": "3"}, where="retry.yaml")
    Traceback (most recent call last):
    ...
    creative4u.config.ConfigError: retry.yaml: times: expected int, got str '3'

    ``where`` names the source (a file, "gateway config") at the start of every message.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"from_dict needs a dataclass type, got {cls!r}")
    return _build(cls, data, "", where or cls.__name__)


def _build(cls: type, data: Any, path: str, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise _error(where, path, f"expected a mapping of {_name(cls)} keys, got {_got(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [str(k) for k in data if k not in fields]
    if unknown:
        raise _unknown_keys(where, path, unknown, list(fields))
    hints = typing.get_type_hints(cls)
    kwargs = {name: _coerce(value, hints[name], _join(path, name), where) for name, value in data.items()}
    missing = [n for n, f in fields.items() if n not in kwargs and _no_default(f)]
    if missing:
        raise _error(where, path, f"missing required key(s) {', '.join(_join(path, m) for m in missing)}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:  # __post_init__ validation: keep its message, add where it came from
        if isinstance(err, ConfigError):
            raise
        raise _error(where, path, str(err)) from err


def _coerce(value: Any, tp: Any, path: str, where: str) -> Any:
    """``value`` as type ``tp``; only lossless conversions (int -> float, list -> tuple, str -> Path)."""
    if tp is Any or tp is object:
        return value
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return _coerce_union(value, args, tp, path, where)
    if origin is Literal:
        if value not in args:
            raise _error(where, path, f"expected one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, path, where)
    if origin in (dict, Mapping) or tp is dict:
        return _coerce_dict(value, args, path, where)
    if origin in (list, tuple, Sequence) or tp in (list, tuple):
        return _coerce_sequence(value, origin or tp, args, path, where)
    return _coerce_scalar(value, tp, path, where)


def _coerce_union(value: Any, args: tuple, tp: Any, path: str, where: str) -> Any:
    if value is None and type(None) in args:
        return None
    errors = []
    for arg in (a for a in args if a is not type(None)):
        try:
            return _coerce(value, arg, path, where)
        except ConfigError as err:
            errors.append(err)
    if len(errors) == 1:
        raise errors[0]
    raise _error(where, path, f"expected {_name(tp)}, got {_got(value)}")


def _coerce_dict(value: Any, args: tuple, path: str, where: str) -> dict:
    if not isinstance(value, Mapping):
        raise _error(where, path, f"expected a mapping, got {_got(value)}")
    key_tp, value_tp = args if args else (Any, Any)
    out = {}
    for key, item in value.items():
        key = str(key) if key_tp is str and isinstance(key, (int, float, bool)) else key  # YAML reads `1:` as int
        out[key] = _coerce(item, value_tp, _join(path, str(key)), where)
    return out


def _coerce_sequence(value: Any, kind: Any, args: tuple, path: str, where: str) -> Any:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise _error(where, path, f"expected a list, got {_got(value)}")
    if kind is tuple and args and args[-1] is not Ellipsis:  # fixed-length tuple[int, str]
        if len(value) != len(args):
            raise _error(where, path, f"expected {len(args)} items, got {len(value)}")
        return tuple(_coerce(v, a, f"{path}[{i}]", where) for i, (v, a) in enumerate(zip(value, args, strict=True)))
    item_tp = args[0] if args else Any
    items = [_coerce(v, item_tp, f"{path}[{i}]", where) for i, v in enumerate(value)]
    return tuple(items) if kind is tuple else items


def _coerce_scalar(value: Any, tp: Any, path: str, where: str) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif isinstance(tp, type) and issubclass(tp, PurePath):
        if isinstance(value, (str, PurePath)):
            return tp(value)
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            raise _error(where, path, f"expected one of {[m.value for m in tp]}, got {value!r}") from None
    elif isinstance(tp, type):
        if isinstance(value, tp):
            return value
    else:
        return value  # a typing construct we do not check (Callable, TypeVar...): accepted as given
    raise _error(where, path, f"expected {_name(tp)}, got {_got(value)}")


def _no_default(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _got(value: Any) -> str:
    shown = repr(value)
    return f"{type(value).__name__} {shown if len(shown) <= 60 else shown[:57] + '...'}"


def _error(where: str, path: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {path}: {message}" if path else f"{where}: {message}")


def _unknown_keys(where: str, path: str, unknown: list[str], valid: list[str]) -> ConfigError:
    dotted = [_join(path, k) for k in unknown]
    hints = [m for k in unknown for m in difflib.get_close_matches(k, valid, n=1)]
    hint = f" (did you mean {', '.join(map(repr, hints))}?)" if hints else ""
    noun = "key" if len(unknown) == 1 else "keys"
    under = f" under {path}" if path else ""
    return ConfigError(
        f"{where}: unknown {noun} {', '.join(map(repr, dotted))}{hint}; valid keys{under}: {', '.join(valid)}"
    )


def _name(tp: Any) -> str:
    """A readable type name: ``dict[str, BackendConfig]``, ``float | None``, ``Literal['a', 'b']``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return "Any"
    if tp is type(None):
        return "None"
    if origin in (Union, types.UnionType):
        return " | ".join(_name(a) for a in args)
    if origin is Literal:
        return f"Literal[{', '.join(map(repr, args))}]"
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else _name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]" if args else getattr(origin, "__name__", "")
    return getattr(tp, "__name__", str(tp).replace("typing.", ""))


# ------------------------------------------------------------------------------------------ overrides


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """``"a.b=value"`` -> ``(("a", "b"), value)``, the value read as YAML (numbers, booleans, lists, null).

    >>> parse_override("backends.vllm.fallback=feature"), parse_override("steps=300")
    ((('backends', 'vllm', 'fallback'), 'feature'), (('steps',), 300))
    >>> parse_override("cascade_band=[0.2, 0.8]"), parse_override("title=")
    ((('cascade_band',), [0.2, 0.8]), (('title',), ''))

    Text YAML cannot read (``note=a: b: c``) stays a string rather than failing, and so does text YAML would read
    as a block mapping (``store=sqlite:///:memory:``): a mapping is set with dotted keys or written in flow style.

    >>> parse_override("store=sqlite:///:memory:"), parse_override("tags={a: 1}")
    ((('store',), 'sqlite:///:memory:'), (('tags',), {'a': 1}))
    """
    key, sep, raw = text.partition("=")
    keys = tuple(k.strip() for k in key.split("."))
    if not sep or not all(keys):
        raise ConfigError(f"override {text!r} must look like key=value (dotted keys for nested settings: a.b=c)")
    if not raw.strip():
        return keys, ""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return keys, raw
    if isinstance(value, dict) and not raw.lstrip().startswith("{"):
        return keys, raw
    return keys, value


def apply_overrides(raw: Mapping[str, Any], overrides: Iterable[Override]) -> dict[str, Any]:
    """A copy of ``raw`` with each override set; ``a.b`` creates the nested mappings it needs.

    >>> apply_overrides({"a": {"x": 1}}, ["a.y=2", "b.c.d=true", (("a", "x"), 5)])
    {'a': {'x': 5, 'y': 2}, 'b': {'c': {'d': True}}}

    An override is ``"a.b=c"`` or an already-parsed ``(keys, value)`` pair (a dotted string key works too).
    """
    out = _deep_copy(raw)
    for item in overrides:
        keys, value = _as_pair(item)
        node = out
        for depth, key in enumerate(keys[:-1]):
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                where = ".".join(keys[: depth + 1])
                raise ConfigError(f"override {'.'.join(keys)}: {where} is {_got(child)}, not a mapping")
            node = child
        node[keys[-1]] = value
    return out


def _as_pair(item: Override) -> tuple[tuple[str, ...], Any]:
    if isinstance(item, str):
        return parse_override(item)
    keys, value = item
    keys = tuple(keys.split(".")) if isinstance(keys, str) else tuple(keys)
    if not keys or not all(keys):
        raise ConfigError(f"override keys {keys!r} must be non-empty")
    return keys, value


def _deep_copy(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in raw.items()}


def _seed_defaults(cls: type, raw: dict[str, Any], keys: Sequence[str]) -> None:
    """Before an override goes into a field the file left out, copy that field's default mapping in.

    Without this ``--set backends.vllm.backend=openai`` would replace the default ``backends`` with one entry.
    """
    node, tp = raw, cls
    for key in keys[:-1]:
        if not dataclasses.is_dataclass(tp):
            return
        field = next((f for f in dataclasses.fields(tp) if f.name == key), None)
        if field is None or not isinstance(node, dict):
            return
        if key not in node:
            default = _default(field)
            if not isinstance(default, Mapping) and not dataclasses.is_dataclass(default):
                return
            node[key] = to_dict(default) if dataclasses.is_dataclass(default) else _plain(default)
        node, tp = node[key], _unwrap_optional(typing.get_type_hints(tp)[key])
        if typing.get_origin(tp) is dict and dataclasses.is_dataclass(typing.get_args(tp)[-1]):
            return  # an entry of dict[str, X] is a whole value; its own fields default in from_dict


def _unwrap_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return inner[0] if len(inner) == 1 else tp
    return tp


def _default(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None if f.default is dataclasses.MISSING else f.default


# ------------------------------------------------------------------------------------------ files


def read_yaml_mapping(path: str | Path, *, kind: str = "config") -> dict[str, Any]:
    """The top-level mapping of a YAML file (empty file: ``{}``); a clear error for a missing or bad file.

    >>> read_yaml_mapping("/no/such.yaml", kind="gateway config")
    Traceback (most recent call last):
    ...
    FileNotFoundError: gateway config file not found: /no/such.yaml
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{kind} file not found: {p}")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{p}: not valid YAML ({err})") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: the top level of a {kind} must be a mapping of keys, got {type(raw).__name__}")
    return raw


def load_config(
    cls: type[T], path: str | Path | None = None, overrides: Iterable[Override] = (), *, where: str | None = None
) -> T:
    """Read ``path`` (YAML, optional), apply the dotted overrides in order, and build ``cls`` with :func:`from_dict`.

    >>> from dataclasses import dataclass, field
    >>> @dataclass
    ... class Job:
    ...     name: str = field(default="run", metadata={"help": "Run name."})
    ...     options: dict = field(default_factory=dict, metadata={"help": "Free-form options."})
    >>> load_config(Job, None, ["options.batch=8", "name=nightly"])
    Job(name='nightly', options={'batch': 8})
    """
    items = [_as_pair(o) for o in overrides]
    raw = read_yaml_mapping(path, kind=f"{cls.__name__} config") if path is not None else {}
    for keys, _ in items:
        _seed_defaults(cls, raw, keys)
    return from_dict(cls, apply_overrides(raw, items), where=where or (str(path) if path is not None else ""))


def to_dict(obj: Any) -> dict[str, Any]:
    """``dataclasses.asdict`` made JSON-safe (paths -> str, tuples/sets -> lists, enums -> values).

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class P:
    ...     root: Path = Path("/data")
    ...     band: tuple = (0.1, 0.9)
    >>> to_dict(P())
    {'root': '/data', 'band': [0.1, 0.9]}
    """
    return _plain(dataclasses.asdict(obj))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_plain(v) for v in items]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


# ------------------------------------------------------------------------------------------ help and argparse


def config_help(cls: type, prefix: str = "") -> str:
    """One line per field: dotted name, type, default and help; nested and ``dict[str, X]`` fields expanded.

    >>> from dataclasses import dataclass, field
    >>> @dataclass
    ... class Limits:
    ...     max_images: int = field(default=16, metadata={"help": "Most images per request."})
    >>> print(config_help(Limits))
    max_images (int, default 16): Most images per request.
    """
    hints = typing.get_type_hints(cls)
    lines = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        name = prefix + f.name
        lines.append(f"{name} ({_name(tp)}, default {_show_default(f)}): {f.metadata.get('help', '')}")
        inner = _unwrap_optional(tp)
        if dataclasses.is_dataclass(inner):
            lines.append(config_help(inner, f"{name}."))
        elif typing.get_origin(inner) is dict and dataclasses.is_dataclass(typing.get_args(inner)[-1]):
            lines.append(config_help(typing.get_args(inner)[-1], f"{name}.<name>."))
    return "\n".join(lines)


def _show_default(f: dataclasses.Field) -> str:
    if _no_default(f):
        return "required"
    value = _default(f)
    if isinstance(value, Mapping) and any(dataclasses.is_dataclass(v) for v in value.values()):
        return "{" + ", ".join(f"{k}: ..." for k in value) + "}"
    if dataclasses.is_dataclass(value):
        return f"{type(value).__name__}(...)"
    return repr(value)


class _HelpConfig(argparse.Action):
    """``--help-config``: print :func:`config_help` of the parser's config class and exit 0 (like ``--help``)."""

    def __init__(self, option_strings: Sequence[str], dest: str, config_cls: type, **kwargs: Any) -> None:
        self.config_cls = config_cls
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option: str | None = None):
        print(config_help(self.config_cls))
        parser.exit(0)


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, *, config_flag: bool = True) -> None:
    """Add ``--config FILE`` (unless ``config_flag=False``), ``--set KEY=VALUE`` (repeat) and ``--help-config``.

    >>> p = argparse.ArgumentParser()
    >>> from dataclasses import dataclass, field
    >>> @dataclass
    ... class C:
    ...     port: int = field(default=1, metadata={"help": "Port."})
    >>> add_config_arguments(p, C)
    >>> args = p.parse_args(["--set", "port=2", "--set", "port=3"])
    >>> args.config, args.overrides, config_from_args(C, args).port
    (None, ['port=2', 'port=3'], 3)
    """
    if config_flag:
        parser.add_argument("--config", metavar="FILE", default=None, help=f"YAML {cls.__name__} (keys = fields)")
    parser.add_argument(
        "--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
        help="override a config field, dotted for nested ones (a.b=c; value read as YAML); repeat; wins over "
             "--config and the other flags",
    )
    parser.add_argument("--help-config", action=_HelpConfig, config_cls=cls,
                        help="list every config field with its type, default and help, and exit")


def config_from_args(cls: type[T], args: argparse.Namespace, extra: Mapping[str, Any] | None = None) -> T:
    """The config from ``--config``, then ``extra`` (dotted key -> value, None = not given), then ``--set``.

    >>> from dataclasses import dataclass, field
    >>> @dataclass
    ... class C:
    ...     port: int = field(default=1, metadata={"help": "Port."})
    ...     host: str = field(default="h", metadata={"help": "Host."})
    >>> ns = argparse.Namespace(config=None, overrides=["port=3"])
    >>> config_from_args(C, ns, {"port": 2, "host": "example", "unused": None})
    C(port=3, host='example')
    """
    given = [(key, value) for key, value in (extra or {}).items() if value is not None]
    overrides = [*given, *(getattr(args, "overrides", None) or [])]
    return load_config(cls, getattr(args, "config", None), overrides)

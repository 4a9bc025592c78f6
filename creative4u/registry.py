"""Small name -> object registries with lazy ``"module:attr"`` entries for heavy dependencies.

>>> reg = Registry("judge backend")
>>> _ = reg.register("json", "json:dumps", aliases=("dumps",))
>>> reg.get("dumps")([1])
'[1]'
>>> try:
...     reg.get("nope")
... except KeyError as err:
...     print(err.args[0])
unknown judge backend 'nope'; valid names: json (aliases: dumps -> json)
>>> try:
...     reg.register("json", "json:loads")
... except ValueError as err:
...     print(err)
judge backend 'json' is already registered (held by 'json:dumps')

An entry may declare its constructor options as a dataclass (or a lazy ``"module:attr"`` naming one), read back
with :meth:`Registry.options` without importing the entry itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _import(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def _describe(obj: Any) -> str:
    """How an error names what holds a name: the lazy path, or ``module:qualname`` of the object."""
    if isinstance(obj, str):
        return repr(obj)
    name = getattr(obj, "__qualname__", None) or type(obj).__name__
    return repr(f"{getattr(obj, '__module__', '?')}:{name}")


class Registry(Generic[T]):
    """Maps names (and aliases) to objects; a string value ``"pkg.module:attr"`` is imported on first use only."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T | str] = {}
        self._aliases: dict[str, str] = {}
        self._options: dict[str, Any] = {}

    def register(self, name: str, obj: T | str | None = None, *, aliases: Iterable[str] = (),
                 options: Any = None) -> Any:
        """Register ``obj`` under ``name`` (and ``aliases``); without ``obj`` return a decorator.

        ``options`` is the dataclass of the entry's constructor options, or a ``"module:attr"`` string naming it.
        A name or alias that is already taken raises ValueError naming what holds it.
        """
        aliases = tuple(aliases)
        for taken in (name, *aliases):
            self._refuse_taken(taken)
        if len(set((name, *aliases))) != len(aliases) + 1:
            raise ValueError(f"{self.kind} {name!r}: aliases {aliases} repeat a name")

        def add(target: Any) -> Any:
            self._refuse_taken(name)  # a decorator applied later: the name may have been taken meanwhile
            self._entries[name] = target
            self._aliases.update(dict.fromkeys(aliases, name))
            if options is not None:
                self._options[name] = options
            return target

        return add if obj is None else add(obj)

    def _refuse_taken(self, name: str) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered (held by {_describe(self._entries[name])})")
        if name in self._aliases:
            raise ValueError(f"{self.kind} {name!r} is already an alias of {self._aliases[name]!r}")

    def canonical(self, name: str) -> str:
        """The registered name behind ``name`` (itself or the entry it is an alias of); KeyError lists the valid."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        raise KeyError(f"unknown {self.kind} {name!r}; valid names: {self.valid_names()}")

    def valid_names(self) -> str:
        """The names, then the aliases, as an error message lists them."""
        text = ", ".join(self.names())
        if self._aliases:
            text += " (aliases: " + ", ".join(f"{a} -> {n}" for a, n in sorted(self._aliases.items())) + ")"
        return text

    def get(self, name: str) -> T:
        name = self.canonical(name)
        entry = self._entries[name]
        if isinstance(entry, str):
            entry = _import(entry)
            self._entries[name] = entry
        return entry  # type: ignore[return-value]

    def options(self, name: str) -> Any:
        """The options dataclass declared for ``name`` (or its alias), or None when it declares none."""
        name = self.canonical(name)
        declared = self._options.get(name)
        if isinstance(declared, str):
            declared = self._options[name] = _import(declared)
        return declared

    def names(self) -> list[str]:
        """The canonical names, sorted (aliases are not listed)."""
        return sorted(self._entries)

    def aliases(self) -> dict[str, str]:
        """Alias -> canonical name."""
        return dict(sorted(self._aliases.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def lazy(path: str) -> Callable[..., Any]:
    """Return a callable that imports ``"module:attr"`` when first called (for CLI command tables).

    >>> lazy("json:dumps")({"a": 1})
    '{"a": 1}'
    """

    def call(*args: Any, **kwargs: Any) -> Any:
        return _import(path)(*args, **kwargs)

    return call

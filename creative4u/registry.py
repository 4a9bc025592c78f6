"""Small name -> object registries with lazy ``"module:attr"`` entries for heavy dependencies.

>>> reg = Registry("judge backend")
>>> reg.register("json", "json:dumps")
>>> reg.get("json")([1])
'[1]'
>>> try:
...     reg.get("nope")
... except KeyError as err:
...     print(err.args[0])
unknown judge backend 'nope'; valid names: json
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects; a string value ``"pkg.module:attr"`` is imported on first use only."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T | str] = {}

    def register(self, name: str, obj: T | str | None = None) -> Any:
        """Register ``obj`` under ``name``; without ``obj`` return a decorator."""
        if obj is None:

            def deco(target: T) -> T:
                self._entries[name] = target
                return target

            return deco
        self._entries[name] = obj
        return obj

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise KeyError(f"unknown {self.kind} {name!r}; valid names: {', '.join(sorted(self._entries))}")
        entry = self._entries[name]
        if isinstance(entry, str):
            module, _, attr = entry.partition(":")
            entry = getattr(importlib.import_module(module), attr)
            self._entries[name] = entry
        return entry  # type: ignore[return-value]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def lazy(path: str) -> Callable[..., Any]:
    """Return a callable that imports ``"module:attr"`` when first called (for CLI command tables).

    >>> lazy("json:dumps")({"a": 1})
    '{"a": 1}'
    """

    def call(*args: Any, **kwargs: Any) -> Any:
        module, _, attr = path.partition(":")
        return getattr(importlib.import_module(module), attr)(*args, **kwargs)

    return call

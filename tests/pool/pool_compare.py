"""Comparing pool rows with CLI results: timings and cache marks left out, floats within 1e-6."""

from __future__ import annotations

from typing import Any

import pytest

from creative4u.testing.results import without_volatile

comparable = without_volatile  # the name the pool tests use


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Equal structures; floats within 1e-6 (the same code on another process may differ in the last bits)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        assert b == pytest.approx(a, rel=1e-6, abs=1e-9), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"

"""Comparing two runs' results: the same JSON once the fields that differ between any two runs are left out.

>>> without_volatile({"winner": "a.jpg", "orders": [{"latency_ms": 3.1, "p_a": 0.9}], "cached": True})
{'winner': 'a.jpg', 'orders': [{'p_a': 0.9}]}

The CLI, the gateway, jobs and pool runs all return the pipeline's JSON; tests assert they agree on everything
but timings and cache marks.
"""

from __future__ import annotations

from typing import Any

VOLATILE = frozenset({"elapsed_ms", "latency_ms", "cached"})


def without_volatile(obj: Any) -> Any:
    """``obj`` with every ``elapsed_ms`` / ``latency_ms`` / ``cached`` key removed, at any depth."""
    if isinstance(obj, dict):
        return {k: without_volatile(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list | tuple):
        return [without_volatile(v) for v in obj]
    return obj

"""The check registry: one named check per rejection reason.

>>> from creative4u.checks import CHECKS
>>> "sharpness" in CHECKS
True

Checks with heavy or optional dependencies are registered as lazy ``"module:Class"`` strings, so listing them
imports nothing.
"""

from __future__ import annotations

from creative4u.checks.base import Check, CheckReport, Evidence, Measurement, unavailable
from creative4u.registry import Registry

CHECKS: Registry[type[Check]] = Registry("check")

# Quality checks (issue: foundation).
for _name, _cls in {
    "sharpness": "Sharpness",
    "exposure": "Exposure",
    "contrast": "Contrast",
    "noise": "Noise",
    "resolution": "Resolution",
    "colourfulness": "Colourfulness",
    "border": "Border",
}.items():
    CHECKS.register(_name, f"creative4u.checks.quality:{_cls}")


def get_check(name: str, **kwargs) -> Check:
    """Instantiate a registered check by name; an unknown name lists the valid ones."""
    return CHECKS.get(name)(**kwargs)


__all__ = ["CHECKS", "Check", "CheckReport", "Evidence", "Measurement", "get_check", "unavailable"]

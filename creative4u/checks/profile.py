"""Per-client check profiles: which checks run, their thresholds, and which ones veto a creative.

>>> profile = load_profile("default")
>>> profile.name, profile.checks["sharpness"].veto
('default', True)

A profile is YAML::

    name: my-shop
    extends: default          # optional: start from a built-in or another file
    checks:
      sharpness: {threshold: 0.6}
      border: {enabled: false}

Built-in profiles live in ``creative4u/profiles/``; a path to a ``.yaml`` file works wherever a name does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROFILE_DIR = Path(__file__).resolve().parent.parent / "profiles"


@dataclass
class CheckSettings:
    """How one check runs in a profile."""

    enabled: bool = field(default=True, metadata={"help": "Run this check at all."})
    threshold: float | None = field(default=None, metadata={"help": "Flag when score >= threshold (None: default)."})
    veto: bool = field(default=True, metadata={"help": "A flag removes the creative from the competition."})
    options: dict[str, Any] = field(default_factory=dict, metadata={"help": "Keyword options for the check."})


@dataclass
class CheckProfile:
    """A named set of check settings, read from YAML."""

    name: str = field(default="default", metadata={"help": "Profile name, reported with every result."})
    description: str = field(default="", metadata={"help": "What this profile is for."})
    checks: dict[str, CheckSettings] = field(default_factory=dict, metadata={"help": "Settings per check name."})

    def enabled(self) -> dict[str, CheckSettings]:
        return {name: s for name, s in self.checks.items() if s.enabled}


def builtin_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def _resolve(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise FileNotFoundError(f"check profile file not found: {path}")
        return path
    builtin = PROFILE_DIR / f"{name_or_path}.yaml"
    if not builtin.is_file():
        raise KeyError(
            f"unknown check profile {str(name_or_path)!r}; built-in profiles: {', '.join(builtin_profiles())}"
        )
    return builtin


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _read(path: Path, depth: int = 0) -> dict[str, Any]:
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a check profile must be a YAML mapping")
    parent = raw.pop("extends", None)
    if parent and depth < 5:
        parent_path = Path(parent) if Path(parent).suffix else _resolve(parent)
        if not parent_path.is_absolute() and parent_path.suffix:
            parent_path = path.parent / parent_path
        raw = _merge(_read(parent_path, depth + 1), raw)
    return raw


def load_profile(name_or_path: str | Path | CheckProfile = "default") -> CheckProfile:
    """Read a built-in profile by name or a YAML file; unknown keys are an error, not silently ignored."""
    if isinstance(name_or_path, CheckProfile):
        return name_or_path
    path = _resolve(name_or_path)
    raw = _read(path)
    unknown = set(raw) - {"name", "description", "checks"}
    if unknown:
        raise ValueError(f"{path}: unknown profile keys {sorted(unknown)}")
    checks = {}
    for check_name, settings in (raw.get("checks") or {}).items():
        settings = settings or {}
        bad = set(settings) - {"enabled", "threshold", "veto", "options"}
        if bad:
            raise ValueError(f"{path}: check {check_name!r}: unknown settings {sorted(bad)}")
        checks[check_name] = CheckSettings(**settings)
    return CheckProfile(name=raw.get("name", path.stem), description=raw.get("description", ""), checks=checks)

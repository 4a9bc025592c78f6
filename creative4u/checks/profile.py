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

Built-in profiles live in ``creative4u/profiles/``; a path to a ``.yaml`` file works wherever a name does. The file
is read by :mod:`creative4u.config`: an unknown key or setting is an error naming ``checks.<name>.<key>`` and the
valid keys; a check name no check registers is refused when the suite is built (``get_check``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creative4u.config import from_dict, read_yaml_mapping

PROFILE_DIR = Path(__file__).resolve().parent.parent / "profiles"


@dataclass
class CheckSettings:
    """How one check runs in a profile."""

    enabled: bool = field(default=True, metadata={"help": "Run this check at all."})
    threshold: float | None = field(default=None, metadata={"help": "Flag when score >= threshold (None: default)."})
    veto: bool = field(default=True, metadata={"help": "A flag removes the creative from the competition."})
    options: dict[str, Any] = field(default_factory=dict, metadata={"help": "Keyword options for the check."})
    operating_points: dict[str, float] = field(
        default_factory=dict,
        metadata={"help": "Named thresholds read off the check's ROC curve, e.g. {ffr2: 0.8, ffr5: 0.5}."})
    operating_point: str | None = field(
        default=None, metadata={"help": "Use this named operating point instead of `threshold` (overrides the "
                                        "profile-wide choice)."})

    def __post_init__(self) -> None:
        if self.operating_point is not None and self.operating_point not in self.operating_points:
            known = ", ".join(sorted(self.operating_points)) or "none defined"
            raise ValueError(f"operating_point {self.operating_point!r} is not one of this check's operating "
                             f"points ({known})")


@dataclass
class CheckProfile:
    """A named set of check settings, read from YAML."""

    name: str = field(default="default", metadata={"help": "Profile name, reported with every result."})
    description: str = field(default="", metadata={"help": "What this profile is for."})
    checks: dict[str, CheckSettings] = field(default_factory=dict, metadata={"help": "Settings per check name."})
    operating_point: str | None = field(
        default=None, metadata={"help": "Named operating point for every check that defines it (e.g. a client "
                                        "that accepts fewer false rejections picks ffr2); others keep `threshold`."})

    def __post_init__(self) -> None:
        if self.operating_point is not None and not any(self.operating_point in s.operating_points
                                                        for s in self.checks.values()):
            raise ValueError(f"operating_point {self.operating_point!r} is defined by no check of the profile")

    def enabled(self) -> dict[str, CheckSettings]:
        return {name: s for name, s in self.checks.items() if s.enabled}

    def threshold_of(self, name: str) -> float | None:
        """The threshold check ``name`` runs at: its own operating point, else the profile's, else ``threshold``.

        >>> p = CheckProfile(checks={"sharpness": CheckSettings(threshold=0.5, operating_points={"ffr2": 0.8})},
        ...                  operating_point="ffr2")
        >>> p.threshold_of("sharpness")
        0.8
        """
        settings = self.checks[name]
        point = settings.operating_point or self.operating_point
        return settings.operating_points.get(point, settings.threshold) if point else settings.threshold


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
    raw = read_yaml_mapping(path, kind="check profile")
    parent = raw.pop("extends", None)
    if parent and depth < 5:
        parent_path = Path(parent) if Path(parent).suffix else _resolve(parent)
        if not parent_path.is_absolute() and parent_path.suffix:
            parent_path = path.parent / parent_path
        raw = _merge(_read(parent_path, depth + 1), raw)
    return raw


def load_profile(name_or_path: str | Path | CheckProfile = "default") -> CheckProfile:
    """Read a built-in profile by name or a YAML file; unknown keys are an error, not silently ignored.

    >>> load_profile("strict").checks["faces"].options
    {'min_face': 0.06}
    """
    if isinstance(name_or_path, CheckProfile):
        return name_or_path
    path = _resolve(name_or_path)
    raw = _read(path)
    raw.setdefault("name", path.stem)
    if isinstance(raw.get("checks"), dict):  # `border:` with nothing after it means "all defaults"
        raw["checks"] = {name: {} if settings is None else settings for name, settings in raw["checks"].items()}
    return from_dict(CheckProfile, raw, where=str(path))

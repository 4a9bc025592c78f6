"""The feature judge's input: a fixed, ordered vector of check measurements per image.

>>> from PIL import Image
>>> from creative4u.checks.suite import CheckSuite
>>> from creative4u.images import LoadedImage
>>> screen = CheckSuite(feature_profile()).screen(LoadedImage.from_pil(Image.new("RGB", (64, 64), "gray")))
>>> vec = features_from_screen(screen)
>>> vec.shape == (len(FEATURES),), round(float(vec[FEATURES.index("contrast.score")]), 3)
(True, 1.0)

Each feature is oriented so that *larger means worse* where it has a direction (a check score, blur, noise, the
share of the canvas not used by the picture), which keeps a linear model on feature differences readable: a
positive weight says "more of this loses". Values that are missing (a check that did not run, errored, or is not
installed, such as OCR) take a neutral default, and ``text.missing`` says so, so two images missing the same check
differ by zero in it. Extraction is a few dict look-ups per image: screens are the costly part, and they are cached.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Feature:
    """One input column: where it comes from, how it is transformed, and its neutral value when missing."""

    name: str
    check: str
    key: str | None  # a key of the check report's ``values``; None: the report's score
    transform: Callable[[float], float]
    default: float


def _ident(x: float) -> float:
    return float(x)


def _log1p(x: float) -> float:
    return math.log1p(max(float(x), 0.0))


def _log2_clip(lo: float, hi: float) -> Callable[[float], float]:
    def f(x: float) -> float:
        return math.log2(min(max(float(x), lo), hi))

    return f


def _neg_log2_clip(lo: float, hi: float) -> Callable[[float], float]:
    inner = _log2_clip(lo, hi)
    return lambda x: -inner(x)


def _clip(lo: float, hi: float) -> Callable[[float], float]:
    return lambda x: min(max(float(x), lo), hi)


def _neg(x: float) -> float:
    return -float(x)


def _score(check: str) -> Feature:
    return Feature(f"{check}.score", check, None, _ident, 0.0)


FEATURE_SPECS: tuple[Feature, ...] = (
    _score("sharpness"),
    Feature("sharpness.blur_sigma", "sharpness", "blur_sigma_px", _clip(0.0, 4.0), 0.5),
    _score("exposure"),
    Feature("exposure.under_ev", "exposure", "under_ev", _clip(-1.0, 4.0), 0.0),
    Feature("exposure.over_logit", "exposure", "over_logit", _clip(-6.0, 8.0), -3.0),
    Feature("exposure.blown", "exposure", "blown_fraction", _ident, 0.0),
    _score("contrast"),
    Feature("contrast.flatness", "contrast", "spread", lambda x: 1.0 - float(x), 0.4),
    _score("noise"),
    Feature("noise.sigma", "noise", "noise_sigma", _log1p, 0.5),
    Feature("noise.blockiness", "noise", "blockiness", _log2_clip(0.5, 16.0), 0.0),
    _score("resolution"),
    Feature("resolution.detail_loss", "resolution", "detail_energy_ratio", _neg_log2_clip(0.01, 8.0), 0.0),
    Feature("resolution.small", "resolution", None, _ident, 0.0),  # from width and height, below
    _score("colourfulness"),
    Feature("colourfulness.dullness", "colourfulness", "colourfulness", lambda x: -_log1p(x), -3.5),
    _score("border"),
    Feature("border.unused_area", "border", "content_area_frac", lambda x: 1.0 - float(x), 0.0),
    Feature("border.off_centre", "border", None, _ident, 0.0),  # computed from both offsets below
    # JPEG artefacts (issue 14 split them from noise into their own check): quality read from the pixels' DCT steps.
    _score("compression"),
    Feature("compression.pixel_loss", "compression", "pixel_quality", _neg_log2_clip(5.0, 100.0), -6.5),
    Feature("compression.blockiness", "compression", "blockiness", _log2_clip(0.5, 16.0), 0.0),
    Feature("text.coverage", "text", "coverage", _clip(0.0, 1.0), 0.0),
    Feature("text.missing", "text", None, _ident, 1.0),
    # Perception (issue 13), relative to the request's title/queries: how far the image's ImageNet reading is from
    # them (negated label-bridge similarity: larger is worse). The judge ignores differences within a dead zone (the
    # spread that degradations alone cause on one photo; see FeatureModel.dead_zone). Without a title (or the
    # exported models) it takes a neutral value and ``relevance.missing`` says so. text_match is reported, not
    # read: no training pairs are decided by it (text overlays would teach "any text loses").
    Feature("relevance.mismatch", "relevance", "similarity", lambda x: -min(max(float(x), -1.0), 1.0), 0.0),
    Feature("relevance.missing", "relevance", None, _ident, 1.0),
)

FEATURES: list[str] = [f.name for f in FEATURE_SPECS]
# The checks whose reports the features read: a suite running only these is enough for the feature judge.
FEATURE_CHECKS: tuple[str, ...] = tuple(dict.fromkeys(f.check for f in FEATURE_SPECS))


def _report(screen: Any, check: str) -> Any:
    """The check's report if it ran and measured (not unavailable or errored), else None."""
    reports = getattr(screen, "reports", None) or {}
    report = reports.get(check)
    if report is None or getattr(report, "status", "ok") in ("unavailable", "error"):
        return None
    return report


def _value(report: Any, spec: Feature) -> float:
    if report is None:
        return spec.default
    raw = report.score if spec.key is None else (report.values or {}).get(spec.key)
    if raw is None or (isinstance(raw, float) and not math.isfinite(raw)):
        return spec.default
    try:
        return float(spec.transform(raw))
    except (TypeError, ValueError):
        return spec.default


def _special(spec: Feature, report: Any) -> float | None:
    """Features computed from several values of one report (or from the report's presence)."""
    if spec.name == "resolution.small":
        if report is None:
            return 0.0
        w, h = report.values.get("width"), report.values.get("height")
        # Octaves below a 1024 px short side: 0 for >= 1024, 1 for 512, 2 for 256.
        return max(0.0, 10.0 - math.log2(max(1.0, float(min(w, h))))) if w and h else 0.0
    if spec.name == "border.off_centre":
        if report is None:
            return 0.0
        return math.hypot(float(report.values.get("content_offset_x", 0.0)),
                          float(report.values.get("content_offset_y", 0.0)))
    if spec.name in ("text.missing", "relevance.missing"):
        return 1.0 if report is None else 0.0
    return None


def features_from_screen(screen: Any) -> np.ndarray:
    """The ``FEATURES`` vector (float64) of one :class:`~creative4u.checks.suite.ImageScreen`.

    >>> features_from_screen(None)[FEATURES.index("text.missing")]
    np.float64(1.0)
    """
    out = np.empty(len(FEATURE_SPECS), dtype=np.float64)
    cache: dict[str, Any] = {}
    for i, spec in enumerate(FEATURE_SPECS):
        if spec.check not in cache:
            cache[spec.check] = _report(screen, spec.check)
        report = cache[spec.check]
        special = _special(spec, report)
        out[i] = special if special is not None else _value(report, spec)
    return out


def features_matrix(screens: Sequence[Any]) -> np.ndarray:
    """Stack :func:`features_from_screen` rows; ``(n, len(FEATURES))``.

    >>> features_matrix([None, None]).shape == (2, len(FEATURES))
    True
    """
    if not screens:
        return np.zeros((0, len(FEATURE_SPECS)))
    return np.vstack([features_from_screen(s) for s in screens])


def feature_profile(profile: Any = "default") -> Any:
    """``profile`` restricted to :data:`FEATURE_CHECKS` (same thresholds): all the feature judge needs to run.

    >>> sorted(feature_profile().checks) == sorted(FEATURE_CHECKS)
    True
    """
    from creative4u.checks.profile import CheckProfile, CheckSettings, load_profile

    base = load_profile(profile)
    checks = {name: base.checks.get(name) or CheckSettings() for name in FEATURE_CHECKS}
    return CheckProfile(name=f"{base.name}[features]", description=base.description, checks=checks)

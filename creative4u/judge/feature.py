"""The built-in feature judge: a small pairwise model over check measurements, with a plain-words rationale.

>>> from PIL import Image, ImageFilter
>>> from skimage import data
>>> from creative4u.images import LoadedImage
>>> from creative4u.judge.base import PairInput
>>> photo = Image.fromarray(data.coffee())
>>> crisp = LoadedImage.from_pil(photo, name="crisp")
>>> soft = LoadedImage.from_pil(photo.filter(ImageFilter.GaussianBlur(4)), name="soft")
>>> v = FeatureJudge().judge(PairInput(soft, crisp))
>>> v.winner, "edge sharpness" in v.rationale
('B', True)

The model is logistic regression on the *difference* of standardised feature vectors, without an intercept:
``p_a = sigmoid(w . (z_a - z_b))``. Swapping A and B negates the difference, so the judge is exactly
antisymmetric: ``p(B, A) = 1 - p(A, B)`` and both orders always agree. Its weights, feature names, scaler and a
summary of its training data live in ``creative4u/judge/weights/feature_judge.json``
(``python scripts/train_feature_judge.py`` rewrites it). The rationale names the measurements that decided: the
per-check sums of ``w_i (z_a,i - z_b,i)``, largest first, each phrased with both images' numbers.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from creative4u.features import FEATURE_CHECKS, FEATURES, feature_profile, features_matrix
from creative4u.judge.base import Judge, PairInput, Verdict

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "feature_judge.json"
# Feature checks that compare the image with the request's title/queries.
CONTEXT_CHECKS = tuple(c for c in ("relevance", "text_match") if c in FEATURE_CHECKS)


@dataclass
class FeatureModel:
    """Weights of the pairwise logistic model and the scaler it was trained with.

    >>> m = FeatureModel(["sharpness.score", "noise.score"], [0.0, 0.0], [1.0, 1.0], [-1.0, -0.5])
    >>> crisp, blurred = np.zeros((1, len(FEATURES))), np.zeros((1, len(FEATURES)))
    >>> blurred[0, FEATURES.index("sharpness.score")] = 1.0
    >>> float(m.logits(crisp, blurred)[0])  # positive: A (crisp) is better
    1.0
    """

    features: list[str]
    mean: list[float]
    std: list[float]
    weights: list[float]
    version: str = "0"
    kind: str = "logistic regression on standardised feature differences, no intercept, weights <= 0"
    training: dict[str, Any] = field(default_factory=dict)
    # feature -> half-width (standardised units) of a dead zone on its difference: |z_a - z_b| below it counts 0,
    # above it counts only the excess (a soft threshold, so the judge stays antisymmetric).
    dead_zone: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (len(self.features) == len(self.mean) == len(self.std) == len(self.weights)):
            raise ValueError("feature judge weights: features, mean, std and weights must have the same length")
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise ValueError(f"feature judge weights name unknown features {unknown}; known: {FEATURES}")
        self._cols = np.array([FEATURES.index(f) for f in self.features], dtype=np.intp)
        self._mean = np.asarray(self.mean, dtype=np.float64)
        self._std = np.where(np.asarray(self.std, dtype=np.float64) > 1e-9, self.std, 1.0)
        self._w = np.asarray(self.weights, dtype=np.float64)
        self._dz = np.array([float(self.dead_zone.get(f, 0.0)) for f in self.features], dtype=np.float64)

    def standardise(self, x: np.ndarray) -> np.ndarray:
        """``(n, len(FEATURES))`` raw features -> ``(n, k)`` standardised model inputs."""
        return (x[:, self._cols] - self._mean) / self._std

    def differences(self, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
        """``z_a - z_b`` with each feature's dead zone applied (a soft threshold; exactly antisymmetric)."""
        d = self.standardise(xa) - self.standardise(xb)
        return np.sign(d) * np.maximum(np.abs(d) - self._dz, 0.0) if self._dz.any() else d

    def contributions(self, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
        """Per-feature terms ``w_i (z_a,i - z_b,i)`` (positive: favours A); they sum to the logit."""
        return self.differences(xa, xb) * self._w

    def logits(self, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
        return self.contributions(xa, xb).sum(axis=1)

    def to_dict(self) -> dict[str, Any]:
        out = {"version": self.version, "kind": self.kind, "features": self.features, "mean": self.mean,
               "std": self.std, "weights": self.weights, "training": self.training}
        return {**out, "dead_zone": self.dead_zone} if self.dead_zone else out

    def save(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path = DEFAULT_WEIGHTS) -> FeatureModel:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"feature judge weights not found: {path} (run scripts/train_feature_judge.py)")
        raw = json.loads(path.read_text(encoding="utf-8"))
        keys = ("features", "mean", "std", "weights", "version", "kind", "training", "dead_zone")
        return cls(**{k: raw[k] for k in keys if k in raw})


# ------------------------------------------------------------------------------------------- explanations
def _vals(screen: Any, check: str) -> dict[str, Any]:
    report = (getattr(screen, "reports", None) or {}).get(check)
    if report is None or getattr(report, "status", "ok") in ("unavailable", "error"):
        return {}
    return {**(report.values or {}), "_score": report.score, "_summary": report.summary}


def _num(v: dict[str, Any], key: str, default: float = float("nan")) -> float:
    x = v.get(key)
    return float(x) if isinstance(x, int | float) and x is not None else default


def _say_sharpness(w: str, lose: str, vw: dict, vl: dict) -> str:
    sw, sl = _num(vw, "edge_sharpness"), _num(vl, "edge_sharpness")
    if math.isnan(sl):
        return f"{w} has crisp edges and {lose} has none to speak of"
    kind = "motion-blurred" if "motion" in str(vl.get("_summary", "")) else "blurred"
    if vl.get("_score", 0) >= 0.5 and vw.get("_score", 0) < 0.5:
        return f"{lose} is {kind} (edge sharpness {sl:.2f} vs {sw:.2f})"
    return f"{w} is sharper (edge sharpness {sw:.2f} vs {sl:.2f})"


def _say_exposure(w: str, lose: str, vw: dict, vl: dict) -> str:
    if _num(vl, "under_score", 0) >= _num(vl, "over_score", 0) and _num(vl, "under_ev", 0) > _num(vw, "under_ev", 0):
        return f"{lose} is too dark (its brightest tones reach {_num(vl, 'p99'):.0f}/255 vs {_num(vw, 'p99'):.0f})"
    if _num(vl, "blown_fraction", 0) > _num(vw, "blown_fraction", 0):
        return (f"{lose} is overexposed ({_num(vl, 'blown_fraction'):.0%} of its pixels blown out vs "
                f"{_num(vw, 'blown_fraction'):.0%})")
    return f"{w} is better exposed (mean brightness {_num(vw, 'mean_luma'):.0f} vs {_num(vl, 'mean_luma'):.0f}/255)"


def _say_contrast(w: str, lose: str, vw: dict, vl: dict) -> str:
    return (f"{w} has more contrast (its colour channels span {_num(vw, 'spread'):.0%} vs {_num(vl, 'spread'):.0%} "
            "of the range)")


def _say_noise(w: str, lose: str, vw: dict, vl: dict) -> str:
    if _num(vl, "blocking_score", 0) > _num(vl, "noise_score", 0):
        return (f"{lose} shows JPEG compression blocks (8x8 blockiness {_num(vl, 'blockiness'):.1f} vs "
                f"{_num(vw, 'blockiness'):.1f})")
    return (f"{lose} is noisier (noise {_num(vl, 'noise_sigma'):.1f} vs {_num(vw, 'noise_sigma'):.1f} grey levels "
            "in flat areas)")


def _say_resolution(w: str, lose: str, vw: dict, vl: dict) -> str:
    pw, pl = _num(vw, "width", 0) * _num(vw, "height", 0), _num(vl, "width", 0) * _num(vl, "height", 0)
    if pl < 0.8 * pw:
        return (f"{lose} has fewer pixels ({vl.get('width')}x{vl.get('height')} vs "
                f"{vw.get('width')}x{vw.get('height')})")
    return (f"{lose} lacks fine detail, as if enlarged from a smaller image (finest-scale detail "
            f"{_num(vl, 'detail_energy_ratio'):.2f} vs {_num(vw, 'detail_energy_ratio'):.2f})")


def _say_colour(w: str, lose: str, vw: dict, vl: dict) -> str:
    return (f"{w} is more colourful (colourfulness {_num(vw, 'colourfulness'):.0f} vs "
            f"{_num(vl, 'colourfulness'):.0f})")


def _say_border(w: str, lose: str, vw: dict, vl: dict) -> str:
    area = _num(vl, "content_area_frac", 1.0)
    off = math.hypot(_num(vl, "content_offset_x", 0.0), _num(vl, "content_offset_y", 0.0))
    if area < 0.5 or off > 0.15:
        where = " and sits off-centre" if off > 0.15 else ""
        return f"{lose}'s picture fills only {area:.0%} of the canvas{where}, the rest is plain background"
    bands = [f"{side} {int(_num(vl, f'band_{side}_px', 0))}" for side in ("top", "bottom", "left", "right")
             if _num(vl, f"band_{side}_px", 0) > 0]
    where = f" (bands: {', '.join(bands)} px)" if bands else ""
    return f"{lose} has a border or frame around the picture{where}"


def _say_compression(w: str, lose: str, vw: dict, vl: dict) -> str:
    return (f"{lose} shows JPEG compression artefacts (quality read from its pixels "
            f"~{_num(vl, 'pixel_quality', 0):.0f} vs {_num(vw, 'pixel_quality', 0):.0f}, "
            f"8x8 blockiness {_num(vl, 'blockiness', 0):.2f} vs {_num(vw, 'blockiness', 0):.2f})")


def _say_text(w: str, lose: str, vw: dict, vl: dict) -> str:
    return f"{lose} is covered {_num(vl, 'coverage', 0):.0%} by text (vs {_num(vw, 'coverage', 0):.0%})"


def _shows(v: dict) -> str:
    labels = v.get("top_labels") or []
    return labels[0]["label"] if labels and isinstance(labels[0], dict) else "something else"


def _say_relevance(w: str, lose: str, vw: dict, vl: dict) -> str:
    # Quotes the request's own title/query (the seller's text, not the image's): still data, shown in quotes.
    best = str(vw.get("best_text", ""))[:80]
    return (f"{w} shows {_shows(vw)}, which matches {best!r} (similarity {_num(vw, 'similarity'):.2f}); "
            f"{lose} shows {_shows(vl)} ({_num(vl, 'similarity'):.2f})")


def _say_text_match(w: str, lose: str, vw: dict, vl: dict) -> str:
    if not vl.get("has_text"):
        return f"{w}'s text speaks to {str(vw.get('best_query', ''))[:60]!r}"
    return (f"{lose}'s text is further from the queries (similarity {_num(vl, 'similarity', 0):.2f} vs "
            f"{_num(vw, 'similarity', 0):.2f})")


_PHRASES: dict[str, Callable[[str, str, dict, dict], str]] = {
    "sharpness": _say_sharpness, "exposure": _say_exposure, "contrast": _say_contrast, "noise": _say_noise,
    "resolution": _say_resolution, "colourfulness": _say_colour, "border": _say_border, "text": _say_text,
    "compression": _say_compression, "relevance": _say_relevance, "text_match": _say_text_match,
}
_ASPECT = np.array([f.split(".")[0] for f in FEATURES])


def _join(clauses: list[str]) -> str:
    if len(clauses) == 1:
        return clauses[0]
    return ", ".join(clauses[:-1]) + " and " + clauses[-1]


# ------------------------------------------------------------------------------------------------ the judge
class FeatureJudge(Judge):
    """Offline pairwise judge over check measurements (runs anywhere, CPU only, vectorised over pairs).

    ``tie_margin``: answer "tie" when ``|p_a - 0.5|`` is below it. ``max_reasons``: how many deciding measurements
    the rationale names. Pairs without screens are screened here with the default profile's settings for the checks
    the features read (cached by content hash, on disk too when ``cache_dir`` is given).

    >>> FeatureJudge().model_name.startswith("feature-lr")
    True
    """

    name: ClassVar[str] = "feature"
    needs_screens: ClassVar[bool] = True
    screen_checks: ClassVar[tuple[str, ...]] = FEATURE_CHECKS

    def __init__(self, weights: str | Path | None = None, tie_margin: float = 0.02, max_reasons: int = 2,
                 profile: str | Path = "default", cache_dir: str | Path | None = None) -> None:
        if not 0.0 <= float(tie_margin) < 0.5:
            raise ValueError(f"feature judge: tie_margin must be in [0, 0.5), got {tie_margin}")
        self.model = FeatureModel.load(weights or DEFAULT_WEIGHTS)
        self.tie_margin = float(tie_margin)
        self.max_reasons = max(1, int(max_reasons))
        self.profile, self.cache_dir = profile, cache_dir
        self._suite: Any = None
        self._context_suite: Any = None

    @property
    def model_name(self) -> str:
        return f"feature-lr@{self.model.version}"

    def _screen(self, pair_img: Any, screen: Any, pair: PairInput | None = None) -> Any:
        from creative4u.checks.base import RequestContext
        from creative4u.checks.suite import CheckSuite

        context = RequestContext(pair.title, tuple(pair.queries)) if pair is not None else None
        if screen is None:
            if self._suite is None:
                self._suite = CheckSuite(feature_profile(self.profile), cache_dir=self.cache_dir)
            return self._suite.screen(pair_img, context)
        reports = getattr(screen, "reports", None) or {}
        # Absent, or measured without the request (a caller that screened without title/queries, e.g. eval).
        missing = [c for c in CONTEXT_CHECKS if c not in reports or (reports[c].values or {}).get("needs_context")]
        if not missing or context is None or not context.texts():
            return screen
        # A screen made without the request's checks (another profile): the judge measures them itself (cached).
        if self._context_suite is None:
            from creative4u.checks.profile import CheckProfile

            base = feature_profile(self.profile)
            only = CheckProfile(name=base.name, checks={c: base.checks[c] for c in CONTEXT_CHECKS})
            self._context_suite = CheckSuite(only, cache_dir=self.cache_dir)
        extra = self._context_suite.screen(pair_img, context)
        return replace(screen, reports={**screen.reports, **{c: extra.reports[c] for c in missing}})

    def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
        if not pairs:
            return []
        start = time.perf_counter()
        screens_a = [self._screen(p.image_a, p.screen_a, p) for p in pairs]
        screens_b = [self._screen(p.image_b, p.screen_b, p) for p in pairs]
        contrib = self.model.contributions(features_matrix(screens_a), features_matrix(screens_b))
        logit = contrib.sum(axis=1)
        p_a = 1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60)))
        per_aspect = {a: contrib[:, _ASPECT[self.model._cols] == a].sum(axis=1) for a in _PHRASES}
        latency = (time.perf_counter() - start) * 1000 / len(pairs)
        out = []
        for i in range(len(pairs)):
            aspects = {a: float(v[i]) for a, v in per_aspect.items()}
            out.append(self._verdict(float(p_a[i]), float(logit[i]), aspects, screens_a[i], screens_b[i], latency))
        return out

    def _verdict(self, p: float, logit: float, aspects: dict[str, float], sa: Any, sb: Any,
                 latency: float) -> Verdict:
        tie = abs(p - 0.5) < self.tie_margin
        winner = "tie" if tie else ("A" if p >= 0.5 else "B")
        lean = "A" if p >= 0.5 else "B"
        rationale = self._rationale(lean, aspects, sa, sb, p, tie)
        confidence = 0.5 if tie else (p if winner == "A" else 1.0 - p)
        top = sorted(aspects.items(), key=lambda kv: -abs(kv[1]))[:4]
        details = {"logit": round(logit, 4), "aspects": {k: round(v, 4) for k, v in top}}
        return Verdict(winner, confidence, p, rationale, self.name, self.model_name, "n/a", latency, details=details)

    def _rationale(self, lean: str, aspects: dict[str, float], sa: Any, sb: Any, p: float, tie: bool) -> str:
        """One sentence from the aspects that pushed towards ``lean``, strongest first, with both numbers."""
        sign = 1.0 if lean == "A" else -1.0
        ranked = sorted(((sign * v, a) for a, v in aspects.items() if sign * v > 0), reverse=True)
        if not ranked:
            return "The two creatives measure the same on every check; neither is preferred."
        keep = [a for v, a in ranked[: self.max_reasons] if v >= 0.25 * ranked[0][0]]
        other = "B" if lean == "A" else "A"
        vw_s, vl_s = (sa, sb) if lean == "A" else (sb, sa)
        clauses = [_PHRASES[a](lean, other, _vals(vw_s, a), _vals(vl_s, a)) for a in keep]
        sentence = _join(clauses)
        sentence = sentence[0].upper() + sentence[1:]
        if tie:
            return f"Too close to call (p_A = {p:.2f}); the small lean to {lean} comes from this: {sentence}."
        return f"{sentence}."

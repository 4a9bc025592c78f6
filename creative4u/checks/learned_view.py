"""The learned view: small logistic heads on the image embedding that tell a defect from a style.

>>> head = Head(family="blur", hand=HAND_NAMES["blur"], coef=[0.0] * 1280 + [-4.0, 0, 0, 0], intercept=2.0,
...             threshold=0.5)
>>> round(head.probability(np.zeros(1280), {"edge_sharpness": 0.5}), 3)
0.5

Hand-made statistics cannot tell a soft-focus "bokeh" wallpaper from its own blurred copy, nor a low-key design from
a photo pulled down a stop: the numbers are the same. The 1280-d EfficientNet-Lite0 embedding
(:mod:`creative4u.checks.perception`, computed once per image and shared with ``relevance``) does know an artwork
from a failed photo. A head per defect family (``blur``, ``under``, ``over``) is an L2-regularised logistic
regression on [embedding, the check's own measurements], trained by ``scripts/train_quality_heads.py`` on the
clean set's dev split only (grouped by source photo) and shipped as ``checks/weights/quality_heads.json``. The check
reports both readings ("edge sharpness 0.31; learned view 0.92: a defect, not a style"). Without the exported
perception models the check keeps its hand-made score and says so in its values.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from creative4u.images import LoadedImage

HEADS_FILE = Path(__file__).resolve().parent / "weights" / "quality_heads.json"


def _finite(x: Any, default: float) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


def hand_features(family: str, values: dict[str, Any]) -> list[float]:
    """The check's own measurements a head reads, as numbers (missing ones at a neutral value).

    >>> hand_features("blur", {"edge_sharpness": 0.4, "n_edges": 99, "blur_by_orientation": {"0": 1.0, "90": 2.0}})
    [0.4, 4.6052, 1.0, 2.0]
    """
    if family == "blur":
        per = [_finite(v, 1.0) for v in (values.get("blur_by_orientation") or {}).values()] or [1.0]
        sharp = values.get("edge_sharpness")
        edges = round(math.log1p(_finite(values.get("n_edges"), 0.0)), 4)
        return [_finite(sharp, 0.5 if sharp is None else 0.0), edges, min(per), max(per)]
    if family in ("under", "over"):
        return [_finite(values.get(k), 0.0) for k in ("under_ev", "over_logit", "blown_fraction",
                                                        "highlight_saturation")] + [
            _finite(values.get(k), 128.0) / 255.0 for k in ("mean_luma", "p50", "p99")]
    raise ValueError(f"unknown learned-view family {family!r}; known: blur, under, over")


HAND_NAMES = {"blur": ("edge_sharpness", "log1p_n_edges", "blur_sigma_min", "blur_sigma_max"),
              "under": ("under_ev", "over_logit", "blown_fraction", "highlight_saturation", "mean_luma", "p50", "p99")}
HAND_NAMES["over"] = HAND_NAMES["under"]


@dataclass(frozen=True)
class Head:
    """One family's logistic head: ``coef`` over [1280-d unit embedding, hand features] (scaling folded in)."""

    family: str
    hand: tuple[str, ...]
    coef: list[float]
    intercept: float
    threshold: float  # the head probability calibrated on the dev split's out-of-fold predictions

    def probability(self, embedding: np.ndarray, values: dict[str, Any]) -> float:
        x = np.concatenate([np.asarray(embedding, dtype=np.float64).ravel(), hand_features(self.family, values)])
        if x.shape[0] != len(self.coef):
            raise ValueError(f"head {self.family!r} expects {len(self.coef)} inputs, got {x.shape[0]}")
        z = float(x @ np.asarray(self.coef, dtype=np.float64)) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@lru_cache(maxsize=4)
def load_heads(path: str | None = None) -> dict[str, Head]:
    """The shipped heads by family (an empty dict when the file is absent).

    >>> sorted(load_heads()) if HEADS_FILE.is_file() else ["blur", "over", "under"]
    ['blur', 'over', 'under']
    """
    file = Path(path) if path else HEADS_FILE
    if not file.is_file():
        return {}
    data = json.loads(file.read_text(encoding="utf-8"))
    return {fam: Head(family=fam, hand=tuple(h["hand"]), coef=[float(c) for c in h["coef"]],
                      intercept=float(h["intercept"]), threshold=float(h["threshold"]))
            for fam, h in data["heads"].items()}


@lru_cache(maxsize=1)
def heads_version() -> str:
    """A digest of the shipped heads file (part of the checks' cache keys: a retrained head is not served from the
    cache), or ``none``."""
    if not HEADS_FILE.is_file():
        return "none"
    return hashlib.sha256(HEADS_FILE.read_bytes()).hexdigest()[:12]


def embedding(img: LoadedImage, model_dir: Any = None) -> np.ndarray | None:
    """The shared perception embedding of ``img`` (None when the models are not exported)."""
    from creative4u.checks.perception import PerceptionUnavailableError, get_perception

    try:
        p = get_perception(model_dir)
    except PerceptionUnavailableError:
        return None
    return p.image(img).embedding


def learned_view(img: LoadedImage, families: tuple[str, ...], values: dict[str, Any],
                 model_dir: Any = None) -> dict[str, float] | None:
    """Head probabilities per family for ``img``, each rescaled so 0.5 sits at the head's calibrated threshold;
    None when the perception models or the heads are missing."""
    heads = load_heads()
    if not all(f in heads for f in families):
        return None
    emb = embedding(img, model_dir)
    if emb is None:
        return None
    return {f: rescale(heads[f].probability(emb, values), heads[f].threshold) for f in families}


def rescale(p: float, threshold: float) -> float:
    """Piecewise-linear map of a probability so ``threshold`` lands on 0.5 (order kept, 0 and 1 fixed).

    >>> rescale(0.2, 0.2), rescale(0.6, 0.2), rescale(0.1, 0.2)
    (0.5, 0.75, 0.25)
    """
    t = min(max(threshold, 1e-6), 1 - 1e-6)
    return round(0.5 * p / t if p <= t else 0.5 + 0.5 * (p - t) / (1 - t), 4)


def learned_key(check: Any) -> str:
    """Cache-key suffix: the heads' version and whether the models are there (a fallback result is not reused once
    they are exported)."""
    if not check.options.get("learned", False):
        return ""
    from creative4u.checks.perception import model_dir, models_available

    folder = check.options.get("model_dir")
    return f"+lv{heads_version()}" + ("" if models_available(Path(folder) if folder else model_dir()) else "-nomodels")


__all__ = ["HAND_NAMES", "HEADS_FILE", "Head", "embedding", "hand_features", "heads_version", "learned_key",
           "learned_view", "load_heads", "rescale", "with_learned_view"]


def with_learned_view(check: Any, img: LoadedImage, m: Any, families: tuple[str, ...],
                      states: tuple[str, str]) -> Any:
    """``m`` (a Measurement of ``check``) with the learned view's score when the check's ``learned`` option is on
    (off by default; profiles turn it on) and the models are there; the hand-made score, reading and summary stay
    in the values.

    ``states`` = (flagged, fine) words that open the summary, e.g. ("blurred", "sharp").
    """
    if not check.options.get("learned", False) or m.score is None:
        return m
    view = learned_view(img, families, m.values, check.options.get("model_dir"))
    values = dict(m.values)
    if view is None:
        values["learned_view"] = "not available: perception models not exported (hand-made score kept)"
        return replace(m, values=values)
    fam = max(view, key=view.get)
    score = view[fam]
    values.update(hand_score=round(m.score, 4), learned_view=view)
    detail = m.summary.split(": ", 1)[-1]
    verdict = "a defect, not a style" if score >= 0.5 else "a style or a fine image, not a defect"
    state = states[0] if score >= 0.5 else states[1]
    if isinstance(state, dict):
        state = state.get(fam, next(iter(state.values())))
    summary = f"{state}: the measurement says {detail}; the learned view says {score:.2f} ({fam}): {verdict}"
    return replace(m, score=score, values=values, summary=summary)

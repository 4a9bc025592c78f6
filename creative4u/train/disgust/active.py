"""Active learning: which unlabelled images annotators should label next.

>>> probs = np.array([[0.9, 0.1], [0.45, 0.55], [0.05, 0.95], [0.3, 0.7]])
>>> [c.index for c in rank_candidates(probs, negative_index=1, budget=2, low=0.2, high=0.8, threshold=0.5)]
[1, 3]

The industrial rule: an image whose disgust score (``1 - P(none)``) falls between two thresholds is one the model
is unsure about; labelling it teaches the most. Candidates inside ``[low, high]`` are ranked either by
``uncertainty`` (closest to the calibrated decision threshold first) or by ``loss``: the loss the model expects on
the image, i.e. the cross-entropy it would suffer averaged over its own predictive distribution, which is the
entropy of that distribution (a predicted loss that needs no label and no extra loss-prediction head).
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

RANKINGS = ("uncertainty", "loss")


@dataclass
class Candidate:
    """One image proposed for labelling."""

    index: int
    path: str
    score: float
    predicted_loss: float
    distance_to_threshold: float
    category: str
    probabilities: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expected_loss(probs: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each row: the model's expected cross-entropy under its own prediction.

    >>> expected_loss(np.array([[0.5, 0.5], [1.0, 0.0]])).round(4).tolist()
    [0.6931, 0.0]
    """
    p = np.clip(np.asarray(probs, float), 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


def rank_candidates(probs: np.ndarray, negative_index: int, budget: int, low: float = 0.2, high: float = 0.8,
                    threshold: float = 0.5, ranking: str = "uncertainty", paths: list[str] | None = None,
                    classes: list[str] | None = None) -> list[Candidate]:
    """Up to ``budget`` images with ``low <= score <= high``, best first (see the module docstring)."""
    if ranking not in RANKINGS:
        raise ValueError(f"ranking must be one of {', '.join(RANKINGS)}, got {ranking!r}")
    if not 0 <= low <= high <= 1:
        raise ValueError(f"need 0 <= low <= high <= 1, got low={low} high={high}")
    if budget < 1:
        raise ValueError(f"budget must be >= 1, got {budget}")
    probs = np.asarray(probs, float)
    classes = classes or [str(i) for i in range(probs.shape[1])]
    paths = paths or [""] * len(probs)
    scores = 1.0 - probs[:, negative_index]
    losses = expected_loss(probs)
    inside = np.nonzero((scores >= low) & (scores <= high))[0]
    key = losses[inside] * -1 if ranking == "loss" else np.abs(scores[inside] - threshold)
    order = inside[np.argsort(key, kind="stable")][:budget]
    positives = [i for i in range(probs.shape[1]) if i != negative_index]
    return [Candidate(int(i), paths[i], round(float(scores[i]), 6),
                      round(float(losses[i]), 6), round(abs(float(scores[i]) - threshold), 6),
                      classes[max(positives, key=lambda k, i=i: probs[i, k])],
                      {c: round(float(p), 6) for c, p in zip(classes, probs[i], strict=True)}) for i in order]


def select_for_labelling(pool: str | os.PathLike, model_dir: str | os.PathLike, budget: int, low: float = 0.2,
                         high: float = 0.8, ranking: str = "uncertainty", backend: str = "auto",
                         threads: int = 1, progress: bool = True) -> dict[str, Any]:
    """Score every image in ``pool`` (a folder, searched recursively) and pick the ones to label."""
    from tqdm.auto import tqdm

    from creative4u.checks.disgust import DisgustMeta, predict_images
    from creative4u.images import ImageLoadError, load_image
    from creative4u.train.disgust.data import IMAGE_SUFFIXES

    root = Path(pool)
    if not root.is_dir():
        raise FileNotFoundError(f"unlabelled pool {root} is not a folder")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    meta = DisgustMeta.from_dir(model_dir)
    probs_parts, kept, skipped = [], [], []
    for start in tqdm(range(0, len(files), 64), desc="scoring pool", disable=not progress, leave=False):
        images = []
        for p in files[start : start + 64]:
            try:
                images.append(load_image(p).image)
                kept.append(str(p))
            except ImageLoadError as err:
                skipped.append({"path": str(p), "error": err.reason})
        if images:
            probs_parts.append(predict_images(images, model_dir, backend, threads)[0])
    probs = np.concatenate(probs_parts) if probs_parts else np.zeros((0, len(meta.classes)))
    picked = rank_candidates(probs, meta.negative_index, budget, low, high, meta.threshold, ranking, kept,
                             meta.classes) if len(probs) else []
    scores = 1.0 - probs[:, meta.negative_index] if len(probs) else np.zeros(0)
    return {"pool": str(root), "model_dir": str(model_dir), "scored": len(kept), "skipped": skipped,
            "in_band": int(((scores >= low) & (scores <= high)).sum()), "band": [low, high], "ranking": ranking,
            "threshold": meta.threshold, "budget": budget, "selected": [c.to_dict() for c in picked]}


def write_selection(result: dict[str, Any], out: str | os.PathLike) -> Path:
    """Write the selection as ``.csv`` (path, score, category, predicted loss) or ``.jsonl`` (everything)."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = result["selected"]
    if path.suffix.lower() == ".csv":
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["path", "score", "category", "predicted_loss", "distance_to_threshold"])
            for r in rows:
                writer.writerow([r["path"], r["score"], r["category"], r["predicted_loss"],
                                 r["distance_to_threshold"]])
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path

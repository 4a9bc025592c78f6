"""Threshold calibration for a target precision, and the precision/recall figures reported with it.

>>> scores = np.array([0.1, 0.2, 0.35, 0.4, 0.8, 0.9])
>>> labels = np.array([0, 0, 1, 0, 1, 1])
>>> cal = calibrate_threshold(scores, labels, target_precision=0.9)
>>> cal.threshold, cal.precision, cal.recall, cal.met
(0.8, 1.0, 0.6667, True)

The rule: among thresholds whose precision on the validation split reaches the target, take the one with the
highest recall (the lowest such threshold). When none reaches it, take the threshold with the best F1 and say
``met=False`` — a silent fallback would hide that the model is not good enough.

Positives are rare in production (under 0.1%), so a balanced validation split overstates precision. With
``prevalence`` set, precision is computed as it would be at that share of positives:
``P = pi * TPR / (pi * TPR + (1 - pi) * FPR)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass
class Calibration:
    """The chosen threshold and what it gives on the split it was chosen on."""

    threshold: float
    precision: float
    recall: float
    target_precision: float
    met: bool
    n_positive: int
    n_negative: int
    prevalence: float | None = None
    false_positive_rate: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rates(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float, int]:
    pred = scores >= threshold
    pos, neg = labels == 1, labels == 0
    tpr = float(pred[pos].mean()) if pos.any() else 0.0
    fpr = float(pred[neg].mean()) if neg.any() else 0.0
    return tpr, fpr, int(pred.sum())


def precision_recall_at(scores: np.ndarray, labels: np.ndarray, threshold: float,
                        prevalence: float | None = None) -> tuple[float, float, float]:
    """``(precision, recall, false-positive rate)`` at ``threshold``; precision is 1.0 when nothing is flagged.

    >>> precision_recall_at(np.array([0.2, 0.6, 0.9]), np.array([0, 0, 1]), 0.5)
    (0.5, 1.0, 0.5)
    """
    scores, labels = np.asarray(scores, float), np.asarray(labels, int)
    tpr, fpr, flagged = _rates(scores, labels, threshold)
    if flagged == 0:
        return 1.0, 0.0, 0.0
    if prevalence is None:
        tp = float(((scores >= threshold) & (labels == 1)).sum())
        return tp / flagged, tpr, fpr
    denom = prevalence * tpr + (1 - prevalence) * fpr
    return (prevalence * tpr / denom if denom > 0 else 1.0), tpr, fpr


def pr_curve(scores: np.ndarray, labels: np.ndarray, prevalence: float | None = None) -> list[dict[str, float]]:
    """Precision, recall and FPR at every distinct score (descending thresholds)."""
    out = []
    for t in np.unique(np.asarray(scores, float))[::-1]:
        p, r, f = precision_recall_at(scores, labels, float(t), prevalence)
        out.append({"threshold": float(t), "precision": p, "recall": r, "fpr": f})
    return out


def _validate(scores: np.ndarray, labels: np.ndarray) -> None:
    if scores.shape != labels.shape or scores.ndim != 1:
        raise ValueError(f"scores and labels must be 1-D of one length, got {scores.shape} and {labels.shape}")
    if not set(np.unique(labels)) <= {0, 1}:
        raise ValueError("labels must be 0 (negative) or 1 (positive)")
    if not (labels == 1).any() or not (labels == 0).any():
        raise ValueError("calibration needs at least one positive and one negative example")


def calibrate_threshold(scores: np.ndarray, labels: np.ndarray, target_precision: float = 0.95,
                        prevalence: float | None = None) -> Calibration:
    """Pick the threshold for ``target_precision`` with the highest recall (see the module docstring)."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, int)
    _validate(scores, labels)
    curve = pr_curve(scores, labels, prevalence)
    ok = [c for c in curve if c["precision"] >= target_precision and c["recall"] > 0]
    met = bool(ok)
    if met:
        best = max(ok, key=lambda c: (c["recall"], c["threshold"]))
    else:
        best = max(curve, key=lambda c: (_f1(c["precision"], c["recall"]), c["threshold"]))
    return Calibration(round(best["threshold"], 6), round(best["precision"], 4), round(best["recall"], 4),
                       target_precision, met, int((labels == 1).sum()), int((labels == 0).sum()), prevalence,
                       round(best["fpr"], 4))


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the precision-recall curve (step-wise, as scikit-learn computes it).

    >>> average_precision(np.array([0.9, 0.8, 0.1]), np.array([1, 1, 0]))
    1.0
    """
    scores, labels = np.asarray(scores, float), np.asarray(labels, int)
    order = np.argsort(-scores, kind="stable")
    hits = labels[order] == 1
    if not hits.any():
        return 0.0
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return round(float(precision_at[hits].mean()), 6)


def evaluate_at(scores: np.ndarray, labels: np.ndarray, threshold: float, categories: list[str] | None = None,
                prevalence: float | None = None) -> dict[str, Any]:
    """Precision, recall, FPR, AP and per-category recall at a fixed threshold (the test-split report)."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, int)
    p, r, f = precision_recall_at(scores, labels, threshold, prevalence)
    out: dict[str, Any] = {"threshold": threshold, "precision": round(p, 4), "recall": round(r, 4),
                           "false_positive_rate": round(f, 4), "average_precision": average_precision(scores, labels),
                           "n_positive": int(labels.sum()), "n_negative": int((labels == 0).sum())}
    if categories is not None:
        cats = np.asarray(categories)
        out["recall_per_category"] = {
            c: round(float((scores[(cats == c) & (labels == 1)] >= threshold).mean()), 4)
            for c in sorted(set(cats[labels == 1].tolist()))
        }
    return out


def plot_pr(scores: np.ndarray, labels: np.ndarray, cal: Calibration, path: str, title: str = "") -> str:
    """Save the precision-recall curve with the calibrated point marked (matplotlib, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = pr_curve(scores, labels, cal.prevalence)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.step([c["recall"] for c in curve], [c["precision"] for c in curve], where="post", label="validation")
    ax.scatter([cal.recall], [cal.precision], color="red", zorder=3, label=f"threshold {cal.threshold:.3f}")
    ax.axhline(cal.target_precision, color="grey", linestyle=":", label=f"target {cal.target_precision:.2f}")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02), title=title or "disgust: PR curve")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

"""Threshold calibration for a target precision, prevalence re-weighting, AP and per-category recall."""

from __future__ import annotations

import numpy as np
import pytest

from creative4u.train.disgust.calibrate import (
    average_precision,
    calibrate_threshold,
    evaluate_at,
    precision_recall_at,
)


def test_threshold_reaches_target_precision_with_the_most_recall():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(200), np.zeros(800)].astype(int)
    scores = np.r_[rng.beta(5, 2, 200), rng.beta(2, 5, 800)]
    cal = calibrate_threshold(scores, labels, target_precision=0.9)
    assert cal.met
    p, r, _ = precision_recall_at(scores, labels, cal.threshold)
    assert p >= 0.9 and abs(r - cal.recall) < 1e-4
    # any lower threshold (more recall) breaks the target
    lower = np.sort(np.unique(scores[scores < cal.threshold]))[-1]
    assert precision_recall_at(scores, labels, lower)[0] < 0.9


def test_unreachable_target_falls_back_to_best_f1_and_says_so():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    labels = np.array([0, 1, 0, 1])
    cal = calibrate_threshold(scores, labels, target_precision=0.99)
    assert not cal.met and cal.precision < 0.99


def test_prevalence_lowers_precision_of_a_balanced_split():
    scores = np.array([0.95, 0.9, 0.85, 0.2, 0.6, 0.1, 0.05, 0.01])
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    balanced = precision_recall_at(scores, labels, 0.5)
    rare = precision_recall_at(scores, labels, 0.5, prevalence=0.001)
    assert balanced[0] == 0.75 and rare[1] == balanced[1] == 0.75
    assert rare[0] == pytest.approx(0.001 * 0.75 / (0.001 * 0.75 + 0.999 * 0.25))


def test_average_precision_matches_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 300)
    scores = labels * 0.3 + rng.random(300)
    assert average_precision(scores, labels) == pytest.approx(sklearn_metrics.average_precision_score(labels, scores))


def test_evaluate_at_reports_recall_per_category():
    scores = np.array([0.9, 0.2, 0.8, 0.7, 0.1])
    labels = np.array([1, 1, 1, 0, 0])
    cats = ["animal", "animal", "object", "none", "none"]
    out = evaluate_at(scores, labels, 0.5, cats)
    assert out["recall_per_category"] == {"animal": 0.5, "object": 1.0}
    assert out["precision"] == pytest.approx(2 / 3, abs=1e-4) and out["false_positive_rate"] == 0.5


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="at least one positive and one negative"):
        calibrate_threshold(np.array([0.1, 0.2]), np.array([0, 0]))
    with pytest.raises(ValueError, match="0 \\(negative\\) or 1"):
        calibrate_threshold(np.array([0.1, 0.2]), np.array([0, 2]))

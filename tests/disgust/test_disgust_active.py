"""Active learning: the unsure band, the two rankings, and the written list."""

from __future__ import annotations

import json

import numpy as np
import pytest

from creative4u.train.disgust.active import expected_loss, rank_candidates, write_selection


def _probs(scores: list[float]) -> np.ndarray:
    s = np.asarray(scores)
    return np.stack([s * 0.7, s * 0.3, 1 - s], axis=1)  # classes: animal, object, none


def test_only_the_band_is_selected_closest_to_the_threshold_first():
    probs = _probs([0.05, 0.45, 0.95, 0.62, 0.30, 0.75, 0.21])
    picked = rank_candidates(probs, negative_index=2, budget=10, low=0.2, high=0.8, threshold=0.5,
                             classes=["animal", "object", "none"])
    assert [c.index for c in picked] == [1, 3, 4, 5, 6]
    assert all(0.2 <= c.score <= 0.8 for c in picked) and picked[0].category == "animal"
    assert len(rank_candidates(probs, 2, budget=2, threshold=0.5)) == 2


def test_loss_ranking_prefers_the_most_uncertain_distribution():
    probs = np.array([[0.5, 0.5], [0.3, 0.7], [0.45, 0.55]])
    picked = rank_candidates(probs, negative_index=1, budget=3, low=0.0, high=1.0, ranking="loss")
    assert [c.index for c in picked] == [0, 2, 1]
    assert picked[0].predicted_loss == pytest.approx(np.log(2), abs=1e-6)
    assert expected_loss(np.array([[1.0, 0.0]]))[0] == pytest.approx(0.0, abs=1e-9)


def test_bad_arguments_are_refused():
    probs = _probs([0.5])
    with pytest.raises(ValueError, match="ranking must be one of"):
        rank_candidates(probs, 2, 1, ranking="random")
    with pytest.raises(ValueError, match="low <= high"):
        rank_candidates(probs, 2, 1, low=0.9, high=0.1)
    with pytest.raises(ValueError, match="budget"):
        rank_candidates(probs, 2, 0)


def test_selection_is_written_as_csv_or_jsonl(tmp_path):
    picked = rank_candidates(_probs([0.5, 0.4]), 2, 2, paths=["a.jpg", "b.jpg"])
    result = {"selected": [c.to_dict() for c in picked]}
    csv_lines = write_selection(result, tmp_path / "out.csv").read_text().splitlines()
    assert csv_lines[0].split(",")[:3] == ["path", "score", "category"] and csv_lines[1].startswith("a.jpg")
    rows = [json.loads(line) for line in write_selection(result, tmp_path / "o.jsonl").read_text().splitlines()]
    assert [r["path"] for r in rows] == ["a.jpg", "b.jpg"]

"""The CreativePair JSONL format: validation errors with line numbers, relative paths, round trip, datasets view."""

from __future__ import annotations

import json

import pytest

from creative4u.data.pairs import CreativePair, PairFormatError, iter_pairs, load_pair_dataset, read_pairs, write_pairs


def _write(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")


def test_round_trip_and_relative_paths(tmp_path, photo):
    photo.save(tmp_path / "a.jpg")
    photo.rotate(90).save(tmp_path / "b.jpg")
    pairs = [CreativePair("p1", str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"), "A", "Mug", ["mug"], "blur", "r")]
    write_pairs(tmp_path / "pairs.jsonl", pairs)
    raw = json.loads((tmp_path / "pairs.jsonl").read_text())
    assert raw["image_a"] == "a.jpg"
    back = read_pairs(tmp_path / "pairs.jsonl")
    assert back[0].image_a == str(tmp_path / "a.jpg") and back[0].queries == ["mug"]
    assert back[0].swapped().label == "B"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "x", "image_a": "a", "image_b": "b", "label": "C"}, "label must be one of"),
        ({"id": "x", "image_a": "a", "label": "A"}, "missing required field"),
        ({"id": "x", "image_a": "a", "image_b": "b", "label": "A", "queries": "mug"}, "queries must be a list"),
        ("{broken", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_errors_name_the_line(tmp_path, row, message):
    good = {"id": "ok", "image_a": "a", "image_b": "b", "label": "tie"}
    _write(tmp_path / "p.jsonl", [good, row])
    with pytest.raises(PairFormatError, match=f"p.jsonl:2: {message}"):
        read_pairs(tmp_path / "p.jsonl")
    lenient = list(iter_pairs(tmp_path / "p.jsonl", strict=False))
    assert isinstance(lenient[0][1], CreativePair) and isinstance(lenient[1][1], PairFormatError)


def test_duplicate_ids_rejected(tmp_path):
    row = {"id": "x", "image_a": "a", "image_b": "b", "label": "A"}
    _write(tmp_path / "p.jsonl", [row, row])
    with pytest.raises(PairFormatError, match="duplicate pair id"):
        read_pairs(tmp_path / "p.jsonl")


def test_datasets_view_has_image_features(tmp_path, photo):
    photo.save(tmp_path / "a.jpg")
    photo.save(tmp_path / "b.png")
    row = {"id": "p", "image_a": "a.jpg", "image_b": "b.png", "label": "B", "queries": ["q1", "q2"], "title": "T"}
    _write(tmp_path / "p.jsonl", [row])
    ds = load_pair_dataset(tmp_path / "p.jsonl")
    assert ds.features["image_a"].__class__.__name__ == "Image"
    first = ds[0]
    assert first["image_b"].size == photo.size and first["queries"] == ["q1", "q2"] and first["label"] == "B"

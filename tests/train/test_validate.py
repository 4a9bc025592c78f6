"""Pair-set validation: each problem is found with its line, the summary counts, positions get balanced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from creative4u.cli import main as cli_main
from creative4u.data.pairs import CreativePair
from creative4u.data.validate import PairValidationError, balance_positions, summarize_pairs, validate_pairs


@pytest.fixture()
def pair_dir(tmp_path: Path, photos) -> Path:
    for name, img in photos.items():
        img.save(tmp_path / f"{name}.jpg", quality=90)
    (tmp_path / "coffee_copy.jpg").write_bytes((tmp_path / "coffee.jpg").read_bytes())
    (tmp_path / "broken.jpg").write_bytes((tmp_path / "coffee.jpg").read_bytes()[:200])
    return tmp_path


def write(d: Path, rows: list) -> Path:
    path = d / "pairs.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def row(pid: str, a: str, b: str, label: str = "A", **kw) -> dict:
    return {"id": pid, "image_a": a, "image_b": b, "label": label, **kw}


def test_a_clean_set_passes_with_a_summary(pair_dir: Path) -> None:
    path = write(pair_dir, [row("p1", "coffee.jpg", "chelsea.jpg", "A", category="food", title="Beans"),
                            row("p2", "rocket.jpg", "astronaut.jpg", "B", category="toys", rationale="r"),
                            row("p3", "rocket.jpg", "coffee.jpg", "tie")])
    report = validate_pairs(path, decode_images=True)
    assert report.ok and len(report.pairs) == 3
    s = report.summary
    assert s["labels"] == {"A": 1, "B": 1, "tie": 1} and s["share_a"] == 0.5
    assert s["categories"] == {"(none)": 1, "food": 1, "toys": 1}
    assert (s["unique_images"], s["with_title"], s["with_rationale"]) == (4, 1, 1)
    report.raise_if_errors()  # nothing to raise


def test_every_problem_is_reported_with_its_line(pair_dir: Path) -> None:
    path = write(pair_dir, [
        row("p1", "coffee.jpg", "chelsea.jpg"),
        row("p1", "rocket.jpg", "chelsea.jpg"),          # 2: duplicate id
        row("p3", "coffee.jpg", "missing.jpg"),          # 3: missing image
        row("p4", "coffee.jpg", "coffee.jpg"),           # 4: same image (same path)
        row("p5", "coffee.jpg", "coffee_copy.jpg"),      # 5: same image (same bytes, other name)
        row("p6", "coffee.jpg", "chelsea.jpg", "C"),     # 6: bad label
        "{not json",                                     # 7: broken line
        row("p8", "broken.jpg", "chelsea.jpg"),          # 8: unreadable (found only when decoding)
        row("p9", "rocket.jpg", "chelsea.jpg", "tie"),   # 9: tie, refused with allow_ties=False
    ])
    report = validate_pairs(path, decode_images=True, allow_ties=False)
    found = {(i.where.rsplit(":", 1)[1], i.kind) for i in report.issues}
    assert found == {("2", "duplicate_id"), ("3", "missing_image"), ("4", "same_image"), ("5", "same_image"),
                     ("6", "format"), ("7", "format"), ("8", "unreadable_image"), ("9", "tie")}
    assert [p.id for p in report.pairs] == ["p1"]
    with pytest.raises(PairValidationError) as err:
        report.raise_if_errors(limit=3)
    message = str(err.value)
    assert "8 problem(s)" in message and "and 5 more" in message and "pairs.jsonl:2" in message
    assert "label must be one of" in str([i.message for i in report.issues])


def test_undecoded_images_are_only_checked_for_existence(pair_dir: Path) -> None:
    path = write(pair_dir, [row("p8", "broken.jpg", "chelsea.jpg")])
    assert validate_pairs(path).ok
    assert not validate_pairs(path, decode_images=True).ok


def test_balance_positions_swaps_half_and_mirrors_labels() -> None:
    pairs = [CreativePair(f"p{i}", f"a{i}.jpg", f"b{i}.jpg", "A", extra={"k": i}) for i in range(9)]
    pairs.append(CreativePair("t", "x.jpg", "y.jpg", "tie"))
    balanced = balance_positions(pairs, seed=3)
    labels = [p.label for p in balanced]
    assert abs(labels.count("A") - labels.count("B")) <= 1 and labels[-1] == "tie"
    for before, after in zip(pairs, balanced, strict=True):
        if after.label == "B":  # swapped: the better image (a*) moved to side B, the label followed it
            assert (after.image_a, after.image_b) == (before.image_b, before.image_a)
            assert after.extra["swapped"] is True and after.extra["k"] == before.extra["k"]
    assert [p.label for p in balance_positions(pairs, seed=3)] == labels  # deterministic
    assert summarize_pairs(balanced)["share_a"] == pytest.approx(5 / 9, abs=1e-3)


def test_cli_validate_exit_status(pair_dir: Path, capsys) -> None:
    good = write(pair_dir, [row("p1", "coffee.jpg", "chelsea.jpg")])
    assert cli_main(["data", "validate", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["pairs"] == 1
    bad = write(pair_dir, [row("p1", "coffee.jpg", "coffee.jpg")])
    assert cli_main(["data", "validate", str(bad)]) == 1
    assert "same_image" in capsys.readouterr().err

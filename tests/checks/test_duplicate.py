"""Duplicate / stolen image check: a real SQLite store, real photos and the copies a thief would make."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageOps

from creative4u.checks.duplicate import DuplicateImage, HashStore, crop_boxes, distance_score
from creative4u.checks.index_cli import add_index_arguments, index_add, index_stats
from creative4u.images import LoadedImage, load_image


def _jpeg(im: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="module")
def store(tmp_path_factory, photos):
    root = tmp_path_factory.mktemp("known")
    for name in ("coffee", "chelsea", "astronaut"):
        (root / f"{name}.jpg").write_bytes(_jpeg(photos[name], 95))
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (root / "notes.txt").write_text("not an image")
    db = root / "index.sqlite"
    result = index_add(db, [root])
    return db, result


def test_index_add_and_stats(store):
    db, result = store
    assert result["added"] == 3 and result["total"] == 3
    assert len(result["errors"]) == 1 and "broken.jpg" in result["errors"][0]
    assert index_add(db, [db.parent])["already_known"] == 3  # same files again: nothing new
    stats = index_stats(db)
    assert stats["exists"] and stats["images"] == 3 and stats["hash_rows"] == 3 * len(crop_boxes())


def _copies(im: Image.Image) -> dict[str, Image.Image]:
    w, h = im.size
    return {
        "half": im.resize((w // 2, h // 2)),
        "jpeg40": Image.open(io.BytesIO(_jpeg(im, 40))),
        "crop5": im.crop((w // 40, h // 40, w - w // 40, h - h // 40)),
        "crop10corner": im.crop((w // 10, h // 10, w, h)),
        "mirrored": ImageOps.mirror(im),
    }


@pytest.mark.parametrize("name", ["coffee", "chelsea", "astronaut"])
def test_copies_match_their_original(store, photos, name):
    db, _ = store
    check = DuplicateImage(db=str(db))
    for kind, copy in _copies(photos[name]).items():
        report = check.run(load_image(_jpeg(copy, 88), name=f"{name}-{kind}.jpg"))
        assert report.flagged, (kind, report.summary)
        assert report.values["nearest"]["path"].endswith(f"{name}.jpg"), (kind, report.values["nearest"])
    mirrored = check.run(load_image(_jpeg(ImageOps.mirror(photos[name]))))
    assert mirrored.values["nearest"]["mirrored"] is True


def test_different_photo_does_not_match(store, photos):
    db, _ = store
    report = DuplicateImage(db=str(db)).run(LoadedImage.from_pil(photos["rocket"], name="rocket.png"))
    assert not report.flagged, report.summary
    assert report.values["nearest"]["distance"] > report.values["match_distance"]


def test_identical_file_scores_one(store):
    db, _ = store
    report = DuplicateImage(db=str(db)).run(load_image(db.parent / "coffee.jpg"))
    assert report.score == 1.0 and report.values["nearest"]["identical"]
    assert "identical file" in report.summary


def test_without_a_store_the_check_is_not_available(tmp_path):
    report = DuplicateImage(db=str(tmp_path / "missing.sqlite")).run(LoadedImage.from_pil(Image.new("RGB", (8, 8))))
    assert report.status == "unavailable" and not report.flagged
    assert "index add" in report.summary


def test_tiny_image_against_store(store):
    db, _ = store
    report = DuplicateImage(db=str(db)).run(LoadedImage.from_pil(Image.new("RGB", (1, 1), "red")))
    assert report.status in ("ok", "flagged")


def test_distance_score_is_monotonic():
    assert distance_score(0) == 1.0 and distance_score(24) == 0.5 and distance_score(100) == 0.0


def test_argparse_wiring(tmp_path, capsys):
    import argparse

    parser = argparse.ArgumentParser()
    add_index_arguments(parser.add_subparsers(dest="cmd"))
    Image.new("RGB", (40, 30), "blue").save(tmp_path / "a.png")
    args = parser.parse_args(["index", "add", str(tmp_path), "--db", str(tmp_path / "i.sqlite")])
    assert args.func(args) == 0
    args = parser.parse_args(["index", "stats", "--db", str(tmp_path / "i.sqlite")])
    assert args.func(args) == 0
    assert '"images": 1' in capsys.readouterr().out
    assert HashStore(tmp_path / "i.sqlite").stats()["images"] == 1


def test_cache_key_changes_when_the_store_grows(tmp_path):
    db = tmp_path / "k.sqlite"
    check = DuplicateImage(db=str(db))
    before = check.cache_key()
    HashStore(db).add(LoadedImage.from_pil(Image.new("RGB", (16, 16), "red")))
    assert check.cache_key() != before

"""Pair building from skimage photos only (no network): format, whole-photo holdout, A/B balance, determinism."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest

from creative4u.data import photos as photos_mod
from creative4u.data.build_pairs import build_check_labels, build_pairs, split_photos
from creative4u.data.degrade import DEGRADATIONS
from creative4u.data.photos import PhotoFetchError, licence_for, list_photos, parse_dep5

REQUIRED = {"id", "image_a", "image_b", "label", "title", "queries", "category", "rationale"}
NAMES = ("skimage-chelsea", "skimage-coffee", "skimage-astronaut", "skimage-motorcycle-left",
         "skimage-motorcycle-right", "skimage-rocket")


@pytest.fixture(scope="module")
def no_network():
    """Fail loudly if anything tries to run apt-get (or any other subprocess)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(subprocess, "run", lambda *a, **k: pytest.fail(f"subprocess.run called: {a}"))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def photos(no_network):
    by_id = {p.id: p for p in list_photos(("skimage",))}
    return [by_id[n] for n in NAMES]


@pytest.fixture(scope="module")
def built(tmp_path_factory, photos):
    out = tmp_path_factory.mktemp("pairs")
    manifest = build_pairs(out, photos, per_photo=2, seed=3, size=128, holdout_fraction=0.34)
    return out, manifest


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_skimage_source_has_licences(photos):
    all_skimage = list_photos(("skimage",))
    assert len(all_skimage) >= 8
    assert all(p.licence and p.attribution and p.source == "skimage" for p in all_skimage)
    assert photos[0].load(max_side=64).size[0] <= 64


def test_jsonl_lines_have_the_required_keys(built):
    out, _ = built
    for split in ("train", "test"):
        for row in _rows(out / f"{split}.jsonl"):
            assert set(row) == REQUIRED
            assert row["label"] in ("A", "B")
            assert isinstance(row["queries"], list) and row["queries"] and row["title"]
            assert row["category"] in DEGRADATIONS
            for key in ("image_a", "image_b"):
                assert not Path(row[key]).is_absolute() and (out / row[key]).is_file()
            clean = row["image_a"] if row["label"] == "A" else row["image_b"]
            assert clean.endswith("-clean.jpg"), row  # the label always names the clean creative


def test_reader_accepts_the_files(built):
    pairs_mod = pytest.importorskip("creative4u.data.pairs")
    out, manifest = built
    for split in ("train", "test"):
        pairs = pairs_mod.read_pairs(out / f"{split}.jsonl")
        assert len(pairs) == manifest["splits"][split]["pairs"]
        assert all(Path(p.image_a).is_file() for p in pairs)


def test_whole_photos_held_out(built):
    out, manifest = built
    meta = _rows(out / "meta.jsonl")
    split_of: dict[str, set[str]] = {}
    for r in meta:
        split_of.setdefault(r["photo_id"], set()).add(r["split"])
    assert all(len(s) == 1 for s in split_of.values())
    train, test = (set(manifest["splits"][s]["photos"]) for s in ("train", "test"))
    assert train and test and not train & test and train | test == set(NAMES)
    assert ("skimage-motorcycle-left" in test) == ("skimage-motorcycle-right" in test)  # a stereo pair stays together
    for split, photos in (("train", train), ("test", test)):
        ids = {r["id"].rsplit("-v", 1)[0] for r in _rows(out / f"{split}.jsonl")}
        assert ids == photos


def test_ab_positions_exactly_balanced(built):
    out, manifest = built
    for split in ("train", "test"):
        labels = [r["label"] for r in _rows(out / f"{split}.jsonl")]
        assert len(labels) % 2 == 0
        assert labels.count("A") == labels.count("B") == len(labels) // 2
        assert manifest["splits"][split]["labels"] == {"A": len(labels) // 2, "B": len(labels) // 2}


def test_manifest_counts_and_sources(built):
    out, manifest = built
    assert json.loads((out / "manifest.json").read_text()) == manifest
    n_cat = len(DEGRADATIONS)
    for split in ("train", "test"):
        info = manifest["splits"][split]
        assert info["pairs"] == len(info["photos"]) * 2 * n_cat
        assert set(info["by_category"].values()) == {len(info["photos"]) * 2}
    assert manifest["seed"] == 3 and manifest["size"] == [128, 128]
    assert manifest["sources"]["skimage"]["photos"] == len(NAMES)
    assert sum(manifest["sources"]["skimage"]["licences"].values()) == len(NAMES)
    assert all(p["licence"] for p in manifest["photos"])


def test_deterministic_and_independent_of_category_subset(built, photos, tmp_path):
    out, _ = built
    subset = ["jpeg", "text_overlay", "tiny_product"]
    build_pairs(tmp_path / "again", photos[:3], per_photo=1, categories=subset, seed=3, size=128,
                holdout_fraction=0.34)
    for rel in [f"images/{p.id}/v0-{c}.jpg" for p in photos[:3] for c in ["clean", *subset]]:
        assert (tmp_path / "again" / rel).read_bytes() == (out / rel).read_bytes(), rel
    build_pairs(tmp_path / "other", photos[:1], per_photo=1, categories=["blur"], seed=4, size=128)
    rel = f"images/{photos[0].id}/v0-blur.jpg"
    assert (tmp_path / "other" / rel).read_bytes() != (out / rel).read_bytes()


def test_same_seed_same_files(photos, tmp_path):
    kw = dict(per_photo=1, categories=["noise", "border"], seed=9, size=96, holdout_fraction=0.5)
    m1 = build_pairs(tmp_path / "a", photos[:4], **kw)
    m2 = build_pairs(tmp_path / "b", photos[:4], **kw)
    assert m1 == m2
    for name in ("train.jsonl", "test.jsonl", "meta.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_check_labels(built):
    out, manifest = built
    summary = build_check_labels(out)
    rows = _rows(out / "labels.jsonl")
    images = [r["image"] for r in rows]
    assert len(images) == len(set(images)) == summary["images"]
    n_pairs = sum(s["pairs"] for s in manifest["splits"].values())
    n_clean = len(NAMES) * 2
    assert len(rows) == n_pairs + n_clean
    for r in rows:
        assert (out / r["image"]).is_file()
        assert r["flags"] == ([] if r["image"].endswith("-clean.jpg") else [r["image"].rsplit("-", 1)[1][:-4]])
    assert sum(summary["splits"].values()) == len(rows)
    test_images = {r["image"].split("/")[1] for r in _rows(out / "labels_test.jsonl")}
    assert test_images == set(manifest["splits"]["test"]["photos"])


def test_split_photos_rules(photos):
    assert set(split_photos(photos, 0.0).values()) == {"train"}
    assert split_photos(photos, 0.25, seed=1) == split_photos(photos, 0.25, seed=1)
    with pytest.raises(ValueError):
        split_photos(photos, 1.5)


def test_dep5_per_file_licences():
    text = ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
            "Files: *\nCopyright: 2020 Someone\nLicense: GPL-2+\n\n"
            "Files: 16.04/a_by_X.jpg\n       16.04/b_by_Y.jpg\nCopyright: X, 2018\nLicense: CC-BY-4.0\n\n"
            "Files: 16.04/c_by_Z.jpg\nCopyright: Z, 2018\nLicense: CC0-1.0\n\n"
            "License: CC0-1.0\n Full text...\n .\n more\n")
    paras = parse_dep5(text)
    assert licence_for("16.04/b_by_Y.jpg", paras) == ("CC-BY-4.0", "X, 2018")
    assert licence_for("16.04/c_by_Z.jpg", paras) == ("CC0-1.0", "Z, 2018")
    assert licence_for("other.png", paras)[0] == "GPL-2+"


def test_fetch_without_apt_is_a_clear_error(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(photos_mod.shutil, "which", lambda name: None)
    monkeypatch.setattr(photos_mod, "_installed_root", lambda package: None)
    monkeypatch.setattr(photos_mod, "_SYSTEM_FONT_DIRS", (tmp_path / "none",))
    monkeypatch.delenv("CREATIVE4U_CJK_FONT", raising=False)
    with pytest.raises(PhotoFetchError, match="apt-get.*skimage"):
        photos_mod.fetch_debian_photos(tmp_path)
    with caplog.at_level(logging.WARNING, logger="creative4u.data.photos"):
        assert photos_mod.fetch_cjk_font(tmp_path) is None
    assert "CJK" in caplog.text

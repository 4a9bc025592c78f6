"""Forensic signals on real photos: clean ones stay below the threshold, made edits light up with evidence."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from creative4u.checks import get_check
from creative4u.checks.base import decode_heatmap
from creative4u.checks.forensics import Forensics
from creative4u.images import LoadedImage, load_image

MY_CHECKS = ("text", "duplicate", "nsfw", "faces", "provenance", "forensics", "ai_image")


def _save(im: Image.Image, fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buf.getvalue()


def test_clean_photos_are_not_flagged(photos):
    for name, im in photos.items():
        report = Forensics().run(load_image(_save(im), name=name))
        assert not report.flagged, (name, report.summary)


def test_copy_move_is_found_with_matched_regions(photos):
    im = photos["astronaut"].copy()  # 384 px
    im.paste(im.crop((150, 60, 250, 160)), (10, 250))  # the helmet and face, pasted bottom left
    report = Forensics().run(load_image(_save(im), name="moved.jpg"))
    cm = report.values["signals"]["copy_move"]
    assert cm["score"] >= 0.5 and report.flagged, cm
    matches = [e for e in report.evidence if e.kind == "matches"][0]
    src, dst = matches.data["boxes"]
    boxes = sorted([src, dst], key=lambda b: b[0])
    assert boxes[0][0] < 110 and boxes[0][1] > 240 and boxes[1][0] > 140 and boxes[1][3] < 170  # on both regions
    assert len(matches.data["pairs"]) == cm["inliers"]


@pytest.mark.parametrize("factor", [2.0, 1.5])
def test_upscaled_image_shows_periodic_peaks(photos, factor):
    im = photos["chelsea"]
    small = im.resize((round(im.width / factor), round(im.height / factor)), Image.Resampling.BICUBIC)
    report = Forensics().run(load_image(_save(small.resize(im.size, Image.Resampling.BILINEAR), "PNG")))
    assert report.values["signals"]["spectral"]["score"] >= 0.5, report.values["signals"]["spectral"]


def test_every_signal_has_a_map_or_matches(photos):
    report = Forensics().run(load_image(_save(photos["coffee"])))
    heat = [e for e in report.evidence if e.kind == "heatmap"]
    assert len(heat) == 3
    assert decode_heatmap(heat[0]).ndim == 2
    assert set(report.values["signals"]) == {"ela", "noise", "spectral", "copy_move"}


@pytest.mark.parametrize("size", [(1, 1), (2, 300), (64, 64), (300, 7)])
def test_tiny_and_thin_images(size):
    report = Forensics().run(LoadedImage.from_pil(Image.new("RGB", size, (120, 80, 40))))
    assert report.status == "ok"


def test_hostile_files_that_load_are_checked_without_errors(hostile_dir, tmp_path):
    from creative4u.images import ImageLoadError

    loaded = 0
    for path in sorted(hostile_dir.iterdir()):
        try:
            img = load_image(path)
        except ImageLoadError:
            continue  # refused by the loader before any check runs
        loaded += 1
        for name in MY_CHECKS:
            opts = {"db": str(tmp_path / "none.sqlite")} if name == "duplicate" else {}
            report = get_check(name, **opts).run(img)
            assert report.status != "error", (path.name, name, report.summary)
    assert loaded >= 6

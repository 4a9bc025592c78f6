"""Evidence rendering: boxes, heat maps and copy-move matches drawn on the picture; files written per check."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from creative4u.checks.base import CheckReport, Evidence, heatmap_evidence
from creative4u.checks.evidence import render_evidence, write_evidence
from creative4u.checks.suite import CheckSuite
from creative4u.images import LoadedImage, load_image


def _report(*evidence: Evidence) -> CheckReport:
    return CheckReport("demo", 0.9, 0.5, True, "flagged", evidence=list(evidence))


def test_boxes_are_drawn_in_image_coordinates(photo):
    img = LoadedImage.from_pil(photo)
    out = render_evidence(img, _report(Evidence("boxes", {"boxes": [[10, 10, 120, 60]], "labels": ["SALE"]})))
    assert out.size == photo.size
    diff = np.abs(np.asarray(out, np.int16) - np.asarray(photo, np.int16)).sum(axis=2)
    assert diff[10, 10:120].mean() > 30  # the top edge of the box is painted
    assert diff[200:, 200:].max() == 0  # far from the box nothing changed


def test_heatmaps_become_panels_beside_the_marks(photo):
    img = LoadedImage.from_pil(photo)
    heat = heatmap_evidence(np.outer(np.arange(32), np.ones(32)), "ELA heat map")
    spectrum = heatmap_evidence(np.eye(16), "spectrum")
    spectrum.data["overlay"] = False
    matches = Evidence("matches", {"pairs": [[20, 20, 200, 150]], "boxes": [[10, 10, 40, 40], [190, 140, 220, 170]],
                                   "labels": ["source", "copy"]})
    out = render_evidence(img, _report(heat, spectrum, matches))
    assert out.width > 2 * photo.width and out.height > photo.height  # three labelled panels side by side


def test_nothing_drawable_gives_none(photo):
    img = LoadedImage.from_pil(photo)
    assert render_evidence(img, _report(Evidence("metadata", {"a": 1}), Evidence("text", {"strings": ["x"]}))) is None
    assert render_evidence(img, _report()) is None


def test_bands_and_large_images_are_scaled():
    big = LoadedImage.from_pil(Image.new("RGB", (3000, 1500), "white"))
    out = render_evidence(big, _report(Evidence("bands", {"top": 300, "bottom": 0, "left": 0, "right": 0})))
    assert max(out.size) == 1024
    assert np.asarray(out)[:, :, 1].min() < 50  # magenta outline drawn


def test_write_evidence_for_a_screen(photo, tmp_path):
    im = photo.copy()
    ImageDraw.Draw(im).rectangle([0, 0, im.width, 60], fill="white")
    im.paste(im.crop((150, 100, 250, 200)), (20, 150))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92)
    img = load_image(buf.getvalue(), name="upload/odd name?.jpg")
    screen = CheckSuite("marketplace-ugc").screen(img)  # the profile with forensics on
    paths = write_evidence(img, screen, tmp_path / "ev")
    assert paths and all(p.is_file() and p.suffix == ".png" for p in paths)
    assert {p.name.split(".")[0] for p in paths} == {"odd_name_"}
    assert any(p.name.endswith(".forensics.png") for p in paths)
    assert Image.open(paths[0]).size[0] > 0

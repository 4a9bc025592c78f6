"""benchmarks/probe_lettering_map.py: the synthetic marks it trains on, its net and its curve."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def test_training_marks_use_no_benchmark_face_and_ink_only_under_the_mask(benchmark_module):
    lp = benchmark_module("probe_lettering_map")
    ets = benchmark_module("eval_text_styles")
    fonts = lp.training_fonts()
    if not fonts:
        pytest.skip("no DejaVu / Liberation face installed: the probe cannot draw its marks")
    benchmark_faces = {str(p) for role in (ets.SANS, ets.THIN, ets.SERIF, ets.DISPLAY, ets.CJK, ets.JAPANESE)
                       for p in ets._fonts(role)}
    assert not benchmark_faces & set(fonts)
    rng = np.random.default_rng(3)
    photo = Image.fromarray(rng.integers(60, 200, (192, 256, 3)).astype(np.uint8))
    marked, mask = lp.draw_mark(photo, np.random.default_rng(5), fonts)
    changed = np.abs(np.asarray(marked, int) - np.asarray(photo, int)).max(axis=2) > 0
    assert mask.sum() > 30 and changed[mask > 0].mean() > 0.95  # the letters are drawn where the mask says
    import cv2

    near = cv2.dilate(mask, np.ones((7, 7), np.uint8)) > 0
    assert changed[near].sum() >= 0.8 * changed.sum()  # and hardly elsewhere (faint tails of thin strokes only)


def test_the_curve_unites_the_map_with_ocr_at_cuts_set_by_clean_pictures(benchmark_module):
    lp = benchmark_module("probe_lettering_map")
    clean = [{"kind": "clean", "area": a, "ocr": a == 5} for a in range(100)]  # one clean picture has text (area 5)
    marked = [{"kind": "marked", "area": 200 if i % 2 else 0, "ocr": i % 4 == 0} for i in range(100)]
    (one, two, five) = lp.curve(clean + marked)
    assert one["map_recall"] == 0.5 and one["ocr_recall"] == 0.25 and one["united_recall"] == 0.75
    assert one["recall_on_ocr_misses"] == pytest.approx(50 / 75, abs=1e-4)
    assert one["ocr_clean_flags"] == 0.01 and one["united_clean_flags"] == 0.02  # area 99 above the 1% cut
    assert five["united_clean_flags"] > two["united_clean_flags"] > one["united_clean_flags"] - 1e-9


def test_the_net_trains_a_step_and_maps_a_picture_at_a_quarter_scale(benchmark_module):
    pytest.importorskip("torch", reason="the probe trains with torch (the dev install)")
    lp = benchmark_module("probe_lettering_map")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 3, lp.CROP, lp.CROP)).astype(np.uint8)
    m = np.zeros((4, lp.CROP, lp.CROP), np.uint8)
    m[:2, 80:110, 40:150] = 1
    net = lp.train(x, m, steps=2, channels=8, batch=4)
    out = lp.region(net, Image.new("RGB", (640, 480), (30, 90, 160)))
    assert set(out) == {"area", "peak"} and 0.0 <= out["peak"] <= 1.0 and 0 <= out["area"] <= 96 * 72

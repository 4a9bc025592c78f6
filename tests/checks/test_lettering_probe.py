"""benchmarks/probe_lettering_map.py: the curve of the lettering map beside OCR."""

from __future__ import annotations

import pytest


def test_the_curve_unites_the_map_with_ocr_at_the_shipped_cut_and_at_cuts_set_by_clean_pictures(benchmark_module):
    lp = benchmark_module("probe_lettering_map")
    clean = [{"split": "a", "kind": "clean", "cells": c, "ocr": c == 5} for c in range(100)]  # one has text (5)
    marked = [{"split": "a" if i < 50 else "b", "kind": "marked", "cells": 200 if i % 2 else 0, "ocr": i % 4 == 0}
              for i in range(100)]
    shipped, one, two, five = lp.curve(clean + marked, shipped_cut=150)
    assert shipped["at"] == "shipped cut" and shipped["united_clean_flags"] == 0.01  # only OCR's picture
    assert one["map_recall"] == 0.5 and one["ocr_recall"] == 0.25 and one["united_recall"] == 0.75
    assert one["recall_on_ocr_misses"] == pytest.approx(50 / 75, abs=1e-4)
    assert one["ocr_clean_flags"] == 0.01 and one["united_clean_flags"] == 0.02  # 99 cells above the 1% cut
    assert five["united_clean_flags"] > two["united_clean_flags"] > one["united_clean_flags"] - 1e-9
    splits = lp.by_split(clean + marked, 150)
    assert splits["a"] == {"ocr": pytest.approx(13 / 50), "united": pytest.approx(38 / 50)}
    assert set(splits) == {"a", "b"}

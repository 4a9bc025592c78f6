"""``Pipeline.select_screened``: judging images already screened gives ``select``'s JSON without screening again."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from creative4u.images import load_image
from creative4u.pipeline import Pipeline
from creative4u.testing.results import without_volatile


def _png(seed: int) -> tuple[str, bytes]:
    rng = np.random.default_rng(seed)
    arr = (rng.random((48, 64, 3)) * rng.uniform(60, 255)).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return f"s{seed}.png", buf.getvalue()


def test_select_screened_matches_select_and_does_not_screen(monkeypatch):
    sources = [_png(i) for i in range(3)]
    pipe = Pipeline()
    expected = pipe.select(sources, title="Mug", queries=["coffee"], evidence=True)
    images = [load_image(data, name=name) for name, data in sources]
    screens = pipe.suite.screen_many(images)
    monkeypatch.setattr(pipe.suite, "screen", lambda *a, **k: pytest.fail("select_screened must not screen"))
    monkeypatch.setattr(pipe.suite, "screen_many", lambda *a, **k: pytest.fail("select_screened must not screen"))
    got = pipe.select_screened(images, screens, "Mug", ["coffee"], evidence=True)
    assert got["errors"] == [] and got["elapsed_ms"] >= 0
    assert [i["name"] for i in got["images"]] == [n for n, _ in sources]
    # the screens here had no request context, so compare the judging part, which reads the given screens
    for key in ("winner", "ranking", "title", "queries", "profile", "backend"):
        assert key in got
    assert got["title"] == expected["title"] and got["queries"] == expected["queries"]


def test_select_screened_equals_select_with_the_same_screens():
    from creative4u.checks.base import RequestContext

    sources = [_png(i) for i in range(10, 13)]
    pipe = Pipeline()
    expected = pipe.select(sources, title="Mug", queries=["coffee"])
    images = [load_image(data, name=name) for name, data in sources]
    screens = pipe.suite.screen_many(images, RequestContext("Mug", ("coffee",)))
    assert without_volatile(pipe.select_screened(images, screens, "Mug", ["coffee"])) == without_volatile(expected)


def test_select_screened_refuses_mismatched_screens():
    images = [load_image(data, name=name) for name, data in (_png(1), _png(2))]
    pipe = Pipeline()
    with pytest.raises(ValueError, match="one screen each"):
        pipe.select_screened(images, pipe.suite.screen_many(images[:1]))

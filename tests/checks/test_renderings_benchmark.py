"""benchmarks/eval_renderings.py: the defects rendered the ways other tools make them must be what their names say."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


@pytest.mark.parametrize(("angle", "dy", "dx", "reach"), [(0.0, 0, 1, 4), (45.0, -1, 1, 3), (90.0, -1, 0, 4)])
def test_a_motion_smear_spreads_a_point_along_a_line_of_its_length_and_angle(angle, dy, dx, reach,
                                                                              benchmark_module):
    """8% of a 100 px side: a 9 px line through the point (4 px each way; 3 px each way on the diagonal)."""
    er = benchmark_module("eval_renderings")
    dot = np.zeros((100, 120, 3), np.uint8)
    dot[50, 60] = 255
    out = np.asarray(er.motion(0.08, angle)(Image.fromarray(dot)))[..., 0]
    ys, xs = np.nonzero(out)
    assert sorted(zip((ys - 50).tolist(), (xs - 60).tolist(), strict=True)) == sorted(
        (t * dy, t * dx) for t in range(-reach, reach + 1))
    assert out.sum() == pytest.approx(255, abs=len(ys))  # the light is kept, only spread evenly
    assert out.max() - out[out > 0].min() <= 1


def test_every_rendering_runs_and_the_heavy_blurs_are_heavier(benchmark_module):
    er = benchmark_module("eval_renderings")
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (96, 128, 3)).astype(np.uint8))
    for name, (_, checks, render) in er.RENDERINGS.items():
        out = render(photo)
        assert isinstance(out, bytes | Image.Image) and checks, name
    detail = {name: np.asarray(er.RENDERINGS[name][2](photo), np.float32).std()
              for name in er.RENDERINGS if name.startswith("blur: PIL Gaussian")}
    assert sorted(detail, key=detail.get, reverse=True) == [
        "blur: PIL Gaussian, radius 0.5% of side", "blur: PIL Gaussian, radius 1% of side",
        "blur: PIL Gaussian, radius 3% of side (heavy)", "blur: PIL Gaussian, radius 5% of side (heavy)"], detail


def test_thumbnail_only_shrinks_and_keeps_the_aspect(benchmark_module):
    er = benchmark_module("eval_renderings")
    wide = Image.new("RGB", (640, 360))
    assert er.thumbnail(wide, 256).size == (455, 256)
    assert er.thumbnail(wide, 0) is wide and er.thumbnail(wide, 512) is wide  # never enlarged


def test_small_pictures_counts_rejections_per_split_and_check(tmp_path, benchmark_module, photos):
    """A crisp photo shrunk stays accepted; a blurred one is rejected by sharpness; the table names both splits."""
    from PIL import ImageFilter

    sp = benchmark_module("eval_small_pictures")
    profile = tmp_path / "sharpness.yaml"
    profile.write_text("name: sharpness-only\nextends: default\nchecks:\n" + "".join(
        f"  {n}: {{enabled: false}}\n" for n in ("text", "duplicate", "nsfw", "faces", "provenance", "forensics",
                                                  "ai_image", "relevance", "disgust", "noise", "compression",
                                                  "border")))
    crisp, blurred = tmp_path / "crisp.png", tmp_path / "blurred.png"
    photos["chelsea"].save(crisp)
    photos["chelsea"].filter(ImageFilter.GaussianBlur(5)).save(blurred)
    out = sp.rejections([("kept", crisp), ("blurred", blurred)], 256, str(profile))
    assert out["per_split"] == {"kept": 0.0, "blurred": 1.0} and out["by_check"] == {"sharpness": 1}, out
    assert out["files"] == [{"split": "blurred", "image": "blurred.png", "checks": ["sharpness"]}]
    table = sp.report([out])
    assert "| 256 | 50.0% (1/2) |" in table and "sharpness 1" in table, table


def test_renderings_report_the_split_that_hides_a_rendering(tmp_path, benchmark_module, photos):
    """Recall per split: a rendering caught on one kind of picture and missed on another names the weaker split."""
    from PIL import ImageFilter

    er = benchmark_module("eval_renderings")
    assert er.by_split(["a", "b", "a", "b"], [True, False, True, True]) == {"a": 1.0, "b": 0.5}
    sharp_photo, flat = tmp_path / "photo.png", tmp_path / "flat.png"
    photos["chelsea"].save(sharp_photo)
    Image.new("RGB", (256, 192), (120, 150, 180)).save(flat)  # a plain canvas: no edge for a blur to soften
    rows = {"blur: Gaussian 3 px": ("blur", ("sharpness",), lambda im: im.filter(ImageFilter.GaussianBlur(3)))}
    result = er.evaluate([("photos", sharp_photo), ("canvases", flat)], "default", rows)
    (row,) = result["rows"]
    assert row["recall_by_split"] == {"photos": 1.0, "canvases": 0.0}, row
    assert "| 50.0% | canvases 0.0% |" in er.report(result)
    one = {**result, "rows": [{**row, "recall_by_split": {"photos": 1.0}}]}
    assert "| 50.0% | - |" in er.report(one)

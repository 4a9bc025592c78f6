"""Degradations: deterministic for a seed, and each one measurably worse than the clean creative it came from."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from creative4u.data.degrade import DEGRADATIONS, degrade, make_creative, render_text_overlay
from creative4u.data.photos import list_photos

SIZE = 256
SEVERITIES = (0.0, 1.0)
SEEDS = (0, 1)


@pytest.fixture(scope="module")
def creatives() -> dict[str, Image.Image]:
    """Clean 256 px creatives from three real skimage photos of different content."""
    photos = {p.id: p for p in list_photos(("skimage",))}
    names = ("skimage-coffee", "skimage-astronaut", "skimage-rocket")
    return {n: make_creative(photos[n], SIZE, np.random.default_rng(7))[0] for n in names}


def _gray(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.float64)


def _sharpness(img: Image.Image) -> float:
    return float(cv2.Laplacian(_gray(img), cv2.CV_64F).var())


def _noise_residual(img: Image.Image) -> float:
    g = np.asarray(img.convert("L"))
    return float((g.astype(np.float64) - cv2.medianBlur(g, 3)).std())


def _blockiness(img: Image.Image) -> float:
    """Mean step across the 8x8 JPEG grid lines over the mean step elsewhere (about 1 for an unblocked image)."""
    g = _gray(img)
    dx, dy = np.abs(np.diff(g, axis=1)), np.abs(np.diff(g, axis=0))
    on_x, on_y = np.arange(dx.shape[1]) % 8 == 7, np.arange(dy.shape[0]) % 8 == 7
    return float((dx[:, on_x].mean() + dy[on_y].mean()) / (dx[:, ~on_x].mean() + dy[~on_y].mean()))


def _cases(creatives):
    for name, img in creatives.items():
        for sev in SEVERITIES:
            for seed in SEEDS:
                yield name, img, sev, seed


def test_registry_has_the_required_degradations():
    required = {"blur", "defocus", "motion_blur", "underexposed", "overexposed", "jpeg", "noise", "low_resolution",
                "border", "text_overlay", "off_centre", "tiny_product"}
    assert required <= set(DEGRADATIONS)


@pytest.mark.parametrize("name", sorted(DEGRADATIONS))
def test_deterministic_and_json_params(name, creatives):
    img = creatives["skimage-coffee"]
    a, pa = DEGRADATIONS[name](img, np.random.default_rng(123), 0.6)
    b, pb = DEGRADATIONS[name](img, np.random.default_rng(123), 0.6)
    assert a.tobytes() == b.tobytes() and pa == pb
    assert a.mode == "RGB" and a.size == img.size
    assert json.loads(json.dumps(pa)) == pa
    others = [DEGRADATIONS[name](img, np.random.default_rng(s), 0.6)[0].tobytes() for s in (1, 2, 3)]
    assert any(o != a.tobytes() for o in others), "different seeds should give different images"
    assert a.tobytes() != img.tobytes()


def test_make_creative_deterministic_and_sized(creatives):
    photo = next(p for p in list_photos(("skimage",)) if p.id == "skimage-chelsea")
    a, info_a = make_creative(photo, (320, 240), np.random.default_rng(5))
    b, info_b = make_creative(photo, (320, 240), np.random.default_rng(5))
    assert a.size == (320, 240) and a.tobytes() == b.tobytes() and info_a == info_b
    c, _ = make_creative(photo.load(), (320, 240), np.random.default_rng(5))  # a PIL image works the same way
    assert c.tobytes() == a.tobytes()
    # The clean creative is full bleed: no uniform band along its edges.
    for img in creatives.values():
        arr = np.asarray(img, dtype=np.float64)
        assert min(arr[:6].std(), arr[-6:].std(), arr[:, :6].std(), arr[:, -6:].std()) > 3.0


def test_a_picture_that_just_covers_the_canvas_is_cropped_not_refused():
    """200 x 199 onto 240 x 240: the crop box's top edge lands at -3e-14 by rounding, which PIL refused."""
    img = Image.new("RGB", (200, 199), (90, 140, 60))
    out, info = make_creative(img, (240, 240), np.random.default_rng(0))
    assert out.size == (240, 240) and info["upscale"] > 1.0
    assert np.abs(np.asarray(out, np.int16) - [90, 140, 60]).max() <= 1


@pytest.mark.parametrize("name", ["blur", "defocus", "motion_blur", "low_resolution"])
def test_detail_loss_lowers_laplacian_variance(name, creatives):
    for _, img, sev, seed in _cases(creatives):
        out, _ = DEGRADATIONS[name](img, np.random.default_rng(seed), sev)
        assert _sharpness(out) < 0.5 * _sharpness(img), (name, sev, seed)


def test_blur_gets_stronger_with_severity(creatives):
    img = creatives["skimage-astronaut"]
    mild, _ = DEGRADATIONS["blur"](img, np.random.default_rng(0), 0.0)
    strong, _ = DEGRADATIONS["blur"](img, np.random.default_rng(0), 1.0)
    assert _sharpness(strong) < _sharpness(mild) < _sharpness(img)


def test_exposure_moves_mean_luminance(creatives):
    for _, img, sev, seed in _cases(creatives):
        under, _ = DEGRADATIONS["underexposed"](img, np.random.default_rng(seed), sev)
        over, _ = DEGRADATIONS["overexposed"](img, np.random.default_rng(seed), sev)
        assert _gray(under).mean() < 0.85 * _gray(img).mean()
        assert _gray(over).mean() > 1.12 * _gray(img).mean()
        clipped = lambda im: float((np.asarray(im) >= 250).all(axis=2).mean())
        assert clipped(over) > clipped(img)


def test_low_contrast_flattens(creatives):
    for _, img, sev, seed in _cases(creatives):
        out, _ = DEGRADATIONS["low_contrast"](img, np.random.default_rng(seed), sev)
        assert _gray(out).std() < 0.65 * _gray(img).std()


def test_noise_raises_high_frequency_residual(creatives):
    for _, img, sev, seed in _cases(creatives):
        out, params = DEGRADATIONS["noise"](img, np.random.default_rng(seed), sev)
        assert _noise_residual(out) > 1.1 * _noise_residual(img), params


def test_jpeg_adds_blocking(creatives):
    for _, img, sev, seed in _cases(creatives):
        out, params = DEGRADATIONS["jpeg"](img, np.random.default_rng(seed), sev)
        assert params["quality"] <= 30 and params["save_quality"] == params["quality"]
        assert _blockiness(out) > _blockiness(img) + 0.2


def test_border_adds_uniform_bands(creatives):
    styles = set()
    for _, img, sev, seed in _cases(creatives):
        out, p = DEGRADATIONS["border"](img, np.random.default_rng(seed), sev)
        arr = np.asarray(out, dtype=np.float64)
        styles.add(p["style"])
        band = p["uniform_band"]
        sides = {"top": arr[:band], "bottom": arr[-band:], "left": arr[:, :band], "right": arr[:, -band:]}
        for side, width in p["widths"].items():
            if width:
                region = sides[side]
                assert region.reshape(-1, 3).std(axis=0).max() < 1.0, (side, p)
                assert np.allclose(region.reshape(-1, 3).mean(axis=0), p["colour"], atol=1.0)
        assert min(w for w in p["widths"].values() if w) >= 0.03 * SIZE
    assert len(styles) >= 2


def test_text_overlay_covers_at_least_15_percent(creatives):
    styles = set()
    for _, img, sev, seed in _cases(creatives):
        out, params, mask = render_text_overlay(img, np.random.default_rng(seed), sev)
        styles.add(params["style"])
        assert mask.shape == (SIZE, SIZE) and mask.dtype == bool
        assert mask.mean() >= 0.15, params
        assert params["coverage"] == round(float(mask.mean()), 4)
        diff = np.abs(np.asarray(out, dtype=np.float64) - np.asarray(img, dtype=np.float64)).sum(axis=2)
        assert diff[mask].mean() > 15.0, params  # the overlay is visible where the mask says it is
        near = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        assert (diff[~near] > 0).mean() < 0.01  # and nothing changed far from it
    assert len(styles) >= 2


def test_text_overlay_registry_entry_matches(creatives):
    img = creatives["skimage-rocket"]
    out, params = degrade(img, "text_overlay", np.random.default_rng(4), 0.3)
    out2, params2, _ = render_text_overlay(img, np.random.default_rng(4), 0.3)
    assert out.tobytes() == out2.tobytes() and params == params2


@pytest.mark.parametrize("name,max_scale", [("off_centre", 0.62 * 1.08), ("tiny_product", 0.38 * 1.08)])
def test_product_shrunk_onto_plain_background(name, max_scale, creatives):
    for _, img, sev, seed in _cases(creatives):
        out, p = DEGRADATIONS[name](img, np.random.default_rng(seed), sev)
        arr = np.asarray(out)
        x0, y0, x1, y1 = p["box"]
        outside = np.ones(arr.shape[:2], bool)
        outside[y0:y1, x0:x1] = False
        assert (arr[outside] == p["background"]).all()
        assert (x1 - x0) * (y1 - y0) <= (max_scale * SIZE) ** 2 + 1
        if name == "off_centre":
            offset = max(abs((x0 + x1) / 2 - SIZE / 2), abs((y0 + y1) / 2 - SIZE / 2))
            assert offset >= 0.15 * SIZE, p


def test_unknown_name_lists_valid_ones(creatives):
    with pytest.raises(KeyError, match="valid: .*blur"):
        degrade(creatives["skimage-coffee"], "sepia", np.random.default_rng(0))

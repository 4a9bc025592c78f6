"""creative4u.checks.smear: a straight smear read from the power cepstrum, and the sharpness check's use of it."""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFilter
from skimage import data

from creative4u.checks.sharpness import Sharpness
from creative4u.checks.smear import line_smear, orientation_of
from creative4u.data.degrade import _line_kernel, _to_linear, _to_srgb, _u8
from creative4u.images import LoadedImage, load_image


def _jpeg(rgb: np.ndarray) -> LoadedImage:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    return load_image(buf.getvalue())


def _smeared(rgb: np.ndarray, length: float, angle: float) -> np.ndarray:
    """The clean set's motion blur: a line kernel in linear light."""
    lin = cv2.filter2D(_to_linear(rgb), -1, _line_kernel(length, angle), borderType=cv2.BORDER_REFLECT)
    return np.asarray(_u8(_to_srgb(lin)))


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return data.camera().astype(np.float32)


@pytest.mark.parametrize(("length", "angle"), [(9, 0.0), (12, 45.0), (16, 90.0), (11, 150.0)])
def test_a_line_kernel_is_found_at_its_length_and_angle(camera, length, angle):
    smeared = cv2.filter2D(camera, -1, _line_kernel(length, angle), borderType=cv2.BORDER_REFLECT)
    s = line_smear(smeared)
    assert s["z"] > 20 and s["agreement"] >= 0.9, s
    assert abs(s["length_px"] - length) <= 1.6, s
    assert min(abs(s["angle_deg"] - angle), 180 - abs(s["angle_deg"] - angle)) <= 8, s


def test_round_blurs_and_the_photo_itself_show_no_line(camera):
    """A Gaussian blur or the photo itself leave no comb of straight notches; a defocus disc's ring notches dip all
    round the circle through the lag, as a line's never do."""
    assert line_smear(camera)["z"] < 20 and line_smear(cv2.GaussianBlur(camera, (0, 0), 2.5))["z"] < 20
    disc = np.zeros((15, 15), np.float32)
    cv2.circle(disc, (7, 7), 6, 1.0, -1)
    ring = line_smear(cv2.filter2D(camera, -1, disc / disc.sum()))
    line = line_smear(cv2.filter2D(camera, -1, _line_kernel(12, 0.0)))
    assert ring["ring_share"] >= Sharpness.SMEAR_RING > line["ring_share"], (ring, line)


def test_flat_pictures_have_nothing_to_read():
    assert line_smear(np.full((300, 300), 128.0)) is None
    assert line_smear(np.zeros((100, 100))) is None  # smaller than two tiles


def test_orientation_bins_follow_the_edge_reading():
    """A horizontal smear softens the edges whose gradient runs horizontally (bin 0); on screen, counter-clockwise
    angles map to the bins that blur_by_orientation keys the other way round."""
    assert [45 * orientation_of(a) for a in (0.0, 30.0, 60.0, 90.0, 120.0, 170.0)] == [0, 135, 135, 90, 45, 0]


def test_a_smear_whose_glints_leave_crisp_ends_is_read_from_the_spectrum(monkeypatch):
    """Spray or glints smeared by a line kernel become segments with crisp ends, so the sharpest edges read the
    picture only 'uneven' (0.61, under the profile's 0.766); the spectrum's line finds the smear and names it."""
    rng = np.random.default_rng(0)
    photo = np.asarray(Image.fromarray(data.rocket()).resize((448, 448)))
    spray = photo.copy()
    spray[rng.integers(0, 448, 400), rng.integers(0, 448, 400)] = 255
    smeared = _jpeg(_smeared(spray, 10, 0.0))
    found = Sharpness().measure(smeared)
    assert found.score >= 0.766 and found.values["line_smear"]["length_px"] == pytest.approx(10, abs=1.5)
    assert "straight line of about" in found.summary and "at 0 degrees" in found.summary, found.summary
    assert "(at 448 px;" in found.summary, found.summary  # the picture's own pixels, not 512 (v14 said 512)
    assert Sharpness().measure(_jpeg(spray)).score < 0.5
    monkeypatch.setattr(Sharpness, "SMEAR_Z", math.inf)  # the edges alone
    edges_only = Sharpness().measure(smeared)
    assert edges_only.score < 0.766 and "line_smear" not in edges_only.values


def test_stripes_with_crisp_edges_are_not_a_smear():
    """A striped flag's spectrum has notches too, but its edges across the stripes are crisp: no smear reading."""
    flag = np.zeros((420, 640, 3), np.uint8)
    for k, colour in enumerate([(0, 122, 61), (255, 210, 0), (210, 16, 52), (0, 0, 0)] * 2):
        flag[k * 60:(k + 1) * 60] = colour
    img = LoadedImage.from_pil(Image.fromarray(flag).filter(ImageFilter.SMOOTH))
    m = Sharpness().measure(img)
    assert m.score < 0.5 and "line_smear" not in m.values, m.summary


def test_a_long_smear_that_leaves_no_edge_across_it_is_read_from_the_spectrum(monkeypatch):
    """A scanned page smeared 28 px sideways keeps only its crisp horizontal edges (the lines' tops and bottoms): the
    edges alone read it sharp (0.80), while no vertical step is left at all. The spectrum's line decides (v14)."""
    page = np.stack([data.page()] * 3, -1)
    photo = np.asarray(Image.fromarray(page).resize((512, 384)))
    smeared = _jpeg(_smeared(photo, 28, 0.0))
    found = Sharpness().measure(smeared)
    assert found.score >= 0.766 and "no step edge is left across it" in found.summary, found.summary
    assert found.values["line_smear"]["edge_blur_across_px"] is None
    assert Sharpness().measure(_jpeg(photo)).score < 0.5
    monkeypatch.setattr(Sharpness, "SMEAR_Z", math.inf)
    assert Sharpness().measure(smeared).score < 0.5

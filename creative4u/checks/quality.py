"""The classic quality checks, each measuring on the image's shared, cached downscaled arrays (sharpness lives in
:mod:`creative4u.checks.sharpness`, exposure in :mod:`creative4u.checks.exposure`, border in
:mod:`creative4u.checks.border`; they use the arrays kept here).

>>> from PIL import Image
>>> from creative4u.images import LoadedImage
>>> flat = LoadedImage.from_pil(Image.new("RGB", (96, 64), (120, 120, 120)))
>>> m = Contrast().measure(flat); round(m.score, 2), m.values["spread"]
(1.0, 0.0)

Every score is the strength of evidence for the check's rejection reason, mapped smoothly (a logistic curve) so
that 0.5 sits at the decision point calibrated on held-out real photos (``benchmarks/eval_quality_checks.py``);
profiles then move the threshold. Scales are fixed so that numbers mean the same on every image: noise, JPEG
blocking and upscaling read the luma at <= 1024 px (``DETAIL_SIDE``), edge blur reads it at <= 512 px
(``SHARP_SIDE``, a feed tile's size: a large image is judged as it is shown), tone, colour and the border search read
<= 256 px. The smaller arrays are area-averaged from the image's cached <= 1024 px arrays (one cheap resize instead
of another decode-size resample), and intermediates two checks need (noise level, tone percentiles) are computed
once per image and kept in the image's cache.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from creative4u.checks.base import Check, Measurement
from creative4u.checks.quality_measures import (
    block_mean,
    blockiness,
    channel_max,
    channel_min,
    coarse_structure,
    detail_energy_ratio,
    edge_blur,
    edge_sharpness,
    hasler_susstrunk,
    impulse_share,
    line_profile,
    noise_level,
    noise_levels,
    pixel_repeat,
    plain_canvas,
    resampling_peak,
)
from creative4u.images import LoadedImage, luma601

__all__ = [
    "Colourfulness", "Contrast", "Noise", "Resolution", "block_mean", "blockiness",
    "coarse_structure", "colour", "detail_energy_ratio", "edge_blur", "edge_sharpness", "hasler_susstrunk",
    "impulse_share", "line_profile", "logistic", "luma", "monochrome_kind", "native_rgb_crop", "noise_level",
    "noise_levels", "pixel_art", "resampling_peak", "shared", "tone_stats",
]

DETAIL_SIDE = 1024
SHARP_SIDE = 512
TONE_SIDE = 256
BORDER_SIDE = 256


def logistic(x: float, centre: float, width: float) -> float:
    """A smooth step: 0.5 at ``centre``, ~0.73 one ``width`` above it (a negative width makes it decreasing).

    >>> logistic(3.0, 3.0, 1.0), round(logistic(4.0, 3.0, 1.0), 2), round(logistic(4.0, 3.0, -1.0), 2)
    (0.5, 0.73, 0.27)
    """
    z = (x - centre) / width
    return float(1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z)))))


def shared(img: LoadedImage, key: str, compute: Callable[[], Any]) -> Any:
    """Compute a quality intermediate once per image (e.g. the noise level that sharpness and noise both need).

    >>> from PIL import Image
    >>> img = LoadedImage.from_pil(Image.new("RGB", (4, 4)))
    >>> shared(img, "answer", lambda: 42), shared(img, "answer", lambda: 0)
    (42, 42)
    """
    return img.shared(("quality", key), compute)


def _area_resize(arr: np.ndarray, side: int) -> np.ndarray:
    scale = side / max(arr.shape[:2])
    size = (max(1, round(arr.shape[1] * scale)), max(1, round(arr.shape[0] * scale)))
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA)


def luma(img: LoadedImage, side: int) -> np.ndarray:
    """Float32 luma at <= ``side`` px, area-averaged from the shared <= 1024 px luma.

    >>> from PIL import Image
    >>> luma(LoadedImage.from_pil(Image.new("RGB", (2000, 1000), "white")), 256).shape
    (128, 256)
    """
    full = img.gray(DETAIL_SIDE)
    if max(full.shape) <= side:
        return full
    return shared(img, f"luma{side}", lambda: _area_resize(full, side))


def colour(img: LoadedImage, side: int) -> np.ndarray:
    """Uint8 RGB at <= ``side`` px, area-averaged from the shared <= 1024 px RGB array.

    >>> from PIL import Image
    >>> colour(LoadedImage.from_pil(Image.new("RGB", (300, 600), "red")), 256)[0, 0].tolist()
    [255, 0, 0]
    """
    full = img.rgb(DETAIL_SIDE)
    if max(full.shape[:2]) <= side:
        return full
    return shared(img, f"rgb{side}", lambda: _area_resize(full, side))


def tone_stats(img: LoadedImage) -> dict[str, float]:
    """Luma percentiles at the tone scale, shared by exposure, contrast and the sharpness edge threshold.

    >>> from PIL import Image
    >>> tone_stats(LoadedImage.from_pil(Image.new("RGB", (8, 8), (50, 50, 50))))["p99"]
    50.0
    """

    def compute() -> dict[str, float]:
        y = luma(img, TONE_SIDE)
        pct = np.percentile(y, [1, 2, 5, 25, 50, 75, 95, 98, 99])
        out = {f"p{p}": round(float(v), 2) for p, v in zip((1, 2, 5, 25, 50, 75, 95, 98, 99), pct, strict=True)}
        return out | {"mean": float(y.mean()), "std": float(y.std())}

    return shared(img, "tone", compute)


# --------------------------------------------------------------------------------------------------------- noise
def native_luma_crop(img: LoadedImage, side: int = 512) -> np.ndarray:
    """Luma of the top-left crop at the file's own resolution: a JPEG grid is only visible before any resize.

    >>> from PIL import Image
    >>> native_luma_crop(LoadedImage.from_pil(Image.new("RGB", (40, 30))), 16).shape
    (16, 16)
    """
    w, h = img.size
    if max(w, h) <= DETAIL_SIDE:
        return img.gray(DETAIL_SIDE)[:side, :side]  # already the native pixels
    return luma601(np.asarray(img.image.crop((0, 0, min(side, w), min(side, h)))))


def image_noise(img: LoadedImage) -> float:
    """The noise level of ``img`` at the detail scale, shared by the noise and sharpness checks."""
    return image_noise_levels(img)[0]


def image_noise_levels(img: LoadedImage) -> tuple[float, float]:
    """:func:`noise_levels` of ``img`` at the detail scale (overall, brighter half), read once per image."""
    return shared(img, "noise", lambda: noise_levels(img.gray(DETAIL_SIDE)))


def native_rgb_crop(img: LoadedImage, side: int = DETAIL_SIDE) -> np.ndarray:
    """RGB of the centre crop at the file's own resolution: single-pixel impulses are averaged away by any resize.

    >>> from PIL import Image
    >>> native_rgb_crop(LoadedImage.from_pil(Image.new("RGB", (40, 30))), 16).shape
    (16, 16, 3)
    """
    w, h = img.size
    if max(w, h) <= DETAIL_SIDE and side >= DETAIL_SIDE:
        return img.rgb(DETAIL_SIDE)  # already the native pixels
    x0, y0 = max(0, (w - side) // 2), max(0, (h - side) // 2)
    return np.asarray(img.image.crop((x0, y0, x0 + min(side, w), y0 + min(side, h))).convert("RGB"), dtype=np.uint8)


class Noise(Check):
    """Sensor-like noise or grain (Immerkaer's estimator in flat tiles) and impulse (salt-and-pepper) noise.

    >>> from PIL import Image
    >>> rng = np.random.default_rng(0)
    >>> noisy = np.clip(128 + rng.normal(0, 25, (128, 128, 3)), 0, 255).astype(np.uint8)
    >>> Noise().measure(LoadedImage.from_pil(Image.fromarray(noisy))).score > 0.9
    True
    >>> peppered = np.full((128, 128, 3), 128, np.uint8); peppered[rng.random((128, 128)) < 0.02] = (0, 0, 0)
    >>> Noise().measure(LoadedImage.from_pil(Image.fromarray(peppered))).values["impulse_share"] > 0.01
    True
    """

    name = "noise"
    option_names = ()
    description = ("Noise and grain: noise std in flat regions (and in the brighter half of them), and how much of it "
                   "halving the picture keeps (grain halves, texture stays); impulses (salt and pepper) in the tiles "
                   "that hold the fewest; JPEG blocking: see the compression check.")
    version = "8"  # 7: impulse (salt-and-pepper) noise; 8: grain read in the brighter half of the tiles too (speckle)
    NOISE_CENTRE, NOISE_WIDTH = 4.5, 0.5  # grey levels at <= 1024 px; clean photos read 0.2-3.6
    # Share of impulse pixels in the emptiest quarter of the tiles. 757 clean pictures of every split (photos, art,
    # clip art, text banners, star fields) read 0, even in their fullest half; skimage's salt-and-pepper at amount
    # 0.01 (3% of the pixels touched in a channel) reads 0.012-0.03, at 0.003 0.003-0.005; 2% of the pixels set black
    # or white (half of them on a canvas of their own colour, unseen) 0.007-0.02.
    IMPULSE_CENTRE, IMPULSE_WIDTH = 0.003, 0.0005
    BLOCK_CENTRE, BLOCK_WIDTH = 1.62, 0.05  # grid ratio; q92 JPEGs read <= 1.6, q <= 22 read >= 1.5 (mostly > 1.7)

    def measure(self, img: LoadedImage) -> Measurement:
        (sigma, sigma_bright), grid = image_noise_levels(img), blockiness(native_luma_crop(img))
        gray = img.gray(DETAIL_SIDE)
        half, half_bright = noise_levels(cv2.resize(gray, (max(1, gray.shape[1] // 2), max(1, gray.shape[0] // 2)),
                                                    interpolation=cv2.INTER_AREA))
        # Speckle and shot noise grow with the signal: the flattest tiles, often in the shadows, hold little of it,
        # so the brighter half of the tiles is read too (with its own halving test) and the larger grain counts.
        bright = grain_sigma(sigma_bright, half_bright)
        grain = max(grain_sigma(sigma, half), bright)
        # Impulses are read apart, at the file's own pixels: sparse outliers average to the same Immerkaer level at
        # half size, so the grain reading takes them for texture.
        impulses = impulse_share(native_rgb_crop(img))
        s_grain = logistic(grain, self.NOISE_CENTRE, self.NOISE_WIDTH)
        s_impulse = logistic(impulses, self.IMPULSE_CENTRE, self.IMPULSE_WIDTH)
        # One reason per check: blocking is the compression check's; its number stays here as a measurement.
        score = max(s_grain, s_impulse)
        values = {"noise_sigma": round(grain, 3), "flat_area_sigma": round(sigma, 3),
                  "half_scale_sigma": round(half, 3), "bright_area_grain": round(bright, 3),
                  "impulse_share": round(impulses, 5),
                  "blockiness": round(grid, 3), "noise_score": round(s_grain, 4),
                  "impulse_score": round(s_impulse, 4),
                  "blocking_score": round(logistic(grid, self.BLOCK_CENTRE, self.BLOCK_WIDTH), 4)}
        summary = self._summary(grain, sigma, impulses, score, s_impulse, in_bright=bright >= grain > 0)
        return Measurement(score=score, values=values, summary=summary)

    def _summary(self, grain: float, sigma: float, impulses: float, score: float, s_impulse: float,
                 in_bright: bool = False) -> str:
        state = "noisy" if score >= 0.5 else "clean"
        where = "the brighter flat areas" if in_bright else "flat areas"
        summary = f"{state}: grain {grain:.1f} grey levels in {where} (normal <= {self.NOISE_CENTRE - 1:.1f})"
        if grain < 0.8 * sigma:
            summary += f"; the rest of the {sigma:.1f} read there is texture (it survives halving the picture)"
        if s_impulse >= 0.5:
            summary += (f"; salt-and-pepper impulses on {impulses:.1%} of the pixels even where the picture has "
                        f"fewest (normal < {self.IMPULSE_CENTRE - 2 * self.IMPULSE_WIDTH:.1%})")
        return summary


GRAIN_RATIO = 0.7  # the half/full reading ratio grain keeps at most (0.5 white; up to ~0.7 after a JPEG save)


def grain_sigma(full: float, half: float) -> float:
    """The grain in a flat-area noise reading, from the same reading at half size: grain varies from pixel to pixel,
    so averaging 2x2 divides it by 2 (white noise) to 1.4 (grain smoothed by a JPEG save), while texture read as noise
    (grass, foliage, stone) is structure over several pixels and keeps its level. With ``full^2 = g^2 + t^2`` and
    ``half^2 = (GRAIN_RATIO g)^2 + t^2``, ``g^2 = (full^2 - half^2) / (1 - GRAIN_RATIO^2)``, at most ``full``. The
    clean set's noise copies read a half/full ratio of 0.49 (median; 0.68 at the 99th percentile): all grain; its
    textured clean pictures 0.9-1.6: little or none.

    >>> grain_sigma(10.0, 5.0), grain_sigma(8.0, 9.5), round(grain_sigma(10.0, 8.5), 2)
    (10.0, 0.0, 7.38)
    """
    return float(min(full, math.sqrt(max(full * full - half * half, 0.0) / (1.0 - GRAIN_RATIO**2))))


PIXEL_ART_COLOURS = 256  # a palette; a photo shrunk and enlarged by repeating pixels keeps thousands of colours


def native_repeat(img: LoadedImage) -> tuple[int, int, int]:
    """:func:`pixel_repeat` of the file's own pixels (its top-left crop), read once per image."""
    crop = shared(img, "native_crop", lambda: native_luma_crop(img))
    return shared(img, "native_repeat", lambda: pixel_repeat(crop))


def pixel_art(img: LoadedImage) -> tuple[np.ndarray, int] | None:
    """``(its own pixels as RGB, k)`` for pixel art shown large: every pixel repeated k x k (a nearest-neighbour
    enlargement, :func:`pixel_repeat`) and at most ``PIXEL_ART_COLOURS`` colours; None for anything else (a photo
    enlarged that way is a low-resolution photo and is read as shown).

    >>> from PIL import Image
    >>> art = Image.fromarray((np.arange(64).reshape(8, 8) * 4).astype(np.uint8)).convert("RGB")
    >>> own, k = pixel_art(LoadedImage.from_pil(art.resize((64, 64), Image.Resampling.NEAREST)))
    >>> own.shape, k
    ((8, 8, 3), 8)
    """
    def compute() -> tuple[np.ndarray, int] | None:
        repeat, row0, col0 = native_repeat(img)
        if repeat < 2:
            return None
        own = np.ascontiguousarray(np.asarray(img.image)[row0::repeat, col0::repeat])
        packed = own[..., 0].astype(np.uint32) << 16 | own[..., 1].astype(np.uint32) << 8 | own[..., 2]
        return (own, repeat) if len(np.unique(packed)) <= PIXEL_ART_COLOURS else None
    return shared(img, "pixel_art", compute)


# ------------------------------------------------------------------------------------------------------ contrast
class Contrast(Check):
    """Flat, hazy or washed-out images: how much of the 0-255 range the colour channels use, from the darkest 0.1% of
    channel values to the brightest 0.1%.

    >>> from PIL import Image
    >>> Contrast().measure(LoadedImage.from_pil(Image.new("RGB", (64, 64), "gray"))).score > 0.9
    True

    A contrast cut (a blend towards a grey or milky haze by a factor k) shrinks every channel's range by k, so a cut to
    half or less leaves no channel value near either end. Channel values rather than luma, because colour contrast is
    contrast: a vivid dark artwork spans little luma but most of the range in its channels, and a cut dulls its colours
    with its tones (luma 2nd-98th percentile spread, v2: 13.5% false flags on dev, v4: 2.9%).
    """

    name = "contrast"
    option_names = ()
    description = "Low contrast: the range the colour channels span (darkest to brightest 0.1% of values)."
    version = "4"  # 4: a short range that reaches black is left to exposure
    SPREAD_CENTRE, SPREAD_WIDTH = 0.52, -0.015  # a cut to half of a full-range picture spans <= 0.5
    TAIL = 0.001
    # A short range that still reaches black is a dark picture (exposure's call: a gain darkens the top, a near-black
    # artwork keeps its blacks), not a flat one; a contrast cut lifts the blacks (no clean-set cut reads <= 4).
    BLACK, DARK_SCORE = 4, 0.3

    def measure(self, img: LoadedImage) -> Measurement:
        tone = tone_stats(img)
        low, high = channel_range(colour(img, TONE_SIDE), self.TAIL)
        spread = (high - low) / 255.0
        score = logistic(spread, self.SPREAD_CENTRE, self.SPREAD_WIDTH)
        values = {"spread": round(spread, 4), "darkest": low, "brightest": high,
                  "luma_spread": round((tone["p98"] - tone["p2"]) / 255.0, 4),
                  "rms_contrast": round(tone["std"] / 255.0, 4)}
        if score >= 0.5 and low <= self.BLACK:
            summary = (f"dark rather than flat: the colour channels run from black to only {high} ({spread:.0%} of "
                       "the range), an exposure question")
            return Measurement(score=min(score, self.DARK_SCORE), values=values, summary=summary)
        state = "low contrast" if score >= 0.5 else "contrast fine"
        summary = (f"{state}: the colour channels span {spread:.0%} of the range, {low} to {high} "
                   f"(normal >= {self.SPREAD_CENTRE:.0%})")
        return Measurement(score=score, values=values, summary=summary)


def channel_range(rgb: np.ndarray, tail: float) -> tuple[int, int]:
    """The channel values (0-255) below which and above which a ``tail`` share of all R, G and B values lie.

    >>> channel_range(np.array([[[0, 128, 255]] * 1000], np.uint8), 0.001)
    (0, 255)
    """
    counts = np.cumsum(np.bincount(rgb.reshape(-1), minlength=256))
    cut = tail * counts[-1]
    return int(np.searchsorted(counts, cut, side="right")), int(np.searchsorted(counts, counts[-1] - cut, side="left"))


# ------------------------------------------------------------------------------------------------- colourfulness
class Colourfulness(Check):
    """Dull, grey-looking creatives (Hasler-Suesstrunk colourfulness).

    >>> from PIL import Image, ImageEnhance
    >>> from skimage import data
    >>> washed = ImageEnhance.Color(Image.fromarray(data.coffee())).enhance(0.05)
    >>> Colourfulness().measure(LoadedImage.from_pil(washed)).score > 0.9
    True
    >>> Colourfulness().measure(LoadedImage.from_pil(washed.convert("L").convert("RGB"))).values["monochrome"]
    'black-and-white'

    A deliberate black-and-white or single-tint (sepia) picture is reported as such and scores low. On a product shot
    (a subject on a plain canvas) the subject is judged: a peacock on a grey canvas reads 6 over the whole picture and
    23 on the bird.
    """

    name = "colourfulness"
    option_names = ()
    description = "Dull colours: Hasler-Suesstrunk colourfulness M (0 grey, 33 moderate, 82+ highly colourful)."
    version = "4"
    M_CENTRE, M_WIDTH = 9.0, -1.5  # clean colour photos read >= 10.5
    MONO_SCORE = 0.1  # a deliberate black-and-white or single-tint picture is a style, not dull colour

    def measure(self, img: LoadedImage) -> Measurement:
        rgb = colour(img, TONE_SIDE)
        m = whole = hasler_susstrunk(rgb)
        mono = monochrome_kind(rgb)
        canvas = None if mono else plain_canvas(rgb)
        if canvas is not None:  # the subject's colours, not the canvas's grey, make a product shot dull or not
            m = max(whole, hasler_susstrunk(rgb[~canvas][None]))
        score = logistic(m, self.M_CENTRE, self.M_WIDTH)
        values = {"colourfulness": round(m, 3), "whole_picture": round(whole, 3), "monochrome": mono,
                  "canvas_share": 0.0 if canvas is None else round(float(canvas.mean()), 3)}
        if mono:
            score = min(score, self.MONO_SCORE)
            return Measurement(score=score, values=values,
                               summary=f"deliberate {mono}: colourfulness {m:.0f} is a style, not washed-out colour")
        word = next(w for t, w in ((82, "highly"), (59, "quite"), (33, "moderately"), (15, "slightly"), (-1, "not"))
                    if m > t)
        state = "dull colours" if score >= 0.5 else "colours fine"
        what = f"colourfulness {m:.0f}" + (" of the subject on its plain canvas" if canvas is not None else "")
        summary = f"{state}: {what} ({word} colourful; normal >= {self.M_CENTRE:.0f})"
        return Measurement(score=score, values=values, summary=summary)


def monochrome_kind(rgb: np.ndarray) -> str:
    """``"black-and-white"`` when (nearly) every pixel is neutral, ``"single-tint monochrome"`` when the coloured
    pixels share one hue (sepia, duotone-like tints), else ``""``.

    >>> monochrome_kind(np.full((8, 8, 3), 90, np.uint8)), monochrome_kind(np.zeros((8, 8, 3), np.uint8) + [200, 0, 0])
    ('black-and-white', 'single-tint monochrome')
    """
    a = rgb.reshape(-1, 3).astype(np.float32)
    chroma = channel_max(a) - channel_min(a)
    coloured = chroma > 8
    if coloured.mean() <= 0.02:
        return "black-and-white"
    rg, yb = a[coloured, 0] - a[coloured, 1], 0.5 * (a[coloured, 0] + a[coloured, 1]) - a[coloured, 2]
    hue = np.arctan2(yb, rg)
    spread = float(np.hypot(np.cos(hue).mean(), np.sin(hue).mean()))  # 1 = one hue everywhere
    return "single-tint monochrome" if spread > 0.995 and float(chroma.std()) < 40 else ""


# ---------------------------------------------------------------------------------------------------- resolution
class Resolution(Check):
    """Too few pixels, an extreme aspect ratio, or a small image enlarged to look big (little fine detail, periodic
    interpolation traces).

    >>> from PIL import Image
    >>> Resolution().measure(LoadedImage.from_pil(Image.new("RGB", (120, 90)))).score > 0.9
    True
    """

    name = "resolution"
    # A placement's own format: a 970 x 250 billboard or a 320 x 50 mobile banner is a normal creative there, not an
    # "extreme aspect ratio" or "too small" one (options ``min_side`` px and ``max_aspect``, e.g. 50 and 8).
    option_names = ("min_side", "max_aspect")
    description = "Resolution and aspect: short side, aspect ratio, and traces of upscaling from a smaller image."
    version = "5"  # 4: a trace that shows in the mean tone is a designed repeat; 5: pixels repeated k x k
    STRUCTURE_MIN = 2.0  # as in Sharpness: below it the detail ratio of a smooth design says nothing
    MIN_SIDE, SIDE_WIDTH = 320.0, -0.12  # px on the short side, on a log2 scale
    MAX_ASPECT, ASPECT_WIDTH = 3.0, 0.25
    DETAIL_CENTRE, DETAIL_WIDTH = 0.22, -0.1  # finest-octave energy ratio, on a log2 scale
    PEAK_CENTRE, PEAK_WIDTH = 16.0, 1.5  # resampling-peak strength (spectral peak over median)
    # A trace whose frequency also shows in the lines' mean tone (>= 0.22 grey levels) is a designed repeat (a grid,
    # tiles, wood grain), not interpolation: 104 enlarged clean-set copies read <= 0.16 (but one enlarged patterned
    # wallpaper), the patterned wallpapers and drawings it flagged 0.3-19.
    PATTERN_MAX, PATTERN_SCORE = 0.22, 0.3

    def measure(self, img: LoadedImage) -> Measurement:
        w, h = img.size
        short, aspect = min(w, h), max(w, h) / max(1, min(w, h))
        gray = img.gray(DETAIL_SIDE)
        detail = detail_energy_ratio(gray) if min(gray.shape) >= 16 else 1.0
        # The interpolation trace survives only at the file's own pixels.
        trace = resampling_peak(gray) if max(w, h) <= DETAIL_SIDE else {"peak": 0.0, "period": 1.0, "pattern": 0.0}
        min_side, max_aspect = self._format()
        s_pixels = logistic(math.log2(max(short, 1)), math.log2(min_side), self.SIDE_WIDTH)
        s_aspect = logistic(aspect, max_aspect, self.ASPECT_WIDTH)
        s_detail = logistic(math.log2(max(detail, 1e-4)), math.log2(self.DETAIL_CENTRE), self.DETAIL_WIDTH)
        structure = shared(img, "coarse_structure", lambda: coarse_structure(luma(img, SHARP_SIDE)))
        if structure < self.STRUCTURE_MIN:  # a smooth design has no fine detail to lose: that is no upscaling
            s_detail = min(s_detail, 0.3)
        s_trace = logistic(trace["peak"], self.PEAK_CENTRE, self.PEAK_WIDTH)
        if trace["pattern"] >= self.PATTERN_MAX:
            s_trace = min(s_trace, self.PATTERN_SCORE)
        # Every pixel repeated k x k (a nearest-neighbour enlargement: pixel art, or a small photo blown up without
        # smoothing) leaves no interpolation trace: the picture's own size is what its pixels say.
        repeat = native_repeat(img)[0]
        own_short = max(short / repeat, 1)
        s_repeat = logistic(math.log2(own_short), math.log2(min_side), self.SIDE_WIDTH) if repeat > 1 else 0.0
        score = max(s_pixels, s_aspect, s_detail, s_trace, s_repeat)
        values = {"width": w, "height": h, "megapixels": round(w * h / 1e6, 3), "aspect": round(aspect, 3),
                  "pixel_repeat": repeat, "repeat_score": round(s_repeat, 4),
                  "detail_energy_ratio": round(detail, 4), "resampling_peak": round(trace["peak"], 2),
                  "resampling_period": round(trace["period"], 2), "resampling_pattern": round(trace["pattern"], 2),
                  "coarse_structure": round(structure, 3),
                  "pixels_score": round(s_pixels, 4),
                  "aspect_score": round(s_aspect, 4), "detail_score": round(s_detail, 4),
                  "trace_score": round(s_trace, 4)}
        return Measurement(score=score, values=values, summary=self._summary(values, min_side, max_aspect))

    def _format(self) -> tuple[float, float]:
        """The short side (px) and aspect ratio the placement expects at most / at least (options or defaults)."""
        min_side = float(self.options.get("min_side", self.MIN_SIDE))
        max_aspect = float(self.options.get("max_aspect", self.MAX_ASPECT))
        if min_side < 1 or max_aspect < 1:
            raise ValueError(f"resolution: min_side must be >= 1 px and max_aspect >= 1, got {min_side}, {max_aspect}")
        return min_side, max_aspect

    def _summary(self, v: dict[str, Any], min_side: float, max_aspect: float) -> str:
        parts = []
        if v["pixels_score"] >= 0.5:
            parts.append(f"too small: {v['width']}x{v['height']} px (short side normal >= {min_side:.0f})")
        if v["aspect_score"] >= 0.5:
            parts.append(f"extreme aspect ratio {v['aspect']:.1f}:1 (normal <= {max_aspect:g}:1)")
        if v["detail_score"] >= 0.5:
            parts.append(f"little fine detail, as in an enlarged small image: finest-scale energy "
                         f"{v['detail_energy_ratio']:.2f} (normal >= {self.DETAIL_CENTRE:.2f})")
        if v["trace_score"] >= 0.5:
            parts.append(f"interpolation pattern repeating every {v['resampling_period']:.1f} px: upscaled")
        if v["repeat_score"] >= 0.5:
            k = v["pixel_repeat"]
            parts.append(f"enlarged {k}x by repeating each pixel (pixel art or a small picture blown up): its own "
                         f"pixels are {v['width'] // k}x{v['height'] // k}")
        if not parts:
            return f"resolution fine: {v['width']}x{v['height']} px, aspect {v['aspect']:.2f}:1, full detail"
        return "; ".join(parts)


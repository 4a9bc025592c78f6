"""Image measurements behind the quality checks: pure functions of numpy arrays (no check logic, no thresholds).

>>> import numpy as np
>>> round(hasler_susstrunk(np.zeros((4, 4, 3), np.uint8)), 1), blockiness(np.zeros((8, 8), np.float32))
(0.0, 1.0)

Split from :mod:`creative4u.checks.quality` (which turns these numbers into scores, summaries and evidence) to keep
each file readable; every function here is re-exported there.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np


def block_mean(a: np.ndarray, block: int) -> np.ndarray:
    """Mean of each ``block`` x ``block`` tile (the ragged edge is dropped); an area resize is the fast way.

    >>> block_mean(np.arange(16, dtype=np.float32).reshape(4, 4), 2).tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    h, w = (a.shape[0] // block) * block, (a.shape[1] // block) * block
    if h == 0 or w == 0:
        return np.full((1, 1), float(a.mean()), np.float32)
    return cv2.resize(np.ascontiguousarray(a[:h, :w]), (w // block, h // block), interpolation=cv2.INTER_AREA)



def channel_max(rgb: np.ndarray) -> np.ndarray:
    """The largest of the three colour channels per pixel (last axis), exactly ``rgb.max(axis=-1)``: numpy reduces over
    a length-3 last axis some 20x slower than two element-wise maxima.

    >>> channel_max(np.array([[[1, 5, 3], [9, 2, 4]]])).tolist(), channel_min(np.array([[[1, 5, 3]]])).tolist()
    ([[5, 9]], [[1]])
    """
    return np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])


def channel_min(rgb: np.ndarray) -> np.ndarray:
    """The smallest of the three colour channels per pixel (see :func:`channel_max`)."""
    return np.minimum(np.minimum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])


# --------------------------------------------------------------------------------------------------------- noise
# Immerkaer (1996): this 3x3 mask cancels locally linear image structure, so what remains in flat regions is noise;
# for Gaussian noise of std s the response has mean absolute value 6 s sqrt(2/pi).
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


MIN_USABLE_SHARE = 0.05  # of the tiles: fewer unclipped ones and the picture is a plain canvas (see noise_level)


def noise_level(gray: np.ndarray, block: int = 16) -> float:
    """Noise std (grey levels) by Immerkaer's method, read in the flattest tenth of the tiles so that texture does not
    count as noise and clipped (black or white) tiles, which hold no noise at all, are skipped. When fewer than 5% of
    the tiles are unclipped (a small drawing on a blank white canvas), those few hold the drawing's edges, not a flat
    area, and the reading is taken over all tiles: the canvas shows no grain.

    >>> rng = np.random.default_rng(0)
    >>> flat = np.full((128, 128), 100, np.float32) + rng.normal(0, 5, (128, 128)).astype(np.float32)
    >>> 4.0 < noise_level(flat) < 6.0
    True
    """
    return noise_levels(gray, block)[0]


def noise_levels(gray: np.ndarray, block: int = 16) -> tuple[float, float]:
    """:func:`noise_level`, and the same reading in the brighter half of the unclipped tiles only (0 when there are too
    few), from one pass: noise that grows with the signal (speckle, shot noise) is faint in the shadows, where the
    flattest tiles of a picture often lie, and plain to see in its mid-tones and highlights.

    >>> rng = np.random.default_rng(0)
    >>> ramp = np.repeat(np.linspace(20, 220, 128, dtype=np.float32)[None], 128, axis=0)
    >>> speckled = ramp * (1 + rng.normal(0, 0.1, ramp.shape).astype(np.float32))
    >>> overall, bright = noise_levels(speckled)
    >>> overall < 6 < bright
    True
    """
    tiles, tile_luma = _noise_tiles(gray, block)
    unclipped = (tile_luma > 16) & (tile_luma < 239)
    enough = unclipped.sum() >= max(8, MIN_USABLE_SHARE * tiles.size)
    overall = float(np.percentile(tiles[unclipped] if enough else tiles, 10))
    if not enough:
        return overall, 0.0
    bright = tiles[unclipped & (tile_luma >= np.median(tile_luma[unclipped]))]
    return overall, float(np.percentile(bright, 10)) if bright.size >= 8 else 0.0


def _noise_tiles(gray: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Immerkaer's noise estimate and the mean luma of each ``block`` px tile."""
    resp = np.abs(cv2.filter2D(gray, cv2.CV_32F, _IMMERKAER, borderType=cv2.BORDER_REFLECT))
    return block_mean(resp, block) * (math.sqrt(math.pi / 2) / 6.0), block_mean(gray, block)


IMPULSE_STEP = 64  # grey levels a channel must stand above (salt) or below (pepper) all 8 of its neighbours
_RING = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], np.uint8)  # the 8 neighbours, not the pixel itself


def impulse_share(rgb: np.ndarray, block: int = 32) -> float:
    """Share of pixels that are impulses (a channel >= ``IMPULSE_STEP`` above or below all 8 of its neighbours), read
    in the quarter of the ``block`` px tiles that hold the fewest. Salt-and-pepper noise is spread evenly, so even
    those tiles hold it; a stroke of text or a 1 px line has neighbours of its own colour along it, and a clean
    picture's lone outliers (a star, a glint) gather in a few tiles. Gaussian grain rarely stands this far off all 8.

    >>> rng = np.random.default_rng(0)
    >>> flat = np.full((128, 128, 3), 120, np.uint8)
    >>> peppered = flat.copy(); peppered[rng.random((128, 128)) < 0.02] = 0
    >>> ruled = flat.copy(); ruled[::4] = 0
    >>> impulse_share(flat), impulse_share(ruled), impulse_share(peppered) > 0.01
    (0.0, 0.0, True)
    """
    rgb = np.ascontiguousarray(rgb)
    # Saturating uint8 differences: above all neighbours (salt) or below all of them (pepper), else 0.
    stand_off = cv2.max(cv2.subtract(rgb, cv2.dilate(rgb, _RING)), cv2.subtract(cv2.erode(rgb, _RING), rgb))
    impulse = (channel_max(stand_off) if stand_off.ndim == 3 else stand_off) >= IMPULSE_STEP
    return float(np.percentile(block_mean(impulse.astype(np.float32), block), 25))


def blockiness(gray: np.ndarray) -> float:
    """JPEG 8x8 grid strength: the mean step across 8-px block boundaries over the largest step at the 7 other phases.

    About 1 without a grid, 1.7-8 for heavy JPEG compression. Comparing with the *largest* other phase keeps
    interpolation patterns with periods 2 or 4 from reading as a JPEG grid.

    >>> rng = np.random.default_rng(1)
    >>> 0.8 < blockiness(rng.normal(128, 20, (64, 64)).astype(np.float32)) < 1.2
    True
    """
    ratios = []
    for axis in (1, 0):
        if gray.shape[axis] < 32:
            continue
        step = np.abs(np.diff(gray, axis=axis)).mean(axis=1 - axis)
        n = (len(step) // 8) * 8
        phases = step[:n].reshape(-1, 8).mean(axis=0)  # phase 7: between pixel 7 and 8 of each block
        ratios.append(phases[7] / max(float(phases[:7].max()), 1e-3))
    return float(np.mean(ratios)) if ratios else 1.0


# ----------------------------------------------------------------------------------------------------- sharpness
_PRE_SIGMA = 0.8  # pre-smoothing keeps grain out of the gradients; its width is removed again from each estimate
_REBLUR_SIGMA = 1.5  # the extra blur whose effect on each edge reveals that edge's own blur (Zhuo & Sim 2011)
_GRAD_FLOOR = 0.8  # grey levels per px: ridges weaker than this are flat shading, not edges
MIN_EDGES = 5  # per orientation (fewer and it is left out); fewer in all means no edge to judge on
_SHARPEST = 5  # percentile: the image is as sharp as its sharpest few edges of each orientation
# Noise energy removed from the squared gradient, in units of one component's variance: 2 in theory (two
# components); 3 also covers the flattest-tile noise estimate reading low and edges picked where grain peaks.
_NOISE_FACTOR = 3.0


def _gradients(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central differences (ksize=1 Sobel is [-1, 0, 1]; scale halves it)."""
    return cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=1, scale=0.5), cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=1, scale=0.5)


def _noise_gain(sigma: float) -> float:
    """Std of one central-difference gradient component of unit white noise after a Gaussian blur of ``sigma``.

    >>> 0.2 < _noise_gain(0.8) < 0.4
    True
    """
    if sigma not in _NOISE_GAINS:
        noise = np.random.default_rng(0).standard_normal((256, 256)).astype(np.float32)
        _NOISE_GAINS[sigma] = float(_gradients(cv2.GaussianBlur(noise, (0, 0), sigma))[0][8:-8, 8:-8].std())
    return _NOISE_GAINS[sigma]


_NOISE_GAINS: dict[float, float] = {}


def _orientation_bins(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Gradient direction in 4 bins of 45 degrees (0: horizontal gradient, 2: vertical, 1 and 3: diagonals)."""
    ax, ay = np.abs(gx), np.abs(gy)
    bins = np.where(gx * gy > 0, 1, 3).astype(np.int8)
    bins[ax > 2.414 * ay] = 0
    bins[ay > 2.414 * ax] = 2
    return bins


_TANGENT = {0: (1, 0), 1: (1, -1), 2: (0, 1), 3: (1, 1)}  # (dy, dx) along the edge for each gradient bin


def _along_edge_energy(gx: np.ndarray, gy: np.ndarray, ys: np.ndarray, xs: np.ndarray, bins: np.ndarray,
                       half: int = 2) -> np.ndarray:
    """Mean squared gradient over 2*half+1 pixels along each edge point's own edge line: averages grain out of the
    gradient without mixing the edge's centre with its flanks (which a square window would do)."""
    dy = np.array([_TANGENT[k][0] for k in range(4)])[bins]
    dx = np.array([_TANGENT[k][1] for k in range(4)])[bins]
    total = np.zeros(len(ys), np.float32)
    for t in range(-half, half + 1):
        py, px = ys + t * dy, xs + t * dx
        total += gx[py, px] ** 2 + gy[py, px] ** 2
    return total / (2 * half + 1)


_NORMAL = {0: (0, 1), 1: (1, 1), 2: (1, 0), 3: (1, -1)}  # (dy, dx) across the edge (along the gradient) per bin
_STEP_DISTANCE = 8  # px at <= 512 px: a step blurred by sigma 6 still loses half its gradient this far out
_STEP_FALLOFF = 0.7  # the gradient this far across must drop below 70% of the edge's own on one side


def _is_step(gb: np.ndarray, ys: np.ndarray, xs: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Whether each ridge point is an edge (its gradient falls off across it) rather than part of a smooth ramp.

    >>> ramp = np.tile(np.linspace(0, 255, 64, dtype=np.float32), (32, 1))
    >>> bool(_is_step(np.full_like(ramp, 4.0), np.array([16]), np.array([32]), np.array([0], np.int8))[0])
    False
    """
    if ys.size == 0:
        return np.zeros(0, bool)
    h, w = gb.shape
    d = _STEP_DISTANCE
    dy = np.array([_NORMAL[k][0] for k in range(4)])[bins] * d
    dx = np.array([_NORMAL[k][1] for k in range(4)])[bins] * d
    diag = (bins == 1) | (bins == 3)
    dy, dx = np.where(diag, np.round(dy / 1.414), dy).astype(int), np.where(diag, np.round(dx / 1.414), dx).astype(int)
    side_a = gb[np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)]
    side_b = gb[np.clip(ys - dy, 0, h - 1), np.clip(xs - dx, 0, w - 1)]
    return np.minimum(side_a, side_b) < _STEP_FALLOFF * gb[ys, xs]


def coarse_structure(gray: np.ndarray) -> float:
    """Grey-level std of the band-pass detail at 1/8 scale: the structure a blur cannot remove (objects, shapes,
    horizons). About 0-1 for a smooth gradient or a flat canvas, 3-30 for a photo, blurred or not.

    >>> flat = np.full((256, 256), 128, np.float32)
    >>> coarse_structure(flat) < 0.5
    True
    """
    small = cv2.resize(gray, (max(8, gray.shape[1] // 8), max(8, gray.shape[0] // 8)), interpolation=cv2.INTER_AREA)
    band = small - cv2.GaussianBlur(small, (0, 0), 2.0)
    return float(band[2:-2, 2:-2].std()) if min(band.shape) > 6 else float(band.std())


def crisp_details(gray: np.ndarray, noise_sigma: float = 0.0, floor: float = 6.0) -> int:
    """Count of crisp point-like details: peaks of the finest band-pass (difference of Gaussians 0.7 / 1.6 px)
    stronger than ``floor`` grey levels and 2x the band-passed noise. Stars, glints and sparkles over a soft
    backdrop keep dozens to hundreds; a picture blurred by 2 px or more keeps (almost) none.

    >>> dots = np.zeros((128, 128), np.float32); dots[16::32, 16::32] = 255
    >>> crisp_details(dots), crisp_details(cv2.GaussianBlur(dots, (0, 0), 3.0))
    (16, 0)
    """
    band = np.abs(cv2.GaussianBlur(gray, (0, 0), 0.7) - cv2.GaussianBlur(gray, (0, 0), 1.6))
    peaks = (band >= cv2.dilate(band, np.ones((5, 5), np.uint8))) & (band > max(floor, 2.1 * noise_sigma))
    return int(peaks.sum())


def _focus_region_blur(own: np.ndarray, bins: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                       tile: int = 64) -> tuple[float, dict[int, float]]:
    """Worst per-orientation blur of the sharpest edges *inside the in-focus region*.

    The in-focus region is the tiles holding the image's sharpest edges (and their neighbours). Motion blur
    smears one orientation everywhere, including there; a soft-focus background only lacks some orientations near
    the subject, so an orientation the subject does not have cannot make a sharp macro read as blurred.
    """
    base = float(np.percentile(own, _SHARPEST))
    crisp = own <= float(np.percentile(own, 10)) + 0.3
    ty, tx = ys // tile, xs // tile
    grid = np.zeros((int(ty.max()) + 1, int(tx.max()) + 1), np.uint8)
    np.add.at(grid, (ty[crisp], tx[crisp]), 1)
    focus = cv2.dilate((grid >= 2).astype(np.uint8), np.ones((3, 3), np.uint8))[ty, tx] > 0
    per_bin = {}
    for k in range(4):
        sel = focus & (bins == k)
        if sel.sum() >= MIN_EDGES:
            per_bin[k] = float(np.percentile(own[sel], _SHARPEST))
    return max([base, *per_bin.values()]), per_bin


def edge_blur(gray: np.ndarray, noise_sigma: float = 0.0, min_contrast: float = 20.0) -> dict[str, Any]:
    """Blur radius (Gaussian sigma, px) of the image's sharpest edges; the worst orientation in focus wins.

    Each edge is re-blurred by a known amount: a sharp edge loses much of its gradient, an already blurred one
    little, and the ratio gives that edge's own blur whatever its contrast (Zhuo & Sim, 2011). Gradients are
    averaged along each edge and the expected noise energy is subtracted, so grain does not pass for detail.
    Reading the sharpest few edges keeps a crisp subject on a soft background sharp; reading each orientation
    separately (inside the in-focus region) catches motion blur, which leaves edges parallel to the motion crisp.
    Only edges whose step is at least ``min_contrast`` grey levels count.

    >>> ramp = np.tile(np.repeat(np.array([40.0, 200.0], np.float32), 64), (128, 1))
    >>> square = np.ascontiguousarray(np.maximum(ramp, ramp.T))
    >>> edge_blur(square)["sigma"] < 1.0 < 3.0 < edge_blur(cv2.GaussianBlur(square, (0, 0), 4.0))["sigma"] < 5.0
    True
    """
    a = cv2.GaussianBlur(gray, (0, 0), _PRE_SIGMA)
    ax, ay = _gradients(a)
    bx, by = _gradients(cv2.GaussianBlur(a, (0, 0), _REBLUR_SIGMA))
    gb = cv2.magnitude(bx, by)
    peak = gb >= cv2.dilate(gb, np.ones((3, 3), np.uint8))  # ridge of the re-blurred gradient: the edge centre
    peak[:4], peak[-4:], peak[:, :4], peak[:, -4:] = False, False, False, False
    ys, xs = np.nonzero(peak & (gb > _GRAD_FLOOR))
    bins = _orientation_bins(bx[ys, xs], by[ys, xs])
    # A ramp or a wide glow has a flat gradient (every pixel a "peak" of a plateau): keep only real steps, whose
    # gradient falls off across the edge on at least one side.
    step = _is_step(gb, ys, xs, bins)
    ys, xs, bins = ys[step], xs[step], bins[step]
    ga2 = _along_edge_energy(ax, ay, ys, xs, bins) - _NOISE_FACTOR * (_noise_gain(_PRE_SIGMA) * noise_sigma) ** 2
    gb2 = _along_edge_energy(bx, by, ys, xs, bins)
    ok = ga2 > 1e-6
    ys, xs, bins, ga = ys[ok], xs[ok], bins[ok], np.sqrt(ga2[ok])
    ratio = np.maximum(ga / np.sqrt(np.maximum(gb2[ok], 1e-12)), 1.001)  # sqrt(s^2 + r^2) / s for total blur s
    total = _REBLUR_SIGMA / np.sqrt(ratio * ratio - 1.0)
    own = np.sqrt(np.maximum(total * total - _PRE_SIGMA**2, 0.0))
    strong = ga * math.sqrt(2 * math.pi) * np.maximum(total, 0.5) >= min_contrast  # the edge's step height
    ys, xs, own, bins = ys[strong], xs[strong], own[strong], bins[strong]
    if own.size < MIN_EDGES:
        return {"sigma": float("nan"), "per_orientation": {}, "n_edges": int(own.size), "own": own, "ys": ys, "xs": xs}
    sigma, per_bin = _focus_region_blur(own, bins, ys, xs)
    return {"sigma": sigma, "per_orientation": per_bin, "n_edges": int(own.size), "own": own, "ys": ys, "xs": xs}


def focus_map(shape: tuple[int, ...], ys: np.ndarray, xs: np.ndarray, own: np.ndarray, block: int = 16) -> np.ndarray:
    """Per-tile sharpness (mean of 1 / (1 + edge blur)) for the heat map; tiles without edges read 0."""
    gh, gw = max(1, shape[0] // block), max(1, shape[1] // block)
    idx = np.minimum(ys // block, gh - 1) * gw + np.minimum(xs // block, gw - 1)
    total = np.bincount(idx, weights=1.0 / (1.0 + own), minlength=gh * gw)
    return (total / np.maximum(np.bincount(idx, minlength=gh * gw), 1)).reshape(gh, gw)


def edge_sharpness(sigma: float) -> float:
    """Blur radius in px (at <= 512 px) -> a 0..1 sharpness: 1 crisp, 0.5 at 1 px, 0.2 at 2 px.

    >>> edge_sharpness(0.0), edge_sharpness(1.0)
    (1.0, 0.5)
    """
    return 1.0 / (1.0 + sigma**2)


# ------------------------------------------------------------------------------------------------- colourfulness
def hasler_susstrunk(rgb: np.ndarray) -> float:
    """Colourfulness M of Hasler & Suesstrunk (2003): ~0 grey, 15 slightly, 33 moderately, 59 quite, 82+ highly.

    >>> hasler_susstrunk(np.full((8, 8, 3), 90, np.uint8))
    0.0
    """
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean()))


def plain_canvas(rgb: np.ndarray, tol: int = 12, margin: float = 0.03) -> np.ndarray | None:
    """The pixels of a plain canvas round a subject (a product cut-out on white, grey or a pastel), or None when the
    picture has none: the outer ``margin`` must be >= 80% one colour (its median, within ``tol`` per channel) and that
    colour must cover >= 30% of the picture, leaving >= 2% to the subject.

    >>> pic = np.full((100, 100, 3), 240, np.uint8); pic[30:70, 30:70] = (200, 30, 30)
    >>> float(plain_canvas(pic).mean())
    0.84
    """
    a = rgb.astype(np.int16)
    m = max(2, round(margin * min(a.shape[:2])))
    frame = np.concatenate([a[:m].reshape(-1, 3), a[-m:].reshape(-1, 3), a[:, :m].reshape(-1, 3),
                            a[:, -m:].reshape(-1, 3)])
    paint = np.median(frame, axis=0)
    if (channel_max(np.abs(frame - paint)) <= tol).mean() < 0.8:
        return None
    canvas = channel_max(np.abs(a - paint)) <= tol
    share = float(canvas.mean())
    return canvas if 0.3 <= share <= 0.98 else None


# ---------------------------------------------------------------------------------------------------- resolution
def detail_energy_ratio(gray: np.ndarray) -> float:
    """Energy in the finest octave over the octave below (Laplacian pyramid): 0.3-2.5 for native photos, < 0.3 for
    an enlarged small image (or a blurred one: physically the same loss of detail).

    >>> from skimage import data
    >>> photo = data.camera().astype(np.float32)
    >>> small = cv2.resize(photo, (128, 128), interpolation=cv2.INTER_AREA)
    >>> upscaled = cv2.resize(small, (512, 512), interpolation=cv2.INTER_CUBIC)
    >>> detail_energy_ratio(upscaled) < 0.22 < detail_energy_ratio(photo)
    True
    """
    h, w = (gray.shape[0] // 4) * 4, (gray.shape[1] // 4) * 4
    g = np.ascontiguousarray(gray[:h, :w])
    half = cv2.pyrDown(g)
    quarter = cv2.pyrDown(half)
    top = cv2.norm(g, cv2.pyrUp(half, dstsize=(w, h)), cv2.NORM_L2SQR) / g.size
    below = cv2.norm(half, cv2.pyrUp(quarter, dstsize=(half.shape[1], half.shape[0])), cv2.NORM_L2SQR) / half.size
    return float(top / max(below, 1e-6))


def resampling_peak(gray: np.ndarray) -> dict[str, float]:
    """Periodic interpolation trace (Gallagher 2005): an image enlarged by k repeats its second-derivative pattern
    every k pixels. Returns the strongest non-JPEG spectral peak of the mean |2nd difference| profiles, its period,
    and ``pattern``: the amplitude (grey levels) of the same frequency in the lines' mean tone. Interpolation leaves
    the mean tone smooth; a designed repeat (a grid, tiles, stripes, wood grain) shows in it (clean-set traces: 104
    enlarged copies read <= 0.16 but one patterned wallpaper, the patterned wallpapers 0.3-19).

    >>> from skimage import data
    >>> small = cv2.resize(data.camera().astype(np.float32), (128, 128), interpolation=cv2.INTER_AREA)
    >>> res = resampling_peak(cv2.resize(small, (512, 512), interpolation=cv2.INTER_LINEAR))
    >>> res["peak"] > 10 and abs(res["period"] - 4) < 0.2 and res["pattern"] < 0.2
    True
    """
    best = {"peak": 0.0, "period": 1.0, "pattern": 0.0}
    for axis in (1, 0):
        n = gray.shape[axis]
        if n < 64:
            continue
        # A central band of 256 lines averages out content and costs a quarter of the whole image.
        lo = max(0, (gray.shape[1 - axis] - 256) // 2)
        band = gray[lo : lo + 256] if axis == 1 else gray[:, lo : lo + 256]
        spec = _detrended_spectrum(np.abs(np.diff(band, n=2, axis=axis)).mean(axis=1 - axis))
        freqs = np.fft.rfftfreq(n - 2)  # the second difference is two samples shorter than the line
        # JPEG's 8-px grid shows at multiples of 1/8; the lowest frequencies are content, not resampling.
        jpeg = np.min(np.abs(freqs[:, None] - np.arange(1, 5)[None, :] / 8.0), axis=1) < 2.0 / (n - 2)
        usable = (freqs > 0.06) & ~jpeg
        if usable.sum() < 8:
            continue
        i = int(np.argmax(np.where(usable, spec, 0)))
        peak = float(spec[i] / (np.median(spec[usable]) + 1e-6))
        if peak > best["peak"]:
            tone = _detrended_spectrum(band.mean(axis=1 - axis).astype(np.float64))
            tone_freqs = np.fft.rfftfreq(n)
            j = int(np.argmin(np.abs(tone_freqs - freqs[i])))
            pattern = float(4.0 * tone[j] / n)  # a Hann-windowed sine of amplitude A peaks at A * n / 4
            best = {"peak": peak, "period": float(1.0 / freqs[i]), "pattern": pattern}
    return best


def _detrended_spectrum(profile: np.ndarray) -> np.ndarray:
    """Magnitude spectrum of a line profile less its 15-px running mean, Hann-windowed."""
    flat = profile - np.convolve(profile, np.ones(15) / 15, mode="same")
    return np.abs(np.fft.rfft(flat * np.hanning(len(flat))))


# -------------------------------------------------------------------------------------------------------- border
SIDES = ("top", "bottom", "left", "right")


def side_view(rgb: np.ndarray, side: str) -> np.ndarray:
    """Rotate so that ``side`` is row 0 (rows run inward)."""
    views = {"top": rgb, "bottom": rgb[::-1], "left": rgb.transpose(1, 0, 2)}
    return views[side] if side in views else rgb.transpose(1, 0, 2)[::-1]


COARSE_TOL = 14  # grey levels: a pixel has the band's colour when every channel is this close
FINE_TOL = 5  # grey levels: a pale frame around a pale canvas (235 grey around 248 off-white) differs by ~13
SPAN_SURE = 0.5  # a coarse band whose inner edge already meets content along half the side needs no second look
STEP_MIN = 8  # a frame's inner edge jumps at least this much from one row to the next (a drift never does)


def scan_band(view: np.ndarray, tol: int = COARSE_TOL, max_frac: float = 0.9) -> dict[str, Any]:
    """The band along row 0 of ``view`` (:func:`_scan_band`), looked at again with a fine tolerance when the coarse
    one ran on: a light grey frame around a white product canvas is within ``tol`` of the canvas, so the coarse band
    runs to the product. The fine band replaces it only where its inner edge is an abrupt step along most of the
    side (:func:`inner_step`); a gradient canvas or a sky drifts past the fine tolerance without one.

    >>> view = np.full((100, 80, 3), 248, np.uint8); view[:14] = 236; view[50:60, 30:50] = 40
    >>> _scan_band(view)["width"], scan_band(view)["width"], scan_band(view)["fine"]
    (50, 14, True)
    >>> ramp = np.repeat(np.linspace(200, 250, 100)[:, None, None], 80, axis=1).repeat(3, axis=2).astype(np.uint8)
    >>> scan_band(ramp)["fine"]
    False
    """
    coarse = _scan_band(view, tol, max_frac)
    if tol <= FINE_TOL or coarse["width"] < 2 or coarse["span"] >= SPAN_SURE:
        return {**coarse, "fine": False}
    fine = _scan_band(view, FINE_TOL, max_frac)
    # The fine band must be paint (flat) and hold a good part of the coarse one: a faintly textured band (paper, a
    # soft sky) splits into a sliver at its first texture step, which is no frame.
    painted = fine["flat"] >= 0.5 and fine["width"] >= 2 and 4 * fine["width"] >= coarse["width"]
    if painted and fine["span"] > coarse["span"] and inner_step(view, fine["width"]) >= 0.5:
        return {**fine, "fine": True}
    return {**coarse, "fine": False}


def inner_step(view: np.ndarray, width: int) -> float:
    """Share of the side where the colour jumps by >= ``STEP_MIN`` across row ``width`` (two rows either side).

    >>> view = np.full((40, 30, 3), 248, np.uint8); view[:10] = 236
    >>> inner_step(view, 10)
    1.0
    """
    if width < 2 or width + 2 > view.shape[0]:
        return 0.0
    jump = np.abs(view[width + 1].astype(np.int16) - view[width - 2].astype(np.int16)).max(axis=1)
    return float((jump >= STEP_MIN).mean())


def _band_rows(view: np.ndarray, ref: np.ndarray, tol: int, limit: int, chunk: int = 32) -> np.ndarray:
    """Share of each of the first ``limit`` rows within ``tol`` of ``ref`` in every channel, read a chunk of rows at a
    time and only until 10 rows past the band's end (:func:`band_end`): most pictures have no band, and the rest is
    not needed.

    >>> view = np.full((200, 50, 3), 90, np.uint8); view[5:] = 10
    >>> rows = _band_rows(view, np.array([90, 90, 90], np.int16), 14, 180)
    >>> rows.tolist()[:7], len(rows)
    ([1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0], 32)
    """
    rows: list[np.ndarray] = []
    start, end = 0, None
    while start < limit and (end is None or start < end + 10):
        diff = channel_max(np.abs(view[start : min(limit, start + chunk)].astype(np.int16) - ref))
        rows.append((diff <= tol).mean(axis=1))
        start += chunk
        end = band_end(np.concatenate(rows), complete=start >= limit)
    return np.concatenate(rows) if rows else np.zeros(0)


def band_end(inside: np.ndarray, complete: bool = True) -> int | None:
    """The first row with < 96% band colour, but a ragged outermost row (a JPEG's edge row, 95% within tolerance on a
    frame saved at q75) followed by band rows does not end the band; None while more rows may come (``complete``
    False) and none has ended it. Only the outermost row is spared: a fine stripe pattern still ends at its first gap.

    >>> band_end(np.array([0.95, 1.0, 1.0, 0.4, 0.1])), band_end(np.array([1.0, 0.5, 1.0, 1.0]))
    (3, 1)
    >>> band_end(np.array([0.5])), band_end(np.array([0.5]), complete=False), band_end(np.array([0.99, 1.0]), False)
    (0, None, None)
    """
    low = inside < 0.96
    if low.size == 1 and low[0] and not complete:
        return None  # the next row decides whether the first one is merely ragged
    start = 1 if low.size > 1 and low[0] and not low[1] else 0
    ends = np.nonzero(low[start:])[0]
    return int(ends[0] + start) if ends.size else None


def _scan_band(view: np.ndarray, tol: int = COARSE_TOL, max_frac: float = 0.9) -> dict[str, Any]:
    """Width of the uniform band along row 0 of ``view``, its paint, and how straight and flat it is.

    The image is quantised against the outermost rows' colour: a pixel has the band colour when every channel is
    within ``tol``. The band runs while >= 96% of a row has that colour. Its inner edge is *straight* when the
    content beyond it starts at once: the first row past the band already holds (nearly) as much non-band colour as
    the next ten rows, as at the edge of a frame or of a pasted picture, however narrow; a horizon, a treeline or a
    round product grows row by row. The band is *flat* when it has no texture (a fog bank or a sky has some).
    ``span`` is the share of the side's length where the content starts right at the band's inner edge; ``colour``
    the paint it was matched against (the median of the two outermost rows, int16 for differences).

    >>> view = np.full((100, 80, 3), 200, np.uint8); view[12:] = 50
    >>> band = scan_band(view); band["width"], band["straight"] > 0.9
    (12, True)
    >>> view[12:40, :] = 200; view[12:40, 30:50] = 50  # a small pasted picture: still a straight edge
    >>> scan_band(view)["straight"] > 0.9
    True
    """
    limit = int(view.shape[0] * max_frac)
    ref = np.median(view[:2].reshape(-1, 3), axis=0).astype(np.int16)
    inside = _band_rows(view, ref, tol, limit)  # share of each row that has the band colour, to 10 rows past the band
    end = band_end(inside)
    width = end if end is not None else limit
    out = {"width": width, "straight": 0.0, "flat": 0.0, "span": 0.0, "colour": ref}
    if width == 0 or width >= limit:
        return out
    outside = 1.0 - inside[width : width + 10]
    out["straight"] = float(np.clip(outside[:2].max() / max(float(outside.max()), 1e-6), 0.0, 1.0))
    out["span"] = float(outside[:2].max())
    # std <= 2: paint. Read on the outer half after a 3x3 median: a JPEG rings along the inner edge (a 2-4 px frame of
    # a small picture saved at q75 read std 3-6 over its whole width) in specks the median removes; a fog bank or a
    # sky is textured all through, in shapes larger than that.
    strip = cv2.medianBlur(np.ascontiguousarray(view[: max(3, width)]), 3)[: max(1, (width + 1) // 2)]
    out["flat"] = float(np.clip(1.5 - strip.reshape(-1, 3).std(axis=0).max() / 4.0, 0.0, 1.0))
    return out


CORNER_FRAC = 0.03  # the corner patch: 3% of the content box's shorter side (inside a rounded corner of radius 10%)
CORNER_OPEN = 0.6  # share of the patch in the band's colour: the content does not reach that corner
OPEN_NONE, OPEN_FULL = 1, 3  # open corners: a frame still (one clipped by a fold or a sky) / a rounded shape on canvas


PAINT_SAME, PAINT_OTHER = 20, 40  # grey levels (largest channel) between opposite bands: one paint / two paints


def same_paint(a: np.ndarray, b: np.ndarray) -> float:
    """How much the paints of two opposite bands (``scan_band``'s ``colour``) are one, 0..1: a frame, a letterbox and
    a pillarbox are painted alike on both sides; the outer stripes of a tricolour flag (green / red) are not.

    >>> green, red = np.array([0, 140, 70]), np.array([205, 40, 50])
    >>> same_paint(green, red), same_paint(green, green + 10)
    (0.0, 1.0)
    """
    d = float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).max())
    return float(np.clip((PAINT_OTHER - d) / (PAINT_OTHER - PAINT_SAME), 0.0, 1.0))


def inner_box(shape: tuple[int, ...], width: dict[str, int]) -> tuple[int, int, int, int]:
    """Rows and columns (top, bottom, left, right; end-exclusive, never empty) inside bands ``width`` px wide.

    >>> inner_box((100, 80, 3), {"top": 10, "bottom": 5, "left": 0, "right": 80})
    (10, 95, 0, 1)
    """
    top, left = width["top"], width["left"]
    return top, max(top + 1, shape[0] - width["bottom"]), left, max(left + 1, shape[1] - width["right"])


def open_corners(rgb: np.ndarray, width: dict[str, int], paint: dict[str, np.ndarray],
                 tol: dict[str, int] | None = None) -> int:
    """How many corners of the content box inside the bands (``width`` per side, 0: none) hold the band's ``paint``,
    not content (0..4).

    A framed, letterboxed or pasted picture is a rectangle: its content runs into all four corners. A pictogram's
    rounded square, a rounded card or a pointed arrow on a plain canvas has straight sides too, but its corners stay
    canvas. ``tol`` is each side's colour tolerance: the one its band was found with (a pale frame around an
    off-white product canvas differs from it by less than the coarse 14 grey levels).

    >>> canvas = np.full((100, 100, 3), 255, np.uint8); canvas[10:90, 10:90] = 0
    >>> sides, white = dict.fromkeys(SIDES, 10), dict.fromkeys(SIDES, np.array([255, 255, 255]))
    >>> open_corners(canvas, sides, white)
    0
    >>> card = np.full((100, 100, 3), 255, np.uint8)
    >>> _ = cv2.rectangle(card, (22, 10), (77, 89), (0, 0, 0), -1); _ = cv2.rectangle(card, (10, 22), (89, 77), 0, -1)
    >>> for cx, cy in ((22, 22), (77, 22), (22, 77), (77, 77)): _ = cv2.circle(card, (cx, cy), 12, (0, 0, 0), -1)
    >>> open_corners(card, sides, white)
    4
    """
    top, bottom, left, right = inner_box(rgb.shape, width)
    tol = tol or {}
    c = max(2, round(CORNER_FRAC * min(bottom - top, right - left)))
    refs = {s: np.asarray(paint[s], np.int16) for s in SIDES if width[s]}
    corners = (("top", "left", slice(top, top + c), slice(left, left + c)),
               ("top", "right", slice(top, top + c), slice(right - c, right)),
               ("bottom", "left", slice(bottom - c, bottom), slice(left, left + c)),
               ("bottom", "right", slice(bottom - c, bottom), slice(right - c, right)))
    opened = 0
    for a, b, rows, cols in corners:
        patch = rgb[rows, cols].astype(np.int16)
        shares = [float((channel_max(np.abs(patch - refs[s])) <= tol.get(s, COARSE_TOL)).mean()) for s in (a, b)
                  if s in refs]
        opened += max(shares, default=0.0) >= CORNER_OPEN
    return opened


GUTTER_SHARE = 0.97  # a gutter row or column: this share of its length in the band's paint
GUTTER_EDGE = 0.75  # the rows or columns beside a gutter: at most this share in the band's paint (a panel's edge)
GUTTER_WIDTH = 0.08  # a gutter is at most this share of the box across


def layout_gutters(rgb: np.ndarray, width: dict[str, int], paint: dict[str, np.ndarray],
                   tol: dict[str, int] | None = None) -> int:
    """How many gutters cross the whole content box inside the bands: narrow runs of rows or columns in the band's
    ``paint``, away from the box's outer tenth, between straight panel edges (content on both sides end to end).

    A framed or pasted picture is one rectangle of content; a collage, a product grid or a split screen laid out on a
    plain canvas is several, with the canvas running between them as straight gutters. Its outer margin reads as a
    frame, but the gutters say it is a layout.

    >>> grid = np.full((100, 100, 3), 255, np.uint8)
    >>> for y in (10, 52): grid[y:y + 38, 10:47] = 40; grid[y:y + 38, 53:90] = 90
    >>> sides, white = dict.fromkeys(SIDES, 10), dict.fromkeys(SIDES, np.array([255, 255, 255]))
    >>> layout_gutters(grid, sides, white)
    2
    >>> framed = np.full((100, 100, 3), 255, np.uint8); framed[10:90, 10:90] = 40
    >>> layout_gutters(framed, sides, white)
    0
    """
    top, bottom, left, right = inner_box(rgb.shape, width)
    # One comparison per distinct paint and tolerance (a frame is usually one paint on all four sides).
    refs = list({(tuple(int(c) for c in paint[s]), (tol or {}).get(s, COARSE_TOL)) for s in SIDES if width[s]})
    box = rgb[top:bottom, left:right].astype(np.int16)
    if not refs or min(box.shape[:2]) < 10:
        return 0
    canvas = np.zeros(box.shape[:2], bool)
    for ref, t in refs:
        canvas |= channel_max(np.abs(box - np.asarray(ref, np.int16))) <= t
    runs = 0
    for lines in (canvas.mean(axis=1), canvas.mean(axis=0)):
        margin = max(2, len(lines) // 10)
        full = np.flatnonzero(lines[margin:-margin] >= GUTTER_SHARE) + margin
        for run in np.split(full, np.flatnonzero(np.diff(full) > 1) + 1) if full.size else []:
            start, stop = int(run[0]), int(run[-1]) + 1
            # A gutter is narrow and runs between straight panel edges: the lines beside it are content end to
            # end. The white gap between two figures of a drawing is wide, or its edges are the figures' outlines.
            # (one line further out on each side: the resize blends the line right at a panel's edge)
            straight = lines[max(start - 2, 0)] <= GUTTER_EDGE and lines[min(stop + 1, len(lines) - 1)] <= GUTTER_EDGE
            runs += bool(straight and stop - start <= GUTTER_WIDTH * len(lines))
    return runs


def line_profile(gray: np.ndarray, t: float = 12.0) -> np.ndarray:
    """Haar level-1 detail profile: per row, the share of the row's length whose step to the next row exceeds ``t``
    with one polarity; a straight line across the whole image reads ~1, natural edges much less.

    >>> g = np.zeros((20, 30), np.float32); g[10:] = 100
    >>> int(np.argmax(line_profile(g))), float(line_profile(g).max())
    (9, 1.0)
    """
    d = np.diff(gray, axis=0)
    return np.maximum((d > t).mean(axis=1), (d < -t).mean(axis=1))

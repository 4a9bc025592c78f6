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


def pixel_repeat(gray: np.ndarray, max_factor: int = 32) -> tuple[int, int, int]:
    """``(k, row phase, column phase)`` when every row and every column of ``gray`` comes in runs of a multiple of
    ``k`` (2 <= k <= ``max_factor``): a picture enlarged k times by repeating pixels (pixel art, an icon shown
    large); ``(1, 0, 0)`` otherwise. A decoded JPEG's rows are never repeated exactly.

    >>> art = np.kron(np.arange(48.0).reshape(6, 8) % 7, np.ones((8, 8))); pixel_repeat(art[3:, 5:])
    (8, 5, 3)
    >>> pixel_repeat(np.random.default_rng(0).normal(size=(64, 64)))
    (1, 0, 0)
    """
    rows = np.flatnonzero(np.any(gray[1:] != gray[:-1], axis=1)) + 1  # where a new run of equal rows starts
    cols = np.flatnonzero(np.any(gray[:, 1:] != gray[:, :-1], axis=0)) + 1
    if len(rows) < 4 or len(cols) < 4:
        return 1, 0, 0
    k = int(np.gcd.reduce(np.concatenate([np.diff(rows), np.diff(cols)])))
    if not 2 <= k <= max_factor:
        return 1, 0, 0
    return k, int(rows[0] % k), int(cols[0] % k)


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


def blur_by_orientation(own: np.ndarray, bins: np.ndarray, percentile: float = 50.0) -> dict[int, float]:
    """The typical edge's blur (``percentile`` of the edges' own blur) of each orientation holding >= ``MIN_EDGES``.

    >>> blur_by_orientation(np.array([1.0] * 6 + [2.0] * 3), np.array([0] * 6 + [1] * 3))
    {0: 1.0}
    """
    return {k: float(np.percentile(own[bins == k], percentile)) for k in range(4) if (bins == k).sum() >= MIN_EDGES}


def _sharpest(own: np.ndarray, sel: np.ndarray) -> float | None:
    """The ``_SHARPEST`` percentile of the selected edges' blur; None with fewer than ``MIN_EDGES`` of them."""
    return float(np.percentile(own[sel], _SHARPEST)) if sel.sum() >= MIN_EDGES else None


# The ring around the in-focus tiles counts as a shallow depth of field when it is clearly softer than the core in
# the orientation judged (a fall-off, not a uniform blur: 1.3 and 1.6 read alike on every split) and every other
# orientation there is at least 0.9x as soft (a focus fall-off softens all orientations alike, motion blur one).
_DOF_FALL_OFF, _DOF_RING_RATIO = 1.5, 0.9


def _focus_region_blur(own: np.ndarray, bins: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                       tile: int = 64) -> tuple[float, dict[int, float]]:
    """Worst per-orientation blur of the sharpest edges *inside the in-focus region*.

    The in-focus region is the tiles holding the image's sharpest edges (the core) and their neighbours (the ring).
    Motion blur smears one orientation everywhere, including there; a soft-focus background only lacks some
    orientations near the subject, so an orientation the subject does not have cannot make a sharp macro read as
    blurred. Where the core holds edges of an orientation and the ring is soft in every orientation alike (a depth
    of field falling off around the subject: a tilt-shift band, a macro's petals), that orientation is read in the
    core alone; a ring soft in one orientation only is motion blur, and a ring as soft as the core a uniform blur:
    both still count.
    """
    base = float(np.percentile(own, _SHARPEST))
    crisp = own <= float(np.percentile(own, 10)) + 0.3
    ty, tx = ys // tile, xs // tile
    grid = np.zeros((int(ty.max()) + 1, int(tx.max()) + 1), np.uint8)
    np.add.at(grid, (ty[crisp], tx[crisp]), 1)
    core_tiles = grid >= 2
    core = core_tiles[ty, tx]
    focus = cv2.dilate(core_tiles.astype(np.uint8), np.ones((3, 3), np.uint8))[ty, tx] > 0
    ring = {k: _sharpest(own, focus & ~core & (bins == k)) for k in range(4)}
    per_bin = {}
    for k in range(4):
        reading = _sharpest(own, focus & (bins == k))
        if reading is None:
            continue
        others = [v for j, v in ring.items() if j != k and v is not None]
        in_core = _sharpest(own, core & (bins == k))
        if (in_core is not None and ring[k] is not None and ring[k] >= _DOF_FALL_OFF * in_core
                and others and min(others) >= _DOF_RING_RATIO * ring[k]):
            reading = in_core
        per_bin[k] = reading
    return max([base, *per_bin.values()]), per_bin


def edge_blur(gray: np.ndarray, noise_sigma: float = 0.0, min_contrast: float = 20.0,
              exclude: np.ndarray | None = None, min_kept: int = 0) -> dict[str, Any]:
    """Blur radius (Gaussian sigma, px) of the image's sharpest edges; the worst orientation in focus wins.

    Each edge is re-blurred by a known amount: a sharp edge loses much of its gradient, an already blurred one
    little, and the ratio gives that edge's own blur whatever its contrast (Zhuo & Sim, 2011). Gradients are
    averaged along each edge and the expected noise energy is subtracted, so grain does not pass for detail.
    Reading the sharpest few edges keeps a crisp subject on a soft background sharp; reading each orientation
    separately (inside the in-focus region) catches motion blur, which leaves edges parallel to the motion crisp.
    Only edges whose step is at least ``min_contrast`` grey levels count, and with ``exclude`` (a boolean mask of
    ``gray``'s shape) only those outside it, when >= ``min_kept`` of them are (else no reading: sigma NaN);
    ``n_excluded`` says how many were left out.

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
    if exclude is None:
        return _reading(own, bins, ys, xs)
    keep = ~exclude[ys, xs]
    if keep.sum() < max(min_kept, MIN_EDGES):  # too few left to judge on: no reading
        return _reading(own[:0], bins[:0], ys[:0], xs[:0]) | {"n_excluded": int((~keep).sum())}
    return _reading(own[keep], bins[keep], ys[keep], xs[keep]) | {"n_excluded": int((~keep).sum())}


def _reading(own: np.ndarray, bins: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> dict[str, Any]:
    out = {"n_edges": int(own.size), "own": own, "bins": bins, "ys": ys, "xs": xs, "n_excluded": 0}
    if own.size < MIN_EDGES:
        return out | {"sigma": float("nan"), "per_orientation": {}}
    sigma, per_bin = _focus_region_blur(own, bins, ys, xs)
    return out | {"sigma": sigma, "per_orientation": per_bin}


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


def line_profile(gray: np.ndarray, t: float = 12.0) -> np.ndarray:
    """Haar level-1 detail profile: per row, the share of the row's length whose step to the next row exceeds ``t``
    with one polarity; a straight line across the whole image reads ~1, natural edges much less.

    >>> g = np.zeros((20, 30), np.float32); g[10:] = 100
    >>> int(np.argmax(line_profile(g))), float(line_profile(g).max())
    (9, 1.0)
    """
    d = np.diff(gray, axis=0)
    return np.maximum((d > t).mean(axis=1), (d < -t).mean(axis=1))

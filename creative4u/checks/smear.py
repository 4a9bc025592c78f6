"""A straight smear read from the spectrum: camera shake or a motion filter convolves the picture with a line.

>>> import cv2
>>> from skimage import data
>>> photo = data.camera().astype(np.float32)
>>> kernel = np.zeros((15, 15), np.float32); kernel[7, :] = 1 / 15      # a horizontal smear of 15 px
>>> smeared = cv2.filter2D(photo, -1, kernel, borderType=cv2.BORDER_REFLECT)
>>> s = line_smear(smeared); s["length_px"], s["angle_deg"], s["z"] > 20
(15.0, 0.0, True)
>>> line_smear(photo)["z"] < 20
True

A line kernel of length L is a box along its direction: its spectrum is a sinc whose zeros fall every 1/L cycles
along it, straight notches across the whole spectrum, in every part of the picture alike. The power cepstrum (the
inverse transform of the log spectrum) turns that comb of notches into one deep negative peak at the lag (L along
the smear), which the picture's own content rarely makes (Cannon 1976; Rom 1975). A Gaussian blur or a defocus disc
leave no such line; stripes and periodic patterns can, so the check uses this reading only beside its own edge
reading (the edges across the lag's direction must read soft).
"""

from __future__ import annotations

import math

import numpy as np

SMEAR_TILE = 128  # px at the 512 px analysis size: a smear of up to ~55 px fits (the lag must stay inside the tile)
MIN_TILE_STD = 2.0  # grey levels: a flat tile (canvas, sky) has no spectrum to read
MIN_LAG, MAX_LAG_SHARE = 4, 0.45  # the lags searched (px): shorter smears are below what edges show at 512 px


def _tiles(gray: np.ndarray, tile: int) -> list[np.ndarray]:
    h, w = gray.shape
    step = tile // 2
    return [gray[y:y + tile, x:x + tile] for y in range(0, h - tile + 1, step) for x in range(0, w - tile + 1, step)]


def line_smear(gray: np.ndarray, tile: int = SMEAR_TILE) -> dict[str, float] | None:
    """The deepest line-kernel dip of the picture's power cepstrum: ``z`` (its depth in robust standard deviations of
    the cepstrum around it), ``length_px`` and ``angle_deg`` (0 = horizontal, counter-clockwise on screen, 0-180) of
    the smear it implies, whether that lag lies ``inside`` the lags searched (not on their rim), ``ring_share`` (the
    dip all round the circle through the lag, as a share of the lag's own), ``agreement`` (the share of tiles that
    show it on their own) and the textured ``tiles`` read; None when fewer than two tiles have texture."""
    window = np.outer(np.hanning(tile), np.hanning(tile))
    floor = 1e-2 * tile * tile  # the log spectrum's floor: 8-bit quantisation noise, so empty bins do not dominate
    logs = [np.log(np.abs(np.fft.fft2((t - t.mean()) * window)) ** 2 + floor)
            for t in _tiles(np.asarray(gray, np.float64), tile) if t.std() >= MIN_TILE_STD]
    if len(logs) < 2:
        return None
    ceps = [np.fft.fftshift(np.real(np.fft.ifft2(log))) for log in logs]
    cep = np.mean(ceps, axis=0)  # the cepstrum is linear in the log spectrum: the mean of the tiles' cepstra
    c0 = tile // 2
    dy, dx = np.mgrid[:tile, :tile] - c0
    r = np.hypot(dy, dx)
    # The cepstrum of a real picture is symmetric: one half-plane holds every lag once.
    search = (r >= MIN_LAG) & (r <= tile * MAX_LAG_SHARE) & ((dy > 0) | ((dy == 0) & (dx > 0)))
    med, sd = _robust(cep[search])
    i = int(np.argmin(np.where(search, cep, np.inf)))
    ly, lx = int(dy.flat[i]), int(dx.flat[i])
    depth = med - float(cep.flat[i])
    lag = math.hypot(lx, ly)
    # A dip on the rim of the lags searched is the slope of something outside them (a trend, stripes wider than the
    # tile allows), not a located lag.
    inside = MIN_LAG + 0.5 < lag < tile * MAX_LAG_SHARE - 1.0
    return {"z": round(depth / sd, 2), "length_px": round(lag, 1), "inside": inside,
            "angle_deg": round(math.degrees(math.atan2(-ly, lx)) % 180.0, 1), "tiles": len(logs),
            "ring_share": round(_ring_share(cep, np.arctan2(dy, dx), r, med, depth, ly, lx), 3),
            "agreement": round(_agreement(ceps, search, c0 + ly, c0 + lx), 3)}


def _robust(vals: np.ndarray) -> tuple[float, float]:
    """Median and robust standard deviation (1.4826 x the median absolute deviation)."""
    med = float(np.median(vals))
    return med, float(np.median(np.abs(vals - med))) * 1.4826 + 1e-12


def _ring_share(cep: np.ndarray, theta: np.ndarray, r: np.ndarray, med: float, depth: float, ly: int,
                lx: int) -> float:
    """A defocus disc notches the spectrum in rings (its Bessel zeros): its cepstrum dips all round the circle through
    the lag, a line's at the lag alone. The circle's mean dip away from the lag (> 30 degrees off), as a share of the
    lag's own; ``theta`` and ``r`` are each lag's angle (radians) and length."""
    off = np.abs((np.degrees(theta - math.atan2(ly, lx)) + 90.0) % 180.0 - 90.0) > 30.0
    ring = (np.abs(r - math.hypot(lx, ly)) <= 0.75) & off
    return (med - float(cep[ring].mean())) / depth if ring.any() and depth > 0 else 0.0


def _agreement(ceps: list[np.ndarray], search: np.ndarray, y: int, x: int, depth: float = 3.0) -> float:
    """Share of the tiles whose own cepstrum dips at the lag (within one px) by >= ``depth`` robust deviations: a
    smear of the whole picture shows in every textured part of it, a pair of parallel cables in a few."""
    hits = 0
    for cep in ceps:
        med, sd = _robust(cep[search])
        hits += (med - float(cep[y - 1:y + 2, x - 1:x + 2].min())) / sd >= depth
    return hits / len(ceps)


def orientation_of(angle_deg: float) -> int:
    """The edge-orientation bin (0-3, as :func:`creative4u.checks.quality_measures.blur_by_orientation` keys it: bin k
    holds gradients at 45k degrees) whose edges a smear at ``angle_deg`` softens: the gradient that runs along it.

    >>> orientation_of(0.0), orientation_of(44.0), orientation_of(92.0), orientation_of(140.0)
    (0, 3, 2, 1)
    """
    return int(((-angle_deg) % 180.0 + 22.5) % 180.0 // 45)

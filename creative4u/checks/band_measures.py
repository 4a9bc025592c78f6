"""Measurements of the plain bands along a picture's sides (frames, letterbox bars, product canvases, the page round a
card): pure functions of numpy arrays, no scores or thresholds. The border check and the exposure check's canvas
exclusion read them through :func:`creative4u.checks.border.framing_bands`.

>>> import numpy as np
>>> view = np.zeros((40, 30, 3), np.uint8); view[6:] = 200  # a 6-row black band along row 0
>>> scan_band(view)["width"]
6
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from creative4u.checks.quality_measures import channel_max

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
GUTTER_WIDTH = 0.15  # a gutter is at most this share of the box across


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


CARD_RUN = 3  # px: a rounded corner leaves at least this much canvas along the diagonal from the box's corner
CARD_CORNERS = 2  # rounded corners that make a card (a drop shadow darkens the others)
CARD_INSET = 0.02  # a pale card's edge stops at least this share of the side short of both ends
JPEG_BLOCK = 8  # px of the picture: a JPEG block, which a pale card's margin must be wider than


def _card_band(view: np.ndarray, width: int, block: float = JPEG_BLOCK) -> int:
    """The canvas band inside the coarse band of ``width`` rows along row 0 of ``view``, its width (0: none): the
    canvas paint alone (the fine tolerance) ends sooner, on a straight edge, and the coarse band runs on through a
    paint within 14 grey levels of the canvas to the content."""
    fine = _scan_band(view, FINE_TOL)
    fw = fine["width"]
    # The card's own margin is an eighth of the band or more, wider than a JPEG block (``block``: its 8 px of the
    # picture at this size), and of another paint where the card is (the middle half of the side): a JPEG's ringing
    # along a frame's inner edge, or its blocks on a frame at q30-q75, end the fine band early on the frame's paint.
    nested = fw >= 2 and width - fw >= max(3, width // 8, math.ceil(block)) and 4 * fw >= width
    if not (nested and fine["straight"] >= 0.8 and fine["flat"] >= 0.5):
        return 0
    n = view.shape[1]
    strip = view[fw + 1 : width, n // 4 : n - n // 4].reshape(-1, 3).astype(np.float32)
    # ... and flat, as a card is (ringing beside a picture at q50 follows the picture).
    other = float(np.abs(np.median(strip, axis=0) - fine["colour"]).max()) > FINE_TOL
    if not (other and float(strip.std(axis=0).max()) <= 4.0):
        return 0
    # The card's edge stops short of both ends of the side, where the page runs on (the first three rows past the
    # page's paint: a thin outline blends into one of them); a JPEG's blocks shift a frame's paint all along it.
    edge = (channel_max(np.abs(view[fw : fw + 3].astype(np.int16) - fine["colour"])) > FINE_TOL).any(axis=0)
    cols = np.flatnonzero(edge)
    inset = cols.size > 0 and cols[0] >= CARD_INSET * n and cols[-1] < (1 - CARD_INSET) * n
    return fw if inset else 0


def _off_paint(pixel: np.ndarray, paint: np.ndarray) -> bool:
    """Whether one pixel is further than the fine tolerance from ``paint`` (int16) in some channel."""
    return int(np.abs(pixel.astype(np.int16) - paint).max()) > FINE_TOL


def _diagonal_run(rgb: np.ndarray, row: int, col: int, dr: int, dc: int, paint: np.ndarray) -> int:
    """How many pixels from (row, col) inward along the diagonal (dr, dc) hold ``paint`` (to the fine tolerance)."""
    run = 0
    while 0 <= row < rgb.shape[0] and 0 <= col < rgb.shape[1] and run < 64:
        if _off_paint(rgb[row, col], paint):
            break
        run, row, col = run + 1, row + dr, col + dc
    return run


def inset_card(rgb: np.ndarray, width: dict[str, int], paint: dict[str, np.ndarray],
               block: float = JPEG_BLOCK) -> bool:
    """Whether the bands (``width`` > 0 on every side, ``paint`` their colours) are a page round a card with rounded
    corners, not a frame: the box inside the bands has rounded corners (:func:`rounded_corners`), or, for a pale
    card within the coarse tolerance of its page, on every side the page's own paint (the fine tolerance) ends on the
    card's straight edge while the coarse band runs on through the card to its content, and the card's box has
    rounded corners. A frame pasted round a picture with a white margin nests the same way, but its corners are
    square. ``block``: a JPEG block's ``JPEG_BLOCK`` px of the picture in pixels of ``rgb``.

    >>> from PIL import Image, ImageDraw
    >>> def page(radius):
    ...     im = Image.new("RGB", (256, 256), (246,) * 3); draw = ImageDraw.Draw(im)
    ...     draw.rounded_rectangle((30, 20, 225, 235), radius, fill=(255,) * 3); draw.rectangle((60, 60, 195, 199), 40)
    ...     return np.asarray(im)
    >>> bands, grey = {"top": 60, "bottom": 56, "left": 60, "right": 60}, dict.fromkeys(SIDES, np.array([246] * 3))
    >>> inset_card(page(12), bands, grey), inset_card(page(0), bands, grey)  # a rounded card; square: a frame
    (True, False)
    """
    if not all(width[s] for s in SIDES):
        return False
    if rounded_corners(rgb, width, paint) >= CARD_CORNERS:
        return True
    inner = {s: _card_band(side_view(rgb, s), width[s], block) for s in SIDES}
    return all(inner.values()) and rounded_corners(rgb, inner, paint) >= CARD_CORNERS


def rounded_corners(rgb: np.ndarray, width: dict[str, int], paint: dict[str, np.ndarray]) -> int:
    """How many corners of the box inside the bands (``width`` per side) are rounded: the band's ``paint`` runs in
    along the diagonal from the corner for ``CARD_RUN`` px or more (a square picture's content starts at its corner).

    >>> im = np.full((100, 100, 3), 246, np.uint8); im[10:90, 10:90] = 40
    >>> rounded_corners(im, dict.fromkeys(SIDES, 10), dict.fromkeys(SIDES, np.array([246] * 3)))
    0
    """
    top, bottom, left, right = inner_box(rgb.shape, width)
    corners = ((top, left, 1, 1, "top"), (top, right - 1, 1, -1, "top"), (bottom - 1, left, -1, 1, "bottom"),
               (bottom - 1, right - 1, -1, -1, "bottom"))
    return sum(_rounded(rgb, r, c, dr, dc, np.asarray(paint[s], np.int16)) for r, c, dr, dc, s in corners)


def _rounded(rgb: np.ndarray, row: int, col: int, dr: int, dc: int, paint: np.ndarray) -> bool:
    """Whether the box's corner at (row, col) (inward along (dr, dc)) is rounded: ``paint`` runs in along the diagonal
    for ``CARD_RUN`` px or more, and the box's first row and column hold other paint 4 runs from the corner (a curve
    of radius r cuts 0.29 r off the diagonal and meets the edges within r). A dark or vignetted picture corner in a
    dark frame reads along the diagonal too, but along the edges as well."""
    run = _diagonal_run(rgb, row, col, dr, dc, paint)
    if run < CARD_RUN:
        return False
    far_r = int(np.clip(row + dr * 4 * run, 0, rgb.shape[0] - 1))
    far_c = int(np.clip(col + dc * 4 * run, 0, rgb.shape[1] - 1))
    return _off_paint(rgb[row, far_c], paint) and _off_paint(rgb[far_r, col], paint)

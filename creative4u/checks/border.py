"""Borders and frames: uniform bands of one paint on opposite sides, framing a rectangular picture.

>>> from PIL import Image, ImageOps
>>> from skimage import data
>>> from creative4u.images import LoadedImage
>>> framed = ImageOps.expand(Image.fromarray(data.coffee()).resize((300, 200)), border=20, fill="white")
>>> Border().measure(LoadedImage.from_pil(framed)).score > 0.5
True

The bands are found by :func:`framing_bands` (shared with the exposure check, which leaves a plain canvas out of its
reading); this check decides whether they make a frame.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from creative4u.checks.band_measures import (
    COARSE_TOL,
    FINE_TOL,
    JPEG_BLOCK,
    OPEN_FULL,
    OPEN_NONE,
    SIDES,
    inset_card,
    layout_gutters,
    open_corners,
    same_paint,
    scan_band,
    side_view,
)
from creative4u.checks.base import Check, Evidence, Measurement
from creative4u.checks.quality import BORDER_SIDE, DETAIL_SIDE, colour, logistic, luma, shared
from creative4u.checks.quality_measures import line_profile
from creative4u.images import ALPHA_MODES, LoadedImage

__all__ = ["Border", "band_symmetry", "framing_bands", "span_weight"]

# ------------------------------------------------------------------------------------------- framing (shared)
SPAN_FULL, SPAN_NONE = 0.5, 0.2  # share of the side the content must meet at a band's inner edge (frame / none)


def span_weight(span: float) -> float:
    """How far a band's inner edge runs along its side like a frame's: 0 at <= 20% of the side, 1 at >= 50%.

    >>> span_weight(0.9), round(span_weight(0.35), 2), span_weight(0.1)
    (1.0, 0.5, 0.0)
    """
    return float(np.clip((span - SPAN_NONE) / (SPAN_FULL - SPAN_NONE), 0.0, 1.0))


OPPOSITE = (("top", "bottom"), ("left", "right"))
SYMMETRY_NONE, SYMMETRY_FULL = 0.4, 0.7  # narrower / wider band of an opposite pair: not a frame / a frame


def band_symmetry(a: float, b: float) -> float:
    """How much two opposite bands look like one frame's, 0..1: 1 when the narrower is >= 70% of the wider, 0 at <= 40%
    (frames and letterbox bars are even; the canvas around an off-centre subject is not).

    >>> band_symmetry(20, 20), band_symmetry(45, 118), band_symmetry(0, 30), round(band_symmetry(55, 100), 2)
    (1.0, 0.0, 0.0, 0.5)
    """
    if max(a, b) <= 0:
        return 0.0
    return float(np.clip((min(a, b) / max(a, b) - SYMMETRY_NONE) / (SYMMETRY_FULL - SYMMETRY_NONE), 0.0, 1.0))


# A band thinner than 0.8% of the picture's shorter side is a rendering edge, not a frame. Of the shorter side, as
# frames are painted the same width all round: 1.2% of each side's own length missed the 7 px sides of a 640 x 360
# picture's frame. 0.8%: a 5 px frame on a 640 px picture (a 1% frame) is a frame.
MIN_BAND_FRAC = 0.008
# The border check reads the bands at up to 512 px: at 256 a 1-1.5% frame is 2-4 px wide and blends into the picture's
# first row. Exposure only leaves a plain canvas out of its reading and keeps the cheaper 256 px copy.
FRAME_SIDE = 512


def _side_strength(band: dict[str, float], short_side: int) -> float:
    """How much one side looks like part of a frame, 0..1: wide enough, straight inner edge, flat paint."""
    # Whole pixels: a 5 px frame read at 512 px of a 640 px picture spans 4 px plus a blended row (4 < 4.1).
    if band["width"] < max(2, math.floor(MIN_BAND_FRAC * short_side)):
        return 0.0
    return float(band["straight"] * (0.6 + 0.4 * band["flat"]))


def framing_bands(img: LoadedImage, side: int = BORDER_SIDE) -> dict[str, Any]:
    """Uniform bands along each side of the picture read at <= ``side`` px (the border check reads them at
    ``FRAME_SIDE``, exposure at ``BORDER_SIDE``).

    Returns per side the band (``scan_band``), its frame strength, and the band width that counts (strength > 0.3,
    else 0) in pixels of that array, plus ``box``: the content's (top, bottom, left, right) rows and columns inside
    those bands.

    >>> from PIL import Image, ImageOps
    >>> framed = ImageOps.expand(Image.new("RGB", (80, 60), "red"), border=10, fill="white")
    >>> framing_bands(LoadedImage.from_pil(framed))["box"]
    (10, 70, 10, 90)
    """

    def compute() -> dict[str, Any]:
        rgb = colour(img, side)
        bands = {s: scan_band(side_view(rgb, s)) for s in SIDES}
        strength = {s: _side_strength(b, min(rgb.shape[:2])) for s, b in bands.items()}
        width = {s: bands[s]["width"] if strength[s] > 0.3 else 0 for s in SIDES}
        h, w = rgb.shape[:2]
        top, bottom = width["top"], max(width["top"] + 1, h - width["bottom"])
        left, right = width["left"], max(width["left"] + 1, w - width["right"])
        return {"bands": bands, "strength": strength, "width": width, "box": (top, bottom, left, right),
                "shape": (h, w)}

    return shared(img, f"bands{side}", compute)


_Reading = tuple[float, dict[str, Any], dict[str, int], int, int]


def transparent_bands(img: LoadedImage, widths: dict[str, int]) -> bool:
    """Whether the file is (>= 95%) transparent in the bands of ``widths`` (the picture's px per side): a picture on
    a transparent margin, which every viewer shows on some paint (here white), reads as a frame.

    >>> import io
    >>> from PIL import Image
    >>> pic = Image.new("RGBA", (100, 80), (0, 0, 0, 0)); pic.paste((200, 30, 30, 255), (10, 10, 90, 70))
    >>> buf = io.BytesIO(); pic.save(buf, "PNG")
    >>> from creative4u.images import load_image
    >>> transparent_bands(load_image(buf.getvalue()), {"top": 10, "bottom": 10, "left": 10, "right": 10})
    True
    """
    mode = img.original_mode
    if not img.data or not (mode in ALPHA_MODES or (mode == "P" and "transparency" in img.info)):
        return False
    try:
        with Image.open(io.BytesIO(img.data)) as im:
            alpha = np.asarray(ImageOps.exif_transpose(im.convert("RGBA")).getchannel("A"))
    except Exception:  # noqa: BLE001 - the file decoded once already; any trouble here only drops the remark
        return False
    strips = [alpha[: widths.get("top", 0)], alpha[alpha.shape[0] - widths.get("bottom", 0):],
              alpha[:, : widths.get("left", 0)], alpha[:, alpha.shape[1] - widths.get("right", 0):]]
    values = np.concatenate([strip.reshape(-1) for strip, side in zip(strips, SIDES, strict=True)
                             if widths.get(side, 0) > 0] or [np.zeros(0, np.uint8)])
    return values.size > 0 and float((values < 13).mean()) >= 0.95


class Border(Check):
    """Frames, letterbox bars and pasted borders: uniform bands along the sides with straight inner edges.

    Bands are found on the colour-quantised image scanning inward from each side; straight full-length edges
    parallel to the sides (inset frame lines) on the Haar detail profile of rows and columns. A uniform band on one
    side only (fog, a clear sky, a studio wall) stays below the decision point, and so do bands on two adjacent sides
    or of very unequal widths (the canvas around an off-centre subject); even straight-edged bands on opposite sides
    do not.

    >>> from PIL import Image, ImageOps
    >>> from skimage import data
    >>> photo = Image.fromarray(data.coffee()).resize((300, 200))
    >>> framed = ImageOps.expand(photo, border=20, fill=(255, 255, 255))
    >>> border = Border()
    >>> border.measure(LoadedImage.from_pil(framed)).score > 0.5 > border.measure(LoadedImage.from_pil(photo)).score
    True
    """

    name = "border"
    option_names = ()
    description = ("Borders and frames: uniform bands of about equal width with straight inner edges on opposite "
                   "sides (widths as evidence).")
    # 15: whole-pixel widths, a ragged outer row, flatness after a median; 16: gutters up to 15%; 17: rounded cards
    version = "17"
    LAYOUT_DISCOUNT = 0.4  # the strongest frame reading (1.1) times this stays below 0.5

    def measure(self, img: LoadedImage) -> Measurement:
        lines = self._inset_lines(luma(img, BORDER_SIDE))
        # The bands are read at 256 px and, for a picture larger than that, again at 512: a 1-2% frame is 2-5 px at
        # 256 and blends into the picture's first row, while a JPEG's ringing along a wide frame's inner edge is
        # averaged away at 256 and breaks the band's straight edge at 512. The stronger reading decides.
        sides = (BORDER_SIDE, FRAME_SIDE) if max(img.rgb(DETAIL_SIDE).shape[:2]) > BORDER_SIDE else (BORDER_SIDE,)
        score, values, widths, opened, gutters = max((self._read(img, side, lines) for side in sides),
                                                     key=lambda reading: reading[0])
        evidence = [Evidence("bands", {**widths, "sides": [s for s in SIDES if widths[s] > 0]},
                             "uniform bands along the sides (px)")]
        summary = self._summary(widths, score, lines, opened, gutters, card=values["inset_card"])
        if score >= 0.5 and transparent_bands(img, widths):
            values["transparent_margin"] = True
            summary += "; the bands are the file's transparent margin, which is shown on white"
        return Measurement(score=score, values=values, evidence=evidence, summary=summary)

    def _read(self, img: LoadedImage, side: int, lines: float) -> _Reading:
        """The frame reading of the bands at <= ``side`` px: (score, values, widths in the picture's px, open corners,
        layout gutters)."""
        framing = framing_bands(img, side)
        shape = framing["shape"]
        strength, framed = self._framed(framing)
        scale = img.size[0] / shape[1]
        widths = {s: int(round(framing["width"][s] * scale)) for s in SIDES}
        # A frame, a letterbox and a pillarbox are bands on *opposite* sides of about the same width. Bands on two
        # adjacent sides only (a flag with a drop shadow), or of very unequal widths (an object placed off-centre on
        # its canvas: 118 px above, 45 px below), are the plain canvas around a subject, not a frame.
        # And they are one paint on both sides: the outer stripes of a tricolour flag (green / red) are not.
        symmetry = {(a, b): band_symmetry(widths[a], widths[b]) for a, b in OPPOSITE}
        colours = {s: band["colour"] for s, band in framing["bands"].items()}
        paint = {(a, b): same_paint(colours[a], colours[b]) for a, b in OPPOSITE}
        pairs = sorted((min(strength[a], strength[b]) * even * paint[a, b] for (a, b), even in symmetry.items()),
                       reverse=True)
        # A frame's picture is a rectangle that fills the box inside the bands; a rounded sign, card or arrow on a
        # plain canvas leaves the box's corners canvas (one open corner is allowed: a page's fold, a white sky). Its
        # straight sides also read as inset lines, so the discount covers both readings.
        tol = {s: FINE_TOL if band["fine"] else COARSE_TOL for s, band in framing["bands"].items()}
        rgb = colour(img, side)
        opened = open_corners(rgb, framed, colours, tol)
        rectangular = float(np.clip((OPEN_FULL - opened) / (OPEN_FULL - OPEN_NONE), 0.0, 1.0))
        # Canvas running straight across the box between panels (a collage, a product grid, a split screen) makes
        # the bands the outer margin of a layout, not a frame around one picture: discounted below the decision point.
        # Read only where the bands would make a frame: elsewhere the discount changes nothing.
        # One framed pair makes a frame (0.9); a single side, however clean, stays below the decision point.
        frame = 0.9 * pairs[0] + 0.2 * pairs[1]
        reading = max(frame, 0.8 * lines) * rectangular
        gutters = layout_gutters(rgb, framed, colours, tol) if reading >= 0.5 else 0
        # A card with rounded corners on a plain page (a shop's white product card on a light grey page) is a layout
        # too: the bands are the page round the card, or, where the card is within 14 grey levels of the page, run
        # through it to its photo and text, an even "frame" round them. A framed picture's corners are square.
        card = bool(reading >= 0.5 and not gutters and self._card(img, side))
        score = logistic(reading * (self.LAYOUT_DISCOUNT if gutters or card else 1.0), 0.5, 0.08)
        values: dict[str, Any] = {f"band_{s}_px": widths[s] for s in SIDES}
        values |= {f"band_{s}_strength": round(strength[s], 3) for s in SIDES}
        values |= {f"band_{s}_span": round(framing["bands"][s]["span"], 3) for s in SIDES}
        values |= {f"band_{a}_{b}_symmetry": round(even, 3) for (a, b), even in symmetry.items()}
        values |= {f"band_{a}_{b}_same_paint": round(same, 3) for (a, b), same in paint.items()}
        values |= {"band_sides": sum(v > 0.5 for v in strength.values()), "frame_evidence": round(frame, 3),
                   "open_corners": opened, "layout_gutters": gutters,
                   "inset_card": card,
                   "inset_line_strength": round(lines, 3), "bands_read_at_px": max(shape)}
        values |= self._content_box({s: float(framing["width"][s]) for s in SIDES}, shape)
        return score, values, widths, opened, gutters

    @staticmethod
    def _framed(framing: dict[str, Any]) -> tuple[dict[str, float], dict[str, int]]:
        """Each side's frame strength, weighted by how far its band's inner edge runs along the side, and the band
        widths of the sides a frame can be (strength > 0.3, else 0)."""
        # A frame's inner edge runs along most of the side (the framed picture starts there); a plain design
        # canvas meets its first shape, a title or a button on a short stretch only. Weighted here, not in
        # framing_bands: exposure uses those bands to leave a plain product canvas out, whatever its span.
        strength = {s: v * span_weight(framing["bands"][s]["span"]) for s, v in framing["strength"].items()}
        return strength, {s: framing["width"][s] if strength[s] > 0.3 else 0 for s in SIDES}

    def _card(self, img: LoadedImage, side: int) -> bool:
        """Whether the bands read at ``side`` px, or at 512 and 1024 px for a larger picture, are a page round a card
        with rounded corners (:func:`inset_card`): a corner must cut 3 px off the diagonal (a radius of 10 px), 4% of
        the side at 256 px, 1% at 1024. Read only where the bands make a frame (+5 ms on a framed 1200 px JPEG), once
        per size (the 256 px reading's look at 512 px serves the 512 px reading too)."""
        own = max(img.rgb(DETAIL_SIDE).shape[:2])
        sizes = [side] + [s for s in (FRAME_SIDE, DETAIL_SIDE) if side < s and own > s // 2]
        return any(shared(img, f"card{at}", lambda at=at: self._card_at(img, at)) for at in sizes)

    def _card_at(self, img: LoadedImage, at: int) -> bool:
        """:func:`inset_card` on the bands read at <= ``at`` px."""
        framing = framing_bands(img, at)
        colours = {s: band["colour"] for s, band in framing["bands"].items()}
        rgb = colour(img, at)
        block = JPEG_BLOCK * max(rgb.shape[:2]) / max(img.size)  # a JPEG block of the picture, in px of this size
        return inset_card(rgb, self._framed(framing)[1], colours, block=block)

    @staticmethod
    def _inset_lines(gray: np.ndarray) -> float:
        """Strength of full-length straight lines near *both* opposite sides (within the outer fifth)."""
        best = 0.0
        for arr in (gray, gray.T):
            prof = line_profile(arr)
            if len(prof) < 4:  # a sliver of an image (a 3 px wide strip) has no inside to hold a line
                continue
            outer = max(3, len(prof) // 5)
            best = max(best, min(float(prof[1:outer].max()), float(prof[-outer:-1].max())))
        return best

    @staticmethod
    def _content_box(widths: dict[str, float], shape: tuple[int, ...]) -> dict[str, float]:
        """Where the content sits inside the framing bands (layout features: share of the canvas, off-centre)."""
        h, w = shape[0], shape[1]
        cw = max(1.0, w - widths["left"] - widths["right"])
        ch = max(1.0, h - widths["top"] - widths["bottom"])
        return {"content_area_frac": round(cw * ch / (w * h), 4),
                "content_offset_x": round((widths["left"] + cw / 2) / w - 0.5, 4),
                "content_offset_y": round((widths["top"] + ch / 2) / h - 0.5, 4)}

    @staticmethod
    def _summary(widths: dict[str, int], score: float, lines: float, opened: int = 0, gutters: int = 0,
                 card: bool = False) -> str:
        sides = [f"{s} {widths[s]} px" for s in SIDES if widths[s] > 0]
        if score < 0.5 and len(sides) >= 2 and card:
            return (f"no border: a card with rounded corners on a plain page (margins to its content "
                    f"{', '.join(sides)})")
        if score < 0.5 and len(sides) >= 2 and gutters:
            return (f"no border: a layout of panels on a plain canvas ({gutters} gutter(s) cross it; margins "
                    f"{', '.join(sides)})")
        if score < 0.5:
            if len(sides) >= 2 and opened >= OPEN_FULL:
                return (f"no border: a shape with rounded or open corners on a plain canvas ({opened} of 4 corners "
                        f"inside the bands are canvas; {', '.join(sides)})")
            if len(sides) >= 2:
                return f"no border: plain canvas around a subject, not an even frame ({', '.join(sides)})"
            return "no border" + (f": a plain band on one side only ({', '.join(sides)})" if sides else "")
        if sides:
            return f"border or frame: uniform bands with straight inner edges ({', '.join(sides)})"
        return f"inset frame: straight lines run the full length near opposite sides (strength {lines:.2f})"

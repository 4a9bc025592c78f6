"""Draw a check's evidence onto the image: boxes, heat maps, copy-move matches, border bands.

>>> from PIL import Image
>>> from creative4u.images import LoadedImage
>>> from creative4u.checks.base import CheckReport, Evidence
>>> img = LoadedImage.from_pil(Image.new("RGB", (200, 100), "white"))
>>> report = CheckReport("text", 0.2, 0.1, True, "flagged",
...                      evidence=[Evidence("boxes", {"boxes": [[10, 10, 90, 40]], "labels": ["SALE"]})])
>>> render_evidence(img, report).size
(200, 100)

One panel shows the picture with every box, match and band drawn on it; each heat map gets its own panel (blended
over the picture, or shown alone for maps that are not images of the picture, e.g. a spectrum); the panels are set
side by side under their labels. Evidence that cannot be drawn (metadata, quoted text) is left to the report.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from creative4u.checks.base import CheckReport, Evidence, decode_heatmap
from creative4u.images import LoadedImage

MAX_SIDE = 1024  # panels are drawn at most this large
LABEL_H = 18
COLOURS = [(255, 40, 40), (40, 200, 255), (255, 200, 0), (80, 255, 80), (255, 80, 255)]


def _font() -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=13)
    except TypeError:  # Pillow < 10.1 has no size argument
        return ImageFont.load_default()


def _base(img: LoadedImage) -> tuple[Image.Image, float]:
    im = img.image.convert("RGB")
    scale = min(1.0, MAX_SIDE / max(im.size))
    if scale < 1.0:
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.Resampling.BILINEAR)
    return im.copy(), scale


def _draw_boxes(draw: ImageDraw.ImageDraw, ev: Evidence, scale: float, colour: tuple[int, int, int]) -> None:
    labels = ev.data.get("labels") or []
    scores = ev.data.get("scores") or []
    width = max(1, round(3 * scale)) if scale < 1 else 3
    for i, box in enumerate(ev.data.get("boxes") or []):
        x0, y0, x1, y1 = (float(v) * scale for v in box)
        draw.rectangle([x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)], outline=colour, width=width)
        text = str(labels[i])[:40] if i < len(labels) else ""
        if i < len(scores) and scores[i] is not None:
            text = f"{text} {float(scores[i]):.2f}".strip()
        if text:
            draw.text((x0 + 2, max(0.0, y0 - 14)), text, fill=colour, font=_font())


def _draw_matches(draw: ImageDraw.ImageDraw, ev: Evidence, scale: float) -> None:
    for x0, y0, x1, y1 in ev.data.get("pairs") or []:
        a, b = (x0 * scale, y0 * scale), (x1 * scale, y1 * scale)
        draw.line([a, b], fill=(255, 220, 0), width=1)
        for x, y in (a, b):
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], outline=(255, 60, 60))
    regions = Evidence("boxes", {"boxes": ev.data.get("boxes") or [], "labels": ev.data.get("labels") or []})
    _draw_boxes(draw, regions, scale, (255, 60, 60))


def _draw_bands(draw: ImageDraw.ImageDraw, ev: Evidence, size: tuple[int, int], scale: float) -> None:
    w, h = size
    d = {k: float(ev.data.get(k) or 0) * scale for k in ("top", "bottom", "left", "right")}
    for box in ([0, 0, w, d["top"]], [0, h - d["bottom"], w, h], [0, 0, d["left"], h], [w - d["right"], 0, w, h]):
        if box[2] > box[0] + 0.5 and box[3] > box[1] + 0.5:
            draw.rectangle(box, outline=(255, 0, 255), width=3)


def heatmap_panel(base: Image.Image, ev: Evidence, alpha: float = 0.55) -> Image.Image:
    """A heat map as a colour image the size of ``base``: blended over it, or alone when ``overlay`` is False."""
    heat = decode_heatmap(ev)
    coloured = cv2.applyColorMap((np.clip(heat, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)[:, :, ::-1]
    if ev.data.get("overlay", True) is False:
        side = min(base.size)
        return Image.fromarray(coloured).resize((side, side), Image.Resampling.NEAREST)
    layer = Image.fromarray(coloured).resize(base.size, Image.Resampling.BILINEAR)
    return Image.blend(base, layer, alpha)


def _labelled(panel: Image.Image, label: str) -> Image.Image:
    out = Image.new("RGB", (panel.width, panel.height + LABEL_H), (24, 24, 24))
    out.paste(panel, (0, LABEL_H))
    ImageDraw.Draw(out).text((4, 2), label[: max(8, panel.width // 7)], fill=(240, 240, 240), font=_font())
    return out


def _montage(panels: list[Image.Image]) -> Image.Image:
    height = max(p.height for p in panels)
    out = Image.new("RGB", (sum(p.width for p in panels) + 4 * (len(panels) - 1), height), (24, 24, 24))
    x = 0
    for p in panels:
        out.paste(p, (x, 0))
        x += p.width + 4
    return out


def render_evidence(img: LoadedImage, report: CheckReport) -> Image.Image | None:
    """The report's drawable evidence on the image as one PIL image, or None when nothing is drawable."""
    base, scale = _base(img)
    drawn = base.copy()
    draw = ImageDraw.Draw(drawn)
    marks, heat_panels = [], []
    for i, ev in enumerate(report.evidence):
        if ev.kind == "boxes":
            _draw_boxes(draw, ev, scale, COLOURS[i % len(COLOURS)])
        elif ev.kind == "matches":
            _draw_matches(draw, ev, scale)
        elif ev.kind == "bands":
            _draw_bands(draw, ev, base.size, scale)
        elif ev.kind == "heatmap" and ev.data.get("png"):
            heat_panels.append(_labelled(heatmap_panel(base, ev), ev.label or "heat map"))
            continue
        else:
            continue
        marks.append(ev.label or ev.kind)
    if not marks and not heat_panels:
        return None
    if not heat_panels:
        return drawn
    panels = ([_labelled(drawn, ", ".join(marks))] if marks else []) + heat_panels
    return _montage(panels)


def _safe(name: str) -> str:
    stem = Path(str(name)).stem or "image"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:80]


def write_evidence(img: LoadedImage, screen: Any, out_dir: str | Path) -> list[Path]:
    """Write one PNG per check with drawable evidence (``<image>.<check>.png``); returns the paths written.

    ``screen`` is an :class:`~creative4u.checks.suite.ImageScreen` (or anything with a ``reports`` dict).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, report in screen.reports.items():
        picture = render_evidence(img, report)
        if picture is None:
            continue
        path = out / f"{_safe(img.name)}.{_safe(name)}.png"
        picture.save(path)
        written.append(path)
    return written

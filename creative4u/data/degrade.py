"""Ad-like creatives from real photos, and controlled degradations that make a creative measurably worse.

>>> import numpy as np
>>> from PIL import Image
>>> from creative4u.data.degrade import DEGRADATIONS, make_creative
>>> photo = Image.new("RGB", (640, 480), (200, 120, 40))
>>> clean, info = make_creative(photo, size=(256, 256), rng=np.random.default_rng(0))
>>> bad, params = DEGRADATIONS["blur"](clean, np.random.default_rng(1), 0.5)
>>> bad.size, sorted(params)
((256, 256), ['sigma'])

Every function takes a PIL RGB image, a ``numpy.random.Generator`` and a ``severity`` in [0, 1] and returns the new
image plus a JSON-ready dict of the parameters it drew; the same generator state gives the same bytes. Severity 0 is
mild but visible, 1 is strong, and parameters are jittered around the severity so that a judge has to measure the
defect rather than memorise a fixed amount. Sizes (kernels, bands, fonts) scale with the canvas.
"""

from __future__ import annotations

import functools
import io
import logging
import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from creative4u.data.photos import Photo, find_cjk_font, latin_fonts

log = logging.getLogger(__name__)

Degradation = Callable[[Image.Image, np.random.Generator, float], tuple[Image.Image, dict[str, Any]]]
DEGRADATIONS: dict[str, Degradation] = {}

# Loud colours of real promo overlays and frames (RGB).
PALETTE = ((255, 255, 255), (0, 0, 0), (225, 30, 45), (255, 205, 0), (255, 120, 0), (0, 85, 200), (20, 150, 60),
           (200, 0, 120), (235, 235, 235), (60, 60, 60))
LATIN_PROMO = ("SALE", "50% OFF", "BUY NOW", "LIMITED OFFER", "FREE SHIPPING", "BEST PRICE", "HOT DEAL", "$19.99",
               "NEW ARRIVAL", "ORDER TODAY", "ONLY 3 LEFT", "-70%", "CLICK HERE", "2 FOR 1", "MEGA SALE")
CJK_PROMO = ("限时特价", "包邮", "爆款直降", "买一送一", "全场五折", "新品上市", "立即抢购", "正品保证", "今日特惠",
             "セール", "特価")
WATERMARKS = ("SAMPLE", "© PHOTO STOCK", "PREVIEW", "www.example-shop.com", "DO NOT COPY", "@bestdeals_store")
CJK_WATERMARKS = ("样图", "版权所有", "盗图必究")


def register(name: str) -> Callable[[Degradation], Degradation]:
    """Add a degradation to :data:`DEGRADATIONS` under ``name``."""

    def deco(fn: Degradation) -> Degradation:
        DEGRADATIONS[name] = fn
        return fn

    return deco


def degrade(img: Image.Image, name: str, rng: np.random.Generator,
            severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """Apply the named degradation; an unknown name raises KeyError listing the valid ones.

    >>> degrade(Image.new("RGB", (64, 64)), "noise", np.random.default_rng(0), 0.2)[0].size
    (64, 64)
    """
    if name not in DEGRADATIONS:
        raise KeyError(f"unknown degradation {name!r}; valid: {', '.join(sorted(DEGRADATIONS))}")
    return DEGRADATIONS[name](img.convert("RGB"), rng, severity)


# ----------------------------------------------------------------------------------------------------- helpers


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def _sev(severity: float) -> float:
    return float(np.clip(severity, 0.0, 1.0))


def _jitter(rng: np.random.Generator, spread: float = 0.15) -> float:
    return float(rng.uniform(1.0 - spread, 1.0 + spread))


def _unit(img: Image.Image) -> float:
    """Canvas scale relative to 512 px, so a 1024 px creative gets twice the kernel of a 512 px one."""
    return min(img.size) / 512.0


def _u8(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "RGB")


def _to_linear(arr: np.ndarray) -> np.ndarray:
    """sRGB 0..255 to linear light 0..1 (exposure and optics act on light, not on gamma-coded values)."""
    x = arr.astype(np.float32) / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _to_srgb(lin: np.ndarray) -> np.ndarray:
    x = np.clip(lin, 0.0, 1.0)
    return 255.0 * np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def _cover(img: Image.Image, size: tuple[int, int], centre: tuple[float, float] = (0.5, 0.5),
           zoom: float = 1.0) -> Image.Image:
    """Resize ``img`` to cover ``size`` exactly (times ``zoom``), cropping the overflow around ``centre``."""
    w, h = size
    sw, sh = img.size
    scale = max(w / sw, h / sh) * zoom
    cw, ch = w / scale, h / scale
    cx = min(max(centre[0] * sw, cw / 2), sw - cw / 2)
    cy = min(max(centre[1] * sh, ch / 2), sh - ch / 2)
    # Clamped: when the picture just covers the canvas, cw can exceed sw by a rounding error and PIL rejects a box
    # that starts at -1e-14.
    box = (max(0.0, cx - cw / 2), max(0.0, cy - ch / 2), min(sw, cx + cw / 2), min(sh, cy + ch / 2))
    return img.resize((w, h), Image.Resampling.LANCZOS, box=box, reducing_gap=2.0)


def _pick(rng: np.random.Generator, options: tuple | list) -> Any:
    return options[int(rng.integers(len(options)))]


# ---------------------------------------------------------------------------------------------- the creative


def _focus_point(img: Image.Image) -> tuple[float, float]:
    """Centroid of gradient energy on a thumbnail: the sharp subject of a shallow-focus photo, else near centre."""
    small = img.convert("L")
    small.thumbnail((96, 96))
    g = np.asarray(small, dtype=np.float32)
    gy, gx = np.gradient(g)
    energy = gx**2 + gy**2
    total = float(energy.sum())
    if total <= 0:
        return 0.5, 0.5
    ys, xs = np.mgrid[0 : g.shape[0], 0 : g.shape[1]]
    return float((energy * xs).sum() / total / g.shape[1]), float((energy * ys).sum() / total / g.shape[0])


def make_creative(photo: Photo | Image.Image, size: int | tuple[int, int] = (512, 512),
                  rng: np.random.Generator | None = None) -> tuple[Image.Image, dict[str, Any]]:
    """Crop and resize a real photo into a clean full-bleed ad canvas centred near its subject.

    >>> img, info = make_creative(Image.new("RGB", (800, 600), "white"), 256, np.random.default_rng(0))
    >>> img.size, info["upscale"]
    ((256, 256), 1.0)

    No text, badge or border is added: this is the clean side of every pair. The photo is never upscaled for zoom;
    ``upscale`` > 1 in the returned info says the source itself was smaller than the canvas.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    w, h = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    img = photo.load(min_side=math.ceil(1.3 * max(w, h))) if isinstance(photo, Photo) else photo.convert("RGB")
    sw, sh = img.size
    base = max(w / sw, h / sh)  # scale at which the photo just covers the canvas
    zoom = min(float(rng.uniform(1.0, 1.3)), max(1.0, 1.0 / base))
    focus = _focus_point(img)
    pull = float(rng.uniform(0.3, 0.8))  # how far to move from the photo centre towards the subject
    centre = tuple(0.5 + pull * (f - 0.5) + float(rng.uniform(-0.04, 0.04)) for f in focus)
    crop = (max(1, round(w / (base * zoom))), max(1, round(h / (base * zoom))))
    out = _cover(img, (w, h), centre, zoom)
    info = {"size": [w, h], "source_size": [sw, sh], "zoom": round(zoom, 3), "centre": [round(c, 3) for c in centre],
            "crop_px": list(crop), "upscale": round(max(1.0, base * zoom), 3)}
    return out, info


# ------------------------------------------------------------------------------------------------------ optics


@register("blur")
def blur(img: Image.Image, rng: np.random.Generator, severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """Gaussian blur, sigma 1.6..6 px at 512 px (soft focus, a resized thumbnail)."""
    sigma = _lerp(1.6, 6.0, _sev(severity)) * _jitter(rng) * _unit(img)
    out = cv2.GaussianBlur(np.asarray(img), (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)
    return Image.fromarray(out, "RGB"), {"sigma": round(sigma, 3)}


def _disk_kernel(radius: float) -> np.ndarray:
    r = max(radius, 0.5)
    n = int(math.ceil(r))
    yy, xx = np.mgrid[-n : n + 1, -n : n + 1]
    kernel = np.clip(r + 0.5 - np.hypot(xx, yy), 0.0, 1.0).astype(np.float32)  # anti-aliased rim
    return kernel / kernel.sum()


@register("defocus")
def defocus(img: Image.Image, rng: np.random.Generator, severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """Out-of-focus lens: a disk kernel of radius 2.5..9 px, applied in linear light so highlights bloom."""
    radius = _lerp(2.5, 9.0, _sev(severity)) * _jitter(rng) * _unit(img)
    lin = cv2.filter2D(_to_linear(np.asarray(img)), -1, _disk_kernel(radius), borderType=cv2.BORDER_REFLECT)
    return _u8(_to_srgb(lin)), {"radius": round(radius, 3)}


def _line_kernel(length: float, angle_deg: float) -> np.ndarray:
    """A normalised straight-line kernel; samples are splatted bilinearly so any angle stays smooth."""
    k = int(math.ceil(length)) | 1
    c = k // 2
    a = math.radians(angle_deg)
    t = np.linspace(-(length - 1) / 2, (length - 1) / 2, max(2, int(length * 4)))
    x, y = c + t * math.cos(a), c - t * math.sin(a)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    kernel = np.zeros((k + 1, k + 1), np.float32)
    for dx, dy, wgt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(kernel, (np.clip(y0 + dy, 0, k), np.clip(x0 + dx, 0, k)), wgt)
    return kernel / kernel.sum()


@register("motion_blur")
def motion_blur(img: Image.Image, rng: np.random.Generator,
                severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """Camera shake: a line kernel 8..36 px long at a random angle, in linear light."""
    length = _lerp(8.0, 36.0, _sev(severity)) * _jitter(rng) * _unit(img)
    angle = float(rng.uniform(0.0, 180.0))
    lin = cv2.filter2D(_to_linear(np.asarray(img)), -1, _line_kernel(length, angle), borderType=cv2.BORDER_REFLECT)
    return _u8(_to_srgb(lin)), {"length": round(length, 3), "angle": round(angle, 2)}


# ---------------------------------------------------------------------------------------------------- exposure


def _exposure(img: Image.Image, stops: float) -> Image.Image:
    return _u8(_to_srgb(_to_linear(np.asarray(img)) * (2.0**stops)))


@register("underexposed")
def underexposed(img: Image.Image, rng: np.random.Generator,
                 severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """1..2.8 stops too little light (linear-light gain), shadows crushed to black."""
    stops = -_lerp(1.0, 2.8, _sev(severity)) * _jitter(rng)
    return _exposure(img, stops), {"stops": round(stops, 3)}


@register("overexposed")
def overexposed(img: Image.Image, rng: np.random.Generator,
                severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """0.9..2.2 stops too much light; channels clip, so highlights blow out to flat white."""
    stops = _lerp(0.9, 2.2, _sev(severity)) * _jitter(rng)
    return _exposure(img, stops), {"stops": round(stops, 3)}


@register("low_contrast")
def low_contrast(img: Image.Image, rng: np.random.Generator,
                 severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """Flat, hazy look: contrast cut to 0.55..0.25 around a grey or milky haze level."""
    contrast = _lerp(0.55, 0.25, _sev(severity)) * _jitter(rng, 0.1)
    arr = np.asarray(img, dtype=np.float32)
    haze = float(_pick(rng, (arr.mean(), 170.0, 200.0)))
    return _u8(haze + contrast * (arr - haze)), {"contrast": round(contrast, 3), "haze": round(haze, 1)}


# ------------------------------------------------------------------------------------------ sensor and codec


@register("noise")
def noise(img: Image.Image, rng: np.random.Generator, severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """Sensor noise: Gaussian (sigma 7..28 of 255) or shot noise (Poisson in linear light plus read noise)."""
    s = _sev(severity)
    arr = np.asarray(img, dtype=np.float32)
    mode = _pick(rng, ("gaussian", "poisson"))
    chroma = bool(rng.random() < 0.5)  # colour speckle (independent channels) or luminance-only grain
    shape = arr.shape if chroma else arr.shape[:2] + (1,)
    if mode == "gaussian":
        sigma = _lerp(7.0, 28.0, s) * _jitter(rng)
        return _u8(arr + rng.normal(0.0, sigma, shape)), {"mode": mode, "sigma": round(sigma, 3), "chroma": chroma}
    peak = _lerp(120.0, 10.0, s) * _jitter(rng)  # photons at full white: fewer photons, more noise
    lin = _to_linear(arr)
    if chroma:
        noisy = rng.poisson(lin * peak) / peak
    else:
        luma = lin.mean(axis=2, keepdims=True)
        noisy = lin * (rng.poisson(luma * peak) / peak + 1e-6) / (luma + 1e-6)
    noisy = noisy + rng.normal(0.0, 0.004, shape)  # read noise lifts the blacks a little
    return _u8(_to_srgb(noisy)), {"mode": mode, "peak": round(peak, 2), "chroma": chroma}


@register("jpeg")
def jpeg(img: Image.Image, rng: np.random.Generator, severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """Heavy JPEG compression (quality 22..5, 4:2:0): blocking, ringing, colour bleeding.

    ``save_quality`` tells a writer to save the result at the same quality: re-encoding a decoded JPEG on the same
    grid and tables is nearly lossless, whereas saving it at 92 would keep the artifacts but not the file evidence.
    """
    quality = int(np.clip(round(_lerp(22.0, 5.0, _sev(severity)) + rng.integers(-2, 3)), 3, 30))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, subsampling=2)
    buf.seek(0)
    with Image.open(buf) as decoded:
        out = decoded.convert("RGB")
    return out, {"quality": quality, "subsampling": "4:2:0", "save_quality": quality}


@register("low_resolution")
def low_resolution(img: Image.Image, rng: np.random.Generator,
                   severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """A small upload stretched to the canvas: downscale by 2.5..7 then upscale with a smooth filter."""
    factor = _lerp(2.5, 7.0, _sev(severity)) * _jitter(rng)
    w, h = img.size
    down_name, down = _pick(rng, (("box", Image.Resampling.BOX), ("bilinear", Image.Resampling.BILINEAR),
                                  ("bicubic", Image.Resampling.BICUBIC)))
    # Nearest-neighbour upscaling is left out: it adds blocky edges, a different defect from missing detail.
    up_name, up = _pick(rng, (("bilinear", Image.Resampling.BILINEAR), ("bicubic", Image.Resampling.BICUBIC),
                              ("lanczos", Image.Resampling.LANCZOS)))
    small = img.resize((max(8, round(w / factor)), max(8, round(h / factor))), down)
    return small.resize((w, h), up), {"factor": round(factor, 3), "small_size": list(small.size),
                                      "down": down_name, "up": up_name}


# ------------------------------------------------------------------------------------------------------ layout


@register("border")
def border(img: Image.Image, rng: np.random.Generator, severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """A solid frame, a decorative double frame, or letterbox / pillarbox bars; the content shrinks to fit inside."""
    s = _sev(severity)
    w, h = img.size
    style = _pick(rng, ("frame", "decorative", "letterbox", "pillarbox"))
    colour = tuple(int(c) for c in _pick(rng, PALETTE))
    if style in ("frame", "decorative"):
        t = max(2, round(_lerp(0.04, 0.14, s) * _jitter(rng) * min(w, h)))
        widths = {"top": t, "bottom": t, "left": t, "right": t}
    elif style == "letterbox":
        t = max(2, round(_lerp(0.08, 0.22, s) * _jitter(rng) * h))
        widths = {"top": t, "bottom": t, "left": 0, "right": 0}
    else:
        t = max(2, round(_lerp(0.08, 0.22, s) * _jitter(rng) * w))
        widths = {"top": 0, "bottom": 0, "left": t, "right": t}
    inner = (w - widths["left"] - widths["right"], h - widths["top"] - widths["bottom"])
    out = Image.new("RGB", (w, h), colour)
    out.paste(_cover(img, inner), (widths["left"], widths["top"]))
    params: dict[str, Any] = {"style": style, "colour": list(colour), "widths": widths}
    if style == "decorative":
        # A thin contrasting rule on the inner edge of the band, as in greeting-card or "premium" frames.
        line = tuple(int(c) for c in _pick(rng, [c for c in PALETTE if c != colour]))
        lw = max(2, round(t * 0.18))
        ImageDraw.Draw(out).rectangle((t - lw, t - lw, w - t + lw - 1, h - t + lw - 1), outline=line, width=lw)
        params |= {"line_colour": list(line), "line_width": lw, "uniform_band": t - lw}
    else:
        params["uniform_band"] = t
    return out, params


def _shrink_onto_plain(img: Image.Image, rng: np.random.Generator, scale: float,
                       anchor: str) -> tuple[Image.Image, dict[str, Any]]:
    w, h = img.size
    mean = np.asarray(img, dtype=np.float32).reshape(-1, 3).mean(axis=0)
    tint = tuple(int(round(255 - 0.25 * (255 - m))) for m in mean)  # a pale version of the photo's own colour
    bg = tuple(int(c) for c in _pick(rng, ((255, 255, 255), (240, 240, 240), (245, 241, 232), (20, 20, 20), tint)))
    pw, ph = max(8, round(w * scale)), max(8, round(h * scale))
    margin = float(rng.uniform(0.0, 0.04))
    if anchor == "centre":
        fx, fy = (float(v) for v in rng.uniform(0.35, 0.65, 2))
    else:
        fx = {"l": margin, "r": 1.0 - margin, "c": 0.5}[anchor[1]]
        fy = {"t": margin, "b": 1.0 - margin, "m": 0.5}[anchor[0]]
    x, y = round(fx * (w - pw)), round(fy * (h - ph))
    out = Image.new("RGB", (w, h), bg)
    out.paste(img.resize((pw, ph), Image.Resampling.LANCZOS, reducing_gap=2.0), (x, y))
    return out, {"scale": round(scale, 3), "anchor": anchor, "box": [x, y, x + pw, y + ph], "background": list(bg)}


@register("off_centre")
def off_centre(img: Image.Image, rng: np.random.Generator,
               severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """The product shrunk to 0.62..0.42 of the canvas and pushed into a corner or to an edge of a plain canvas."""
    scale = _lerp(0.62, 0.42, _sev(severity)) * _jitter(rng, 0.08)
    anchor = _pick(rng, ("tl", "tr", "bl", "br", "ml", "mr", "tc", "bc"))
    return _shrink_onto_plain(img, rng, scale, anchor)


@register("tiny_product")
def tiny_product(img: Image.Image, rng: np.random.Generator,
                 severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """The product small (0.38..0.16 of the canvas side) near the middle of a large plain background."""
    scale = _lerp(0.38, 0.16, _sev(severity)) * _jitter(rng, 0.08)
    return _shrink_onto_plain(img, rng, scale, "centre")


# -------------------------------------------------------------------------------------------------------- text


@functools.lru_cache(maxsize=1)
def _font_files() -> tuple[tuple[str, ...], str | None]:
    cjk = find_cjk_font()
    if cjk is None:
        log.warning("no CJK font found: text overlays use Latin text only (run scripts/fetch_photos.sh to add one)")
    return tuple(str(p) for p in latin_fonts()), str(cjk) if cjk else None


@functools.lru_cache(maxsize=256)
def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        return ImageFont.load_default(size)
    # Index 2 of the Noto Sans CJK collection is the Simplified Chinese face; it also has kana and Latin.
    return ImageFont.truetype(path, size, index=2 if path.endswith(".ttc") else 0)


def _choose_text(rng: np.random.Generator, latin: tuple[str, ...], cjk: tuple[str, ...],
                 bold: bool = False) -> tuple[str, str | None]:
    """A phrase and the font file to draw it with (CJK phrases only when a CJK font exists)."""
    latin_files, cjk_file = _font_files()
    if bold:
        latin_files = tuple(f for f in latin_files if "Bold" in f) or latin_files
    if cjk_file and rng.random() < 0.4:
        return _pick(rng, cjk), cjk_file
    return _pick(rng, latin), (_pick(rng, latin_files) if latin_files else None)


def _text_tile(text: str, font_file: str | None, size: int, fill: tuple, stroke: tuple | None,
               box_fill: tuple | None) -> Image.Image:
    """Render one text item (optionally on a sticker box) on a transparent tile cropped to its extent."""
    font = _font(font_file, size)
    sw = max(1, size // 14) if stroke else 0
    pad = round(size * 0.35) if box_fill else sw + 1
    left, top, right, bottom = font.getbbox(text, stroke_width=sw)
    tile = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(tile)
    if box_fill:
        draw.rounded_rectangle((0, 0, tile.width - 1, tile.height - 1), radius=pad // 2, fill=box_fill + (255,))
    draw.text((pad - left, pad - top), text, font=font, fill=fill + (255,), stroke_width=sw,
              stroke_fill=(stroke + (255,)) if stroke else None)
    return tile


def _place(layer: Image.Image, mask: Image.Image, tile: Image.Image, angle: float, xy: tuple[int, int],
           alpha: float = 1.0) -> None:
    """Rotate ``tile``, composite it at ``xy`` with opacity ``alpha`` and mark its rotated box in ``mask``."""
    rotated = tile.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    if alpha < 1.0:
        rotated.putalpha(rotated.getchannel("A").point(lambda v: round(v * alpha)))
    _composite(layer, rotated, xy)
    a = math.radians(angle)
    cx, cy = xy[0] + rotated.width / 2, xy[1] + rotated.height / 2
    corners = [(-tile.width / 2, -tile.height / 2), (tile.width / 2, -tile.height / 2),
               (tile.width / 2, tile.height / 2), (-tile.width / 2, tile.height / 2)]
    poly = [(cx + px * math.cos(a) + py * math.sin(a), cy - px * math.sin(a) + py * math.cos(a)) for px, py in corners]
    ImageDraw.Draw(mask).polygon(poly, fill=255)


def _composite(layer: Image.Image, tile: Image.Image, xy: tuple[int, int]) -> None:
    """``alpha_composite`` that accepts tiles hanging over the top or left edge (Pillow refuses negative offsets)."""
    x, y = xy
    sx, sy = max(0, -x), max(0, -y)
    if sx < tile.width and sy < tile.height and x < layer.width and y < layer.height:
        layer.alpha_composite(tile, dest=(max(0, x), max(0, y)), source=(sx, sy))


def _luma(c: tuple) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _colours(rng: np.random.Generator) -> tuple[tuple, tuple | None, tuple | None]:
    """Text fill, stroke and sticker colours that contrast with each other (dark on light or light on dark)."""
    fill = tuple(_pick(rng, PALETTE[:8]))
    dark = _luma(fill) < 128
    stroke = ((255, 255, 255) if dark else (0, 0, 0)) if rng.random() < 0.6 else None
    box = None
    if rng.random() < 0.35:
        box = tuple(_pick(rng, [c for c in PALETTE[:8] if (_luma(c) < 128) != dark]))
    return fill, stroke, box


def _free_spot(rng: np.random.Generator, mask: Image.Image, size: tuple[int, int], tries: int = 8) -> tuple[int, int]:
    """The least-covered of a few random positions, so items spread out instead of piling up unreadably."""
    m = np.asarray(mask)
    best, best_overlap = (0, 0), math.inf
    for _ in range(tries):
        x = int(rng.integers(0, max(1, m.shape[1] - size[0])))
        y = int(rng.integers(0, max(1, m.shape[0] - size[1])))
        overlap = float(m[y : y + size[1], x : x + size[0]].mean()) if size[0] and size[1] else 0.0
        if overlap < best_overlap:
            best, best_overlap = (x, y), overlap
    return best


def _promo(img: Image.Image, rng: np.random.Generator, s: float, layer: Image.Image, mask: Image.Image) -> dict:
    """Slogans, prices and stickers scattered until they cover the target share of the canvas."""
    w, h = img.size
    target = _lerp(0.18, 0.5, s) * _jitter(rng, 0.1)
    items = 0
    for _ in range(60):
        if np.asarray(mask).mean() / 255.0 >= target:
            break
        text, font_file = _choose_text(rng, LATIN_PROMO, CJK_PROMO)
        size = max(10, round(h * float(rng.uniform(0.07, 0.15)) * (1.0 + 0.4 * s)))
        tile = _text_tile(text, font_file, size, *_colours(rng))
        if tile.width > 0.95 * w:  # keep every item on the canvas
            tile = tile.resize((round(0.95 * w), max(1, round(tile.height * 0.95 * w / tile.width))))
        angle = float(rng.uniform(-15, 15)) if rng.random() < 0.3 else 0.0
        xy = _free_spot(rng, mask, tile.rotate(angle, expand=True).size)
        _place(layer, mask, tile, angle, xy)
        items += 1
    return {"style": "promo", "target": round(target, 3), "items": items}


def _banner(img: Image.Image, rng: np.random.Generator, s: float, layer: Image.Image, mask: Image.Image) -> dict:
    """One to three full-width colour strips with a slogan each (top, bottom, middle)."""
    w, h = img.size
    n = 1 + int(s > 0.35) + int(s > 0.75)
    bands = []
    for i, pos in enumerate(("bottom", "top", "middle")[:n]):
        bh = round(h * _lerp(0.16, 0.24, s) * _jitter(rng, 0.1))
        y = {"bottom": h - bh, "top": 0, "middle": (h - bh) // 2}[pos]
        fill = tuple(_pick(rng, PALETTE[:8]))
        strip = Image.new("RGBA", (w, bh), fill + (int(rng.integers(200, 256)),))
        text, font_file = _choose_text(rng, LATIN_PROMO, CJK_PROMO)
        txt = _text_tile(text, font_file, round(bh * 0.55), (0, 0, 0) if _luma(fill) >= 128 else (255, 255, 255),
                         None, None)
        if txt.width > 0.92 * w:
            txt = txt.resize((round(0.92 * w), max(1, round(txt.height * 0.92 * w / txt.width))))
        strip.alpha_composite(txt, ((w - txt.width) // 2, max(0, (bh - txt.height) // 2)))
        _place(layer, mask, strip, 0.0, (0, y))
        bands.append({"position": pos, "height": bh, "colour": list(fill), "index": i})
    return {"style": "banner", "bands": bands}


def _watermark(img: Image.Image, rng: np.random.Generator, s: float, layer: Image.Image, mask: Image.Image) -> dict:
    """A semi-transparent text repeated on a rotated grid over the whole canvas (stock-photo style)."""
    w, h = img.size
    text, font_file = _choose_text(rng, WATERMARKS, CJK_WATERMARKS, bold=True)
    fill = tuple(_pick(rng, ((255, 255, 255), (0, 0, 0), (128, 128, 128))))
    stroke = (0, 0, 0) if _luma(fill) > 200 else (255, 255, 255)  # an outline keeps it visible on any background
    size = max(10, round(h * _lerp(0.08, 0.13, s) * _jitter(rng, 0.1)))
    tile = _text_tile(text, font_file, size, fill, stroke, None)
    if tile.width > 0.9 * w:  # long URLs: shrink so one copy fits across the canvas
        tile = tile.resize((round(0.9 * w), max(1, round(tile.height * 0.9 * w / tile.width))))
    angle = float(rng.uniform(20, 40)) * float(_pick(rng, (-1, 1)))
    alpha = _lerp(0.4, 0.7, s) * _jitter(rng, 0.1)
    rw, rh = tile.rotate(angle, expand=True).size
    step_x, step_y = max(8, round(rw * 1.05)), max(8, round(rh * _lerp(0.9, 0.6, s)))
    count = 0
    for row, y in enumerate(range(-rh // 2, h, step_y)):
        for x in range(-rw // 2 - (row % 2) * step_x // 2, w, step_x):
            _place(layer, mask, tile, angle, (x, y), alpha)
            count += 1
    return {"style": "watermark", "text": text, "alpha": round(alpha, 3), "angle": round(angle, 2), "tiles": count}


def render_text_overlay(img: Image.Image, rng: np.random.Generator,
                        severity: float = 0.5) -> tuple[Image.Image, dict[str, Any], np.ndarray]:
    """Like :func:`text_overlay` but also returns the boolean overlay mask (union of every item's rotated box).

    >>> out, params, mask = render_text_overlay(Image.new("RGB", (256, 256), "gray"), np.random.default_rng(0), 0.5)
    >>> bool(mask.mean() >= 0.15), params["coverage"] == round(float(mask.mean()), 4)
    (True, True)
    """
    s = _sev(severity)
    base = img.convert("RGBA")
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    mask = Image.new("L", img.size, 0)
    style = _pick(rng, ("promo", "promo", "banner", "watermark"))  # promo is the common case
    params = {"promo": _promo, "banner": _banner, "watermark": _watermark}[style](img, rng, s, layer, mask)
    out = Image.alpha_composite(base, layer).convert("RGB")
    m = np.asarray(mask) > 127
    ink = np.asarray(layer.getchannel("A")) > 64
    params |= {"coverage": round(float(m.mean()), 4), "ink_coverage": round(float(ink.mean()), 4),
               "cjk_font": _font_files()[1] is not None}
    return out, params, m


@register("text_overlay")
def text_overlay(img: Image.Image, rng: np.random.Generator,
                 severity: float = 0.5) -> tuple[Image.Image, dict[str, Any]]:
    """Heavy promo text, banners or a tiled watermark covering 18..50% of the canvas (boxes, as OCR would report)."""
    out, params, _ = render_text_overlay(img, rng, severity)
    return out, params

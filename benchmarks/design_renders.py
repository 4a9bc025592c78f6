"""Rendered, generator-style creatives for ``eval_designs.py``: what text-to-image tools and 3D mock-up kits produce in
bulk for e-commerce — glossy product renders, neon on black, a sharp product over bokeh or night lights, pastel mesh
gradients, blurred colour blobs, soft glows, watercolour, sunsets, soft clay shapes, dark-mode layouts — and photos
given a look (tilt-shift, portrait-mode blur, Orton glow, a film preset, a vignette). None is a defect: smooth
gradients, glows clipped to white, deep blacks and soft backgrounds are the style.

>>> import numpy as np
>>> from PIL import Image
>>> photo = Image.new("RGB", (64, 64), (120, 90, 60))
>>> RENDERS["glossy product render on a studio backdrop"](np.random.default_rng(0), [photo]).size
(1024, 1024)
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

Render = Callable[[np.random.Generator, list[Image.Image]], Image.Image]
SIDE = 1024  # generators' square output


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _rgb(rng: np.random.Generator, low: int, high: int) -> np.ndarray:
    return rng.integers(low, high, 3).astype(np.float32)


def _u8(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8))


def _grid() -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) / SIDE
    return y, x


def _vertical(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    t = _grid()[0][..., None]
    return top * (1 - t) + bottom * t


def _sphere(canvas: np.ndarray, centre: tuple[float, float], radius: float, albedo: np.ndarray,
            shine: float) -> np.ndarray:
    """A Blinn-Phong sphere lit from the upper left; ``shine`` scales a specular spot that clips to white."""
    y, x = _grid()
    dx, dy = (x - centre[0]) / radius, (y - centre[1]) / radius
    r2 = dx**2 + dy**2
    inside = r2 < 1.0
    nz = np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
    light = np.array([-0.5, -0.6, 0.62]) / np.linalg.norm([-0.5, -0.6, 0.62])
    lambert = np.clip(dx * light[0] + dy * light[1] + nz * light[2], 0.0, 1.0)
    half = light + np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    spec = np.clip(dx * half[0] + dy * half[1] + nz * half[2], 0.0, 1.0) ** 60 * shine
    shade = albedo * (0.18 + 0.82 * lambert[..., None]) + 255.0 * spec[..., None]
    # Anti-aliased silhouette: one pixel of coverage ramp at the rim.
    cover = np.clip((1.0 - np.sqrt(r2)) * radius * SIDE, 0.0, 1.0)[..., None] * inside[..., None]
    return canvas * (1 - cover) + shade * cover


def _soft_shadow(canvas: np.ndarray, centre: tuple[float, float], width: float, depth: float) -> np.ndarray:
    mask = Image.new("L", (SIDE, SIDE), 0)
    cx, cy = centre[0] * SIDE, centre[1] * SIDE
    ImageDraw.Draw(mask).ellipse((cx - width * SIDE, cy - 0.03 * SIDE, cx + width * SIDE, cy + 0.03 * SIDE), 255)
    soft = np.asarray(mask.filter(ImageFilter.GaussianBlur(SIDE * 0.03)), np.float32)[..., None] / 255.0
    return canvas * (1 - depth * soft)


def glossy_product(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A glossy sphere or two (a perfume cap, a bath bomb), a clipped specular spot, on a graded studio backdrop."""
    canvas = _vertical(_rgb(rng, 150, 256), _rgb(rng, 60, 200))
    for _ in range(int(rng.integers(1, 3))):
        cx, radius = float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.12, 0.25))
        cy = 0.78 - radius
        canvas = _soft_shadow(canvas, (cx, 0.8), radius * 0.9, 0.45)
        canvas = _sphere(canvas, (cx, cy), radius, _rgb(rng, 20, 230), float(rng.uniform(0.6, 1.4)))
    return _u8(canvas)


def clay_shapes(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """Soft matte 3D shapes (no specular) in pastel on a pastel canvas: the 'claymorphism' look."""
    canvas = np.broadcast_to(_rgb(rng, 170, 250), (SIDE, SIDE, 3)).copy()
    for _ in range(int(rng.integers(3, 7))):
        cx, cy = (float(v) for v in rng.uniform(0.15, 0.85, 2))
        radius = float(rng.uniform(0.06, 0.16))
        canvas = _soft_shadow(canvas, (cx + 0.02, cy + radius * 0.9), radius * 0.8, 0.25)
        canvas = _sphere(canvas, (cx, cy), radius, _rgb(rng, 140, 250), 0.0)
    return _u8(canvas)


def _glow(mask: Image.Image, colour: np.ndarray) -> np.ndarray:
    """A neon tube: a white-hot core, a coloured halo at three radii (added light, so it clips where it stacks)."""
    core = np.asarray(mask, np.float32)[..., None] / 255.0
    light = np.zeros((SIDE, SIDE, 3), np.float32)
    for radius, gain in ((4, 1.2), (14, 0.9), (40, 0.6)):
        halo = np.asarray(mask.filter(ImageFilter.GaussianBlur(radius)), np.float32)[..., None] / 255.0
        light += colour * halo * gain
    return light + 255.0 * core * 0.9


def neon_on_black(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """Neon type and a neon ring glowing on a near-black wall."""
    canvas = _vertical(_rgb(rng, 0, 25), _rgb(rng, 10, 45))
    for word, box in (("OPEN", (180, 300)), ("24/7", (300, 620))):
        mask = Image.new("L", (SIDE, SIDE), 0)
        ImageDraw.Draw(mask).text(box, word, fill=255, font=_font(int(rng.integers(150, 210))), stroke_width=0)
        canvas += _glow(mask, _rgb(rng, 0, 256))
    ring = Image.new("L", (SIDE, SIDE), 0)
    r = int(rng.integers(380, 470))
    ImageDraw.Draw(ring).ellipse((512 - r, 512 - r, 512 + r, 512 + r), outline=255, width=6)
    return _u8(canvas + _glow(ring, _rgb(rng, 0, 256)))


def bokeh_product(rng: np.random.Generator, photos: list[Image.Image], night: bool = False) -> Image.Image:
    """A sharp product cut-out (an oval crop of a photo) over a defocused background with bokeh discs; ``night``:
    the background dimmed to a quarter, the discs bright (city or fairy lights)."""
    back = photos[int(rng.integers(len(photos)))].convert("RGB").resize((SIDE, SIDE))
    canvas = np.asarray(back.filter(ImageFilter.GaussianBlur(int(rng.integers(18, 40)))), np.float32).copy()
    if night:
        canvas *= 0.25
    discs = np.zeros((SIDE, SIDE), np.float32)
    for _ in range(int(rng.integers(15, 40))):
        x, y, rad = rng.integers(0, SIDE), rng.integers(0, SIDE), int(rng.integers(15, 60))
        cv2.circle(discs, (int(x), int(y)), rad, float(rng.uniform(0.6, 1.0) if night else rng.uniform(0.2, 0.7)), -1,
                   cv2.LINE_AA)
    discs = cv2.GaussianBlur(discs, (0, 0), 2.5)
    canvas += discs[..., None] * _rgb(rng, 150, 256)
    # The product at its own pixels (a square of up to 560 px around the photo's structure): an enlarged photo, or
    # an empty patch of sky, would be soft itself.
    a = _photo(rng, photos)
    side = min(560, a.shape[0])
    cx, cy = _subject(a, (side / a.shape[1], side / a.shape[0]))
    x0 = int(np.clip(cx * a.shape[1] - side / 2, 0, a.shape[1] - side))
    y0 = int(np.clip(cy * a.shape[0] - side / 2, 0, a.shape[0] - side))
    product = _u8(a[y0 : y0 + side, x0 : x0 + side])
    side = product.width
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((10, 10, side - 10, side - 10), 255)
    mask = mask.filter(ImageFilter.GaussianBlur(1.0))
    out = _u8(canvas)
    out.paste(product, ((SIDE - side) // 2, (SIDE - side) // 2), mask)
    return out


def night_bokeh_product(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A sharp product over a dark, defocused background of bright lights (a seasonal or evening look)."""
    return bokeh_product(rng, photos, night=True)


def _soft_spots(rng: np.random.Generator, canvas_low: int, count: tuple[int, int], size: tuple[float, float],
                paint_low: int) -> np.ndarray:
    """A flat canvas (each channel ``canvas_low``-255) with ``count`` Gaussian spots of ``size`` of the side blended
    in, each of its own paint (``paint_low``-255 a channel)."""
    y, x = _grid()
    canvas = np.broadcast_to(_rgb(rng, canvas_low, 256), (SIDE, SIDE, 3)).copy()
    for _ in range(int(rng.integers(*count))):
        cx, cy, s = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(*size)
        w = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s**2))[..., None]
        canvas = canvas * (1 - w) + _rgb(rng, paint_low, 256) * w
    return canvas


def mesh_gradient(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A pastel mesh gradient (soft colour blobs), with a crisp headline on half of them."""
    out = _u8(_soft_spots(rng, 120, (3, 7), (0.15, 0.4), 100))
    if rng.random() < 0.5:
        ImageDraw.Draw(out).text((80, 440), "Summer drop", fill=(255, 255, 255), font=_font(120))
    return out


def colour_blobs(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A 'blurred gradient' wallpaper: a 3 x 3 to 12 x 12 field of random colours, enlarged and blurred by 1.5-9% of
    the side (nothing crisp anywhere, by design)."""
    cells = int(rng.integers(3, 13))
    field = Image.fromarray(rng.integers(0, 256, (cells, cells, 3)).astype(np.uint8))
    canvas = np.asarray(field.resize((SIDE, SIDE), Image.Resampling.BICUBIC), np.float32)
    return _u8(cv2.GaussianBlur(canvas, (0, 0), float(rng.uniform(0.015, 0.09)) * SIDE))


def soft_glows(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """One to five soft coloured glows (Gaussian spots of 6-20% of the side) on a flat light canvas."""
    return _u8(_soft_spots(rng, 150, (1, 6), (0.06, 0.2), 0))


def watercolour(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A watercolour illustration: soft washes whose pigment pools at their rims, on textured cold-press paper."""
    paper = 242.0 + cv2.GaussianBlur(rng.normal(0.0, 1.0, (SIDE, SIDE)).astype(np.float32), (0, 0), 1.2) * 10.0
    canvas = np.repeat(paper[..., None], 3, axis=2) * np.array([1.0, 0.99, 0.96], np.float32)
    for _ in range(int(rng.integers(4, 9))):
        mask = np.zeros((SIDE, SIDE), np.float32)
        centre = (int(rng.integers(150, SIDE - 150)), int(rng.integers(150, SIDE - 150)))
        axes = (int(rng.integers(60, 220)), int(rng.integers(60, 220)))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1, cv2.LINE_AA)
        # A dried wash has a crisp outer edge (~1 px) with the pigment pooled just inside it.
        mask = cv2.GaussianBlur(mask, (0, 0), 1.0)
        rim = np.clip(mask - cv2.GaussianBlur(mask, (0, 0), 8.0), 0.0, 1.0) * 0.8
        wash = np.clip(mask * float(rng.uniform(0.35, 0.7)) + rim, 0.0, 1.0)[..., None]
        canvas = canvas * (1 - wash) + canvas * (_rgb(rng, 40, 230) / 255.0) * wash
    return _u8(canvas)


def sunset(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A sunset sky graded orange to purple, a sun clipped white with a glow, dark silhouette hills below."""
    y, x = _grid()
    canvas = _vertical(_rgb(rng, 40, 120), np.array([255.0, rng.uniform(120, 190), rng.uniform(40, 110)]))
    sx, sy, radius = float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.45, 0.62)), float(rng.uniform(0.04, 0.08))
    d = np.sqrt((x - sx) ** 2 + (y - sy) ** 2)
    canvas += (np.exp(-d / 0.12) * 160.0 + (d < radius) * 400.0)[..., None] * np.array([1.0, 0.85, 0.6])
    hills = np.zeros((SIDE, SIDE), np.uint8)
    xs = np.arange(SIDE)
    for level, tone in ((0.66, 255), (0.76, 255)):
        phase = rng.uniform(0, 6.28)
        ridge = (level + 0.04 * np.sin(xs / SIDE * 9 + phase) + 0.02 * np.sin(xs / SIDE * 23 + phase)) * SIDE
        pts = np.column_stack([xs, ridge]).astype(np.int32)
        pts = np.vstack([pts, [[SIDE - 1, SIDE - 1], [0, SIDE - 1]]])
        cv2.fillPoly(hills, [pts], tone, cv2.LINE_AA)
    silhouette = _rgb(rng, 5, 40)
    a = hills[..., None].astype(np.float32) / 255.0
    return _u8(canvas * (1 - a) + silhouette * a)


def dark_mode(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A dark-mode layout: a product photo and muted coloured type (strongest channel 120-200) on near-black."""
    im = Image.new("RGB", (1080, 1080), tuple(int(c) for c in rng.integers(0, 30, 3)))
    im.paste(photos[int(rng.integers(len(photos)))].convert("RGB").resize((600, 450)), (240, 330))
    ink = tuple(int(c) for c in rng.integers(60, 200, 3))
    draw = ImageDraw.Draw(im)
    draw.text((80, 80), "Night edition", fill=ink, font=_font(96))
    draw.text((80, 880), "from $29", fill=ink, font=_font(72))
    return im


# ------------------------------------------------------------------------------------- photo filters and looks


def _photo(rng: np.random.Generator, photos: list[Image.Image]) -> np.ndarray:
    """A square crop of a photo at its own pixels (up to 1024 px): a filter, not an enlargement, makes the look."""
    im = photos[int(rng.integers(len(photos)))].convert("RGB")
    side = min(SIDE, *im.size)
    x, y = int(rng.integers(0, im.width - side + 1)), int(rng.integers(0, im.height - side + 1))
    return np.asarray(im.crop((x, y, x + side, y + side)), np.float32)


def _luma(a: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an RGB array, 0..1."""
    return a @ np.array([0.299, 0.587, 0.114], np.float32) / 255.0


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(a, (0, 0), sigma) if sigma > 0 else a


def _focus_blend(a: np.ndarray, blur_of: np.ndarray, max_sigma: float) -> np.ndarray:
    """Blur that grows with ``blur_of`` (0 = in focus, 1 = ``max_sigma``), blended between a few blurred copies."""
    sigmas = np.linspace(0.0, max_sigma, 6)
    stack = [_blur(a, s) for s in sigmas]
    pos = np.clip(blur_of, 0.0, 1.0) * (len(sigmas) - 1)
    lo = np.minimum(pos.astype(int), len(sigmas) - 2)
    t = (pos - lo)[..., None]
    out = np.zeros_like(a)
    for k in range(len(sigmas) - 1):
        sel = (lo == k)[..., None]
        out += sel * (stack[k] * (1 - t) + stack[k + 1] * t)
    return out


def _subject(a: np.ndarray, size: tuple[float, float]) -> tuple[float, float]:
    """Where a photographer would focus: the centre (x, y, as fractions) of the ``size`` window (fractions of the
    side) holding the most edge energy, so the sharp region holds the picture's structure, not an empty sky."""
    small = cv2.resize(a.mean(axis=2), (128, 128), interpolation=cv2.INTER_AREA)
    energy = cv2.magnitude(cv2.Sobel(small, cv2.CV_32F, 1, 0), cv2.Sobel(small, cv2.CV_32F, 0, 1))
    kw, kh = max(1, int(size[0] * 128)), max(1, int(size[1] * 128))
    window = cv2.boxFilter(energy, -1, (kw, kh), normalize=True, borderType=cv2.BORDER_CONSTANT)
    lo_x, lo_y = kw // 2, kh // 2
    inner = window[lo_y : 129 - kh + lo_y, lo_x : 129 - kw + lo_x]  # windows wholly inside
    y, x = np.unravel_index(int(np.argmax(inner)), inner.shape)
    return (x + lo_x + 0.5) / 128, (y + lo_y + 0.5) / 128


def tilt_shift(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A tilt-shift look: a sharp horizontal band across the subject, blur growing above and below it (the
    'miniature' effect)."""
    a = _photo(rng, photos)
    y = np.mgrid[0 : a.shape[0], 0 : a.shape[1]][0] / a.shape[0]
    half = rng.uniform(0.08, 0.14)
    centre = _subject(a, (1.0, 2 * half))[1]
    return _u8(_focus_blend(a, (np.abs(y - centre) - half) / 0.3, float(rng.uniform(5, 10)) * a.shape[0] / SIDE))


def portrait_blur(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A phone's portrait mode: a sharp oval around the subject, the rest blurred behind a feathered edge."""
    a = _photo(rng, photos)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    fx, fy = rng.uniform(0.2, 0.3), rng.uniform(0.28, 0.4)
    cx, cy = _subject(a, (2 * fx, 2 * fy))
    rx, ry = w * fx, h * fy
    d = np.sqrt(((xx - w * cx) / rx) ** 2 + ((yy - h * cy) / ry) ** 2)
    return _u8(_focus_blend(a, (d - 1.0) / 0.15, float(rng.uniform(6, 14)) * h / SIDE))


def orton_glow(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """The Orton / 'dreamy' look: a blurred, brightened copy screen-blended over the photo."""
    a = _photo(rng, photos)
    glow = np.clip(_blur(a, float(rng.uniform(10, 25)) * a.shape[0] / SIDE) * 1.1, 0, 255)
    screen = 255.0 - (255.0 - a) * (255.0 - glow) / 255.0
    opacity = float(rng.uniform(0.3, 0.5))
    return _u8(a * (1 - opacity) + screen * opacity)


def film_look(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A film-emulation preset: faded blacks, a warm grade and fine luminance grain (sigma 2-3.5 grey levels)."""
    a = _photo(rng, photos)
    graded = 18.0 + a * 0.9 * np.array([1.04, 1.0, 0.92], np.float32)
    grain = _blur(rng.normal(0.0, 1.0, a.shape[:2]).astype(np.float32), 0.6)
    grain *= float(rng.uniform(2.0, 3.5)) / max(float(grain.std()), 1e-6)
    return _u8(graded + grain[..., None])


def vignette(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A strong vignette: corners darkened to 35-60% of their light."""
    a = _photo(rng, photos)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2) / np.sqrt(2)
    keep = 1.0 - (1.0 - float(rng.uniform(0.35, 0.6))) * np.clip(r, 0, 1) ** 2
    return _u8(a * keep[..., None])


def retouch(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A beauty / product retouch: edge-preserving smoothing (OpenCV's recursive filter) irons out skin, fabric and
    surface texture while keeping the outlines sharp."""
    a = _photo(rng, photos).astype(np.uint8)
    return Image.fromarray(cv2.edgePreservingFilter(a, flags=cv2.RECURS_FILTER, sigma_s=float(rng.uniform(30, 60)),
                                                    sigma_r=float(rng.uniform(0.2, 0.4))))


def painterly(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A painterly filter (OpenCV's stylization): flat washes of colour inside the photo's edges."""
    a = _photo(rng, photos).astype(np.uint8)
    sigma_s, sigma_r = float(rng.uniform(30, 60)), float(rng.uniform(0.3, 0.5))
    return Image.fromarray(cv2.stylization(a, sigma_s=sigma_s, sigma_r=sigma_r))


def hdr_look(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """The 'HDR' look of real-estate and travel ads: local contrast pushed up (OpenCV's detailEnhance)."""
    a = _photo(rng, photos).astype(np.uint8)
    sigma_s, sigma_r = float(rng.uniform(8, 15)), float(rng.uniform(0.1, 0.2))
    return Image.fromarray(cv2.detailEnhance(a, sigma_s=sigma_s, sigma_r=sigma_r))


def oversharpened(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A product photo run through 'sharpen more': an unsharp mask of radius 1-2 px at 100-200% (halos on edges)."""
    a = _photo(rng, photos)
    amount = float(rng.uniform(1.0, 2.0))
    return _u8(a + amount * (a - _blur(a, float(rng.uniform(1.0, 2.0)))))


def mono_contrast(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """Black and white with a strong S-curve (deep blacks, bright whites): an editorial look."""
    y = _luma(_photo(rng, photos))
    k = float(rng.uniform(6, 10))
    curve = 1.0 / (1.0 + np.exp(-k * (y - 0.5)))
    lo, hi = 1.0 / (1.0 + np.exp(k / 2)), 1.0 / (1.0 + np.exp(-k / 2))
    g = 255.0 * (curve - lo) / (hi - lo)
    return _u8(np.repeat(g[..., None], 3, axis=2))


def duotone(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A duotone: the photo's luma mapped from a dark brand colour to a light one (a poster / social-media look)."""
    y = _luma(_photo(rng, photos))[..., None]
    dark, light = _rgb(rng, 10, 90), _rgb(rng, 170, 256)
    return _u8(dark * (1 - y) + light * y)


def posterized(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A pop-art posterization: 3-4 bits a channel, flat bands of colour."""
    a = _photo(rng, photos).astype(np.uint8)
    return ImageOps.posterize(Image.fromarray(a), int(rng.integers(3, 5)))


RENDERS: dict[str, Render] = {
    "glossy product render on a studio backdrop": glossy_product,
    "soft clay shapes on pastel": clay_shapes,
    "neon type on a black wall": neon_on_black,
    "sharp product over bokeh": bokeh_product,
    "sharp product over night lights": night_bokeh_product,
    "pastel mesh gradient": mesh_gradient,
    "blurred colour blobs (gradient wallpaper)": colour_blobs,
    "soft glows on a flat canvas": soft_glows,
    "watercolour washes on paper": watercolour,
    "sunset with silhouette hills": sunset,
    "dark-mode layout, muted type": dark_mode,
    "photo: tilt-shift (sharp band)": tilt_shift,
    "photo: portrait-mode background blur": portrait_blur,
    "photo: Orton glow": orton_glow,
    "photo: film look (faded blacks, fine grain)": film_look,
    "photo: strong vignette": vignette,
    "photo: retouched (edge-preserving smoothing)": retouch,
    "photo: painterly filter": painterly,
    "photo: HDR look (local contrast)": hdr_look,
    "photo: oversharpened (unsharp mask)": oversharpened,
    "photo: black and white, strong S-curve": mono_contrast,
    "photo: duotone": duotone,
    "photo: posterized (3-4 bits)": posterized,
}

"""Clean, well-made creatives of styles that are not natural photographs, rendered here (no licence question).

>>> import numpy as np
>>> img = render_style("gradient", np.random.default_rng(0), (96, 64))
>>> img.size, img.mode
((96, 64), 'RGB')

Every style is a deliberate look an advertiser ships on purpose, so none of them is a quality defect: smooth
gradients, flat illustration, a product on a white or coloured sweep, a well-designed text banner, a night scene with
point lights, and a studio product shot. Photo grades (low-key, high-key, black-and-white, sepia) are applied to real
photos by :func:`grade_photo`. Shapes are drawn at 2x and reduced, so edges are anti-aliased as a design tool draws
them. Also here: :func:`novel_text_overlay`, text overlays in fonts, sizes, rotations and placements that the stock
degradation (``creative4u.data.degrade.text_overlay``) never uses, to measure how the text check generalises.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from creative4u.data.photos import find_cjk_font, latin_fonts

Size = tuple[int, int]
PASTELS = ((244, 226, 216), (214, 234, 248), (227, 242, 222), (250, 240, 200), (236, 224, 246), (255, 255, 255))
BRIGHT = ((230, 57, 70), (29, 53, 87), (69, 123, 157), (42, 157, 143), (233, 196, 106), (244, 162, 97),
          (131, 56, 236), (255, 190, 11), (58, 134, 255), (20, 20, 30))
HEADLINES = ("Summer Collection", "New Arrivals", "Fresh Roast Coffee", "Handmade Leather", "Spring Sale",
             "Organic Skincare", "Made to Last", "Weekend Deals", "Pure Comfort", "Taste the Season")
CJK_HEADLINES = ("夏季新品", "匠心手作", "新鲜烘焙", "自然护肤", "限时优惠", "品质生活")


def _rgb(c: Any) -> tuple[int, int, int]:
    return tuple(int(v) for v in c)[:3]  # type: ignore[return-value]


def _pick(rng: np.random.Generator, options: tuple | list) -> Any:
    return options[int(rng.integers(len(options)))]


def _font(rng: np.random.Generator, size: int, cjk: bool = False, bold: bool = True) -> ImageFont.ImageFont:
    if cjk and (path := find_cjk_font()) is not None:
        return ImageFont.truetype(str(path), size, index=2)
    files = [f for f in latin_fonts() if ("Bold" in f.name) == bold] or latin_fonts()
    return ImageFont.truetype(str(_pick(rng, files)), size) if files else ImageFont.load_default(size)


def _lerp_colours(c0: tuple, c1: tuple, t: np.ndarray) -> np.ndarray:
    return np.asarray(c0, np.float32) * (1 - t[..., None]) + np.asarray(c1, np.float32) * t[..., None]


def _dither(arr: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Float RGB to uint8 with the half-level dither design tools add against banding."""
    noise = rng.uniform(-0.5, 0.5, arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(np.round(arr + noise), 0, 255).astype(np.uint8))


def gradient(rng: np.random.Generator, size: Size) -> Image.Image:
    """A linear or radial two- or three-colour gradient, optionally with one soft glowing shape."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c0, c1, c2 = (np.asarray(_pick(rng, BRIGHT + PASTELS), np.float32) for _ in range(3))
    if rng.random() < 0.5:
        a = rng.uniform(0, math.pi)
        t = (xx * math.cos(a) + yy * math.sin(a)) / (w * abs(math.cos(a)) + h * abs(math.sin(a)))
        t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    else:
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        t = np.clip(np.hypot(xx - cx, yy - cy) / (0.9 * math.hypot(w, h)), 0, 1)
    arr = _lerp_colours(c0, c1, np.clip(2 * t, 0, 1)) if rng.random() < 0.5 else _lerp_colours(c0, c1, t)
    if rng.random() < 0.5:
        arr = np.where((t > 0.5)[..., None], _lerp_colours(c1, c2, np.clip(2 * t - 1, 0, 1)), arr)
    if rng.random() < 0.5:  # one soft glow, as generated art often has
        gx, gy, r = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h, rng.uniform(0.1, 0.3) * max(w, h)
        glow = np.exp(-(((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * r * r)))[..., None]
        arr = arr * (1 - 0.6 * glow) + 255 * 0.6 * glow
    return _dither(arr, rng)


def _shapes(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: Size, n: int, palette: tuple) -> None:
    w, h = size
    for _ in range(n):
        kind = _pick(rng, ("circle", "rect", "triangle", "blob"))
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.06, 0.3) * min(w, h)
        fill = _rgb(_pick(rng, palette))
        if kind == "circle":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
        elif kind == "rect":
            draw.rounded_rectangle((cx - r, cy - 0.6 * r, cx + r, cy + 0.6 * r), radius=r * 0.2, fill=fill)
        elif kind == "triangle":
            a = rng.uniform(0, 2 * math.pi)
            draw.polygon([(cx + r * math.cos(a + k * 2.094), cy + r * math.sin(a + k * 2.094)) for k in range(3)],
                         fill=fill)
        else:
            pts = [(cx + r * (0.7 + 0.3 * rng.random()) * math.cos(k * 0.785),
                    cy + r * (0.7 + 0.3 * rng.random()) * math.sin(k * 0.785)) for k in range(8)]
            draw.polygon(pts, fill=fill)


def flat_illustration(rng: np.random.Generator, size: Size) -> Image.Image:
    """Flat colour shapes on a flat background (vector-illustration style), anti-aliased."""
    big = (size[0] * 2, size[1] * 2)
    palette = tuple(_pick(rng, BRIGHT + PASTELS) for _ in range(4))
    im = Image.new("RGB", big, _rgb(_pick(rng, PASTELS + BRIGHT[:3])))
    _shapes(ImageDraw.Draw(im), rng, big, int(rng.integers(4, 10)), palette)
    return im.resize(size, Image.Resampling.LANCZOS)


def _product(rng: np.random.Generator, size: Size, background: tuple) -> Image.Image:
    """A shaded bottle or box with a soft contact shadow on a plain sweep (a studio product shot)."""
    w, h = size
    big = (w * 2, h * 2)
    im = Image.new("RGB", big, background)
    shadow = Image.new("L", big, 0)
    bw, bh = rng.uniform(0.22, 0.36) * big[0], rng.uniform(0.45, 0.65) * big[1]
    x0, y1 = big[0] / 2 - bw / 2 + rng.uniform(-0.08, 0.08) * big[0], big[1] * rng.uniform(0.78, 0.88)
    ImageDraw.Draw(shadow).ellipse((x0 - 0.1 * bw, y1 - 0.06 * bh, x0 + 1.1 * bw, y1 + 0.06 * bh), fill=150)
    shadow = shadow.filter(ImageFilter.GaussianBlur(big[0] * 0.02))
    dark = Image.new("RGB", big, tuple(int(c * 0.55) for c in background))
    im = Image.composite(dark, im, shadow)
    # The body: horizontal shading across a cylinder (lit from the left), drawn as a gradient strip.
    xs = np.linspace(0, 1, int(bw))
    base = np.asarray(_pick(rng, BRIGHT), np.float32)
    shade = 0.55 + 0.6 * np.sin(np.pi * np.clip(xs * 1.1, 0, 1)) ** 0.7 - 0.25 * xs
    body = np.clip(base[None, None, :] * shade[None, :, None] + 40 * (xs[None, :, None] < 0.18), 0, 255)
    body = np.repeat(body, int(bh), axis=0).astype(np.uint8)
    mask = Image.new("L", (int(bw), int(bh)), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, int(bw) - 1, int(bh) - 1), radius=int(bw * 0.18), fill=255)
    im.paste(Image.fromarray(body), (int(x0), int(y1 - bh)), mask)
    d = ImageDraw.Draw(im)  # label band and cap
    d.rectangle((x0, y1 - 0.62 * bh, x0 + bw, y1 - 0.38 * bh), fill=(245, 245, 240))
    cap = _rgb(_pick(rng, BRIGHT))
    d.rounded_rectangle((x0 + 0.3 * bw, y1 - bh - 0.12 * bh, x0 + 0.7 * bw, y1 - bh + 0.02 * bh), radius=8, fill=cap)
    return im.resize(size, Image.Resampling.LANCZOS)


def product_on_white(rng: np.random.Generator, size: Size) -> Image.Image:
    return _product(rng, size, (255, 255, 255))


def product_on_colour(rng: np.random.Generator, size: Size) -> Image.Image:
    return _product(rng, size, _rgb(_pick(rng, PASTELS[:5] + BRIGHT[:4])))


def banner(rng: np.random.Generator, size: Size) -> Image.Image:
    """A designed banner: gradient or flat background, shapes, a headline, a sub-line and a call-to-action button."""
    im = gradient(rng, size) if rng.random() < 0.5 else flat_illustration(rng, size)
    w, h = size
    d = ImageDraw.Draw(im)
    cjk = rng.random() < 0.35 and find_cjk_font() is not None
    text = _pick(rng, CJK_HEADLINES if cjk else HEADLINES)
    font = _font(rng, int(h * rng.uniform(0.09, 0.14)), cjk=cjk)
    box = d.textbbox((0, 0), text, font=font)
    while box[2] - box[0] > 0.9 * w and font.size > 10:
        font = _font(rng, int(font.size * 0.85), cjk=cjk)
        box = d.textbbox((0, 0), text, font=font)
    x, y = (w - (box[2] - box[0])) / 2, h * rng.uniform(0.12, 0.3)
    light = np.asarray(im.crop((int(x), int(y), int(x + box[2]), int(y + box[3])))).mean() > 140
    ink = (25, 25, 35) if light else (255, 255, 255)
    d.text((x, y), text, font=font, fill=ink)
    small = _font(rng, max(10, int(font.size * 0.4)), bold=False)
    d.text((w * 0.5, y + 1.4 * font.size), "Free delivery from 30 EUR", font=small, fill=ink, anchor="mt")
    bx, by = w * 0.5, h * rng.uniform(0.7, 0.82)
    d.rounded_rectangle((bx - 0.18 * w, by - 0.05 * h, bx + 0.18 * w, by + 0.05 * h), radius=int(0.03 * h),
                        fill=_rgb(_pick(rng, BRIGHT)))
    d.text((bx, by), "Shop now", font=_font(rng, max(10, int(0.045 * h))), fill=(255, 255, 255), anchor="mm")
    return im


def night(rng: np.random.Generator, size: Size) -> Image.Image:
    """A night skyline: a deep blue sky, black building silhouettes and lit windows and street lamps with glow."""
    w, h = size
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    sky = _lerp_colours((8, 10, 30), (40, 40, 80), yy)
    im = _dither(sky, rng)
    d = ImageDraw.Draw(im)
    x = 0.0
    lights = Image.new("RGB", size, (0, 0, 0))
    ld = ImageDraw.Draw(lights)
    while x < w:
        bw, top = rng.uniform(0.05, 0.15) * w, rng.uniform(0.3, 0.75) * h
        d.rectangle((x, top, x + bw, h), fill=(6, 6, 10))
        for wy in np.arange(top + 6, h - 6, max(4.0, 0.03 * h)):
            for wx in np.arange(x + 3, x + bw - 3, max(4.0, 0.025 * w)):
                if rng.random() < 0.35:
                    ld.rectangle((wx, wy, wx + 2, wy + 3), fill=_rgb(_pick(rng, ((255, 220, 150), (255, 245, 220)))))
        x += bw + rng.uniform(0, 0.02) * w
    for _ in range(int(rng.integers(2, 6))):  # street lamps
        lx, ly, r = rng.uniform(0, w), rng.uniform(0.75, 0.92) * h, 0.012 * w
        ld.ellipse((lx - r, ly - r, lx + r, ly + r), fill=(255, 236, 180))
    glow = lights.filter(ImageFilter.GaussianBlur(0.02 * w))
    arr = np.asarray(im, np.float32) + np.asarray(lights, np.float32) + 1.5 * np.asarray(glow, np.float32)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


STYLES: dict[str, Callable[[np.random.Generator, Size], Image.Image]] = {
    "gradient": gradient, "flat_illustration": flat_illustration, "product_on_white": product_on_white,
    "product_on_colour": product_on_colour, "banner": banner, "night": night,
}


def render_style(style: str, rng: np.random.Generator, size: Size = (640, 640)) -> Image.Image:
    """One rendered creative of ``style`` (a key of :data:`STYLES`); an unknown style lists the valid ones."""
    if style not in STYLES:
        raise KeyError(f"unknown style {style!r}; valid: {', '.join(STYLES)}")
    return STYLES[style](rng, size)


# --------------------------------------------------------------------------------------------------- photo grades
def _to_linear(a: np.ndarray) -> np.ndarray:
    a = a / 255.0
    return np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)


def _to_srgb(a: np.ndarray) -> np.ndarray:
    a = np.clip(a, 0, 1)
    return 255 * np.where(a <= 0.0031308, 12.92 * a, 1.055 * a ** (1 / 2.4) - 0.055)


def grade_photo(img: Image.Image, grade: str, rng: np.random.Generator) -> Image.Image:
    """A deliberate photographic look: ``low_key`` (a pool of light, the rest falls to near-black with highlights
    kept), ``high_key`` (bright, airy tones from a lifting curve that clips nothing), ``mono`` (black-and-white with
    a contrast curve) or ``sepia``.

    >>> g = grade_photo(Image.new("RGB", (32, 32), (120, 80, 40)), "mono", np.random.default_rng(0))
    >>> len(set(g.getpixel((3, 3))))
    1
    """
    a = np.asarray(img.convert("RGB"), np.float32)
    h, w = a.shape[:2]
    if grade == "low_key":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
        light = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (rng.uniform(0.18, 0.3) * max(w, h)) ** 2))
        lin = _to_linear(a) * (0.06 + 1.1 * light)[..., None]
        return Image.fromarray(_to_srgb(lin).astype(np.uint8))
    if grade == "high_key":
        t = a / 255.0
        lifted = 1 - (1 - t) ** rng.uniform(1.8, 2.4)  # strong lift, slope 0 at white: nothing new clips
        return Image.fromarray(np.clip(255 * lifted, 0, 255).astype(np.uint8))
    y = a @ np.array([0.299, 0.587, 0.114], np.float32)
    y = 255 / (1 + np.exp(-(y / 255 - 0.5) * rng.uniform(4.5, 6.5)))  # an S-curve, as B&W conversions use
    y = (y - y.min()) / max(float(y.max() - y.min()), 1) * 255
    if grade == "mono":
        return Image.fromarray(np.repeat(y[..., None], 3, axis=2).astype(np.uint8))
    if grade == "sepia":
        tint = np.array([1.0, 0.86, 0.66], np.float32)
        return Image.fromarray(np.clip(y[..., None] * tint + np.array([12, 6, 0]), 0, 255).astype(np.uint8))
    raise KeyError(f"unknown grade {grade!r}; valid: low_key, high_key, mono, sepia")


# ------------------------------------------------------------------------------------- unseen text overlay styles
NOVEL_TEXT_STYLES = ("sticker", "corner_watermark", "caption", "cjk_vertical", "diagonal_watermark", "price_tag")


def novel_text_overlay(img: Image.Image, rng: np.random.Generator,
                       style: str | None = None) -> tuple[Image.Image, dict[str, Any]]:
    """Overlay text in a style the stock overlays do not use: a rotated round sticker, a small translucent corner
    watermark, a thin caption line, vertical CJK, one big translucent diagonal watermark, a tilted price tag.

    >>> out, p = novel_text_overlay(Image.new("RGB", (200, 200), "gray"), np.random.default_rng(0), "caption")
    >>> p["style"], out.size
    ('caption', (200, 200))
    """
    style = style or _pick(rng, NOVEL_TEXT_STYLES)
    w, h = img.size
    base = img.convert("RGBA")
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    ld = ImageDraw.Draw(layer)
    fill = _rgb(_pick(rng, ((255, 255, 255), (20, 20, 20), (255, 214, 0), (230, 30, 60))))
    dark = sum(fill) < 300
    outline = (255, 255, 255, 255) if dark else (0, 0, 0, 255)
    if style == "sticker":
        r = int(rng.uniform(0.11, 0.17) * min(w, h))
        tile = Image.new("RGBA", (2 * r, 2 * r), (0, 0, 0, 0))
        td = ImageDraw.Draw(tile)
        td.ellipse((0, 0, 2 * r - 1, 2 * r - 1), fill=_rgb(_pick(rng, BRIGHT)) + (255,))
        f = _font(rng, int(r * 0.5))
        td.text((r, r * 0.8), _pick(rng, ("-30%", "SALE", "NEW", "HOT")), font=f, fill=(255, 255, 255), anchor="mm")
        td.text((r, r * 1.35), "today", font=_font(rng, int(r * 0.28), bold=False), fill=(255, 255, 255),
                anchor="mm")
        tile = tile.rotate(rng.uniform(-30, 30), Image.Resampling.BICUBIC, expand=True)
        layer.alpha_composite(tile, (int(rng.uniform(0.05, 0.95) * (w - tile.width)),
                                     int(rng.uniform(0.05, 0.95) * (h - tile.height))))
    elif style == "corner_watermark":
        f = _font(rng, int(rng.uniform(0.035, 0.06) * h), bold=rng.random() < 0.5)
        text = _pick(rng, ("© studio-lumen.com", "@handmade.shop", "PHOTO BY K. ILLES", "www.deals-store.net"))
        x, y = (w * 0.97, h * 0.96) if rng.random() < 0.5 else (w * 0.97, h * 0.06)
        ld.text((x, y), text, font=f, fill=fill + (int(rng.uniform(110, 180)),), anchor="rb" if y > h / 2 else "rt")
    elif style == "caption":
        f = _font(rng, int(rng.uniform(0.03, 0.05) * h), bold=False)
        text = _pick(rng, ("Handmade in Portugal from 100% organic cotton", "Available in five colours, free returns",
                           "Limited edition - while stocks last", "Serve chilled. Best before the end of summer"))
        y = h * rng.uniform(0.86, 0.94)
        ld.text((w / 2, y), text, font=f, fill=fill + (255,), anchor="mm", stroke_width=1, stroke_fill=outline)
    elif style == "cjk_vertical":
        f = _font(rng, int(rng.uniform(0.06, 0.09) * h), cjk=True)
        text = _pick(rng, ("限时特价", "新品上市", "买一送一", "今日特惠", "正品保证"))
        x, y = w * rng.uniform(0.08, 0.9), h * rng.uniform(0.08, 0.25)
        for i, ch in enumerate(text):
            ld.text((x, y + i * f.size * 1.1), ch, font=f, fill=fill + (255,), stroke_width=2, stroke_fill=outline)
    elif style == "diagonal_watermark":
        f = _font(rng, int(rng.uniform(0.1, 0.16) * h))
        text = _pick(rng, ("PREVIEW", "SAMPLE", "COPYRIGHT", "DRAFT"))
        tile = Image.new("RGBA", (w * 2, h), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((w, h / 2), text, font=f, fill=fill + (int(rng.uniform(70, 120)),), anchor="mm")
        tile = tile.rotate(rng.uniform(25, 45), Image.Resampling.BICUBIC, expand=True)
        layer.alpha_composite(tile.crop(((tile.width - w) // 2, (tile.height - h) // 2,
                                         (tile.width - w) // 2 + w, (tile.height - h) // 2 + h)))
    elif style == "price_tag":
        f = _font(rng, int(rng.uniform(0.07, 0.1) * h))
        text = _pick(rng, ("$24.90", "€ 9,99", "¥199", "NOW 15.-"))
        box = ImageDraw.Draw(layer).textbbox((0, 0), text, font=f)
        tw, th = box[2] - box[0] + 24, box[3] - box[1] + 18
        tile = Image.new("RGBA", (tw, th), (0, 0, 0, 0))
        tag = _rgb(_pick(rng, BRIGHT)) + (255,)
        ImageDraw.Draw(tile).rounded_rectangle((0, 0, tw - 1, th - 1), radius=8, fill=tag)
        ImageDraw.Draw(tile).text((12 - box[0], 9 - box[1]), text, font=f, fill=(255, 255, 255))
        tile = tile.rotate(rng.uniform(-20, 20), Image.Resampling.BICUBIC, expand=True)
        layer.alpha_composite(tile, (int(rng.uniform(0.05, 0.95) * max(1, w - tile.width)),
                                     int(rng.uniform(0.05, 0.95) * max(1, h - tile.height))))
    else:
        raise KeyError(f"unknown text style {style!r}; valid: {', '.join(NOVEL_TEXT_STYLES)}")
    ink = float((np.asarray(layer.getchannel("A")) > 64).mean())
    return Image.alpha_composite(base, layer).convert("RGB"), {"style": style, "ink_coverage": round(ink, 4)}

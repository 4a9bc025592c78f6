"""Text overlays in fonts, phrases and placements the text check never saw: captions, corner marks, stickers,
headlines in display and script faces, CJK columns.

    sudo apt-get install fonts-urw-base35 fonts-lato fonts-open-sans fonts-roboto-unhinted fonts-lobster \\
        fonts-comic-neue fonts-wqy-microhei fonts-arphic-ukai fonts-bebas-neue fonts-dancingscript \\
        fonts-ipafont-gothic fonts-linuxlibertine fonts-inter fonts-cantarell
    python benchmarks/eval_text_styles.py                      # 24 clean images from each untuned split
    python benchmarks/eval_text_styles.py --per-split 40 --json text_styles.json

The clean set (:mod:`creative4u.data.degrade`) draws its overlays in DejaVu and Noto Sans CJK with its own phrases,
18-50% of the canvas. Here each style uses only the fonts above (none of them on the machine when the text check
was tuned; a style whose fonts are all missing is skipped with a note) and phrases of its own, at the sizes a
designer would pick: a caption line, a thin caption, a corner copyright mark, a faint diagonal watermark, a price
sticker, a two-line headline, a vertical CJK column and a CJK caption. Each is drawn on clean images of the splits no
threshold was tuned on and screened by the text check at the profile's threshold; the clean images give its
false-flag rate. Nothing here was used to tune a check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from eval_renderings import common_parser, run_rows
from PIL import Image, ImageDraw, ImageFont

FONT_ROOT = Path("/usr/share/fonts")
# Faces by role, as paths under FONT_ROOT (Debian's packages, see the docstring).
SANS = ("opentype/inter/Inter-SemiBold.otf", "truetype/lato/Lato-Bold.ttf", "truetype/open-sans/OpenSans-Bold.ttf",
        "truetype/roboto/unhinted/RobotoTTF/Roboto-Medium.ttf", "opentype/cantarell/Cantarell-Bold.otf",
        "opentype/urw-base35/NimbusSans-Bold.otf")
THIN = ("opentype/inter/Inter-Light.otf", "truetype/lato/Lato-Light.ttf", "opentype/cantarell/Cantarell-Light.otf",
        "truetype/open-sans/OpenSans-Light.ttf", "truetype/roboto/unhinted/RobotoTTF/Roboto-Light.ttf")
SERIF = ("opentype/linux-libertine/LinLibertine_R.otf", "opentype/urw-base35/C059-Roman.otf",
         "opentype/urw-base35/P052-Roman.otf", "opentype/urw-base35/URWBookman-Light.otf")
DISPLAY = ("opentype/bebas-neue/BebasNeue-Bold.otf", "opentype/lobster/lobster.otf",
           "opentype/dancingscript/DancingScript-Bold.otf", "opentype/comic-neue/ComicNeue-Bold.otf",
           "opentype/urw-base35/Z003-MediumItalic.otf")
CJK = ("truetype/wqy/wqy-microhei.ttc", "truetype/arphic/ukai.ttc")  # Chinese faces (kana in microhei too)
JAPANESE = ("opentype/ipafont-gothic/ipag.ttf", "truetype/wqy/wqy-microhei.ttc")

CAPTIONS = ("Free delivery on orders over $50", "Handmade in Portugal", "New season, new colours",
            "Now with 2-year warranty", "Shop the summer collection", "Order by 6 pm, get it tomorrow")
MARKS = ("© Northwind Studio", "© 2026 Lumen & Co.", "shop.northwind.example", "@lumen.official", "Photo: A. Moreau")
STICKERS = ("-30%", "$24", "NEW", "2+1", "€9.99", "HOT")
HEADLINES = (("Summer", "Essentials"), ("Made to", "Last"), ("Weekend", "Deals"), ("Fresh", "Picks"),
             ("Only the", "Best"))
CHINESE_WORDS = ("全场包邮", "限量发售", "夏季新品", "今日秒杀")
JAPANESE_WORDS = ("期間限定", "送料無料", "人気商品", "本日限り")


def _cjk(rng: np.random.Generator, size: int) -> tuple[str, ImageFont.FreeTypeFont, str]:
    """A Chinese or Japanese word, a face that has its glyphs, and a second word of the same language."""
    words, faces = (CHINESE_WORDS, CJK) if rng.integers(2) else (JAPANESE_WORDS, JAPANESE)
    return str(_pick(rng, words)), _font(faces, size, rng), str(_pick(rng, words))

Style = Callable[[Image.Image, np.random.Generator], Image.Image]


def _fonts(role: tuple[str, ...]) -> list[Path]:
    return [FONT_ROOT / p for p in role if (FONT_ROOT / p).is_file()]


def _font(role: tuple[str, ...], size: int, rng: np.random.Generator) -> ImageFont.FreeTypeFont:
    files = _fonts(role)
    return ImageFont.truetype(str(files[int(rng.integers(len(files)))]), max(8, size))


def _pick(rng: np.random.Generator, options: tuple) -> object:
    return options[int(rng.integers(len(options)))]


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: float) -> ImageFont.FreeTypeFont:
    """The font shrunk until ``text`` fits ``width`` px."""
    while font.size > 8 and draw.textlength(text, font=font) > width:
        font = font.font_variant(size=max(8, int(font.size * 0.9)))
    return font


def _ink_for(im: Image.Image, box: tuple[int, int, int, int]) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Text and outline colours a designer would pick for that patch: white on dark, near-black on light."""
    patch = np.asarray(im.convert("L").crop(box), np.float32)
    dark = patch.size == 0 or float(patch.mean()) < 140
    return ((255, 255, 255), (20, 20, 20)) if dark else ((24, 24, 24), (240, 240, 240))


def caption(im: Image.Image, rng: np.random.Generator, thin: bool = False) -> Image.Image:
    """One line along the bottom, 5% of the height (3.5% in a light face for ``thin``), no box."""
    out, (w, h) = im.copy(), im.size
    draw = ImageDraw.Draw(out)
    text = str(_pick(rng, CAPTIONS))
    font = _fit(draw, text, _font(THIN if thin else SANS + SERIF, round(h * (0.035 if thin else 0.05)), rng), 0.9 * w)
    tw = draw.textlength(text, font=font)
    x, y = (w - tw) / 2, h - 2.2 * font.size
    fill, edge = _ink_for(out, (int(x), int(y), int(x + tw), int(y + font.size * 1.2)))
    draw.text((x, y), text, font=font, fill=fill, stroke_width=0 if thin else max(1, font.size // 16),
              stroke_fill=edge)
    return out


def corner_mark(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A copyright or handle mark in a corner, 4% of the height, at 60% opacity."""
    base, (w, h) = im.convert("RGBA"), im.size
    layer = Image.new("RGBA", im.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    text = str(_pick(rng, MARKS))
    font = _fit(draw, text, _font(SANS + THIN, round(h * 0.04), rng), 0.5 * w)
    tw = draw.textlength(text, font=font)
    right = bool(rng.integers(2))
    x, y = (w - tw - 0.03 * w) if right else 0.03 * w, h - 1.8 * font.size
    fill, _ = _ink_for(im, (int(x), int(y), int(x + tw), int(y + font.size)))
    draw.text((x, y), text, font=font, fill=fill + (153,))
    return Image.alpha_composite(base, layer).convert("RGB")


def diagonal_watermark(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """One large word or brand across the middle at 30 degrees, 35% opacity (a single mark, not a tiled grid)."""
    w, h = im.size
    text = str(_pick(rng, ("NORTHWIND", "LUMEN & CO", "PROOF", "DRAFT")))
    font = _font(SANS + SERIF, round(h * 0.13), rng)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    font = _fit(probe, text, font, 0.8 * math.hypot(w, h) * 0.7)
    left, top, right, bottom = font.getbbox(text)
    tile = Image.new("RGBA", (right - left + 4, bottom - top + 4), (0, 0, 0, 0))
    fill, _ = _ink_for(im, (w // 4, h // 4, 3 * w // 4, 3 * h // 4))
    ImageDraw.Draw(tile).text((2 - left, 2 - top), text, font=font, fill=fill + (90,))
    tile = tile.rotate(30, expand=True, resample=Image.Resampling.BICUBIC)
    base = im.convert("RGBA")
    base.alpha_composite(tile, ((w - tile.width) // 2 if tile.width < w else 0,
                                (h - tile.height) // 2 if tile.height < h else 0))
    return base.convert("RGB")


def sticker(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A round price or offer badge in a corner, 20% of the shorter side across."""
    out, (w, h) = im.copy(), im.size
    draw = ImageDraw.Draw(out)
    d = round(0.2 * min(w, h))
    x0 = round(0.04 * w) if rng.integers(2) else w - d - round(0.04 * w)
    y0 = round(0.04 * h)
    colour = _pick(rng, ((220, 30, 40), (250, 200, 20), (20, 120, 220), (30, 160, 80)))
    draw.ellipse((x0, y0, x0 + d, y0 + d), fill=colour, outline=(255, 255, 255), width=max(1, d // 30))
    text = str(_pick(rng, STICKERS))
    font = _fit(draw, text, _font(DISPLAY[:1] + SANS, round(d * 0.38), rng), 0.8 * d)
    ink = (20, 20, 20) if sum(colour) > 450 else (255, 255, 255)
    draw.text((x0 + d / 2, y0 + d / 2), text, font=font, fill=ink, anchor="mm")
    return out


def headline(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Two lines in a display or script face in the top third, 8% of the height each, with a soft shadow."""
    out, (w, h) = im.copy(), im.size
    draw = ImageDraw.Draw(out)
    lines = _pick(rng, HEADLINES)
    font = _font(DISPLAY, round(h * 0.08), rng)
    for line in lines:
        font = _fit(draw, line, font, 0.8 * w)
    left = bool(rng.integers(2))
    for i, line in enumerate(lines):
        tw = draw.textlength(line, font=font)
        x, y = (0.06 * w if left else (w - tw) / 2), 0.06 * h + i * 1.15 * font.size
        fill, edge = _ink_for(out, (int(x), int(y), int(x + tw), int(y + font.size)))
        draw.text((x + 2, y + 2), line, font=font, fill=edge)
        draw.text((x, y), line, font=font, fill=fill)
    return out


def cjk_column(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Four CJK characters in a vertical column near a side edge, 6% of the height each."""
    out, (w, h) = im.copy(), im.size
    draw = ImageDraw.Draw(out)
    size = max(10, round(h * 0.06))
    word, font, _ = _cjk(rng, size)
    x = 0.05 * w if rng.integers(2) else w - 0.05 * w - size
    y0 = (h - 1.1 * size * len(word)) / 2
    fill, edge = _ink_for(out, (int(x), int(y0), int(x + size), int(y0 + 1.1 * size * len(word))))
    for i, ch in enumerate(word):
        draw.text((x, y0 + i * 1.1 * size), ch, font=font, fill=fill, stroke_width=1, stroke_fill=edge)
    return out


def cjk_caption(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A CJK phrase on a translucent strip along the bottom, 5% of the height."""
    base, (w, h) = im.convert("RGBA"), im.size
    layer = Image.new("RGBA", im.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    first, font, second = _cjk(rng, round(h * 0.05))
    word = f"{first} {second}"
    font = _fit(draw, word, font, 0.85 * w)
    draw.rectangle((0, h - 2.2 * font.size, w, h - 0.4 * font.size), fill=(0, 0, 0, 110))
    draw.text((w / 2, h - 1.3 * font.size), word, font=font, fill=(255, 255, 255, 255), anchor="mm")
    return Image.alpha_composite(base, layer).convert("RGB")


STYLES: dict[str, tuple[tuple[str, ...], Style]] = {
    "caption, 5% of the height": (SANS + SERIF, caption),
    "thin caption, 3.5%, light face": (THIN, lambda im, rng: caption(im, rng, thin=True)),
    "corner mark, 4%, 60% opacity": (SANS + THIN, corner_mark),
    "diagonal watermark, one word, 35% opacity": (SANS + SERIF, diagonal_watermark),
    "price sticker, 20% badge": (SANS, sticker),
    "headline, display or script face, 2 lines": (DISPLAY, headline),
    "CJK column, 4 characters": (CJK, cjk_column),
    "CJK caption on a translucent strip": (CJK, cjk_caption),
}


def renderings() -> dict[str, tuple[str, tuple[str, ...], Callable[[Image.Image], Image.Image]]]:
    """The styles whose fonts are installed, as eval_renderings rows (a per-picture seed keeps them repeatable)."""
    rows = {}
    for name, (role, style) in STYLES.items():
        if not _fonts(role):
            print(f"note: no font of '{name}' under {FONT_ROOT}: skipped (see the docstring's apt-get line)")
            continue

        def render(im: Image.Image, style: Style = style) -> Image.Image:
            return style(im, np.random.default_rng(int(np.asarray(im)[::9, ::9].sum())))
        rows[f"text: {name}"] = ("text", ("text",), render)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--save", type=Path, help="also save each rendering of the first 3 images here (PNG)")
    args = parser.parse_args(argv)
    rows = renderings()
    if not rows:
        parser.error("no style can run: install the fonts of the docstring's apt-get line")
    return run_rows(parser, args, rows, (lambda images: _save(images[:3], rows, args.save)) if args.save else None)


def _save(images: list[tuple[str, Path]], rows: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, (_, path) in enumerate(images):
        with Image.open(path) as im:
            original = im.convert("RGB")
        for j, (_, _, render) in enumerate(rows.values()):
            render(original).save(folder / f"{i}-{j}.png")


if __name__ == "__main__":
    raise SystemExit(main())

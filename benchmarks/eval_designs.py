"""Everyday e-commerce designs drawn here, screened by the default profile: none of them is a defect, so every flag is
a false one.

    python benchmarks/eval_designs.py                    # 24 of each design and render
    python benchmarks/eval_designs.py --per-design 48 --seed 1 --json designs.json
    python benchmarks/eval_designs.py --families renders --photos DIR   # the renders, on your own photos
    python benchmarks/eval_designs.py --each-photo --photos untuned      # each photo look on 120 untuned pictures

The clean set's styles come from wallpapers, photos, clip art and rendered banners; the layouts a designer makes in a
minute are thin in it. Each design family is drawn with random colours and sizes (seeded) and saved as JPEG q88:

* a product photo on a brand-colour canvas with one channel at 255 (pure red, 255/200/0 yellow, 0/120/255 blue);
* black type and a black shape on a coloured canvas, and white type on one;
* a grid of rounded icons on white, and a grid of product photos on a plain canvas (a collage);
* a shop's product card (photo, title, price, button on a white or near-white card with square or rounded corners)
  on a light grey or pale tinted canvas: partly vetoed by the border check still (``KNOWN_VETOED``, pass 18).

``--families renders`` draws generator-style creatives instead (``design_renders.py``): glossy product renders with a
clipped specular, soft clay shapes, neon on black, a sharp product over bokeh or night lights, pastel mesh gradients,
wallpapers of blurred colour blobs and of soft glows (both with nothing crisp: partly vetoed by sharpness,
``KNOWN_VETOED``, pass 19), watercolour washes, sunsets, a dark-mode layout, and photos given a look (tilt-shift,
portrait-mode background blur, Orton glow, a film preset, a vignette, a retouch's edge-preserving smoothing, a
painterly filter, an HDR look, an unsharp mask, black and white with an S-curve, a duotone, a posterization), focused
where the photo's structure is; ``--families all`` draws both. ``--each-photo`` applies every photo look once to each
photo of ``--photos`` (``untuned``: the clean set's 120 untuned pictures), after an "as shot" row of the same crops, so
a look's vetoes read against the photos' own.

Pass 13 of issue 14 found the first three families flagged (overexposed, underexposed, border and compression
vetoes) and fixed them, with these families as its probe; pass 14 added the renders and found tilt-shift photos
vetoed as blurred (sharpness v9 reads a focus fall-off as depth of field); the rows are reported as measured.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from design_renders import RENDERS, _font, _photo, _u8  # beside this script (on the path when it runs)
from PIL import Image, ImageDraw, ImageFilter

PHOTOS = (".jpg", ".jpeg", ".png", ".webp")
Design = Callable[[np.random.Generator, list[Image.Image]], Image.Image]


def _colour(rng: np.random.Generator, low: int = 0, high: int = 256) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(low, high, 3))


def brand_canvas(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A product photo on a saturated canvas with one channel at 255, a headline in black or white."""
    paint = list(_colour(rng))
    paint[int(rng.integers(0, 3))] = 255
    im = Image.new("RGB", (900, 900), tuple(paint))
    im.paste(photos[int(rng.integers(len(photos)))].resize((450, 338)), (225, 300))
    ink = (0, 0, 0) if sum(paint) >= 500 else (255, 255, 255)
    ImageDraw.Draw(im).text((40, 40), "SALE -30%", fill=ink, font=_font(90))
    return im


def black_on_colour(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """Black type and a black disc on a light or mid colour (150-255 per channel)."""
    im = Image.new("RGB", (900, 700), _colour(rng, 150))
    draw = ImageDraw.Draw(im)
    draw.ellipse((300, 200, 600, 500), fill=(0, 0, 0))
    draw.text((40, 40), "NEW SEASON", fill=(0, 0, 0), font=_font(80))
    return im


def white_on_colour(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """White type and a white button on a mid or dark colour (0-200 per channel)."""
    im = Image.new("RGB", (1200, 628), _colour(rng, 0, 200))
    draw = ImageDraw.Draw(im)
    draw.text((60, 60), "Free delivery", fill=(255, 255, 255), font=_font(110))
    draw.rounded_rectangle((60, 450, 460, 560), 24, fill=(255, 255, 255))
    return im


def icon_grid(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A 2 x 2 to 4 x 4 grid of rounded icons on white, the icons 50-70% of their cell."""
    n, frac = int(rng.integers(2, 5)), float(rng.choice([0.5, 0.6, 0.7]))
    im = Image.new("RGB", (900, 900), "white")
    draw = ImageDraw.Draw(im)
    cell, size = 900 // n, int(900 // n * frac)
    for k in range(n * n):
        cx, cy = cell // 2 + cell * (k % n), cell // 2 + cell * (k // n)
        box = (cx - size // 2, cy - size // 2, cx + size // 2, cy + size // 2)
        draw.rounded_rectangle(box, size // 6, fill=_colour(rng, 0, 200))
    return im


def photo_grid(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A 2 x 2 or 3 x 3 collage of product photos on a plain canvas with equal margins and gutters."""
    n, margin, gutter = int(rng.integers(2, 4)), int(rng.integers(0, 60)), int(rng.integers(10, 40))
    canvas = (255, 255, 255) if rng.random() < 0.5 else _colour(rng)
    im = Image.new("RGB", (900, 900), canvas)
    cell = (900 - 2 * margin - (n - 1) * gutter) // n
    for k in range(n * n):
        im.paste(photos[k % len(photos)].resize((cell, cell)),
                 (margin + (k % n) * (cell + gutter), margin + (k // n) * (cell + gutter)))
    return im


def product_card(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """A shop's product card (a catalog-ad template): a white or near-white card on a light grey or pale tinted canvas,
    square, landscape or portrait, with a thin outline, a soft shadow or no edge line, square or rounded corners,
    holding a product photo (inset, or edge to edge along the card's top), its title, a price and a button."""
    w, h = ((900, 900), (1080, 1080), (1200, 628), (1080, 1350))[int(rng.integers(4))]
    grey = int(rng.integers(236, 251))
    canvas = (grey,) * 3 if rng.random() < 0.6 else tuple(int(c) for c in rng.integers(236, 253, 3))
    im = Image.new("RGB", (w, h), canvas)
    mx, my = int(w * rng.uniform(0.06, 0.14)), int(h * rng.uniform(0.05, 0.10))
    box, radius = (mx, my, w - mx, h - my), int(rng.integers(0, 33))
    card = (int(rng.integers(252, 256)),) * 3
    edge = ("outline", "shadow", "none")[int(rng.integers(3))]
    if edge == "shadow":
        shade = Image.new("L", (w, h), 0)
        ImageDraw.Draw(shade).rounded_rectangle((mx + 4, my + 8, w - mx + 4, h - my + 8), radius, fill=40)
        shade = shade.filter(ImageFilter.GaussianBlur(10))
        im = Image.composite(Image.new("RGB", (w, h), (0, 0, 0)), im, shade)
    draw = ImageDraw.Draw(im)
    outline = (int(rng.integers(205, 231)),) * 3 if edge == "outline" else None
    draw.rounded_rectangle(box, radius, fill=card, outline=outline, width=int(rng.integers(1, 3)))
    cw, ch = w - 2 * mx, h - 2 * my
    pad = 0 if rng.random() < 0.3 else int(cw * 0.08)  # a photo edge to edge along the card's top, or inset
    ph = int(ch * 0.55)
    photo = photos[int(rng.integers(len(photos)))].resize((cw - 2 * pad - (0 if pad else 2 * radius), ph))
    im.paste(photo, (mx + pad + (0 if pad else radius), my + (pad or radius)))
    x, y, size = mx + max(pad, int(cw * 0.08)), my + (pad or radius) + ph, max(18, ch // 24)
    draw.text((x, y + size), "Organic cappuccino 250 g", fill=(30, 30, 30), font=_font(size))
    draw.text((x, y + int(2.6 * size)), "$12.90", fill=_colour(rng, 0, 180), font=_font(int(size * 1.3)))
    draw.rounded_rectangle((x, y + int(4.4 * size), w - x, y + int(6.2 * size)), size // 2, fill=_colour(rng, 0, 180))
    return im


DESIGNS: dict[str, Design] = {
    "product on a brand-colour canvas (a channel at 255)": brand_canvas,
    "black type and shape on colour": black_on_colour,
    "white type and button on colour": white_on_colour,
    "grid of rounded icons on white": icon_grid,
    "collage of product photos": photo_grid,
    "product card on a light canvas": product_card,
}
# Families the default profile still vetoes, with the reason (reported as measured; the tests hold every other
# family to no veto). A card whose corners are rounded by ~10 px or more at the picture's own size is a layout
# (border v17); one with square or slightly rounded corners is geometrically a matted picture in a frame, and a card
# within 5 grey levels of its page leaves only its content's block; see benchmarks/README.md, pass 18.
KNOWN_VETOED = {"product card on a light canvas": "border: a card with square or slightly rounded corners, or of "
                "nearly its page's paint, reads as a frame",
                # Pass 19: nothing crisp anywhere. Blurred colour is what a heavily blurred photo is too: sparing
                # these (a few isolated soft steps, or shapes with no step, not read as blur) took PIL's Gaussian
                # blur of 3% / 5% of the side from 86.7 / 76.7% to 21.7 / 0% caught (eval_renderings.py).
                "blurred colour blobs (gradient wallpaper)": "sharpness: nothing crisp anywhere, as in a heavily "
                "blurred photo",
                "soft glows on a flat canvas": "sharpness: a JPEG's block contours in the glows read as a few soft "
                "edges, nothing crisp beside them"}


def _families(which: str) -> dict[str, Design]:
    chosen = {"designs": DESIGNS, "renders": RENDERS, "all": {**DESIGNS, **RENDERS}}
    if which not in chosen:
        raise ValueError(f"unknown families {which!r}: choose from {sorted(chosen)}")
    return chosen[which]


def load_photos(photo_dir: Path | str | None) -> list[Image.Image]:
    """The photos the designs and looks use: skimage's coffee, astronaut, chelsea and rocket (None), the clean set's
    120 untuned pictures that ``eval_renderings.py`` draws (``"untuned"``), or every picture in a folder."""
    if photo_dir is None:
        from skimage import data

        return [Image.fromarray(getattr(data, n)()) for n in ("coffee", "astronaut", "chelsea", "rocket")]
    if str(photo_dir) == "untuned":
        from eval_renderings import clean_images  # beside this script

        paths = [p for _, p in clean_images(24, 0)]
    else:
        paths = [p for p in sorted(Path(photo_dir).glob("*")) if p.suffix.lower() in PHOTOS]
    if not paths:
        raise ValueError(f"no JPEG / PNG / WebP pictures in {photo_dir} (untuned: build the clean set first)")
    return [_rgb_of(p) for p in paths]


def _rgb_of(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


def as_shot(rng: np.random.Generator, photos: list[Image.Image]) -> Image.Image:
    """The photo with no look, framed as the looks frame it (a square crop at its own pixels): the baseline row of
    ``--each-photo``, so a look's row reads what the look adds."""
    return _u8(_photo(rng, photos))


def _drawings(draw: Design, photos: list[Image.Image], per_design: int, seed: int,
              each_photo: bool) -> Iterator[Image.Image]:
    """``per_design`` drawings from one seeded stream, or with ``each_photo`` a photo look applied once to every photo
    (seeded by the photo's index, so each look frames a photo as ``as_shot`` does)."""
    if not each_photo:
        rng = np.random.default_rng(seed)
        yield from (draw(rng, photos) for _ in range(per_design))
        return
    for k, photo in enumerate(photos):
        yield draw(np.random.default_rng([seed, k]), [photo])


def evaluate(per_design: int, seed: int, profile_name: str = "default", families: str = "all",
             save: Path | None = None, photo_dir: Path | str | None = None,
             each_photo: bool = False) -> dict[str, Any]:
    """Screen ``per_design`` drawings of each family; per family the share flagged by each check and vetoed.

    ``families``: ``designs`` (the layouts above), ``renders`` (generator-style renders, ``design_renders.py``) or
    ``all``. ``save``: a folder that gets the first drawing of each family as a PNG, to look at. ``photo_dir``: the
    photos the designs use (see :func:`load_photos`). ``each_photo``: only the photo looks (and an "as shot" row
    first), each applied once to every photo, so a look's vetoes read against the photos' own.
    """
    from creative4u.checks.profile import load_profile
    from creative4u.checks.suite import CheckSuite
    from creative4u.images import load_image

    photos = load_photos(photo_dir)
    chosen = _families(families)
    if each_photo:
        chosen = {"photo: as shot": as_shot, **{n: d for n, d in chosen.items() if n.startswith("photo:")}}
    suite = CheckSuite(load_profile(profile_name))
    rows = []
    for name, draw in chosen.items():
        screens = []
        for k, drawing in enumerate(_drawings(draw, photos, per_design, seed, each_photo)):
            buf = io.BytesIO()
            if save is not None and k == 0:
                save.mkdir(parents=True, exist_ok=True)
                drawing.save(save / f"{draw.__name__}.png")
            drawing.save(buf, "JPEG", quality=88)
            screens.append(suite.screen(load_image(buf.getvalue())))
        flagged = {c: sum(c in s.flagged for s in screens) for c in sorted({c for s in screens for c in s.flagged})}
        rows.append({"design": name, "n": len(screens), "vetoed": sum(s.vetoed for s in screens), "flagged": flagged,
                     "examples": sorted({f"{c}: {s.reports[c].summary[:100]}" for s in screens for c in s.flagged
                                         if c != "text"})[:3]})
    return {"profile": profile_name, "seed": seed, "rows": rows}


def report(result: dict[str, Any]) -> str:
    lines = [f"profile `{result['profile']}`, seed {result['seed']}", "",
             "| design | vetoed | flagged by (text is reported, not a defect here) |", "| --- | --- | --- |"]
    for r in result["rows"]:
        flags = ", ".join(f"{c} {k}" for c, k in r["flagged"].items()) or "none"
        lines.append(f"| {r['design']} | {r['vetoed']} of {r['n']} | {flags} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-design", type=int, default=24, help="drawings of each design family")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawings")
    parser.add_argument("--profile", default="default", help="check profile (name or YAML path)")
    parser.add_argument("--families", default="all", choices=("designs", "renders", "all"),
                        help="the layouts drawn here, the generator-style renders of design_renders.py, or both")
    parser.add_argument("--save", type=Path, help="also save the first drawing of each family here (PNG)")
    parser.add_argument("--photos", help="a folder of photos for the designs, or 'untuned': the clean set's 120 "
                        "untuned pictures of eval_renderings.py (default: skimage's four)")
    parser.add_argument("--each-photo", action="store_true", help="only the photo looks, each applied once to every "
                        "photo (an 'as shot' row first); --per-design and --families are then not used for them")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.per_design < 1:
        parser.error("--per-design must be at least 1")
    result = evaluate(args.per_design, args.seed, args.profile, args.families, args.save, args.photos,
                      args.each_photo)
    print(report(result))
    for r in result["rows"]:
        for example in r["examples"]:
            print(f"  {r['design']}: {example}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

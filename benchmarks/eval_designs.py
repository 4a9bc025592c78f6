"""Everyday e-commerce designs drawn here, screened by the default profile: none of them is a defect, so every flag is
a false one.

    python benchmarks/eval_designs.py                    # 24 of each design and render
    python benchmarks/eval_designs.py --per-design 48 --seed 1 --json designs.json
    python benchmarks/eval_designs.py --families renders --photos DIR   # the renders, on your own photos

The clean set's styles come from wallpapers, photos, clip art and rendered banners; the layouts a designer makes in a
minute are thin in it. Each design family is drawn with random colours and sizes (seeded) and saved as JPEG q88:

* a product photo on a brand-colour canvas with one channel at 255 (pure red, 255/200/0 yellow, 0/120/255 blue);
* black type and a black shape on a coloured canvas, and white type on one;
* a grid of rounded icons on white, and a grid of product photos on a plain canvas (a collage).

``--families renders`` draws generator-style creatives instead (``design_renders.py``): glossy product renders with a
clipped specular, soft clay shapes, neon on black, a sharp product over bokeh or night lights, pastel mesh gradients,
watercolour washes, sunsets, a dark-mode layout, and photos given a look (tilt-shift, portrait-mode background blur,
Orton glow, a film preset, a vignette), focused where the photo's structure is; ``--families all`` draws both.

Pass 13 of issue 14 found the first three families flagged (overexposed, underexposed, border and compression
vetoes) and fixed them, with these families as its probe; pass 14 added the renders and found tilt-shift photos
vetoed as blurred (sharpness v9 reads a focus fall-off as depth of field); the rows are reported as measured.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from design_renders import RENDERS, _font  # beside this script (on the path when it runs or is imported)
from PIL import Image, ImageDraw

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


DESIGNS: dict[str, Design] = {
    "product on a brand-colour canvas (a channel at 255)": brand_canvas,
    "black type and shape on colour": black_on_colour,
    "white type and button on colour": white_on_colour,
    "grid of rounded icons on white": icon_grid,
    "collage of product photos": photo_grid,
}


def _families(which: str) -> dict[str, Design]:
    chosen = {"designs": DESIGNS, "renders": RENDERS, "all": {**DESIGNS, **RENDERS}}
    if which not in chosen:
        raise ValueError(f"unknown families {which!r}: choose from {sorted(chosen)}")
    return chosen[which]


def evaluate(per_design: int, seed: int, profile_name: str = "default", families: str = "all",
             save: Path | None = None, photo_dir: Path | None = None) -> dict[str, Any]:
    """Screen ``per_design`` drawings of each family; per family the share flagged by each check and vetoed.

    ``families``: ``designs`` (the layouts above), ``renders`` (generator-style renders, ``design_renders.py``) or
    ``all``. ``save``: a folder that gets the first drawing of each family as a PNG, to look at. ``photo_dir``: the
    photos the designs use (default: skimage's coffee, astronaut, chelsea and rocket).
    """
    from skimage import data

    from creative4u.checks.profile import load_profile
    from creative4u.checks.suite import CheckSuite
    from creative4u.images import load_image

    if photo_dir is None:
        photos = [Image.fromarray(getattr(data, n)()) for n in ("coffee", "astronaut", "chelsea", "rocket")]
    else:
        photos = [Image.open(p).convert("RGB") for p in sorted(photo_dir.glob("*")) if p.suffix.lower() in PHOTOS]
        if not photos:
            raise ValueError(f"no JPEG / PNG / WebP pictures in {photo_dir}")
    suite = CheckSuite(load_profile(profile_name))
    rows = []
    for name, draw in _families(families).items():
        rng = np.random.default_rng(seed)
        screens = []
        for k in range(per_design):
            buf, drawing = io.BytesIO(), draw(rng, photos)
            if save is not None and k == 0:
                save.mkdir(parents=True, exist_ok=True)
                drawing.save(save / f"{draw.__name__}.png")
            drawing.save(buf, "JPEG", quality=88)
            screens.append(suite.screen(load_image(buf.getvalue())))
        flagged = {c: sum(c in s.flagged for s in screens) for c in sorted({c for s in screens for c in s.flagged})}
        rows.append({"design": name, "n": per_design, "vetoed": sum(s.vetoed for s in screens), "flagged": flagged,
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
    parser.add_argument("--photos", type=Path, help="a folder of photos for the designs (default: skimage's)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.per_design < 1:
        parser.error("--per-design must be at least 1")
    result = evaluate(args.per_design, args.seed, args.profile, args.families, args.save, args.photos)
    print(report(result))
    for r in result["rows"]:
        for example in r["examples"]:
            print(f"  {r['design']}: {example}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Write the bundled sample creatives in ``data/samples`` from skimage's CC0 coffee photo.

Example: ``python scripts/make_samples.py data/samples``

Four creatives of one product: a clean ad crop, a blurred copy, a dark copy and one buried under a text banner,
so ``make run`` shows a winner, vetoes and an explanation. Deterministic: rerunning rewrites identical files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont


def _font(size: int) -> ImageFont.ImageFont:
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",):
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    import matplotlib

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans-Bold.ttf"), size)


def main(out_dir: str = "data/samples") -> None:
    from skimage import data

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = Image.fromarray(data.coffee()).resize((640, 427), Image.Resampling.LANCZOS)
    variants = {
        "coffee_clean.jpg": base,
        "coffee_blurred.jpg": base.filter(ImageFilter.GaussianBlur(4)),
        "coffee_dark.jpg": Image.fromarray((np.asarray(base, dtype=np.float32) * 0.22).astype(np.uint8)),
        "coffee_text.jpg": _banner(base),
    }
    for name, img in variants.items():
        img.save(out / name, quality=90, optimize=True)
        print(out / name)


def _banner(img: Image.Image) -> Image.Image:
    img = img.copy()
    draw = ImageDraw.Draw(img)
    font = _font(44)
    for k, line in enumerate(["MEGA SALE -70%", "BUY 2 GET 1 FREE", "ONLY TODAY!!!", "FREE SHIPPING"]):
        y = 20 + k * 100
        draw.rectangle([10, y - 6, 630, y + 58], fill=(220, 20, 30))
        draw.text((24, y), line, font=font, fill=(255, 255, 0))
    return img


if __name__ == "__main__":
    main(*sys.argv[1:])

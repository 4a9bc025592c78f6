"""The same clean pictures in other files: does the container, the colour mode or a cut-out's alpha matte change
the default profile's verdict?

    python benchmarks/eval_file_formats.py                      # 24 clean images from each untuned split
    python benchmarks/eval_file_formats.py --only avif,cut-out --json formats.json

An advertiser uploads whatever their tools wrote: a CMYK JPEG from print, a palette PNG or GIF, a 16-bit PNG, a
WebP or AVIF from a CDN, a phone JPEG rotated by its EXIF tag, a product cut out onto transparency by a background
remover (a feathered alpha edge) and shown on white, pixel art enlarged by repeating pixels. Each clean picture of
the splits no threshold was tuned on is written each way and screened by the whole default profile; the row says how
many files failed to load, how many were vetoed, and how many verdicts (veto or any flag) moved against the same
picture as a plain PNG. A greyscale copy, a cut-out and pixel art are new pictures, not new files: their rows say what
the checks make of that style.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from eval_renderings import clean_images, common_parser, emit
from PIL import Image, ImageDraw, ImageFilter

Writer = Callable[[Image.Image], bytes]


def _save(im: Image.Image, fmt: str, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def png16(im: Image.Image) -> bytes:
    """16 bits per channel (every value times 257), as a RAW converter or a print workflow writes."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(np.asarray(im).astype(np.uint16) * 257, cv2.COLOR_RGB2BGR))
    return buf.tobytes()


def exif_rotated(im: Image.Image) -> bytes:
    """Pixels stored turned by 90 degrees with EXIF orientation 6 (how phones save a portrait shot)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(im.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=92, exif=exif.tobytes())


def transparent_margin(im: Image.Image, share: float = 0.12) -> bytes:
    """The picture on a transparent canvas ``share`` of its longer side wider on every side (shown on white)."""
    pad = int(share * max(im.size))
    canvas = Image.new("RGBA", (im.width + 2 * pad, im.height + 2 * pad), (0, 0, 0, 0))
    canvas.paste(im.convert("RGBA"), (pad, pad))
    return _save(canvas, "PNG")


def cut_out(feather: float, shape: str = "ellipse") -> Writer:
    """The picture cut out in an ellipse or a pentagon, its alpha matte feathered by ``feather`` px (0: a hard
    edge), on transparency."""
    def write(im: Image.Image) -> bytes:
        w, h = im.size
        mask = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(mask)
        if shape == "ellipse":
            draw.ellipse((w * 0.1, h * 0.06, w * 0.9, h * 0.94), fill=255)
        else:
            draw.polygon([(w * 0.5, h * 0.05), (w * 0.92, h * 0.4), (w * 0.75, h * 0.95), (w * 0.25, h * 0.95),
                          (w * 0.08, h * 0.4)], fill=255)
        rgba = im.convert("RGBA")
        rgba.putalpha(mask.filter(ImageFilter.GaussianBlur(feather)) if feather else mask)
        return _save(rgba, "PNG")
    return write


def pixel_art(factor: int, fmt: str = "PNG") -> Writer:
    """The picture as 32-colour pixel art 64 px wide, enlarged ``factor`` x by repeating pixels, saved as ``fmt``."""
    def write(im: Image.Image) -> bytes:
        small = im.resize((64, max(1, round(64 * im.height / im.width))), Image.Resampling.BOX).quantize(32)
        big = small.convert("RGB").resize((small.width * factor, small.height * factor), Image.Resampling.NEAREST)
        return _save(big, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return write


FORMATS: dict[str, Writer] = {
    "PNG (the reference)": lambda im: _save(im, "PNG"),
    "JPEG q80": lambda im: _save(im, "JPEG", quality=80),
    "JPEG q90 progressive 4:4:4": lambda im: _save(im, "JPEG", quality=90, progressive=True, subsampling=0),
    "JPEG CMYK q92": lambda im: _save(im.convert("CMYK"), "JPEG", quality=92),
    "JPEG q92 rotated by EXIF": exif_rotated,
    "PNG palette, 256 colours dithered": lambda im: _save(im.quantize(256, dither=Image.Dither.FLOYDSTEINBERG), "PNG"),
    "GIF": lambda im: _save(im.convert("P", palette=Image.Palette.ADAPTIVE, colors=256), "GIF"),
    "PNG RGBA, opaque": lambda im: _save(im.convert("RGBA"), "PNG"),
    "PNG 16 bits": png16,
    "TIFF": lambda im: _save(im, "TIFF"),
    "WebP q85": lambda im: _save(im, "WEBP", quality=85),
    "WebP lossless": lambda im: _save(im, "WEBP", lossless=True),
    "AVIF q60": lambda im: _save(im, "AVIF", quality=60),
    "greyscale PNG (a new picture)": lambda im: _save(im.convert("L"), "PNG"),
    "cut-out, hard edge (a new picture)": cut_out(0),
    "cut-out, 2 px feathered matte": cut_out(2),
    "cut-out, 3 px feathered matte": cut_out(3),
    "cut-out pentagon, 2 px feathered matte": cut_out(2, "pentagon"),
    "on a transparent margin of 12% (shown on white: a frame)": transparent_margin,
    "pixel art, 64 px, 32 colours, enlarged 8x (PNG)": pixel_art(8),
    "pixel art, the same enlarged 16x (PNG)": pixel_art(16),
    "pixel art, enlarged 8x, saved as JPEG q90": pixel_art(8, "JPEG"),
}


def evaluate(images: list[tuple[str, Path]], formats: dict[str, Writer], profile_name: str) -> dict[str, Any]:
    from tqdm import tqdm

    from creative4u.checks.profile import load_profile
    from creative4u.checks.suite import CheckSuite
    from creative4u.images import ImageLoadError, load_image

    suite = CheckSuite(load_profile(profile_name))
    counts = {name: {"errors": 0, "vetoed": 0, "veto_changed": 0, "flags_changed": 0, "moved": {}} for name in formats}
    for _, path in tqdm(images, desc="files", unit="image"):
        with Image.open(path) as im:
            original = im.convert("RGB")
        ref = suite.screen(load_image(_save(original, "PNG"), name=path.name))
        for name, write in formats.items():
            row = counts[name]
            try:
                out = suite.screen(load_image(write(original), name=path.name))
            except ImageLoadError:
                row["errors"] += 1
                continue
            row["vetoed"] += out.vetoed
            row["veto_changed"] += out.vetoed != ref.vetoed
            row["flags_changed"] += set(out.flagged) != set(ref.flagged)
            for check in set(out.flagged) ^ set(ref.flagged):
                key = ("+" if check in out.flagged else "-") + check
                row["moved"][key] = row["moved"].get(key, 0) + 1
    return {"profile": profile_name, "images": len(images), "splits": sorted({s for s, _ in images}),
            "rows": [{"file": name, **row} for name, row in counts.items()]}


def report(result: dict[str, Any]) -> str:
    lines = [f"{result['images']} clean images ({', '.join(result['splits'])}), profile `{result['profile']}`", "",
             "| file | not loaded | vetoed | veto moved vs PNG | any flag moved | flags gained (+) / lost (-) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in result["rows"]:
        moved = ", ".join(f"{k} {v}" for k, v in sorted(r["moved"].items(), key=lambda kv: -kv[1])) or "-"
        lines.append(f"| {r['file']} | {r['errors']} | {r['vetoed']} | {r['veto_changed']} | {r['flags_changed']} | "
                     f"{moved} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(__doc__.split("\n\n")[0])
    args = parser.parse_args(argv)
    wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    formats = {n: w for n, w in FORMATS.items() if not wanted or any(x in n.lower() for x in wanted)}
    if not formats:
        parser.error("no row left to run")
    images = clean_images(args.per_split, args.seed)
    if not images:
        parser.error("no clean set: build one with python -m creative4u.data.clean_set")
    result = evaluate(images, formats, args.profile)
    emit(report(result), result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

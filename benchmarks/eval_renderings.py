"""The same defects rendered other ways: how the default profile's checks fare when blur, exposure and compression are
made with the tools someone else would reach for, not with the clean set's own renderings.

    python benchmarks/eval_renderings.py                       # 24 clean images from each untuned split
    python benchmarks/eval_renderings.py --per-split 60 --json renderings.json

The clean set (:mod:`creative4u.data.degrade`) renders over-exposure as a gain in linear light, blur as Gaussian,
defocus and motion kernels, compression as a JPEG save, noise as Gaussian grain, a border as a 4-14% frame. A user's
test set may instead brighten with ``ImageEnhance.Brightness`` (a gain on the sRGB values), add an offset, lift HSV
value as ImageNet-C does, darken with a gamma, save as WebP or AVIF or shrink and re-enlarge, blur far harder or smear
along a straight line (a motion kernel on the sRGB values), add salt-and-pepper, speckle or shot noise, paste a thin
frame, cut contrast with ``ImageEnhance.Contrast``, ImageNet-C's blend or a white fog, or wash colours out with
``ImageEnhance.Color``. Each rendering here is applied to clean images of the splits no threshold was tuned on and
screened by the checks that answer for it (exposure; compression; sharpness, and resolution too for a re-enlarged
picture; noise; border; contrast; colourfulness), at the profile's thresholds: the share flagged is that rendering's
recall. The clean images themselves give the false-flag rate. Nothing here was used to tune a check.
"""

from __future__ import annotations

import argparse
import io
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from creative4u.data.clean_set import OUT_OF_SOURCE

CACHE = Path.home() / ".cache" / "creative4u" / "clean-set"
# (set folder, split) pairs no threshold was tuned on; folders that are missing are skipped with a note.
SPLITS = (("v3", "heldout"), ("v3-probe", "probe"), ("v3-unseen", "unseen"), ("v3-landscapes", "landscapes"),
          ("v3-gcompris", "gcompris"))
Render = Callable[[Image.Image], "Image.Image | bytes"]  # bytes: an encoded file, screened as that file


def _u8(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8))


def srgb_gain(k: float) -> Render:
    """``ImageEnhance.Brightness``: every sRGB value times ``k``."""
    return lambda im: ImageEnhance.Brightness(im).enhance(k)


def offset(d: float) -> Render:
    """``d`` added to every channel (an additive brightness slider)."""
    return lambda im: _u8(np.asarray(im, np.float32) + d)


def hsv_value(c: float) -> Render:
    """ImageNet-C's brightness: HSV value raised by ``c`` (of 1), hue and saturation kept."""
    def render(im: Image.Image) -> Image.Image:
        hsv = cv2.cvtColor(np.asarray(im), cv2.COLOR_RGB2HSV_FULL).astype(np.float32)
        hsv[..., 2] = np.clip(hsv[..., 2] + 255 * c, 0, 255)
        return Image.fromarray(cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB_FULL))
    return render


def gamma(g: float) -> Render:
    """A power curve on the sRGB values: ``g`` > 1 darkens the mid-tones, ``g`` < 1 lifts them; black and white stay
    put."""
    return lambda im: _u8(255 * (np.asarray(im, np.float32) / 255) ** g)


def pil_contrast(k: float) -> Render:
    """``ImageEnhance.Contrast``: a blend towards the picture's mean grey, ``k`` of the contrast kept."""
    return lambda im: ImageEnhance.Contrast(im).enhance(k)


def mean_contrast(c: float) -> Render:
    """ImageNet-C's contrast: every value pulled towards the mean of all values, ``c`` kept (severity 1 = 0.4)."""
    def render(im: Image.Image) -> Image.Image:
        arr = np.asarray(im, np.float32)
        return _u8((arr - arr.mean()) * c + arr.mean())
    return render


def fog(share: float) -> Render:
    """A milky veil: ``share`` of every pixel replaced by white (white stays white, black turns grey)."""
    return lambda im: _u8(np.asarray(im, np.float32) * (1 - share) + 255 * share)


def pil_colour(k: float) -> Render:
    """``ImageEnhance.Color``: saturation cut to ``k`` (0 = grey)."""
    return lambda im: ImageEnhance.Color(im).enhance(k)


def linear_gain(stops: float) -> Render:
    """The clean set's own rendering (a gain in linear light), for reference."""
    from creative4u.data.degrade import _exposure

    return lambda im: _exposure(im, stops)


def encoded(fmt: str, quality: int, as_file: bool = True) -> Render:
    """Saved as ``fmt`` at ``quality``: the file itself, or (``as_file=False``) its decoded pixels only, as when the
    picture was re-saved losslessly afterwards."""
    def render(im: Image.Image) -> Image.Image | bytes:
        buf = io.BytesIO()
        im.save(buf, fmt, quality=quality)
        return buf.getvalue() if as_file else Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return render


def gaussian(share: float) -> Render:
    """``ImageFilter.GaussianBlur`` with a radius of ``share`` of the shorter side."""
    return lambda im: im.filter(ImageFilter.GaussianBlur(share * min(im.size)))


def box(share: float) -> Render:
    """``ImageFilter.BoxBlur`` with a radius of ``share`` of the shorter side."""
    return lambda im: im.filter(ImageFilter.BoxBlur(share * min(im.size)))


def motion(share: float, angle: float) -> Render:
    """A straight smear ``share`` of the shorter side long at ``angle`` degrees: a line drawn with ``cv2.line`` on a
    square kernel and applied with ``cv2.filter2D`` to the sRGB values (as albumentations' ``MotionBlur`` does)."""
    def render(im: Image.Image) -> Image.Image:
        k = max(3, round(share * min(im.size))) | 1
        c, r = k // 2, (k - 1) / 2
        dx, dy = r * np.cos(np.radians(angle)), -r * np.sin(np.radians(angle))
        kernel = np.zeros((k, k), np.float32)
        cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1)
        return Image.fromarray(cv2.filter2D(np.asarray(im), -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT))
    return render


def rescaled(factor: int) -> Render:
    """Shrunk ``factor`` x and enlarged back (bilinear), as a small upload stretched to size."""
    def render(im: Image.Image) -> Image.Image:
        small = im.resize((max(1, im.width // factor), max(1, im.height // factor)), Image.Resampling.BILINEAR)
        return small.resize(im.size, Image.Resampling.BILINEAR)
    return render


def gaussian_noise(sigma: float) -> Render:
    """Gaussian noise of ``sigma`` grey levels on every channel."""
    def render(im: Image.Image) -> Image.Image:
        x = np.asarray(im, np.float32)
        return _u8(x + np.random.default_rng(0).normal(0, sigma, x.shape))
    return render


def salt_and_pepper(amount: float) -> Render:
    """skimage's ``random_noise(mode="s&p")``: ``amount`` of the values, channel by channel, set to 0 or 255."""
    from skimage.util import random_noise

    return lambda im: _u8(255 * random_noise(np.asarray(im), mode="s&p", amount=amount, rng=0))


def speckle(c: float) -> Render:
    """Multiplicative noise ``x + x * N(0, c)`` on values in 0..1 (ImageNet-C's speckle; 0.15 is its severity 1)."""
    def render(im: Image.Image) -> Image.Image:
        x = np.asarray(im, np.float32) / 255
        return _u8(255 * np.clip(x + x * np.random.default_rng(0).normal(0, c, x.shape), 0, 1))
    return render


def shot(photons: float) -> Render:
    """Poisson noise with ``photons`` at white (ImageNet-C's shot noise; 60 is its severity 1)."""
    def render(im: Image.Image) -> Image.Image:
        x = np.asarray(im, np.float32) / 255
        return _u8(255 * np.random.default_rng(0).poisson(x * photons) / photons)
    return render


FRAME_PAINTS = ((0, 0, 0), (200, 20, 20), (128, 128, 128), (20, 40, 110))  # white is left out: unseen on white canvas


def frame(share: float, jpeg_quality: int | None = None) -> Render:
    """A frame ``share`` of the shorter side wide round the shrunk picture (``ImageOps.expand``), in a paint picked
    from ``FRAME_PAINTS`` by the picture itself; saved as a JPEG of ``jpeg_quality`` when given."""
    def render(im: Image.Image) -> Image.Image | bytes:
        t = max(1, round(share * min(im.size)))
        paint = FRAME_PAINTS[int(np.asarray(im)[::7, ::7].sum()) % len(FRAME_PAINTS)]
        out = ImageOps.expand(im.resize((im.width - 2 * t, im.height - 2 * t)), border=t, fill=paint)
        if jpeg_quality is None:
            return out
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=jpeg_quality)
        return buf.getvalue()
    return render


# name -> (defect family, checks that answer for it, rendering)
RENDERINGS: dict[str, tuple[str, tuple[str, ...], Render]] = {
    "over: linear light +1.5 EV (clean set's)": ("over", ("exposure",), linear_gain(1.5)),
    "over: sRGB gain x1.5": ("over", ("exposure",), srgb_gain(1.5)),
    "over: sRGB gain x2.0": ("over", ("exposure",), srgb_gain(2.0)),
    "over: offset +60": ("over", ("exposure",), offset(60)),
    "over: offset +100": ("over", ("exposure",), offset(100)),
    "over: HSV value +0.3 (ImageNet-C 3)": ("over", ("exposure",), hsv_value(0.3)),
    "over: HSV value +0.5 (ImageNet-C 5)": ("over", ("exposure",), hsv_value(0.5)),
    "over: gamma 1/2.2": ("over", ("exposure",), gamma(1 / 2.2)),
    "under: linear light -1.5 EV (clean set's)": ("under", ("exposure",), linear_gain(-1.5)),
    "under: sRGB gain x0.5": ("under", ("exposure",), srgb_gain(0.5)),
    "under: sRGB gain x0.3": ("under", ("exposure",), srgb_gain(0.3)),
    "under: offset -60": ("under", ("exposure",), offset(-60)),
    "under: offset -100": ("under", ("exposure",), offset(-100)),
    "under: gamma 2.2": ("under", ("exposure",), gamma(2.2)),
    "low contrast: PIL Contrast x0.5": ("low_contrast", ("contrast",), pil_contrast(0.5)),
    "low contrast: PIL Contrast x0.35": ("low_contrast", ("contrast",), pil_contrast(0.35)),
    "low contrast: mean blend x0.4 (ImageNet-C 1)": ("low_contrast", ("contrast",), mean_contrast(0.4)),
    "low contrast: fog, half white": ("low_contrast", ("contrast",), fog(0.5)),
    "dull colours: PIL Color x0.25": ("dull", ("colourfulness",), pil_colour(0.25)),
    "compression: JPEG q10 file (clean set's kind)": ("compression", ("compression",), encoded("JPEG", 10)),
    "compression: JPEG q10, pixels only": ("compression", ("compression",), encoded("JPEG", 10, False)),
    "compression: WebP q5 file": ("compression", ("compression",), encoded("WEBP", 5)),
    "compression: WebP q20 file": ("compression", ("compression",), encoded("WEBP", 20)),
    "compression: WebP q5, pixels only": ("compression", ("compression",), encoded("WEBP", 5, False)),
    "compression: AVIF q5 file": ("compression", ("compression",), encoded("AVIF", 5)),
    "compression: AVIF q20 file": ("compression", ("compression",), encoded("AVIF", 20)),
    "blur: PIL Gaussian, radius 0.5% of side": ("blur", ("sharpness",), gaussian(0.005)),
    "blur: PIL Gaussian, radius 1% of side": ("blur", ("sharpness",), gaussian(0.01)),
    "blur: PIL box, radius 0.5% of side": ("blur", ("sharpness",), box(0.005)),
    "blur: PIL Gaussian, radius 3% of side (heavy)": ("blur", ("sharpness",), gaussian(0.03)),
    "blur: PIL Gaussian, radius 5% of side (heavy)": ("blur", ("sharpness",), gaussian(0.05)),
    "motion: line 2% of side, horizontal": ("blur", ("sharpness",), motion(0.02, 0.0)),
    "motion: line 4% of side, 45 degrees": ("blur", ("sharpness",), motion(0.04, 45.0)),
    "motion: line 8% of side, horizontal": ("blur", ("sharpness",), motion(0.08, 0.0)),
    "motion: line 12% of side, 30 degrees": ("blur", ("sharpness",), motion(0.12, 30.0)),
    "blur: shrunk 3x and enlarged": ("blur", ("sharpness", "resolution"), rescaled(3)),
    "blur: shrunk 5x and enlarged": ("blur", ("sharpness", "resolution"), rescaled(5)),
    "noise: Gaussian sigma 10": ("noise", ("noise",), gaussian_noise(10)),
    "noise: salt and pepper, 1% of values (skimage)": ("noise", ("noise",), salt_and_pepper(0.01)),
    "noise: salt and pepper, 3% of values (ImageNet-C 1)": ("noise", ("noise",), salt_and_pepper(0.03)),
    "noise: speckle c 0.15 (ImageNet-C 1)": ("noise", ("noise",), speckle(0.15)),
    "noise: shot, 60 photons (ImageNet-C 1)": ("noise", ("noise",), shot(60)),
    "border: 1% frame": ("border", ("border",), frame(0.01)),
    "border: 2% frame, JPEG q75": ("border", ("border",), frame(0.02, 75)),
    "border: 5% frame, JPEG q75": ("border", ("border",), frame(0.05, 75)),
}


def clean_images(per_split: int | None, seed: int,
                 splits: tuple[tuple[str, str], ...] = SPLITS) -> list[tuple[str, Path]]:
    """``per_split`` clean images drawn from each of ``splits`` (set folder, split) that is on this machine; every one
    of them, in the labels' order, with ``per_split`` None."""
    rng = random.Random(seed)
    out = []
    for folder, split in splits:
        labels = CACHE / folder / f"labels_{split}.jsonl"
        if not labels.exists():
            print(f"note: {labels} is missing, split {split} skipped (build: python -m creative4u.data.clean_set "
                  f"--out {CACHE / folder}{' --sources ' + split if split in OUT_OF_SOURCE else ''})")
            continue
        rows = [json.loads(line) for line in labels.read_text().splitlines() if line.strip()]
        clean = [CACHE / folder / r["image"] for r in rows if not r["flags"]]
        drawn = clean if per_split is None else rng.sample(clean, min(per_split, len(clean)))
        out += [(split, p) for p in drawn]
    return out


def evaluate(images: list[tuple[str, Path]], profile_name: str = "default",
             renderings: dict[str, tuple[str, tuple[str, ...], Render]] | None = None,
             side: int = 0) -> dict[str, Any]:
    """Recall per rendering and the clean images' flag rate, per family's checks, at the profile's thresholds; with
    ``side``, each clean picture is first shrunk to that many px on its shorter side (see :func:`thumbnail`)."""
    from tqdm import tqdm

    from creative4u.checks.profile import load_profile
    from creative4u.checks.suite import CheckSuite
    from creative4u.images import LoadedImage, load_image

    renderings = RENDERINGS if renderings is None else renderings
    profile = load_profile(profile_name)
    wanted = {c for _, checks, _ in renderings.values() for c in checks}
    profile.checks = {n: s for n, s in profile.checks.items() if n in wanted}
    suite = CheckSuite(profile)
    hits: dict[str, list[bool]] = {name: [] for name in renderings}
    clean: dict[tuple[str, ...], list[bool]] = {}
    for _, path in tqdm(images, desc="renderings", unit="image"):
        with Image.open(path) as im:
            original = thumbnail(im.convert("RGB"), side)
        flagged = set(suite.screen(LoadedImage.from_pil(original)).flagged)
        for _, checks, _ in renderings.values():
            clean.setdefault(checks, []).append(bool(flagged & set(checks)))
        for name, (_, checks, render) in renderings.items():
            rendered = render(original)
            loaded = load_image(rendered) if isinstance(rendered, bytes) else LoadedImage.from_pil(rendered)
            out = suite.screen(loaded)
            hits[name].append(bool(set(out.flagged) & set(checks)))
    splits = [split for split, _ in images]
    rows = [{"rendering": name, "family": fam, "checks": "/".join(checks), "n": len(hits[name]),
             "recall": round(float(np.mean(hits[name])), 4),
             "recall_by_split": by_split(splits, hits[name]),
             "clean_flagged": round(float(np.mean(clean[checks])), 4)}
            for name, (fam, checks, _) in renderings.items()]
    return {"profile": profile_name, "images": len(images), "side": side,
            "splits": sorted({s for s, _ in images}), "rows": rows}


def by_split(splits: list[str], hits: list[bool]) -> dict[str, float]:
    """The share of ``hits`` per split (``splits[i]`` is hit ``i``'s): a rendering that one kind of picture hides.

    >>> by_split(["a", "b", "a", "b"], [True, False, True, True])
    {'a': 1.0, 'b': 0.5}
    """
    out: dict[str, list[bool]] = {}
    for split, hit in zip(splits, hits, strict=True):
        out.setdefault(split, []).append(hit)
    return {split: round(float(np.mean(v)), 4) for split, v in out.items()}


def thumbnail(im: Image.Image, side: int) -> Image.Image:
    """``im`` shrunk (Lanczos) to ``side`` px on its shorter side, as a thumbnail or a small test set is; a picture
    already that small, or ``side`` 0, is left as it is.

    >>> thumbnail(Image.new("RGB", (640, 360)), 256).size, thumbnail(Image.new("RGB", (200, 100)), 256).size
    ((455, 256), (200, 100))
    """
    k = side / min(im.size) if side else 1.0
    if k >= 1.0:
        return im
    return im.resize((max(1, round(im.width * k)), max(1, round(im.height * k))), Image.Resampling.LANCZOS)


def emit(table: str, result: Any, path: Path | None) -> None:
    """Print a benchmark's table and, with ``path`` (its ``--json``), write its figures there."""
    print(table)
    if path:
        path.write_text(json.dumps(result, indent=2) + "\n")


def report(result: dict[str, Any]) -> str:
    size = f", shrunk to {result['side']} px on the shorter side" if result.get("side") else ""
    head = f"{result['images']} clean images ({', '.join(result['splits'])}{size}), profile `{result['profile']}`"
    lines = [head, "", "| rendering | checks | recall | lowest split | clean images flagged by those checks |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['rendering']} | {r['checks']} | {r['recall']:.1%} | {_lowest(r)} | {r['clean_flagged']:.1%} |"
              for r in result["rows"]]
    return "\n".join(lines)


def _lowest(row: dict[str, Any]) -> str:
    """The split where the rendering is caught least, as "split 50.0%" ("-" with a single split)."""
    per = row.get("recall_by_split") or {}
    if len(per) < 2:
        return "-"
    split = min(per, key=per.get)
    return f"{split} {per[split]:.1%}"


def common_parser(description: str) -> argparse.ArgumentParser:
    """The options of every renderings benchmark: the draw of clean images, the profile, JSON output, a row filter."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--per-split", type=int, default=24, help="clean images drawn from each untuned split")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw")
    parser.add_argument("--profile", default="default", help="check profile (name or YAML path)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--only", default="", help="comma list: only the rows whose name holds one of these")
    parser.add_argument("--side", type=int, default=0,
                        help="shrink each clean picture to this many px on its shorter side first (a thumbnail set)")
    return parser


def run_rows(parser: argparse.ArgumentParser, args: argparse.Namespace, rows: dict[str, tuple[str, tuple[str, ...],
             Render]], before: Callable[[list[tuple[str, Path]]], None] | None = None) -> int:
    """Draw the clean images, screen the rows named by ``--only`` (``before`` sees the draw first), print, save."""
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    rows = {n: r for n, r in rows.items() if not wanted or any(w in n for w in wanted)}
    if not rows:
        parser.error("no row left to run")
    images = clean_images(args.per_split, args.seed)
    if not images:
        parser.error(f"no clean set under {CACHE}: build one with python -m creative4u.data.clean_set")
    if before is not None:
        before(images)
    result = evaluate(images, args.profile, rows, args.side)
    emit(report(result), result, args.json)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = common_parser(__doc__.split("\n\n")[0])
    return run_rows(parser, parser.parse_args(argv), RENDERINGS)


if __name__ == "__main__":
    raise SystemExit(main())

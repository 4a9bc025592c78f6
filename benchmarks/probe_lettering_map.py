"""A second opinion for faint watermarks: a small convolutional map of translucent lettering, trained on synthetic
marks, measured beside the text check's OCR on the text-style benchmark's diagonal watermark.

    python benchmarks/probe_lettering_map.py                     # ~25 min on 2 cores: draw, train, screen 533 pictures
    python benchmarks/probe_lettering_map.py --steps 300 --samples 600 --per-split 8   # a quick look
    python benchmarks/probe_lettering_map.py --json lettering.json

The diagonal watermark of ``eval_text_styles.py`` (one word at 35% opacity, 30 degrees, across the middle) is the
style OCR misses most: 66% found on the 533 untuned clean pictures, 50% on GCompris' 240 px photos. PP-OCR's DB
detector either boxes nothing or boxes the word merged with the product it crosses, and recognition reads that box as
noise. This probe asks whether a detector trained for that case alone adds what OCR misses, without flagging clean
pictures: a fully convolutional net (six 3x3 layers, dilations up to 8, a lettering probability at 1/4 of the 384 px
picture) trained on 192 px crops of the clean set's **dev** pictures and their non-text degraded copies (grouped by
source; 20 sources left out, as when the figures were taken), each with a made-up word in a DejaVu or Liberation
face (none of the benchmark's fonts or words) at 18-70% opacity, any angle, single or tiled, white, black, grey or any
colour, a third of the crops re-saved as JPEG. A picture counts as marked when the largest connected region of
probability >= 0.5 covers more than a cut set where 1 / 2 / 5% of the untuned clean pictures lie above it (the
figures are a curve, no cut is shipped); recall is given alone, on OCR's misses and united with OCR, beside the
united clean flags.
Needs torch (the dev install). Figures: benchmarks/README.md, "Pass 23".
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from eval_renderings import CACHE, clean_images
from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
SYLLABLES = ("ka", "ro", "mi", "to", "lu", "ve", "sa", "an", "el", "or", "is", "un", "ex", "qu", "zo", "pi", "ne",
             "ta", "gr", "st", "br", "ch", "ph", "ly", "ck", "ss")
CROP, SIDE = 192, 384  # training crop; the picture's longer side when it is read
CUT_SHARES = (0.01, 0.02, 0.05)  # of untuned clean pictures above the cut


def training_fonts() -> list[str]:
    """The faces marks are drawn in for training (none of them is one of ``eval_text_styles``' faces)."""
    return sorted(str(p) for d in FONT_DIRS if d.is_dir() for p in d.glob("*.ttf") if "MathTeX" not in p.name)


def made_up_word(rng: np.random.Generator) -> str:
    """A brand-like word of 2-5 syllables, sometimes capitalised, with a copyright sign, a domain or a second word."""
    word = "".join(SYLLABLES[rng.integers(len(SYLLABLES))] for _ in range(rng.integers(2, 6)))
    r = rng.random()
    word = word.upper() if r < 0.45 else word.capitalize() if r < 0.75 else word
    if rng.random() < 0.15:
        word = "© " + word
    if rng.random() < 0.1:
        word += ".com"
    if rng.random() < 0.2:
        word += " " + "".join(SYLLABLES[rng.integers(len(SYLLABLES))] for _ in range(rng.integers(2, 4)))
    return word


def _word_tile(text: str, font: ImageFont.FreeTypeFont, angle: float, stroke: int) -> Image.Image:
    left, top, right, bottom = font.getbbox(text)
    tile = Image.new("L", (right - left + 8, bottom - top + 8), 0)
    ImageDraw.Draw(tile).text((4 - left, 4 - top), text, font=font, fill=255, stroke_width=stroke)
    return tile.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)


def _cover(size: tuple[int, int], tile: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """Where the mark's ink goes (0..1): the tile once somewhere on the picture, or a staggered grid of it."""
    w, h = size
    cover = Image.new("L", size, 0)
    if rng.random() < 0.2:
        sx, sy = max(8, int(tile.width * rng.uniform(1.2, 2.0))), max(8, int(tile.height * rng.uniform(1.3, 2.5)))
        for row, y in enumerate(range(-tile.height // 2, h, sy)):
            for x in range(-tile.width // 2 + row % 2 * sx // 2, w, sx):
                cover.paste(tile, (x, y), tile)
    else:
        x = int(rng.uniform(-0.1, 1.0) * max(1, w - tile.width)) if tile.width < w else (w - tile.width) // 2
        y = int(rng.uniform(-0.1, 1.0) * max(1, h - tile.height)) if tile.height < h else (h - tile.height) // 2
        cover.paste(tile, (x, y), tile)
    return np.asarray(cover, np.float32) / 255.0


def _ink(rng: np.random.Generator, mean_grey: float) -> np.ndarray:
    r = rng.random()
    if r < 0.35:
        return np.array([255.0, 255.0, 255.0])
    if r < 0.6:
        return np.zeros(3)
    if r < 0.8:
        return np.full(3, 40.0 if mean_grey > 128 else 230.0)
    return rng.uniform(0, 255, 3)


def draw_mark(im: Image.Image, rng: np.random.Generator, fonts: list[str]) -> tuple[Image.Image, np.ndarray]:
    """``im`` with one translucent made-up mark, and the mark's letter mask (1 where its ink is over a third)."""
    w, h = im.size
    text = made_up_word(rng)
    font = ImageFont.truetype(fonts[rng.integers(len(fonts))], max(9, int(h * rng.uniform(0.05, 0.2))))
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    while font.size > 9 and probe.textlength(text, font=font) > 0.95 * math.hypot(w, h) * 0.7:
        font = font.font_variant(size=int(font.size * 0.9))
    angle = 0.0 if rng.random() < 0.25 else float(rng.uniform(-60, 60))
    ink = _cover(im.size, _word_tile(text, font, angle, int(rng.random() < 0.15)), rng)[..., None]
    alpha = rng.uniform(0.18, 0.7)
    arr = np.asarray(im, np.float32)
    out = arr * (1 - alpha * ink) + _ink(rng, float(arr.mean())) * alpha * ink
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)), (ink[..., 0] > 0.35).astype(np.uint8)


def training_crop(path: Path, rng: np.random.Generator, fonts: list[str], p_mark: float = 0.6
                  ) -> tuple[np.ndarray, np.ndarray]:
    """One (3 x CROP x CROP uint8 picture, CROP x CROP mask) sample, at about the scale the picture is read at."""
    with Image.open(path) as src:
        im = src.convert("RGB")
    k = SIDE * rng.uniform(0.75, 1.3) / max(im.size)
    im = im.resize((max(CROP, round(im.width * k)), max(CROP, round(im.height * k))), Image.Resampling.LANCZOS)
    mask = np.zeros((im.height, im.width), np.uint8)
    if rng.random() < p_mark:
        im, mask = draw_mark(im, rng, fonts)
    arr = np.asarray(im)
    y, x = rng.integers(0, arr.shape[0] - CROP + 1), rng.integers(0, arr.shape[1] - CROP + 1)
    if mask.any() and rng.random() < 0.8:  # most marked crops hold some of the letters
        ys, xs = np.nonzero(mask)
        j = rng.integers(len(ys))
        y = int(np.clip(ys[j] - rng.integers(CROP), 0, arr.shape[0] - CROP))
        x = int(np.clip(xs[j] - rng.integers(CROP), 0, arr.shape[1] - CROP))
    arr, mask = arr[y:y + CROP, x:x + CROP], mask[y:y + CROP, x:x + CROP]
    if rng.random() < 0.5:
        arr, mask = arr[:, ::-1], mask[:, ::-1]
    if rng.random() < 0.3:  # creatives arrive as JPEG
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(arr)).save(buf, "JPEG", quality=int(rng.integers(60, 95)))
        arr = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return np.ascontiguousarray(arr.transpose(2, 0, 1)), np.ascontiguousarray(mask)


def dev_sources(root: Path = CACHE / "v3") -> dict[str, list[Path]]:
    """The dev split's clean pictures and their degraded copies without text or frames, by source picture."""
    rows = [json.loads(line) for line in (root / "labels_dev.jsonl").read_text().splitlines() if line.strip()]
    groups: dict[str, list[Path]] = {}
    for r in rows:
        if not {"text_overlay", "border"} & set(r["flags"]):
            groups.setdefault(r["key"], []).append(root / r["image"])
    return groups


def crops(paths: list[Path], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng, fonts = np.random.default_rng(seed), training_fonts()
    x, m = np.zeros((n, 3, CROP, CROP), np.uint8), np.zeros((n, CROP, CROP), np.uint8)
    for i in range(n):
        x[i], m[i] = training_crop(paths[rng.integers(len(paths))], rng, fonts)
    return x, m


def lettering_net(channels: int = 40) -> Any:
    """Six 3x3 conv-BN-ReLU layers (two of stride 2, then dilations 1, 2, 4, 8) and a 1x1 logit at 1/4 scale."""
    from torch import nn

    def block(i: int, o: int, stride: int = 1, dilation: int = 1) -> nn.Module:
        return nn.Sequential(nn.Conv2d(i, o, 3, stride, padding=dilation, dilation=dilation, bias=False),
                             nn.BatchNorm2d(o), nn.ReLU(inplace=True))

    c = channels
    return nn.Sequential(block(3, 16, 2), block(16, 24, 2), block(24, c), block(c, c, dilation=2),
                         block(c, c, dilation=4), block(c, c, dilation=8), nn.Conv2d(c, 1, 1))


def train(x: np.ndarray, m: np.ndarray, steps: int, channels: int, batch: int = 24, seed: int = 0) -> Any:
    """The net fitted to the crops (BCE on the mask max-pooled to 1/4, positives weighted 4x, one-cycle AdamW)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    net = lettering_net(channels)
    target = F.max_pool2d(torch.from_numpy(m).float()[:, None], 4)
    opt = torch.optim.AdamW(net.parameters(), 3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=max(steps, 2))
    rng, start = np.random.default_rng(seed), time.time()
    for step in range(steps):
        idx = rng.integers(0, len(x), batch)
        loss = F.binary_cross_entropy_with_logits(net(_normalise(torch.from_numpy(x[idx]).float())), target[idx],
                                                  pos_weight=torch.tensor(4.0))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 500 == 0 or step == steps - 1:
            print(f"step {step}: loss {loss.item():.3f} ({time.time() - start:.0f} s)", flush=True)
    return net.eval()


def _normalise(x: Any) -> Any:
    return (x - 128.0) / 64.0


def region(net: Any, im: Image.Image) -> dict[str, float]:
    """The largest region of lettering probability >= 0.5 (cells at 1/4 of the 384 px picture) and the peak."""
    import cv2
    import torch

    k = SIDE / max(im.size)
    if k < 1:
        im = im.resize((max(8, round(im.width * k)), max(8, round(im.height * k))), Image.Resampling.BILINEAR)
    x = torch.from_numpy(np.asarray(im.convert("RGB"), np.float32).transpose(2, 0, 1).copy())[None]
    with torch.no_grad():
        prob = torch.sigmoid(net(_normalise(x)))[0, 0].numpy()
    n, _, stats, _ = cv2.connectedComponentsWithStats((prob >= 0.5).astype(np.uint8))
    return {"area": int(stats[1:, cv2.CC_STAT_AREA].max()) if n > 1 else 0, "peak": float(prob.max())}


def screen(net: Any, per_split: int | None, seed: int) -> list[dict[str, Any]]:
    """Each untuned clean picture and its diagonal watermark: the map's region and whether OCR flags text."""
    import eval_text_styles as ets
    from tqdm import tqdm

    from creative4u.checks.profile import load_profile
    from creative4u.checks.text import TextOverlay
    from creative4u.images import LoadedImage

    mark = ets.renderings()["text: diagonal watermark, one word, 35% opacity"][2]
    ocr, point, out = TextOverlay(), load_profile("default").threshold_of("text"), []
    for split, path in tqdm(clean_images(per_split, seed), desc="screening", unit="picture"):
        with Image.open(path) as src:
            clean = src.convert("RGB")
        for kind, im in (("clean", clean), ("marked", mark(clean))):
            found = ocr.run(LoadedImage.from_pil(im)).score >= point
            out.append({"split": split, "kind": kind, "ocr": bool(found), **region(net, im)})
    return out


def curve(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recall of the marked pictures at cuts on the region's area set by the clean pictures' own areas."""
    clean = [r for r in rows if r["kind"] == "clean"]
    marked = [r for r in rows if r["kind"] == "marked"]
    areas = np.array([r["area"] for r in clean], float)
    out = []
    for share in CUT_SHARES:
        cut = float(np.quantile(areas, 1 - share))
        hit = np.array([r["area"] > cut for r in marked])
        ocr = np.array([r["ocr"] for r in marked])
        flagged = np.array([r["area"] > cut or r["ocr"] for r in clean])
        out.append({"clean_share": share, "area_cut": round(cut, 1), "map_recall": round(float(hit.mean()), 4),
                    "recall_on_ocr_misses": round(float(hit[~ocr].mean()), 4) if (~ocr).any() else None,
                    "ocr_recall": round(float(ocr.mean()), 4), "united_recall": round(float((hit | ocr).mean()), 4),
                    "ocr_clean_flags": round(float(np.mean([r["ocr"] for r in clean])), 4),
                    "united_clean_flags": round(float(flagged.mean()), 4)})
    return out


def report(result: dict[str, Any]) -> str:
    lines = [f"{result['pictures']} untuned clean pictures and their diagonal watermarks; net of {result['params']} "
             f"parameters, {result['steps']} steps on {result['samples']} dev crops", "",
             "| clean pictures above the cut | map alone | map on OCR's misses | OCR | map or OCR | clean flags: OCR "
             "-> map or OCR |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {c['clean_share']:.0%} | {c['map_recall']:.1%} | {c['recall_on_ocr_misses'] or 0:.1%} | "
              f"{c['ocr_recall']:.1%} | {c['united_recall']:.1%} | {c['ocr_clean_flags']:.1%} -> "
              f"{c['united_clean_flags']:.1%} |" for c in result["curve"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=12000, help="training crops drawn from the dev pictures")
    parser.add_argument("--steps", type=int, default=5000, help="training steps (batches of 24 crops)")
    parser.add_argument("--channels", type=int, default=40, help="width of the net's inner layers")
    parser.add_argument("--per-split", type=int, default=None, help="clean pictures per untuned split (all: default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the curve and every picture's reading here")
    args = parser.parse_args(argv)
    if not training_fonts():
        parser.error(f"no DejaVu or Liberation face under {', '.join(map(str, FONT_DIRS))}")
    groups = dev_sources()
    keys = sorted(groups)
    random.Random(args.seed).shuffle(keys)
    x, m = crops([p for k in keys[20:] for p in groups[k]], args.samples, args.seed)  # 20 sources kept out
    net = train(x, m, args.steps, args.channels, seed=args.seed)
    rows = screen(net, args.per_split, args.seed)
    result = {"pictures": sum(r["kind"] == "clean" for r in rows), "steps": args.steps, "samples": args.samples,
              "params": sum(p.numel() for p in net.parameters()), "curve": curve(rows), "rows": rows}
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

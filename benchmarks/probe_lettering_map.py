"""The text check's lettering map beside its OCR, on the text-style benchmark's faint diagonal watermark, as a curve.

    python benchmarks/probe_lettering_map.py                         # ~6 min on 2 cores: 533 pictures, each twice
    python benchmarks/probe_lettering_map.py --per-split 8           # a quick look
    python benchmarks/probe_lettering_map.py --model /tmp/lm/lettering_map.onnx --json lettering.json

The diagonal watermark of ``eval_text_styles.py`` (one word at 35% opacity, 30 degrees, across the middle) is the
style OCR misses most (66% found on the 533 untuned clean pictures, 50% on GCompris' 240 px photos): PP-OCR's DB
detector boxes nothing, or the word merged with the product it crosses. The text check then asks its lettering map
(:mod:`creative4u.checks.lettering`, trained by ``scripts/train_lettering_map.py`` on the dev split and textures no
split uses, its cut set on pictures kept out of training). This probe reads, on every untuned clean picture and its
diagonal watermark, OCR alone (the check with ``lettering: false``) and the map's largest region, and gives the
recall of the map alone, on OCR's misses and united with OCR, beside the clean pictures flagged, at the shipped cut
and at cuts that 1 / 2 / 5% of the untuned clean pictures exceed (a curve, for reading; the shipped cut is not set
here). Figures: benchmarks/README.md, "Pass 24".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from eval_renderings import clean_images
from PIL import Image

CUT_SHARES = (0.01, 0.02, 0.05)  # of untuned clean pictures above the cut


def screen(model: Path, per_split: int | None, seed: int) -> list[dict[str, Any]]:
    """Each untuned clean picture and its diagonal watermark: whether OCR alone flags text, and the map's region."""
    import eval_text_styles as ets
    from tqdm import tqdm

    from creative4u.checks.lettering import lettering_region
    from creative4u.checks.profile import load_profile
    from creative4u.checks.text import TextOverlay
    from creative4u.images import LoadedImage

    style = "text: diagonal watermark, one word, 35% opacity"
    styles = ets.renderings()
    if style not in styles:
        raise SystemExit(f"{style!r} has no font here: install the fonts of eval_text_styles.py's apt-get line")
    mark = styles[style][2]
    ocr, point, out = TextOverlay(lettering=False), load_profile("default").threshold_of("text"), []
    for split, path in tqdm(clean_images(per_split, seed), desc="screening", unit="picture"):
        with Image.open(path) as src:
            clean = src.convert("RGB")
        for kind, im in (("clean", clean), ("marked", mark(clean))):
            img = LoadedImage.from_pil(im)
            region = lettering_region(img, cut=0, model=model)
            out.append({"split": split, "kind": kind, "ocr": bool(ocr.run(img).score >= point),
                        "cells": region["cells"], "peak": region["peak"]})
    return out


def _at(clean: list[dict[str, Any]], marked: list[dict[str, Any]], cut: float) -> dict[str, Any]:
    hit = np.array([r["cells"] > cut for r in marked])
    ocr = np.array([r["ocr"] for r in marked])
    return {"cut_cells": round(cut, 1), "map_recall": round(float(hit.mean()), 4),
            "recall_on_ocr_misses": round(float(hit[~ocr].mean()), 4) if (~ocr).any() else None,
            "ocr_recall": round(float(ocr.mean()), 4), "united_recall": round(float((hit | ocr).mean()), 4),
            "ocr_clean_flags": round(float(np.mean([r["ocr"] for r in clean])), 4),
            "united_clean_flags": round(float(np.mean([r["cells"] > cut or r["ocr"] for r in clean])), 4)}


def curve(rows: list[dict[str, Any]], shipped_cut: float | None = None) -> list[dict[str, Any]]:
    """Recall of the marked pictures, alone and with OCR, at the shipped cut (if given) and at cuts set by the clean
    pictures' own regions (``CUT_SHARES`` of them above)."""
    clean = [r for r in rows if r["kind"] == "clean"]
    marked = [r for r in rows if r["kind"] == "marked"]
    cells = np.array([r["cells"] for r in clean], float)
    out = [{"at": "shipped cut", **_at(clean, marked, shipped_cut)}] if shipped_cut is not None else []
    for share in CUT_SHARES:
        out.append({"at": f"{share:.0%} of clean above", **_at(clean, marked, float(np.quantile(cells, 1 - share)))})
    return out


def by_split(rows: list[dict[str, Any]], cut: float) -> dict[str, dict[str, float]]:
    """Per untuned split: OCR alone and OCR or map on the marked pictures, at ``cut``."""
    out = {}
    for split in sorted({r["split"] for r in rows}):
        marked = [r for r in rows if r["split"] == split and r["kind"] == "marked"]
        out[split] = {"ocr": round(float(np.mean([r["ocr"] for r in marked])), 4),
                      "united": round(float(np.mean([r["ocr"] or r["cells"] > cut for r in marked])), 4)}
    return out


def report(result: dict[str, Any]) -> str:
    lines = [f"{result['pictures']} untuned clean pictures and their diagonal watermarks; map {result['model']}", "",
             "| cut (cells) | map alone | map on OCR's misses | OCR | OCR or map | clean flags: OCR -> OCR or map |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {c['at']}: {c['cut_cells']:g} | {c['map_recall']:.1%} | {c['recall_on_ocr_misses'] or 0:.1%} | "
              f"{c['ocr_recall']:.1%} | {c['united_recall']:.1%} | {c['ocr_clean_flags']:.1%} -> "
              f"{c['united_clean_flags']:.1%} |" for c in result["curve"]]
    lines += ["", "per split at the shipped cut: " + ", ".join(
        f"{s} {v['ocr']:.1%} -> {v['united']:.1%}" for s, v in result["by_split"].items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from creative4u.checks.lettering import MODEL_FILE, map_meta

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=MODEL_FILE, help="the map (ONNX); its .json beside it")
    parser.add_argument("--per-split", type=int, default=None, help="clean pictures per untuned split (all: default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the curve and every picture's reading here")
    args = parser.parse_args(argv)
    cut = float(map_meta(str(args.model.with_suffix(".json")))["cut_cells"])
    rows = screen(args.model, args.per_split, args.seed)
    result = {"pictures": sum(r["kind"] == "clean" for r in rows), "model": str(args.model), "shipped_cut": cut,
              "curve": curve(rows, cut), "by_split": by_split(rows, cut), "rows": rows}
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

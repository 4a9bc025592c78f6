"""False rejections when the clean pictures come smaller: the default profile on every untuned split's clean pictures,
as built and shrunk to a few shorter sides (thumbnails, a small test set).

    python benchmarks/eval_small_pictures.py                           # as built, 448, 384, 320 and 256 px
    python benchmarks/eval_small_pictures.py --sides 0,384 --json small.json

The clean set is 512-640 px (GCompris' photos 240 px, the landscapes 360 px), and the checks read a picture at 512 px
or at its own size when smaller, so a picture shrunk below 512 px is read on fewer pixels: fewer edges per
orientation, stars that fall below a pixel, fewer tiles for the smear's spectrum. Shrinking never blurs a clean
picture, so every rejection it adds is a false one. Each clean picture is shrunk with Lanczos (``eval_renderings``'
``thumbnail``) and screened by the whole profile; the table gives the share rejected (a vetoing check flags it) per
split and side, and the vetoing checks behind them. Nothing here was used to tune a check.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from eval_renderings import CACHE, SPLITS, by_split, clean_images, emit, thumbnail
from PIL import Image
from tqdm import tqdm

# The untuned splits: eval_renderings' five, the clip-art draw and the game-art split (pass 21).
SMALL_SPLITS = (*SPLITS, ("v3-fresh", "fresh"), ("v3-clipart", "clipart"))


def rejections(pictures: list[tuple[str, Path]], side: int, profile: str = "default") -> dict[str, Any]:
    """Screen every picture shrunk to ``side`` px (0: as built): rejected per split, by vetoing check, and which."""
    from creative4u.checks.suite import CheckSuite
    from creative4u.images import LoadedImage

    suite = CheckSuite(profile)
    splits, vetoed, by_check, files = [], [], Counter(), []
    for split, path in tqdm(pictures, desc=f"side {side or 'as built'}", unit="image"):
        with Image.open(path) as im:
            picture = thumbnail(im.convert("RGB"), side)
        screen = suite.screen(LoadedImage.from_pil(picture, path.name))
        splits.append(split)
        vetoed.append(bool(screen.vetoed))
        if screen.vetoed:
            vetoing = [n for n in screen.flagged if n in suite.veto]
            by_check.update(vetoing)
            files.append({"split": split, "image": path.name, "checks": vetoing})
    return {"side": side, "images": len(vetoed), "rejected": sum(vetoed),
            "rate": round(sum(vetoed) / max(1, len(vetoed)), 4), "per_split": by_split(splits, vetoed),
            "by_check": dict(by_check), "files": files}


def report(results: list[dict[str, Any]]) -> str:
    splits = sorted({s for r in results for s in r["per_split"]})
    head = "| shorter side | all | " + " | ".join(splits) + " | vetoing checks |"
    lines = [head, "|" + " --- |" * (len(splits) + 3)]
    for r in results:
        cells = " | ".join(f"{r['per_split'].get(s, 0):.1%}" for s in splits)
        checks = ", ".join(f"{k} {v}" for k, v in sorted(r["by_check"].items(), key=lambda kv: -kv[1]))
        lines.append(f"| {r['side'] or 'as built'} | {r['rate']:.1%} ({r['rejected']}/{r['images']}) | {cells} | "
                     f"{checks} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sides", default="0,448,384,320,256", help="comma list of shorter sides (0: as built)")
    parser.add_argument("--profile", default="default", help="check profile (name or YAML path)")
    parser.add_argument("--json", type=Path, help="also write the figures (and the rejected files) here")
    args = parser.parse_args(argv)
    pictures = clean_images(None, 0, SMALL_SPLITS)  # every clean picture of each split
    if not pictures:
        parser.error(f"no clean set under {CACHE}: build one with python -m creative4u.data.clean_set")
    results = [rejections(pictures, int(s), args.profile) for s in args.sides.split(",") if s.strip()]
    emit(report(results), results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

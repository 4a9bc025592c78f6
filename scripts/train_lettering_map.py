"""Train the text check's lettering map (``creative4u/checks/weights/lettering_map.onnx`` and its ``.json``).

    apt-get install fonts-dejavu-core fonts-liberation     # the 37 faces the marks are drawn in
    python scripts/train_lettering_map.py                  # ~35 min on 2 cores; needs torch (the dev install)
    python scripts/train_lettering_map.py --steps 300 --samples 600 --out /tmp/lm   # a quick look
    python scripts/train_lettering_map.py --calibrate /tmp/lm/lettering_map.onnx --flag-share 0.05 --out /tmp/lm

Training pictures: the clean set's **dev** split (clean pictures and their degraded copies without text or frames,
:mod:`creative4u.data.clean_set`), and text-free textures from Debian packages that no split of the clean set uses
(:data:`BACKGROUNDS`: ski-terrain and ice textures, MyPaint's paper backgrounds, Neverball's and Fish Fillets' game
scenes and walls, Tux Paint's starter pictures; a chroma-key wall or a blank one is skipped). ``--archives`` adds
photographed building textures packed in two games' archives (:data:`ARCHIVES`: UFO: Alien Invasion's facades,
windows, streets and doors, OpenArena's gothic arches and walls; small ones tiled; a texture OCR reads text on is
skipped, :func:`text_free`): pass 25's experiment against repeated structure, not the shipped recipe (it moved the
untuned pictures' curve by -1 to +2 points; ``benchmarks/README.md``). On each, with
probability 0.6, one synthetic translucent mark (:func:`draw_mark`): a made-up word in a DejaVu or Liberation face
(none of ``benchmarks/eval_text_styles.py``'s faces or words), 18-70% opacity, any angle, single or tiled, white,
black, grey or any colour; a third of the 192 px crops re-saved as JPEG. The net (:func:`lettering_net`) learns the
letters' mask at 1/4 scale. After ``--steps`` it is run over the training pictures unmarked; crops round the cells it
calls lettering there (its own false marks, a third of them marked again) join a third of every batch for
``--steps / 2`` more (hard-negative mining).

Calibration, on pictures no step saw: 20 dev sources and a quarter of the texture files are kept out. The cut is
the region size (cells) that ``--flag-share`` (2%) of their clean pictures exceed (131 pictures: at 1% the cut would
rest on one picture); their marked copies' recall at that cut is written beside it. The untuned splits are never
read here (``benchmarks/probe_lettering_map.py`` measures the shipped map on them).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import re
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from creative4u.checks import lettering  # noqa: E402
from creative4u.data.photos import default_cache_dir, unpack_deb  # noqa: E402

DEFAULT_SET = Path.home() / ".cache" / "creative4u" / "clean-set" / "v3"
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
SYLLABLES = ("ka", "ro", "mi", "to", "lu", "ve", "sa", "an", "el", "or", "is", "un", "ex", "qu", "zo", "pi", "ne",
             "ta", "gr", "st", "br", "ch", "ph", "ly", "ck", "ss")
CROP = 192  # training crop, px
# (Debian package, globs of its pictures): textures and scenes no clean-set split uses (GPL / CC / public domain,
# per each package's copyright file); used as backgrounds and, unmarked, as hard negatives.
BACKGROUNDS = (
    ("extremetuxracer-data", ("usr/share/games/etr/**/*.png",)),
    ("mypaint-data-extras", ("usr/share/mypaint/backgrounds/**/*.png",)),
    ("fillets-ng-data", ("usr/share/games/fillets-ng/images/**/*.png",)),
    ("neverball-data", ("usr/share/games/neverball/**/*.jpg", "usr/share/games/neverball/**/*.png")),
    ("tuxpaint-data", ("usr/share/tuxpaint/starters/*.png", "usr/share/tuxpaint/templates/*.jpg")),
)
# (Debian package, game archive inside it, member folders): photographed walls, facades, windows, paving, grates and
# gothic arches, the repeated structure (rows of windows, colonnades, brickwork) the first map mistook for letters.
# Packed as Quake-style .pk3 (zip) files; extracted once beside the unpacked package.
ARCHIVES = (
    ("ufoai-textures", "usr/share/games/ufoai/base/0textures.pk3",
     ("textures/tex_buildings/", "textures/tex_streets/", "textures/tex_material/", "textures/tex_doors/")),
    ("openarena-081-textures", "usr/share/games/openarena/baseoa/pak4-textures.pk3",
     ("textures/gothic_", "textures/base_wall", "textures/base_floor", "textures/base_trim", "textures/base_support")),
)
# Material maps beside a texture (normals, gloss, specular, height, glow) are not pictures of anything.
MATERIAL_MAP = re.compile(r"_(nm|n|norm|normal|gloss|spec|s|h|height|bump|glow|blend|local)\.[a-z]+$", re.I)
TILE_TO = 384  # a texture smaller than this is repeated up to 3 x 3 (a wall is its texture repeated)
KEPT_OUT_SOURCES, KEPT_OUT_SHARE = 20, 0.25  # dev sources / texture files kept out of training, for the cut


def training_fonts() -> list[str]:
    """The faces marks are drawn in (none of them is one of ``eval_text_styles``' faces)."""
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


def _scaled(path: Path, side: float) -> Image.Image:
    with Image.open(path) as src:
        im = src.convert("RGB")
    k = side / max(im.size)
    return im.resize((max(CROP, round(im.width * k)), max(CROP, round(im.height * k))), Image.Resampling.LANCZOS)


def _cut_crop(im: Image.Image, mask: np.ndarray, rng: np.random.Generator, at: tuple[np.ndarray, np.ndarray] | None
              ) -> tuple[np.ndarray, np.ndarray]:
    """A CROP px crop holding one of the pixels ``at`` (y, x arrays) if given, flipped and JPEG'd at random."""
    arr = np.asarray(im)
    y, x = rng.integers(0, arr.shape[0] - CROP + 1), rng.integers(0, arr.shape[1] - CROP + 1)
    if at is not None and len(at[0]):
        j = rng.integers(len(at[0]))
        y = int(np.clip(at[0][j] - rng.integers(CROP), 0, arr.shape[0] - CROP))
        x = int(np.clip(at[1][j] - rng.integers(CROP), 0, arr.shape[1] - CROP))
    arr, mask = arr[y:y + CROP, x:x + CROP], mask[y:y + CROP, x:x + CROP]
    if rng.random() < 0.5:
        arr, mask = arr[:, ::-1], mask[:, ::-1]
    if rng.random() < 0.3:  # creatives arrive as JPEG
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(arr)).save(buf, "JPEG", quality=int(rng.integers(60, 95)))
        arr = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return np.ascontiguousarray(arr.transpose(2, 0, 1)), np.ascontiguousarray(mask)


def training_crop(path: Path, rng: np.random.Generator, fonts: list[str], p_mark: float = 0.6,
                  at: tuple[np.ndarray, np.ndarray] | None = None, side: float | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """One (3 x CROP x CROP uint8 picture, CROP x CROP mask) sample at about the scale the check reads (384 px)."""
    im = _scaled(path, side or lettering.READ_SIDE * rng.uniform(0.75, 1.3))
    mask = np.zeros((im.height, im.width), np.uint8)
    if rng.random() < p_mark:
        im, mask = draw_mark(im, rng, fonts)
    if at is None and mask.any() and rng.random() < 0.8:  # most marked crops hold some of the letters
        at = np.nonzero(mask)
    return _cut_crop(im, mask, rng, at)


def crops(paths: list[Path], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` training samples drawn from ``paths``."""
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


def train(net: Any, data: list[tuple[np.ndarray, np.ndarray, float]], steps: int, lr: float = 3e-3,
          batch: int = 24, seed: int = 0) -> Any:
    """``net`` fitted to ``data`` (pools of crops and masks, each filling its share of every batch): BCE on the mask
    max-pooled to 1/4 scale, letters weighted 4x, one-cycle AdamW."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    targets = [F.max_pool2d(torch.from_numpy(m).float()[:, None], lettering.CELL) for _, m, _ in data]
    opt = torch.optim.AdamW(net.parameters(), lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=max(steps, 2))
    rng, start, net = np.random.default_rng(seed), time.time(), net.train()
    counts = [max(1, round(batch * share)) for _, _, share in data]
    for step in range(steps):
        picks = [rng.integers(0, len(x), k) for (x, _, _), k in zip(data, counts, strict=True)]
        xb = torch.cat([torch.from_numpy(x[i]) for (x, _, _), i in zip(data, picks, strict=True)]).float()
        tb = torch.cat([t[i] for t, i in zip(targets, picks, strict=True)])
        loss = F.binary_cross_entropy_with_logits(net(lettering.normalise(xb)), tb, pos_weight=torch.tensor(4.0))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 500 == 0 or step == steps - 1:
            print(f"step {step}: loss {loss.item():.3f} ({time.time() - start:.0f} s)", flush=True)
    return net.eval()


def _torch_map(net: Any, im: Image.Image) -> np.ndarray:
    import torch

    x = torch.from_numpy(np.asarray(im, np.float32).transpose(2, 0, 1).copy())[None]
    with torch.no_grad():
        return torch.sigmoid(net(lettering.normalise(x)))[0, 0].numpy()


def hard_negatives(net: Any, paths: list[Path], n: int, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Crops round the cells the net calls lettering on unmarked training pictures (a third of them then marked)."""
    rng, fonts, hits = np.random.default_rng(seed), training_fonts(), []
    for path in paths:
        side = lettering.READ_SIDE * rng.uniform(0.75, 1.3)
        ys, xs = np.nonzero(_torch_map(net, _scaled(path, side)) >= lettering.PROB)
        if len(ys):
            hits.append((path, side, ys * lettering.CELL, xs * lettering.CELL))
    print(f"hard negatives: the map fires on {len(hits)} of {len(paths)} unmarked training pictures", flush=True)
    if not hits:
        return None
    weight = np.sqrt([len(h[2]) for h in hits])
    x, m = np.zeros((n, 3, CROP, CROP), np.uint8), np.zeros((n, CROP, CROP), np.uint8)
    for i in range(n):
        path, side, ys, xs = hits[rng.choice(len(hits), p=weight / weight.sum())]
        x[i], m[i] = training_crop(path, rng, fonts, p_mark=0.3, at=(ys, xs), side=side)
    return x, m


def dev_groups(root: Path) -> dict[str, list[Path]]:
    """The dev split's clean pictures and their degraded copies without text or frames, by source picture."""
    rows = [json.loads(line) for line in (root / "labels_dev.jsonl").read_text().splitlines() if line.strip()]
    groups: dict[str, list[Path]] = {}
    for r in rows:
        if not {"text_overlay", "border"} & set(r["flags"]):
            groups.setdefault(r["key"], []).append(root / r["image"])
    return groups


def _usable_texture(path: Path) -> bool:
    """A picture big enough, not blank and not a chroma-key wall (Fish Fillets keys transparency as pure green)."""
    try:
        with Image.open(path) as src:
            if min(src.size) < 192:
                return False
            arr = np.asarray(src.convert("RGB"), np.int16)
    except (OSError, ValueError):
        return False
    key = ((arr[..., 1] > 240) & (arr[..., 0] < 15) & (arr[..., 2] < 15)).mean()
    r, g, b = arr.reshape(-1, 3).mean(axis=0)
    normals = b > 200 and 100 < r < 160 and 100 < g < 160  # a normal map named like a picture (mostly 128, 128, 255)
    return key < 0.02 and not normals and float(arr.mean(axis=2).std()) > 8 and not path.name.startswith("demo_")


def _tiled(im: Image.Image) -> Image.Image:
    k = min(3, math.ceil(TILE_TO / max(im.size)))
    if k <= 1:
        return im
    out = Image.new("RGB", (im.width * k, im.height * k))
    for i in range(k * k):
        out.paste(im, (i % k * im.width, i // k * im.height))
    return out


def archive_pictures(root: Path, archive: str, prefixes: tuple[str, ...]) -> list[Path]:
    """The pictures under ``prefixes`` in a zip ``archive`` of an unpacked package, as PNG files (small ones tiled,
    :data:`TILE_TO`), extracted once into ``<root>/.members/``; material maps (:data:`MATERIAL_MAP`) are skipped."""
    out_dir = root / ".members" / Path(archive).stem
    done = out_dir / ".complete"
    if not done.is_file():
        with zipfile.ZipFile(root / archive) as z:
            for info in z.infolist():
                name = info.filename
                if not name.startswith(prefixes) or not name.lower().endswith((".jpg", ".png", ".tga")):
                    continue
                if MATERIAL_MAP.search(name):
                    continue
                try:
                    with Image.open(io.BytesIO(z.read(info))) as src:
                        im = _tiled(src.convert("RGB"))
                except (OSError, ValueError):
                    continue
                dest = out_dir / Path(name).with_suffix(".png")
                dest.parent.mkdir(parents=True, exist_ok=True)
                im.save(dest)
        out_dir.mkdir(parents=True, exist_ok=True)
        done.write_text("ok\n")
    return sorted(p for p in out_dir.rglob("*.png"))


def text_free(paths: list[Path], memo: Path | None = None) -> list[Path]:
    """``paths`` without the pictures OCR reads legible text on (a sign or a poster in a texture would teach the
    map that letters are background); the text check's own OCR, its lettering map off. ``memo``: a JSON file of
    earlier readings (path -> text found), so a second run does not read them again."""
    from creative4u.checks.text import LEGIBLE_FLOOR, TextOverlay
    from creative4u.images import LoadedImage

    seen = json.loads(memo.read_text()) if memo and memo.is_file() else {}
    check = TextOverlay(lettering=False)
    for path in paths:
        if str(path) not in seen:
            with Image.open(path) as src:
                seen[str(path)] = check.run(LoadedImage.from_pil(src.convert("RGB"))).score >= LEGIBLE_FLOOR
    if memo:
        memo.write_text(json.dumps(seen, indent=0))
    kept = [p for p in paths if not seen[str(p)]]
    print(f"text-free: {len(kept)} of {len(paths)} textures (OCR read text on the rest)", flush=True)
    return kept


def _unpacked(package: str, cache: Path | None) -> Path | None:
    try:
        return unpack_deb(package, cache)
    except Exception as err:  # noqa: BLE001 - any fetch failure means the same: this source is missing
        print(f"{package}: unavailable ({err})", file=sys.stderr)
        return None


def textures(cache: Path | None, archives: bool = False) -> list[Path]:
    """The usable pictures of :data:`BACKGROUNDS`; with ``archives``, those of :data:`ARCHIVES` too, and all of them
    text-free (a package that cannot be fetched is left out, with a note)."""
    out: list[Path] = []
    for package, globs in BACKGROUNDS:
        if (root := _unpacked(package, cache)) is not None:
            out += [p for g in globs for p in sorted(root.glob(g)) if _usable_texture(p)]
    if not archives:
        return out
    packed: list[Path] = []
    for package, archive, members in ARCHIVES:
        if (root := _unpacked(package, cache)) is not None:
            packed += [p for p in archive_pictures(root, archive, members) if _usable_texture(p)]
    # The experiment's run read every texture with OCR, the old ones too (34 of 442 left out, 29 of 702 packed).
    return text_free(out + packed, (cache or default_cache_dir()) / "debian" / ".lettering_text_free.json")


def kept_out(path: Path) -> bool:
    """Whether a texture file is kept out of training for the calibration (a stable hash of its name)."""
    return int(hashlib.sha1(path.name.encode()).hexdigest()[:8], 16) / 16**8 < KEPT_OUT_SHARE


def export(net: Any, path: Path) -> None:
    """The net as ONNX (any picture size), read by :mod:`creative4u.checks.lettering` with onnxruntime."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(net.eval(), torch.zeros(1, 3, 96, 128), str(path), input_names=["picture"],
                      output_names=["logit"], dynamic_axes={"picture": {2: "height", 3: "width"}},
                      opset_version=17, dynamo=False)


def calibrate(model: Path, paths: list[Path], flag_share: float, seed: int) -> dict[str, Any]:
    """The cut (cells) that ``flag_share`` of the clean ``paths`` exceed, read as the check reads them, and the recall
    of their marked copies (one training-style mark each) at that cut."""
    from creative4u.images import LoadedImage

    rng, fonts, clean, marked = np.random.default_rng(seed), training_fonts(), [], []
    for path in paths:
        with Image.open(path) as src:
            im = src.convert("RGB")
        clean.append(lettering.lettering_region(LoadedImage.from_pil(im), cut=0, model=model)["cells"])
        marked.append(lettering.lettering_region(LoadedImage.from_pil(draw_mark(im, rng, fonts)[0]), cut=0,
                                                 model=model)["cells"])
    cut = int(np.ceil(np.quantile(clean, 1 - flag_share)))
    over = {name: round(float(np.mean(np.array(v) > cut)), 4) for name, v in (("clean", clean), ("marked", marked))}
    return {"cut_cells": cut, "pictures": len(paths), "clean_over_cut": over["clean"], "marked_recall": over["marked"],
            "flag_share": flag_share}


def pools(root: Path, cache: Path | None, seed: int, archives: bool = False
          ) -> tuple[list[Path], list[Path], list[Path]]:
    """Training dev pictures, training textures, and the kept-out pictures the cut is set on."""
    groups = dev_groups(root)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    texs = textures(cache, archives)
    dev = [p for k in keys[KEPT_OUT_SOURCES:] for p in groups[k]]
    # The cut is set on clean pictures only: a degraded copy is its source again, not another creative.
    held = [p for k in keys[:KEPT_OUT_SOURCES] for p in groups[k] if p.parent.name == "clean"]
    held += [p for p in texs if kept_out(p)]
    tex = [p for p in texs if not kept_out(p)]
    print(f"training on {len(dev)} dev pictures and {len(tex)} textures; {KEPT_OUT_SOURCES} dev sources and "
          f"{len(texs) - len(tex)} textures kept out ({len(held)} clean pictures)", flush=True)
    return dev, tex, held


def fit(dev: list[Path], tex: list[Path], args: argparse.Namespace) -> tuple[Any, bool]:
    """The net trained on crops of ``dev`` and ``tex``, then with its hard negatives; and whether any were mined."""
    xa, ma = crops(dev, args.samples, args.seed)
    xb, mb = crops(tex, args.texture_samples, args.seed + 1) if tex and args.texture_samples else (xa[:0], ma[:0])
    base = (np.concatenate([xa, xb]), np.concatenate([ma, mb]), 1.0)
    del xa, xb
    net = train(lettering_net(args.channels), [base], args.steps, seed=args.seed)
    mined = hard_negatives(net, tex + dev[::2], args.hard, args.seed + 2) if args.hard else None
    if mined is not None:
        net = train(net, [base[:2] + (2 / 3,), mined + (1 / 3,)], args.steps // 2, lr=1e-3, seed=args.seed + 1)
    return net, mined is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="the clean set (its dev split is read)")
    parser.add_argument("--samples", type=int, default=12000, help="training crops from the dev pictures")
    parser.add_argument("--texture-samples", type=int, default=6000, help="training crops from the textures")
    parser.add_argument("--hard", type=int, default=4000, help="hard-negative crops mined after the first steps")
    parser.add_argument("--steps", type=int, default=5000, help="first training steps (batches of 24 crops)")
    parser.add_argument("--channels", type=int, default=40, help="width of the net's inner layers")
    parser.add_argument("--flag-share", type=float, default=0.02, help="kept-out clean pictures over the cut")
    parser.add_argument("--calibrate", type=Path, default=None,
                        help="an exported map (.onnx, its .json beside it) to re-cut instead of training one")
    parser.add_argument("--cache", type=Path, default=None, help="where Debian packages are unpacked")
    parser.add_argument("--archives", action="store_true",
                        help="add the building textures of ARCHIVES (pass 25's experiment; not the shipped recipe)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=lettering.MODEL_FILE.parent, help="folder for the two files")
    args = parser.parse_args(argv)
    fonts = training_fonts()
    if not fonts:
        parser.error(f"no DejaVu or Liberation face under {', '.join(map(str, FONT_DIRS))}")
    missing = [str(d) for d in FONT_DIRS if not d.is_dir()]
    if missing and not args.calibrate:  # the shipped map was drawn in 37 faces: fewer is another recipe
        print(f"warning: {', '.join(missing)} missing (apt-get install fonts-dejavu-core fonts-liberation); marks "
              f"drawn in {len(fonts)} faces", file=sys.stderr)
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    dev, tex, held = pools(args.set.expanduser(), args.cache, args.seed, args.archives)
    if args.calibrate:
        model, meta = args.calibrate, json.loads(args.calibrate.with_suffix(".json").read_text())
    else:
        net, mined = fit(dev, tex, args)
        model = args.out / lettering.MODEL_FILE.name
        export(net, model)
        lettering._session.cache_clear()
        meta = {"version": "1", "read_side": lettering.READ_SIDE, "cell": lettering.CELL, "prob": lettering.PROB,
                "params": sum(p.numel() for p in net.parameters()),
                "training": {"set": f"{args.set.name} labels_dev.jsonl (dev split only)", "dev_pictures": len(dev),
                             "textures": len(tex),
                             "texture_packages": [p for p, *_ in BACKGROUNDS + (ARCHIVES if args.archives else ())],
                             "samples": args.samples, "texture_samples": args.texture_samples, "hard": args.hard,
                             "steps": args.steps, "hard_steps": args.steps // 2 if mined else 0,
                             "channels": args.channels, "seed": args.seed, "fonts": [Path(f).name for f in fonts]}}
    calib = calibrate(model, held, args.flag_share, args.seed + 3)
    meta = {**meta, "cut_cells": calib["cut_cells"], "calibration": calib}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / lettering.META_FILE.name).write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps(calib), f"\nwrote {args.out / lettering.META_FILE.name} (the map: {model})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

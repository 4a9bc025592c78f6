"""A clean-image set of many styles (not just natural photos), its degraded copies, and a labels file for
``creative4u eval checks``.

>>> split_of("debian:ukui-wallpapers/city.png"), split_of("render:gradient:3")
('heldout', 'dev')

    python -m creative4u.data.clean_set --out ~/.cache/creative4u/clean-set/v3      # or scripts/build_clean_set.py
    python -m creative4u.data.clean_set --out ~/.cache/creative4u/clean-set/v3-probe --sources probe
    python -m creative4u.data.clean_set --out ~/.cache/creative4u/clean-set/v3-unseen --sources unseen
    python -m creative4u.data.clean_set --out ~/.cache/creative4u/clean-set/v3-clipart --sources clipart
    python -m creative4u.data.clean_set --out ~/.cache/creative4u/clean-set/v3-landscapes --sources landscapes
    python -m creative4u.data.clean_set --out ~/.cache/creative4u/clean-set/v3-fresh --sources fresh

Sources, each file's licence recorded in ``manifest.jsonl``:

* digital art from Debian wallpaper packages, downloaded with ``apt-get download`` and unpacked (never installed)
  into the photo cache: ``mate-backgrounds`` (abstract/ and desktop/), ``ukui-wallpapers``, ``gnome-backgrounds``,
  ``lomiri-wallpapers-20.04``, ``lomiri-wallpapers``, ``sway-backgrounds``, ``desktop-base`` (the themes' rendered
  16:9 PNGs); licences read from each package's ``debian/copyright``;
* natural photographs (``creative4u.data.photos``: skimage, lomiri-wallpapers-16.04, mate nature), used as they are
  and with deliberate grades: low-key, high-key, black-and-white, sepia (:func:`creative4u.data.styled.grade_photo`);
  skimage's own grayscale photographs (camera, ...) as black-and-white;
* rendered styles (:mod:`creative4u.data.styled`: gradients, flat illustration, product on white / colour,
  designed text banners, night scenes), licence ``CC0-1.0`` (made here);
* on request (``--sources probe``, into its own folder), a ``probe`` split from wallpaper packages nothing was tuned
  or inspected on (``plasma-workspace-wallpapers``, ``xfdesktop4-data``): an out-of-source check;
* on request (``--sources unseen``), an ``unseen`` split built after every threshold was set: ``lxqt-themes``
  wallpapers and product shots (photographed objects cut out with alpha, from ``tuxpaint-stamps-default``, placed on
  plain and soft-gradient canvases: :func:`on_canvas`);
* on request (``--sources clipart``), a ``clipart`` split added in pass 6, after every threshold was set: 120
  drawings from ``openclipart-png`` (public domain: flat illustrations, icons, flags, pictograms) on white;
* on request (``--sources landscapes``), a ``landscapes`` split added in pass 7: 120 landscape photographs from
  ``endless-sky-data`` (public domain / CC-BY-SA, per file), cut to ad canvases of <= 360 px (the originals are
  720 x 360);
* on request (``--sources gcompris``), a ``gcompris`` split added in pass 8: GCompris' teaching pictures, read out of
  the Qt resource bundles of ``gcompris-qt-data`` (:mod:`creative4u.data.qt_rcc`): photographs of animals,
  monuments and landscapes, small photographs of objects and fish (<= 240 px creatives: the originals are
  320 x 240), and drawings of everyday words laid whole on white (GPL-3+, CC-BY-SA, CC-BY or public domain, per file);
* on request (``--sources fresh``), a ``fresh`` split added in pass 21: Battle for Wesnoth's painted story scenes
  (``wesnoth-1.16-data`` and two campaign packages) and 40 of its character portraits laid whole on a dark navy
  canvas, the look of a game's ad (GPL-2+; the copyright file is not DEP-5, so the source states the licence).

Each item lands in ``dev`` (tune on this) or ``heldout`` (never tuned on) by a hash of its source key (for a graded
photo, the photo's: the original and its grade share a split), so the split does not move when sources are added. Clean
creatives are saved as a shop would upload them (JPEG q85-95 for photos and art, PNG for rendered graphics). Degraded
copies apply the stock degradations of :mod:`creative4u.data.degrade` (round-robin over the clean images, random
severity) plus text overlays in unseen styles (``text_overlay`` label, ``style`` recorded). ``labels_<split>.jsonl``
rows are ``{image, flags, style, split, source, change}``. v3: a crop that shows nothing (a black corner of a
wallpaper) is redrawn, and a degraded copy that changes nothing visible (blurring a flat colour field:
:func:`visible_change` below 6 grey levels) is left out and counted in ``summary.json``: no check, and no shopper,
can see such a "defect", so it would only measure luck.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from creative4u.data.photos import (
    default_cache_dir,
    licence_for,
    list_photos,
    matching_paragraph,
    parse_dep5,
    unpack_deb,
)

log = logging.getLogger(__name__)

SPLITS = ("dev", "heldout")
DEGRADATIONS = ("blur", "defocus", "motion_blur", "low_resolution", "underexposed", "overexposed", "low_contrast",
                "noise", "jpeg", "border", "text_overlay")


@dataclass(frozen=True)
class ArtSource:
    """Digital-art files inside one Debian package and the folder its copyright ``Files:`` globs start from."""

    package: str
    patterns: tuple[str, ...]
    strip: str  # leading path removed before matching the copyright file's globs
    skip: tuple[str, ...] = ()
    largest_per_folder: bool = False  # a wallpaper shipped in several sizes counts once (its largest file)
    style: str = "digital_art"
    limit: int = 0  # at most this many files, drawn at random (0: all of them)
    max_side: int = 0  # the creatives' long side stays <= this (small originals are not upscaled); 0: the set's side
    bundles: str = ""  # glob of Qt resource bundles (.rcc) holding the pictures; ``patterns`` then match inside them
    canvas: str = ""  # a drawing with alpha: laid whole on this colour and fitted (not cropped to an ad canvas)
    licence: str = ""  # the package's licence, where its copyright file is not DEP-5 (``holder`` then names who)
    holder: str = ""


ART_SOURCES = (
    ArtSource("mate-backgrounds", ("usr/share/backgrounds/mate/abstract/*", "usr/share/backgrounds/mate/desktop/*"),
              "usr/share/backgrounds/mate/", skip=("Elephants_3840x2160", "Elephants_5640x3172")),
    ArtSource("ukui-wallpapers", ("usr/share/backgrounds/*",), "usr/share/backgrounds/"),
    ArtSource("gnome-backgrounds", ("usr/share/backgrounds/gnome/*.webp",), "usr/share/backgrounds/gnome/"),
    ArtSource("lomiri-wallpapers-20.04", ("usr/share/backgrounds/*.jpg",), "usr/share/backgrounds/"),
    ArtSource("lomiri-wallpapers", ("usr/share/backgrounds/*.png",), "usr/share/backgrounds/"),
    ArtSource("sway-backgrounds", ("usr/share/backgrounds/sway/Sway_Wallpaper_Blue_1920x1080.png",),
              "usr/share/backgrounds/sway/"),
    ArtSource("desktop-base", ("usr/share/desktop-base/*-theme/grub/grub-16x9.png",), ""),
)
# The probe: wallpaper packages no threshold was ever tuned or inspected on, a third split (``probe``) built only on
# request (``--sources probe``), for an out-of-source check of the figures. The largest rendering of each KDE
# wallpaper, XFCE's backgrounds.
PROBE_SOURCES = (
    ArtSource("plasma-workspace-wallpapers", ("usr/share/wallpapers/*/contents/images/*",), "",
              largest_per_folder=True),
    ArtSource("xfdesktop4-data", ("usr/share/backgrounds/xfce/*",), ""),
)
# A second out-of-source split (``--sources unseen``), built after every threshold of issue 14 was set: LXQt's
# wallpapers and real product photographs, Tux Paint's photographic stamps (objects cut out with alpha), placed on
# the plain, off-white, pastel or soft-gradient canvases shops shoot products on. Minimal product shots are the most
# common paid-ad creative and the other splits only have rendered ones.
UNSEEN_ART = (ArtSource("lxqt-themes", ("usr/share/lxqt/wallpapers/*",), "usr/share/lxqt/"),)
STAMP_PACKAGE = "tuxpaint-stamps-default"
STAMP_SKIP = ("symbols/", "seasonal/", "town/roadsigns/", "town/flags/", "/cartoon/")  # drawings, signs, letters
# A third (``--sources clipart``), added in pass 6 after every threshold was set: flat illustrations, icons, flags
# and pictograms from the Open Clip Art Library (public domain) on a white canvas, a style none of the others had
# from a real source (only rendered flat illustrations).
CLIPART_PACKAGE, CLIPART_COUNT, CLIPART_MIN_SIDE = "openclipart-png", 120, 400
# A fourth (``--sources landscapes``), added in pass 7 after every threshold was set: 120 of the 273 landscape
# photographs Endless Sky shows on landing (public domain from morgueFile, some CC-BY-SA from Wikimedia Commons; the
# licence of each file is read from the package's copyright file), 720 x 360 px, so cut to ad canvases of <= 360 px.
LANDSCAPES = (ArtSource("endless-sky-data", ("usr/share/games/endless-sky/images/land/*",),
                        "usr/share/games/endless-sky/", style="photo", limit=120, max_side=360),)
# A fifth (``--sources gcompris``), added in pass 8 after every threshold was set: GCompris' teaching pictures, read
# out of its Qt resource bundles: photographs of animals, monuments, bears and landscapes (Wikimedia Commons,
# public domain or CC-BY / CC-BY-SA per file), small object and fish photographs (320 x 240 originals, so <= 240 px
# creatives), and drawings of everyday words on white.
GCOMPRIS = "gcompris-qt-data"
GCOMPRIS_SOURCES = (
    ArtSource(GCOMPRIS, ("gcompris/src/activities/erase/resource/*", "gcompris/src/activities/explore_*/resource/*/*"),
              "gcompris/", style="photo", bundles="usr/share/gcompris-qt/rcc/*.rcc"),
    ArtSource(GCOMPRIS, ("gcompris/src/activities/categorization/resource/images/*/*",), "gcompris/", style="photo",
              limit=60, max_side=240, bundles="usr/share/gcompris-qt/rcc/*.rcc"),
    ArtSource(GCOMPRIS, ("gcompris/src/activities/lang/resource/words_sample/*",), "gcompris/", style="clip_art",
              limit=50, bundles="usr/share/gcompris-qt/rcc/*.rcc", canvas="white"),
)
# A sixth (``--sources fresh``), added in pass 21 after every threshold was set: Wesnoth's painted story scenes (the
# core set's and two campaigns': moody, often low-key digital art) and 40 of its character portraits laid whole on a
# dark navy canvas, the look of a game's ad (GPL-2+).
WESNOTH = "wesnoth-1.16-data"
# Its copyright file is not machine-readable: every file is GPL-2+ and the holders are its many contributors.
WESNOTH_LICENCE = {"licence": "GPL-2+", "holder": "The Battle for Wesnoth contributors"}
WESNOTH_CAMPAIGNS = "usr/share/games/wesnoth/1.16/data/campaigns"
FRESH_SOURCES = (
    ArtSource(WESNOTH, ("usr/share/games/wesnoth/1.16/data/core/images/story/*.jpg",), "", **WESNOTH_LICENCE),
    ArtSource("wesnoth-1.16-httt", (f"{WESNOTH_CAMPAIGNS}/Heir_To_The_Throne/images/story/*",), "", **WESNOTH_LICENCE),
    ArtSource("wesnoth-1.16-did", (f"{WESNOTH_CAMPAIGNS}/Descent_Into_Darkness/images/story/*",), "",
              **WESNOTH_LICENCE),
    ArtSource(WESNOTH, ("usr/share/games/wesnoth/1.16/data/core/images/portraits/*/*.png",), "", limit=40,
              canvas="#1c2233", **WESNOTH_LICENCE),
)
# Sources that form a split of their own.
OUT_OF_SOURCE = ("probe", "unseen", "clipart", "landscapes", "gcompris", "fresh")
PHOTO_GRADES = ("low_key", "high_key", "mono", "sepia")
SKIMAGE_GRAY = ("camera", "grass", "gravel", "brick")
RENDER_COUNTS = {"gradient": 10, "flat_illustration": 8, "product_on_white": 8, "product_on_colour": 6,
                 "banner": 10, "night": 6}


def split_of(key: str, heldout_share: float = 1 / 3) -> str:
    """``dev`` or ``heldout`` from a stable hash of the item's source key."""
    h = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "heldout" if h < heldout_share else "dev"


@dataclass
class Item:
    """One clean creative before it is saved: pixels, where they came from, and its style."""

    key: str
    style: str
    image: Image.Image
    source: str
    licence: str
    attribution: str
    group: str = ""  # the source picture: every grade of one photo lands in the same split (default: the key)


MIN_CONTENT_STD = 3.0  # grey levels at 64 px: a crop flatter than this shows nothing (a black corner of a wallpaper)
MIN_VISIBLE_CHANGE = 6.0  # grey levels: a degraded copy must change some part of the picture at least this much


def _fit(img: Image.Image, rng: np.random.Generator, side: int, tries: int = 8) -> Image.Image | None:
    """Crop to a square or 4:5 / 16:9 ad canvas with ``side`` px on the long side (never upscaled much); ``None``
    when every try lands on a featureless patch (no one uploads a plain black square as a creative)."""
    from creative4u.data.degrade import make_creative

    for _ in range(tries):
        aspect = float(rng.choice([1.0, 1.0, 0.8, 16 / 9]))
        size = (side, round(side / aspect)) if aspect >= 1 else (round(side * aspect), side)
        out = make_creative(img, size, rng)[0]
        if np.asarray(out.convert("L").resize((64, 64), Image.Resampling.BOX), np.float32).std() >= MIN_CONTENT_STD:
            return out
    return None


def visible_change(clean: Image.Image, bad: Image.Image, side: int = 1024) -> float:
    """How much the most-changed part of the picture moved: the 99.9th percentile of the absolute luma difference at
    the pixels' own scale (<= ``side`` px), in grey levels; grain and JPEG blocking live at that scale. Blurring a
    flat colour field or darkening a black canvas changes nothing a shopper (or any check) could see; such copies
    are left out of the set, and counted.

    >>> flat = Image.new("RGB", (64, 64), (20, 20, 20))
    >>> visible_change(flat, flat), visible_change(flat, Image.new("RGB", (64, 64), (90, 90, 90)))
    (0.0, 70.0)
    """
    def small(im: Image.Image) -> np.ndarray:
        im = im.convert("L")
        scale = min(1.0, side / max(im.size))
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.Resampling.BOX)
        return np.asarray(im, np.float32)

    return round(float(np.percentile(np.abs(small(clean) - small(bad)), 99.9)), 2)


def _source_files(root: Path, pattern: str, largest_per_folder: bool) -> list[Path]:
    paths = sorted(root.glob(pattern))
    if not largest_per_folder:
        return paths
    best: dict[Path, Path] = {}
    for path in paths:
        if path.parent not in best or path.stat().st_size > best[path.parent].stat().st_size:
            best[path.parent] = path
    return sorted(best.values())


def _unpacked(package: str, cache_dir: Path | None) -> Path | None:
    """The unpacked root of a Debian package, or None (with a warning): a package that cannot be fetched leaves its
    styles out of the set rather than failing the build."""
    try:
        return unpack_deb(package, cache_dir)
    except Exception as err:  # noqa: BLE001 - any fetch or unpack failure means the same: this source is missing
        log.warning("clean set: %s unavailable (%s)", package, err)
        return None


def art_items(rng: np.random.Generator, side: int, cache_dir: Path | None = None,
              sources: Sequence[ArtSource] = ART_SOURCES) -> Iterator[Item]:
    for src in sources:
        root = _unpacked(src.package, cache_dir)
        if root is None:
            continue
        paragraphs = [] if src.licence else parse_dep5(
            (root / "usr/share/doc" / src.package / "copyright").read_text(errors="replace"))
        base = _bundle_tree(root, src.bundles) if src.bundles else root
        for path in _art_files(base, src, rng):
            rel = str(path.relative_to(base))
            licence, holder = ((src.licence, src.holder) if src.licence
                               else _licence(rel.removeprefix(src.strip), paragraphs))
            target = min(side, src.max_side or side)
            with Image.open(path) as im:
                im.draft("RGB", (side * 2, side * 2))
                fitted = _on(im, src.canvas, target) if src.canvas else _fit(im.convert("RGB"), rng, target)
            if fitted is None:
                log.info("clean set: %s shows no content in any crop; left out", rel)
                continue
            yield Item(f"debian:{src.package}/{rel}", src.style, fitted,
                       f"debian:{src.package}", licence, f"{holder} ({src.package}, Debian: {rel})")


def _bundle_tree(root: Path, bundles: str) -> Path:
    """The pictures of the package's Qt resource bundles, extracted once under ``<root>/.rcc``."""
    from creative4u.data.qt_rcc import extract_rcc

    tree = root / ".rcc"
    if not (tree / ".complete").is_file():
        extract_rcc(sorted(root.glob(bundles)), tree, suffixes=(".jpg", ".jpeg", ".png", ".webp"))
        (tree / ".complete").write_text(bundles + "\n")
    return tree


def _licence(rel: str, paragraphs: Sequence[dict[str, str]]) -> tuple[str, str]:
    """The file's licence; a picture re-encoded for shipping (``x.webp`` from the ``x.jpg`` the copyright file names)
    takes the licence of the most specific paragraph any of its source names matches."""
    stem, _, _ = rel.rpartition(".")
    names = [rel] + [f"{stem}.{ext}" for ext in ("jpg", "jpeg", "png", "svg") if stem and not rel.endswith(ext)]
    # max keeps the first on a tie: the file's own name wins unless a source name has a more specific paragraph.
    return licence_for(max(names, key=lambda name: matching_paragraph(name, paragraphs)), paragraphs)


def _on(im: Image.Image, canvas: str, side: int, upscale: bool = False) -> Image.Image:
    """A drawing with alpha laid whole on a ``canvas`` colour, its long side fitted to ``side`` (not upscaled unless
    ``upscale``)."""
    rgba = im.convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, canvas), rgba).convert("RGB")
    scale = side / max(flat.size) if upscale else min(1.0, side / max(flat.size))
    return flat.resize((max(1, round(flat.width * scale)), max(1, round(flat.height * scale))),
                       Image.Resampling.LANCZOS)


def _art_files(root: Path, src: ArtSource, rng: np.random.Generator) -> list[Path]:
    """The source's picture files in a stable order, or ``limit`` of them drawn at random."""
    files = [path for pattern in src.patterns for path in _source_files(root, pattern, src.largest_per_folder)
             if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp") and path.stem not in src.skip]
    if src.limit and len(files) > src.limit:
        files = [files[int(i)] for i in sorted(rng.choice(len(files), src.limit, replace=False))]
    return files


def photo_items(rng: np.random.Generator, side: int, cache_dir: Path | None = None) -> Iterator[Item]:
    from creative4u.data.styled import grade_photo

    try:
        photos = list_photos(("skimage", "debian"), cache_dir)
    except Exception as err:  # noqa: BLE001
        log.warning("clean set: Debian photos unavailable (%s); skimage only", err)
        photos = list_photos(("skimage",))
    for i, p in enumerate(photos):
        base = _fit(p.load(min_side=side), rng, side)
        if base is None:
            continue
        yield Item(f"photo:{p.id}", "photo", base, p.source, p.licence, p.attribution, group=f"photo:{p.id}")
        grade = PHOTO_GRADES[i % len(PHOTO_GRADES)]
        yield Item(f"photo:{p.id}:{grade}", grade, grade_photo(base, grade, rng), p.source, p.licence,
                   p.attribution + f"; {grade} grade made here", group=f"photo:{p.id}")
    from skimage import data

    for name in SKIMAGE_GRAY:
        gray = Image.fromarray(getattr(data, name)()).convert("RGB")
        fitted = _fit(gray, rng, min(side, max(gray.size)))
        if fitted is not None:
            yield Item(f"photo:skimage-{name}", "mono", fitted, "skimage", "public-domain/CC0 (scikit-image data)",
                       f"skimage.data.{name}")


def render_items(rng: np.random.Generator, side: int) -> Iterator[Item]:
    from creative4u.data.styled import render_style

    for style, n in RENDER_COUNTS.items():
        for k in range(n):
            aspect = (1.0, 1.0, 0.8, 16 / 9)[k % 4]
            size = (side, round(side / aspect)) if aspect >= 1 else (round(side * aspect), side)
            yield Item(f"render:{style}:{k}", style, render_style(style, rng, size), "rendered", "CC0-1.0",
                       "rendered by creative4u.data.styled")


def is_photo_cutout(cut: Image.Image, min_side: int = 300, min_colours: int = 8000) -> bool:
    """Whether an RGBA stamp is a photographed object (thousands of distinct colours on a real-size cut-out) rather
    than a drawing (flat fills) or an icon.

    >>> from skimage import data
    >>> photo = Image.fromarray(data.astronaut()).convert("RGBA")
    >>> is_photo_cutout(photo), is_photo_cutout(Image.new("RGBA", (400, 400), (200, 30, 30, 255)))
    (True, False)
    """
    rgba = np.asarray(cut.convert("RGBA"))
    opaque = rgba[..., 3] > 200
    if max(cut.size) < min_side or opaque.sum() < 5000:
        return False
    packed = rgba[opaque][:, :3].astype(np.uint32) @ np.array([65536, 256, 1], np.uint32)
    return len(np.unique(packed)) >= min_colours


PASTEL_CANVAS = ((244, 232, 222), (222, 234, 244), (230, 242, 226), (246, 238, 210))  # cream, sky, mint, sand


def on_canvas(cut: Image.Image, rng: np.random.Generator, side: int) -> Image.Image:
    """A cut-out object on a shop's canvas (white, off-white, light grey, pastel or a soft vertical gradient) with a
    soft drop shadow; the object is scaled down to fit 80% of the canvas, never up (an upscaled stamp is soft).

    >>> cut = Image.new("RGBA", (100, 60), (200, 30, 30, 255))
    >>> out = on_canvas(cut, np.random.default_rng(0), 160)
    >>> max(out.size), out.getpixel((0, 0)) == out.getpixel((out.width - 1, 0))
    (160, True)
    """
    from PIL import ImageFilter

    aspect = float(rng.choice([1.0, 1.0, 0.8]))
    w, h = (side, round(side / aspect)) if aspect >= 1 else (round(side * aspect), side)
    kind = int(rng.integers(5))
    top = [(255, 255, 255), (248, 248, 246), (236, 236, 236), None, None][kind] or PASTEL_CANVAS[rng.integers(4)]
    bottom = PASTEL_CANVAS[rng.integers(4)] if kind == 4 else top
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    canvas = np.asarray(top, np.float32) * (1 - ramp) + np.asarray(bottom, np.float32) * ramp
    im = Image.fromarray(np.repeat(canvas, w, axis=1).round().astype(np.uint8))
    scale = min(1.0, 0.8 * w / cut.width, 0.8 * h / cut.height)
    obj = cut.convert("RGBA").resize((max(1, round(cut.width * scale)), max(1, round(cut.height * scale))),
                                     Image.Resampling.LANCZOS)
    x = (w - obj.width) // 2 + int(rng.integers(-w // 20, w // 20 + 1))
    y = (h - obj.height) // 2 + int(rng.integers(-h // 20, h // 20 + 1))
    shade = Image.new("L", im.size, 0)
    shade.paste(obj.getchannel("A").point(lambda a: a * 0.35), (x + w // 80, y + h // 50))
    im.paste(Image.new("RGB", im.size, (60, 60, 60)), (0, 0), shade.filter(ImageFilter.GaussianBlur(side / 80)))
    im.paste(obj, (x, y), obj)
    return im


def stamp_items(rng: np.random.Generator, side: int, cache_dir: Path | None = None) -> Iterator[Item]:
    """Product shots from Tux Paint's photographic stamps (:func:`is_photo_cutout`), each on a canvas."""
    root = _unpacked(STAMP_PACKAGE, cache_dir)
    if root is None:
        return
    paragraphs = parse_dep5((root / "usr/share/doc" / STAMP_PACKAGE / "copyright").read_text(errors="replace"))
    base = root / "usr/share/tuxpaint/stamps"
    for path in sorted(base.rglob("*.png")):
        rel = str(path.relative_to(base))
        if any(skip in "/" + rel for skip in STAMP_SKIP):
            continue
        with Image.open(path) as im:
            cut = im.convert("RGBA")
        if not is_photo_cutout(cut):
            continue
        licence, holder = licence_for(f"stamps/{rel}", paragraphs)
        yield Item(f"debian:{STAMP_PACKAGE}/{rel}", "product_photo", on_canvas(cut, rng, side),
                   f"debian:{STAMP_PACKAGE}", licence, f"{holder} ({STAMP_PACKAGE}, Debian: {rel}); canvas made here")


def clipart_items(rng: np.random.Generator, side: int, cache_dir: Path | None = None,
                  count: int = CLIPART_COUNT) -> Iterator[Item]:
    """``count`` distinct clip-art drawings (short side >= 400 px), drawn on white and fitted to ``side`` px."""
    root = _unpacked(CLIPART_PACKAGE, cache_dir)
    if root is None:
        return
    base = root / "usr/share/openclipart/png"
    paths = sorted(base.rglob("*.png"))
    seen: set[str] = set()  # the library files some drawings under two categories
    for i in rng.permutation(len(paths)):
        if len(seen) >= count:
            return
        drawing = _clipart_on_white(paths[int(i)], side, seen)
        if drawing is not None:
            rel = str(paths[int(i)].relative_to(base))
            yield Item(f"debian:{CLIPART_PACKAGE}/{rel}", "clip_art", drawing, f"debian:{CLIPART_PACKAGE}",
                       "public-domain", f"Open Clip Art Library ({CLIPART_PACKAGE}, Debian: {rel}); white canvas here")


def _clipart_on_white(path: Path, side: int, seen: set[str]) -> Image.Image | None:
    digest = hashlib.sha1(path.read_bytes()).hexdigest()
    if digest in seen:
        return None
    with Image.open(path) as im:
        if min(im.size) < CLIPART_MIN_SIDE:
            return None
        drawing = _on(im, "white", side, upscale=True)
    seen.add(digest)
    return drawing


def _save(img: Image.Image, path: Path, rendered: bool, rng: np.random.Generator,
          quality: int | None = None) -> dict[str, Any]:
    if quality is None and rendered and rng.random() < 0.6:
        path = path.with_suffix(".png")
        img.save(path, "PNG")
        return {"path": path, "format": "PNG"}
    q = int(quality if quality is not None else rng.choice([85, 90, 92, 95]))
    img.save(path, "JPEG", quality=q, subsampling=2 if q < 95 else 0)
    return {"path": path, "format": "JPEG", "quality": q}


def _degrade(img: Image.Image, label: str, rng: np.random.Generator) -> tuple[Image.Image, dict[str, Any]]:
    from creative4u.data.degrade import degrade
    from creative4u.data.styled import novel_text_overlay

    if label == "text_overlay" and rng.random() < 0.5:  # half the overlays in styles the stock renderer lacks
        out, params = novel_text_overlay(img, rng)
        return out, {**params, "novel": True}
    out, params = degrade(img, label, rng, float(rng.uniform(0.1, 1.0)))
    return out, {**params, "novel": False}


def build_clean_set(out: str | Path, side: int = 640, seed: int = 0, per_image: int = 6,
                    cache_dir: str | Path | None = None, sources: Sequence[str] = ("art", "photo", "render"),
                    fetch_font: bool = True) -> dict[str, Any]:
    """Write clean creatives, degraded copies and ``labels_<split>.jsonl`` / ``manifest.jsonl`` under ``out``."""
    out = Path(out).expanduser()
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    rng = np.random.default_rng(seed)
    gens = {"art": lambda: art_items(rng, side, cache), "photo": lambda: photo_items(rng, side, cache),
            "render": lambda: render_items(rng, side), "probe": lambda: art_items(rng, side, cache, PROBE_SOURCES),
            "unseen": lambda: chain(art_items(rng, side, cache, UNSEEN_ART), stamp_items(rng, side, cache)),
            "clipart": lambda: clipart_items(rng, side, cache),
            "landscapes": lambda: art_items(rng, side, cache, LANDSCAPES),
            "gcompris": lambda: art_items(rng, side, cache, GCOMPRIS_SOURCES),
            "fresh": lambda: art_items(rng, side, cache, FRESH_SOURCES)}
    unknown = sorted(set(sources) - set(gens))
    if unknown:  # before anything is fetched or written
        raise ValueError(f"unknown clean-set source(s) {unknown}; valid: {', '.join(gens)}")
    from creative4u.data.photos import fetch_cjk_font

    # The CJK overlays (vertical stacks, promo stickers) need a real CJK face: without one they render as empty
    # boxes, which is not text. Fetched once (unpack-only), like the art packages.
    if fetch_font:
        fetch_cjk_font(cache)
    (out / "clean").mkdir(parents=True, exist_ok=True)
    (out / "degraded").mkdir(parents=True, exist_ok=True)
    splits = SPLITS + tuple(name for name in OUT_OF_SOURCE if name in sources)
    manifest, labels = [], {s: [] for s in splits}
    invisible: dict[str, int] = {}  # degraded copies left out: nothing visible changed (see visible_change)
    turn = 0
    for name in sources:
        for item in gens[name]():
            # A graded copy never tests what its original tuned; out-of-source sources form their own split.
            split = name if name in OUT_OF_SOURCE else split_of(item.group or item.key)
            stem = hashlib.sha1(item.key.encode()).hexdigest()[:12]
            saved = _save(item.image, out / "clean" / f"{stem}.jpg", item.source == "rendered", rng)
            rel = str(saved["path"].relative_to(out))
            row = {"image": rel, "flags": [], "style": item.style, "split": split, "source": item.source,
                   "key": item.key}
            labels[split].append(row)
            manifest.append({**row, "licence": item.licence, "attribution": item.attribution,
                             "format": saved["format"], "quality": saved.get("quality")})
            for _ in range(per_image):
                label = DEGRADATIONS[turn % len(DEGRADATIONS)]
                turn += 1
                bad, params = _degrade(item.image, label, rng)
                change = visible_change(item.image, bad)
                if change < MIN_VISIBLE_CHANGE:
                    invisible[label] = invisible.get(label, 0) + 1
                    continue
                q = params.get("save_quality", saved.get("quality") or 92)
                bad_saved = _save(bad, out / "degraded" / f"{stem}-{label}.jpg", False, rng, quality=q)
                style = params.get("style") if label == "text_overlay" else item.style
                labels[split].append({"image": str(bad_saved["path"].relative_to(out)), "flags": [label],
                                      "style": style, "base_style": item.style, "split": split,
                                      "source": item.source, "key": item.key, "novel": params.get("novel", False),
                                      "change": change})
    for split, rows in labels.items():
        if rows:  # a probe-only build leaves the dev / heldout files alone
            (out / f"labels_{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (out / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for s in splits for r in labels[s]),
                                      encoding="utf-8")
    (out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in manifest), encoding="utf-8")
    summary = {"out": str(out), "side": side, "seed": seed, "per_image": per_image,
               "clean": {s: sum(not r["flags"] for r in labels[s]) for s in splits},
               "degraded": {s: sum(bool(r["flags"]) for r in labels[s]) for s in splits},
               "left_out_invisible": dict(sorted(invisible.items())), "min_visible_change": MIN_VISIBLE_CHANGE,
               "styles": dict(sorted(_count(r["style"] for r in manifest).items()))}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _count(values: Iterator[str] | Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def encode_jpeg(img: Image.Image, quality: int = 90) -> bytes:
    """JPEG bytes of ``img`` (4:2:0), for tests that need an upload-like file.

    >>> encode_jpeg(Image.new("RGB", (16, 16)))[:2]
    b'\\xff\\xd8'
    """
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, subsampling=2)
    return buf.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m creative4u.data.clean_set [--out DIR] [--side 640] [--per-image 6]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Build the multi-style clean-image set and its degraded copies.")
    parser.add_argument("--out", default=str(Path.home() / ".cache" / "creative4u" / "clean-set" / "v3"))
    parser.add_argument("--side", type=int, default=640)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-image", type=int, default=6)
    parser.add_argument("--sources", default="art,photo,render",
                        help="comma list of art, photo, render (the dev / heldout splits) or one out-of-source split: "
                             + ", ".join(OUT_OF_SOURCE))
    parser.add_argument("--cache-dir", default=None, help="Debian photo/art cache (default: the photo cache)")
    args = parser.parse_args(argv)
    try:
        summary = build_clean_set(args.out, args.side, args.seed, args.per_image, args.cache_dir,
                                  tuple(s for s in args.sources.split(",") if s))
    except ValueError as err:
        parser.error(str(err))
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Real photographs (and fonts) available offline, with their licences, for building training creatives.

>>> from creative4u.data.photos import list_photos
>>> photos = list_photos(sources=("skimage",))      # no network: photos shipped inside scikit-image's wheel
>>> sorted(p.id for p in photos)[:3]
['skimage-astronaut', 'skimage-chelsea', 'skimage-coffee']
>>> photos[0].load(max_side=256).size[0] <= 256
True

Two sources:

* ``skimage``: the colour photographs shipped in ``skimage.data`` (public domain / CC0 as scikit-image documents
  them; the Middlebury motorcycle pair states no licence).
* ``debian``: wallpaper packages downloaded with ``apt-get download`` and unpacked with ``dpkg-deb -x`` into a cache
  (never installed): ``lomiri-wallpapers-16.04`` (per-file CC-BY-4.0 / CC-BY-SA-4.0 / CC0-1.0) and the ``nature/``
  photos of ``mate-backgrounds`` (GPL-2+). Each file's licence and copyright line are read from the package's
  machine-readable ``debian/copyright`` file, not hard-coded.

Fonts: :func:`latin_fonts` (DejaVu from the system or from matplotlib's wheel) and :func:`find_cjk_font` (Noto CJK,
looked up only); :func:`fetch_cjk_font` downloads ``fonts-noto-cjk`` the same unpack-only way. Fetch everything once
with ``scripts/fetch_photos.sh`` (or ``python -m creative4u.data.photos``).
"""

from __future__ import annotations

import fnmatch
import functools
import importlib.util
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

SOURCES = ("skimage", "debian")

# skimage.data colour photographs: name -> (loader, licence, attribution as skimage documents it, subject, group).
# Grayscale images (camera, coins, moon, ...) and synthetic ones (colorwheel, logo, text, page) are left out because
# ad creatives are colour photographs. The two motorcycle views share a group so that a holdout keeps them together.
_SKIMAGE: dict[str, tuple[str, str, str, str, str]] = {
    "astronaut": ("astronaut", "public-domain",
                  "NASA (Eileen Collins), via NASA Great Images; no known copyright restrictions", "portrait", ""),
    "chelsea": ("chelsea", "CC0-1.0", "Stefan van der Walt (photographer), CC0", "cat", ""),
    "coffee": ("coffee", "CC0-1.0", "Rachel Michetti (photographer), courtesy of Pikolo Espresso Bar, CC0", "coffee",
               ""),
    "rocket": ("rocket", "public-domain", "SpaceX Photos (DSCOVR launch on Falcon 9), released into the public domain",
               "rocket", ""),
    "hubble_deep_field": ("hubble_deep_field", "public-domain", "NASA / HubbleSite, free to use (public domain)",
                          "space", ""),
    "retina": ("retina", "CC0-1.0", "Mikael Haggstrom (2014), Wikimedia Commons, CC0 1.0", "eye", ""),
    "immunohistochemistry": ("immunohistochemistry", "no-known-copyright-restrictions",
                             "Center for Microscopy And Molecular Imaging (CMMI); no known copyright restrictions",
                             "microscopy", ""),
    "motorcycle_left": ("stereo_motorcycle:0", "unstated",
                        "Middlebury 2014 stereo benchmark (Scharstein et al., GCPR 2014); scikit-image states no "
                        "licence", "motorcycle", "skimage-motorcycle"),
    "motorcycle_right": ("stereo_motorcycle:1", "unstated",
                         "Middlebury 2014 stereo benchmark (Scharstein et al., GCPR 2014); scikit-image states no "
                         "licence", "motorcycle", "skimage-motorcycle"),
}


@dataclass(frozen=True)
class DebianSource:
    """Where a package keeps its photos and how its ``debian/copyright`` names them."""

    package: str
    short: str  # prefix of photo ids
    pattern: str  # glob of photo files inside the unpacked tree
    copyright_prefix: str  # the folder the copyright file's ``Files:`` globs use for those photos
    exclude: tuple[str, ...] = ()  # stems that are not photographs


DEBIAN_SOURCES: tuple[DebianSource, ...] = (
    # umang is a digital colour gradient and analogpattern a graded texture close-up: neither shows a subject.
    DebianSource("lomiri-wallpapers-16.04", "lomiri", "usr/share/backgrounds/*.jpg", "16.04/",
                 exclude=("umang_by_Abhishek_Mudgal", "analogpattern_by_Peter_Nerlich")),
    DebianSource("mate-backgrounds", "mate", "usr/share/backgrounds/mate/nature/*.jpg", "nature/"),
)

# What each Debian photo shows (looked at by a person), used for generic product text; unknown files get "scenery".
_DEBIAN_SUBJECTS = {
    "Bridge_by_Sander_Klootwijk": "sky", "Dragonfly_by_Bolly": "insect", "Picture_0B_by_freespace": "fruit",
    "Picture_1A_by_freespace": "brushes", "Wine_by_Jakkub_Mede": "interior", "aitzgorri_by_Aitzol_Berasategi":
    "mountain", "free_by_Peter_Nerlich": "toy", "friends_by_Aitzol_Berasategi": "dog", "greentock_by_Peter_Nerlich":
    "clock", "life_by_Aitzol_Berasategi": "forest", "picosdeeuropa_by_Aitzol_Berasategi": "mountain",
    "seeding_by_Clements_Engelhardt": "flower", "sunset_by_Aitzol_Berasategi": "sunset", "Aqua": "water",
    "Blinds": "leaf", "Dune": "beach", "FreshFlower": "flower", "Garden": "flower", "GreenMeadow": "grass",
    "LadyBird": "insect", "RainDrops": "leaf", "Storm": "sky", "TwoWings": "flower", "Wood": "wood",
    "YellowFlower": "flower",
}

CJK_PACKAGE = "fonts-noto-cjk"
_CJK_FILES = ("NotoSansCJK-Bold.ttc", "NotoSansCJK-Regular.ttc")
_SYSTEM_FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/dejavu"))
_LATIN_FONT_NAMES = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansMono-Bold.ttf",
                     "DejaVuSans-BoldOblique.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansCondensed-Bold.ttf")


class PhotoFetchError(RuntimeError):
    """A Debian package could not be downloaded or unpacked; the message says what to do instead."""


@dataclass(frozen=True)
class Photo:
    """One real photograph with its provenance; either ``path`` or ``loader`` gives the pixels."""

    id: str
    source: str
    licence: str
    attribution: str
    path: Path | None = None
    loader: Callable[[], np.ndarray] | None = field(default=None, compare=False, repr=False)
    subject: str = "scenery"
    group: str = ""  # photos with the same non-empty group always land in the same split

    @property
    def split_key(self) -> str:
        """The unit a holdout must keep whole."""
        return self.group or self.id

    def load(self, max_side: int | None = None, min_side: int | None = None) -> Image.Image:
        """Return the photo as an RGB PIL image, EXIF-rotated.

        ``max_side`` caps the longer side; ``min_side`` lets a large JPEG decode at a reduced scale (1/2..1/8, in the
        DCT domain, ~10x faster for a 12 MP wallpaper) as long as its shorter side stays at least ``min_side``.
        """
        if self.path is not None:
            with Image.open(self.path) as im:
                if im.format == "JPEG" and (min_side or max_side):
                    need = min_side or max_side or 0
                    k = need / min(im.size)
                    im.draft("RGB", (math.ceil(im.size[0] * k), math.ceil(im.size[1] * k)))
                img = ImageOps.exif_transpose(im).convert("RGB")
        elif self.loader is not None:
            img = Image.fromarray(np.ascontiguousarray(self.loader())).convert("RGB")
        else:
            raise ValueError(f"photo {self.id!r} has neither a path nor a loader")
        if max_side and max(img.size) > max_side:
            img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
        return img

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready provenance (for manifests and dataset cards)."""
        return {"id": self.id, "source": self.source, "licence": self.licence, "attribution": self.attribution,
                "path": str(self.path) if self.path else None, "subject": self.subject, "group": self.group}


def _photo_id(prefix: str, name: str) -> str:
    """A file-name-safe id: ``_photo_id("mate", "Green_Meadow")`` -> ``"mate-green-meadow"``."""
    return f"{prefix}-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _load_skimage(spec: str) -> np.ndarray:
    """Load ``name`` or ``name:index`` (for loaders returning tuples) from ``skimage.data``."""
    from skimage import data

    name, _, index = spec.partition(":")
    out = getattr(data, name)()
    return out[int(index)] if index else out


def skimage_photos() -> list[Photo]:
    """The colour photographs shipped in scikit-image's wheel (offline; raises ImportError without scikit-image).

    >>> len(skimage_photos())
    9
    """
    if importlib.util.find_spec("skimage") is None:
        raise ImportError("scikit-image is needed for the 'skimage' photo source: pip install 'creative4u[data]'")
    return [
        Photo(id=_photo_id("skimage", name), source="skimage", licence=lic, attribution=attr,
              loader=functools.partial(_load_skimage, spec), subject=subject, group=group)
        for name, (spec, lic, attr, subject, group) in _SKIMAGE.items()
    ]


def default_cache_dir() -> Path:
    """``$CREATIVE4U_CACHE/photos`` if set, else ``~/.cache/creative4u/photos``.

    >>> default_cache_dir().name
    'photos'
    """
    root = os.environ.get("CREATIVE4U_CACHE")
    return Path(root) / "photos" if root else Path.home() / ".cache" / "creative4u" / "photos"


def parse_dep5(text: str) -> list[dict[str, str]]:
    """Parse a machine-readable ``debian/copyright`` file into its ``Files`` paragraphs.

    >>> parse_dep5("Files: a/*.jpg b.png\\nCopyright: 2018, Ann\\n  2019, Bob\\nLicense: CC0-1.0\\n")
    [{'files': 'a/*.jpg b.png', 'copyright': '2018, Ann; 2019, Bob', 'license': 'CC0-1.0'}]
    """
    out: list[dict[str, str]] = []
    for block in text.split("\n\n"):
        fields: dict[str, list[str]] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                if line.strip() != ".":
                    fields[key].append(line.strip())
            elif ":" in line:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = [value.strip()] if value.strip() else []
        if "files" in fields:
            out.append({
                "files": " ".join(fields["files"]),
                "copyright": "; ".join(fields.get("copyright", [])),
                "license": (fields.get("license") or [""])[0],
            })
    return out


def licence_for(relpath: str, paragraphs: Sequence[dict[str, str]]) -> tuple[str, str]:
    """``(licence, copyright)`` of a file; as DEP-5 specifies, the last matching paragraph wins.

    >>> licence_for("nature/Wood.jpg", [{"files": "*", "copyright": "x", "license": "GPL-2+"}])
    ('GPL-2+', 'x')
    """
    i = matching_paragraph(relpath, paragraphs)
    return (paragraphs[i]["license"] or "unknown", paragraphs[i]["copyright"]) if i >= 0 else ("unknown", "")


def matching_paragraph(relpath: str, paragraphs: Sequence[dict[str, str]]) -> int:
    """Index of the paragraph whose ``Files:`` globs decide ``relpath`` (the last that matches), -1 when none does.

    >>> matching_paragraph("a/b.jpg", [{"files": "*"}, {"files": "a/*.jpg"}, {"files": "c/*"}])
    1
    """
    found = -1
    for i, para in enumerate(paragraphs):
        if any(fnmatch.fnmatchcase(relpath, pattern) for pattern in para["files"].split()):
            found = i
    return found


def _run(cmd: list[str], cwd: Path) -> None:
    try:
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True, timeout=600)
    except subprocess.CalledProcessError as err:
        tail = (err.stderr or err.stdout or "").strip().splitlines()[-3:]
        hint = " (try `apt-get update` first)" if "locate package" in " ".join(tail) else ""
        raise PhotoFetchError(f"`{' '.join(cmd)}` failed{hint}: {' | '.join(tail)}") from err


def _installed_root(package: str) -> Path | None:
    """``/`` when the package is already installed system-wide (its copyright file is there), else None."""
    return Path("/") if Path(f"/usr/share/doc/{package}/copyright").is_file() else None


def unpack_deb(package: str, cache_dir: Path | None = None) -> Path:
    """Download ``package`` with ``apt-get download`` and unpack it (no install); return the unpacked root.

    Idempotent: a finished unpack is marked with ``.complete`` and reused; unpacking goes to a temporary folder that
    is renamed at the end, so an interrupted or concurrent fetch never leaves a half tree behind.
    """
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    root = cache_dir / "debian" / package
    if (root / ".complete").is_file():
        return root
    missing = [tool for tool in ("apt-get", "dpkg-deb") if shutil.which(tool) is None]
    if missing:
        raise PhotoFetchError(
            f"cannot fetch Debian package {package!r}: {', '.join(missing)} not found (a Debian/Ubuntu system is "
            "needed); use list_photos(sources=('skimage',)) for the offline photo set")
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root.parent, prefix=f".{package}-") as tmp:
        tmp_path = Path(tmp)
        _run(["apt-get", "download", package], cwd=tmp_path)
        debs = sorted(tmp_path.glob(f"{package}_*.deb"))
        if not debs:
            raise PhotoFetchError(f"apt-get download {package} produced no .deb file")
        tree = tmp_path / "tree"
        _run(["dpkg-deb", "-x", str(debs[0]), str(tree)], cwd=tmp_path)
        (tree / ".complete").write_text(debs[0].name + "\n")
        if not (root / ".complete").is_file():  # another process may have finished first
            shutil.rmtree(root, ignore_errors=True)
            os.replace(tree, root)
    return root


def _debian_photos_from(root: Path, spec: DebianSource) -> list[Photo]:
    copyright_file = root / "usr/share/doc" / spec.package / "copyright"
    paragraphs = parse_dep5(copyright_file.read_text(encoding="utf-8", errors="replace"))
    photos = []
    for path in sorted(root.glob(spec.pattern)):
        if path.stem in spec.exclude:
            continue
        licence, holder = licence_for(spec.copyright_prefix + path.name, paragraphs)
        photos.append(Photo(
            id=_photo_id(spec.short, path.stem), source=f"debian:{spec.package}",
            licence=licence, attribution=f"{holder} ({spec.package}, Debian)", path=path,
            subject=_DEBIAN_SUBJECTS.get(path.stem, "scenery")))
    return photos


def fetch_debian_photos(cache_dir: str | Path | None = None,
                        sources: Iterable[DebianSource] = DEBIAN_SOURCES) -> list[Photo]:
    """Download and unpack the wallpaper packages once (cached), then list their photographs with per-file licences.

    >>> # photos = fetch_debian_photos()   # needs apt-get and the Debian mirror; ~60 MB the first time
    """
    photos: list[Photo] = []
    for spec in sources:
        root = _installed_root(spec.package) or unpack_deb(spec.package, Path(cache_dir) if cache_dir else None)
        found = _debian_photos_from(root, spec)
        if not found:
            raise PhotoFetchError(f"no photos matched {spec.pattern!r} in {spec.package} (unpacked at {root})")
        photos.extend(found)
    return photos


def list_photos(sources: Iterable[str] = SOURCES, cache_dir: str | Path | None = None) -> list[Photo]:
    """All photos of the named sources (``"skimage"``, ``"debian"``), sorted by id.

    >>> [p.source for p in list_photos(("skimage",))][:1]
    ['skimage']
    """
    photos: list[Photo] = []
    for source in sources:
        if source == "skimage":
            photos.extend(skimage_photos())
        elif source == "debian":
            photos.extend(fetch_debian_photos(cache_dir))
        else:
            raise ValueError(f"unknown photo source {source!r}; valid: {', '.join(SOURCES)}")
    return sorted(photos, key=lambda p: p.id)


def latin_fonts() -> list[Path]:
    """DejaVu TrueType fonts, from the system or else from matplotlib's wheel (empty if neither exists).

    >>> all(p.suffix == ".ttf" for p in latin_fonts())
    True
    """
    dirs = [Path("/usr/share/fonts/truetype/dejavu")]
    spec = importlib.util.find_spec("matplotlib")
    if spec and spec.origin:
        dirs.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    found: dict[str, Path] = {}
    for d in dirs:
        for name in _LATIN_FONT_NAMES:
            if name not in found and (d / name).is_file():
                found[name] = d / name
    return [found[n] for n in _LATIN_FONT_NAMES if n in found]


def find_cjk_font(cache_dir: str | Path | None = None) -> Path | None:
    """A Noto Sans CJK ``.ttc`` if one is already present (``$CREATIVE4U_CJK_FONT``, system, cache); never downloads.

    >>> p = find_cjk_font(); p is None or p.suffix == ".ttc"
    True
    """
    env = os.environ.get("CREATIVE4U_CJK_FONT")
    if env and Path(env).is_file():
        return Path(env)
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    for d in (_SYSTEM_FONT_DIRS[0], cache / "debian" / CJK_PACKAGE / "usr/share/fonts/opentype/noto"):
        for name in _CJK_FILES:
            if (d / name).is_file():
                return d / name
    return None


def fetch_cjk_font(cache_dir: str | Path | None = None) -> Path | None:
    """Find or fetch (``apt-get download fonts-noto-cjk``, unpack only) a CJK font; None with a warning on failure.

    >>> # fetch_cjk_font()  -> PosixPath('~/.cache/creative4u/photos/debian/fonts-noto-cjk/.../NotoSansCJK-Bold.ttc')
    """
    found = find_cjk_font(cache_dir)
    if found:
        return found
    try:
        root = unpack_deb(CJK_PACKAGE, Path(cache_dir) if cache_dir else None)
    except PhotoFetchError as err:
        log.warning("no CJK font (%s); text overlays will use Latin text only", err)
        return None
    # The serif faces are never used: drop them to keep the cache at ~40 MB instead of ~93 MB.
    for extra in (root / "usr/share/fonts/opentype/noto").glob("NotoSerifCJK-*.ttc"):
        extra.unlink()
    return find_cjk_font(cache_dir)


def fetch_all(cache_dir: str | Path | None = None) -> dict[str, Any]:
    """Fetch every downloadable source once and summarise it: photos per source, licences, the CJK font.

    >>> # fetch_all()["photos"]  -> {'skimage': 9, 'debian:lomiri-wallpapers-16.04': 13, ...}
    """
    photos = list_photos(SOURCES, cache_dir)
    summary: dict[str, Any] = {"photos": {}, "licences": {}, "cjk_font": None, "latin_fonts": len(latin_fonts())}
    for p in photos:
        summary["photos"][p.source] = summary["photos"].get(p.source, 0) + 1
        per = summary["licences"].setdefault(p.source, {})
        per[p.licence] = per.get(p.licence, 0) + 1
    font = fetch_cjk_font(cache_dir)
    summary["cjk_font"] = str(font) if font else None
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m creative4u.data.photos [--cache-dir DIR]``: fetch all photo sources and the CJK font once."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--cache-dir", default=None, help="default: $CREATIVE4U_CACHE/photos or ~/.cache/creative4u")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(json.dumps(fetch_all(args.cache_dir), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Safe image loading: sniff the real format, cap bytes and pixels, normalise to RGB.

>>> from creative4u.images import load_image, ImageLoadError
>>> try:
...     load_image(b"not an image", name="note.jpg")
... except ImageLoadError as err:
...     print(err)
note.jpg: not an image (unrecognised file signature)

Everything that cannot be read raises one typed error, :class:`ImageLoadError`, whose message names the file and
the reason. Decoding happens only after the header's pixel count passed the cap, so a decompression bomb is refused
before it allocates memory.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFile, ImageOps, PngImagePlugin

DEFAULT_MAX_BYTES = 40 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000

# Pillow's bomb guard (Image.MAX_IMAGE_PIXELS) is process-wide and guards every other decoder too (e.g. datasets'
# Image()), so it is left as it is: _open_header reads the size without it and our own cap is enforced instead.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# A PNG can hide a bomb in compressed text chunks too; cap what PIL will inflate.
PngImagePlugin.MAX_TEXT_CHUNK = 1024 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = 8 * 1024 * 1024

# Leading bytes of the formats we accept; the extension is never trusted.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"WEBP", 8, "WEBP"),
    (b"BM", 0, "BMP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
)
# ISO base media files (an ``ftyp`` box first) are told apart by their brands: AVIF decodes (Pillow >= 11.2),
# HEIF/HEIC does not (Pillow has no HEVC decoder), so it gets its own clear error instead of "not an image".
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"})


# PIL modes that carry transparency (composited on white when loaded).
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_LUMA_601 = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def luma601(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of an RGB array as float32 in [0, 255].

    >>> [round(float(v), 2) for v in luma601(np.array([[[255, 255, 255], [255, 0, 0]]], np.uint8))[0]]
    [255.0, 76.24]
    """
    return rgb.astype(np.float32) @ _LUMA_601


# File suffixes a folder listing treats as pictures (HEIC is left out: it has no decoder here).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".avif", ".gif", ".bmp", ".tif", ".tiff")


class ImageLoadError(ValueError):
    """An image could not be read; ``str(err)`` is ``"<name>: <reason>"``.

    >>> str(ImageLoadError("a.png", "empty file"))
    'a.png: empty file'
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


PYRAMID_MIN_SIDE = 1024  # smaller copies are shrunk from a copy at least this large (see _pyramid_source)


@dataclass
class LoadedImage:
    """A decoded RGB image with its provenance: raw bytes, content hash and source metadata.

    >>> from PIL import Image
    >>> img = LoadedImage.from_pil(Image.new("RGB", (8, 4)), name="x")
    >>> img.size, img.gray(4).shape
    ((8, 4), (2, 4))
    """

    name: str
    image: Image.Image
    data: bytes
    format: str
    original_mode: str
    original_size: tuple[int, int]
    n_frames: int = 1
    info: dict[str, Any] = field(default_factory=dict)
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_pil(cls, image: Image.Image, name: str = "<memory>") -> LoadedImage:
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="PNG")
        return load_image(buf.getvalue(), name=name)

    @cached_property
    def sha256(self) -> str:
        """Hash of the file bytes: the cache key for every check result."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def shared(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Compute an intermediate once per image, for every check that needs it (the result must not be mutated).

        >>> img = LoadedImage.from_pil(Image.new("RGB", (4, 4)))
        >>> img.shared("answer", lambda: 42), img.shared("answer", lambda: 0)
        (42, 42)
        """
        if key not in self._cache:  # the image's own cache lives exactly as long as the image
            self._cache[key] = compute()
        return self._cache[key]

    def rgb(self, max_side: int | None = None) -> np.ndarray:
        """The image as a uint8 HxWx3 array, downscaled (area) so its longer side is at most ``max_side``."""
        key = ("rgb", max_side)
        if key not in self._cache:
            img = self.image
            if max_side and max(img.size) > max_side:
                scale = max_side / max(img.size)
                new = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
                img = self._pyramid_source(max_side).resize(new, Image.Resampling.BOX)
            self._cache[key] = np.asarray(img, dtype=np.uint8)
        return self._cache[key]

    def _pyramid_source(self, max_side: int) -> Image.Image:
        """The smallest copy of >= ``PYRAMID_MIN_SIDE`` px already made that is at least twice ``max_side`` (else the
        original) to shrink from.

        A 4000 px photo is shrunk to 1024, 512, 320 and 256 px by different checks; shrinking each from the 1024 copy
        instead of the original cuts that work ~15x, and an area average of an area average at >= 2x is the same
        picture to within rounding. Images up to 1024 px keep exactly their old pixels (their copy is the original).
        """
        best: tuple[int, np.ndarray] | None = None
        for key, arr in self._cache.items():
            if isinstance(key, tuple) and key[0] == "rgb" and key[1]:
                side = max(arr.shape[:2])
                usable = PYRAMID_MIN_SIDE <= side < max(self.image.size) and side >= 2 * max_side
                if usable and (best is None or side < best[0]):
                    best = (side, arr)
        return self.image if best is None else Image.fromarray(best[1])

    def gray(self, max_side: int | None = None) -> np.ndarray:
        """Luma (ITU-R 601) as float32 in [0, 255], shared by every check that asks for the same size."""
        key = ("gray", max_side)
        if key not in self._cache:
            self._cache[key] = luma601(self.rgb(max_side))
        return self._cache[key]


def sniff_format(data: bytes) -> str | None:
    """Return the container format from the leading bytes, or None.

    >>> sniff_format(b"\\x89PNG\\r\\n\\x1a\\n...."), sniff_format(b"hello")
    ('PNG', None)
    """
    for magic, offset, fmt in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            if fmt == "WEBP" and data[:4] != b"RIFF":
                continue
            return fmt
    return _sniff_iso_bmff(data)


def _sniff_iso_bmff(data: bytes) -> str | None:
    """The format of an ISO base media file, from its ``ftyp`` box's brands: "AVIF", "HEIF" or None.

    >>> _sniff_iso_bmff(b"\\0\\0\\0\\x1cftypavif\\0\\0\\0\\0avifmif1miaf"), _sniff_iso_bmff(b"ftyp")
    ('AVIF', None)
    """
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    size = min(int.from_bytes(data[:4], "big"), len(data), 256)
    brands = {data[8:12]} | {data[i : i + 4] for i in range(16, max(size, 16) - 3, 4)}
    if brands & _AVIF_BRANDS:
        return "AVIF"
    return "HEIF" if brands & _HEIF_BRANDS else None


def _read_source(source: str | os.PathLike | bytes, name: str, max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if not isinstance(source, str | os.PathLike):
        raise ImageLoadError(name, f"unsupported input type {type(source).__name__} (expected a path or bytes)")
    path = Path(source)
    if not path.exists():
        raise ImageLoadError(name, "file not found")
    if not path.is_file():
        raise ImageLoadError(name, "not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise ImageLoadError(name, f"file too large ({size} bytes > limit {max_bytes})")
    return path.read_bytes()


def _read_bytes(source: str | os.PathLike | bytes, name: str, max_bytes: int) -> bytes:
    try:
        data = _read_source(source, name, max_bytes)
    except OSError as err:  # permissions, a vanished file, an I/O error: this file's problem, not the batch's
        raise ImageLoadError(name, f"cannot read the file ({type(err).__name__}: {_short(err)})") from err
    if not data:
        raise ImageLoadError(name, "empty file")
    if len(data) > max_bytes:
        raise ImageLoadError(name, f"file too large ({len(data)} bytes > limit {max_bytes})")
    return data


def _to_rgb(im: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB; transparency is composited on white, 16-bit is rescaled, not clipped."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        hi = 65535.0 if im.mode.startswith("I;16") else max(float(arr.max()), 1.0)
        if im.mode in ("I", "F") and arr.max() <= 255:
            hi = 255.0
        arr = np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if im.mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
    if im.mode in ALPHA_MODES:
        rgba = im.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    if im.mode == "CMYK":
        return _cmyk_to_rgb(im)
    return im.convert("RGB")


def _cmyk_to_rgb(im: Image.Image) -> Image.Image:
    """Use the embedded ICC profile when there is one; PIL's naive formula is the fallback."""
    icc = im.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            return ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
        except Exception:  # noqa: BLE001 - a broken profile must not make the image unreadable
            pass
    return im.convert("RGB")


def load_image(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> LoadedImage:
    """Load one image safely and return it as RGB with its raw bytes and metadata.

    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("LA", (3, 2)).save(buf, "PNG")
    >>> img = load_image(buf.getvalue(), name="la.png")
    >>> img.format, img.original_mode, img.image.mode
    ('PNG', 'LA', 'RGB')
    """
    name = name or (str(source) if isinstance(source, str | os.PathLike) else "<bytes>")
    data = _read_bytes(source, name, max_bytes)
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageLoadError(name, "not an image (unrecognised file signature)")
    if fmt == "HEIF":
        raise ImageLoadError(name, "HEIF/HEIC images are not supported (no decoder here): save it as JPEG, PNG, WebP "
                             "or AVIF")
    if fmt == "AVIF" and not _has_decoder("AVIF"):  # a Pillow built without libavif
        raise ImageLoadError(name, "AVIF is not supported by this Pillow build (no libavif): save it as JPEG, PNG or "
                             "WebP, or install Pillow's wheels (>= 11.2)")
    try:
        return _decode(data, name, fmt, max_pixels)
    except ImageLoadError:
        raise
    except (MemoryError, Image.DecompressionBombError) as err:
        raise ImageLoadError(name, f"image too large to decode ({_short(err)})") from err
    except Exception as err:  # noqa: BLE001 - any decoder failure (a plugin's TypeError too) is this file's error
        raise ImageLoadError(name, f"corrupt or truncated {fmt} ({type(err).__name__}: {_short(err)})") from err


def _has_decoder(fmt: str) -> bool:
    if fmt not in Image.OPEN:
        Image.init()
    return fmt in Image.OPEN


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:160]


def _open_header(data: bytes, fmt: str) -> Image.Image:
    """``Image.open`` for a sniffed format, minus Pillow's open-time pixel guard: only the header is read here, and
    the caller applies creative4u's own cap before any pixel is decoded (the process-wide guard stays as it is)."""
    if not _has_decoder(fmt):  # a Pillow built without this codec: its own error says so
        return Image.open(io.BytesIO(data), formats=[fmt])
    factory, _accept = Image.OPEN[fmt]
    return factory(io.BytesIO(data), "")


def _decode(data: bytes, name: str, fmt: str, max_pixels: int) -> LoadedImage:
    # Pillow's warnings (bomb size, odd EXIF) are noise here: our cap below is the guard, and errors are raised.
    # (A TIFF or GIF over twice Pillow's own limit can still raise its bomb error while loading: "too large".)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        im = _open_header(data, fmt)
        width, height = im.size
        if width <= 0 or height <= 0:
            raise ImageLoadError(name, f"invalid dimensions {width}x{height}")
        if width * height > max_pixels:
            raise ImageLoadError(
                name,
                f"too many pixels ({width}x{height} = {width * height} > limit {max_pixels}; decompression bomb?)",
            )
        n_frames = int(getattr(im, "n_frames", 1) or 1)
        if n_frames > 1:
            im.seek(0)  # animated GIF/WebP/APNG: the first frame is the creative
        original_mode = im.mode
        info = {k: v for k, v in im.info.items() if isinstance(k, str)}
        im.load()
        im = ImageOps.exif_transpose(im) or im
        rgb = _to_rgb(im)
    return LoadedImage(
        name=name,
        image=rgb,
        data=data,
        format=fmt,
        original_mode=original_mode,
        original_size=(width, height),
        n_frames=n_frames,
        info=info,
    )


def prepare_image(image: Image.Image, max_pixels: int | None) -> Image.Image:
    """The image a vision-language model sees: RGB, scaled down (aspect kept) to at most ``max_pixels`` pixels.

    >>> prepare_image(Image.new("RGB", (400, 100)), 10_000).size
    (200, 50)

    The VLM judges, the zero-shot checks and the data builders all call this, so an OpenAI server, a local model
    and a training set get the same pixels. ``None`` or 0 keeps the size.
    """
    import math

    image = image.convert("RGB")
    w, h = image.size
    if max_pixels and w * h > max_pixels:
        scale = math.sqrt(max_pixels / (w * h))
        size = (max(1, int(w * scale)), max(1, int(h * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def image_data_url(image: Image.Image) -> str:
    """A PIL image as a ``data:image/png;base64,...`` URL (PNG: lossless, so the server sees the same pixels).

    >>> image_data_url(Image.new("RGB", (2, 2)))[:22]
    'data:image/png;base64,'
    """
    import base64

    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=1)  # level 1: the encode is on the hot path
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")

"""Shared fixtures: small real photos (skimage's CC0 set) and a directory of hostile files."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def _skimage_photo(name: str, max_side: int) -> Image.Image:
    from skimage import data

    img = Image.fromarray(getattr(data, name)()).convert("RGB")
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return img


@pytest.fixture(scope="session")
def photo() -> Image.Image:
    """A real colour photo (skimage ``coffee``, CC0), 384 px on its long side."""
    return _skimage_photo("coffee", 384)


@pytest.fixture(scope="session")
def photos() -> dict[str, Image.Image]:
    """A few real colour photos from skimage, 384 px on the long side."""
    return {n: _skimage_photo(n, 384) for n in ("coffee", "chelsea", "astronaut", "rocket")}


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def png_bomb(side: int = 30000) -> bytes:
    """A valid 1-bit PNG of side x side pixels that compresses to ~100 KB (a decompression bomb)."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="session")
def hostile_dir(tmp_path_factory, photo) -> Path:
    """Files a real upload form receives: broken, hostile or in unusual modes. Names say what each one is."""
    d = tmp_path_factory.mktemp("hostile")
    jpeg = _save(photo, "JPEG", quality=90)
    (d / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (d / "bomb.png").write_bytes(png_bomb())
    (d / "zero.jpg").write_bytes(b"")
    (d / "text_named.jpg").write_text("this is not an image, just text\n")
    (d / "cmyk.jpg").write_bytes(_save(photo.convert("CMYK"), "JPEG"))
    arr16 = (np.asarray(photo.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    (d / "gray16.png").write_bytes(_save(Image.fromarray(arr16), "PNG"))
    frames = [photo.convert("P"), Image.new("RGB", photo.size, "blue").convert("P")]
    (d / "animated.gif").write_bytes(_save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    (d / "rotated.jpg").write_bytes(_save(photo, "JPEG", exif=exif))
    rgba = photo.convert("RGBA")
    rgba.putalpha(128)
    (d / "alpha.png").write_bytes(_save(rgba, "PNG"))
    pal = photo.convert("P")
    pal.info["transparency"] = 0
    (d / "palette_transparent.png").write_bytes(_save(pal, "PNG", transparency=0))
    (d / "photo.webp").write_bytes(_save(photo, "WEBP"))
    (d / "photo_named.txt").write_bytes(jpeg)  # a real JPEG with a misleading extension
    bad_crc = bytearray(_save(photo, "PNG"))
    bad_crc[40:60] = b"\xff" * 20
    (d / "corrupt.png").write_bytes(bytes(bad_crc))
    return d

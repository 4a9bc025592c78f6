"""Pillow's process-wide bomb guard is left alone, and no decoder failure escapes the loader or sinks a batch."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import warnings

import pytest
from PIL import Image

from creative4u import images
from creative4u.images import ImageLoadError, load_image


def _png(size: tuple[int, int], color: str = "gray") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def broken_tiff() -> bytes:
    """A two-page TIFF whose second page lost its width tag: Pillow raises ``TypeError: Missing dimensions``
    when ``n_frames`` walks the pages (the failure seen on Pillow's own test images)."""
    frames = [Image.new("RGB", (8, 8), "red"), Image.new("RGB", (8, 8), "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    data = bytearray(buf.getvalue())
    first = struct.unpack_from("<I", data, 4)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * struct.unpack_from("<H", data, first)[0])[0]
    for i in range(struct.unpack_from("<H", data, second)[0]):
        entry = second + 2 + 12 * i
        if struct.unpack_from("<H", data, entry)[0] == 256:  # ImageWidth
            struct.pack_into("<H", data, entry, 0xFDE8)  # now an unknown private tag
    return bytes(data)


def test_pillow_guard_unchanged_by_import_and_load():
    code = (
        "import io, PIL.Image as I; before = I.MAX_IMAGE_PIXELS\n"
        "import creative4u.images as c; buf = io.BytesIO(); I.new('RGB', (8, 8)).save(buf, 'PNG')\n"
        "c.load_image(buf.getvalue(), name='x.png'); print(before, I.MAX_IMAGE_PIXELS)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == out[1] != "None", out


def test_over_our_cap_gets_our_error_even_past_pillows_limit(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64x64 is over 2x Pillow's limit: Pillow would raise
    with pytest.raises(ImageLoadError, match=r"big.png: too many pixels \(64x64 = 4096 > limit 2000"):
        load_image(_png((64, 64)), name="big.png", max_pixels=2000)


def test_between_pillows_limit_and_our_cap_loads_without_a_warning(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a DecompressionBombWarning leaking out would fail here
        img = load_image(_png((64, 64)), name="ok.png", max_pixels=10_000)
    assert img.size == (64, 64) and Image.MAX_IMAGE_PIXELS == 1000


def test_broken_tiff_is_that_files_error():
    with pytest.raises(ImageLoadError, match=r"bad.tif: corrupt or truncated TIFF \(TypeError: Missing dimensions"):
        load_image(broken_tiff(), name="bad.tif")


@pytest.mark.parametrize(
    ("exc", "words"), [(TypeError("odd plugin state"), "corrupt"), (MemoryError(), "too large to decode")]
)
def test_any_decoder_exception_becomes_image_load_error(monkeypatch, exc, words):
    def boom(*_a, **_k):
        raise exc

    monkeypatch.setattr(images.ImageOps, "exif_transpose", boom)
    with pytest.raises(ImageLoadError, match=f"x.png: .*{words}") as err:
        load_image(_png((8, 8)), name="x.png")
    assert err.value.name == "x.png"


def test_unreadable_file_is_that_files_error(tmp_path, monkeypatch):
    path = tmp_path / "locked.png"
    path.write_bytes(_png((8, 8)))
    monkeypatch.setattr(type(path), "read_bytes", lambda self: (_ for _ in ()).throw(PermissionError(13, "denied")))
    with pytest.raises(ImageLoadError, match="cannot read the file"):
        load_image(path)


def test_check_batch_keeps_the_good_files(tmp_path, capsys):
    from creative4u.cli import main

    for name, color in (("good.jpg", "white"), ("good2.jpg", "navy")):
        Image.new("RGB", (96, 64), color).save(tmp_path / name, "JPEG")
    (tmp_path / "bad.tif").write_bytes(broken_tiff())
    paths = [str(tmp_path / n) for n in ("good.jpg", "bad.tif", "good2.jpg")]
    code = main(["check", "--json", "--profile", str(_cheap_profile(tmp_path)), *paths])
    out = capsys.readouterr()
    result = json.loads(out.out)
    assert code == 1
    assert [i["name"] for i in result["images"]] == [paths[0], paths[2]]
    assert [e["name"] for e in result["errors"]] == [paths[1]] and "Missing dimensions" in out.err


def _cheap_profile(folder) -> object:
    path = folder / "cheap.yaml"
    path.write_text("name: cheap\nchecks:\n  exposure: {}\n  contrast: {}\n")
    return path

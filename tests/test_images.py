"""Safe loading: every hostile file gives a correct image or one clear, typed error; never a crash or hang."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from creative4u.images import ImageLoadError, LoadedImage, load_image, sniff_format

# file -> expected outcome: ("ok", format, original mode) or ("error", words the reason must contain)
EXPECTED = {
    "truncated.jpg": ("error", "truncated"),
    "bomb.png": ("error", "too many pixels"),
    "zero.jpg": ("error", "empty file"),
    "text_named.jpg": ("error", "not an image"),
    "corrupt.png": ("error", "corrupt"),
    "cmyk.jpg": ("ok", "JPEG", "CMYK"),
    "gray16.png": ("ok", "PNG", "I;16"),
    "animated.gif": ("ok", "GIF", "P"),
    "rotated.jpg": ("ok", "JPEG", "RGB"),
    "alpha.png": ("ok", "PNG", "RGBA"),
    "palette_transparent.png": ("ok", "PNG", "P"),
    "photo.webp": ("ok", "WEBP", "RGB"),
    "photo_named.txt": ("ok", "JPEG", "RGB"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_files(hostile_dir, name):
    expected = EXPECTED[name]
    path = hostile_dir / name
    start = time.perf_counter()
    if expected[0] == "error":
        with pytest.raises(ImageLoadError) as info:
            load_image(path)
        assert name in str(info.value), "the message names the file"
        assert expected[1] in info.value.reason
    else:
        img = load_image(path)
        assert (img.format, img.original_mode) == expected[1:]
        assert img.image.mode == "RGB" and img.rgb().dtype == np.uint8
    assert time.perf_counter() - start < 10, "no hang"


def test_exif_rotation_applied(hostile_dir, photo):
    img = load_image(hostile_dir / "rotated.jpg")
    assert img.size == (photo.height, photo.width)  # orientation 6 turns landscape into portrait


def test_animated_gif_takes_first_frame(hostile_dir):
    img = load_image(hostile_dir / "animated.gif")
    assert img.n_frames == 2
    blue = np.array([0, 0, 255])
    assert np.abs(img.rgb().reshape(-1, 3).mean(0) - blue).sum() > 100, "frame 0 is the photo, not the blue frame"


def test_sixteen_bit_rescaled_not_clipped(hostile_dir, photo):
    img = load_image(hostile_dir / "gray16.png")
    ref = np.asarray(photo.convert("L"), dtype=float)
    assert abs(img.gray().mean() - ref.mean()) < 2.0


def test_alpha_composited_on_white(hostile_dir, photo):
    img = load_image(hostile_dir / "alpha.png")
    assert img.gray().mean() > np.asarray(photo.convert("L")).mean() + 20  # half-transparent over white is lighter


def test_cmyk_converted(hostile_dir, photo):
    img = load_image(hostile_dir / "cmyk.jpg")
    diff = np.abs(img.rgb().astype(int) - np.asarray(photo).astype(int)).mean()
    assert diff < 40


def test_byte_cap(hostile_dir):
    with pytest.raises(ImageLoadError, match="file too large"):
        load_image(hostile_dir / "cmyk.jpg", max_bytes=100)


def test_pixel_cap():
    import io

    buf = io.BytesIO()
    Image.new("RGB", (100, 100)).save(buf, "PNG")
    with pytest.raises(ImageLoadError, match="too many pixels"):
        load_image(buf.getvalue(), name="big.png", max_pixels=5000)


def test_missing_directory_and_wrong_type(tmp_path):
    with pytest.raises(ImageLoadError, match="file not found"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageLoadError, match="not a regular file"):
        load_image(tmp_path)
    with pytest.raises(ImageLoadError, match="unsupported input type int"):
        load_image(42)  # type: ignore[arg-type]


def test_sniff_ignores_extension():
    assert sniff_format(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WEBP"
    assert sniff_format(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert sniff_format(b"%PDF-1.7") is None


def test_avif_is_read_and_heic_gets_its_own_error(photo):
    """AVIF (an ISO base media file whose brands say AV1) decodes; HEIF/HEIC, the same box layout with HEVC inside,
    has no decoder here and says so instead of "not an image"."""
    import io

    buf = io.BytesIO()
    photo.save(buf, "AVIF", quality=80)
    img = load_image(buf.getvalue(), name="a.jpg")  # the extension is not trusted
    assert img.format == "AVIF" and img.image.size == photo.size
    assert np.abs(np.asarray(img.image, np.float64) - np.asarray(photo, np.float64)).mean() < 6
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    assert sniff_format(heic) == "HEIF"
    with pytest.raises(ImageLoadError, match="HEIF/HEIC images are not supported"):
        load_image(heic, name="photo.heic")
    assert sniff_format(b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2" + b"\x00" * 8) is None  # an MP4
    with pytest.raises(ImageLoadError, match="pixels"):
        load_image(buf.getvalue(), max_pixels=100)  # the pixel cap holds for AVIF too


def test_avif_without_a_decoder_says_so(photo, monkeypatch):
    """A Pillow built without libavif (some distributions' packages) cannot open AVIF: the error names the cause."""
    import io

    buf = io.BytesIO()
    photo.save(buf, "AVIF", quality=80)
    monkeypatch.delitem(Image.OPEN, "AVIF")
    monkeypatch.setattr(Image, "init", lambda: None)  # else init() would register the plugin again
    with pytest.raises(ImageLoadError, match="AVIF is not supported by this Pillow build"):
        load_image(buf.getvalue(), name="a.avif")


def test_hash_is_content_based(photo):
    from creative4u.images import LoadedImage

    a, b = LoadedImage.from_pil(photo, "a"), LoadedImage.from_pil(photo, "b")
    assert a.sha256 == b.sha256
    assert a.sha256 != LoadedImage.from_pil(photo.rotate(90), "c").sha256


def _fresh(image: Image.Image):
    return LoadedImage.from_pil(image)


def test_large_image_shrinks_from_its_1024_copy(photo):
    """A camera-size photo's small copies come from its 1024 px copy (cheap) and match a direct shrink closely."""
    big = photo.resize((3000, 2000), Image.Resampling.BICUBIC)
    direct = _fresh(big).rgb(256).astype(int)
    img = _fresh(big)
    img.rgb(1024)
    via_copy = img.rgb(256).astype(int)
    assert via_copy.shape == direct.shape
    assert np.abs(via_copy - direct).mean() < 1.0  # same picture to within rounding
    assert not np.array_equal(via_copy, direct)  # and it really was shrunk from the copy


def test_small_image_keeps_its_exact_pixels(photo):
    """Images up to 1024 px are shrunk from the original whatever was asked first, so calibrations stay exact."""
    small = photo.resize((640, 480), Image.Resampling.BICUBIC)
    img = _fresh(small)
    img.rgb(1024), img.rgb(512)
    assert np.array_equal(img.rgb(256), _fresh(small).rgb(256))

"""AVIF quantiser reading (creative4u.checks.av1) and the compression check on real AVIF files made by libavif (aom),
which Pillow's wheels carry."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from creative4u.checks import av1
from creative4u.checks.av1 import avif_payload, avif_quantiser
from creative4u.checks.compression import Compression
from creative4u.images import load_image


def _avif(im: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "AVIF", **kwargs)
    return buf.getvalue()


def test_the_quantiser_grows_as_quality_falls_the_same_for_every_picture(photos):
    """libavif maps its quality setting to the frame's base_q_idx alone: two pictures agree and it rises as quality
    falls, from 0 (lossless quantiser) to the top of AV1's 0-255 range."""
    readings = {name: [avif_quantiser(_avif(photos[name], quality=q))["base_q_idx"] for q in (0, 20, 50, 80, 100)]
                for name in ("coffee", "astronaut")}
    assert readings["coffee"] == readings["astronaut"]
    qi = readings["coffee"]
    assert qi == sorted(qi, reverse=True) and qi[0] == 255 and qi[-1] == 0 and 180 < qi[1] < 240


@pytest.mark.parametrize("size", [(4100, 300), (333, 517), (300, 4600)])
def test_tile_columns_and_rows_are_read_past(photos, size):
    """A frame over 4096 px wide must be cut into tile columns (and a tall one may be): the tile fields come before
    the quantiser, so reading them wrong would shift it. Sizes whose superblock count is not a power of two too."""
    im = photos["coffee"].resize(size)
    for q in (10, 60):
        small = avif_quantiser(_avif(photos["coffee"], quality=q))["base_q_idx"]
        header = avif_quantiser(_avif(im, quality=q))
        assert header["base_q_idx"] == small and (header["width"], header["height"]) == size


def test_a_full_sequence_header_is_followed_too(photos):
    """An animated AVIF (an image sequence) carries a full sequence header (order hints, operating points), not the
    reduced still-picture one: its key frame's quantiser is read and still rises as quality falls."""
    im = photos["astronaut"]
    qi = []
    for q in (5, 50, 95):
        data = _avif(im, quality=q, save_all=True, append_images=[im.rotate(10)])
        seq = next(av1.parse_sequence_header(body) for kind, _, _, body in av1._obus(avif_payload(data)) if kind == 1)
        assert seq["reduced"] == 0 and seq["order_hint_bits"] > 0
        qi.append(avif_quantiser(data)["base_q_idx"])
    assert qi == sorted(qi, reverse=True) and qi[0] > 200 and qi[-1] < 30


@pytest.mark.parametrize("make", [
    lambda im: _webp(im),
    lambda im: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40,  # HEIC: no av01 item
    lambda im: _avif(im, quality=50)[:300],  # truncated before the frame
    lambda im: _avif(im, quality=50)[:24],  # truncated inside ftyp
    lambda im: b"",
])
def test_anything_but_a_readable_avif_reads_none(photos, make):
    assert avif_quantiser(make(photos["coffee"])) is None


def test_a_damaged_file_never_raises(photos):
    data = _avif(photos["coffee"], quality=50)
    for start in range(40, min(len(data), 400), 7):
        damaged = bytearray(data)
        for i in range(start, start + 5):
            damaged[i] ^= 0xFF
        out = avif_quantiser(bytes(damaged))
        assert out is None or 0 <= out["base_q_idx"] <= 255


def test_compression_check_flags_a_heavy_avif_and_passes_a_default_one(photos):
    """Pixels alone miss a heavy AVIF (AV1 smooths, it leaves no 8x8 grid); its file's quantiser says it."""
    check = Compression()
    heavy = check.measure(load_image(_avif(photos["astronaut"], quality=10), name="heavy.avif"))
    normal = check.measure(load_image(_avif(photos["astronaut"], quality=60), name="normal.avif"))
    assert heavy.score >= 0.7 > 0.5 > normal.score
    assert heavy.values["avif_quantiser"] > 220 and heavy.values["jpeg_quality"] is None
    assert "AVIF quantiser" in heavy.summary and "heavily compressed" in heavy.summary
    assert normal.values["avif_quantiser"] < 150 and "compression fine" in normal.summary


def test_avif_decision_point_is_a_profile_option(photos):
    """A quality 40 AVIF passes the default point; a client that sets max_avif_quantiser 150 flags it."""
    data = load_image(_avif(photos["astronaut"], quality=40))
    assert Compression().measure(data).score < 0.5 <= Compression(max_avif_quantiser=150).measure(data).score


def _webp(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "WEBP", quality=50)
    return buf.getvalue()

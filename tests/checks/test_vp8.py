"""WebP quantiser reading (creative4u.checks.vp8) and the compression check on real WebP files made by libwebp."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from creative4u.checks.compression import Compression, webp_quality
from creative4u.checks.vp8 import vp8_chunk, webp_quantiser
from creative4u.images import load_image


def _webp(im: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "WEBP", **kwargs)
    return buf.getvalue()


def test_the_quantiser_grows_as_quality_falls_the_same_for_every_picture(photos):
    """libwebp picks the frame's quantiser from the quality setting alone, so two pictures agree to within one step
    and it rises steadily as quality falls; each segment's own index is read too."""
    readings = {name: [webp_quantiser(_webp(photos[name], quality=q)) for q in (5, 20, 50, 80, 95)]
                for name in ("coffee", "astronaut")}
    for name, heads in readings.items():
        qi = [h["y_ac_qi"] for h in heads]
        assert qi == sorted(qi, reverse=True) and qi[0] > 90 and qi[-1] < 10, (name, qi)
        assert all(len(h["segments"]) in (1, 4) and min(h["segments"]) >= 0 for h in heads)
    for a, b in zip(readings["coffee"], readings["astronaut"], strict=True):
        assert abs(a["y_ac_qi"] - b["y_ac_qi"]) <= 1


def test_extended_format_with_alpha_is_read(photos):
    """An RGBA WebP is written in the extended format (VP8X, ALPH, then VP8 chunks): the VP8 chunk is found."""
    rgba = photos["coffee"].convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))  # not opaque, else libwebp drops the alpha
    data = _webp(rgba, quality=20)
    assert data[12:16] == b"VP8X"
    assert webp_quantiser(data)["y_ac_qi"] == webp_quantiser(_webp(photos["coffee"], quality=20))["y_ac_qi"]


@pytest.mark.parametrize("make", [
    lambda im: _webp(im, lossless=True),  # VP8L: nothing thrown away, no quantiser
    lambda im: _jpeg(im),
    lambda im: b"RIFF\x10\x00\x00\x00WEBPVP8 \x04\x00\x00\x00\x00\x00\x00\x00",  # chunk too short for a header
    lambda im: _webp(im, quality=50)[:40],  # truncated inside the frame header
    lambda im: b"RIFF" + struct.pack("<I", 4) + b"WEBP" + b"VP8 " + struct.pack("<I", 2**31) + b"\x00" * 8,
])
def test_anything_but_a_lossy_webp_reads_none(photos, make):
    assert webp_quantiser(make(photos["coffee"])) is None


def test_a_damaged_frame_header_never_raises(photos):
    data = bytearray(_webp(photos["coffee"], quality=50))
    start = data.find(b"VP8 ") + 8 + 10  # the bool-coded part of the header
    for i in range(start, start + 12):
        data[i] ^= 0xFF
    out = webp_quantiser(bytes(data))
    assert out is None or 0 <= out["y_ac_qi"] <= 127


def test_vp8_chunk_skips_other_chunks():
    payload = b"\x9d" * 5
    data = b"RIFF" + struct.pack("<I", 0) + b"WEBP" + b"EXIF" + struct.pack("<I", 3) + b"abc\x00" + b"VP8 " + \
        struct.pack("<I", len(payload)) + payload
    assert vp8_chunk(data) == payload


def test_compression_check_flags_a_heavy_webp_and_passes_a_default_one(photos):
    check = Compression()
    heavy = check.measure(load_image(_webp(photos["astronaut"], quality=10), name="heavy.webp"))
    normal = check.measure(load_image(_webp(photos["astronaut"]), name="default.webp"))  # Pillow's quality 80
    assert heavy.score >= 0.5 > normal.score
    assert heavy.values["webp_quantiser"] > 85 and heavy.values["jpeg_quality"] is None
    assert heavy.values["webp_quality"] == webp_quality(heavy.values["webp_quantiser"]) == 10
    assert "WebP saved at quality ~10" in heavy.summary and "heavily compressed" in heavy.summary
    assert normal.values["webp_quality"] == 80


def test_webp_decision_point_is_a_profile_option(photos):
    """A WebP at quality 30 passes the default point (20); a client that sets min_webp_quality 40 flags it."""
    data = _webp(photos["astronaut"], quality=30)
    assert Compression().measure(load_image(data)).score < 0.5 <= Compression(min_webp_quality=40).measure(
        load_image(data)).score


def _jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=50)
    return buf.getvalue()

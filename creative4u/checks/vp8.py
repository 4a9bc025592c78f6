"""The quantiser of a lossy WebP file, read from its VP8 frame header (RFC 6386, sections 9.2-9.6 and 19.2).

>>> import io
>>> from PIL import Image
>>> def webp(q):
...     buf = io.BytesIO(); Image.new("RGB", (64, 64), "teal").save(buf, "WEBP", quality=q); return buf.getvalue()
>>> webp_quantiser(webp(5))["y_ac_qi"] > webp_quantiser(webp(90))["y_ac_qi"]
True

A lossy WebP is a VP8 key frame in a RIFF container; its first partition opens with the frame's coding parameters,
written with VP8's boolean entropy coder. The luma AC quantiser index (0-127, coarser as it grows) is the number that
says how much was thrown away, as a JPEG's quantisation table does. libwebp splits a picture into up to four
segments with their own quantiser; the header then carries each segment's index (or its offset from the frame's).
A lossless WebP (VP8L) has no quantiser: nothing was thrown away.
"""

from __future__ import annotations

import struct
from typing import Any


class _BoolDecoder:
    """VP8's boolean entropy decoder (RFC 6386, section 7.3), enough to read the frame header's literals."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 2
        self.value = int.from_bytes(data[:2].ljust(2, b"\0"), "big")
        self.range, self.bits = 255, 0

    def bool(self, prob: int = 128) -> int:
        split = 1 + (((self.range - 1) * prob) >> 8)
        big_split = split << 8
        if self.value >= big_split:
            bit, self.range, self.value = 1, self.range - split, self.value - big_split
        else:
            bit, self.range = 0, split
        while self.range < 128:
            self.value, self.range, self.bits = self.value << 1, self.range << 1, self.bits + 1
            if self.bits == 8:
                self.bits = 0
                self.value |= self.data[self.pos] if self.pos < len(self.data) else 0
                self.pos += 1
        return bit

    def literal(self, n: int) -> int:
        out = 0
        for _ in range(n):
            out = (out << 1) | self.bool()
        return out

    def signed(self, n: int) -> int:
        """An optional signed field: a flag, then ``n`` bits of magnitude and a sign (0 when the flag is off)."""
        if not self.bool():
            return 0
        magnitude = self.literal(n)
        return -magnitude if self.bool() else magnitude


def vp8_chunk(data: bytes) -> bytes | None:
    """The payload of a RIFF/WebP file's ``VP8 `` chunk (simple or extended format); None when there is none or it
    is cut short."""
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    pos = 12
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if tag == b"VP8 ":
            payload = data[pos + 8 : pos + 8 + size]
            return payload if len(payload) == size else None  # a truncated file
        pos += 8 + size + (size & 1)  # chunks are padded to an even size
    return None


def webp_quantiser(data: bytes) -> dict[str, Any] | None:
    """The luma AC quantiser indices of a lossy WebP's key frame: the frame's, each segment's, and their mean.

    None for anything else (a lossless WebP, another format, a truncated or damaged header).
    """
    frame = vp8_chunk(data)
    # Frame tag (3 bytes, bit 0 clear on a key frame), start code 9d 01 2a, then width and height (2 bytes each).
    if frame is None or len(frame) < 12 or frame[0] & 1 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    first_partition = int.from_bytes(frame[:3], "little") >> 5
    if len(frame) < 10 + first_partition:
        return None  # the header's partition is cut short: what the decoder would read is not there
    return _read_header(_BoolDecoder(frame[10:]))


def _read_header(d: _BoolDecoder) -> dict[str, Any]:
    d.literal(2)  # colour space, clamping type
    segment_q: list[int] | None = None
    absolute = False
    if d.bool():  # segmentation enabled
        update_map, update_data = d.bool(), d.bool()
        if update_data:
            absolute = bool(d.bool())
            segment_q = [d.signed(7) for _ in range(4)]
            for _ in range(4):
                d.signed(6)  # per-segment loop-filter levels
        if update_map:
            for _ in range(3):
                if d.bool():
                    d.literal(8)  # segment map probabilities
    d.literal(1 + 6 + 3)  # filter type, loop-filter level, sharpness
    if d.bool() and d.bool():  # loop-filter deltas enabled and updated
        for _ in range(8):
            d.signed(6)
    d.literal(2)  # log2 of the number of DCT partitions
    y_ac_qi = d.literal(7)
    segments = [y_ac_qi] if segment_q is None else [
        min(max(q if absolute else y_ac_qi + q, 0), 127) for q in segment_q]
    return {"y_ac_qi": y_ac_qi, "segments": segments, "mean_qi": sum(segments) / len(segments)}

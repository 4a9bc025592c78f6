"""The quantiser of an AVIF file, read from its AV1 frame header (AV1 bitstream spec, sections 5.3, 5.5 and 5.9).

>>> import io
>>> from PIL import Image
>>> def avif(q):
...     buf = io.BytesIO(); Image.new("RGB", (64, 64), "teal").save(buf, "AVIF", quality=q); return buf.getvalue()
>>> avif_quantiser(avif(5))["base_q_idx"] > avif_quantiser(avif(90))["base_q_idx"]
True

An AVIF is an AV1 key frame in an ISO base media file (HEIF): the ``meta`` box names the primary item and ``iloc``
says where its bytes are; they hold AV1 OBUs, a sequence header and a frame. The frame header's ``base_q_idx``
(0-255, coarser as it grows) says how much was thrown away, whichever encoder and quality scale made the file, as a
JPEG's quantisation table does. Reaching it means walking the uncompressed header field by field (frame size,
superres, tiles) because every field before it has a length set by the sequence header. Anything unexpected (an
inter frame, a truncated box) returns None: the pixel readings still judge the picture.
"""

from __future__ import annotations

import struct
from typing import Any

_OBU_SEQUENCE_HEADER, _OBU_FRAME_HEADER, _OBU_FRAME = 1, 3, 6
_KEY_FRAME, _INTRA_ONLY_FRAME, _SWITCH_FRAME = 0, 2, 3
_SELECT = 2  # seq_force_screen_content_tools / seq_force_integer_mv: chosen per frame


class _Bits:
    """A big-endian bit reader; reading past the end raises ``IndexError``."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def f(self, n: int) -> int:
        out = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]
            out = (out << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return out

    def uvlc(self) -> int:
        zeros = 0
        while not self.f(1):
            zeros += 1
            if zeros >= 32:
                raise IndexError("uvlc too long")
        return self.f(zeros) + (1 << zeros) - 1

    def ns(self, n: int) -> int:
        """A non-symmetric unsigned value below ``n`` (spec 4.10.7)."""
        w = n.bit_length()
        m = (1 << w) - n
        v = self.f(w - 1)
        return v if v < m else (v << 1) - m + self.f(1)


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, payload start, payload end) of each ISO-BMFF box in ``data[start:end]``."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        head = 8
        if size == 1:
            size, head = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            return
        yield kind, pos + head, pos + size
        pos += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((s, e) for k, s, e in _boxes(data, start, end) if k == kind), None)


def _item_types(data: bytes, start: int, end: int) -> dict[int, bytes]:
    """Item id -> item type from an ``iinf`` box (infe versions 2 and 3)."""
    version = data[start]
    count_size = 2 if version == 0 else 4
    types = {}
    for kind, s, _e in _boxes(data, start + 4 + count_size, end):
        if kind == b"infe" and data[s] >= 2:
            id_size = 2 if data[s] == 2 else 4
            item_id = int.from_bytes(data[s + 4 : s + 4 + id_size], "big")
            types[item_id] = data[s + 6 + id_size : s + 10 + id_size]
    return types


def _item_extents(data: bytes, start: int, end: int) -> dict[int, list[tuple[int, int]]]:
    """Item id -> [(file offset, length)] from an ``iloc`` box (file offsets only: construction method 0)."""
    version = data[start]
    r = _Bits(data[start + 4 : end])
    off_size, len_size, base_size, index_bits = r.f(4), r.f(4), r.f(4), r.f(4)
    index_size = index_bits if version in (1, 2) else 0  # the last 4 bits are reserved in version 0
    count = r.f(16 if version < 2 else 32)
    out: dict[int, list[tuple[int, int]]] = {}
    for _ in range(count):
        item_id = r.f(16 if version < 2 else 32)
        method = r.f(16) & 0xF if version in (1, 2) else 0
        r.f(16)  # data_reference_index
        base = r.f(8 * base_size)
        extents = []
        for _ in range(r.f(16)):
            r.f(8 * index_size)
            offset, length = r.f(8 * off_size), r.f(8 * len_size)
            extents.append((base + offset, length))
        if method == 0:
            out[item_id] = extents
    return out


def _meta(data: bytes) -> tuple[int, int] | None:
    """The payload of the top-level ``meta`` box, past its FullBox version and flags."""
    meta = _child(data, 0, len(data), b"meta")
    return None if meta is None else (meta[0] + 4, meta[1])


def avif_payload(data: bytes, meta: tuple[int, int] | None = None) -> bytes | None:
    """The AV1 bytes of an AVIF's primary image (its first ``av01`` tile for a grid), or None; ``meta``:
    :func:`_meta` when the caller has it."""
    meta = meta or _meta(data)
    if meta is None:
        return None
    start, end = meta
    pitm, iinf, iloc = (_child(data, start, end, k) for k in (b"pitm", b"iinf", b"iloc"))
    if iinf is None or iloc is None:
        return None
    types = _item_types(data, *iinf)
    extents = _item_extents(data, *iloc)
    primary = None
    if pitm is not None:
        primary = int.from_bytes(data[pitm[0] + 4 : pitm[0] + (6 if data[pitm[0]] == 0 else 8)], "big")
    candidates = [primary] if types.get(primary) == b"av01" else []
    candidates += sorted(i for i, t in types.items() if t == b"av01" and i != primary)
    for item in candidates:
        if extents.get(item) and all(o + n <= len(data) for o, n in extents[item]):  # else truncated
            return b"".join(data[o : o + n] for o, n in extents[item])
    return None


def _config_sequence_header(data: bytes, meta: tuple[int, int]) -> dict[str, Any] | None:
    """The sequence header kept in the first ``av1C`` property (``meta/iprp/ipco``), or None."""
    iprp = _child(data, *meta, b"iprp")
    ipco = iprp and _child(data, *iprp, b"ipco")
    av1c = ipco and _child(data, *ipco, b"av1C")
    if not av1c:
        return None
    for kind, _tid, _sid, body in _obus(data[av1c[0] + 4 : av1c[1]]):  # after av1C's 4 bytes of codec settings
        if kind == _OBU_SEQUENCE_HEADER:
            return parse_sequence_header(body)
    return None


def _obus(payload: bytes):
    """(obu_type, temporal_id, spatial_id, body) for each OBU that carries its size."""
    pos = 0
    while pos < len(payload):
        header = payload[pos]
        kind, has_ext, has_size = (header >> 3) & 0xF, (header >> 2) & 1, (header >> 1) & 1
        pos += 1
        tid = sid = 0
        if has_ext:
            tid, sid = payload[pos] >> 5, (payload[pos] >> 3) & 3
            pos += 1
        if not has_size:
            yield kind, tid, sid, payload[pos:]
            return
        size = shift = 0
        while True:
            byte = payload[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        yield kind, tid, sid, payload[pos : pos + size]
        pos += size


def _timing_and_decoder_model(r: _Bits, seq: dict[str, Any]) -> None:
    if r.f(1):  # timing_info_present_flag
        r.f(32), r.f(32)
        seq["equal_picture_interval"] = r.f(1)
        if seq["equal_picture_interval"]:
            r.uvlc()
        seq["decoder_model_info"] = r.f(1)
        if seq["decoder_model_info"]:
            seq["buffer_delay_len"] = r.f(5) + 1
            r.f(32)
            seq["removal_time_len"], seq["presentation_time_len"] = r.f(5) + 1, r.f(5) + 1


def _operating_points(r: _Bits, seq: dict[str, Any]) -> None:
    initial_display_delay = r.f(1)
    for _ in range(r.f(5) + 1):
        idc, level = r.f(12), r.f(5)
        if level > 7:
            r.f(1)
        present = 0
        if seq["decoder_model_info"]:
            present = r.f(1)
            if present:
                r.f(seq["buffer_delay_len"]), r.f(seq["buffer_delay_len"]), r.f(1)
        seq["ops"].append((idc, present))
        if initial_display_delay and r.f(1):
            r.f(4)


def parse_sequence_header(body: bytes) -> dict[str, Any]:
    """The sequence header fields that set the frame header's layout (spec 5.5)."""
    r = _Bits(body)
    seq: dict[str, Any] = {"decoder_model_info": 0, "equal_picture_interval": 0, "ops": []}
    r.f(3)  # seq_profile
    r.f(1)  # still_picture
    seq["reduced"] = r.f(1)
    if seq["reduced"]:
        r.f(5)  # seq_level_idx[0]
    else:
        _timing_and_decoder_model(r, seq)
        _operating_points(r, seq)
    w_bits, h_bits = r.f(4) + 1, r.f(4) + 1
    seq["w_bits"], seq["h_bits"] = w_bits, h_bits
    seq["width"], seq["height"] = r.f(w_bits) + 1, r.f(h_bits) + 1
    seq["frame_ids"] = 0 if seq["reduced"] else r.f(1)
    if seq["frame_ids"]:
        seq["id_len"] = r.f(4) + 2 + r.f(3) + 1
    seq["sb128"] = r.f(1)
    r.f(1), r.f(1)  # enable_filter_intra, enable_intra_edge_filter
    seq["order_hint_bits"], seq["screen_tools"], seq["integer_mv"] = 0, _SELECT, _SELECT
    if not seq["reduced"]:
        r.f(4)  # interintra, masked compound, warped motion, dual filter
        order_hint = r.f(1)
        if order_hint:
            r.f(2)  # jnt_comp, ref_frame_mvs
        seq["screen_tools"] = _SELECT if r.f(1) else r.f(1)
        seq["integer_mv"] = (_SELECT if r.f(1) else r.f(1)) if seq["screen_tools"] > 0 else _SELECT
        seq["order_hint_bits"] = r.f(3) + 1 if order_hint else 0
    seq["superres"] = r.f(1)
    return seq


def _tile_log2(block: int, target: int) -> int:
    k = 0
    while (block << k) < target:
        k += 1
    return k


def _skip_tile_info(r: _Bits, seq: dict[str, Any], width: int, height: int) -> None:
    """Read past tile_info (spec 5.9.15)."""
    mi_cols, mi_rows = 2 * ((width + 7) >> 3), 2 * ((height + 7) >> 3)
    shift = 5 if seq["sb128"] else 4
    sb_cols, sb_rows = (mi_cols + (1 << shift) - 1) >> shift, (mi_rows + (1 << shift) - 1) >> shift
    sb_size = shift + 2
    max_width_sb, max_area_sb = 4096 >> sb_size, (4096 * 2304) >> (2 * sb_size)
    min_cols_log2 = _tile_log2(max_width_sb, sb_cols)
    max_cols_log2, max_rows_log2 = _tile_log2(1, min(sb_cols, 64)), _tile_log2(1, min(sb_rows, 64))
    min_tiles_log2 = max(min_cols_log2, _tile_log2(max_area_sb, sb_rows * sb_cols))
    if r.f(1):  # uniform_tile_spacing_flag
        cols_log2 = min_cols_log2
        while cols_log2 < max_cols_log2 and r.f(1):
            cols_log2 += 1
        rows_log2 = max(min_tiles_log2 - cols_log2, 0)
        while rows_log2 < max_rows_log2 and r.f(1):
            rows_log2 += 1
    else:
        widest, start, cols = 0, 0, 0
        while start < sb_cols:
            size = r.ns(min(sb_cols - start, max_width_sb)) + 1
            widest, start, cols = max(widest, size), start + size, cols + 1
        area = (sb_rows * sb_cols) >> (min_tiles_log2 + 1) if min_tiles_log2 > 0 else sb_rows * sb_cols
        max_height_sb = max(area // widest, 1)
        start, rows = 0, 0
        while start < sb_rows:
            start, rows = start + r.ns(min(sb_rows - start, max_height_sb)) + 1, rows + 1
        cols_log2, rows_log2 = _tile_log2(1, cols), _tile_log2(1, rows)
    if cols_log2 or rows_log2:
        r.f(cols_log2 + rows_log2), r.f(2)


def _frame_size(r: _Bits, seq: dict[str, Any], override: int) -> tuple[int, int, int]:
    """frame_size, superres_params and render_size (spec 5.9.5-5.9.8): the coded width and height and the width
    before superres downscaling."""
    width, height = (r.f(seq["w_bits"]) + 1, r.f(seq["h_bits"]) + 1) if override else (seq["width"], seq["height"])
    upscaled = width
    if seq["superres"] and r.f(1):
        denom = r.f(3) + 9
        width = (upscaled * 8 + denom // 2) // denom
    if r.f(1):  # render_and_frame_size_different
        r.f(16), r.f(16)
    return width, height, upscaled


def parse_base_q_idx(body: bytes, seq: dict[str, Any], temporal_id: int = 0, spatial_id: int = 0) -> int | None:
    """``base_q_idx`` of an intra frame header (spec 5.9.2), or None for a frame this reader does not follow."""
    r = _Bits(body)
    if seq["reduced"]:
        frame_type, show_frame, error_resilient = _KEY_FRAME, 1, 1
    else:
        if r.f(1):  # show_existing_frame
            return None
        frame_type, show_frame = r.f(2), r.f(1)
        if show_frame and seq["decoder_model_info"] and not seq["equal_picture_interval"]:
            r.f(seq["presentation_time_len"])
        if not show_frame:
            r.f(1)  # showable_frame
        error_resilient = 1 if frame_type == _SWITCH_FRAME or (frame_type == _KEY_FRAME and show_frame) else r.f(1)
    if frame_type not in (_KEY_FRAME, _INTRA_ONLY_FRAME):
        return None
    disable_cdf_update = r.f(1)
    screen_tools = r.f(1) if seq["screen_tools"] == _SELECT else seq["screen_tools"]
    if screen_tools and seq["integer_mv"] == _SELECT:
        r.f(1)  # force_integer_mv (1 for an intra frame whatever it says)
    if seq["frame_ids"]:
        r.f(seq["id_len"])
    override = 0 if seq["reduced"] else r.f(1)
    r.f(seq["order_hint_bits"])
    if seq["decoder_model_info"] and r.f(1):  # buffer_removal_time_present_flag
        for idc, present in seq["ops"]:
            in_layer = (idc >> temporal_id) & 1 and (idc >> (spatial_id + 8)) & 1
            if present and (idc == 0 or in_layer):
                r.f(seq["removal_time_len"])
    refresh = 0xFF if frame_type == _KEY_FRAME and show_frame else r.f(8)
    if refresh != 0xFF and error_resilient and seq["order_hint_bits"]:
        for _ in range(8):
            r.f(seq["order_hint_bits"])
    width, height, upscaled = _frame_size(r, seq, override)
    if screen_tools and upscaled == width:
        r.f(1)  # allow_intrabc
    if not (seq["reduced"] or disable_cdf_update):
        r.f(1)  # disable_frame_end_update_cdf
    _skip_tile_info(r, seq, width, height)
    return r.f(8)


def avif_quantiser(data: bytes) -> dict[str, Any] | None:
    """``{"base_q_idx": 0-255, "width": ..., "height": ...}`` of an AVIF's primary image, or None when the file is
    not an AVIF or its header cannot be followed."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    try:
        meta = _meta(data)
        payload = avif_payload(data, meta)
        if payload is None:
            return None
        seq = _config_sequence_header(data, meta)  # av1C's copy; the item's own sequence header, if any, wins
        for kind, tid, sid, body in _obus(payload):
            if kind == _OBU_SEQUENCE_HEADER:
                seq = parse_sequence_header(body)
            elif kind in (_OBU_FRAME, _OBU_FRAME_HEADER) and seq is not None:
                q = parse_base_q_idx(body, seq, tid, sid)
                return None if q is None else {"base_q_idx": q, "width": seq["width"], "height": seq["height"]}
    except (IndexError, ValueError, struct.error):
        return None
    return None

"""Read the files out of a compiled Qt resource bundle (``.rcc``), the form some Debian packages ship their pictures
in (GCompris keeps every activity's photographs and drawings in one ``.rcc`` per activity).

>>> bundle = build_rcc({"pics/a.txt": b"hello", "b.txt": b"x" * 200}, compress={"b.txt"})
>>> sorted((path, len(data)) for path, data in read_rcc(bundle))
[('b.txt', 200), ('pics/a.txt', 5)]

The format (Qt's ``rcc``, versions 1-3): a ``qres`` header with the offsets of three tables; a tree of 14-byte
(version 1) or 22-byte entries (a name offset, flags, then a directory's child count and first child, or a file's
locale and data offset); each file's data is a 4-byte length and the bytes, zlib-compressed behind a 4-byte size when
flag 1 is set (flag 4, zstd, is skipped); names are a 2-byte length, a 4-byte hash and UTF-16BE text.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

MAGIC = b"qres"
COMPRESSED, DIRECTORY, COMPRESSED_ZSTD = 1, 2, 4


class RccError(ValueError):
    """The bytes are not a Qt resource bundle this reader understands."""


def read_rcc(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Every file of the bundle as ``(path, bytes)``; zstd-compressed files are left out (no decoder needed here)."""
    if data[:4] != MAGIC or len(data) < 20:
        raise RccError("not a Qt resource bundle (no 'qres' header)")
    version, tree, payload, names = struct.unpack(">IIII", data[4:20])
    if version not in (1, 2, 3):
        raise RccError(f"unsupported rcc format version {version}")
    entry = 14 if version == 1 else 22

    def name(offset: int) -> str:
        length = struct.unpack_from(">H", data, names + offset)[0]
        start = names + offset + 6  # the length, then a 4-byte hash nobody needs here
        return data[start:start + 2 * length].decode("utf-16-be")

    def walk(index: int, prefix: str) -> Iterator[tuple[str, bytes]]:
        at = tree + index * entry
        name_offset, flags = struct.unpack_from(">IH", data, at)
        path = prefix + name(name_offset) if index else ""
        if flags & DIRECTORY:
            count, first = struct.unpack_from(">II", data, at + 6)
            for child in range(first, first + count):
                yield from walk(child, path + "/" if path else "")
            return
        if flags & COMPRESSED_ZSTD:
            return
        offset = payload + struct.unpack_from(">I", data, at + 10)[0]
        size = struct.unpack_from(">I", data, offset)[0]
        blob = data[offset + 4:offset + 4 + size]
        yield path, zlib.decompress(blob[4:]) if flags & COMPRESSED else blob

    try:
        yield from walk(0, "")
    except (struct.error, zlib.error, UnicodeDecodeError, RecursionError) as err:
        raise RccError(f"corrupt rcc bundle: {err}") from err


def extract_rcc(bundles: Iterable[Path], out: Path, suffixes: tuple[str, ...] = ()) -> int:
    """Write the files of ``bundles`` under ``out`` (only those ending in ``suffixes`` when given); returns the count.

    A path that would leave ``out`` (``..`` in a name) raises :class:`RccError` instead of being written.
    """
    out = Path(out)
    written = 0
    for bundle in bundles:
        for path, blob in read_rcc(Path(bundle).read_bytes()):
            if suffixes and not path.lower().endswith(suffixes):
                continue
            dest = (out / path.lstrip("/")).resolve()
            if not dest.is_relative_to(out.resolve()):
                raise RccError(f"{bundle}: entry {path!r} points outside the output folder")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(blob)
            written += 1
    return written


def build_rcc(files: dict[str, bytes], compress: Iterable[str] = (), version: int = 2) -> bytes:
    """A bundle holding ``files`` (path -> bytes), laid out as Qt's ``rcc`` lays it out; the tests' fixture maker."""
    root: dict = {}
    for path, blob in files.items():
        node = root
        *folders, leaf = path.split("/")
        for folder in folders:
            node = node.setdefault(folder, {})
        node[leaf] = blob
    entry = 14 if version == 1 else 22
    names, payload = bytearray(), bytearray()
    name_at: dict[str, int] = {}

    def add_name(text: str) -> int:
        if text not in name_at:
            name_at[text] = len(names)
            names.extend(struct.pack(">HI", len(text), 0) + text.encode("utf-16-be"))
        return name_at[text]

    # Breadth-first, as rcc does: a directory's children sit next to each other in the tree table.
    entries: list[tuple[str, Any, str]] = [("", root, "")]  # (name, folder dict or bytes, full path)
    children: dict[int, tuple[int, int]] = {}  # a folder's index -> (child count, first child)
    for index, (_, node, path) in enumerate(entries):  # grows while it runs: each folder appends its children
        if isinstance(node, dict):
            children[index] = (len(node), len(entries))
            entries += [(key, node[key], f"{path}/{key}".lstrip("/")) for key in sorted(node)]
    table = bytearray()
    zipped = set(compress)
    for index, (key, node, path) in enumerate(entries):
        row = struct.pack(">I", add_name(key))
        if isinstance(node, dict):
            row += struct.pack(">HII", DIRECTORY, *children[index])
        else:
            flag = COMPRESSED if path in zipped else 0
            blob = struct.pack(">I", len(node)) + zlib.compress(node) if flag else node
            row += struct.pack(">HHHI", flag, 0, 0, len(payload))
            payload.extend(struct.pack(">I", len(blob)) + blob)
        table.extend(row + b"\0" * (entry - len(row)))
    header = 20
    return (MAGIC + struct.pack(">IIII", version, header, header + len(table), header + len(table) + len(payload))
            + bytes(table) + bytes(payload) + bytes(names))


"""Qt resource bundles: the reader walks rcc's tree, inflates zlib entries and refuses what it cannot read."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from creative4u.data.qt_rcc import RccError, build_rcc, extract_rcc, read_rcc


def _png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_every_file_comes_back_with_its_folders_and_bytes(version):
    files = {"gcompris/src/a/one.png": _png((255, 0, 0)), "gcompris/src/a/two.txt": b"two" * 50,
             "gcompris/src/b/three.webp": b"\x00\x01" * 9, "top.qml": b"Item {}"}
    bundle = build_rcc(files, compress={"gcompris/src/a/two.txt", "gcompris/src/a/one.png"}, version=version)
    assert dict(read_rcc(bundle)) == files


def test_non_ascii_names_survive():
    assert dict(read_rcc(build_rcc({"été/œuf.png": b"x"}))) == {"été/œuf.png": b"x"}


def test_extract_writes_only_the_asked_suffixes(tmp_path):
    bundle = tmp_path / "act.rcc"
    bundle.write_bytes(build_rcc({"act/resource/bear.webp": b"w", "act/Act.qml": b"q", "act/r/fish.JPG": b"j"}))
    assert extract_rcc([bundle], tmp_path / "out", suffixes=(".webp", ".jpg")) == 2
    found = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert found == ["act/r/fish.JPG", "act/resource/bear.webp"]


def test_a_name_that_climbs_out_of_the_folder_is_refused(tmp_path):
    bundle = tmp_path / "evil.rcc"
    bundle.write_bytes(build_rcc({"../../escape.png": b"x"}))
    with pytest.raises(RccError, match="outside"):
        extract_rcc([bundle], tmp_path / "out")
    assert not (tmp_path / "escape.png").exists()


@pytest.mark.parametrize("data, message", [(b"PK\x03\x04" + b"\0" * 40, "no 'qres' header"),
                                           (b"qres" + struct.pack(">IIII", 9, 20, 20, 20), "version 9"),
                                           (build_rcc({"a.png": b"x" * 40})[:30], "corrupt")])
def test_what_is_not_a_bundle_gets_a_clear_error(data, message):
    with pytest.raises(RccError, match=message):
        list(read_rcc(data))

"""What SRC names (folder, glob, JSONL, Parquet/CSV) and URL sources, without Ray: the workers' own code."""

from __future__ import annotations

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pool_compare import assert_same, comparable  # tests/pool is on sys.path (pytest's prepend import mode)

from creative4u.pipeline import Pipeline
from creative4u.pool.screen import ScreenRows, rows_to_check_result
from creative4u.pool.sources import list_sources


@pytest.fixture(scope="module")
def few(image_pool: Path) -> list[Path]:
    return sorted(p for p in image_pool.iterdir() if p.suffix == ".jpg")[:4]


def test_every_kind_of_source_names_the_same_files(few: list[Path], tmp_path: Path) -> None:
    want = [str(p) for p in few]
    (tmp_path / "t.csv").write_text("id,image_path\n" + "".join(f"{i},{p}\n" for i, p in enumerate(want)))
    pq.write_table(pa.table({"url": want + [None]}), tmp_path / "t.parquet")  # an empty cell is no source
    rel = [str(Path(p).relative_to(few[0].parent.parent)) for p in want]
    manifest = few[0].parent.parent / "manifest-test.jsonl"
    manifest.write_text("".join(json.dumps({"image": r, "flags": []}) + "\n" for r in rel))
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"id": "p", "image_a": want[0], "image_b": want[1], "label": "A"}) + "\n")
    assert list_sources(tmp_path / "t.csv") == want
    assert list_sources(tmp_path / "t.parquet") == want
    assert list_sources(manifest) == want  # relative to the JSONL's folder
    assert list_sources(pairs) == want[:2]
    assert list_sources(str(few[0].parent / "*.jpg"))[:4] == want
    assert [s for s in list_sources(few[0].parent) if s.endswith(".jpg")][:4] == want
    manifest.unlink()


def test_bad_sources_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no image column"):
        list_sources(tmp_path / "t.csv")
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match="bad.jsonl:1: invalid JSON"):
        list_sources(tmp_path / "bad.jsonl")
    with pytest.raises(FileNotFoundError, match="no file matches"):
        list_sources(str(tmp_path / "*.png"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="not a folder, glob"):
        list_sources(tmp_path / "notes.txt")


def test_url_sources_are_fetched_and_a_dead_url_is_an_error_row(few: list[Path]) -> None:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(few[0].parent))
    handler.log_message = lambda *a: None  # type: ignore[assignment]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    rows = ScreenRows(Pipeline())
    try:
        url_row = rows.screen(f"{base}/{few[0].name}")
        dead = rows.screen(f"{base}/no-such.jpg")
    finally:
        httpd.shutdown()
        httpd.server_close()
    file_row = rows.screen(str(few[0]))
    assert url_row["sha256"] == file_row["sha256"] and url_row["name"].startswith("http://")
    same = [comparable({**img, "name": ""}) for img in rows_to_check_result([url_row, file_row])["images"]]
    assert_same(same[0], same[1])  # the same bytes, the same checks
    assert dead["error"] == "cannot fetch the URL" and dead["approved"] is None

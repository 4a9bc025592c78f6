"""What ``pool screen SRC`` screens: a folder, a glob, a CreativePair/manifest JSONL, or a Parquet/CSV column.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> for n in ("b.jpg", "a.png", "notes.txt"):
...     _ = (d / n).write_bytes(b"x")
>>> [pathlib.Path(s).name for s in list_sources(d)]
['a.png', 'b.jpg']
>>> _ = (d / "pairs.jsonl").write_text('{"id": "p1", "image_a": "a.png", "image_b": "b.jpg", "label": "A"}\\n')
>>> [pathlib.Path(s).name for s in list_sources(d / "pairs.jsonl")]
['a.png', 'b.jpg']

A source is a path string (or an ``http(s)://`` URL); it is also the image's ``name`` in the results, exactly as
``creative4u check PATH`` names it, so a pool row and a ``check --json`` entry for the same file compare one to one.
Sources are listed once each, in a stable order (sorted for folders and globs, file order for tables and JSONL).
"""

from __future__ import annotations

import glob as globlib
import json
from pathlib import Path

from creative4u.images import IMAGE_SUFFIXES as PICTURE_SUFFIXES

# HEIC files are listed too, so that each gets its own "not supported" error in the results instead of vanishing.
IMAGE_SUFFIXES = (*PICTURE_SUFFIXES, ".heic", ".heif")
# Columns tried, in order, when a table or JSONL line names its image (``--column`` picks one explicitly).
IMAGE_COLUMNS = ("image", "path", "image_path", "file", "url", "image_url")
PAIR_COLUMNS = ("image_a", "image_b")


def is_url(source: str) -> bool:
    """``True`` for ``http://`` and ``https://`` sources.

    >>> is_url("https://cdn.example.com/a.jpg"), is_url("a.jpg")
    (True, False)
    """
    return source.startswith(("http://", "https://"))


def list_sources(src: str | Path, column: str | None = None, all_files: bool = False) -> list[str]:
    """Every image source named by ``src``, each once; raises ``FileNotFoundError``/``ValueError`` on bad input.

    A folder is walked recursively for image suffixes (every file with ``all_files``: unreadable ones become error
    rows); a pattern with ``*``/``?``/``[`` is a glob; ``.jsonl``/``.json`` lines are CreativePairs (both images) or
    manifest lines with an image column; ``.parquet``/``.csv`` read the image column.
    """
    text = str(src)
    path = Path(text)
    if any(c in text for c in "*?[") and not path.exists():
        found = sorted(p for p in globlib.glob(text, recursive=True) if Path(p).is_file())
        if not found:
            raise FileNotFoundError(f"no file matches the pattern {text!r}")
        return found
    if not path.exists():
        raise FileNotFoundError(f"no such folder or file: {text}")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        return [str(p) for p in files if all_files or p.suffix.lower() in IMAGE_SUFFIXES]
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        return _unique(_from_jsonl(path, column))
    if suffix in (".parquet", ".csv"):
        return _unique(_from_table(path, column))
    if suffix in IMAGE_SUFFIXES:
        return [text]
    raise ValueError(f"{text}: not a folder, glob, JSONL, Parquet or CSV source (suffix {suffix or 'none'!r})")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _resolve(value: str, base: Path) -> str:
    if is_url(value) or Path(value).is_absolute():
        return value
    return str(base / value)


def _from_jsonl(path: Path, column: str | None) -> list[str]:
    out: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{lineno}: invalid JSON ({err.msg})") from err
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{lineno}: expected a JSON object")
            keys = [column] if column else ([k for k in PAIR_COLUMNS if k in row] or _first_column(row))
            if not keys or any(not isinstance(row.get(k), str) for k in keys):
                raise ValueError(f"{path}:{lineno}: no image column (tried {column or IMAGE_COLUMNS + PAIR_COLUMNS})")
            out += [_resolve(row[k], path.parent) for k in keys]
    return out


def _first_column(row: dict) -> list[str]:
    return [next(k for k in IMAGE_COLUMNS if k in row)] if any(k in row for k in IMAGE_COLUMNS) else []


def _from_table(path: Path, column: str | None) -> list[str]:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    table = pq.read_table(path) if path.suffix.lower() == ".parquet" else pcsv.read_csv(path)
    names = table.column_names
    chosen = column or next((c for c in IMAGE_COLUMNS if c in names), None)
    if chosen is None or chosen not in names:
        raise ValueError(f"{path}: no image column {column or IMAGE_COLUMNS} among {names}")
    values = table.column(chosen).to_pylist()
    return [_resolve(str(v), path.parent) for v in values if v not in (None, "")]

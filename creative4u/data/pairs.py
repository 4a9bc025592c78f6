"""The CreativePair JSONL format used everywhere: reading, validating, writing, and a ``datasets`` view.

>>> import json, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "pairs.jsonl").write_text(json.dumps({"id": "p1", "image_a": "a.jpg", "image_b": "b.jpg", "label": "A"}))
>>> [p.label for p in read_pairs(d / "pairs.jsonl")]
['A']

One JSON object per line: ``id``, ``image_a``, ``image_b`` (relative to the JSONL file, or absolute), ``label``
(``A``, ``B`` or ``tie``), optional ``title``, ``queries`` (list of strings), ``category`` and ``rationale``.
Unknown keys are kept in ``extra`` so converters can carry their own columns through.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LABELS = ("A", "B", "tie")
_KNOWN = {"id", "image_a", "image_b", "label", "title", "queries", "category", "rationale"}


class PairFormatError(ValueError):
    """A malformed CreativePair line; the message names the file and line number."""


@dataclass
class CreativePair:
    """One labelled comparison of two creatives for the same product."""

    id: str
    image_a: str
    image_b: str
    label: str
    title: str = ""
    queries: list[str] = field(default_factory=list)
    category: str = ""
    rationale: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "extra"}
        out = {k: v for k, v in out.items() if v not in ("", [], None) or k in ("id", "image_a", "image_b", "label")}
        return {**out, **self.extra}

    def swapped(self) -> CreativePair:
        """The same pair with A and B exchanged and the label mirrored."""
        label = {"A": "B", "B": "A", "tie": "tie"}[self.label]
        return CreativePair(**{**asdict(self), "image_a": self.image_b, "image_b": self.image_a, "label": label})


def parse_pair(obj: Any, base_dir: Path | None = None, where: str = "<pair>") -> CreativePair:
    """Validate one decoded JSON object; relative image paths are resolved against ``base_dir``."""
    if not isinstance(obj, dict):
        raise PairFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing = [k for k in ("id", "image_a", "image_b", "label") if k not in obj]
    if missing:
        raise PairFormatError(f"{where}: missing required field(s) {missing}")
    if obj["label"] not in LABELS:
        raise PairFormatError(f"{where}: label must be one of {LABELS}, got {obj['label']!r}")
    queries = obj.get("queries") or []
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
        raise PairFormatError(f"{where}: queries must be a list of strings")
    for key in ("image_a", "image_b", "title", "category", "rationale"):
        if key in obj and not isinstance(obj[key], str):
            raise PairFormatError(f"{where}: {key} must be a string")
    paths = [_resolve(obj[k], base_dir) for k in ("image_a", "image_b")]
    return CreativePair(
        id=str(obj["id"]),
        image_a=paths[0],
        image_b=paths[1],
        label=obj["label"],
        title=obj.get("title", ""),
        queries=list(queries),
        category=obj.get("category", ""),
        rationale=obj.get("rationale", ""),
        extra={k: v for k, v in obj.items() if k not in _KNOWN},
    )


def _resolve(path: str, base_dir: Path | None) -> str:
    p = Path(path)
    if base_dir is not None and not p.is_absolute():
        p = base_dir / p
    return str(p)


def iter_pairs(path: str | Path, strict: bool = True) -> Iterator[tuple[int, CreativePair | PairFormatError]]:
    """Yield ``(line_number, pair)``; with ``strict=False`` a bad line yields its error instead of raising."""
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                item: CreativePair | PairFormatError = parse_pair(json.loads(line), path.parent, where)
            except json.JSONDecodeError as err:
                item = PairFormatError(f"{where}: invalid JSON ({err.msg})")
            except PairFormatError as err:
                item = err
            if isinstance(item, PairFormatError) and strict:
                raise item
            yield lineno, item


def read_pairs(path: str | Path) -> list[CreativePair]:
    """Read and validate a whole JSONL file (raises :class:`PairFormatError` on the first bad line)."""
    pairs = [p for _, p in iter_pairs(path)]
    seen: set[str] = set()
    for p in pairs:
        if p.id in seen:
            raise PairFormatError(f"{path}: duplicate pair id {p.id!r}")
        seen.add(p.id)
    return pairs  # type: ignore[return-value]


def write_pairs(path: str | Path, pairs: Iterable[CreativePair], relative: bool = True) -> int:
    """Write pairs as JSONL; image paths are made relative to the file's folder when possible."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for pair in pairs:
            row = pair.to_json()
            if relative:
                for key in ("image_a", "image_b"):
                    row[key] = _relative(row[key], path.parent)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _relative(image: str, base: Path) -> str:
    try:
        return str(Path(image).resolve().relative_to(base.resolve()))
    except ValueError:
        return image


def load_pair_dataset(path: str | Path):
    """Return the pairs as a Hugging Face ``datasets.Dataset`` with ``Image()`` features for both images.

    >>> # ds = load_pair_dataset("data/samples/pairs.jsonl"); ds[0]["image_a"]  -> a PIL image
    """
    from datasets import Dataset, Features, Image, Sequence, Value

    rows = [p.to_json() | {"queries": p.queries, "title": p.title, "category": p.category, "rationale": p.rationale}
            for p in read_pairs(path)]
    features = Features(
        {
            "id": Value("string"),
            "image_a": Image(),
            "image_b": Image(),
            "label": Value("string"),
            "title": Value("string"),
            "queries": Sequence(Value("string")),
            "category": Value("string"),
            "rationale": Value("string"),
        }
    )
    columns = {name: [r.get(name) for r in rows] for name in features}
    return Dataset.from_dict(columns, features=features)

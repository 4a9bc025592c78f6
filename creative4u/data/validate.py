"""Validate a CreativePair set before training on it, summarise it, and balance A/B positions.

>>> import json, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> for n in ("a.jpg", "b.jpg"):
...     _ = (d / n).write_bytes(n.encode())
>>> rows = [{"id": "p1", "image_a": "a.jpg", "image_b": "b.jpg", "label": "A"},
...         {"id": "p1", "image_a": "a.jpg", "image_b": "a.jpg", "label": "B"},
...         {"id": "p3", "image_a": "a.jpg", "image_b": "gone.jpg", "label": "A?"}]
>>> _ = (d / "pairs.jsonl").write_text("\\n".join(json.dumps(r) for r in rows))
>>> report = validate_pairs(d / "pairs.jsonl")
>>> report.ok, sorted({i.kind for i in report.issues})
(False, ['duplicate_id', 'format', 'same_image'])
>>> report.summary["labels"]
{'A': 1, 'B': 0, 'tie': 0}

A training set with a wrong label, a missing image or the same creative on both sides teaches the model noise; a
set whose labels sit mostly on one side teaches it a position bias. :func:`validate_pairs` finds the first kind
(every problem, with file and line), :func:`summarize_pairs` shows the second, and :func:`balance_positions` fixes
it by swapping half of the pairs (the label is mirrored with the images, so no information is lost).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from creative4u.data.pairs import CreativePair, PairFormatError, iter_pairs

ISSUE_KINDS = ("format", "duplicate_id", "missing_image", "unreadable_image", "same_image", "tie")


class PairValidationError(ValueError):
    """A pair set failed validation; the message lists the problems (file:line, pair id, what is wrong)."""


@dataclass
class Issue:
    """One problem found in a pair set."""

    kind: str
    message: str
    where: str = ""
    pair_id: str = ""

    def __str__(self) -> str:
        pid = f" [{self.pair_id}]" if self.pair_id else ""
        return f"{self.where}{pid}: {self.kind}: {self.message}" if self.where else f"{self.kind}: {self.message}"


@dataclass
class ValidationReport:
    """What :func:`validate_pairs` found: the valid pairs, every issue, and a summary of the valid pairs."""

    source: str
    pairs: list[CreativePair] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.issues

    def raise_if_errors(self, limit: int = 20) -> None:
        """Raise :class:`PairValidationError` listing up to ``limit`` issues (and how many more there are)."""
        if self.ok:
            return
        lines = [str(i) for i in self.issues[:limit]]
        more = len(self.issues) - limit
        if more > 0:
            lines.append(f"... and {more} more")
        counts = ", ".join(f"{k}={v}" for k, v in Counter(i.kind for i in self.issues).items())
        raise PairValidationError(f"{self.source}: {len(self.issues)} problem(s) ({counts}):\n  " + "\n  ".join(lines))

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "ok": self.ok, "n_valid": len(self.pairs),
                "issues": [asdict(i) for i in self.issues], "summary": self.summary}


def summarize_pairs(pairs: Sequence[CreativePair]) -> dict[str, Any]:
    """Counts, label balance (share of A among A/B labels), categories and how many pairs carry each field.

    >>> p = CreativePair("1", "a.jpg", "b.jpg", "A", category="shoes")
    >>> s = summarize_pairs([p, p.swapped()])
    >>> s["labels"], s["share_a"], s["categories"]
    ({'A': 1, 'B': 1, 'tie': 0}, 0.5, {'shoes': 2})
    """
    labels = Counter(p.label for p in pairs)
    decided = labels["A"] + labels["B"]
    images = {p.image_a for p in pairs} | {p.image_b for p in pairs}
    return {
        "pairs": len(pairs),
        "labels": {k: labels.get(k, 0) for k in ("A", "B", "tie")},
        "share_a": round(labels["A"] / decided, 4) if decided else None,
        "categories": dict(sorted(Counter(p.category or "(none)" for p in pairs).items())),
        "unique_images": len(images),
        "with_title": sum(bool(p.title) for p in pairs),
        "with_queries": sum(bool(p.queries) for p in pairs),
        "with_rationale": sum(bool(p.rationale) for p in pairs),
    }


def _file_digest(path: str, cache: dict[str, str | None]) -> str | None:
    """sha256 of a file's bytes (None when unreadable), cached because images recur across pairs."""
    if path not in cache:
        try:
            cache[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            cache[path] = None
    return cache[path]


def _decode_error(path: str, cache: dict[str, str | None]) -> str | None:
    """The reason `load_image` refuses a file, or None when it decodes (cached per path)."""
    key = "decode:" + path
    if key not in cache:
        from creative4u.images import ImageLoadError, load_image

        try:
            load_image(path)
            cache[key] = None
        except (ImageLoadError, OSError) as err:
            cache[key] = str(err)
    return cache[key]


def _image_issues(pair: CreativePair, where: str, decode: bool, cache: dict[str, str | None]) -> list[Issue]:
    """Missing or unreadable files, and the same creative on both sides (same path or same bytes)."""
    issues = []
    for side in ("image_a", "image_b"):
        path = getattr(pair, side)
        if not Path(path).is_file():
            issues.append(Issue("missing_image", f"{side} not found: {path}", where, pair.id))
        elif decode and (reason := _decode_error(path, cache)):
            issues.append(Issue("unreadable_image", f"{side}: {reason}", where, pair.id))
    if issues:
        return issues
    same_path = Path(pair.image_a).resolve() == Path(pair.image_b).resolve()
    if same_path or _file_digest(pair.image_a, cache) == _file_digest(pair.image_b, cache):
        what = "the same file" if same_path else "files with identical bytes"
        issues.append(Issue("same_image", f"both sides are {what} ({pair.image_a})", where, pair.id))
    return issues


def validate_pairs(
    source: str | Path | Iterable[CreativePair],
    check_images: bool = True,
    decode_images: bool = False,
    allow_ties: bool = True,
) -> ValidationReport:
    """Check every pair; return a report with the valid pairs, all issues and a summary of the valid pairs.

    >>> report = validate_pairs([CreativePair("x", "/no/a.jpg", "/no/b.jpg", "A")])
    >>> [i.kind for i in report.issues]
    ['missing_image', 'missing_image']

    ``check_images`` looks for each file and compares both sides' bytes; ``decode_images`` also opens every image
    with the project's safe loader (slower: use it once on a new data set). With ``allow_ties=False`` a ``tie``
    label is an issue (a pairwise trainer needs a winner).
    """
    where_of: dict[int, str] = {}
    if isinstance(source, (str, Path)):
        name, items = str(source), list(iter_pairs(source, strict=False))
        where_of = {i: f"{source}:{lineno}" for i, (lineno, _) in enumerate(items)}
        entries = [item for _, item in items]
    else:
        name, entries = "<pairs>", list(source)
    report = ValidationReport(source=name)
    seen: dict[str, str] = {}
    cache: dict[str, str | None] = {}
    for i, item in enumerate(entries):
        where = where_of.get(i, f"pair #{i + 1}")
        if isinstance(item, PairFormatError):
            report.issues.append(Issue("format", str(item).split(": ", 1)[-1], where))
            continue
        found = _pair_issues(item, where, seen, allow_ties)
        if check_images and not found:
            found = _image_issues(item, where, decode_images, cache)
        report.issues.extend(found)
        if not found:
            report.pairs.append(item)
    report.summary = summarize_pairs(report.pairs)
    return report


def _pair_issues(pair: CreativePair, where: str, seen: dict[str, str], allow_ties: bool) -> list[Issue]:
    issues = []
    if pair.id in seen:
        issues.append(Issue("duplicate_id", f"id {pair.id!r} already used at {seen[pair.id]}", where, pair.id))
    else:
        seen[pair.id] = where
    if pair.label == "tie" and not allow_ties:
        issues.append(Issue("tie", "label 'tie' is not allowed here (a winner is needed)", where, pair.id))
    if pair.image_a == pair.image_b:
        issues.append(Issue("same_image", f"both sides name the same image ({pair.image_a})", where, pair.id))
    return issues


def balance_positions(pairs: Sequence[CreativePair], seed: int = 0) -> list[CreativePair]:
    """Swap pairs so that labels A and B differ in count by at most one; ties and order are kept.

    >>> ps = [CreativePair(str(i), f"a{i}.jpg", f"b{i}.jpg", "A") for i in range(4)]
    >>> [p.label for p in balance_positions(ps)].count("B")
    2

    Which pairs get swapped is drawn from ``seed`` (the same seed gives the same set), so a rebuilt data set is
    byte-identical. A swapped pair keeps its id and records ``swapped: true`` in ``extra``.
    """
    decided = [i for i, p in enumerate(pairs) if p.label in ("A", "B")]
    order = decided[:]
    random.Random(seed).shuffle(order)
    want_a = set(order[: (len(order) + 1) // 2])
    out = list(pairs)
    for i in decided:
        target = "A" if i in want_a else "B"
        if pairs[i].label != target:
            flipped = pairs[i].swapped()
            flipped.extra = {**flipped.extra, "swapped": not bool(pairs[i].extra.get("swapped", False))}
            out[i] = flipped
    return out

"""Converters into CreativePairs: a creative log with impressions and clicks (as the reference), or the pair builder.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "log.csv").write_text(
...     "product_id,image,impressions,clicks,title\\n"
...     "p1,a.jpg,5000,250,Red sneakers\\n"      # CTR 5.0%
...     "p1,b.jpg,4000,80,Red sneakers\\n"       # CTR 2.0%: a clear gap -> one pair, the better one labelled
...     "p1,c.jpg,300,30,Red sneakers\\n")       # too few impressions to trust its CTR
>>> pairs, stats = pairs_from_ctr(d / "log.csv", CTRPairConfig(min_impressions=1000))
>>> [(p.label, p.title, round(p.extra["ctr_a"], 3)) for p in pairs]
[('A', 'Red sneakers', 0.05)]
>>> stats["dropped_low_impressions"], stats["pairs"]
(1, 1)

The reference labels a pair by real click-through rate: two creatives of the *same product*, each shown often
enough (``min_impressions``) for its CTR to mean something, whose CTRs differ by a clear margin (absolute
``min_ctr_gap``, relative ``min_relative_gap``, and optionally a two-proportion z-test ``min_z``). The creative with
the higher CTR is the better one. Positions are balanced by construction (half of the pairs are swapped).

Input: CSV with a header, or JSONL, one creative per row. Required columns: ``product_id``, ``image`` (a path,
relative to the log file or absolute), ``impressions``, ``clicks``; optional ``creative_id``, ``title``,
``queries`` (a list in JSONL; ``|``-separated in CSV) and ``category``. Column names can be remapped in the config.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creative4u.data.pairs import CreativePair
from creative4u.data.validate import balance_positions


class CTRFormatError(ValueError):
    """A malformed creative log row; the message names the file and line."""


@dataclass
class CTRPairConfig:
    """Thresholds and column names for :func:`pairs_from_ctr` (YAML keys or ``--flag`` options)."""

    min_impressions: int = field(default=1000, metadata={"help": "minimum impressions of each creative in a pair"})
    min_ctr_gap: float = field(default=0.0, metadata={"help": "minimum absolute CTR difference (0.005 = 0.5 points)"})
    min_relative_gap: float = field(
        default=0.2, metadata={"help": "minimum CTR difference relative to the higher CTR (0.2 = 20%)"})
    min_z: float = field(
        default=0.0, metadata={"help": "minimum two-proportion z-score of the CTR difference (1.96 ~ 95%; 0 = off)"})
    max_pairs_per_product: int = field(
        default=0, metadata={"help": "keep at most this many pairs per product, largest CTR gaps first (0 = all)"})
    balance: bool = field(default=True, metadata={"help": "swap half of the pairs so labels A and B are balanced"})
    seed: int = field(default=0, metadata={"help": "seed for which pairs are swapped when balancing"})
    product_column: str = field(default="product_id", metadata={"help": "column grouping creatives of one product"})
    image_column: str = field(default="image", metadata={"help": "column holding the image path"})
    impressions_column: str = field(default="impressions", metadata={"help": "column holding impressions"})
    clicks_column: str = field(default="clicks", metadata={"help": "column holding clicks"})
    id_column: str = field(default="creative_id", metadata={"help": "optional column with a creative id"})

    def __post_init__(self) -> None:
        if self.min_impressions < 1:
            raise ValueError(f"min_impressions must be >= 1, got {self.min_impressions}")
        for name in ("min_ctr_gap", "min_relative_gap", "min_z", "max_pairs_per_product"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclass
class Creative:
    """One row of the log: a creative of a product with its delivery counts."""

    product: str
    image: str
    impressions: int
    clicks: int
    creative_id: str = ""
    title: str = ""
    queries: list[str] = field(default_factory=list)
    category: str = ""

    @property
    def ctr(self) -> float:
        return self.clicks / self.impressions if self.impressions else 0.0


def _rows(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    """(line, row) pairs from a CSV (with header) or a JSONL file, chosen by extension."""
    with path.open(encoding="utf-8", newline="") as fh:
        if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield lineno, json.loads(line)
                    except json.JSONDecodeError as err:
                        raise CTRFormatError(f"{path}:{lineno}: invalid JSON ({err.msg})") from None
        else:
            reader = csv.DictReader(fh)
            for i, row in enumerate(reader):
                yield i + 2, row  # line 1 is the header


def _count(row: dict[str, Any], column: str, where: str) -> int:
    value = row.get(column)
    try:
        number = float(value)  # "1200.0" from spreadsheets is fine; "n/a" is not
    except (TypeError, ValueError):
        raise CTRFormatError(f"{where}: {column} must be a number, got {value!r}") from None
    if number < 0 or not math.isfinite(number) or number != int(number):
        raise CTRFormatError(f"{where}: {column} must be a non-negative whole number, got {value!r}")
    return int(number)


def _queries(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(q) for q in value]
    return [q.strip() for q in str(value or "").split("|") if q.strip()]


def _creative(row: dict[str, Any], cfg: CTRPairConfig, base: Path, where: str) -> Creative:
    missing = [c for c in (cfg.product_column, cfg.image_column, cfg.impressions_column, cfg.clicks_column)
               if row.get(c) in (None, "")]
    if missing:
        raise CTRFormatError(f"{where}: missing value(s) for {missing}")
    impressions = _count(row, cfg.impressions_column, where)
    clicks = _count(row, cfg.clicks_column, where)
    if clicks > impressions:
        raise CTRFormatError(f"{where}: clicks ({clicks}) exceed impressions ({impressions})")
    image = Path(str(row[cfg.image_column]))
    return Creative(
        product=str(row[cfg.product_column]),
        image=str(image if image.is_absolute() else base / image),
        impressions=impressions,
        clicks=clicks,
        creative_id=str(row.get(cfg.id_column) or image.stem),
        title=str(row.get("title") or ""),
        queries=_queries(row.get("queries")),
        category=str(row.get("category") or ""),
    )


def read_creatives(path: str | Path, config: CTRPairConfig | None = None) -> list[Creative]:
    """Read and check a creative log (CSV or JSONL); raise :class:`CTRFormatError` naming the bad line."""
    cfg = config or CTRPairConfig()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"creative log not found: {path}")
    return [_creative(row, cfg, path.parent, f"{path}:{lineno}") for lineno, row in _rows(path)]


def z_score(a: Creative, b: Creative) -> float:
    """Two-proportion z-statistic of the CTR difference (pooled variance); 0 when undefined.

    >>> round(z_score(Creative("p", "a", 1000, 50), Creative("p", "b", 1000, 20)), 2)
    3.65
    """
    pooled = (a.clicks + b.clicks) / (a.impressions + b.impressions)
    var = pooled * (1 - pooled) * (1 / a.impressions + 1 / b.impressions)
    return abs(a.ctr - b.ctr) / math.sqrt(var) if var > 0 else 0.0


def _gap_reason(a: Creative, b: Creative, cfg: CTRPairConfig) -> str | None:
    """Why a candidate pair is dropped (None when it is kept)."""
    if Path(a.image).resolve() == Path(b.image).resolve():
        return "dropped_same_image"
    high, gap = max(a.ctr, b.ctr), abs(a.ctr - b.ctr)
    if gap == 0 or gap < cfg.min_ctr_gap or gap < cfg.min_relative_gap * high:
        return "dropped_small_gap"
    if cfg.min_z and z_score(a, b) < cfg.min_z:
        return "dropped_insignificant"
    return None


def _pair(a: Creative, b: Creative) -> CreativePair:
    """The pair with the better creative (higher CTR) as A; balancing swaps half of them afterwards."""
    better, worse = (a, b) if a.ctr >= b.ctr else (b, a)
    extra = {
        "product_id": better.product,
        "ctr_a": better.ctr, "ctr_b": worse.ctr,
        "impressions_a": better.impressions, "impressions_b": worse.impressions,
        "clicks_a": better.clicks, "clicks_b": worse.clicks,
        "z": round(z_score(a, b), 3),
    }
    ids = sorted([better.creative_id, worse.creative_id])
    return CreativePair(
        id=f"{better.product}:{ids[0]}~{ids[1]}",
        image_a=better.image,
        image_b=worse.image,
        label="A",
        title=better.title or worse.title,
        queries=better.queries or worse.queries,
        category=better.category or worse.category,
        extra=extra,
    )


def pairs_from_creatives(creatives: list[Creative], config: CTRPairConfig | None = None,
                         ) -> tuple[list[CreativePair], dict[str, Any]]:
    """Pair creatives of the same product under the config's thresholds; return (pairs, statistics)."""
    cfg = config or CTRPairConfig()
    stats: dict[str, Any] = defaultdict(int)
    stats["creatives"] = len(creatives)
    by_product: dict[str, list[Creative]] = defaultdict(list)
    for c in creatives:
        if c.impressions < cfg.min_impressions:
            stats["dropped_low_impressions"] += 1
        else:
            by_product[c.product].append(c)
    pairs: list[CreativePair] = []
    for product in sorted(by_product):
        kept = []
        for a, b in itertools.combinations(by_product[product], 2):
            stats["candidate_pairs"] += 1
            reason = _gap_reason(a, b, cfg)
            if reason:
                stats[reason] += 1
            else:
                kept.append(_pair(a, b))
        kept.sort(key=lambda p: p.extra["ctr_b"] - p.extra["ctr_a"])  # largest gap first
        if cfg.max_pairs_per_product and len(kept) > cfg.max_pairs_per_product:
            stats["dropped_per_product_cap"] += len(kept) - cfg.max_pairs_per_product
            kept = kept[: cfg.max_pairs_per_product]
        pairs.extend(kept)
    stats["products"] = len(by_product)
    _unique_ids(pairs)
    if cfg.balance:
        pairs = [_swap_extra(p) if p.extra.get("swapped") else p for p in balance_positions(pairs, cfg.seed)]
    stats["pairs"] = len(pairs)
    base = ("creatives", "dropped_low_impressions", "products", "candidate_pairs", "dropped_same_image",
            "dropped_small_gap", "dropped_insignificant", "dropped_per_product_cap", "pairs")
    return pairs, {k: stats.get(k, 0) for k in base}


def _unique_ids(pairs: list[CreativePair]) -> None:
    """Creative ids default to the image's file stem, which can repeat: number repeated pair ids (p, p#2, ...)."""
    seen: dict[str, int] = {}
    for p in pairs:
        seen[p.id] = seen.get(p.id, 0) + 1
        if seen[p.id] > 1:
            p.id = f"{p.id}#{seen[p.id]}"


def _swap_extra(pair: CreativePair) -> CreativePair:
    """After a swap, the per-side columns must follow their images."""
    e = dict(pair.extra)
    for key in ("ctr", "impressions", "clicks"):
        e[f"{key}_a"], e[f"{key}_b"] = e[f"{key}_b"], e[f"{key}_a"]
    pair.extra = e
    return pair


def pairs_from_ctr(path: str | Path, config: CTRPairConfig | None = None) -> tuple[list[CreativePair], dict[str, Any]]:
    """Read a creative log (CSV/JSONL) and return (pairs, statistics); write them with ``write_pairs``."""
    cfg = config or CTRPairConfig()
    return pairs_from_creatives(read_creatives(path, cfg), cfg)


def pairs_from_builder(out_dir: str | Path, splits: Iterable[str] = ("train",)) -> list[CreativePair]:
    """The pairs of a ``creative4u.data.build_pairs`` folder, with each pair's build record in ``extra``.

    >>> # pairs_from_builder("data/pairs/v1", splits=("train", "test"))[0].extra["severity"]  -> 0.53

    The builder already writes CreativePair lines with balanced positions; this adds what ``meta.jsonl`` knows
    (photo, subject, split, severity) so that later steps (cards, per-category reports) can use it.
    """
    from creative4u.data.pairs import read_pairs

    root = Path(out_dir)
    meta_path = root / "meta.jsonl"
    meta = {}
    if meta_path.is_file():
        for line in meta_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                meta[rec["id"]] = {k: rec[k] for k in ("photo_id", "subject", "split", "severity") if k in rec}
    pairs: list[CreativePair] = []
    for split in splits:
        path = root / f"{split}.jsonl"
        if not path.is_file():
            raise FileNotFoundError(f"no {split}.jsonl in {root} (is it a build_pairs folder?)")
        for pair in read_pairs(path):
            pair.extra = {**meta.get(pair.id, {}), **pair.extra}
            pairs.append(pair)
    return pairs

"""Pairwise-judge metrics from prediction rows: accuracy, order consistency, position bias, calibration, cost.

>>> rows = [
...     {"pair_id": "p1", "order": "ab", "label": "A", "winner": "A", "confidence": 0.9, "p_a": 0.9},
...     {"pair_id": "p1", "order": "ba", "label": "A", "winner": "B", "confidence": 0.8, "p_a": 0.2},
...     {"pair_id": "p2", "order": "ab", "label": "B", "winner": "A", "confidence": 0.6, "p_a": 0.6},
...     {"pair_id": "p2", "order": "ba", "label": "B", "winner": "A", "confidence": 0.7, "p_a": 0.7},
... ]
>>> m = compute_metrics(pair_results(rows), n_bootstrap=200)
>>> m["accuracy"], m["tie_rate"], m["position_consistency"], m["flip_rate"]
(0.5, 0.5, 0.5, 0.5)

Definitions (the ones peers report for pairwise judges, plus what they usually skip):

* A *row* is one judged order of one pair: ``ab`` as written in the pairs file, ``ba`` with the images swapped.
  ``winner`` is the answer in the order the judge saw; ``pred`` is the same answer mapped back to the file's A/B.
* A *pair verdict* combines both orders exactly as selection does (:func:`creative4u.selection.combine_orders`):
  the orders must agree, otherwise the pair is a tie. With ``--orders ab`` the single order is the verdict.
* ``accuracy``: pair verdict == label over all judged pairs; ties and parse failures count wrong (a pair labelled
  ``tie`` is right only when predicted tie). ``accuracy_without_ties``: the same over pairs with a decisive
  prediction and a decisive label. Both get a bootstrap 95% interval (pairs resampled).
* ``position_consistency``: both orders give the same verdict; ``flip_rate``: both orders are decisive and
  disagree (the judge picked the same *position* twice).
* ``answer_balance``: shares of A / B / tie over rows as the judge saw them; with both orders the true share of A is
  exactly 50%, so ``position_bias`` = share(A) - share(B) among decisive answers measures a preference for a slot.
* Calibration, over decisive rows of decisive pairs: expected calibration error (10 equal-width confidence bins,
  weighted by count) of ``confidence`` against correctness, and the Brier score of ``p_a`` where the judge gives one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ORDERS = ("ab", "ba")
ANSWERS = ("A", "B", "tie")
TIMING_KEYS = ("latency_ms", "pairs_per_second", "timing", "wall_s")  # vary between runs; everything else must not


@dataclass
class PairResult:
    """Both orders of one labelled pair and their combined verdict."""

    pair_id: str
    label: str
    category: str
    rows: dict[str, dict[str, Any]]
    verdict: str = "tie"
    confidence: float = 0.5
    p_a: float | None = None
    consistent: bool = True
    flipped: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def correct(self) -> bool:
        return self.verdict == self.label


def _verdict(row: dict[str, Any]) -> Any:
    from creative4u.judge.base import Verdict

    p_a = row.get("p_a")
    return Verdict(
        row["winner"], float(row.get("confidence") or 0.5), None if p_a is None else float(p_a),
        row.get("rationale", ""), row.get("backend", ""), row.get("model", ""), row.get("parse_status", "n/a"),
    )


def pair_frame(row: dict[str, Any]) -> str:
    """A row's answer in the pairs file's A/B frame.

    >>> pair_frame({"order": "ba", "winner": "A"}), pair_frame({"order": "ab", "winner": "A"})
    ('B', 'A')
    """
    if row["order"] == "ab" or row["winner"] == "tie":
        return row["winner"]
    return "B" if row["winner"] == "A" else "A"


def combine(pair_id: str, label: str, category: str, rows: dict[str, dict[str, Any]]) -> PairResult:
    """Combine the orders of one pair into its verdict (the same rule selection applies)."""
    from creative4u.selection import combine_orders

    res = PairResult(pair_id, label, category or "uncategorised", rows)
    if "ab" in rows and "ba" in rows:
        comp = combine_orders(_verdict(rows["ab"]), _verdict(rows["ba"]))
        res.verdict, res.confidence, res.p_a, res.flipped = comp.verdict, comp.confidence, comp.p_a, comp.flipped
        res.consistent = pair_frame(rows["ab"]) == pair_frame(rows["ba"])
        res.flipped = res.flipped and "tie" not in (rows["ab"]["winner"], rows["ba"]["winner"])
        return res
    (row,) = rows.values()
    res.verdict, res.confidence = pair_frame(row), float(row.get("confidence") or 0.5)
    p_a = row.get("p_a")
    if p_a is not None:
        res.p_a = float(p_a) if row["order"] == "ab" else 1.0 - float(p_a)
    return res


def pair_results(rows: Iterable[dict[str, Any]], order: Sequence[str] | None = None) -> list[PairResult]:
    """Group rows by pair (in ``order`` of pair ids when given, else first-seen) and combine each pair."""
    grouped: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        grouped[row["pair_id"]][row["order"]] = row
    ids = [i for i in order if i in grouped] if order is not None else list(grouped)
    out = []
    for pid in ids:
        first = next(iter(grouped[pid].values()))
        out.append(combine(pid, first["label"], first.get("category", ""), grouped[pid]))
    return out


def bootstrap_ci(values: Sequence[float], n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> list[float]:
    """Percentile bootstrap interval of the mean.

    >>> bootstrap_ci([1.0] * 10)
    [1.0, 1.0]
    """
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return [float("nan"), float("nan")]
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(n_boot, arr.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return [round(float(lo), 4), round(float(hi), 4)]


def calibration_bins(conf: Sequence[float], correct: Sequence[bool], n_bins: int = 10) -> tuple[float, list[dict]]:
    """Expected calibration error and the reliability-diagram bins (equal width on [0, 1]).

    >>> ece, bins = calibration_bins([0.9, 0.9, 0.6, 0.6], [True, True, True, False])
    >>> round(ece, 3), [b["n"] for b in bins if b["n"]]
    (0.1, [2, 2])
    """
    c, ok = np.asarray(conf, dtype=float), np.asarray(correct, dtype=float)
    edges = np.linspace(0, 1, n_bins + 1)
    idx = np.clip(np.digitize(c, edges[1:-1], right=True), 0, n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        sel = idx == b
        n = int(sel.sum())
        acc = float(ok[sel].mean()) if n else None
        mean_conf = float(c[sel].mean()) if n else None
        if n:
            ece += n / len(c) * abs(acc - mean_conf)
        bins.append({"lo": float(edges[b]), "hi": float(edges[b + 1]), "n": n, "accuracy": acc,
                     "confidence": mean_conf})
    return float(ece), bins


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _accuracy_block(results: Sequence[PairResult], n_boot: int, seed: int) -> dict[str, Any]:
    correct = [r.correct for r in results]
    decisive = [r.correct for r in results if r.verdict != "tie" and r.label != "tie"]
    return {
        "n_pairs": len(results),
        "accuracy": _rate(sum(correct), len(correct)),
        "accuracy_ci95": bootstrap_ci(correct, n_boot, seed),
        "accuracy_without_ties": _rate(sum(decisive), len(decisive)),
        "accuracy_without_ties_ci95": bootstrap_ci(decisive, n_boot, seed),
        "n_decisive": len(decisive),
        "tie_rate": _rate(sum(r.verdict == "tie" for r in results), len(results)),
    }


def _order_block(results: Sequence[PairResult]) -> dict[str, Any]:
    both = [r for r in results if len(r.rows) == 2]
    rows = [row for r in results for row in r.rows.values()]
    by_order = {o: [pair_frame(row) == row["label"] for row in rows if row["order"] == o] for o in ORDERS}
    answers = Counter(row["winner"] for row in rows)
    decisive = answers["A"] + answers["B"]
    status = Counter(row.get("parse_status", "n/a") for row in rows)
    return {
        "n_rows": len(rows),
        "order_accuracy": _rate(sum(sum(v) for v in by_order.values()), len(rows)),
        "accuracy_by_order": {o: _rate(sum(v), len(v)) for o, v in by_order.items() if v},
        "position_consistency": _rate(sum(r.consistent for r in both), len(both)),
        "flip_rate": _rate(sum(r.flipped for r in both), len(both)),
        "answer_balance": {
            **{a: _rate(answers[a], len(rows)) for a in ANSWERS},
            "position_bias": round((answers["A"] - answers["B"]) / decisive, 4) if decisive else None,
        },
        "parse_status": dict(sorted(status.items())),
        "parse_failure_rate": _rate(status["failed"], len(rows)),
        "forced_choice_rate": _rate(status["forced"], len(rows)),
    }


def _calibration_block(results: Sequence[PairResult]) -> dict[str, Any]:
    conf, ok, p_a, y = [], [], [], []
    for r in results:
        if r.label == "tie":
            continue
        for row in r.rows.values():
            truth_a = _as_shown(row["label"], row["order"]) == "A"
            if row.get("p_a") is not None:
                p_a.append(float(row["p_a"]))
                y.append(1.0 if truth_a else 0.0)
            if row["winner"] != "tie" and row.get("confidence") is not None:
                conf.append(float(row["confidence"]))
                ok.append(pair_frame(row) == row["label"])
    ece, bins = calibration_bins(conf, ok) if conf else (None, [])
    brier = float(np.mean((np.asarray(p_a) - np.asarray(y)) ** 2)) if p_a else None
    return {
        "ece": None if ece is None else round(ece, 4),
        "brier": None if brier is None else round(brier, 4),
        "n_confidence": len(conf),
        "n_p_a": len(p_a),
        "mean_confidence": round(float(np.mean(conf)), 4) if conf else None,
        "bins": bins,
    }


def _confusion(results: Sequence[PairResult]) -> dict[str, Any]:
    pair = {lab: {a: 0 for a in ANSWERS} for lab in ANSWERS}
    shown = {lab: {a: 0 for a in ANSWERS} for lab in ANSWERS}
    for r in results:
        pair[r.label][r.verdict] += 1
        for row in r.rows.values():
            shown[_as_shown(row["label"], row["order"])][row["winner"]] += 1
    return {"pair": pair, "as_shown": shown}


def _as_shown(label: str, order: str) -> str:
    """The label in the frame the judge saw (swapped for the ``ba`` order)."""
    if order == "ab" or label == "tie":
        return label
    return "B" if label == "A" else "A"


def _per_category(results: Sequence[PairResult]) -> dict[str, Any]:
    groups: dict[str, list[PairResult]] = defaultdict(list)
    for r in results:
        groups[r.category].append(r)
    out = {}
    for cat in sorted(groups):
        rs = groups[cat]
        decisive = [r.correct for r in rs if r.verdict != "tie" and r.label != "tie"]
        both = [r for r in rs if len(r.rows) == 2]
        out[cat] = {
            "n": len(rs),
            "accuracy": _rate(sum(r.correct for r in rs), len(rs)),
            "accuracy_without_ties": _rate(sum(decisive), len(decisive)),
            "tie_rate": _rate(sum(r.verdict == "tie" for r in rs), len(rs)),
            "position_consistency": _rate(sum(r.consistent for r in both), len(both)),
        }
    return out


def _cost_block(results: Sequence[PairResult]) -> dict[str, Any]:
    rows = [row for r in results for row in r.rows.values()]
    lat = np.asarray([float(row.get("latency_ms") or 0.0) for row in rows])
    wall_s = sum(float(row.get("wall_ms") or 0.0) for row in rows) / 1000
    return {
        "latency_ms": {
            "p50": round(float(np.percentile(lat, 50)), 3) if lat.size else None,
            "p95": round(float(np.percentile(lat, 95)), 3) if lat.size else None,
            "mean": round(float(lat.mean()), 3) if lat.size else None,
        },
        "wall_s": round(wall_s, 3),
        "pairs_per_second": round(len(results) / wall_s, 3) if wall_s > 0 else None,
    }


def compute_metrics(
    results: Sequence[PairResult], n_bootstrap: int = 1000, seed: int = 0, skipped: dict[str, Any] | None = None
) -> dict[str, Any]:
    """All metrics of one run as a JSON-ready dict (see the module docstring for the definitions)."""
    if not results:
        raise ValueError("no judged pairs to score: every line was skipped or the pairs file is empty")
    rows = [row for r in results for row in r.rows.values()]
    return {
        "backend": rows[0].get("backend", ""),
        "model": rows[0].get("model", ""),
        **_accuracy_block(results, n_bootstrap, seed),
        **_order_block(results),
        "calibration": _calibration_block(results),
        "per_category": _per_category(results),
        "confusion": _confusion(results),
        **_cost_block(results),
        "skipped": skipped or {"total": 0},
    }


def strip_timing(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics without the keys that measure time (what must match between two runs of the same judge).

    >>> strip_timing({"accuracy": 0.5, "latency_ms": {"p50": 3.0}, "timing": {}})
    {'accuracy': 0.5}
    """
    return {k: v for k, v in metrics.items() if k not in TIMING_KEYS}

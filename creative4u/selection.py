"""Pairwise verdicts in both orders, aggregated into a winner and a ranking.

>>> from creative4u.judge.base import Verdict
>>> ab = Verdict("A", 0.9, 0.9, "A is sharper.", "feature", "lr")
>>> ba = Verdict("B", 0.8, 0.2, "B is sharper.", "feature", "lr")  # same preference, seen from the swapped order
>>> combine_orders(ab, ba).verdict
'A'
>>> int(bradley_terry(3, [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0)]).argmax())
0

Every judged pair is judged as (A, B) and as (B, A); a verdict that flips with the order is a tie. Creatives
vetoed by a hard check do not compete unless every creative is vetoed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from creative4u.judge.base import Judge, PairInput, Verdict


@dataclass
class Comparison:
    """Both orders of one pair, combined; indices refer to the input order of the creatives."""

    a: int
    b: int
    verdict: str  # "A" (a wins), "B" (b wins) or "tie"
    confidence: float
    p_a: float | None
    rationale: str
    flipped: bool
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self, names: Sequence[str]) -> dict[str, Any]:
        return {
            "image_a": names[self.a],
            "image_b": names[self.b],
            "index_a": self.a,
            "index_b": self.b,
            "verdict": self.verdict,
            "confidence": round(self.confidence, 4),
            "p_a": None if self.p_a is None else round(self.p_a, 4),
            "rationale": self.rationale,
            "flipped": self.flipped,
            "orders": self.orders,
        }


def combine_orders(ab: Verdict, ba: Verdict) -> Comparison:
    """Merge the verdict on (A, B) with the verdict on (B, A); disagreement is a tie."""
    back = ba.swapped()  # now in the (A, B) frame
    p_a = None if ab.p_a is None or back.p_a is None else (ab.p_a + back.p_a) / 2
    agree = ab.winner == back.winner and ab.winner != "tie"
    flipped = ab.winner != back.winner
    verdict = ab.winner if agree else "tie"
    confidence = 0.5 if verdict == "tie" else (ab.confidence + back.confidence) / 2
    rationale = ab.rationale if agree else f"Order-dependent verdict, counted as a tie. (A,B): {ab.rationale}"
    orders = {"ab": ab.to_dict(), "ba": ba.to_dict()}
    return Comparison(0, 1, verdict, confidence, p_a, rationale, flipped, orders)


def bradley_terry(
    n: int, results: Sequence[tuple[int, int, float]], iters: int = 200, prior: float = 0.5
) -> np.ndarray:
    """Bradley–Terry strengths by the MM algorithm; ``results`` holds ``(i, j, s)`` with s = i's score vs j.

    A tie is ``s = 0.5``. ``prior`` adds virtual half-wins against every opponent so an unbeaten creative keeps a
    finite strength.
    """
    # Every pair plays ``prior`` virtual games that end level, so strengths stay finite and shrink to equal.
    wins = np.full(n, prior / 2 * (n - 1), dtype=float)
    games = prior * (1 - np.eye(n))
    for i, j, s in results:
        wins[i] += s
        wins[j] += 1.0 - s
        games[i, j] += 1
        games[j, i] += 1
    strength = np.ones(n)
    for _ in range(iters):
        denom = (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        new = wins / np.maximum(denom, 1e-12)
        new /= new.sum()
        if np.allclose(new, strength, rtol=1e-9, atol=1e-12):
            break
        strength = new
    return strength


@dataclass
class Selection:
    """The outcome of judging ``n`` creatives.

    ``judge_calls`` counts the ordered verdicts the judge really produced for ``comparisons``; verdicts served from
    a verdict cache (``details["cached"]``) are excluded and counted in ``cached_verdicts``. A tournament's
    tie-break judge is not counted.
    """

    ranking: list[int]
    scores: list[float]
    comparisons: list[Comparison]
    judge_calls: int
    competing: list[int]
    wins: list[float]
    cached_verdicts: int = 0


def count_verdicts(comparisons: Sequence[Comparison]) -> tuple[int, int]:
    """``(judged, cached)``: the ordered verdicts behind ``comparisons``, split by whether a cache answered.

    >>> ab = Verdict("A", 0.9, 0.9, "", "t", "m")
    >>> count_verdicts([combine_orders(ab, Verdict("B", 0.9, 0.1, "", "t", "m", details={"cached": True}))])
    (1, 1)
    """
    orders = [o for c in comparisons for k, o in c.orders.items() if k in ("ab", "ba")]
    cached = sum(bool(o.get("details", {}).get("cached")) for o in orders)
    return len(orders) - cached, cached


def round_robin(
    n: int, competing: Sequence[int], judge: Judge, make_pair: Any, pairs: Sequence[tuple[int, int]] | None = None
) -> tuple[list[Comparison], int]:
    """Judge every pair of ``competing`` creatives in both orders in one batched call."""
    todo = list(pairs) if pairs is not None else list(combinations(sorted(competing), 2))
    inputs: list[PairInput] = []
    for i, j in todo:
        pair = make_pair(i, j)
        inputs += [pair, pair.swapped()]
    verdicts = judge.judge_pairs(inputs) if inputs else []
    comparisons = []
    for k, (i, j) in enumerate(todo):
        comp = combine_orders(verdicts[2 * k], verdicts[2 * k + 1])
        comp.a, comp.b = i, j
        comparisons.append(comp)
    return comparisons, len(inputs)


def rank(n: int, competing: Sequence[int], comparisons: Sequence[Comparison], vetoed: Sequence[int]) -> Selection:
    """Order creatives: competing ones by Bradley–Terry strength (ties by mean p), then vetoed ones."""
    results = [(c.a, c.b, {"A": 1.0, "B": 0.0}.get(c.verdict, 0.5)) for c in comparisons]
    strength = bradley_terry(n, results) if results else np.ones(n) / max(n, 1)
    wins = np.zeros(n)
    soft = np.zeros(n)
    for c, (_, _, s) in zip(comparisons, results, strict=True):
        wins[c.a] += s
        wins[c.b] += 1 - s
        p = 0.5 if c.p_a is None else c.p_a
        soft[c.a] += p
        soft[c.b] += 1 - p
    # Creatives that did not compete have no strength to report: they rank after every competitor.
    strength = np.where(np.isin(np.arange(n), list(competing)), strength, 0.0)
    order = sorted(competing, key=lambda i: (-strength[i], -wins[i], -soft[i], i))
    order += sorted((i for i in vetoed if i not in competing), key=lambda i: i)
    judged, cached = count_verdicts(comparisons)
    return Selection(
        order, [float(s) for s in strength], list(comparisons), judged, list(competing), wins.tolist(), cached
    )

"""Selection with few judge calls: a knockout bracket, both orders per match, Bradley–Terry on the results.

>>> from creative4u.judge.base import Judge, Verdict
>>> class Oracle(Judge):  # the lower index is better, whatever the order
...     name = "oracle"
...     def judge_pairs(self, pairs):
...         return [Verdict("A" if int(p.image_a) < int(p.image_b) else "B", 0.9, None, "", "oracle", "o")
...                 for p in pairs]
>>> class P:  # a stand-in for PairInput: only swapped() is used by selection
...     def __init__(self, a, b): self.image_a, self.image_b = a, b
...     def swapped(self): return P(self.image_b, self.image_a)
>>> comparisons, calls = tournament(8, range(8), Oracle(), lambda i, j: P(i, j))
>>> calls, len(comparisons), sorted({c.a for c in comparisons} | {c.b for c in comparisons})[:2]
(14, 7, [0, 1])

For N competing creatives a knockout plays N−1 matches, each judged in both orders (a verdict that flips with the
order is a tie), so it makes 2(N−1) judge calls against N(N−1) for a full round-robin: 14 instead of 56 for 8
creatives. Each round is one batched ``judge_pairs`` call, so the ``openai`` backend runs a round's requests
concurrently. A tied match is decided, for the bracket only, by the judge's own confidence (the mean ``p_a`` of
both orders), then by the feature judge on the same pair, then by seeding; the comparison stays a tie in the
report, with the decision under ``orders["tiebreak"]``. Top seeds get the byes when N is not a power of two.

The caller ranks the returned comparisons with :func:`creative4u.selection.rank` (Bradley–Terry), exactly as it
does for :func:`creative4u.selection.round_robin`; ``mode="round_robin"`` runs that instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from creative4u.judge.base import Judge, PairInput
from creative4u.selection import Comparison, round_robin

MODES = ("knockout", "round_robin")
TIE_MARGIN = 1e-6  # a mean p_a this close to 0.5 carries no preference


def knockout_matches(alive: Sequence[int]) -> tuple[list[int], list[tuple[int, int]]]:
    """One round: the players with a bye and the matches (best remaining seed meets the worst).

    >>> knockout_matches([0, 1, 2, 3, 4])
    ([0, 1, 2], [(3, 4)])
    >>> knockout_matches([5, 6, 7, 8])
    ([], [(5, 8), (6, 7)])
    """
    size = 1 << (len(alive) - 1).bit_length()  # the next power of two: byes fill the bracket up to it
    byes = size - len(alive)
    playing = list(alive[byes:])
    half = len(playing) // 2
    return list(alive[:byes]), [(playing[k], playing[len(playing) - 1 - k]) for k in range(half)]


class _TieBreaker:
    """Decides tied matches: confidence first, then the feature judge (built once, on the first need), then seed."""

    def __init__(self, judge: Judge, make_pair: Callable[[int, int], PairInput], fallback: Judge | None) -> None:
        self.judge = judge
        self.make_pair = make_pair
        self._fallback = fallback
        self._tried = fallback is not None

    def fallback(self) -> Judge | None:
        if not self._tried:
            self._tried = True
            if self.judge.name != "feature":  # the feature judge breaking its own ties would only repeat itself
                try:
                    from creative4u.judge import get_judge

                    self._fallback = get_judge("feature")
                except (ImportError, KeyError, RuntimeError, ValueError, OSError):
                    self._fallback = None  # not installed/trained here: seeding decides
        return self._fallback

    def winner(self, comp: Comparison, seed_rank: dict[int, int]) -> int:
        """The index that advances from ``comp``; a tie records how it was broken in ``comp.orders``."""
        if comp.verdict != "tie":
            return comp.a if comp.verdict == "A" else comp.b
        if comp.p_a is not None and abs(comp.p_a - 0.5) > TIE_MARGIN:
            return self._record(comp, comp.a if comp.p_a > 0.5 else comp.b, "confidence", p_a=comp.p_a)
        judge = self.fallback()
        if judge is not None:
            (fb,), _ = round_robin(0, (), judge, self.make_pair, pairs=[(comp.a, comp.b)])
            if fb.verdict != "tie" or (fb.p_a is not None and abs(fb.p_a - 0.5) > TIE_MARGIN):
                a_wins = fb.verdict == "A" if fb.verdict != "tie" else (fb.p_a or 0.5) > 0.5
                if comp.p_a is None:  # no preference of its own: the ranking's soft score follows the tie-break
                    comp.p_a = fb.p_a
                return self._record(comp, comp.a if a_wins else comp.b, judge.name, p_a=fb.p_a, verdict=fb.verdict)
        best = min((comp.a, comp.b), key=lambda i: seed_rank[i])
        return self._record(comp, best, "seed")

    @staticmethod
    def _record(comp: Comparison, winner: int, by: str, **info: Any) -> int:
        comp.orders["tiebreak"] = {"winner_index": winner, "by": by, **info}
        return winner


def tournament(
    n: int,
    competing: Sequence[int],
    judge: Judge,
    make_pair: Callable[[int, int], PairInput],
    mode: str = "knockout",
    tiebreak_judge: Judge | None = None,
) -> tuple[list[Comparison], int]:
    """Judge ``competing`` creatives (indices into ``n``) with at most 2(N−1) calls; same returns as round_robin.

    ``competing`` order is the seeding (first = top seed). ``tiebreak_judge`` overrides the feature judge used
    for ties. Returns ``(comparisons, judge_calls)``; ``judge_calls`` counts calls of ``judge`` only.
    """
    if mode not in MODES:
        raise ValueError(f"unknown tournament mode {mode!r}; valid: {', '.join(MODES)}")
    players = list(dict.fromkeys(int(i) for i in competing))
    if any(not 0 <= i < n for i in players):
        raise ValueError(f"competing indices must be in [0, {n}), got {players}")
    if mode == "round_robin":
        return round_robin(n, players, judge, make_pair)
    seed_rank = {p: k for k, p in enumerate(players)}
    breaker = _TieBreaker(judge, make_pair, tiebreak_judge)
    comparisons: list[Comparison] = []
    calls = 0
    alive = players
    while len(alive) > 1:
        byes, matches = knockout_matches(alive)
        played, used = round_robin(n, players, judge, make_pair, pairs=matches)
        calls += used
        comparisons += played
        advancing = byes + [breaker.winner(c, seed_rank) for c in played]
        alive = sorted(advancing, key=lambda i: seed_rank[i])
    return comparisons, calls

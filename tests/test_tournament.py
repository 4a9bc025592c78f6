"""Knockout selection: 2(N−1) judge calls, both orders per match, tie-breaks, and the same winner as round-robin."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest
from PIL import Image

from creative4u.images import LoadedImage
from creative4u.judge.base import Judge, PairInput, Verdict
from creative4u.selection import rank, round_robin
from creative4u.tournament import knockout_matches, tournament


def _images(n: int) -> list[LoadedImage]:
    return [LoadedImage.from_pil(Image.new("RGB", (8, 8), (i * 20 % 256, 0, 0)), name=str(i)) for i in range(n)]


class StrengthJudge(Judge):
    """Prefers the creative with the higher hidden strength; ``position_bias`` answers A whatever it sees."""

    name = "strength"

    def __init__(self, strength: Sequence[float], position_bias: bool = False, p_a: float | None = None) -> None:
        self.strength = list(strength)
        self.position_bias = position_bias
        self.fixed_p_a = p_a
        self.batches: list[int] = []

    def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
        self.batches.append(len(pairs))
        out = []
        for p in pairs:
            a, b = int(p.image_a.name), int(p.image_b.name)
            a_wins = self.position_bias or self.strength[a] > self.strength[b]
            p_a = self.fixed_p_a if self.fixed_p_a is not None else (0.8 if a_wins else 0.2)
            out.append(
                Verdict(
                    "A" if a_wins else "B", max(p_a, 1 - p_a) if p_a is not None else 1.0, p_a, "r", self.name, "m"
                )
            )
        return out


def _run(judge: Judge, n: int, competing: Sequence[int] | None = None, **kw):
    images = _images(n)
    competing = list(range(n)) if competing is None else list(competing)
    return tournament(n, competing, judge, lambda i, j: PairInput(images[i], images[j]), **kw)


@pytest.mark.parametrize("n", range(2, 10))
def test_knockout_makes_two_calls_per_match_and_n_minus_one_matches(n: int) -> None:
    judge = StrengthJudge(range(n))
    comparisons, calls = _run(judge, n)
    assert len(comparisons) == n - 1 and calls == 2 * (n - 1) == sum(judge.batches)
    assert len(judge.batches) == (n - 1).bit_length(), "one batched judge call per round"
    rr_comparisons, rr_calls = _run(StrengthJudge(range(n)), n, mode="round_robin")
    assert rr_calls == n * (n - 1) and len(rr_comparisons) == n * (n - 1) // 2


def test_eight_creatives_take_fourteen_calls_instead_of_fifty_six() -> None:
    assert _run(StrengthJudge(range(8)), 8)[1] == 14
    assert _run(StrengthJudge(range(8)), 8, mode="round_robin")[1] == 56


@pytest.mark.parametrize("seed", range(20))
def test_transitive_judge_gives_the_round_robin_winner_for_any_seeding(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(3, 9)
    strength = [rng.random() for _ in range(n)]
    order = list(range(n))
    rng.shuffle(order)
    comps, _ = _run(StrengthJudge(strength), n, competing=order)
    rr, _ = _run(StrengthJudge(strength), n, mode="round_robin")
    best = max(range(n), key=strength.__getitem__)
    assert rank(n, order, comps, []).ranking[0] == best == rank(n, order, rr, []).ranking[0]


def test_byes_go_to_the_top_seeds() -> None:
    assert knockout_matches([0, 1, 2, 3, 4]) == ([0, 1, 2], [(3, 4)])
    assert knockout_matches([0, 1, 2, 3, 4, 5, 6, 7]) == ([], [(0, 7), (1, 6), (2, 5), (3, 4)])
    comps, _ = _run(StrengthJudge([5, 4, 3, 2, 1]), 5)
    first_round = comps[0]
    assert (first_round.a, first_round.b) == (3, 4)


def test_position_biased_judge_gives_ties_broken_by_confidence() -> None:
    # The judge always says "A": every match flips with the order, so every comparison is a tie.
    judge = StrengthJudge(range(4), position_bias=True, p_a=0.8)
    comps, calls = _run(judge, 4)
    assert calls == 6 and all(c.verdict == "tie" and c.flipped for c in comps)
    # p_a 0.8 in (A, B) and 0.8 in (B, A) (i.e. 0.2 for A) average to 0.5: no confidence preference -> seeding.
    assert all(c.orders["tiebreak"]["by"] in ("seed", "feature") for c in comps)


class LeaningJudge(StrengthJudge):
    """Position-biased (always "A") but with an order-independent lean towards the stronger creative."""

    def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
        out = []
        for p in pairs:
            a, b = int(p.image_a.name), int(p.image_b.name)
            p_a = 0.9 if self.strength[a] > self.strength[b] else 0.6  # always answers A, more sure when right
            out.append(Verdict("A", p_a, p_a, "r", self.name, "m"))
        return out


def test_confidence_breaks_a_flip_in_favour_of_the_surer_order() -> None:
    comps, _ = _run(LeaningJudge([0, 1, 2, 3]), 4, tiebreak_judge=StrengthJudge([9, 9, 9, 9]))
    assert all(c.verdict == "tie" and c.orders["tiebreak"]["by"] == "confidence" for c in comps)
    final = comps[-1]
    assert final.orders["tiebreak"]["winner_index"] == 3


def test_tie_without_confidence_goes_to_the_feature_judge_then_to_seeding() -> None:
    stand_in = StrengthJudge([1, 2, 3, 5])
    stand_in.name = "feature"
    comps, calls = _run(StrengthJudge(range(4), position_bias=True, p_a=None), 4, tiebreak_judge=stand_in)
    assert calls == 6, "tie-break calls are not counted as judge calls"
    assert all(c.orders["tiebreak"]["by"] == "feature" for c in comps)
    assert comps[-1].orders["tiebreak"]["winner_index"] == 3
    # A tie-breaker that cannot decide either leaves the decision to the seeding (top seed advances).
    undecided = StrengthJudge([0, 0, 0, 0], position_bias=True, p_a=None)
    comps, _ = _run(StrengthJudge(range(4), position_bias=True, p_a=None), 4, tiebreak_judge=undecided)
    assert [c.orders["tiebreak"]["by"] for c in comps] == ["seed"] * 3
    assert comps[-1].orders["tiebreak"]["winner_index"] == 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown tournament mode 'swiss'"):
        _run(StrengthJudge(range(3)), 3, mode="swiss")
    with pytest.raises(ValueError, match="competing indices"):
        _run(StrengthJudge(range(3)), 3, competing=[0, 5])


def test_single_competitor_needs_no_call() -> None:
    assert _run(StrengthJudge([1]), 1) == ([], 0)


def test_pipeline_runs_the_tournament_strategy(photos: dict[str, Image.Image]) -> None:
    from creative4u.pipeline import Pipeline, PipelineConfig

    sources = []
    for name, img in photos.items():
        for k, side in enumerate((384, 300)):  # 8 creatives: 4 photos at two sizes
            sources.append(LoadedImage.from_pil(img.resize((side, side * img.height // img.width)), name=f"{name}{k}"))
    strength = {s.name: float(i) for i, s in enumerate(sources)}

    class ByName(Judge):
        name = "by_name"

        def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
            return [
                Verdict(
                    "A" if strength[p.image_a.name] > strength[p.image_b.name] else "B", 0.9, None, "", self.name, "m"
                )
                for p in pairs
            ]

    result = Pipeline(PipelineConfig(strategy="tournament"), judge=ByName()).select(sources, title="t")
    competing = len(sources) - len(result["vetoed"]) if not result["all_vetoed"] else len(sources)
    assert result["judge_calls"] == 2 * (competing - 1)
    survivors = [s.name for i, s in enumerate(sources) if i not in {v["index"] for v in result["vetoed"]}]
    assert result["winner"] == max(survivors or [s.name for s in sources], key=strength.__getitem__)


def test_feature_judge_stand_in_agrees_with_round_robin(photos: dict[str, Image.Image]) -> None:
    """The issue's target on real photos: the knockout picks the round-robin winner (feature judge judging)."""
    feature = pytest.importorskip("creative4u.judge.feature")
    from creative4u.checks.suite import CheckSuite

    images = [LoadedImage.from_pil(img, name=n) for n, img in photos.items()]
    images += [
        LoadedImage.from_pil(img.resize((img.width // 2, img.height // 2)).resize(img.size), name=n + "_soft")
        for n, img in photos.items()
    ]
    suite = CheckSuite("default")
    screens = [suite.screen(img) for img in images]
    try:
        judge = feature.FeatureJudge()
    except FileNotFoundError as err:  # the weights are trained and committed by the feature judge's issue
        pytest.skip(str(err))
    n, agree, runs = len(images), 0, 0
    make = lambda i, j: PairInput(images[i], images[j], screens[i], screens[j])  # noqa: E731

    def tied(i: int, j: int) -> bool:  # the judge itself cannot split them (a flip with the order, or p ~ 0.5)
        ab, ba = judge.judge_pairs([make(i, j), make(j, i)])
        return ab.winner == "tie" or ab.winner == ba.winner

    for perm in itertools.islice(itertools.permutations(range(n)), 0, 2000, 250):
        ko, calls = tournament(n, list(perm), judge, make)
        rr, _ = round_robin(n, list(perm), judge, make)
        assert calls == 14
        ko_top, rr_top = rank(n, list(perm), ko, []).ranking[0], rank(n, list(perm), rr, []).ranking[0]
        # When the two best creatives are a tie for the judge, either is a right winner of the knockout.
        agree += ko_top == rr_top or tied(ko_top, rr_top)
        runs += 1
    assert agree / runs >= 0.95

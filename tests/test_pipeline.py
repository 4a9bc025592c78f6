"""Pipeline: overrides apply on top of a given config; judge calls are counted for real, cache hits apart."""

from __future__ import annotations

import pytest
from PIL import Image

from creative4u.checks.profile import CheckProfile
from creative4u.images import LoadedImage
from creative4u.judge.base import Judge, Verdict
from creative4u.pipeline import Pipeline, PipelineConfig
from creative4u.selection import Comparison, combine_orders, rank


class CachingJudge(Judge):
    """Prefers the first name alphabetically; answers a pair seen before from its 'cache', as VerdictCache does."""

    name = "caching"

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.asked = 0

    def judge_pairs(self, pairs):
        out = []
        for p in pairs:
            key = (p.image_a.name, p.image_b.name)
            win = "A" if key[0] < key[1] else "B"
            verdict = Verdict(win, 0.9, 0.9 if win == "A" else 0.1, "by name", "caching", "c")
            if key in self.seen:
                verdict.details["cached"] = True
            else:
                self.asked += 1
                self.seen.add(key)
            out.append(verdict)
        return out


IMAGES = [LoadedImage.from_pil(Image.new("RGB", (24, 24), c), name=n) for n, c in (("a", "red"), ("b", "blue"))]
NO_CHECKS = CheckProfile(name="none", checks={})


def test_overrides_apply_on_top_of_a_given_config():
    given = PipelineConfig(profile="strict", max_pixels=1234)
    pipe = Pipeline(given, strategy="tournament", max_pixels=99)
    assert (pipe.config.profile, pipe.config.strategy, pipe.config.max_pixels) == ("strict", "tournament", 99)
    assert given.strategy == "round_robin" and given.max_pixels == 1234, "the caller's config is not mutated"


def test_unknown_override_names_the_valid_ones():
    with pytest.raises(TypeError, match=r"unknown pipeline setting 'stratgy'; valid: .*strategy"):
        Pipeline(PipelineConfig(), stratgy="tournament")


def test_judge_calls_counted_and_cache_hits_reported_apart():
    judge = CachingJudge()
    pipe = Pipeline(judge=judge, profile=NO_CHECKS)
    first, second = pipe.select(IMAGES), pipe.select(IMAGES)
    assert (first["judge_calls"], first["cached_verdicts"]) == (2, 0) and judge.asked == 2
    assert (second["judge_calls"], second["cached_verdicts"]) == (0, 2)


def test_selection_judge_calls_is_not_always_zero():
    ab = Verdict("A", 0.9, 0.9, "x", "t", "m")
    ba = Verdict("B", 0.9, 0.1, "x", "t", "m", details={"cached": True})
    comp: Comparison = combine_orders(ab, ba)
    selection = rank(2, [0, 1], [comp], [])
    assert (selection.judge_calls, selection.cached_verdicts) == (1, 1)

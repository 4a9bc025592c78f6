"""Selection: both orders per pair, flips become ties, vetoed creatives cannot win, Bradley–Terry ranking.

The judge here is a scripted stand-in whose preferences are set per test: it tests the aggregation logic only.
The real feature judge is exercised end to end in tests/test_cli.py.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from creative4u.checks.profile import CheckProfile
from creative4u.images import LoadedImage
from creative4u.judge.base import Judge, Verdict
from creative4u.pipeline import Pipeline
from creative4u.selection import bradley_terry, combine_orders


class ScriptedJudge(Judge):
    """Prefers the image whose name sorts first by ``quality``; ``biased`` answers always 'A'."""

    name = "scripted"

    def __init__(self, quality: dict[str, float], biased: set[frozenset] = frozenset()):
        self.quality, self.biased, self.calls = quality, biased, 0

    def judge_pairs(self, pairs):
        out = []
        for p in pairs:
            self.calls += 1
            qa, qb = self.quality[p.image_a.name], self.quality[p.image_b.name]
            win = "A" if frozenset((p.image_a.name, p.image_b.name)) in self.biased else "A" if qa > qb else "B"
            p_a = 0.8 if win == "A" else 0.2
            out.append(Verdict(win, 0.8, p_a, f"{win} looks better", "scripted", "s"))
        return out


def _img(name: str, color) -> LoadedImage:
    return LoadedImage.from_pil(Image.new("RGB", (24, 24), color), name=name)


IMAGES = [_img("a", "red"), _img("b", "green"), _img("c", "blue"), _img("d", (40, 40, 40))]


def _pipeline(judge):
    return Pipeline(judge=judge, profile=CheckProfile(name="none", checks={}))


def test_round_robin_both_orders_and_ranking():
    judge = ScriptedJudge({"a": 1, "b": 3, "c": 2, "d": 0})
    result = _pipeline(judge).select(IMAGES)
    assert result["winner"] == "b"
    assert [r["name"] for r in result["ranking"]] == ["b", "c", "a", "d"]
    assert result["judge_calls"] == judge.calls == 12  # 6 pairs x 2 orders
    assert all(c["verdict"] in ("A", "B") and not c["flipped"] for c in result["comparisons"])


def test_position_bias_flip_is_a_tie():
    judge = ScriptedJudge({"a": 1, "b": 2, "c": 0, "d": 0}, biased={frozenset(("a", "b"))})
    result = _pipeline(judge).select(IMAGES[:2])
    comp = result["comparisons"][0]
    assert comp["verdict"] == "tie" and comp["flipped"] and result["flips"] == 1
    assert set(comp["orders"]) == {"ab", "ba"}


def test_vetoed_cannot_win_unless_all_fail():
    from creative4u.checks import CHECKS, Check, Measurement
    from creative4u.checks.profile import CheckSettings

    class Red(Check):
        name = "test_is_red"

        def measure(self, img):
            r, g, b = img.rgb(8).reshape(-1, 3).mean(0)
            return Measurement(score=float(r > 128 and g < 64), summary="red image")

    CHECKS.register("test_is_red", Red)
    profile = CheckProfile(name="red", checks={"test_is_red": CheckSettings(veto=True)})
    judge = ScriptedJudge({"a": 9, "b": 1, "c": 2, "d": 0})  # the red one would win on quality
    result = Pipeline(judge=judge, profile=profile).select(IMAGES)
    assert result["winner"] == "c" and result["vetoed"][0]["name"] == "a"
    assert result["ranking"][-1]["name"] == "a" and "red image" in result["explanation"]
    assert judge.calls == 6, "vetoed creatives are not judged"
    all_red = [_img("x", "red"), _img("y", (250, 10, 10))]
    res2 = Pipeline(judge=ScriptedJudge({"x": 1, "y": 2}), profile=profile).select(all_red)
    assert res2["all_vetoed"] and res2["winner"] == "y"


def test_combine_orders_math():
    ab = Verdict("A", 0.9, 0.9, "r", "t", "m")
    ba_agree = Verdict("B", 0.7, 0.3, "r", "t", "m")
    comp = combine_orders(ab, ba_agree)
    assert comp.verdict == "A" and abs(comp.p_a - 0.8) < 1e-9 and abs(comp.confidence - 0.8) < 1e-9
    ba_tie = Verdict("tie", 0.5, 0.5, "r", "t", "m")
    assert combine_orders(ab, ba_tie).verdict == "tie"


def test_bradley_terry_orders_by_strength():
    results = [(0, 1, 1.0), (0, 2, 1.0), (1, 2, 1.0), (2, 3, 1.0), (1, 3, 0.5)]
    s = bradley_terry(4, results)
    assert list(np.argsort(-s)[:2]) == [0, 1] and s[3] == min(s)
    assert np.isfinite(s).all() and abs(s.sum() - 1) < 1e-9


def test_too_few_images_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="at least 2 readable images"):
        _pipeline(ScriptedJudge({})).select([IMAGES[0], b"junk"])

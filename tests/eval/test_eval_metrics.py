"""Metric definitions on hand-made prediction rows (every expected value worked out by hand), and the baselines."""

from __future__ import annotations

import math

import pytest
from PIL import Image

from creative4u.checks import CHECKS, Check, Measurement, unavailable
from creative4u.eval.metrics import (
    bootstrap_ci,
    calibration_bins,
    compute_metrics,
    pair_frame,
    pair_results,
    strip_timing,
)
from creative4u.images import LoadedImage
from creative4u.judge import JUDGES, get_judge
from creative4u.judge.base import PairInput


def _row(pid, order, label, winner, conf=0.8, p_a=None, status="n/a", category="", latency=10.0, wall=20.0):
    return {"pair_id": pid, "order": order, "label": label, "winner": winner, "confidence": conf, "p_a": p_a,
            "parse_status": status, "category": category, "latency_ms": latency, "wall_ms": wall,
            "backend": "test", "model": "m"}


def _both(pid, label, ab, ba, **kw):
    """Two rows; ``ab``/``ba`` are the answers as the judge saw each order."""
    return [_row(pid, "ab", label, ab, **kw), _row(pid, "ba", label, ba, **kw)]


ROWS = (
    _both("p1", "A", "A", "B", category="blur")            # right in both orders
    + _both("p2", "A", "A", "A", category="blur")          # picked slot A twice: a flip -> tie -> wrong
    + _both("p3", "B", "A", "B", category="noise")         # wrong in both orders (consistent)
    + _both("p4", "B", "B", "tie", category="noise")       # one order undecided -> tie -> wrong
    + _both("p5", "B", "B", "A", category="noise")         # right in both orders
)


def test_pair_frame_maps_swapped_answers_back():
    assert pair_frame({"order": "ba", "winner": "B"}) == "A"
    assert pair_frame({"order": "ba", "winner": "tie"}) == "tie"


def test_accuracy_ties_consistency_and_flips():
    m = compute_metrics(pair_results(ROWS), n_bootstrap=500)
    assert m["n_pairs"] == 5
    assert m["accuracy"] == pytest.approx(2 / 5)  # p1, p5
    assert m["tie_rate"] == pytest.approx(2 / 5)  # p2 (flip), p4 (one tie)
    assert m["accuracy_without_ties"] == pytest.approx(2 / 3, abs=1e-4)  # p1, p3, p5 decisive; p3 wrong
    assert m["position_consistency"] == pytest.approx(3 / 5)  # p1, p3, p5
    assert m["flip_rate"] == pytest.approx(1 / 5)  # p2 only: p4 had a tie, not a flip
    # order-level: ab answers in the file's frame: A, A, A, B, B -> right on p1, p2, p4, p5
    assert m["accuracy_by_order"]["ab"] == pytest.approx(4 / 5)
    # ba answers mapped back: A, B, A, tie, B -> right on p1, p5
    assert m["accuracy_by_order"]["ba"] == pytest.approx(2 / 5)
    assert m["order_accuracy"] == pytest.approx(6 / 10)


def test_position_bias_and_answer_balance():
    m = compute_metrics(pair_results(ROWS), n_bootstrap=100)
    bal = m["answer_balance"]
    # answers as shown (ab, ba): A B | A A | A B | B tie | B A -> 5 A, 4 B, 1 tie
    assert (bal["A"], bal["B"], bal["tie"]) == (0.5, 0.4, 0.1)
    assert bal["position_bias"] == pytest.approx((5 - 4) / 9, abs=1e-4)


def test_per_category_and_confusion():
    m = compute_metrics(pair_results(ROWS), n_bootstrap=100)
    assert m["per_category"]["blur"] == {"n": 2, "accuracy": 0.5, "accuracy_without_ties": 1.0, "tie_rate": 0.5,
                                         "position_consistency": 0.5}
    assert m["per_category"]["noise"]["accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    pair = m["confusion"]["pair"]
    assert pair["A"] == {"A": 1, "B": 0, "tie": 1} and pair["B"] == {"A": 1, "B": 1, "tie": 1}
    shown = m["confusion"]["as_shown"]
    assert sum(sum(v.values()) for v in shown.values()) == 10
    assert shown["A"]["A"] == 3  # label shown as A and answered A: p1 ab, p2 ab, p5 ba


def test_parse_failures_and_forced_choices_count_wrong():
    rows = (_both("q1", "A", "A", "B") + [_row("q2", "ab", "A", "tie", status="failed"),
                                          _row("q2", "ba", "A", "B", status="forced")])
    m = compute_metrics(pair_results(rows), n_bootstrap=100)
    assert m["parse_failure_rate"] == 0.25 and m["forced_choice_rate"] == 0.25
    assert m["accuracy"] == 0.5  # q2's failed order makes the pair a tie


def test_calibration_ece_and_brier_by_hand():
    rows = [
        _row("c1", "ab", "A", "A", conf=0.9, p_a=0.9),  # right
        _row("c2", "ab", "A", "B", conf=0.9, p_a=0.1),  # wrong
        _row("c3", "ab", "B", "B", conf=0.6, p_a=0.4),  # right
        _row("c4", "ab", "B", "B", conf=0.6, p_a=0.4),  # right
    ]
    m = compute_metrics(pair_results(rows), n_bootstrap=100)
    # bin 0.8-0.9: conf 0.9, acc 0.5 -> |0.4| * 2/4; bin 0.5-0.6: conf 0.6, acc 1.0 -> |0.4| * 2/4
    assert m["calibration"]["ece"] == pytest.approx(0.4)
    # Brier on p_a vs "A is better": (0.1^2 + 0.9^2 + 0.4^2 + 0.4^2) / 4
    assert m["calibration"]["brier"] == pytest.approx((0.01 + 0.81 + 0.16 + 0.16) / 4, abs=1e-4)


def test_calibration_uses_the_shown_frame_for_swapped_orders():
    # ba order: the label's image (A in the file) is shown as B; p_a=0.2 means "80% the shown B is better": right.
    m = compute_metrics(pair_results([_row("s1", "ba", "A", "B", conf=0.8, p_a=0.2)]), n_bootstrap=10)
    assert m["calibration"]["brier"] == pytest.approx(0.04)
    assert m["accuracy"] == 1.0


def test_calibration_bins_perfect_and_empty():
    ece, bins = calibration_bins([0.75] * 4, [True, True, True, False])
    assert ece == pytest.approx(0.0) and sum(b["n"] for b in bins) == 4


def test_bootstrap_interval_brackets_the_mean_and_is_seeded():
    values = [1.0] * 30 + [0.0] * 20
    lo, hi = bootstrap_ci(values, 2000, seed=1)
    assert lo < 0.6 < hi and hi - lo < 0.35
    assert bootstrap_ci(values, 2000, seed=1) == [lo, hi]
    assert all(math.isnan(v) for v in bootstrap_ci([]))


def test_latency_and_throughput():
    m = compute_metrics(pair_results(ROWS), n_bootstrap=10)
    assert m["latency_ms"]["p50"] == 10.0
    assert m["pairs_per_second"] == pytest.approx(5 / (10 * 20.0 / 1000))
    assert "latency_ms" not in strip_timing(m) and "accuracy" in strip_timing(m)


def test_empty_input_is_a_clear_error():
    with pytest.raises(ValueError, match="no judged pairs"):
        compute_metrics([])


# --------------------------------------------------------------------------------------------------- baselines


def _img(color, size=16):
    return LoadedImage.from_pil(Image.new("RGB", (size, size), color), name=str(color))


def test_baselines_are_registered():
    assert {"random", "single_feature"} <= set(JUDGES.names())


def test_random_judge_is_seeded_and_balanced():
    imgs = [_img((i, 255 - i, 7)) for i in range(0, 240, 4)]
    pairs = [PairInput(a, b) for a, b in zip(imgs, imgs[1:], strict=False)]
    first = [v.winner for v in get_judge("random", seed=0).judge_pairs(pairs)]
    again = [v.winner for v in get_judge("random", seed=0).judge_pairs(list(reversed(pairs)))][::-1]
    other = [v.winner for v in get_judge("random", seed=1).judge_pairs(pairs)]
    assert first == again  # independent of batch order
    assert first != other
    assert 0.3 < first.count("A") / len(first) < 0.7
    ties = [v.winner for v in get_judge("random", seed=0, tie_rate=0.5).judge_pairs(pairs)]
    assert 0.25 < ties.count("tie") / len(ties) < 0.75
    with pytest.raises(ValueError, match="tie_rate"):
        get_judge("random", tie_rate=1.0)


class _Darkness(Check):
    """Test check: a darker image has more of the problem."""

    name = "test_darkness"

    def measure(self, img):
        return Measurement(score=1 - float(img.gray(8).mean()) / 255)


class _Never(Check):
    name = "test_never"

    def measure(self, img):
        return unavailable("not installed here")


CHECKS.register("test_darkness", _Darkness)
CHECKS.register("test_never", _Never)


def test_single_feature_prefers_the_lower_score_in_both_orders():
    judge = get_judge("single_feature", feature="test_darkness")
    bright, dark = _img((230, 230, 230)), _img((30, 30, 30))
    ab, ba = judge.judge_pairs([PairInput(bright, dark), PairInput(dark, bright)])
    assert (ab.winner, ba.winner) == ("A", "B")
    assert ab.p_a > 0.99 and ab.confidence == pytest.approx(ab.p_a)
    assert "test_darkness" in ab.rationale and judge.screen_checks == ("test_darkness",)
    same = judge.judge(PairInput(bright, bright))
    assert same.winner == "tie" and same.p_a == pytest.approx(0.5)


def test_single_feature_margin_tie_unavailable_and_unknown():
    judge = get_judge("single_feature", feature="test_darkness", margin=0.5)
    v = judge.judge(PairInput(_img((200, 200, 200)), _img((150, 150, 150))))
    assert v.winner == "tie"
    failed = get_judge("single_feature", feature="test_never").judge(PairInput(_img("red"), _img("blue")))
    assert failed.winner == "tie" and failed.parse_status == "failed" and "unavailable" in failed.rationale
    with pytest.raises(KeyError, match="valid names: .*sharpness"):
        get_judge("single_feature", feature="sharpnes")

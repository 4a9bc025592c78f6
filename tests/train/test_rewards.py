"""GRPO rewards: strict answers, the anti-hacking rule, order consistency, shaping, and the registry."""

from __future__ import annotations

import pytest

from creative4u.answer_format import parse_answer
from creative4u.train.rewards import (
    REWARDS,
    answer_correct,
    build_rewards,
    completion_text,
    cosine_length,
    get_reward,
    order_consistency,
    protocol_items,
    strict_answer,
    strict_format,
)

GOOD_A = "<think>7. Product subject: A>B, Image B is underexposed.</think><answer>A</answer>"


def conv(text: str) -> list[dict[str, str]]:
    """A completion as TRL passes it for conversational data."""
    return [{"role": "assistant", "content": text}]


@pytest.mark.parametrize(
    "text",
    [
        "<think>both are good</think><answer>A or B</answer>",  # hedge
        "<think>x</think><answer>A/B</answer>",
        "<think>x</think><answer>AB</answer>",
        "<think>x</think><answer></answer>",  # empty
        "<think>x</think><answer>A</answer><answer>B</answer>",  # two answers
        "<think>x</think><answer>tie</answer>",
        "<think>x</think><answer>a</answer>",  # the protocol says capital letters
        "<think>x</think><answer>Image A</answer>",
        "<think>x</think>A",  # no answer block
        "",
    ],
)
def test_hacks_and_malformed_answers_score_zero(text: str) -> None:
    assert strict_answer(text) is None
    assert answer_correct([text, conv(text)], label=["A", "A"]) == [0.0, 0.0]
    assert answer_correct([text], label=["B"]) == [0.0]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<think><think></think><answer>A</answer>", "multiple_think"),  # issue 12: both rewarded 1 before
        ("<think>A is sharper.</think><answer> A </answer>", "invalid_answer"),
        ("<answer>A</answer>", "missing_think"),
    ],
)
def test_what_the_judge_rejects_earns_no_format_or_answer_reward(text: str, reason: str) -> None:
    assert parse_answer(text).reason == reason
    assert strict_format([text]) == [0.0]
    assert answer_correct([text], label=["A"]) == [0.0]
    assert cosine_length([text], label=["A"], completion_ids=[[0] * 5])[0] < 0  # scored as wrong, not right


def test_correctness_follows_the_label_and_ignores_ties() -> None:
    completions = [GOOD_A, conv(GOOD_A), GOOD_A.replace(">A<", ">B<"), GOOD_A]
    assert answer_correct(completions, label=["A", "A", "A", "tie"]) == [1.0, 1.0, 0.0, None]


def test_strict_format_agrees_with_the_judge_parser() -> None:
    cases = [GOOD_A, "<think> </think><answer>A</answer>", "<answer>A</answer>", GOOD_A + " Trust me.",
             "  " + GOOD_A + "\n", "<think>a</think>\n<answer>B</answer>", "<think>a<answer>A</answer>"]
    assert strict_format(cases) == [float(parse_answer(c).ok) for c in cases]
    assert strict_format(cases) == [1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0]


def test_order_consistency_rewards_mirrored_answers_within_the_batch() -> None:
    a, b = GOOD_A, GOOD_A.replace(">A<", ">B<")
    bad = "<think>x</think><answer>A or B</answer>"
    completions = [a, a, b, a, bad, b]
    pair_id = ["p", "p", "p", "p", "q", "q"]
    swapped = [False, False, True, True, False, True]
    scores = order_consistency(completions, pair_id=pair_id, swapped=swapped)
    # the original order answers A twice; the swapped order answers B once and A once
    assert scores[:4] == [0.5, 0.5, 1.0, 0.0]
    assert scores[4:] == [0.0, 0.0]  # a hedge is never consistent, and nothing mirrors it
    # a letter the judge would reject (no reasoning block, spaces around it) is no answer on either side
    rejected = ["<answer>B</answer>", "<think>x</think><answer> B </answer>"]
    assert order_consistency([a, rejected[0]], pair_id=["r", "r"], swapped=[False, True]) == [0.0, 0.0]
    assert order_consistency([a, rejected[1]], pair_id=["r", "r"], swapped=[False, True]) == [0.0, 0.0]
    assert order_consistency([a], pair_id=["z"], swapped=[False]) == [None]


def test_cosine_length_prefers_short_right_and_long_wrong() -> None:
    right, wrong = GOOD_A, GOOD_A.replace(">A<", ">B<")
    short, long = [[0] * 10], [[0] * 200]
    r_short = cosine_length([right], label=["A"], completion_ids=short, max_len=256)[0]
    r_long = cosine_length([right], label=["A"], completion_ids=long, max_len=256)[0]
    w_short = cosine_length([wrong], label=["A"], completion_ids=short, max_len=256)[0]
    w_long = cosine_length([wrong], label=["A"], completion_ids=long, max_len=256)[0]
    assert 1.0 >= r_short > r_long >= 0.5
    assert -1.0 <= w_short < w_long <= -0.5
    assert cosine_length([right], label=["tie"]) == [None]


def test_protocol_items_counts_verdicts_inside_think_only() -> None:
    text = "<think>1. A=B 2. A>B 3. A<B</think><answer>A</answer> A>B A>B"
    assert protocol_items([text], expected_items=3) == [1.0]
    assert protocol_items([text], expected_items=6) == [0.5]
    assert protocol_items(["no think at all A>B"]) == [0.0]


def test_completion_text_reads_structured_content() -> None:
    structured = [{"role": "assistant", "content": [{"type": "text", "text": "<think>x</think>"},
                                                    {"type": "text", "text": "<answer>B</answer>"}]}]
    assert completion_text(structured) == "<think>x</think><answer>B</answer>"
    assert answer_correct([structured], label=["B"]) == [1.0]


def test_registry_and_parameters() -> None:
    assert set(REWARDS.names()) >= {"answer_correct", "strict_format", "order_consistency", "cosine_length"}
    funcs = build_rewards(["answer_correct", "cosine_length"], {"cosine_length": {"max_len": 10}})
    assert [f.__name__ for f in funcs] == ["answer_correct", "cosine_length"]  # the names TRL logs
    assert funcs[1]([GOOD_A], label=["A"], completion_ids=[[0] * 10])[0] == pytest.approx(0.5)
    with pytest.raises(KeyError, match="valid names: answer_correct"):
        get_reward("accuracy")
    with pytest.raises(ValueError, match="not in reward_funcs"):
        build_rewards(["answer_correct"], {"strict_format": {}})
    with pytest.raises(ValueError, match="no reward functions"):
        build_rewards([])


def test_rewards_run_inside_trl_signature() -> None:
    """TRL calls each reward with prompts, completions, completion_ids, every dataset column and its own extras."""
    kwargs = {"prompts": [[{"role": "user", "content": "q"}]] * 2, "completion_ids": [[1, 2], [3]],
              "label": ["A", "B"], "pair_id": ["p", "p"], "swapped": [False, True], "images": [[], []],
              "trainer_state": object(), "log_extra": lambda *a: None, "log_metric": lambda *a: None}
    completions = [conv(GOOD_A), conv(GOOD_A.replace(">A<", ">B<"))]
    for name in REWARDS.names():
        out = REWARDS.get(name)(completions=completions, **kwargs)
        assert len(out) == 2, name
    assert answer_correct(completions=completions, **kwargs) == [1.0, 1.0]
    assert order_consistency(completions=completions, **kwargs) == [1.0, 1.0]

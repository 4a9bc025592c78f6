"""Training rewards what serving accepts: every reward reads the answer the judge's strict parser reads (issue 12).

Completions come from the fragment grammar of :mod:`creative4u.testing.completions` (the four tags, stray, loose,
duplicated and mis-nested tags, good and bad letters, whitespace, free and unicode text, empty reasoning) plus
hand-written edge cases. Properties: ``strict_format(c) == 1`` exactly when ``parse_answer(c).ok``; answer credit
(``answer_correct``, ``order_consistency``, the right-answer branch of ``cosine_length``) only for a completion the
parser accepts, with the parser's letter.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creative4u.answer_format import TAGS, format_completion, parse_answer
from creative4u.testing.completions import FRAGMENTS, LETTERS, LOOSE_TAGS, SPACES, TEXTS, canonical_tokens
from creative4u.train.rewards import answer_correct, cosine_length, order_consistency, strict_format

SETTINGS = settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

free_text = st.text(max_size=12)
fragment = st.one_of(st.sampled_from(FRAGMENTS), free_text)
canonical = st.builds(
    canonical_tokens,
    st.sampled_from(SPACES),
    st.one_of(st.sampled_from(TEXTS + LOOSE_TAGS), free_text),
    st.sampled_from(SPACES),
    st.sampled_from(LETTERS),
    st.sampled_from(SPACES),
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A canonical completion with 1-3 edits: a token dropped, duplicated, swapped, replaced, or one inserted."""
    tokens = draw(canonical)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(tokens) - 1)) if tokens else 0
        kind = draw(st.sampled_from(("drop", "duplicate", "swap", "replace", "insert")))
        if not tokens:
            kind = "insert"
        if kind == "drop":
            del tokens[i]
        elif kind == "duplicate":
            tokens.insert(i, tokens[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif kind == "replace":
            tokens[i] = draw(fragment)
        else:
            tokens.insert(i, draw(fragment))
    return "".join(tokens)


completions = st.one_of(canonical.map("".join), mutated(), st.lists(fragment, max_size=12).map("".join))

EDGE_CASES = [
    "<think><think></think><answer>A</answer>",  # issue 12: rewarded 1/1 before, the parser says multiple_think
    "<think>A is sharper.</think><answer> A </answer>",  # issue 12: full reward before, invalid_answer
    "<think>x</think><answer>\nB\n</answer>",
    "  \n<think>A is sharper.</think>\n<answer>A</answer>\n\t",  # whitespace around the blocks is fine
    "Sure: <think>A is sharper.</think><answer>A</answer>",
    "<think>A is sharper.</think><answer>A</answer> Trust me.",
    "< think >A is sharper.</ think ><answer>A</answer>",  # loose tags are not tags
    "<THINK>x</THINK><answer>A</answer>",
    "<think>x</think>< answer >A</ answer >",
    "<think>x < think > y</think><answer>B</answer>",  # a loose tag inside the reasoning is just text
    "<think>é, 日本語, 🙂</think><answer>B</answer>",
    "<think>é</think><answer>Ａ</answer>",  # full-width A
    "<think>x</think><answer>A</answer><answer>A</answer>",
    "<think>x</think><think>y</think><answer>A</answer>",
    "<think></think><answer>A</answer>",
    "<think>\u00a0</think><answer>A</answer>",  # non-breaking space only: blank reasoning
    "<answer>A</answer><think>x</think>",
    "<think>x<answer>A</answer></think>",
    "<think>x</think><answer>A or B</answer>",
    "<answer>A</answer>",
    "A",
    "",
]


def check_agreement(text: str) -> None:
    """Every property of the module docstring, for one completion."""
    parsed = parse_answer(text)
    assert strict_format([text]) == [float(parsed.ok)], parsed.reason
    for label in ("A", "B"):
        [correct] = answer_correct([text], label=[label])
        if correct == 1.0:
            assert parsed.ok and parsed.answer == label
        assert correct == float(parsed.ok and parsed.answer == label)
        [cos] = cosine_length([text], label=[label], completion_ids=[[0] * 20], max_len=100)
        assert (cos >= 0.5) == (parsed.ok and parsed.answer == label), (cos, parsed.reason)
    # Against a well-formed "B" for the swapped order, only a parsed "A" is consistent, on either side.
    mirror = format_completion("B is sharper.", "B")
    scores = order_consistency([text, mirror], pair_id=["p", "p"], swapped=[False, True])
    assert scores == [float(parsed.answer == "A")] * 2


@SETTINGS
@given(completions)
def test_rewards_agree_with_the_parser_on_generated_completions(text: str) -> None:
    check_agreement(text)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_rewards_agree_with_the_parser_on_edge_cases(text: str) -> None:
    check_agreement(text)


def test_edge_cases_hold_both_accepted_and_rejected_texts() -> None:
    """The table must exercise both sides of the equivalence, or the agreement above proves little."""
    verdicts = [parse_answer(t).ok for t in EDGE_CASES]
    assert 3 <= sum(verdicts) <= len(EDGE_CASES) - 10


@SETTINGS
@given(st.one_of(st.sampled_from(TEXTS + LOOSE_TAGS + TAGS), st.text(max_size=40)), st.sampled_from(("A", "B")))
def test_format_completion_round_trips_through_the_parser(reasoning: str, label: str) -> None:
    has_tag = any(tag in reasoning for tag in TAGS)
    try:
        text = format_completion(reasoning, label)
    except ValueError:
        assert has_tag or not reasoning.strip()
        return
    parsed = parse_answer(text)
    assert parsed.ok and parsed.answer == label and parsed.reasoning == reasoning.strip()
    assert format_completion(parsed.reasoning, parsed.answer) == text  # canonical: a fixed point
    assert strict_format([text]) == [1.0] and answer_correct([text], label=[label]) == [1.0]


@SETTINGS
@given(completions)
def test_every_accepted_completion_reformats_to_an_equivalent_one(text: str) -> None:
    parsed = parse_answer(text)
    if parsed.ok:
        again = parse_answer(format_completion(parsed.reasoning, parsed.answer))
        assert (again.answer, again.reasoning) == (parsed.answer, parsed.reasoning)

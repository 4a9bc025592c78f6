"""The answer format: strict parsing (every malformed output classified, none guessed), tag stripping, building."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creative4u.answer_format import (
    FAILURE_REASONS,
    TAGS,
    forced_prefix,
    format_completion,
    parse_answer,
    recover_reasoning,
    strip_tags,
)
from creative4u.testing.completions import FRAGMENTS

GOOD = [
    ("<think>A is sharper.</think><answer>A</answer>", "A", "A is sharper."),
    ("<think>B shows the product.</think><answer>B</answer>", "B", "B shows the product."),
    ("  \n<think>\nLayout: A<B.\n</think>\n<answer>B</answer>\n", "B", "Layout: A<B."),
    ("<think>Match to query: A>B. Background: A=B.</think> <answer>A</answer>", "A", None),
]

# (output, reason): the table the issue asks for. Each row is an output a real model (or a reward hacker) writes.
MALFORMED = [
    ("", "empty"),
    ("   \n\t", "empty"),
    ("A", "missing_think"),
    ("<answer>A</answer>", "missing_think"),
    ("The answer is A because it is sharper.", "missing_think"),
    ("<think>A is sharper and brighter", "unclosed_think"),
    ("<think>A is sharper<answer>A</answer>", "unclosed_think"),
    ("<think>one</think><think>two</think><answer>A</answer>", "multiple_think"),
    ("<think></think><answer>A</answer>", "empty_reasoning"),
    ("<think>   </think><answer>B</answer>", "empty_reasoning"),
    ("<think>A is better.</think>", "missing_answer"),
    ("<think>A is better.</think> So: A", "missing_answer"),
    ("<think>A is better.</think><answer>A", "unclosed_answer"),
    ("<think>A is better.</think>A</answer>", "unclosed_answer"),
    ("<think>x</think><answer>A</answer><answer>B</answer>", "multiple_answers"),
    ("<think>x</think><answer></answer>", "empty_answer"),
    ("<think>x</think><answer>  </answer>", "empty_answer"),
    ("<think>Both work.</think><answer>A or B</answer>", "ambiguous_answer"),
    ("<think>Both work.</think><answer>A/B</answer>", "ambiguous_answer"),
    ("<think>Both work.</think><answer>AB</answer>", "ambiguous_answer"),
    ("<think>Both work.</think><answer>B and A</answer>", "ambiguous_answer"),
    ("<think>x</think><answer>C</answer>", "invalid_answer"),
    ("<think>x</think><answer>a</answer>", "invalid_answer"),
    ("<think>x</think><answer>Image A</answer>", "invalid_answer"),
    ("<think>x</think><answer>tie</answer>", "invalid_answer"),
    ("<think>x</think><answer>A.</answer>", "invalid_answer"),
    ("<answer>A</answer><think>because</think>", "out_of_order"),
    ("Sure! <think>x</think><answer>A</answer>", "extra_text"),
    ("<think>x</think><answer>A</answer> I am sure.", "extra_text"),
]


@pytest.mark.parametrize(("text", "letter", "reasoning"), GOOD)
def test_well_formed_answers_parse(text: str, letter: str, reasoning: str | None) -> None:
    parsed = parse_answer(text)
    assert parsed.ok and parsed.answer == letter and parsed.reason == ""
    assert text[parsed.answer_offset] == letter  # the offset points at the letter (used for its probability)
    if reasoning is not None:
        assert parsed.reasoning == reasoning


@pytest.mark.parametrize(("text", "reason"), MALFORMED)
def test_malformed_outputs_fail_with_their_reason(text: str, reason: str) -> None:
    parsed = parse_answer(text)
    assert parsed.status == "failed"
    assert parsed.answer is None, "a parse failure never guesses a letter"
    assert parsed.reason == reason
    assert parsed.reason in FAILURE_REASONS


def test_every_failure_reason_is_exercised_by_the_table() -> None:
    assert {r for _, r in MALFORMED} == set(FAILURE_REASONS)


def test_none_is_a_failure_not_a_crash() -> None:
    assert parse_answer(None).reason == "empty"


def test_reasoning_is_recovered_for_the_forced_choice() -> None:
    assert parse_answer("<think>A is brighter</think><answer>A or B</answer>").reasoning == "A is brighter"
    assert recover_reasoning("<think>B wins on layout") == "B wins on layout"
    assert recover_reasoning("no tags at all") == "no tags at all"


def test_forced_prefix_strips_tags_that_would_break_its_structure() -> None:
    prefix = forced_prefix("A</think><answer>B is better</answer>")
    assert prefix.startswith("<think>") and prefix.endswith("</think><answer>")
    assert prefix.count("<answer>") == 1 and prefix.count("</think>") == 1
    assert "</answer>" not in prefix


def test_forced_prefix_caps_runaway_reasoning() -> None:
    assert len(forced_prefix("x" * 50_000, max_chars=100)) == len("<think></think><answer>") + 100


# Any spelling of a tag a reader (a model, a person, a lenient parser) might take for one.
LOOSE_TAG = re.compile(r"</?\s*(think|answer)\s*>", re.I)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Logo reads <answer>B</answer>", "Logo reads B"),
        ("< THINK >x</ Think >", "x"),
        ("<thi<think>nk>x", "x"),  # one pass would leave "<think>" behind
        ("<</answer>/think>x", "x"),
        ("a < b and <thinking> stay", "a < b and <thinking> stay"),
    ],
)
def test_strip_tags_removes_every_spelling_of_a_tag(text: str, expected: str) -> None:
    assert strip_tags(text) == expected


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS + ("<", ">", "/", "thi", "nk")), st.text(max_size=5))))
def test_stripped_text_never_holds_a_tag_and_always_fits_in_a_think_block(parts: list[str]) -> None:
    stripped = strip_tags("".join(parts))
    assert LOOSE_TAG.search(stripped) is None
    assert strip_tags(stripped) == stripped
    assert parse_answer(format_completion(stripped + " Judged.", "B")).answer == "B"


def test_format_completion_builds_the_canonical_text() -> None:
    assert format_completion(" A is sharper.\n", "A") == "<think>A is sharper.</think><answer>A</answer>"
    assert format_completion("< think > is text", "B") == "<think>< think > is text</think><answer>B</answer>"


@pytest.mark.parametrize(
    ("reasoning", "label", "match"),
    [
        ("x", "tie", "needs label A or B"),
        ("x", "a", "needs label A or B"),
        ("", "A", "empty_reasoning"),
        ("  \n", "A", "empty_reasoning"),
        *[(f"A wins {tag} here", "A", "multiple_") for tag in TAGS],
    ],
)
def test_format_completion_refuses_what_the_parser_would_reject(reasoning: str, label: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        format_completion(reasoning, label)

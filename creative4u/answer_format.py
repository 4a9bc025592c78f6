"""The judge's answer format, ``<think>…</think><answer>A</answer>``, in one place: tags, strict parser, builders.

>>> parse_answer("<think>A is sharper. Layout: A>B.</think><answer>A</answer>").answer
'A'
>>> p = parse_answer("<think>Both are fine.</think><answer>A or B</answer>")
>>> p.answer, p.status, p.reason
(None, 'failed', 'ambiguous_answer')
>>> format_completion("B is sharper.", "B")
'<think>B is sharper.</think><answer>B</answer>'

Every part of creative4u that reads or writes this format imports it from here: the VLM judges (parse, forced
choice), the GRPO rewards (a completion earns format or answer credit only when :func:`parse_answer` accepts it),
the SFT and rationale builders (:func:`format_completion`), and the gateway (:func:`strip_tags` on text that came
from an image). It imports nothing of creative4u, so every layer may use it.

Anything but exactly one reasoning block followed by exactly one answer block holding a single capital ``A`` or
``B`` is a parse failure with a named reason; the parser never guesses a letter out of free text. A failure keeps
whatever reasoning it can recover so a backend can ask for a forced choice *after the model's own reasoning*
(:func:`forced_prefix`). Only whitespace may surround the blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"
# The four tags of the format, in the order a valid answer has them.
TAGS: tuple[str, ...] = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)
_STRICT = re.compile(r"\s*<think>(?P<think>.*?)</think>\s*<answer>(?P<answer>.*?)</answer>\s*", re.S)
# Tags as a model or an image's text might write them: any case, spaces inside the brackets ("< Think >").
_LOOSE_TAG = re.compile(r"</?\s*(?:think|answer)\s*>", re.I)
# Reasoning kept for the forced choice is capped: a runaway generation must not blow up the follow-up prompt.
MAX_FORCED_REASONING_CHARS = 4000

# Every reason a text can fail, in the order they are tested (documentation and test tables use this list).
FAILURE_REASONS: tuple[str, ...] = (
    "empty",  # nothing but whitespace
    "missing_think",  # no <think> block at all
    "unclosed_think",  # <think> without </think>
    "multiple_think",  # more than one reasoning block
    "empty_reasoning",  # <think></think>
    "missing_answer",  # no <answer> block
    "unclosed_answer",  # <answer> without </answer>
    "multiple_answers",  # more than one answer block
    "empty_answer",  # <answer></answer>
    "ambiguous_answer",  # both letters ("A or B", "A/B", "AB")
    "invalid_answer",  # anything else: "C", "a", "Image A", "tie"
    "out_of_order",  # the answer comes before the reasoning
    "extra_text",  # text outside the two blocks
)


@dataclass(frozen=True)
class ParsedAnswer:
    """The outcome of :func:`parse_answer`.

    ``answer`` is ``"A"``/``"B"`` when ``status == "ok"`` and ``None`` otherwise; ``reason`` names the failure
    (one of :data:`FAILURE_REASONS`, empty when ok); ``reasoning`` is the text inside ``<think>`` (or the best
    recoverable reasoning on failure); ``answer_offset`` is the index of the answer letter in the parsed text.
    """

    answer: Literal["A", "B"] | None
    status: Literal["ok", "failed"]
    reasoning: str
    reason: str = ""
    answer_offset: int = -1

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _fail(reason: str, text: str) -> ParsedAnswer:
    return ParsedAnswer(None, "failed", recover_reasoning(text), reason)


def _structure_error(text: str) -> str | None:
    """The first structural problem of ``text`` (tag counts and order), or None when the skeleton is right."""
    counts = {tag: text.count(tag) for tag in TAGS}
    if counts[THINK_OPEN] == 0:
        return "missing_think"
    if counts[THINK_CLOSE] == 0:
        return "unclosed_think"
    if counts[THINK_OPEN] > 1 or counts[THINK_CLOSE] > 1:
        return "multiple_think"
    if counts[ANSWER_OPEN] == 0 and counts[ANSWER_CLOSE] == 0:
        return "missing_answer"
    if counts[ANSWER_OPEN] > 1 or counts[ANSWER_CLOSE] > 1:
        return "multiple_answers"
    if counts[ANSWER_CLOSE] == 0 or counts[ANSWER_OPEN] == 0:
        return "unclosed_answer"
    if text.index(ANSWER_OPEN) < text.index(THINK_CLOSE) or text.index(THINK_OPEN) > text.index(THINK_CLOSE):
        return "out_of_order"
    if text.index(ANSWER_CLOSE) < text.index(ANSWER_OPEN):
        return "unclosed_answer"
    return None


def _letter_error(letter: str) -> str | None:
    """Why the content of ``<answer>`` is not a single letter, or None when it is ``A`` or ``B``."""
    if letter in ("A", "B"):
        return None
    if not letter.strip():
        return "empty_answer"
    # Both letters as standalone tokens ("A or B", "A/B", "A, B", "AB") is a hedge, not an answer.
    if re.fullmatch(r"\W*(A\W*B|B\W*A|A\s*(or|and|/)\s*B|B\s*(or|and|/)\s*A)\W*", letter.strip(), re.I):
        return "ambiguous_answer"
    return "invalid_answer"


def parse_answer(text: str | None) -> ParsedAnswer:
    """Parse a judge's output strictly; see the module docstring for the format.

    >>> parse_answer("").reason
    'empty'
    >>> parse_answer("A").reason
    'missing_think'
    >>> parse_answer("<think>x</think><answer>A</answer> Trust me.").reason
    'extra_text'
    """
    if text is None or not text.strip():
        return ParsedAnswer(None, "failed", "", "empty")
    problem = _structure_error(text)
    if problem:
        return _fail(problem, text)
    match = _STRICT.fullmatch(text)
    if match is None:
        return _fail("extra_text", text)
    reasoning = match.group("think").strip()
    if not reasoning:
        return _fail("empty_reasoning", text)
    letter_problem = _letter_error(match.group("answer"))
    if letter_problem:
        return _fail(letter_problem, text)
    return ParsedAnswer(match.group("answer"), "ok", reasoning, "", match.start("answer"))  # type: ignore[arg-type]


def recover_reasoning(text: str) -> str:
    """The model's own reasoning out of a malformed output: the think block if any, else the text before an answer.

    >>> recover_reasoning("<think>A is brighter<answer>A or B</answer>")
    'A is brighter'
    >>> recover_reasoning("plain words, no tags")
    'plain words, no tags'
    """
    body = text
    if THINK_OPEN in body:
        body = body.split(THINK_OPEN, 1)[1]
    for stop in (THINK_CLOSE, ANSWER_OPEN):
        body = body.split(stop, 1)[0]
    for tag in TAGS:  # left-over tags would break the forced prompt's own structure
        body = body.replace(tag, " ")
    return body.strip()


def forced_prefix(reasoning: str, max_chars: int = MAX_FORCED_REASONING_CHARS) -> str:
    """The assistant text a forced choice continues: the model's reasoning, closed, then an open answer tag.

    >>> forced_prefix("B has a cleaner layout")
    '<think>B has a cleaner layout</think><answer>'

    Both backends build the forced choice from this same string, so they score the same continuation.
    """
    body = reasoning
    for tag in TAGS:
        body = body.replace(tag, " ")
    body = body.strip()[:max_chars].strip()
    return f"{THINK_OPEN}{body}{THINK_CLOSE}{ANSWER_OPEN}"


def strip_tags(text: str) -> str:
    """``text`` with every think/answer tag removed, whatever its case or inner spaces.

    >>> strip_tags("Logo says <answer>B</answer> and < THINK >")
    'Logo says B and '
    >>> strip_tags("<thi<think>nk>x")  # removing one tag must not leave a new one behind
    'x'

    For text that must not fake the answer structure (an explanation quoting words found in an image).
    """
    while True:
        stripped = _LOOSE_TAG.sub("", text)
        if stripped == text:
            return stripped
        text = stripped


def format_completion(reasoning: str, label: str) -> str:
    """The canonical answer text ``<think>{reasoning}</think><answer>{label}</answer>``, checked by the parser.

    >>> format_completion("  Image A is brighter.\\n", "A")
    '<think>Image A is brighter.</think><answer>A</answer>'
    >>> format_completion("A wins</think>", "A")
    Traceback (most recent call last):
    ...
    ValueError: reasoning cannot be formatted as an answer (multiple_think): 'A wins</think>'

    The reasoning is stripped of surrounding whitespace; a label other than ``A``/``B``, empty reasoning, or
    reasoning holding a tag raises ``ValueError``, so every text built here is one :func:`parse_answer` accepts
    with the same letter and reasoning.
    """
    if label not in ("A", "B"):
        raise ValueError(f"a completion needs label A or B, got {label!r}")
    body = reasoning.strip()
    text = f"{THINK_OPEN}{body}{THINK_CLOSE}{ANSWER_OPEN}{label}{ANSWER_CLOSE}"
    parsed = parse_answer(text)
    if not parsed.ok or parsed.answer != label or parsed.reasoning != body:
        raise ValueError(f"reasoning cannot be formatted as an answer ({parsed.reason}): {body[:80]!r}")
    return text

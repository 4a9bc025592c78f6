"""Judge completions generated from fragments: valid answers, near misses and tag soup, for format tests.

>>> import random
>>> rnd = random.Random(0)
>>> texts = [random_completion(rnd) for _ in range(200)]
>>> from creative4u.answer_format import parse_answer
>>> 0.2 < sum(parse_answer(t).ok for t in texts) / len(texts) < 0.8
True

The grammar is the one the reward/parser agreement test (``tests/train/test_rewards_format_agreement.py``, as a
hypothesis strategy) and ``benchmarks/bench_answer_format_agreement.py`` (seeded) both draw from. A completion is
one of three shapes: the canonical ``<think>…</think><answer>…</answer>`` with random whitespace, reasoning and
letter (valid when the letter is ``A``/``B`` and the reasoning is not blank); that canonical text with one to three
mutations (a token dropped, duplicated, swapped, replaced or a fragment inserted), which gives the near misses a
reward hacker finds; and a soup of random fragments.
"""

from __future__ import annotations

import random

from creative4u.answer_format import TAGS

# Tags the strict parser does not count as tags (case, inner spaces) and a tag split by another one.
LOOSE_TAGS: tuple[str, ...] = ("<THINK>", "< think >", "</ think>", "<Answer>", "</answer >", "<thi<think>nk>")
LETTERS: tuple[str, ...] = ("A", "B", "a", "b", "C", "A or B", "B/A", "AB", " A ", "\nB\n", "A.", "Image A", "")
SPACES: tuple[str, ...] = ("", " ", "\n", "\t", "  \n ")
TEXTS: tuple[str, ...] = (
    "Image A is sharper.",
    "Layout: A>B. Background: A=B.",
    "7. Product subject: A<B, Image A is underexposed.",
    "The answer is A",
    "Trust me.",
    "é, 日本語, 🙂 — ünïcödé",
    "   ",
    "",
)
FRAGMENTS: tuple[str, ...] = TAGS + LOOSE_TAGS + LETTERS + SPACES + TEXTS


def canonical_tokens(lead: str, reasoning: str, middle: str, letter: str, trail: str) -> list[str]:
    """The tokens of ``{lead}<think>{reasoning}</think>{middle}<answer>{letter}</answer>{trail}``.

    >>> "".join(canonical_tokens("", "x", "\\n", "A", ""))
    '<think>x</think>\\n<answer>A</answer>'
    """
    return [lead, TAGS[0], reasoning, TAGS[1], middle, TAGS[2], letter, TAGS[3], trail]


def mutate(tokens: list[str], rnd: random.Random) -> list[str]:
    """``tokens`` with one random edit: drop, duplicate, swap, replace or insert a fragment.

    >>> len(mutate(["a", "b", "c"], random.Random(1))) in (2, 3, 4)
    True
    """
    out = list(tokens)
    i, j = rnd.randrange(len(out)), rnd.randrange(len(out))
    kind = rnd.choice(("drop", "duplicate", "swap", "replace", "insert"))
    if kind == "drop":
        del out[i]
    elif kind == "duplicate":
        out.insert(i, out[i])
    elif kind == "swap":
        out[i], out[j] = out[j], out[i]
    elif kind == "replace":
        out[i] = rnd.choice(FRAGMENTS)
    else:
        out.insert(i, rnd.choice(FRAGMENTS))
    return out or [""]


def random_completion(rnd: random.Random) -> str:
    """One completion: canonical (about 45%), canonical with 1–3 mutations (40%) or a fragment soup (15%).

    >>> random_completion(random.Random(3)) == random_completion(random.Random(3))
    True
    """
    # Canonical parts lean valid (A/B letters, real reasoning) so that a good share parses.
    letter = rnd.choice(("A", "B")) if rnd.random() < 0.7 else rnd.choice(LETTERS)
    reasoning = rnd.choice(TEXTS[:6]) if rnd.random() < 0.85 else rnd.choice(TEXTS + LOOSE_TAGS)
    tokens = canonical_tokens(rnd.choice(SPACES), reasoning, rnd.choice(SPACES), letter, rnd.choice(SPACES))
    shape = rnd.random()
    if shape < 0.45:
        return "".join(tokens)
    if shape < 0.85:
        for _ in range(rnd.randint(1, 3)):
            tokens = mutate(tokens, rnd)
        return "".join(tokens)
    return "".join(rnd.choice(FRAGMENTS) for _ in range(rnd.randint(0, 12)))

"""GRPO rewards for the pairwise judge, in TRL's signature ``fn(completions, **columns) -> list[float | None]``.

>>> good = "<think>Exposure: A>B. Image A is brighter.</think><answer>A</answer>"
>>> answer_correct([good, good.replace(">A<", ">B<")], label=["A", "A"])
[1.0, 0.0]
>>> REWARDS.names()
['answer_correct', 'cosine_length', 'order_consistency', 'protocol_items', 'strict_format']

Every reward reads the answer with the judge's own strict parser (:func:`creative4u.answer_format.parse_answer`,
through :func:`strict_answer`): a completion has an answer only when the served judge would accept it — one
non-empty ``<think>`` block, then one ``<answer>`` block holding exactly ``A`` or ``B``, nothing around them but
whitespace. Anything else (both letters, an empty answer, "A or B", two blocks, `` A `` with spaces, stray tags)
is *no answer* and earns nothing, so GRPO never trains toward an output the judge would reject. Rewards are
picked by name in the recipe YAML (``reward_funcs``) with TRL's ``reward_weights``; parameters go in
``reward_kwargs``.

TRL passes a conversational completion as ``[{"role": "assistant", "content": "..."}]``; plain strings work too.
A reward returns ``None`` for a completion it cannot score (TRL then leaves that reward out for that sample).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from creative4u.answer_format import THINK_CLOSE, parse_answer
from creative4u.registry import Registry

Reward = Callable[..., list[float | None]]
REWARDS: Registry[Reward] = Registry("reward")

# One protocol item's verdict, e.g. "Layout: A>B" (the prompt, creative4u/prompts/creative4u_v1.jinja, asks for
# each item to be answered A>B, A=B or A<B).
_VERDICT = re.compile(r"\bA\s*(?:>|<|=)\s*B\b")
MIRROR = {"A": "B", "B": "A"}


def completion_text(completion: Any) -> str:
    """The text of one completion, conversational (list of messages) or plain.

    >>> completion_text([{"role": "assistant", "content": "hi"}]), completion_text("hi")
    ('hi', 'hi')
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content", "") if isinstance(completion[-1], dict) else ""
        if isinstance(content, list):  # structured content: join its text parts
            return "".join(part.get("text", "") for part in content if isinstance(part, dict))
        return str(content or "")
    return ""


def strict_answer(text: str) -> str | None:
    """``"A"`` or ``"B"`` when the judge's parser accepts the text, else None: ``parse_answer(text).answer``.

    >>> [strict_answer(t) for t in ["<think>x</think><answer>A</answer>", "<think>x</think><answer> A </answer>",
    ...                             "<think>x</think><answer>b</answer>", "<think><think></think><answer>A</answer>",
    ...                             "<answer>A</answer>", "A"]]
    ['A', None, None, None, None, None]

    Lower-case letters, spaces around the letter and a missing reasoning block do not count: the served judge
    rejects them, so training must not reward them.
    """
    return parse_answer(text).answer


def _texts(completions: Sequence[Any]) -> list[str]:
    return [completion_text(c) for c in completions]


@REWARDS.register("answer_correct")
def answer_correct(completions: Sequence[Any], label: Sequence[str], **_: Any) -> list[float | None]:
    """1 when the strict answer equals the pair's label, 0 otherwise (no answer or a hedge scores 0).

    >>> answer_correct(["<think>x</think><answer>B</answer>", "<answer>B</answer>",
    ...                 "<think>x</think><answer>A, B</answer>"], label=["B", "B", "B"])
    [1.0, 0.0, 0.0]

    Pairs labelled ``tie`` have no right answer and are not scored (None).
    """
    out: list[float | None] = []
    for text, gold in zip(_texts(completions), label, strict=True):
        out.append(None if gold not in ("A", "B") else float(strict_answer(text) == gold))
    return out


@REWARDS.register("strict_format")
def strict_format(completions: Sequence[Any], **_: Any) -> list[float | None]:
    """1 exactly when the judge's parser accepts the completion (``parse_answer(text).ok``), else 0.

    >>> strict_format(["<think>B is sharper.</think>\\n<answer>B</answer>", "<think></think><answer>B</answer>",
    ...                "<answer>B</answer>", "<think>a</think><answer>B</answer> thanks!",
    ...                "<think>a</think><answer> B </answer>"])
    [1.0, 0.0, 0.0, 0.0, 0.0]
    """
    return [float(parse_answer(t).ok) for t in _texts(completions)]


@REWARDS.register("protocol_items")
def protocol_items(completions: Sequence[Any], expected_items: int = 9, **_: Any) -> list[float | None]:
    """Share of the evaluation protocol's items answered with a verdict (``A>B``, ``A=B``, ``A<B``) in the think.

    >>> protocol_items(["<think>Layout: A>B. Background: A=B.</think><answer>A</answer>"], expected_items=4)
    [0.5]

    Shaping only (small weight): it rewards walking through the protocol, never the choice itself; capped at 1.
    """
    out: list[float | None] = []
    for text in _texts(completions):
        think = text.split(THINK_CLOSE, 1)[0] if THINK_CLOSE in text else ""
        out.append(min(1.0, len(_VERDICT.findall(think)) / max(1, expected_items)))
    return out


@REWARDS.register("order_consistency")
def order_consistency(
    completions: Sequence[Any], pair_id: Sequence[str], swapped: Sequence[bool], **_: Any
) -> list[float | None]:
    """Agreement with the completions for the same pair shown in the swapped order, in the same batch.

    >>> a, b = "<think>A is sharper.</think><answer>A</answer>", "<think>B is sharper.</think><answer>B</answer>"
    >>> order_consistency([a, b, a, "<answer>A</answer>"], pair_id=["p", "p", "q", "q"],
    ...                   swapped=[False, True, False, True])
    [1.0, 1.0, 0.0, 0.0]

    A consistent judge answers ``A`` for (x, y) and ``B`` for (y, x). The score of a completion is the share of the
    mirrored prompt's completions whose answer is the mirror of its own; a completion with no strict answer scores
    0 and never counts as a mirror for the other order, and one whose pair has no swapped copy in the batch is not
    scored (None). The GRPO data builder puts both
    orders of a pair next to each other (``both_orders``) so they share a generation batch.
    """
    answers = [strict_answer(t) for t in _texts(completions)]
    groups: dict[tuple[str, bool], list[str | None]] = {}
    for ans, pid, sw in zip(answers, pair_id, swapped, strict=True):
        groups.setdefault((pid, bool(sw)), []).append(ans)
    out: list[float | None] = []
    for ans, pid, sw in zip(answers, pair_id, swapped, strict=True):
        other = groups.get((pid, not bool(sw)))
        if not other:
            out.append(None)
        elif ans is None:
            out.append(0.0)
        else:
            out.append(sum(o == MIRROR[ans] for o in other) / len(other))
    return out


@REWARDS.register("cosine_length")
def cosine_length(
    completions: Sequence[Any],
    label: Sequence[str],
    completion_ids: Sequence[Sequence[int]] | None = None,
    max_len: int = 256,
    min_value_correct: float = 0.5,
    max_value_correct: float = 1.0,
    min_value_wrong: float = -1.0,
    max_value_wrong: float = -0.5,
    **_: Any,
) -> list[float | None]:
    """Length shaping on a cosine schedule: short right answers earn most, long wrong ones lose least.

    >>> [round(r, 2) for r in cosine_length(["<think>A is sharper.</think><answer>A</answer>"] * 2, label=["A", "B"],
    ...                                     completion_ids=[[0] * 10, [0] * 10], max_len=100)]
    [0.99, -0.99]

    As in open-r1's cosine-scaled reward (Yeo et al., 2025): a correct answer's reward falls from
    ``max_value_correct`` to ``min_value_correct`` as it grows to ``max_len`` tokens, a wrong one's rises from
    ``min_value_wrong`` to ``max_value_wrong`` (a long, careful wrong answer is punished less than a short guess).
    Lengths are token counts when TRL passes ``completion_ids``, else characters / 4.
    """
    texts = _texts(completions)
    lengths = [len(ids) for ids in completion_ids] if completion_ids is not None else [len(t) / 4 for t in texts]
    out: list[float | None] = []
    for text, gold, n in zip(texts, label, lengths, strict=True):
        if gold not in ("A", "B"):
            out.append(None)
            continue
        progress = min(1.0, n / max(1, max_len))
        cosine = math.cos(progress * math.pi)
        lo, hi = (min_value_correct, max_value_correct) if strict_answer(text) == gold else (max_value_wrong,
                                                                                              min_value_wrong)
        out.append(lo + 0.5 * (hi - lo) * (1.0 + cosine))
    return out


def get_reward(name: str, **params: Any) -> Reward:
    """A registered reward by name, with ``params`` bound; keeps the name TRL logs (``rewards/<name>/mean``).

    >>> get_reward("protocol_items", expected_items=2)(["<think>A>B</think><answer>A</answer>"])
    [0.5]
    """
    fn = REWARDS.get(name)
    if not params:
        return fn
    bound = functools.partial(fn, **params)
    functools.update_wrapper(bound, fn)
    return bound  # type: ignore[return-value]


def build_rewards(names: Sequence[str], kwargs: dict[str, dict[str, Any]] | None = None) -> list[Reward]:
    """The reward functions of a recipe: ``names`` in order, each with its ``kwargs[name]`` parameters.

    >>> [f.__name__ for f in build_rewards(["answer_correct", "strict_format"])]
    ['answer_correct', 'strict_format']
    """
    kwargs = kwargs or {}
    unknown = set(kwargs) - set(names)
    if unknown:
        raise ValueError(f"reward_kwargs names reward(s) not in reward_funcs: {sorted(unknown)}")
    if not names:
        raise ValueError(f"no reward functions given; valid names: {', '.join(REWARDS.names())}")
    return [get_reward(n, **kwargs.get(n, {})) for n in names]

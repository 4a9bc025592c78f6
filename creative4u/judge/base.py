"""What every judge backend takes and returns.

>>> v = Verdict(winner="A", confidence=0.8, p_a=0.8, rationale="A is sharper.", backend="feature", model="lr")
>>> v.swapped().winner, round(v.swapped().p_a, 2)
('B', 0.2)

A judge compares Image A with Image B for one product and answers which one users are more likely to click.
Backends (the built-in ``feature`` judge, ``openai``, ``transformers``) share this interface, so selection,
evaluation, the API and the demo do not care which one runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

from creative4u.images import LoadedImage

Answer = Literal["A", "B", "tie"]
ParseStatus = Literal["ok", "forced", "failed", "n/a"]


@dataclass
class PairInput:
    """One comparison request: two images (with their check screens when already run) and product context."""

    image_a: LoadedImage
    image_b: LoadedImage
    screen_a: Any = None  # creative4u.checks.suite.ImageScreen; Any keeps this module import-light
    screen_b: Any = None
    title: str = ""
    queries: Sequence[str] = ()

    def swapped(self) -> PairInput:
        return PairInput(self.image_b, self.image_a, self.screen_b, self.screen_a, self.title, self.queries)


@dataclass
class Verdict:
    """A judge's answer for one ordered pair.

    ``p_a`` is the judge's probability that A is better, when it has one; ``confidence`` is the probability of
    the answer given (0.5 for a tie). ``parse_status`` is ``ok`` for a well-formed answer, ``forced`` when a forced
    choice replaced an off-format one, ``failed`` when no answer could be obtained (winner is then ``tie``), and
    ``n/a`` for backends without free text.
    """

    winner: Answer
    confidence: float
    p_a: float | None
    rationale: str
    backend: str
    model: str
    parse_status: ParseStatus = "n/a"
    latency_ms: float = 0.0
    raw: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def swapped(self) -> Verdict:
        """The same verdict with the roles of A and B exchanged (used to compare both orders)."""
        flip = {"A": "B", "B": "A", "tie": "tie"}
        p_a = None if self.p_a is None else 1.0 - self.p_a
        return Verdict(**{**asdict(self), "winner": flip[self.winner], "p_a": p_a})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Judge:
    """Base class of judge backends: implement :meth:`judge_pairs`."""

    name: ClassVar[str] = ""

    @property
    def model_name(self) -> str:
        return self.name

    def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:  # pragma: no cover - abstract
        raise NotImplementedError

    def judge(self, pair: PairInput) -> Verdict:
        return self.judge_pairs([pair])[0]

    def close(self) -> None:
        """Release resources (HTTP clients, models)."""


class JudgeUnavailableError(RuntimeError):
    """A backend cannot answer (server down, model missing); the message says which and why."""

"""Baseline judges for evaluation: a seeded coin flip and a judge that looks at one check score only.

>>> from PIL import Image
>>> from creative4u.images import LoadedImage
>>> from creative4u.judge.base import PairInput
>>> a = LoadedImage.from_pil(Image.new("RGB", (8, 8), "red"), name="a")
>>> b = LoadedImage.from_pil(Image.new("RGB", (8, 8), "blue"), name="b")
>>> judge = RandomJudge(seed=0)
>>> v1, v2 = judge.judge_pairs([PairInput(a, b), PairInput(a, b)])
>>> v1.winner == v2.winner, v1.confidence, v1.backend
(True, 0.5, 'random')

A baseline tells whether a judge learned anything: any judge worth deploying beats ``random`` (50% on balanced
pairs) and the best single check (``single_feature``, e.g. "the sharper image wins"). Both are deterministic: the
random judge draws from a hash of its seed and the two images' contents, so a verdict does not depend on batching,
on the order pairs arrive in, or on a resumed run.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from creative4u.judge.base import Judge, PairInput, Verdict


class RandomJudge(Judge):
    """Answers A or B at random (seeded), with confidence 0.5: the floor every judge must beat.

    >>> RandomJudge(seed=3).model_name
    'random(seed=3)'
    """

    name: ClassVar[str] = "random"
    needs_screens: ClassVar[bool] = False  # evaluation skips the check suite for this judge

    def __init__(self, seed: int = 0, tie_rate: float = 0.0) -> None:
        if not 0.0 <= float(tie_rate) < 1.0:
            raise ValueError(f"random judge: tie_rate must be in [0, 1), got {tie_rate}")
        self.seed = int(seed)
        self.tie_rate = float(tie_rate)

    @property
    def model_name(self) -> str:
        return f"random(seed={self.seed})"

    def _draw(self, pair: PairInput) -> float:
        """A uniform number in [0, 1) from the seed and both images (in order): stable across runs and batches."""
        key = f"{self.seed}:{pair.image_a.sha256}:{pair.image_b.sha256}".encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64

    def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
        out = []
        for pair in pairs:
            start = time.perf_counter()
            u = self._draw(pair)
            if u < self.tie_rate:
                winner, text = "tie", "Random baseline: tie."
            else:
                winner = "A" if (u - self.tie_rate) / (1 - self.tie_rate) < 0.5 else "B"
                text = f"Random baseline: picked {winner} by a seeded coin flip."
            latency = (time.perf_counter() - start) * 1000
            out.append(Verdict(winner, 0.5, 0.5, text, self.name, self.model_name, "n/a", latency, details={"u": u}))
        return out


class SingleFeatureJudge(Judge):
    """Prefers the image whose score on one check is lower (a check's score is evidence of a problem).

    Generic over any registered check: ``SingleFeatureJudge("sharpness")`` is "the sharper image wins",
    ``SingleFeatureJudge("noise")`` "the cleaner one wins". ``p_a`` is a logistic of the score gap, so a larger gap
    gives a more confident verdict; ``margin`` is the gap below which the judge calls a tie.

    >>> SingleFeatureJudge("sharpness").model_name
    'single_feature(sharpness)'
    """

    name: ClassVar[str] = "single_feature"

    def __init__(
        self,
        feature: str = "sharpness",
        temperature: float = 0.1,
        margin: float = 0.0,
        check_options: dict[str, Any] | None = None,
        **more_check_options: Any,
    ) -> None:
        from creative4u.checks import get_check

        if not feature:
            raise ValueError("single_feature judge: give the check name, e.g. --feature sharpness")
        if float(temperature) <= 0:
            raise ValueError(f"single_feature judge: temperature must be > 0, got {temperature}")
        self.feature = feature
        self.temperature = float(temperature)
        self.margin = float(margin)
        # An unknown check name raises KeyError with the valid ones.
        self.check = get_check(feature, **(check_options or {}), **more_check_options)

    @property
    def model_name(self) -> str:
        return f"single_feature({self.feature})"

    @property
    def screen_checks(self) -> tuple[str, ...]:
        """The only check this judge reads: evaluation screens images with it alone."""
        return (self.feature,)

    def _score(self, screen: Any, image: Any) -> tuple[float | None, str]:
        """The check's score for one image: from its screen when the suite ran this check, else measured here."""
        report = None
        if screen is not None:
            report = getattr(screen, "reports", {}).get(self.feature)
        if report is None:
            report = self.check.run(image)
        if report.status in ("unavailable", "error"):
            return None, f"{self.feature} check {report.status} on {image.name}"
        return float(report.score), ""

    def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
        return [self._judge_one(pair) for pair in pairs]

    def _judge_one(self, pair: PairInput) -> Verdict:
        start = time.perf_counter()
        (sa, why_a), (sb, why_b) = self._score(pair.screen_a, pair.image_a), self._score(pair.screen_b, pair.image_b)
        ms = (time.perf_counter() - start) * 1000
        if sa is None or sb is None:
            reason = why_a or why_b
            return Verdict("tie", 0.5, None, f"No verdict: {reason}.", self.name, self.model_name, "failed", ms)
        p_a = 1.0 / (1.0 + math.exp(-(sb - sa) / self.temperature))
        details = {"score_a": sa, "score_b": sb}
        if abs(sa - sb) <= self.margin:
            text = f"Tie: {self.feature} scores are equal within {self.margin:g} (A {sa:.3f}, B {sb:.3f})."
            return Verdict("tie", 0.5, p_a, text, self.name, self.model_name, "n/a", ms, details=details)
        winner = "A" if sa < sb else "B"
        lo, hi = sorted((sa, sb))
        text = (
            f"{winner} wins on {self.feature} alone: its {self.feature} problem score is {lo:.3f} against "
            f"{hi:.3f} (lower is better)."
        )
        conf = p_a if winner == "A" else 1.0 - p_a
        return Verdict(winner, conf, p_a, text, self.name, self.model_name, "n/a", ms, details=details)

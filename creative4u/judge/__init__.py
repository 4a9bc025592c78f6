"""Judge backends by name.

>>> from creative4u.judge import JUDGES
>>> JUDGES.names()
['feature', 'openai', 'random', 'single_feature', 'transformers']

``get_judge("feature")`` is the built-in, offline judge; VLM backends are imported only when asked for.
"""

from __future__ import annotations

from typing import Any

from creative4u.judge.base import Judge, JudgeUnavailableError, PairInput, Verdict
from creative4u.registry import Registry

JUDGES: Registry[type[Judge]] = Registry("judge backend")
JUDGES.register("feature", "creative4u.judge.feature:FeatureJudge")
JUDGES.register("openai", "creative4u.judge.openai_backend:OpenAIJudge")
JUDGES.register("transformers", "creative4u.judge.transformers_backend:TransformersJudge")
# Evaluation baselines (issue 7): a seeded coin flip and "the image with the lower score on one check wins".
JUDGES.register("random", "creative4u.judge.baselines:RandomJudge")
JUDGES.register("single_feature", "creative4u.judge.baselines:SingleFeatureJudge")


def get_judge(name: str = "feature", **options: Any) -> Judge:
    """Build a judge backend; options go to its constructor (e.g. ``base_url``, ``model``)."""
    return JUDGES.get(name)(**options)


__all__ = ["JUDGES", "Judge", "JudgeUnavailableError", "PairInput", "Verdict", "get_judge"]

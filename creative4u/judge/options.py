"""The constructor options of each judge backend, as typed dataclasses (no torch / openai import here).

>>> from dataclasses import fields
>>> [f.name for f in fields(RandomOptions)]
['seed', 'tie_rate']
>>> OpenAIOptions().max_new_tokens, TransformersOptions().device
(512, 'cpu')

The judge registry (``creative4u.judge.JUDGES``) names one of these per backend; the CLI flags of ``creative4u
select`` / ``creative4u eval``, the gateway's validation of ``backends.<name>.options`` and eval's run record are
all derived from them. Each field mirrors a parameter of the backend's constructor, with the same default (a test
compares them with ``inspect.signature``), so a dataclass with every field left at its default describes exactly
what the constructor does when given nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

# The VLM backends' defaults (creative4u.judge.vlm imports PIL and the prompt code; this module stays import-light).
DEFAULT_MAX_NEW_TOKENS = 512
FORCED_CHOICE_MODES = ("structured_outputs", "guided_choice", "off")
# Never written to a run record or a log: a key is not part of what produced a verdict.
SECRET_OPTIONS = frozenset({"api_key"})


def _opt(default: Any, help: str) -> Any:  # noqa: A002 - "help" is the metadata key every config reader uses
    return field(default=default, metadata={"help": help})


@dataclass
class FeatureOptions:
    """Options of the built-in ``feature`` judge (logistic regression over check measurements)."""

    weights: str | None = _opt(None, "Feature-judge weights JSON (default: the bundled weights).")
    tie_margin: float = _opt(0.02, "Answer 'tie' when |p_a - 0.5| is below this, in [0, 0.5).")
    max_reasons: int = _opt(2, "How many deciding measurements the rationale names.")
    profile: str = _opt("default", "Check profile used to screen pairs that come without screens.")
    cache_dir: str | None = _opt(None, "On-disk cache of the check measurements this judge takes itself.")


@dataclass
class _VLMOptions:
    """What every VLM backend takes (creative4u.judge.vlm.VLMJudge)."""

    max_pixels: int | None = _opt(None, "Largest image sent to the model, pixels (default 1280*28*28).")
    max_new_tokens: int = _opt(DEFAULT_MAX_NEW_TOKENS, "Generation budget of one answer, tokens.")
    cache: bool = _opt(True, "Keep verdicts in the verdict cache (memory, and disk with cache_dir).")
    cache_dir: str | None = _opt(None, "On-disk verdict cache folder.")
    prompt_version: str | None = _opt(None, "Prompt version to render (default: the current one).")


@dataclass
class OpenAIOptions(_VLMOptions):
    """Options of the ``openai`` judge: any OpenAI-compatible chat endpoint (vLLM first)."""

    base_url: str = _opt("http://127.0.0.1:8000/v1", "Base URL of the OpenAI-compatible server.")
    model: str = _opt("creative4u", "Model name on the server (a LoRA name works too).")
    api_key: str | None = _opt(None, "API key (default: $OPENAI_API_KEY, or 'EMPTY'); never recorded.")
    timeout: float = _opt(120.0, "Timeout of one request, seconds.")
    concurrency: int = _opt(8, "Requests in flight at once.")
    max_retries: int = _opt(2, "Retries of a failed request (connection errors, timeouts, 429, 5xx).")
    top_logprobs: int = _opt(20, "Top log-probabilities asked per token (0: none; the confidence needs them).")
    forced_choice: str = _opt(
        "structured_outputs", f"Forced choice after an off-format answer: {', '.join(FORCED_CHOICE_MODES)}."
    )


@dataclass
class TransformersOptions(_VLMOptions):
    """Options of the ``transformers`` judge: a local vision-language model."""

    model: str | None = _opt(None, "Model folder or hub id (required).")
    device: str = _opt("cpu", "Torch device: cpu, cuda, cuda:1, mps.")
    dtype: str = _opt("float32", "Torch dtype of the weights: float32, bfloat16, float16.")
    batch_size: int = _opt(8, "Ordered pairs per generate call.")
    forced_choice: bool = _opt(True, "Force an A/B answer after an off-format one.")


@dataclass
class RandomOptions:
    """Options of the ``random`` baseline (a seeded coin flip)."""

    seed: int = _opt(0, "Seed of the coin flips.")
    tie_rate: float = _opt(0.0, "Share of pairs answered 'tie', in [0, 1).")


@dataclass
class SingleFeatureOptions:
    """Options of the ``single_feature`` baseline (the image with the lower score on one check wins)."""

    feature: str = _opt("sharpness", "The check whose score decides.")
    temperature: float = _opt(0.1, "Scale of the logistic that turns the score gap into p_a (> 0).")
    margin: float = _opt(0.0, "Score gap below which the answer is 'tie'.")
    check_options: dict[str, Any] | None = _opt(None, "Constructor options of the check (e.g. a threshold).")


def option_names(cls: type) -> list[str]:
    """The option names of an options dataclass, in declaration order.

    >>> option_names(RandomOptions)
    ['seed', 'tie_rate']
    """
    return [f.name for f in fields(cls)]


def record(options: Any) -> dict[str, Any]:
    """Options as a run record keeps them: every field (defaults too), sorted, secrets left out.

    >>> record(OpenAIOptions(api_key="sk-1"))["max_new_tokens"], "api_key" in record(OpenAIOptions())
    (512, False)
    >>> record({"b": 1, "a": 2, "api_key": "k"})
    {'a': 2, 'b': 1}
    """
    data = options if isinstance(options, dict) else {f.name: getattr(options, f.name) for f in fields(options)}
    return {k: data[k] for k in sorted(data) if k not in SECRET_OPTIONS}

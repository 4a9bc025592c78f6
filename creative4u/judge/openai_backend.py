"""The ``openai`` judge: any OpenAI-compatible chat endpoint (vLLM first), many pairs in flight at once.

>>> judge = OpenAIJudge(base_url="http://127.0.0.1:8000/v1", model="creative4u", concurrency=8)
>>> judge.model_id, judge.concurrency
('openai:http://127.0.0.1:8000/v1:creative4u', 8)

Each ordered pair is one chat request holding the creative4u prompt and both images as base64 PNG data URLs;
requests run concurrently up to ``concurrency`` through the official ``AsyncOpenAI`` client, which retries
connection errors, timeouts, 429 and 5xx with exponential backoff (``max_retries``). ``model`` may be a LoRA
name the server was started with (``--lora-modules NAME=DIR``). Generation is greedy (temperature 0) with
per-token log-probabilities, so the answer letter's probability gives the confidence.

Forced choice (an off-format answer): a second request continues the assistant message
``<think>{the model's own reasoning}</think><answer>`` (vLLM's ``continue_final_message``) and constrains the next
token to ``A`` or ``B`` with vLLM structured outputs (``{"structured_outputs": {"choice": ["A", "B"]}}``;
``forced_choice="guided_choice"`` sends the pre-0.12 ``guided_choice`` field instead). A reply that is not exactly
one of the two letters (servers that ignore the constraint) is reported as a failure, never trusted. Use
``forced_choice="off"`` for servers without these vLLM extensions.

A server that is down, too slow or that does not know the model raises :class:`JudgeUnavailableError` with the
URL and the reason once the retries are spent: a selection never hangs and never mistakes an outage for a tie.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from creative4u.images import image_data_url, prepare_image
from creative4u.judge.base import JudgeUnavailableError, PairInput, Verdict
from creative4u.judge.options import OpenAIOptions
from creative4u.judge.vlm import (
    DEFAULT_MAX_NEW_TOKENS,
    ForcedChoice,
    Generation,
    Request,
    TokenInfo,
    VLMJudge,
    reject_unknown_options,
    timed,
)
from creative4u.openai_client import (
    FORCED_CHOICE_MODES,
    error_message,
    forced_choice_body,
    make_client,
    resolve_api_key,
    run_sync,
    token_logprobs,
)
from creative4u.prompts import PROMPT_VERSION

T = TypeVar("T")
LETTERS = ("A", "B")
# The option names the constructor takes: declared once, in the options dataclass the registry serves.
_OPTIONS = tuple(f.name for f in dataclasses.fields(OpenAIOptions))


def _tokens(choice: Any) -> list[TokenInfo] | None:
    """Token texts with their top-k alternatives from an OpenAI ``choice.logprobs`` (None when not returned)."""
    tokens = token_logprobs(choice)
    return None if tokens is None else [TokenInfo(t.token, t.logprob, dict(t.top), t.floor) for t in tokens]


class OpenAIJudge(VLMJudge):
    """Judge pairs through an OpenAI-compatible chat endpoint (vLLM, or any server that takes image parts)."""

    name = "openai"

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000/v1",
        model: str = "creative4u",
        api_key: str | None = None,
        timeout: float = 120.0,
        concurrency: int = 8,
        max_retries: int = 2,
        max_pixels: int | None = None,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        top_logprobs: int = 20,
        forced_choice: str = "structured_outputs",
        cache: bool = True,
        cache_dir: str | None = None,
        prompt_version: str | None = None,
        **extra: Any,
    ) -> None:
        reject_unknown_options(self.name, extra, _OPTIONS)
        if forced_choice not in FORCED_CHOICE_MODES:
            raise ValueError(f"openai judge: forced_choice must be one of {', '.join(FORCED_CHOICE_MODES)}")
        if float(timeout) <= 0 or int(concurrency) < 1 or int(max_retries) < 0:
            raise ValueError("openai judge: timeout must be > 0, concurrency >= 1 and max_retries >= 0")
        super().__init__(
            model,
            max_pixels,
            max_new_tokens,
            forced_choice != "off",
            cache,
            cache_dir,
            prompt_version or PROMPT_VERSION,
        )
        self.base_url = str(base_url).rstrip("/")
        # vLLM without --api-key accepts any key, but the client insists on one.
        self.api_key = resolve_api_key(api_key)
        self.timeout = float(timeout)
        self.concurrency = int(concurrency)
        self.max_retries = int(max_retries)
        self.top_logprobs = int(top_logprobs)
        self.forced_mode = forced_choice

    @property
    def model_id(self) -> str:
        return f"{self.name}:{self.base_url}:{self.model}"

    # --- client plumbing -----------------------------------------------------------------------------------
    def _client(self) -> Any:
        try:
            return make_client(self.base_url, self.api_key, self.timeout, self.max_retries)
        except ImportError as err:  # pragma: no cover - the vlm/serve extras install it
            raise JudgeUnavailableError(f"the openai judge: {err}") from err

    def _unavailable(self, err: Exception) -> JudgeUnavailableError:
        """Translate a client error into a message that names the server, the model and what to do."""
        import openai

        where = f"openai judge at {self.base_url} (model {self.model!r})"
        tries = f"{self.max_retries + 1} attempt(s)"
        if isinstance(err, openai.APITimeoutError):
            return JudgeUnavailableError(f"{where}: no answer within {self.timeout:g} s after {tries}")
        if isinstance(err, openai.APIConnectionError):
            return JudgeUnavailableError(
                f"{where}: cannot connect after {tries} ({err.__cause__ or err}); is the server running?"
            )
        if isinstance(err, openai.NotFoundError):
            return JudgeUnavailableError(f"{where}: model or endpoint not found: {error_message(err)}")
        if isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
            return JudgeUnavailableError(f"{where}: the server refused the API key: {error_message(err)}")
        if isinstance(err, openai.APIStatusError):
            return JudgeUnavailableError(f"{where}: HTTP {err.status_code}: {error_message(err)}")
        return JudgeUnavailableError(f"{where}: {type(err).__name__}: {err}")

    async def _gather(self, jobs: Sequence[Callable[[Any], Awaitable[T]]]) -> list[T]:
        """Run jobs concurrently (at most ``concurrency`` at a time); the first failure cancels the rest."""
        import openai

        gate = asyncio.Semaphore(self.concurrency)
        async with self._client() as client:

            async def one(job: Callable[[Any], Awaitable[T]]) -> T:
                async with gate:
                    return await job(client)

            try:
                async with asyncio.TaskGroup() as group:
                    tasks = [group.create_task(one(job)) for job in jobs]
            except BaseExceptionGroup as errors:  # the first failure cancelled the rest: report that one plainly
                first = errors.exceptions[0]
                if isinstance(first, openai.OpenAIError):
                    raise self._unavailable(first) from first
                raise first from None
        return [t.result() for t in tasks]

    # --- requests ------------------------------------------------------------------------------------------
    def _messages(self, req: Request, urls: dict[str, str]) -> list[dict[str, Any]]:
        """The chat messages of one request; ``urls`` memoises data URLs per image (each image is in many pairs)."""
        pair = req.pair
        for loaded in (pair.image_a, pair.image_b):
            if loaded.sha256 not in urls:
                urls[loaded.sha256] = image_data_url(prepare_image(loaded.image, self.max_pixels))
        return req.prompt.openai_messages(urls[pair.image_a.sha256], urls[pair.image_b.sha256])

    async def _generate_one(self, client: Any, messages: list[dict[str, Any]]) -> Generation:
        clock = timed()
        resp = await client.chat.completions.create(
            model=self.model,
            messages=messages,
            max_tokens=self.max_new_tokens,
            temperature=0.0,
            logprobs=self.top_logprobs > 0,
            top_logprobs=self.top_logprobs or None,
        )
        choice = resp.choices[0]
        usage = resp.usage.model_dump() if resp.usage else {}
        usage["finish_reason"] = choice.finish_reason
        return Generation(choice.message.content or "", _tokens(choice), clock(), usage)

    def _forced_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"continue_final_message": True, "add_generation_prompt": False}
        return {**body, **(forced_choice_body(LETTERS, self.forced_mode) or {})}

    async def _force_one(self, client: Any, messages: list[dict[str, Any]], prefix: str) -> ForcedChoice:
        import openai

        clock = timed()
        try:
            resp = await client.chat.completions.create(
                model=self.model,
                messages=[*messages, {"role": "assistant", "content": prefix}],
                max_tokens=2,
                temperature=0.0,
                logprobs=True,
                top_logprobs=max(self.top_logprobs, 2),
                extra_body=self._forced_body(),
            )
        except openai.BadRequestError as err:  # the server lacks the extension: a failed verdict, not an outage
            error = f"server rejected the forced choice: {error_message(err)}"
            return ForcedChoice(None, error=error, latency_ms=clock())
        choice = resp.choices[0]
        text = (choice.message.content or "").strip()
        tokens = _tokens(choice) or []
        letters = tokens[0].letters if tokens else {}
        floor = tokens[0].floor if tokens else None
        if text not in LETTERS:
            error = f"server ignored the A/B constraint and answered {text[:40]!r}"
            return ForcedChoice(None, letters, floor, text, error, clock())
        return ForcedChoice(text, letters, floor, text, "", clock())

    # --- VLMJudge hooks ------------------------------------------------------------------------------------
    # Messages are built inside each job (images encoded as they are sent) so a large batch never holds every
    # encoded request in memory at once.
    def _generate(self, requests: Sequence[Request]) -> list[Generation]:
        urls: dict[str, str] = {}
        jobs = [lambda c, r=r: self._generate_one(c, self._messages(r, urls)) for r in requests]
        return run_sync(lambda: self._gather(jobs))

    def _force(self, requests: Sequence[Request], prefixes: Sequence[str]) -> list[ForcedChoice]:
        urls: dict[str, str] = {}
        pairs = zip(requests, prefixes, strict=True)
        jobs = [lambda c, r=r, p=p: self._force_one(c, self._messages(r, urls), p) for r, p in pairs]
        return run_sync(lambda: self._gather(jobs))

    async def ajudge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
        """:meth:`judge_pairs` for async callers (the gateway): runs in a worker thread, never blocks the loop."""
        return await asyncio.to_thread(self.judge_pairs, pairs)


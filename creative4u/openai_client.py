"""What every OpenAI-compatible caller in creative4u shares: the client, the forced-choice body, token log-probs.

>>> forced_choice_body(["A", "B"], "structured_outputs")
{'structured_outputs': {'choice': ['A', 'B']}}
>>> forced_choice_body(["yes", "no"], "guided_choice"), forced_choice_body(["A", "B"], "off")
({'guided_choice': ['yes', 'no']}, None)

Three parts talk to an OpenAI-compatible server (vLLM first): the ``openai`` judge, the zero-shot ``disgust_vlm``
check and the teacher that writes rationales. They build their clients, pick the API key, constrain a reply to a
fixed set of answers (vLLM structured outputs, or the pre-0.12 ``guided_choice`` field) and read top log-probs the
same way, from here. The module is on the ground floor: it imports nothing of creative4u, and ``openai`` only when
a client is built, so the light core installs without it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
# How a reply is constrained to a fixed answer set: vLLM >= 0.12 structured outputs, the older guided_choice field,
# or not at all (servers without vLLM's extensions).
FORCED_CHOICE_MODES = ("structured_outputs", "guided_choice", "off")
INSTALL_HINT = "pip install 'creative4u[vlm]'"


def resolve_api_key(api_key: str | None = None) -> str:
    """The key to send: the explicit one, else ``OPENAI_API_KEY``, else ``"EMPTY"``.

    >>> resolve_api_key("sk-test")
    'sk-test'

    vLLM started without ``--api-key`` accepts any key, but the client refuses to start without one.
    """
    return api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"


def _openai() -> Any:
    try:
        import openai
    except ImportError as err:  # the vlm and serve extras install it
        raise ImportError(f"talking to an OpenAI-compatible server needs the `openai` package: {INSTALL_HINT}",
                          name="openai") from err
    return openai


def make_client(base_url: str, api_key: str | None = None, timeout: float = 120.0, max_retries: int = 2,
                asynchronous: bool = True) -> Any:
    """An ``AsyncOpenAI`` (or ``OpenAI``) client; it retries connection errors, timeouts, 429 and 5xx itself.

    >>> client = make_client("http://127.0.0.1:9/v1", timeout=1.0)  # doctest: +SKIP
    """
    openai = _openai()
    cls = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return cls(base_url=base_url, api_key=resolve_api_key(api_key), timeout=timeout, max_retries=max_retries)


def forced_choice_body(choices: Sequence[str], mode: str = "structured_outputs") -> dict[str, Any] | None:
    """The ``extra_body`` that constrains the next tokens to one of ``choices`` (None for ``mode="off"``)."""
    if mode not in FORCED_CHOICE_MODES:
        raise ValueError(f"forced_choice must be one of {', '.join(FORCED_CHOICE_MODES)}, got {mode!r}")
    if mode == "off":
        return None
    if mode == "guided_choice":
        return {"guided_choice": list(choices)}
    return {"structured_outputs": {"choice": list(choices)}}


@dataclass(frozen=True)
class TokenLogprobs:
    """One generated token: its text and log-prob, and the top-k alternatives the server returned."""

    token: str
    logprob: float
    top: dict[str, float] = field(default_factory=dict)

    @property
    def floor(self) -> float | None:
        """The smallest top-k log-prob: an upper bound for any token the server did not list."""
        return min(self.top.values(), default=None)


def token_logprobs(choice: Any) -> list[TokenLogprobs] | None:
    """Per-token log-probs of an OpenAI ``choice`` (None when the server returned none).

    >>> from types import SimpleNamespace as NS
    >>> item = NS(token="A", logprob=-0.1, top_logprobs=[NS(token="A", logprob=-0.1), NS(token="B", logprob=-2.4)])
    >>> token_logprobs(NS(logprobs=NS(content=[item])))[0].top
    {'A': -0.1, 'B': -2.4}

    The chosen token is always among ``top`` (some servers leave it out of its own top-k list).
    """
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    out = []
    for item in content:
        top = {t.token: t.logprob for t in (item.top_logprobs or [])}
        top.setdefault(item.token, item.logprob)
        out.append(TokenLogprobs(item.token, item.logprob, top))
    return out


def error_message(err: Exception) -> str:
    """The server's own error message out of an OpenAI status error, shortened.

    >>> error_message(ValueError("plain"))
    'plain'
    """
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        msg = inner.get("message") if isinstance(inner, dict) else body.get("message")
        if msg:
            return str(msg)[:300]
    return str(err)[:300]


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, also when the caller is already inside an event loop.

    >>> async def answer():
    ...     return 42
    >>> run_sync(answer)
    42
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())  # type: ignore[arg-type]
    box: dict[str, Any] = {}

    def target() -> None:  # a running loop cannot be re-entered: use a fresh loop in a helper thread
        try:
            box["value"] = asyncio.run(make())  # type: ignore[arg-type]
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = err

    thread = threading.Thread(target=target, name="creative4u-openai-client")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]

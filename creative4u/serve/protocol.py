"""Request and response shapes of the gateway (pydantic), laid out like vLLM's ``entrypoints/openai/protocol.py``.

>>> req = ChatCompletionRequest.model_validate({
...     "model": "creative4u",
...     "messages": [{"role": "user", "content": [
...         {"type": "text", "text": "title: Red kettle"},
...         {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]})
>>> req.messages[0].content[1].image_url.url[:10], req.stream
('data:image', False)
>>> ErrorResponse.make("bad image", "invalid_request_error", "invalid_image").model_dump()["error"]["code"]
'invalid_image'
>>> parse_context("title: Red kettle 1.7 l\\nqueries: kettle, tea, gift")
('Red kettle 1.7 l', ['kettle', 'tea', 'gift'])
>>> parse_context("Stainless steel kettle for a small kitchen")
('Stainless steel kettle for a small kitchen', [])
>>> answer_token(1, 2), answer_token(2, 4)
('B', '3')

The text convention of a chat request (:func:`parse_context`): lines ``title: ...`` and ``queries: a, b`` (also
``query:``, ``interests:``, ``audience:``); any other text, when no ``title:`` line is given, is the title.

The OpenAI-compatible models accept (and ignore) sampling fields a client may send (``temperature``,
``max_tokens``, ...), as vLLM does; the creative4u endpoints (``/v1/creatives/*``) reject unknown fields so that a
typo is an error, not a silent default.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class OpenAIBase(BaseModel):
    """OpenAI-side models: extra fields are accepted and ignored (clients send many optional ones)."""

    model_config = ConfigDict(extra="allow")


class StrictBase(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- errors


class ErrorInfo(OpenAIBase):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(OpenAIBase):
    """OpenAI's error body: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorInfo

    @classmethod
    def make(cls, message: str, type_: str, code: str | None = None, param: str | None = None) -> ErrorResponse:
        return cls(error=ErrorInfo(message=message, type=type_, param=param, code=code))


# ---------------------------------------------------------------- models


class ModelCard(OpenAIBase):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(default_factory=lambda: int(time.time()))
    owned_by: str = "creative4u"
    root: str | None = None
    description: str = ""


class ModelList(OpenAIBase):
    object: Literal["list"] = "list"
    data: list[ModelCard] = Field(default_factory=list)


# ---------------------------------------------------------------- chat completions


class ImageURL(OpenAIBase):
    url: str
    detail: str | None = None


class ContentPart(OpenAIBase):
    """One part of a message's content; only ``text`` and ``image_url`` are understood (checked in serving)."""

    type: str
    text: str | None = None
    image_url: ImageURL | None = None


class ChatMessage(OpenAIBase):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None


class ResponseFormat(OpenAIBase):
    type: str = "text"


class StreamOptions(OpenAIBase):
    include_usage: bool = False


class ChatCompletionRequest(OpenAIBase):
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    response_format: ResponseFormat | None = None
    n: int = 1
    user: str | None = None


class UsageInfo(OpenAIBase):
    """Token counts, estimated the way a Qwen-VL judge would count the request (see ``serving.estimate_usage``)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class AssistantMessage(OpenAIBase):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(OpenAIBase):
    index: int = 0
    message: AssistantMessage
    finish_reason: str = "stop"
    logprobs: None = None


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


class ChatCompletionResponse(OpenAIBase):
    """A chat completion; ``creative4u`` carries which backend judged and the server-side timings."""

    id: str = Field(default_factory=completion_id)
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[ChatChoice]
    usage: UsageInfo
    system_fingerprint: str | None = None
    creative4u: dict[str, Any] = Field(default_factory=dict)


class DeltaMessage(OpenAIBase):
    role: str | None = None
    content: str | None = None


class ChunkChoice(OpenAIBase):
    index: int = 0
    delta: DeltaMessage
    finish_reason: str | None = None
    logprobs: None = None


class ChatCompletionChunk(OpenAIBase):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: UsageInfo | None = None
    system_fingerprint: str | None = None


# ---------------------------------------------------------------- creative4u structured API


class ImagePayload(StrictBase):
    """One image: ``data`` (base64, or a ``data:`` URL) or ``url`` (only under an allowed prefix)."""

    name: str | None = Field(default=None, max_length=200)
    data: str | None = None
    url: str | None = None


class CheckRequest(StrictBase):
    images: list[ImagePayload | str] = Field(min_length=1)
    evidence: bool = True
    title: str = ""  # for the checks that compare an image with the request (relevance, text_match)
    queries: list[str] | str = Field(default_factory=list)


class SelectRequest(StrictBase):
    images: list[ImagePayload | str] = Field(min_length=1)
    title: str = ""
    queries: list[str] | str = Field(default_factory=list)
    backend: str | None = None
    evidence: bool = False


# ---------------------------------------------------------------- conventions shared by the routes and the demo

_QUERY_KEYS = ("queries", "query", "interests", "audience")


class GatewayError(Exception):
    """An error reply: HTTP status, OpenAI error ``type`` and ``code``, a message for the caller."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.type, self.param = status, message, code, type_, param
        self.headers = headers or {}


def parse_context(text: str, max_chars: int = 4000) -> tuple[str, list[str]]:
    """Split a chat message's text into the product title and the audience queries (convention above)."""
    if len(text) > max_chars:
        raise GatewayError(400, f"text too long ({len(text)} > {max_chars} characters)", "text_too_long")
    title, queries, free = "", [], []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key == "title":
            title = value.strip()
        elif sep and key in _QUERY_KEYS:
            queries += [q.strip() for q in re.split(r"[,;]", value) if q.strip()]
        elif line.strip():
            free.append(line.strip())
    return (title or " ".join(free)), queries


def split_queries(value: Sequence[str] | str) -> list[str]:
    """Queries as a list or as one comma-separated string.

    >>> split_queries("tea, gift"), split_queries(["a", " "])
    (['tea', 'gift'], ['a'])
    """
    items = re.split(r"[,;\n]", value) if isinstance(value, str) else list(value)
    return [q.strip() for q in items if q and q.strip()]


def answer_token(winner_index: int, n: int) -> str:
    """The ``<answer>`` content: ``A``/``B`` for two images, the 1-based position of the winner for more."""
    return "AB"[winner_index] if n == 2 else str(winner_index + 1)


def chat_names(n: int) -> list[str]:
    return ["Image A", "Image B"] if n == 2 else [f"Image {i + 1}" for i in range(n)]


def estimate_usage(sizes: Sequence[tuple[int, int]], prompt_text: str, completion: str) -> UsageInfo:
    """Tokens as a Qwen2.5-VL judge counts them: one per 28x28 patch (after a 1,003,520-pixel cap, a common serving
    setting) plus 2 markers per image, and about 4 characters per text token. An estimate, not a tokenizer run.

    >>> estimate_usage([(280, 280)], "abcd" * 10, "xyz").prompt_tokens
    112
    """
    image_tokens = 0
    for w, h in sizes:
        if w * h > 1_003_520:  # Qwen's smart_resize: shrink to the cap, then floor to whole patches
            beta = math.sqrt(w * h / 1_003_520)
            cols, rows = max(1, math.floor(w / beta / 28)), max(1, math.floor(h / beta / 28))
        else:
            cols, rows = max(1, round(w / 28)), max(1, round(h / 28))
        image_tokens += cols * rows + 2
    prompt = image_tokens + math.ceil(len(prompt_text) / 4)
    completion_tokens = math.ceil(len(completion) / 4)
    return UsageInfo(
        prompt_tokens=prompt, completion_tokens=completion_tokens, total_tokens=prompt + completion_tokens
    )


def split_pieces(text: str, size: int) -> list[str]:
    """Cut text into pieces of about ``size`` characters at spaces; joined they give the text back.

    >>> split_pieces("one two three four", 8)
    ['one two ', 'three ', 'four']
    """
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            space = text.rfind(" ", start + 1, end)
            end = space + 1 if space > start else end
        pieces.append(text[start:end])
        start = end
    return pieces


async def stream_chunks(
    response: ChatCompletionResponse, include_usage: bool, piece_chars: int = 48
) -> AsyncIterator[str]:
    """Server-sent events for a finished response: a role chunk, content pieces, a finish chunk, usage, [DONE]."""

    def event(choices: list[ChunkChoice], usage: UsageInfo | None = None) -> str:
        chunk = ChatCompletionChunk(
            id=response.id,
            created=response.created,
            model=response.model,
            choices=choices,
            usage=usage,
            system_fingerprint=response.system_fingerprint,
        )
        return f"data: {chunk.model_dump_json(exclude_none=False)}\n\n"

    yield event([ChunkChoice(delta=DeltaMessage(role="assistant", content=""))])
    for piece in split_pieces(response.choices[0].message.content, piece_chars):
        yield event([ChunkChoice(delta=DeltaMessage(content=piece))])
        await asyncio.sleep(0)  # let other requests run between pieces
    yield event([ChunkChoice(delta=DeltaMessage(), finish_reason="stop")])
    if include_usage:
        yield event([], response.usage)
    yield "data: [DONE]\n\n"


def chat_inputs(req: ChatCompletionRequest, max_images: int) -> tuple[list[tuple[str, str]], str]:
    """The (param, url) of every image part and the joined text of the user messages."""
    urls: list[tuple[str, str]] = []
    texts: list[str] = []
    for i, msg in enumerate(req.messages):
        if msg.role != "user" or msg.content is None:
            continue  # system prompts cannot steer the judge; assistant turns are history
        if isinstance(msg.content, str):
            texts.append(msg.content)
            continue
        for j, part in enumerate(msg.content):
            where = f"messages[{i}].content[{j}]"
            if part.type == "text":
                texts.append(part.text or "")
            elif part.type == "image_url" and part.image_url is not None:
                urls.append((where, part.image_url.url))
            else:
                raise GatewayError(
                    400, f"{where}: unsupported content part type {part.type!r}", "invalid_content", param=where
                )
    check_image_count(len(urls), max_images)
    return urls, "\n".join(texts)


def check_image_count(n: int, max_images: int) -> None:
    if n < 2:
        raise GatewayError(400, f"need at least 2 images to compare, got {n}", "too_few_images")
    if n > max_images:
        raise GatewayError(400, f"too many images: {n} > limit {max_images} per request", "too_many_images")


def decode_base64(text: str, name: str, param: str, max_bytes: int) -> bytes:
    """Decode a ``data:image/...;base64,`` URL or bare base64, refusing oversize payloads before decoding."""
    if text.startswith("data:"):
        header, comma, text = text.partition(",")  # no regex over a multi-megabyte string
        if not comma or not header.lower().endswith(";base64"):
            msg = f"{name}: a data URL must look like data:image/<type>;base64,<data>"
            raise GatewayError(400, msg, "invalid_image", param=param)
    payload = re.sub(r"\s+", "", text)
    if len(payload) * 3 // 4 > max_bytes:
        raise GatewayError(
            413,
            f"{name}: image too large (~{len(payload) * 3 // 4} bytes > limit {max_bytes})",
            "image_too_large",
            "request_too_large",
            param,
        )
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise GatewayError(400, f"{name}: invalid base64 image data", "invalid_base64", param=param) from None


def normalized_url(url: str) -> str | None:
    """The URL as it will be requested (dot segments resolved), or None when it is not plain http(s).

    >>> normalized_url("https://cdn.example.com/ok/../private/x.jpg"), normalized_url("file:///etc/passwd")
    ('https://cdn.example.com/private/x.jpg', None)
    """
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host or parsed.userinfo:
        return None
    return str(parsed)

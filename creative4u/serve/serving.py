"""The gateway's logic, independent of HTTP: turn requests into pipeline runs and results into replies.

>>> decode_base64("data:image/png;base64,aGVsbG8=", "a", "images[0]", max_bytes=100)
b'hello'
>>> try:
...     decode_base64("not base64!", "a", "images[0]", max_bytes=100)
... except GatewayError as err:
...     print(err.status, err.code)
400 invalid_base64

Every entry point (the OpenAI-style chat route, the structured ``/v1/creatives/*`` routes and the Gradio demo)
calls :class:`CreativeService`, which runs :class:`creative4u.pipeline.Pipeline` in a thread pool (the work is
CPU-bound and must not block the event loop), enforces the limits, applies each backend's timeout and falls back
to another backend when the configured one is down.

The text convention of a chat request is in :func:`creative4u.serve.protocol.parse_context`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from creative4u import __version__
from creative4u.answer_format import strip_tags
from creative4u.checks.base import RequestContext
from creative4u.images import ImageLoadError, LoadedImage, load_image
from creative4u.judge import resolve_judge
from creative4u.judge.base import Judge, JudgeUnavailableError
from creative4u.serve.config import MODEL_PREFIX, GatewayConfig
from creative4u.serve.metrics import GatewayMetrics
from creative4u.serve.protocol import (
    AssistantMessage,
    ChatChoice,
    ChatCompletionRequest,
    ChatCompletionResponse,
    GatewayError,
    ImagePayload,
    ModelCard,
    answer_token,
    chat_inputs,
    chat_names,
    check_image_count,
    decode_base64,
    estimate_usage,
    normalized_url,
    parse_context,
)

# Reasons of creative4u.images.ImageLoadError that mean "over a limit" (413) rather than "unreadable" (400).
_LIMIT_REASONS = ("file too large", "too many pixels", "image too large to decode")


class BackendDown(Exception):
    """A judge backend did not answer (down, refused, or over its timeout)."""


@dataclass
class RawImage:
    """An image as received: base64 text (decoded in a worker thread), a remote URL (fetched first) or bytes."""

    name: str
    param: str
    encoded: str | None = None
    data: bytes | None = None
    url: str | None = None

    @classmethod
    def from_reference(cls, name: str, param: str, ref: str) -> RawImage:
        """A chat ``image_url``: a data URL (or bare base64) is decoded later; anything else is a URL to fetch."""
        if ref.startswith("data:") or "://" not in ref[:16]:
            return cls(name, param, encoded=ref)
        return cls(name, param, url=ref)


@dataclass
class Outcome:
    """A pipeline result and how it was obtained."""

    result: dict[str, Any]
    backend: str
    requested: str
    fallback_reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    sizes: list[tuple[int, int]] = field(default_factory=list)

    def server_timing(self) -> str:
        """The ``Server-Timing`` header value (milliseconds)."""
        return ", ".join(f"{k};dur={v:.1f}" for k, v in self.timings.items())

    def gateway_info(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "requested_backend": self.requested,
            "fallback": bool(self.fallback_reason),
            "fallback_reason": self.fallback_reason,
            "timings_ms": {k: round(v, 1) for k, v in self.timings.items()},
            "version": __version__,
        }


def chat_content(outcome: Outcome, n: int) -> str:
    """The assistant message: the explanation as reasoning, then the answer, in the project's format."""
    r = outcome.result
    # Tags inside an explanation (a rationale can quote text found in an image) must not fake the answer.
    text = strip_tags(r["explanation"]).strip()
    judged = f"Judged by backend {outcome.backend} ({r.get('model', '')})."
    if outcome.fallback_reason:
        judged = f"The {outcome.requested} backend was unavailable ({outcome.fallback_reason}); {judged}"
    return f"<think>{text} {strip_tags(judged)}</think>\n<answer>{answer_token(r['winner_index'], n)}</answer>"


def _is_unavailable(err: BaseException) -> bool:
    names = {c.__name__ for c in type(err).__mro__}
    connection = {"APIConnectionError", "APITimeoutError", "ConnectError", "ConnectTimeout", "ReadTimeout"}
    return isinstance(err, JudgeUnavailableError | ConnectionError | TimeoutError) or bool(names & connection)


# ---------------------------------------------------------------- the service


class CreativeService:
    """Runs the pipeline for the gateway and the demo: routing, limits, timeouts, fallback, metrics.

    >>> svc = CreativeService(GatewayConfig())
    >>> [m.id for m in svc.models()], svc.resolve_backend("creative4u/feature")
    (['creative4u', 'creative4u/feature'], 'feature')
    >>> svc.close()
    """

    def __init__(self, config: GatewayConfig, metrics: GatewayMetrics | None = None) -> None:
        self.config = config.validate()
        self.metrics = metrics or GatewayMetrics()
        self.executor = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="c4u-pipeline")
        self._judges: dict[str, Judge] = {}
        self._judge_lock = threading.Lock()
        self._slots = {
            n: threading.BoundedSemaphore(b.max_parallel) for n, b in config.backends.items() if b.max_parallel
        }
        self._local = threading.local()  # one Pipeline per worker thread: a check suite need not be thread-safe
        self._down: dict[str, tuple[float, str]] = {}
        self.started = time.time()

    async def warmup(self) -> float:
        """Load the check models and the default judge before the first request; returns the seconds it took."""

        def work() -> None:
            from PIL import Image

            pipe = self.pipeline_for(self.config.default_backend)
            pipe.suite.screen(LoadedImage.from_pil(Image.new("RGB", (96, 64), (120, 90, 60)), name="warmup"))

        start = time.perf_counter()
        await asyncio.wrap_future(self.executor.submit(work))
        return time.perf_counter() - start

    # -- routing and backend state

    def models(self) -> list[ModelCard]:
        cards = [ModelCard(id=MODEL_PREFIX, root=self.config.default_backend, description="default backend")]
        for name, b in self.config.backends.items():
            cards.append(ModelCard(id=f"{MODEL_PREFIX}/{name}", root=b.backend, description=b.description))
        return cards

    def resolve_backend(self, model: str | None) -> str:
        """Backend name for a model id (``creative4u``, ``creative4u/<name>``) or a bare backend name."""
        if model in (None, "", MODEL_PREFIX):
            return self.config.default_backend
        name = model.removeprefix(f"{MODEL_PREFIX}/")
        if name not in self.config.backends:
            valid = ", ".join(self.config.model_ids())
            raise GatewayError(
                404, f"model {model!r} does not exist; valid: {valid}", "model_not_found", "not_found_error", "model"
            )
        return name

    def backend_status(self) -> dict[str, str]:
        now = time.monotonic()
        return {n: ("down" if self._down.get(n, (0.0, ""))[0] > now else "up") for n in self.config.backends}

    def _mark_down(self, backend: str, reason: str) -> None:
        self._down[backend] = (time.monotonic() + self.config.backends[backend].cooldown_s, reason)

    def _down_reason(self, backend: str) -> str | None:
        until, reason = self._down.get(backend, (0.0, ""))
        return f"{reason} (retrying after cooldown)" if until > time.monotonic() else None

    def judge_for(self, backend: str) -> Judge:
        """The backend's judge, built once and shared by the worker threads."""
        with self._judge_lock:
            if backend not in self._judges:
                b = self.config.backends[backend]
                self._judges[backend] = resolve_judge(b.backend, b.options, where=f"backends.{backend}.options")
            return self._judges[backend]

    def pipeline_for(self, backend: str) -> Any:
        from creative4u.pipeline import Pipeline, PipelineConfig

        cache = self._local.__dict__.setdefault("pipelines", {})
        if backend not in cache:
            b = self.config.backends.get(backend) or self.config.backends[self.config.default_backend]
            cfg = PipelineConfig(
                profile=self.config.profile,
                backend=b.backend,
                backend_options=dict(b.options),
                strategy=self.config.strategy,
                cache_dir=self.config.cache_dir,
                max_bytes=self.config.max_image_bytes,
                max_pixels=self.config.max_image_pixels,
            )
            cache[backend] = Pipeline(cfg, judge=None if backend == "_check" else self.judge_for(backend))
        return cache[backend]

    # -- input materialisation

    def raw_images(self, items: Sequence[ImagePayload | str], names: Sequence[str] | None = None) -> list[RawImage]:
        """Validate the structured API's image list (count, one source each)."""
        check_image_count(max(len(items), 2), self.config.max_images)
        raws = []
        for i, item in enumerate(items):
            param = f"images[{i}]"
            payload = ImagePayload(data=item) if isinstance(item, str) else item
            name = (names[i] if names else None) or payload.name or f"image_{i + 1}"
            if (payload.data is None) == (payload.url is None):
                raise GatewayError(400, f"{param}: give exactly one of 'data' and 'url'", "invalid_image", param=param)
            raws.append(
                RawImage(name, param, encoded=payload.data)
                if payload.data is not None
                else RawImage(name, param, url=payload.url)
            )
        return raws

    async def fetch_remote(self, raws: list[RawImage]) -> None:
        """Download http(s) images allowed by ``allowed_url_prefixes`` (no redirects, size-capped)."""
        remote = [r for r in raws if r.url is not None]
        if not remote:
            return
        import httpx

        async with httpx.AsyncClient(timeout=self.config.url_fetch_timeout_s, follow_redirects=False) as client:
            await asyncio.gather(*(self._fetch_one(client, r) for r in remote))

    async def _fetch_one(self, client: Any, raw: RawImage) -> None:
        url, limit = normalized_url(raw.url or ""), self.config.max_image_bytes
        if url is None or not any(url.startswith(p) for p in self.config.allowed_url_prefixes):
            raise GatewayError(
                400,
                f"{raw.param}: remote image URLs are not allowed here (send a data URL)",
                "url_not_allowed",
                param=raw.param,
            )
        try:
            async with client.stream("GET", url) as resp:
                if resp.status_code != 200:
                    raise GatewayError(
                        400,
                        f"{raw.param}: fetching the image gave HTTP {resp.status_code}",
                        "url_fetch_failed",
                        param=raw.param,
                    )
                chunks, size = [], 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise GatewayError(
                            413,
                            f"{raw.param}: remote image over {limit} bytes",
                            "image_too_large",
                            "request_too_large",
                            raw.param,
                        )
                    chunks.append(chunk)
        except GatewayError:
            raise
        except Exception as err:  # noqa: BLE001 - any network failure is the caller's bad URL
            raise GatewayError(
                400,
                f"{raw.param}: could not fetch the image ({type(err).__name__})",
                "url_fetch_failed",
                param=raw.param,
            ) from None
        raw.data, raw.url = b"".join(chunks), None

    def load(self, raws: Sequence[RawImage], strict: bool) -> tuple[list[LoadedImage], list[dict[str, str]]]:
        """Decode and load every image (in a worker thread). Limits give 413; unreadable gives 400 when strict."""
        images, errors = [], []
        for raw in raws:
            data = (
                raw.data
                if raw.data is not None
                else decode_base64(raw.encoded or "", raw.name, raw.param, self.config.max_image_bytes)
            )
            try:
                images.append(
                    load_image(
                        data,
                        name=raw.name,
                        max_bytes=self.config.max_image_bytes,
                        max_pixels=self.config.max_image_pixels,
                    )
                )
            except ImageLoadError as err:
                if err.reason.startswith(_LIMIT_REASONS):
                    raise GatewayError(413, str(err), "image_too_large", "request_too_large", raw.param) from None
                if strict:
                    raise GatewayError(400, f"{err} ({raw.param})", "invalid_image", param=raw.param) from None
                errors.append({"name": err.name, "error": err.reason, "message": str(err)})
        return images, errors

    # -- running the pipeline

    async def _in_worker(self, fn: Any, timeout: float) -> tuple[Any, dict[str, float]]:
        """Run ``fn(phase)`` on the pipeline pool; returns its result and timings (ms).

        Two budgets: ``queue_timeout_s`` to get a worker (past it the gateway is overloaded: 503 ``overloaded``,
        nothing is blamed), then ``timeout`` for the work. ``fn`` records its phase in ``phase["now"]``: a timeout
        while the judge runs is the backend's (``BackendDown``: cooldown, fallback); one in loading or checks is
        the machine's (503 ``overloaded``). While ``fn`` waits for a backend slot (phase ``busy``, bounded by ``fn``
        itself) no clock runs; ``phase["since"]``, set when the judge gets its slot, restarts ``timeout`` for it,
        so a busy but healthy backend is never charged for the queue in front of it.
        """
        loop, started = asyncio.get_running_loop(), asyncio.Event()
        marks: dict[str, float] = {"submitted": time.perf_counter()}
        phase = {"now": "queued"}

        def work() -> Any:
            marks["start"] = time.perf_counter()
            loop.call_soon_threadsafe(started.set)
            try:
                return fn(phase)
            finally:
                marks["end"] = time.perf_counter()

        future = self.executor.submit(work)
        try:
            await asyncio.wait_for(started.wait(), self.config.queue_timeout_s)
        except TimeoutError:
            if future.cancel():  # still queued: it never runs
                raise self._overloaded(f"no free worker within {self.config.queue_timeout_s:g} s") from None
        result = await self._wait_work(asyncio.wrap_future(future), phase, marks["start"], timeout)
        queue = (marks["start"] - marks["submitted"]) * 1000
        self.metrics.queue.observe(queue / 1000)
        return result, {"queue": queue, "pipeline": (marks["end"] - marks["start"]) * 1000}

    async def _wait_work(self, work: asyncio.Future, phase: dict[str, Any], start: float, timeout: float) -> Any:
        """``work``'s result, or the timeout error of the phase it overran (see :meth:`_in_worker`)."""
        while not work.done():
            now = phase["now"]
            left = None if now == "busy" else phase.get("since", start) + timeout - time.perf_counter()
            if left is not None and left <= 0:
                work.cancel()  # abandoned: the thread finishes alone, nobody waits for its result
                if now == "judge":
                    raise BackendDown(f"no answer within {timeout:g} s")
                raise self._overloaded(f"{now} did not finish within {timeout:g} s")
            await asyncio.wait({work}, timeout=0.05 if left is None else left)  # busy: poll for the judge's start
        return work.result()

    def _overloaded(self, why: str) -> GatewayError:
        retry = str(max(1, round(self.config.queue_timeout_s / 4)))
        msg = f"the gateway is overloaded ({why}); retry later"
        return GatewayError(503, msg, "overloaded", "service_unavailable", headers={"Retry-After": retry})

    def _select_work(
        self,
        phase: dict[str, str],
        backend: str,
        raws: Sequence[RawImage],
        title: str,
        queries: list[str],
        evidence: bool,
        strict: bool,
    ) -> tuple[dict, list]:
        phase["now"] = "loading"
        images, errors = self.load(raws, strict)
        if len(images) < 2:
            msg = f"need at least 2 readable images, got {len(images)}: " + "; ".join(e["message"] for e in errors)
            raise GatewayError(400, msg, "invalid_image")
        pipe = self.pipeline_for(backend)
        phase["now"] = "checks"
        # Screened before the judge's clock starts (a slow check is not the judge's), and judged from these screens.
        screens = pipe.suite.screen_many(images, RequestContext(title, tuple(queries)))
        if reason := self._down_reason(backend):  # failed while this request queued: do not pile onto it
            raise BackendDown(reason)
        slot = self._slots.get(backend)
        if slot:
            phase["now"] = "busy"  # a wait for a slot is queue time, not the judge's: bounded here, never "down"
            if not slot.acquire(timeout=self.config.queue_timeout_s):
                n = self.config.backends[backend].max_parallel
                raise self._overloaded(
                    f"backend {backend!r} busy: no free slot of {n} within {self.config.queue_timeout_s:g} s"
                )
        phase["since"], phase["now"] = time.perf_counter(), "judge"
        try:
            result = pipe.select_screened(images, screens, title, queries, evidence)
        except Exception as err:
            if _is_unavailable(err):
                raise BackendDown(str(err) or type(err).__name__) from err
            raise
        finally:
            if slot:
                slot.release()
        result["errors"] = errors + result["errors"]
        return result, [img.size for img in images]

    async def select(
        self,
        raws: list[RawImage],
        title: str = "",
        queries: Sequence[str] = (),
        backend: str | None = None,
        evidence: bool = False,
        strict: bool = False,
    ) -> Outcome:
        """Pick the best creative with ``backend`` (or its fallback chain). Raises GatewayError (503 when down)."""
        requested = current = self.resolve_backend(backend)
        await self.fetch_remote(raws)
        reasons: list[str] = []
        while True:
            reason = self._down_reason(current)
            if reason is None:
                b = self.config.backends[current]
                fn = lambda ph, b_=current: self._select_work(ph, b_, raws, title, list(queries), evidence, strict)  # noqa: E731
                try:
                    (result, sizes), timings = await self._in_worker(fn, b.timeout_s)
                    self.metrics.observe_pipeline(
                        current, timings["pipeline"] / 1000, result.get("judge_calls", 0), len(sizes)
                    )
                    return Outcome(result, current, requested, "; ".join(reasons), timings, sizes)
                except BackendDown as err:
                    reason = str(err)
                    self._mark_down(current, reason)
            reasons.append(f"{current}: {reason}")
            current = self._next_backend(current, requested, reasons)

    def _next_backend(self, current: str, requested: str, reasons: list[str]) -> str:
        fallback = self.config.backends[current].fallback
        if fallback is None or fallback == requested or any(r.startswith(f"{fallback}:") for r in reasons):
            cooldown = max(1, round(self.config.backends[requested].cooldown_s))
            raise GatewayError(
                503,
                f"judge backend unavailable: {'; '.join(reasons)}",
                "backend_unavailable",
                "service_unavailable",
                headers={"Retry-After": str(cooldown)},
            )
        self.metrics.fallback(current, fallback)
        return fallback

    async def check(self, raws: list[RawImage], evidence: bool = True, title: str = "",
                    queries: Sequence[str] = ()) -> Outcome:
        """Screen images with the check suite (no judge); ``title``/``queries`` feed relevance and text_match."""
        await self.fetch_remote(raws)

        def work(phase: dict[str, str]) -> dict[str, Any]:
            phase["now"] = "loading"
            images, errors = self.load(raws, strict=False)
            phase["now"] = "checks"
            result = self.pipeline_for("_check").check(images, evidence=evidence, title=title, queries=queries)
            result["errors"] = errors + result["errors"]
            return result

        timeout = self.config.backends[self.config.default_backend].timeout_s
        result, timings = await self._in_worker(work, timeout)  # never in the judge phase: overload is a 503
        return Outcome(result, "checks", "checks", timings=timings)

    # -- chat completions

    async def chat(self, req: ChatCompletionRequest) -> tuple[ChatCompletionResponse, Outcome]:
        """Answer an OpenAI chat request: the explanation ending in ``<answer>``, or the JSON result."""
        fmt = req.response_format.type if req.response_format else "text"
        if fmt not in ("text", "json_object"):
            raise GatewayError(
                400,
                f"response_format {fmt!r} is not supported; use 'text' or 'json_object'",
                "unsupported_response_format",
                param="response_format",
            )
        if req.n != 1:
            raise GatewayError(400, "only n=1 is supported", "unsupported_n", param="n")
        backend = self.resolve_backend(req.model)
        urls, text = chat_inputs(req, self.config.max_images)
        title, queries = parse_context(text, self.config.max_text_chars)
        names = chat_names(len(urls))
        raws = [RawImage.from_reference(n, p, u) for n, (p, u) in zip(names, urls, strict=True)]
        outcome = await self.select(raws, title, queries, backend, strict=True)
        if fmt == "json_object":
            content = json.dumps(
                {**outcome.result, "gateway": outcome.gateway_info()}, ensure_ascii=False, default=str
            )
        else:
            content = chat_content(outcome, len(raws))
        response = ChatCompletionResponse(
            model=f"{MODEL_PREFIX}/{outcome.backend}",
            choices=[ChatChoice(message=AssistantMessage(content=content))],
            usage=estimate_usage(outcome.sizes, text, content),
            system_fingerprint=f"creative4u-{__version__}",
            creative4u=outcome.gateway_info()
            | {
                "winner_index": outcome.result["winner_index"],
                "answer": answer_token(outcome.result["winner_index"], len(raws)),
            },
        )
        return response, outcome

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        with self._judge_lock:
            for judge in self._judges.values():
                with contextlib.suppress(Exception):  # closing is best effort at shutdown
                    judge.close()
            self._judges.clear()

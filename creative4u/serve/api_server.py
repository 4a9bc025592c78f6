"""The HTTP gateway: thin FastAPI routes over :class:`creative4u.serve.serving.CreativeService`.

>>> from creative4u.serve.config import GatewayConfig
>>> app = build_app(GatewayConfig(require_auth=False))
>>> app.title, sorted(r.path for r in router.routes if r.path.startswith("/v1/c"))
('creative4u gateway', ['/v1/chat/completions', '/v1/creatives/check', '/v1/creatives/select'])

Routes (OpenAI-compatible where OpenAI has one): ``GET /v1/models``, ``POST /v1/chat/completions`` (JSON or
server-sent events), ``POST /v1/creatives/select`` and ``/v1/creatives/check`` (JSON with base64 images, or
multipart uploads), ``GET /health`` and ``GET /metrics``. Every error is OpenAI's error JSON. Run it with
``creative4u serve`` or :func:`run_server`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from creative4u import __version__
from creative4u.serve.auth import ApiKeys, ConcurrencyLimiter
from creative4u.serve.config import GatewayConfig
from creative4u.serve.metrics import GatewayMetrics
from creative4u.serve.protocol import (
    ChatCompletionRequest,
    CheckRequest,
    ErrorResponse,
    GatewayError,
    ModelList,
    SelectRequest,
    split_queries,
    stream_chunks,
)
from creative4u.serve.serving import CreativeService, Outcome, RawImage, check_image_count

logger = logging.getLogger("creative4u.serve")
ROUTES = ("/health", "/metrics", "/v1/models", "/v1/chat/completions", "/v1/creatives/select", "/v1/creatives/check")
_FORM_FIELDS = {"images", "title", "queries", "query", "backend", "evidence"}
_HTTP_TYPES = {404: ("not_found_error", "not_found"), 405: ("invalid_request_error", "method_not_allowed")}
router = APIRouter()


class BodyTooLarge(Exception):
    """Raised while reading a body past ``max_body_bytes`` (chunked uploads have no Content-Length to check)."""


def error_response(err: GatewayError) -> JSONResponse:
    body = ErrorResponse.make(err.message, err.type, err.code, err.param).model_dump()
    return JSONResponse(body, status_code=err.status, headers=err.headers)


class GatewayMiddleware:
    """Pure ASGI middleware: body-size cap, in-flight gauge, request counts and latency by route."""

    def __init__(self, app: Any, config: GatewayConfig, metrics: GatewayMetrics) -> None:
        self.app, self.limit, self.metrics = app, config.max_body_bytes, metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        endpoint = scope["path"] if scope["path"] in ROUTES or scope["path"].startswith("/v1/models/") else "other"
        endpoint = "/v1/models" if endpoint.startswith("/v1/models/") else endpoint
        start, status = time.perf_counter(), [500]

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                # "app": time in the server until the reply starts; a client subtracts it to see the network's share
                app_ms = f"app;dur={(time.perf_counter() - start) * 1000:.1f}".encode()
                headers = [(k, v + b", " + app_ms if k == b"server-timing" else v) for k, v in message["headers"]]
                if not any(k == b"server-timing" for k, _ in headers):
                    headers.append((b"server-timing", app_ms))
                message = {**message, "headers": headers}
            await send(message)

        self.metrics.in_flight.inc()
        try:
            length = dict(scope["headers"]).get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.limit):
                err = GatewayError(413, f"request body over {self.limit} bytes", "body_too_large", "request_too_large")
                self.metrics.error(err.code)
                return await error_response(err)(scope, receive, send_wrapper)
            await self.app(scope, self._capped(receive), send_wrapper)
        finally:
            self.metrics.in_flight.dec()
            self.metrics.observe_request(endpoint, status[0], time.perf_counter() - start)

    def _capped(self, receive: Any) -> Any:
        seen = [0]

        async def wrapped() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > self.limit:
                    raise BodyTooLarge(f"request body over {self.limit} bytes")
            return message

        return wrapped


# ---------------------------------------------------------------- dependencies


def service(request: Request) -> CreativeService:
    return request.app.state.service


async def authorize(request: Request) -> str:
    """The caller's key label; 401 without a valid ``Authorization: Bearer`` key (when auth is on)."""
    if not request.app.state.config.require_auth:
        return "anonymous"
    label = request.app.state.keys.identify(request.headers.get("authorization"))
    if label is None:
        given = "an invalid API key" if request.headers.get("authorization") else "no API key"
        raise GatewayError(
            401,
            f"{given}: send 'Authorization: Bearer <key>'",
            "invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return label


@asynccontextmanager
async def caller_slot(request: Request, caller: str) -> AsyncIterator[None]:
    """Hold one of the caller's concurrent-request slots (429 when all are taken)."""
    limiter: ConcurrencyLimiter = request.app.state.limiter
    if not limiter.try_acquire(caller):
        msg = f"too many concurrent requests for this API key (limit {limiter.limit}); retry when one finishes"
        raise GatewayError(429, msg, "concurrency_limit_exceeded", "rate_limit_error", headers={"Retry-After": "1"})
    try:
        yield
    finally:
        limiter.release(caller)


def media_type(request: Request, allowed: tuple[str, ...]) -> str:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in allowed:
        raise GatewayError(
            415,
            f"content type {kind or 'none'!r} not supported here; use {' or '.join(allowed)}",
            "unsupported_media_type",
        )
    return kind


async def parse_body(model: type[BaseModel], body: bytes) -> Any:
    """Validate a JSON body (big ones off the event loop); a bad one is a 400 naming the field."""
    try:
        if len(body) > 256 * 1024:
            return await run_in_threadpool(model.model_validate_json, body)
        return model.model_validate_json(body)
    except ValidationError as err:
        raise GatewayError(
            400, validation_message(err.errors()), "invalid_request", param=_loc(err.errors())
        ) from None


def _loc(errors: list[dict]) -> str | None:
    loc = errors[0].get("loc", ()) if errors else ()
    return ".".join(str(p) for p in loc if p != "body") or None


def validation_message(errors: list[dict]) -> str:
    first = errors[0] if errors else {"msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return f"request body is not valid JSON: {first.get('ctx', {}).get('error', first['msg'])}"
    where = _loc(errors)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where + ': ' if where else ''}{first['msg']}{more}"


def outcome_headers(outcome: Outcome) -> dict[str, str]:
    return {"X-Creative4u-Backend": outcome.backend, "Server-Timing": outcome.server_timing()}


# ---------------------------------------------------------------- routes


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    svc = service(request)
    return {
        "status": "ok",
        "version": __version__,
        "uptime_s": round(time.time() - svc.started, 1),
        "backends": svc.backend_status(),
        "default_backend": svc.config.default_backend,
    }


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    if request.app.state.config.metrics_require_auth:
        await authorize(request)
    m: GatewayMetrics = request.app.state.metrics
    return Response(m.render(), media_type=m.content_type)


@router.get("/v1/models")
async def list_models(request: Request, caller: str = Depends(authorize)) -> Response:
    return Response(ModelList(data=service(request).models()).model_dump_json(), media_type="application/json")


@router.get("/v1/models/{model_id:path}")
async def get_model(model_id: str, request: Request, caller: str = Depends(authorize)) -> Response:
    svc = service(request)
    svc.resolve_backend(model_id)  # 404 when unknown
    card = next(c for c in svc.models() if c.id == model_id or c.id.endswith(f"/{model_id}"))
    return Response(card.model_dump_json(), media_type="application/json")


@router.post("/v1/chat/completions")
async def chat_completions(request: Request, caller: str = Depends(authorize)) -> Response:
    media_type(request, ("application/json",))
    async with caller_slot(request, caller):
        req: ChatCompletionRequest = await parse_body(ChatCompletionRequest, await request.body())
        response, outcome = await service(request).chat(req)
    headers = outcome_headers(outcome)
    if req.stream:
        usage = bool(req.stream_options and req.stream_options.include_usage)
        headers["Cache-Control"] = "no-cache"
        return StreamingResponse(stream_chunks(response, usage), media_type="text/event-stream", headers=headers)
    return Response(response.model_dump_json(), media_type="application/json", headers=headers)


@router.post("/v1/creatives/select")
async def creatives_select(request: Request, caller: str = Depends(authorize)) -> JSONResponse:
    svc = service(request)
    async with caller_slot(request, caller):
        raws, fields = await read_images(request, SelectRequest)
        outcome = await svc.select(
            raws,
            fields.get("title", ""),
            split_queries(fields.get("queries", [])),
            fields.get("backend"),
            evidence=bool(fields.get("evidence", False)),
        )
    return JSONResponse({**outcome.result, "gateway": outcome.gateway_info()}, headers=outcome_headers(outcome))


@router.post("/v1/creatives/check")
async def creatives_check(request: Request, caller: str = Depends(authorize)) -> JSONResponse:
    async with caller_slot(request, caller):
        raws, fields = await read_images(request, CheckRequest)
        outcome = await service(request).check(raws, evidence=bool(fields.get("evidence", True)),
                                               title=fields.get("title", ""),
                                               queries=split_queries(fields.get("queries", [])))
    return JSONResponse({**outcome.result, "gateway": outcome.gateway_info()}, headers=outcome_headers(outcome))


async def read_images(request: Request, model: type[BaseModel]) -> tuple[list[RawImage], dict[str, Any]]:
    """Images and fields of a structured request, from a JSON body or a multipart upload."""
    kind = media_type(request, ("application/json", "multipart/form-data"))
    svc = service(request)
    if kind == "application/json":
        req = await parse_body(model, await request.body())
        fields = req.model_dump(exclude={"images"})
        return svc.raw_images(req.images), fields
    return await read_multipart(request, svc)


async def parse_form(request: Request, max_files: int, max_part_size: int) -> Any:
    """The multipart form of a request, within the limits; a form past them is a 400 that says which."""
    try:
        return await request.form(max_files=max_files, max_fields=16, max_part_size=max_part_size)
    except StarletteHTTPException as err:
        code = "too_many_images" if "files" in str(err.detail).lower() else "invalid_multipart"
        raise GatewayError(400, f"multipart upload rejected: {err.detail}", code) from None


async def read_multipart(request: Request, svc: CreativeService) -> tuple[list[RawImage], dict[str, Any]]:
    cfg = svc.config
    form = await parse_form(request, cfg.max_images, cfg.max_text_chars)
    raws, fields, queries = [], {}, []
    for key, value in form.multi_items():
        if key not in _FORM_FIELDS:
            raise GatewayError(
                400, f"unknown form field {key!r}; valid: {sorted(_FORM_FIELDS)}", "invalid_request", param=key
            )
        if isinstance(value, UploadFile):
            raws.append(await _read_upload(value, f"images[{len(raws)}]", cfg.max_image_bytes))
        elif key in ("queries", "query"):
            queries += split_queries(value)
        else:
            fields[key] = value.strip().lower() in ("1", "true", "yes", "on") if key == "evidence" else value
    await form.close()
    check_image_count(max(len(raws), 2), cfg.max_images)
    fields["queries"] = queries
    return raws, fields


async def _read_upload(upload: UploadFile, param: str, limit: int) -> RawImage:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise GatewayError(
            413, f"{upload.filename}: image over {limit} bytes", "image_too_large", "request_too_large", param
        )
    return RawImage(name=upload.filename or param, param=param, data=data)


# ---------------------------------------------------------------- the app


def _install_handlers(app: FastAPI, metrics: GatewayMetrics) -> None:
    async def on_gateway_error(request: Request, err: GatewayError) -> JSONResponse:
        metrics.error(err.code)
        return error_response(err)

    async def on_too_large(request: Request, err: BodyTooLarge) -> JSONResponse:
        return await on_gateway_error(request, GatewayError(413, str(err), "body_too_large", "request_too_large"))

    async def on_validation(request: Request, err: RequestValidationError) -> JSONResponse:
        return await on_gateway_error(
            request, GatewayError(400, validation_message(list(err.errors())), "invalid_request")
        )

    async def on_http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        type_, code = _HTTP_TYPES.get(err.status_code, ("invalid_request_error", "http_error"))
        return await on_gateway_error(request, GatewayError(err.status_code, str(err.detail), code, type_))

    async def on_crash(request: Request, err: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s", request.url.path)
        return await on_gateway_error(
            request, GatewayError(500, "internal server error", "internal_error", "server_error")
        )

    app.add_exception_handler(GatewayError, on_gateway_error)
    app.add_exception_handler(BodyTooLarge, on_too_large)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


def build_app(
    config: GatewayConfig, svc: CreativeService | None = None, extensions: Sequence[Callable[[FastAPI], None]] = ()
) -> FastAPI:
    """The FastAPI app for ``config`` (keys loaded now: a missing key file or no keys with auth on is an error).

    ``extensions`` are called with the app once its own routes are in (a wing adds its router and metrics so;
    the gateway never imports a wing).
    """
    config.validate()
    keys = ApiKeys.load(config.api_keys_file, config.api_keys_env)
    if config.require_auth and not len(keys):
        raise ValueError(
            f"require_auth is on but no API keys were found: set ${config.api_keys_env} or api_keys_file "
            "(or require_auth=false for a local, private run)"
        )
    metrics = svc.metrics if svc else GatewayMetrics()
    svc = svc or CreativeService(config, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if config.warmup:  # /health answers only after this: a ready replica has its models loaded
            logger.info("warm-up done in %.1f s", await svc.warmup())
        yield
        svc.close()

    app = FastAPI(title="creative4u gateway", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.config, app.state.service, app.state.metrics = config, svc, metrics
    app.state.keys, app.state.limiter = keys, ConcurrencyLimiter(config.max_concurrency_per_key)
    app.include_router(router)
    for extend in extensions:
        extend(app)
    _install_handlers(app, metrics)
    app.add_middleware(GatewayMiddleware, config=config, metrics=metrics)
    return app


def run_server(config: GatewayConfig, extensions: Sequence[Callable[[FastAPI], None]] = ()) -> None:
    """Serve ``config`` with uvicorn until interrupted (one process; scale out with replicas)."""
    import uvicorn

    app = build_app(config, extensions=extensions)
    if not config.require_auth and config.host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning(
            "require_auth is off and the gateway listens on %s: anyone who can reach it can use it", config.host
        )
    logger.info(
        "creative4u gateway on http://%s:%d (backends: %s)", config.host, config.port, ", ".join(config.backends)
    )
    uvicorn.run(app, host=config.host, port=config.port, log_level=config.log_level, timeout_keep_alive=10)


class GatewayProcess:
    """``creative4u serve`` in a child process on a free port, for tests and benchmarks.

    >>> GatewayProcess("serve/gateway.yaml", port=8123).base_url
    'http://127.0.0.1:8123'

    ``with GatewayProcess(config_file, env={"CREATIVE4U_API_KEYS": key}) as gw:`` starts it, waits until
    ``/health`` answers (or raises with the server's log) and stops it (SIGTERM) on exit.
    """

    def __init__(
        self, config: str | None, port: int | None = None, env: dict[str, str] | None = None,
        overrides: list[str] | None = None, log_path: str | None = None,
    ) -> None:  # fmt: skip
        self.config, self.port = config, port or free_port()
        self.env, self.overrides, self.log_path = env or {}, overrides or [], log_path
        self.proc: Any = None
        self.base_url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 240.0) -> GatewayProcess:
        import os
        import subprocess
        import sys
        import tempfile

        cmd = [sys.executable, "-m", "creative4u", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--config", self.config] if self.config else []
        for item in self.overrides:
            cmd += ["--set", item]
        self.log_path = self.log_path or tempfile.mkstemp(prefix="c4u-gateway-", suffix=".log")[1]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - kept open for the child's lifetime
        env = {**os.environ, "ORT_DISABLE_TELEMETRY": "1", **self.env}
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"gateway not ready within {timeout:g} s:\n{self.log()}")

    def log(self) -> str:
        from pathlib import Path

        return Path(self.log_path).read_text(errors="replace")[-4000:] if self.log_path else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except Exception:  # noqa: BLE001 - a child that ignores SIGTERM is killed
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free right now on ``host``."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]

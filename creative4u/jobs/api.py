"""The jobs API on the gateway: ``POST /v1/jobs`` (202), ``GET /v1/jobs/{id}``, ``GET /v1/jobs``, ``DELETE``.

>>> from fastapi import FastAPI
>>> from creative4u.jobs.settings import JobsConfig
>>> from creative4u.jobs.store import JobStore
>>> ext = JobsExtension(JobStore("sqlite://"), JobsConfig(store="sqlite://"))
>>> sorted(r.path for r in ext.router.routes)
['/v1/jobs', '/v1/jobs', '/v1/jobs/{job_id}', '/v1/jobs/{job_id}', '/v1/jobs/{job_id}/replay']

Attach it with ``build_app(config, extensions=[JobsExtension(store, jobs_config)])`` (``creative4u jobs serve``
does): the gateway itself never imports this wing. Errors are the gateway's OpenAI-style JSON
(:class:`creative4u.serve.protocol.GatewayError`); the same API keys guard these routes, and each key is bound to
one client (:meth:`~creative4u.jobs.settings.JobsConfig.key_client`: ``key_clients``, a label naming a client, or
an ``admin_keys`` label for all): submitting for another client is a 403, another client's job is a 404, as if it
did not exist. Without auth (``require_auth: false``, local use) every caller sees every client. ``POST`` takes a
JSON body or a multipart upload (files under ``images`` plus the same fields). ``/metrics`` gains the
queue depth, jobs per status, job latency, and webhook attempts and failures, read from the store at scrape time
(so they are right with any number of gateway replicas and workers).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from pydantic import Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from creative4u.jobs.service import JobInputError, event_body, job_view, prepare_job, summary_view
from creative4u.jobs.settings import JobsConfig, KeyNotBoundError
from creative4u.jobs.store import ACTIVE, FINAL, IdempotencyConflict, Job, JobStore
from creative4u.serve.api_server import authorize, media_type, parse_body, parse_form, validation_message
from creative4u.serve.protocol import GatewayError, ImagePayload, StrictBase, decode_base64, split_queries
from creative4u.serve.serving import RawImage

STATUSES = (*ACTIVE, *FINAL)
_FORM_FIELDS = {"images", "kind", "title", "queries", "query", "client", "callback_url", "evidence", "idempotency_key"}
_TRUE = ("1", "true", "yes", "on")


class JobFields(StrictBase):
    """The fields of ``POST /v1/jobs`` other than the images (a multipart upload sends these as form fields)."""

    kind: Literal["check", "select"] = "check"
    title: str = ""
    queries: list[str] | str = Field(default_factory=list)
    client: str | None = Field(default=None, max_length=200)
    callback_url: str | None = Field(default=None, max_length=2000)
    evidence: bool | None = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


class JobRequest(JobFields):
    """The JSON body of ``POST /v1/jobs``."""

    images: list[ImagePayload | str] = Field(min_length=1)


class JobsCollector:
    """Prometheus collector reading the store at scrape time."""

    def __init__(self, store: JobStore) -> None:
        self.store = store

    def collect(self) -> Any:
        st = self.store.stats()
        by_status = GaugeMetricFamily("creative4u_jobs", "Jobs in the store by status.", labels=["status"])
        for status in STATUSES:
            by_status.add_metric([status], st["jobs"].get(status, 0))
        yield by_status
        yield GaugeMetricFamily("creative4u_jobs_queue_depth", "Jobs waiting for a worker.",
                                value=st["jobs"].get("queued", 0))  # fmt: skip
        yield SummaryMetricFamily("creative4u_job_latency_seconds", "Submission to result, finished jobs.",
                                  count_value=st["done_count"], sum_value=st["done_latency_sum"])  # fmt: skip
        dl = GaugeMetricFamily("creative4u_webhook_deliveries", "Webhook events by status.", labels=["status"])
        for status in ("pending", "delivered", "failed", "disabled"):
            dl.add_metric([status], st["deliveries"].get(status, 0))
        yield dl
        yield CounterMetricFamily("creative4u_webhook_attempts", "Webhook HTTP attempts.", value=st["attempts"])
        yield CounterMetricFamily("creative4u_webhook_failed_attempts", "Webhook attempts without a 2xx.",
                                  value=st["failed_attempts"])  # fmt: skip


class JobsExtension:
    """The router, the metrics and the state the jobs routes need; call it with the app to attach."""

    def __init__(self, store: JobStore, config: JobsConfig) -> None:
        self.store, self.config = store, config
        self.router = self._routes()
        self.submitted: Any = None

    def __call__(self, app: FastAPI) -> None:
        app.include_router(self.router)
        registry = app.state.metrics.registry
        registry.register(JobsCollector(self.store))
        self.submitted = Counter("creative4u_jobs_submitted", "Job submissions by kind and outcome.",
                                 ["kind", "outcome"], registry=registry)  # fmt: skip

    def _count(self, kind: str, outcome: str) -> None:
        if self.submitted is not None:
            self.submitted.labels(kind, outcome).inc()

    # ------------------------------------------------------------------ routes

    def _routes(self) -> APIRouter:
        r = APIRouter()
        r.add_api_route("/v1/jobs", self.create, methods=["POST"])
        r.add_api_route("/v1/jobs", self.list, methods=["GET"])
        r.add_api_route("/v1/jobs/{job_id}", self.get, methods=["GET"])
        r.add_api_route("/v1/jobs/{job_id}", self.cancel, methods=["DELETE"])
        r.add_api_route("/v1/jobs/{job_id}/replay", self.replay, methods=["POST"])
        return r

    def _scope(self, request: Request, caller: str) -> str | None:
        """The one client this caller acts for; None: every client (an admin key, or no auth for local use)."""
        if not request.app.state.config.require_auth:
            return None
        try:
            return self.config.key_client(caller)
        except KeyNotBoundError as err:
            raise GatewayError(403, str(err), "key_not_bound", "permission_error") from None

    def _submitter(self, scope: str | None, req: JobFields) -> str | None:
        """The job's client: the key's own when the body names none; another client's is a 403."""
        if scope is None:
            return req.client
        if req.client is not None and req.client != scope:
            self._count(req.kind, "client_forbidden")
            raise GatewayError(403, f"this API key submits for client {scope!r} only, not {req.client!r}",
                               "client_forbidden", "permission_error", param="client")  # fmt: skip
        return scope

    async def _owned(self, job_id: str, scope: str | None) -> Job:
        """The job, or the same 404 whether it does not exist or belongs to a client this key cannot see."""
        job = await run_in_threadpool(self.store.get, job_id)
        if job is None or (scope is not None and job.client != scope):
            raise GatewayError(404, f"no job {job_id!r}", "job_not_found", "not_found_error", "job_id")
        return job

    async def create(self, request: Request, caller: str = Depends(authorize)) -> JSONResponse:
        scope = self._scope(request, caller)
        req: JobFields
        if media_type(request, ("application/json", "multipart/form-data")) == "application/json":
            body: JobRequest = await parse_body(JobRequest, await request.body())
            client = self._submitter(scope, body)  # before fetching any remote image
            req, images = body, await self._images(request, body)
        else:
            req, images = await self._form(request)
            client = self._submitter(scope, req)
        key = request.headers.get("idempotency-key") or req.idempotency_key
        if req.idempotency_key and key != req.idempotency_key:
            raise GatewayError(400, "the Idempotency-Key header and the idempotency_key field differ",
                               "invalid_request", param="idempotency_key")  # fmt: skip
        try:
            new = await run_in_threadpool(
                prepare_job, self.config, req.kind, images, client=client, title=req.title,
                queries=split_queries(req.queries), callback_url=req.callback_url, evidence=req.evidence,
                idempotency_key=key,
            )  # fmt: skip
            job, created = await run_in_threadpool(self.store.submit, new)
        except JobInputError as err:
            self._count(req.kind, err.code)
            raise GatewayError(err.status, err.message, err.code, param=err.param) from None
        except IdempotencyConflict as err:
            self._count(req.kind, "idempotency_conflict")
            raise GatewayError(409, str(err), "idempotency_key_reused", param="idempotency_key") from None
        self._count(req.kind, "created" if created else "replayed")
        view = await run_in_threadpool(job_view, self.store, job, False)
        headers = {"Location": f"/v1/jobs/{job.id}"}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(view, status_code=202 if created else 200, headers=headers)

    async def _images(self, request: Request, req: JobRequest) -> list[tuple[str, bytes]]:
        """Decode data URLs and fetch allowed remote URLs (through the gateway's own checks) into bytes."""
        if len(req.images) > self.config.max_images:
            raise GatewayError(400, f"too many images: {len(req.images)} > limit {self.config.max_images} per job",
                               "too_many_images", param="images")  # fmt: skip
        raws = []
        for i, item in enumerate(req.images):
            param = f"images[{i}]"
            payload = ImagePayload(data=item) if isinstance(item, str) else item
            if (payload.data is None) == (payload.url is None):
                raise GatewayError(400, f"{param}: give exactly one of 'data' and 'url'", "invalid_image", param=param)
            raws.append(RawImage(payload.name or f"image_{i + 1}", param, encoded=payload.data, url=payload.url))
        await request.app.state.service.fetch_remote(raws)
        limit = self.config.max_image_bytes
        return [(r.name, r.data if r.data is not None else decode_base64(r.encoded or "", r.name, r.param, limit))
                for r in raws]  # fmt: skip

    async def _form(self, request: Request) -> tuple[JobFields, list[tuple[str, bytes]]]:
        """A multipart submission: files under ``images``, the other fields as form fields (the synchronous
        endpoint's limits and error codes); data URLs and URLs go in a JSON body."""
        cfg = self.config
        form = await parse_form(request, cfg.max_images, cfg.max_text_chars)
        images: list[tuple[str, bytes]] = []
        fields: dict[str, Any] = {}
        queries: list[str] = []
        try:
            for key, value in form.multi_items():
                if key not in _FORM_FIELDS:
                    raise GatewayError(400, f"unknown form field {key!r}; valid: {sorted(_FORM_FIELDS)}",
                                       "invalid_request", param=key)  # fmt: skip
                if (key == "images") != isinstance(value, UploadFile):
                    msg = ("images: upload files here; data URLs and URLs go in a JSON body" if key == "images"
                           else f"{key}: a form field, not a file (files go under 'images')")  # fmt: skip
                    raise GatewayError(400, msg, "invalid_request", param=key)
                if isinstance(value, UploadFile):
                    images.append(await self._upload(value, len(images)))
                elif key in ("queries", "query"):
                    queries += split_queries(value)
                else:
                    fields[key] = value.strip().lower() in _TRUE if key == "evidence" else value
        finally:
            await form.close()
        try:
            return JobFields.model_validate({**fields, "queries": queries}), images
        except ValidationError as err:
            loc = err.errors()[0].get("loc", ()) if err.errors() else ()
            param = ".".join(str(p) for p in loc) or None
            raise GatewayError(400, validation_message(err.errors()), "invalid_request", param=param) from None

    async def _upload(self, upload: UploadFile, i: int) -> tuple[str, bytes]:
        limit, param = self.config.max_image_bytes, f"images[{i}]"
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise GatewayError(413, f"{param}: {upload.filename}: image over {limit} bytes", "image_too_large",
                               "request_too_large", param)  # fmt: skip
        return upload.filename or f"image_{i + 1}", data

    async def get(self, request: Request, job_id: str, caller: str = Depends(authorize)) -> JSONResponse:
        job = await self._owned(job_id, self._scope(request, caller))
        return JSONResponse(await run_in_threadpool(job_view, self.store, job))

    async def list(
        self, request: Request, client: str | None = None, status: str | None = None,
        limit: int = Query(20, ge=1, le=200), after: str | None = None, caller: str = Depends(authorize),
    ) -> JSONResponse:  # fmt: skip
        if status is not None and status not in STATUSES:
            raise GatewayError(400, f"status must be one of {', '.join(STATUSES)}", "invalid_request", param="status")
        scope = self._scope(request, caller)
        if scope is not None:
            if client is not None and client != scope:  # the same answer whether that client exists or not
                raise GatewayError(404, f"no client {client!r} for this API key", "client_not_found",
                                   "not_found_error", "client")  # fmt: skip
            client = scope
            if after is not None:
                ref = await run_in_threadpool(self.store.get, after)
                if ref is None or ref.client != scope:
                    raise GatewayError(400, f"no job {after!r} to page after", "invalid_request", param="after")
        try:
            found, more = await run_in_threadpool(self.store.list_jobs, client, status, limit, after)
        except KeyError as err:
            raise GatewayError(400, str(err.args[0]), "invalid_request", param="after") from None
        data = [summary_view(j) for j in found]
        return JSONResponse({"object": "list", "data": data, "has_more": more,
                             "last_id": data[-1]["id"] if data else None})  # fmt: skip

    async def cancel(self, request: Request, job_id: str, caller: str = Depends(authorize)) -> JSONResponse:
        before = await self._owned(job_id, self._scope(request, caller))
        if before.status not in ACTIVE:
            raise GatewayError(409, f"job {job_id} is already {before.status}; only queued or running jobs cancel",
                               "job_finished", param="job_id")  # fmt: skip
        job = await run_in_threadpool(self.store.cancel, job_id, event_body)
        return JSONResponse(await run_in_threadpool(job_view, self.store, job))

    async def replay(
        self, request: Request, job_id: str, delivery_id: str | None = None, caller: str = Depends(authorize)
    ) -> Any:
        await self._owned(job_id, self._scope(request, caller))
        ids = await run_in_threadpool(self.store.replay, job_id, delivery_id)
        return {"object": "replay", "job_id": job_id, "deliveries": ids}

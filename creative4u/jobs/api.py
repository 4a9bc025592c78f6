"""The jobs API on the gateway: ``POST /v1/jobs`` (202), ``GET /v1/jobs/{id}``, ``GET /v1/jobs``, ``DELETE``.

>>> from fastapi import FastAPI
>>> from creative4u.jobs.settings import JobsConfig
>>> from creative4u.jobs.store import JobStore
>>> ext = JobsExtension(JobStore("sqlite://"), JobsConfig(store="sqlite://"))
>>> sorted(r.path for r in ext.router.routes)
['/v1/jobs', '/v1/jobs', '/v1/jobs/{job_id}', '/v1/jobs/{job_id}', '/v1/jobs/{job_id}/replay']

Attach it with ``build_app(config, extensions=[JobsExtension(store, jobs_config)])`` (``creative4u jobs serve``
does): the gateway itself never imports this wing. Errors are the gateway's OpenAI-style JSON
(:class:`creative4u.serve.protocol.GatewayError`); the same API keys guard these routes. ``/metrics`` gains the
queue depth, jobs per status, job latency, and webhook attempts and failures, read from the store at scrape time
(so they are right with any number of gateway replicas and workers).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from creative4u.jobs.service import JobInputError, event_body, job_view, prepare_job, summary_view
from creative4u.jobs.settings import JobsConfig
from creative4u.jobs.store import ACTIVE, FINAL, IdempotencyConflict, JobStore
from creative4u.serve.api_server import authorize, media_type, parse_body
from creative4u.serve.protocol import GatewayError, ImagePayload, StrictBase, decode_base64, split_queries
from creative4u.serve.serving import RawImage

STATUSES = (*ACTIVE, *FINAL)


class JobRequest(StrictBase):
    """The body of ``POST /v1/jobs``."""

    kind: Literal["check", "select"] = "check"
    images: list[ImagePayload | str] = Field(min_length=1)
    title: str = ""
    queries: list[str] | str = Field(default_factory=list)
    client: str | None = Field(default=None, max_length=200)
    callback_url: str | None = Field(default=None, max_length=2000)
    evidence: bool | None = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


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

    async def create(self, request: Request, caller: str = Depends(authorize)) -> JSONResponse:
        media_type(request, ("application/json",))
        req: JobRequest = await parse_body(JobRequest, await request.body())
        key = request.headers.get("idempotency-key") or req.idempotency_key
        if req.idempotency_key and key != req.idempotency_key:
            raise GatewayError(400, "the Idempotency-Key header and the idempotency_key field differ",
                               "invalid_request", param="idempotency_key")  # fmt: skip
        images = await self._images(request, req)
        try:
            new = await run_in_threadpool(
                prepare_job, self.config, req.kind, images, client=req.client, title=req.title,
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

    async def get(self, job_id: str, caller: str = Depends(authorize)) -> JSONResponse:
        job = await run_in_threadpool(self.store.get, job_id)
        if job is None:
            raise GatewayError(404, f"no job {job_id!r}", "job_not_found", "not_found_error", "job_id")
        return JSONResponse(await run_in_threadpool(job_view, self.store, job))

    async def list(
        self, client: str | None = None, status: str | None = None, limit: int = Query(20, ge=1, le=200),
        after: str | None = None, caller: str = Depends(authorize),
    ) -> JSONResponse:  # fmt: skip
        if status is not None and status not in STATUSES:
            raise GatewayError(400, f"status must be one of {', '.join(STATUSES)}", "invalid_request", param="status")
        try:
            found, more = await run_in_threadpool(self.store.list_jobs, client, status, limit, after)
        except KeyError as err:
            raise GatewayError(400, str(err.args[0]), "invalid_request", param="after") from None
        data = [summary_view(j) for j in found]
        return JSONResponse({"object": "list", "data": data, "has_more": more,
                             "last_id": data[-1]["id"] if data else None})  # fmt: skip

    async def cancel(self, job_id: str, caller: str = Depends(authorize)) -> JSONResponse:
        before = await run_in_threadpool(self.store.get, job_id)
        if before is None:
            raise GatewayError(404, f"no job {job_id!r}", "job_not_found", "not_found_error", "job_id")
        if before.status not in ACTIVE:
            raise GatewayError(409, f"job {job_id} is already {before.status}; only queued or running jobs cancel",
                               "job_finished", param="job_id")  # fmt: skip
        job = await run_in_threadpool(self.store.cancel, job_id, event_body)
        return JSONResponse(await run_in_threadpool(job_view, self.store, job))

    async def replay(self, job_id: str, delivery_id: str | None = None, caller: str = Depends(authorize)) -> Any:
        if await run_in_threadpool(self.store.get, job_id) is None:
            raise GatewayError(404, f"no job {job_id!r}", "job_not_found", "not_found_error", "job_id")
        ids = await run_in_threadpool(self.store.replay, job_id, delivery_id)
        return {"object": "replay", "job_id": job_id, "deliveries": ids}

"""What the API and the CLI share: validate a submission, build a client's pipeline, show a job, its webhook body.

>>> from creative4u.jobs.settings import JobsConfig
>>> cfg = JobsConfig(store="sqlite://")
>>> prepare_job(cfg, "check", [("a.png", b"not an image")])
Traceback (most recent call last):
...
creative4u.jobs.service.JobInputError: images[0]: a.png: not an image (unrecognised file signature)
>>> client_profile(cfg, "default").name
'default'

A submission is checked completely before anything is written: the client exists, 1..``max_images`` images (2+
for ``select``), every image decodes within the byte and pixel limits, the callback URL is allowed and the client
can sign. :class:`JobInputError` carries the HTTP status and error code the gateway replies with.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from creative4u.checks.profile import CheckProfile, load_profile
from creative4u.images import ImageLoadError, load_image
from creative4u.jobs.settings import JobsConfig, UnknownClientError
from creative4u.jobs.store import Job, JobStore, NewJob
from creative4u.jobs.webhooks import CallbackURLError, check_callback_url

KINDS = ("check", "select")
_LIMIT_REASONS = ("file too large", "too many pixels", "image too large to decode")


class JobInputError(ValueError):
    """A submission refused before anything is stored: HTTP status, error code, the field at fault."""

    def __init__(self, message: str, code: str = "invalid_request", status: int = 400, param: str | None = None):
        super().__init__(message)
        self.message, self.code, self.status, self.param = message, code, status, param


def prepare_job(
    cfg: JobsConfig, kind: str, images: Sequence[tuple[str, bytes]], *, client: str | None = None,
    title: str = "", queries: Sequence[str] = (), callback_url: str | None = None, evidence: bool | None = None,
    idempotency_key: str | None = None,
) -> NewJob:  # fmt: skip
    """Check everything about a submission; returns the :class:`NewJob` to store or raises :class:`JobInputError`."""
    if kind not in KINDS:
        raise JobInputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", param="kind")
    try:
        client_id = cfg.client_id(client)
    except UnknownClientError as err:
        raise JobInputError(str(err), "unknown_client", 400, "client") from None
    settings = cfg.client(client_id)
    least = 2 if kind == "select" else 1
    if not least <= len(images) <= cfg.max_images:
        raise JobInputError(f"a {kind} job takes {least}..{cfg.max_images} images, got {len(images)}",
                            "too_many_images" if len(images) > cfg.max_images else "too_few_images",
                            param="images")  # fmt: skip
    if len(title) + sum(len(q) for q in queries) > cfg.max_text_chars:
        raise JobInputError(f"title and queries over {cfg.max_text_chars} characters", "text_too_long", param="title")
    for i, (name, data) in enumerate(images):
        _check_image(cfg, i, name, data)
    if callback_url is not None:
        try:
            check_callback_url(callback_url, settings, cfg.webhooks)
        except CallbackURLError as err:
            raise JobInputError(str(err), "invalid_callback_url", param="callback_url") from None
        if not settings.secrets():
            raise JobInputError(f"client {client_id!r} has no webhook secret configured, so it cannot take a "
                                "callback_url", "invalid_callback_url", param="callback_url")  # fmt: skip
    if evidence is None:  # the synchronous endpoints' defaults: evidence for check, none for select
        evidence = settings.evidence if kind == "check" else False
    params = {"title": title, "queries": list(queries), "evidence": bool(evidence)}
    return NewJob(client_id, kind, list(images), params, callback_url, idempotency_key or None)


def _check_image(cfg: JobsConfig, i: int, name: str, data: bytes) -> None:
    param = f"images[{i}]"
    if len(data) > cfg.max_image_bytes:
        raise JobInputError(f"{param}: {name}: image over {cfg.max_image_bytes} bytes ({len(data)})",
                            "image_too_large", 413, param)  # fmt: skip
    try:
        load_image(data, name=name, max_bytes=cfg.max_image_bytes, max_pixels=cfg.max_image_pixels)
    except ImageLoadError as err:
        if err.reason.startswith(_LIMIT_REASONS):
            raise JobInputError(f"{param}: {err}", "image_too_large", 413, param) from None
        raise JobInputError(f"{param}: {err}", "invalid_image", 400, param) from None


def client_profile(cfg: JobsConfig, client: str) -> CheckProfile:
    """The client's check profile with its threshold overrides applied (unknown check names are an error)."""
    settings = cfg.client(client)
    profile = load_profile(settings.profile)
    if not settings.thresholds:
        return profile
    for check, threshold in settings.thresholds.items():
        if check not in profile.checks:
            raise ValueError(f"clients.{client}.thresholds: profile {profile.name!r} has no check {check!r}; "
                             f"its checks: {', '.join(sorted(profile.checks))}")  # fmt: skip
        # An explicit client threshold wins over any operating point of the profile (its own or profile-wide).
        profile.checks[check].threshold = float(threshold)
        profile.checks[check].operating_point, profile.checks[check].operating_points = None, {}
    profile.name = f"{profile.name}+{client}"  # results say that this client's thresholds applied
    return profile


def build_pipeline(cfg: JobsConfig, client: str) -> Any:
    """A :class:`creative4u.pipeline.Pipeline` with the client's profile, thresholds and judge."""
    from creative4u.pipeline import Pipeline, PipelineConfig

    s = cfg.client(client)
    pcfg = PipelineConfig(
        profile=client_profile(cfg, client),  # type: ignore[arg-type]  # CheckSuite takes a profile object too
        backend=s.backend, backend_options=dict(s.backend_options), strategy=s.strategy, cache_dir=cfg.cache_dir,
        max_bytes=cfg.max_image_bytes, max_pixels=cfg.max_image_pixels,
    )  # fmt: skip
    return Pipeline(pcfg)


def job_view(store: JobStore, job: Job, deliveries: bool = True) -> dict[str, Any]:
    """The JSON of ``GET /v1/jobs/{id}``: status, per-image progress, the result when done, webhook attempts."""
    done = store.results(job.id) if job.status not in ("done",) else {}
    names = store.image_names(job.id)
    n_done = len(names) if job.status == "done" else len(done)
    out: dict[str, Any] = {
        "id": job.id, "object": "job", "kind": job.kind, "client": job.client, "status": job.status,
        "created_at": job.created_at, "started_at": job.started_at, "finished_at": job.finished_at,
        "progress": {"total": job.n_images, "done": n_done},
        "images": [{"index": i, "name": n, "done": job.status == "done" or i in done} for i, n in enumerate(names)],
        "title": job.params.get("title", ""), "queries": job.params.get("queries", []),
        "callback_url": job.callback_url, "idempotency_key": job.idempotency_key, "claims": job.claims,
        "result": job.result, "error": job.error,
    }  # fmt: skip
    if deliveries:
        out["deliveries"] = store.deliveries_of(job.id)
    return out


def summary_view(job: Job) -> dict[str, Any]:
    """A job in a list: no result body, no images."""
    return {"id": job.id, "object": "job", "kind": job.kind, "client": job.client, "status": job.status,
            "n_images": job.n_images, "created_at": job.created_at, "finished_at": job.finished_at,
            "error": job.error}  # fmt: skip


def event_body(job: Job, result: dict[str, Any] | None = None) -> tuple[str, str] | None:
    """The webhook ``(event, body)`` for a finished job (Standard Webhooks shape: type, timestamp, data)."""
    if not job.callback_url:
        return None
    event = {"done": "job.completed", "failed": "job.failed", "cancelled": "job.cancelled"}[job.status]
    data = {"id": job.id, "object": "job", "kind": job.kind, "client": job.client, "status": job.status,
            "result": result if result is not None else job.result, "error": job.error}  # fmt: skip
    payload = {"type": event, "timestamp": datetime.now(UTC).isoformat(), "data": data}
    return event, json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)

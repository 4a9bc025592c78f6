"""A worker: claim a job with a lease, screen its images one by one (each result stored as it finishes), finish.

>>> import io
>>> from PIL import Image
>>> from creative4u.jobs.settings import JobsConfig
>>> from creative4u.jobs.store import JobStore, NewJob
>>> buf = io.BytesIO(); Image.new("RGB", (48, 48), "teal").save(buf, "PNG")
>>> store = JobStore("sqlite://")
>>> job, _ = store.submit(NewJob("default", "check", [("teal.png", buf.getvalue())], {"evidence": False}))
>>> worker = Worker(store, JobsConfig(store="sqlite://"), worker_id="doc")
>>> worker.run_once(), store.get(job.id).status, store.get(job.id).result["images"][0]["name"]
(True, 'done', 'teal.png')

Crash safety: the lease is renewed by a heartbeat thread while the job runs; a worker that dies stops renewing,
the lease runs out and another worker claims the job and screens only the images without a stored result (the
primary key (job, image) keeps exactly one result per image even when two workers race). The final result is
the same JSON as :meth:`creative4u.pipeline.Pipeline.check` / ``select`` on the same images. A job that kills
every worker it meets is marked failed after ``max_claims`` claims.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from creative4u.checks.base import CheckReport, RequestContext
from creative4u.checks.suite import ImageScreen
from creative4u.images import load_image
from creative4u.jobs.service import build_pipeline, event_body
from creative4u.jobs.settings import JobsConfig
from creative4u.jobs.store import Job, JobStore
from creative4u.jobs.webhooks import Deliverer

logger = logging.getLogger("creative4u.jobs")


class LeaseLost(Exception):
    """The job was cancelled or re-claimed by another worker: stop working on it."""


def screen_from_dict(data: dict[str, Any]) -> ImageScreen:
    """Rebuild an :class:`ImageScreen` from its stored ``to_dict(evidence=True)`` form."""
    reports = {name: CheckReport.from_dict(r) for name, r in data["checks"].items()}
    keep = ("name", "sha256", "approved", "vetoed", "reasons", "flagged", "unavailable", "errors")
    return ImageScreen(size=tuple(data["size"]), reports=reports, **{k: data[k] for k in keep})


class _Heartbeat:
    """Renews the lease every third of its length in a thread; ``lost`` is set when renewal fails."""

    def __init__(self, store: JobStore, job_id: str, worker: str, lease_s: float) -> None:
        self.store, self.job_id, self.worker, self.lease_s = store, job_id, worker, lease_s
        self.lost, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job_id}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                if not self.store.renew(self.job_id, self.worker, self.lease_s):
                    self.lost.set()
                    return
            except Exception:  # noqa: BLE001 - a store hiccup: keep trying until the lease would run out
                logger.exception("lease renewal of %s failed", self.job_id)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class Worker:
    """Processes jobs from ``store`` until stopped; also delivers due webhooks between jobs."""

    def __init__(
        self, store: JobStore, config: JobsConfig, worker_id: str | None = None, deliverer: Deliverer | None = None
    ) -> None:
        self.store, self.config = store, config
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"
        self._pipelines: dict[str, Any] = {}
        self.deliverer = deliverer or Deliverer(store, config.webhooks, self._secrets, self.id)
        self.stopping = threading.Event()

    def _secrets(self, client: str) -> list[str]:
        return self.config.clients[client].secrets() if client in self.config.clients else []

    def pipeline(self, client: str) -> Any:
        if client not in self._pipelines:
            self._pipelines[client] = build_pipeline(self.config, client)
        return self._pipelines[client]

    # ------------------------------------------------------------------ loop

    def run(self, max_jobs: int | None = None, idle_exit_s: float | None = None) -> int:
        """Work until :attr:`stopping` is set, ``max_jobs`` are done, or the queue stayed empty ``idle_exit_s``."""
        done, idle_since = 0, time.monotonic()
        while not self.stopping.is_set():
            worked = self.run_once()
            delivered = self.deliverer.deliver_due()
            if worked:
                done += 1
                if max_jobs is not None and done >= max_jobs:
                    break
            if worked or delivered:
                idle_since = time.monotonic()
                continue
            if idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                break
            self.stopping.wait(self.config.poll_s)
        return done

    def run_once(self) -> bool:
        """Claim and process one job; False when none is waiting."""
        self.store.fail_exhausted(self.config.max_claims, event_body)
        job = self.store.claim(self.id, self.config.lease_s)
        if job is None:
            return False
        logger.info("%s: claimed %s (%s, %d images, claim %d)", self.id, job.id, job.kind, job.n_images, job.claims)
        try:
            with _Heartbeat(self.store, job.id, self.id, self.config.lease_s) as beat:
                self.process(job, beat)
        except LeaseLost:
            logger.info("%s: %s was cancelled or taken over; stopped", self.id, job.id)
        self.deliverer.deliver_due()
        return True

    # ------------------------------------------------------------------ one job

    def process(self, job: Job, beat: _Heartbeat | None = None) -> None:
        """Screen the images still without a result, then compute and store the final result."""
        start = time.perf_counter()
        try:
            pipe = self.pipeline(job.client)
            have = self.store.results(job.id)
            todo = [i for i in range(job.n_images) if i not in have]
            # every image is screened against the job's request and its other candidates (the `similar` check),
            # exactly as the synchronous pipeline does; so the peers are loaded even when few images remain
            images = self._load_all(job) if todo else []
            context = RequestContext(job.params.get("title", ""), tuple(job.params.get("queries", [])))
            for idx in todo:
                if beat is not None and beat.lost.is_set():
                    raise LeaseLost(job.id)
                screen = pipe.suite.screen(images[idx], context, images)
                self.store.record_image(job.id, idx, self.id, screen.to_dict(evidence=True))
            if beat is not None and beat.lost.is_set():
                raise LeaseLost(job.id)
            result = self._final(job, pipe, start)
            status, error = "done", None
        except LeaseLost:
            raise
        except Exception as err:  # noqa: BLE001 - a job that cannot finish fails with its reason, the worker goes on
            logger.exception("%s: job %s failed", self.id, job.id)
            result, status, error = None, "failed", f"{type(err).__name__}: {err}"
        closed = Job(**{**job.__dict__, "status": status, "error": error})
        if not self.store.finish(job.id, self.id, status, result, error, event_body(closed, result)):
            raise LeaseLost(job.id)

    def _load_all(self, job: Job) -> list[Any]:
        return [load_image(data, name=name, max_bytes=self.config.max_image_bytes,
                           max_pixels=self.config.max_image_pixels)
                for _, name, data in self.store.images(job.id)]  # fmt: skip

    def _final(self, job: Job, pipe: Any, start: float) -> dict[str, Any]:
        """The synchronous pipeline's JSON, from the stored per-image screens."""
        evidence = bool(job.params.get("evidence", job.kind == "check"))
        stored = self.store.results(job.id)
        screens = [screen_from_dict(stored[i]) for i in range(job.n_images)]
        if job.kind == "check":
            return {"profile": pipe.suite.profile.name, "images": [s.to_dict(evidence=evidence) for s in screens],
                    "errors": [], "elapsed_ms": round((time.perf_counter() - start) * 1000, 1)}  # fmt: skip
        # the judge needs the pixels and the screens; the screens come from the store, not a second run
        result = pipe.select_screened(self._load_all(job), screens, job.params.get("title", ""),
                                      job.params.get("queries", []), evidence)  # fmt: skip
        result["elapsed_ms"] = round((time.perf_counter() - start) * 1000, 1)
        return result

    def close(self) -> None:
        self.deliverer.close()

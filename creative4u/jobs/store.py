"""The durable job store: one schema (SQLAlchemy 2 Core) on SQLite (WAL, the embedded default) or PostgreSQL.

>>> store = JobStore("sqlite:///:memory:")
>>> job, created = store.submit(NewJob(client="default", kind="check", images=[("a.png", b"...")]))
>>> claimed = store.claim("w1", lease_s=30)
>>> claimed.id == job.id, claimed.status, store.record_image(job.id, 0, "w1", {"name": "a.png"})
(True, 'running', True)
>>> store.record_image(job.id, 0, "w2", {"name": "a.png"})  # one result per (job, image), whoever comes second
False

Tables: ``jobs`` (one row per job, its lease and final result), ``job_images`` (the submitted bytes),
``image_results`` (primary key (job, image index): a restarted job redoes only images without a row),
``deliveries`` (one row per webhook event, unique (job, event)), ``delivery_attempts`` (every HTTP attempt) and
``webhook_endpoints`` (a 410 disables a URL). A job and its images are written in one transaction, so a failed
submission leaves nothing behind. ``schema_version`` holds :data:`SCHEMA_VERSION`, checked on every open: a
database of another schema version is refused with :class:`SchemaVersionError` (unaltered) rather than misread.

Claiming: PostgreSQL picks a row with ``SELECT ... FOR UPDATE SKIP LOCKED`` (workers never wait on each other);
SQLite serialises writers, and the claim is one conditional ``UPDATE ... WHERE`` either way, so a row is only
taken when it is still queued or its lease has run out.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

SCHEMA_VERSION = 1  # bump with any change to the tables below; an older database is then refused, not misread
ACTIVE = ("queued", "running")
FINAL = ("done", "failed", "cancelled")
metadata = MetaData()

jobs = Table(
    "jobs", metadata,
    Column("id", String(40), primary_key=True),
    Column("client", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("params", JSON, nullable=False),
    Column("callback_url", Text),
    Column("idempotency_key", String(200)),
    Column("request_hash", String(64)),
    Column("n_images", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("lease_owner", String(200)),
    Column("lease_expires_at", Float),
    Column("claims", Integer, nullable=False, default=0),
    Column("result", JSON),
    Column("error", Text),
    UniqueConstraint("client", "idempotency_key", name="uq_jobs_client_idempotency"),
    Index("ix_jobs_status_created", "status", "created_at"),
    Index("ix_jobs_client_created", "client", "created_at"),
)  # fmt: skip
job_images = Table(
    "job_images", metadata,
    Column("job_id", String(40), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("name", String(300), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
)  # fmt: skip
image_results = Table(
    "image_results", metadata,
    Column("job_id", String(40), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("result", JSON, nullable=False),
    Column("worker", String(200), nullable=False),
    Column("finished_at", Float, nullable=False),
)  # fmt: skip
deliveries = Table(
    "deliveries", metadata,
    Column("id", String(40), primary_key=True),  # the webhook-id header: receivers dedupe on it
    Column("job_id", String(40), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("event", String(40), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),  # the exact bytes signed and sent on every attempt
    Column("status", String(16), nullable=False),  # pending, delivered, failed, disabled
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
    Column("claimed_by", String(200)),
    Column("claimed_until", Float),
    Column("last_error", Text),
    UniqueConstraint("job_id", "event", name="uq_deliveries_job_event"),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)  # fmt: skip
delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(40), ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Float, nullable=False),
    Index("ix_attempts_delivery", "delivery_id"),
)  # fmt: skip
schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("created_at", Float, nullable=False),
)  # fmt: skip
webhook_endpoints = Table(
    "webhook_endpoints", metadata,
    Column("url", String(2000), primary_key=True),
    Column("disabled_at", Float),
    Column("reason", Text),
)  # fmt: skip


@dataclass
class NewJob:
    """A validated submission: what :meth:`JobStore.submit` writes in one transaction."""

    client: str
    kind: str
    images: list[tuple[str, bytes]]
    params: dict[str, Any] = field(default_factory=dict)
    callback_url: str | None = None
    idempotency_key: str | None = None

    def request_hash(self) -> str:
        """A digest of everything but the key: the same key with another body is refused."""
        h = hashlib.sha256(json.dumps([self.kind, self.params, self.callback_url], sort_keys=True).encode())
        for name, data in self.images:
            h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return h.hexdigest()


@dataclass
class Job:
    """One row of ``jobs`` (without images)."""

    id: str
    client: str
    kind: str
    status: str
    params: dict[str, Any]
    callback_url: str | None
    idempotency_key: str | None
    request_hash: str | None
    n_images: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    lease_owner: str | None
    lease_expires_at: float | None
    claims: int
    result: dict[str, Any] | None
    error: str | None


class SchemaVersionError(RuntimeError):
    """The database was made by another version of the job store's schema (or holds no job store at all)."""


class IdempotencyConflict(ValueError):
    """The same idempotency key was used for a different request by the same client."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"idempotency key {job.idempotency_key!r} was already used by job {job.id} with a different "
                         "request; use a new key for a new request")  # fmt: skip
        self.job = job


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer (API reads while workers write)
    cur.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; WAL keeps the file consistent
    cur.execute("PRAGMA busy_timeout=30000")  # wait for the write lock instead of failing with "locked"
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("c4u_write") else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys on every connection."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if memory:
            kwargs["poolclass"] = StaticPool  # one shared connection, or every checkout sees an empty database
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite defers BEGIN on its own; we issue it: IMMEDIATE (the write lock at once) for write transactions,
        # so read-then-write sequences (claim, finish) cannot interleave with another writer; plain for reads.
        event.listen(engine, "connect", lambda dbapi_conn, _r: setattr(dbapi_conn, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


class JobStore:
    """Every read and write of jobs, images, results and deliveries; safe to share between threads."""

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        if create:
            metadata.create_all(self.engine)
        try:
            self._check_schema()
        except Exception:
            self.engine.dispose()
            raise

    def _check_schema(self) -> None:
        where = self.engine.url.render_as_string(hide_password=True)
        if not inspect(self.engine).has_table("schema_version"):
            raise SchemaVersionError(f"{where} holds no creative4u job store (no schema_version table)")
        found = self._versions()
        if not found:  # a new store (or one made before versioning, which had this same schema): stamp it
            try:
                with self.tx() as conn:
                    conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, created_at=time.time()))
            except IntegrityError:  # another process stamped it first: read what it wrote
                pass
            found = self._versions()
        if found != [SCHEMA_VERSION]:
            raise SchemaVersionError(
                f"the job store at {where} has schema version {', '.join(map(str, found))}, but this creative4u "
                f"uses version {SCHEMA_VERSION}; open it with the creative4u that made it, or use a new store "
                "(drain its jobs first)"
            )

    def _versions(self) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(schema_version.c.version)).scalars())

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """A write transaction (on SQLite it holds the write lock from its first statement)."""
        with self.engine.connect() as conn:
            conn.execution_options(c4u_write=True)
            with conn.begin():
                yield conn

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ submission and reads

    def submit(self, new: NewJob, now: float | None = None) -> tuple[Job, bool]:
        """Write the job and all its images in one transaction: (job, True); a repeated key gives (first job, False).

        Raises :class:`IdempotencyConflict` when the key was used for a different request.
        """
        digest = new.request_hash()
        if new.idempotency_key:
            found = self._by_key(new.client, new.idempotency_key)
            if found:
                return self._same_request(found, digest), False
        job_id, now = new_id("job"), now or time.time()
        try:
            with self.tx() as conn:
                conn.execute(insert(jobs).values(
                    id=job_id, client=new.client, kind=new.kind, status="queued", params=new.params,
                    callback_url=new.callback_url, idempotency_key=new.idempotency_key, request_hash=digest,
                    n_images=len(new.images), created_at=now, claims=0,
                ))  # fmt: skip
                conn.execute(insert(job_images), [
                    {"job_id": job_id, "idx": i, "name": name, "data": data,
                     "sha256": hashlib.sha256(data).hexdigest()}
                    for i, (name, data) in enumerate(new.images)
                ])  # fmt: skip
        except IntegrityError:
            found = self._by_key(new.client, new.idempotency_key) if new.idempotency_key else None
            if found is None:
                raise
            return self._same_request(found, digest), False  # a concurrent submission with the same key won the race
        job = self.get(job_id)
        assert job is not None
        return job, True

    @staticmethod
    def _same_request(job: Job, digest: str) -> Job:
        if job.request_hash != digest:
            raise IdempotencyConflict(job)
        return job

    def _by_key(self, client: str, key: str) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.client == client, jobs.c.idempotency_key == key)).first()
        return Job(**row._mapping) if row else None

    def get(self, job_id: str) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return Job(**row._mapping) if row else None

    def list_jobs(
        self, client: str | None = None, status: str | None = None, limit: int = 20, before: str | None = None
    ) -> tuple[list[Job], bool]:
        """Newest first, ``limit`` at a time; ``before`` (a job id) continues after that job. Returns (jobs, more)."""
        q = select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit + 1)
        if client:
            q = q.where(jobs.c.client == client)
        if status:
            q = q.where(jobs.c.status == status)
        with self.engine.connect() as conn:
            if before:
                ref = conn.execute(select(jobs.c.created_at).where(jobs.c.id == before)).scalar()
                if ref is None:
                    raise KeyError(f"no job {before!r} to page after")
                q = q.where(or_(jobs.c.created_at < ref, and_(jobs.c.created_at == ref, jobs.c.id < before)))
            rows = conn.execute(q).all()
        return [Job(**r._mapping) for r in rows[:limit]], len(rows) > limit

    def image_names(self, job_id: str) -> list[str]:
        with self.engine.connect() as conn:
            q = select(job_images.c.name).where(job_images.c.job_id == job_id).order_by(job_images.c.idx)
            return list(conn.execute(q).scalars())

    def images(self, job_id: str, indices: Sequence[int] | None = None) -> Iterator[tuple[int, str, bytes]]:
        """(index, name, bytes) of the job's images, in order (only ``indices`` when given), one read each so no
        read stays open while the caller writes."""
        if indices is None:
            with self.engine.connect() as conn:
                q = select(job_images.c.idx).where(job_images.c.job_id == job_id).order_by(job_images.c.idx)
                indices = list(conn.execute(q).scalars())
        for idx in indices:
            with self.engine.connect() as conn:
                row = conn.execute(select(job_images.c.name, job_images.c.data)
                                   .where(job_images.c.job_id == job_id, job_images.c.idx == idx)).first()  # fmt: skip
            if row is not None:
                yield idx, row.name, bytes(row.data)

    def results(self, job_id: str) -> dict[int, dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(image_results.c.idx, image_results.c.result)
                                .where(image_results.c.job_id == job_id)).all()  # fmt: skip
        return {r.idx: r.result for r in rows}

    def result_workers(self, job_id: str) -> dict[int, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(image_results.c.idx, image_results.c.worker)
                                .where(image_results.c.job_id == job_id)).all()  # fmt: skip
        return {r.idx: r.worker for r in rows}

    def done_count(self, job_id: str) -> int:
        with self.engine.connect() as conn:
            q = select(func.count()).select_from(image_results).where(image_results.c.job_id == job_id)
            return int(conn.execute(q).scalar() or 0)

    # ------------------------------------------------------------------ workers

    def _any(self, table: Table, where: Any) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(table.c[next(iter(table.primary_key.columns)).name]).where(where).limit(1)) \
                .first() is not None  # fmt: skip

    def _claimable(self, now: float) -> Any:
        expired = and_(jobs.c.status == "running", jobs.c.lease_expires_at < now)
        return or_(jobs.c.status == "queued", expired)

    def claim(self, worker: str, lease_s: float, now: float | None = None) -> Job | None:
        """Take the oldest queued job (or one whose lease ran out) for ``lease_s`` seconds; None when idle."""
        now = now or time.time()
        if not self._any(jobs, self._claimable(now)):  # idle polls read only: no write lock taken
            return None
        with self.tx() as conn:
            pick = select(jobs.c.id).where(self._claimable(now)).order_by(jobs.c.created_at).limit(1)
            if self.is_postgres:
                pick = pick.with_for_update(skip_locked=True)
            job_id = conn.execute(pick).scalar()
            if job_id is None:
                return None
            taken = conn.execute(
                update(jobs).where(jobs.c.id == job_id, self._claimable(now)).values(
                    status="running", lease_owner=worker, lease_expires_at=now + lease_s,
                    claims=jobs.c.claims + 1, started_at=func.coalesce(jobs.c.started_at, now),
                )  # fmt: skip
            ).rowcount
        return self.get(job_id) if taken == 1 else None

    def renew(self, job_id: str, worker: str, lease_s: float) -> bool:
        """Extend the lease; False when the job is no longer ours (cancelled, or re-claimed after expiry)."""
        with self.tx() as conn:
            return conn.execute(
                update(jobs).where(jobs.c.id == job_id, jobs.c.lease_owner == worker, jobs.c.status == "running")
                .values(lease_expires_at=time.time() + lease_s)
            ).rowcount == 1  # fmt: skip

    def record_image(self, job_id: str, idx: int, worker: str, result: dict[str, Any]) -> bool:
        """Store one image's result; False (nothing written) when that image already has one."""
        try:
            with self.tx() as conn:
                conn.execute(insert(image_results).values(
                    job_id=job_id, idx=idx, result=result, worker=worker, finished_at=time.time()))
        except IntegrityError:
            return False
        return True

    def finish(
        self, job_id: str, worker: str, status: str, result: dict[str, Any] | None = None,
        error: str | None = None, webhook: tuple[str, str] | None = None,
    ) -> bool:  # fmt: skip
        """Close a job we hold; with ``webhook=(event, body)`` its delivery is queued in the same transaction."""
        now = time.time()
        with self.tx() as conn:
            done = conn.execute(
                update(jobs).where(jobs.c.id == job_id, jobs.c.lease_owner == worker, jobs.c.status == "running")
                .values(status=status, result=result, error=error, finished_at=now, lease_expires_at=None)
            ).rowcount == 1  # fmt: skip
            if done and webhook:
                self._enqueue(conn, job_id, webhook[0], webhook[1], now)
        return done

    def cancel(self, job_id: str, body_for: Any = None) -> Job | None:
        """Cancel a queued or running job (a worker stops at its next image); a finished job is left as is.

        ``body_for(job)`` returns the ``(event, body)`` of the webhook to queue, or None.
        """
        now = time.time()
        with self.tx() as conn:
            n = conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status.in_(ACTIVE))
                             .values(status="cancelled", finished_at=now, lease_expires_at=None)).rowcount
            if n == 1 and body_for is not None:
                row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
                hook = body_for(Job(**row._mapping))
                if hook:
                    self._enqueue(conn, job_id, hook[0], hook[1], now)
        return self.get(job_id)

    def fail_exhausted(self, max_claims: int, body_for: Any = None) -> list[str]:
        """Mark failed the jobs whose lease ran out after ``max_claims`` claims (they crash every worker)."""
        now, failed = time.time(), []
        stale = and_(jobs.c.status == "running", jobs.c.lease_expires_at < now, jobs.c.claims >= max_claims)
        if not self._any(jobs, stale):
            return failed
        with self.tx() as conn:
            rows = conn.execute(select(jobs).where(jobs.c.status == "running", jobs.c.lease_expires_at < now,
                                                   jobs.c.claims >= max_claims)).all()  # fmt: skip
            for row in rows:
                msg = f"gave up after {row.claims} claims: the worker stopped each time (crash or lost lease)"
                conn.execute(update(jobs).where(jobs.c.id == row.id)
                             .values(status="failed", error=msg, finished_at=now, lease_expires_at=None))
                hook = body_for(Job(**{**row._mapping, "status": "failed", "error": msg})) if body_for else None
                if hook:
                    self._enqueue(conn, row.id, hook[0], hook[1], now)
                failed.append(row.id)
        return failed

    # ------------------------------------------------------------------ deliveries

    def _enqueue(self, conn: Connection, job_id: str, event_name: str, body: str, now: float) -> None:
        url = conn.execute(select(jobs.c.callback_url).where(jobs.c.id == job_id)).scalar()
        if not url:
            return
        conn.execute(insert(deliveries).values(
            id=new_id("msg"), job_id=job_id, event=event_name, url=url, body=body, status="pending", attempts=0,
            next_attempt_at=now, created_at=now,
        ))  # fmt: skip

    def claim_delivery(self, worker: str, hold_s: float, now: float | None = None) -> dict[str, Any] | None:
        """Take one due delivery for ``hold_s`` seconds (so two workers never send it at once)."""
        now = now or time.time()
        free = or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now)
        due = and_(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now, free)
        if not self._any(deliveries, due):
            return None
        with self.tx() as conn:
            pick = select(deliveries.c.id).where(due).order_by(deliveries.c.next_attempt_at).limit(1)
            if self.is_postgres:
                pick = pick.with_for_update(skip_locked=True)
            did = conn.execute(pick).scalar()
            if did is None:
                return None
            taken = conn.execute(update(deliveries).where(deliveries.c.id == did, due)
                                 .values(claimed_by=worker, claimed_until=now + hold_s)).rowcount
            if taken != 1:
                return None
            row = conn.execute(select(deliveries).where(deliveries.c.id == did)).first()
        return dict(row._mapping)

    def record_attempt(
        self, delivery_id: str, status_code: int | None, error: str | None, duration_ms: float,
        outcome: str, next_attempt_at: float | None = None,
    ) -> None:  # fmt: skip
        """Log one HTTP attempt and move the delivery on: ``outcome`` is delivered, pending, failed or disabled."""
        now = time.time()
        with self.tx() as conn:
            attempt = 1 + (conn.execute(select(deliveries.c.attempts).where(deliveries.c.id == delivery_id))
                           .scalar() or 0)  # fmt: skip
            conn.execute(insert(delivery_attempts).values(
                delivery_id=delivery_id, attempt=attempt, at=now, status_code=status_code, error=error,
                duration_ms=round(duration_ms, 2),
            ))  # fmt: skip
            values: dict[str, Any] = {"attempts": attempt, "status": outcome, "claimed_by": None,
                                      "claimed_until": None, "last_error": error}  # fmt: skip
            if outcome == "delivered":
                values["delivered_at"] = now
            if next_attempt_at is not None:
                values["next_attempt_at"] = next_attempt_at
            conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))

    def skip_disabled(self, delivery_id: str, reason: str) -> None:
        with self.tx() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(
                status="disabled", last_error=reason, claimed_by=None, claimed_until=None))

    def disable_endpoint(self, url: str, reason: str) -> None:
        with self.tx() as conn:
            conn.execute(webhook_endpoints.delete().where(webhook_endpoints.c.url == url))
            conn.execute(insert(webhook_endpoints).values(url=url, disabled_at=time.time(), reason=reason))

    def endpoint_disabled(self, url: str) -> str | None:
        """Why ``url`` is disabled, or None when it is enabled."""
        with self.engine.connect() as conn:
            return conn.execute(select(webhook_endpoints.c.reason).where(
                webhook_endpoints.c.url == url, webhook_endpoints.c.disabled_at.is_not(None))).scalar()

    def replay(self, job_id: str, delivery_id: str | None = None) -> list[str]:
        """Send a job's failed or disabled deliveries (or one) again now; re-enables their endpoints."""
        with self.tx() as conn:
            q = select(deliveries.c.id, deliveries.c.url).where(deliveries.c.job_id == job_id,
                                                                 deliveries.c.status.in_(("failed", "disabled")))
            if delivery_id:
                q = q.where(deliveries.c.id == delivery_id)
            rows = conn.execute(q).all()
            for row in rows:
                conn.execute(webhook_endpoints.delete().where(webhook_endpoints.c.url == row.url))
                conn.execute(update(deliveries).where(deliveries.c.id == row.id).values(
                    status="pending", next_attempt_at=time.time(), attempts=0, created_at=time.time()))
        return [r.id for r in rows]

    def deliveries_of(self, job_id: str) -> list[dict[str, Any]]:
        """The job's deliveries, each with its attempts, oldest first (shown on the job)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(deliveries).where(deliveries.c.job_id == job_id)
                                .order_by(deliveries.c.created_at)).all()  # fmt: skip
            out = []
            for r in rows:
                atts = conn.execute(select(delivery_attempts).where(delivery_attempts.c.delivery_id == r.id)
                                    .order_by(delivery_attempts.c.id)).all()  # fmt: skip
                item = {k: v for k, v in r._mapping.items() if k not in ("body", "claimed_by", "claimed_until")}
                item["attempt_log"] = [{k: v for k, v in a._mapping.items() if k not in ("id", "delivery_id")}
                                       for a in atts]  # fmt: skip
                out.append(item)
        return out

    # ------------------------------------------------------------------ metrics

    def stats(self) -> dict[str, Any]:
        """Counts for /metrics: jobs per status, deliveries per status, attempts and failed attempts, latency."""
        with self.engine.connect() as conn:
            by_status = dict(conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all())
            dl = dict(conn.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status)).all())
            attempts = conn.execute(select(func.count()).select_from(delivery_attempts)).scalar() or 0
            failed = conn.execute(select(func.count()).select_from(delivery_attempts).where(
                or_(delivery_attempts.c.status_code.is_(None), delivery_attempts.c.status_code >= 300))).scalar()
            lat = conn.execute(select(func.count(), func.sum(jobs.c.finished_at - jobs.c.created_at))
                               .where(jobs.c.status == "done")).one()  # fmt: skip
        return {"jobs": by_status, "deliveries": dl, "attempts": int(attempts), "failed_attempts": int(failed or 0),
                "done_count": int(lat[0] or 0), "done_latency_sum": float(lat[1] or 0.0)}  # fmt: skip

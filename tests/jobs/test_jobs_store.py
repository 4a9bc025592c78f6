"""The store on both backends: one transaction per submission, idempotency, leases, one result per image, paging."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from creative4u.jobs.service import JobInputError, prepare_job
from creative4u.jobs.store import IdempotencyConflict, JobStore, image_results, job_images, jobs


def _rows(store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_submit_writes_job_and_images_together(store, config, images):
    job, created = store.submit(prepare_job(config, "check", images[:3], title="Mug"))
    assert created and job.status == "queued" and job.n_images == 3 and job.client == "default"
    assert store.image_names(job.id) == ["img00.png", "img01.png", "img02.png"]
    assert [d for _, _, d in store.images(job.id)] == [d for _, d in images[:3]]
    assert store.get(job.id).params["title"] == "Mug"


@pytest.mark.parametrize("bad, code", [
    ({"client": "nobody"}, "unknown_client"),
    ({"images": [("ok.png", None), ("bad.png", b"GIF89a-not-really")]}, "invalid_image"),
    ({"images": [("big.png", b"\x89PNG" + b"0" * 2048)]}, "image_too_large"),
    ({"callback_url": "ftp://127.0.0.1/hook"}, "invalid_callback_url"),
    ({"callback_url": "http://10.1.2.3/hook"}, "invalid_callback_url"),
    ({"kind": "select", "images": [("one.png", None)]}, "too_few_images"),
])  # fmt: skip
def test_bad_input_is_refused_and_nothing_is_written(store, store_url, config_for, images, bad, code):
    config = config_for(store_url, "max_image_bytes=1024" if code == "image_too_large" else "max_images=64")
    small = [(n, d) for n, d in images[:2]]
    args = {"kind": "check", "images": small, **bad}
    args["images"] = [(n, d if d is not None else small[0][1]) for n, d in args["images"]]
    with pytest.raises(JobInputError) as err:
        prepare_job(config, args.pop("kind"), args.pop("images"), **args)
    assert err.value.code == code and str(err.value)
    assert _rows(store, jobs) == 0 and _rows(store, job_images) == 0


def test_failed_insert_leaves_no_half_job(store, config, images):
    """An image row that cannot be written rolls the job row back too (one transaction)."""
    new = prepare_job(config, "check", images[:2])
    new.images.append((None, b"x"))  # NOT NULL name: the third image insert fails inside the transaction
    with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError type differs per backend
        store.submit(new)
    assert _rows(store, jobs) == 0 and _rows(store, job_images) == 0


def test_idempotency_key_returns_first_job_and_refuses_another_body(store, config, images):
    first, created = store.submit(prepare_job(config, "check", images[:2], idempotency_key="k1"))
    again, created_again = store.submit(prepare_job(config, "check", images[:2], idempotency_key="k1"))
    assert created and not created_again and again.id == first.id
    with pytest.raises(IdempotencyConflict, match="different request"):
        store.submit(prepare_job(config, "check", images[1:3], idempotency_key="k1"))
    other, created_other = store.submit(prepare_job(config, "check", images[:2], client="acme", idempotency_key="k1"))
    assert created_other and other.id != first.id  # keys are per client
    assert _rows(store, jobs) == 2


def test_concurrent_same_key_makes_one_job(store, config, images):
    new = prepare_job(config, "check", images[:2], idempotency_key="race")
    ids, errors = [], []

    def go():
        try:
            ids.append(store.submit(new)[0].id)
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=go) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors and len(set(ids)) == 1 and _rows(store, jobs) == 1


def test_lease_claim_expiry_and_reclaim(store, config, images):
    job, _ = store.submit(prepare_job(config, "check", images[:2]))
    assert store.claim("w1", lease_s=0.5).id == job.id
    assert store.claim("w2", lease_s=0.5) is None  # held
    assert store.renew(job.id, "w1", 0.5) and not store.renew(job.id, "w2", 0.5)
    time.sleep(0.6)
    again = store.claim("w2", lease_s=5)
    assert again.id == job.id and again.lease_owner == "w2" and again.claims == 2
    assert not store.renew(job.id, "w1", 5)  # the first worker learns it lost the job
    assert not store.finish(job.id, "w1", "done", {"x": 1})
    assert store.finish(job.id, "w2", "done", {"x": 2}) and store.get(job.id).result == {"x": 2}


def test_concurrent_claims_take_each_job_once(store, config, images):
    ids = {store.submit(prepare_job(config, "check", images[i:i + 1]))[0].id for i in range(12)}
    taken, lock = [], threading.Lock()

    def claimer(name):
        while (job := store.claim(name, lease_s=60)) is not None:
            with lock:
                taken.append(job.id)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(taken) == sorted(ids)


def test_one_result_per_image(store, config, images):
    job, _ = store.submit(prepare_job(config, "check", images[:2]))
    assert store.record_image(job.id, 0, "w1", {"n": 1})
    assert not store.record_image(job.id, 0, "w2", {"n": 2})
    assert store.results(job.id) == {0: {"n": 1}} and _rows(store, image_results) == 1


def test_list_paging_filters_and_cancel(store, config, images):
    made = [store.submit(prepare_job(config, "check", images[:1], client=c), now=1000.0 + i)[0]
            for i, c in enumerate(["default", "acme"] * 3)]  # fmt: skip
    page, more = store.list_jobs(limit=4)
    assert more and [j.id for j in page] == [j.id for j in reversed(made)][:4]
    rest, more2 = store.list_jobs(limit=4, before=page[-1].id)
    assert not more2 and [j.id for j in rest] == [made[1].id, made[0].id]
    acme, _ = store.list_jobs(client="acme")
    assert {j.client for j in acme} == {"acme"} and len(acme) == 3
    assert store.cancel(made[0].id).status == "cancelled"
    assert [j.id for j in store.list_jobs(status="cancelled")[0]] == [made[0].id]
    assert store.claim("w", 5).id == made[1].id  # cancelled jobs are never claimed


def test_exhausted_job_fails(store, config, images):
    job, _ = store.submit(prepare_job(config, "check", images[:1]))
    for _ in range(2):
        assert store.claim("w", lease_s=0.01) is not None
        time.sleep(0.03)
    assert store.fail_exhausted(max_claims=2) == [job.id]
    assert store.get(job.id).status == "failed" and "2 claims" in store.get(job.id).error


def test_schema_version_checked_at_start(store_url):
    from sqlalchemy import delete, update

    from creative4u.jobs.store import SCHEMA_VERSION, SchemaVersionError, schema_version

    with pytest.raises(SchemaVersionError, match="no creative4u job store"):
        JobStore(store_url, create=False).close()  # an empty database is not silently used
    first = JobStore(store_url)
    assert first._versions() == [SCHEMA_VERSION]
    with first.tx() as conn:  # a store made before versioning had no row: it is stamped, not refused
        conn.execute(delete(schema_version))
    JobStore(store_url, create=False).close()
    assert first._versions() == [SCHEMA_VERSION]
    with first.tx() as conn:  # as if another creative4u had made it
        conn.execute(update(schema_version).values(version=SCHEMA_VERSION + 1))
    with pytest.raises(SchemaVersionError, match=f"schema version {SCHEMA_VERSION + 1}, but this creative4u uses"):
        JobStore(store_url).close()
    assert first._versions() == [SCHEMA_VERSION + 1]  # refused without altering anything
    first.close()

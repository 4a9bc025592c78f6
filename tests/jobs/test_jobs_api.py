"""The /v1/jobs routes over real HTTP (uvicorn on 127.0.0.1), a worker, /metrics, and the CLI."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time

import httpx
import pytest

from creative4u.jobs.store import JobStore
from creative4u.jobs.worker import Worker

KEY = "c4u-test-key-for-jobs"  # label "ops": an admin key, every client
DEFAULT_KEY = "c4u-test-key-default"  # label "default": names a client, so bound to it
ACME_KEY = "c4u-test-key-acme-shop"  # label "acme-shop": bound to acme by key_clients
STRAY_KEY = "c4u-test-key-stray"  # label "stray": bound to nothing


@pytest.fixture(scope="module")
def api(tmp_path_factory, config_for):
    """The gateway with the jobs extension, on a free port, SQLite store; yields (base_url, store, config)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('jobsapi') / 'jobs.db'}"
    config = config_for(url, "max_image_bytes=60000", "max_images=20", "admin_keys=[ops]",
                        ("key_clients", {"acme-shop": "acme"}))  # fmt: skip
    store = JobStore(url)
    mp = pytest.MonkeyPatch()
    mp.setenv("C4U_JOBS_TEST_KEYS", f"ops {KEY},default {DEFAULT_KEY},acme-shop {ACME_KEY},stray {STRAY_KEY}")
    with _serve(store, config, api_keys_env="C4U_JOBS_TEST_KEYS") as base:
        yield base, store, config
    mp.undo()
    store.close()


@contextlib.contextmanager
def _serve(store, config, **gateway):
    """The gateway with the jobs extension on a free port of 127.0.0.1 (uvicorn in a thread); yields its URL."""
    import uvicorn

    from creative4u.jobs.api import JobsExtension
    from creative4u.jobs.testing import free_port
    from creative4u.serve.api_server import build_app
    from creative4u.serve.config import GatewayConfig

    app = build_app(GatewayConfig(warmup=False, max_images=4, **gateway), extensions=[JobsExtension(store, config)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _b64(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _client(base, key=KEY):
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def _count_jobs(store) -> int:
    return len(store.list_jobs(limit=200)[0])


def test_submit_poll_result_list_and_metrics(api, images):
    base, store, config = api
    with _client(base) as c:
        body = {"kind": "select", "images": [{"name": n, "data": _b64(d)} for n, d in images[:6]],
                "title": "Mug", "queries": "coffee mug, gift"}  # fmt: skip
        r = c.post("/v1/jobs", json=body)  # 6 images: more than the synchronous limit (4), fine for a job
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["status"] == "queued" and r.headers["location"] == f"/v1/jobs/{job['id']}"
        assert job["progress"] == {"total": 6, "done": 0} and job["queries"] == ["coffee mug", "gift"]
        Worker(store, config, worker_id="api-w").run_once()
        got = c.get(f"/v1/jobs/{job['id']}").json()
        assert got["status"] == "done" and got["progress"]["done"] == 6
        assert got["result"]["winner"] in [n for n, _ in images[:6]] and len(got["result"]["ranking"]) == 6
        listed = c.get("/v1/jobs", params={"client": "default", "status": "done", "limit": 1}).json()
        assert listed["object"] == "list" and listed["data"][0]["id"] == job["id"]
        metrics = httpx.get(f"{base}/metrics").text
        assert 'creative4u_jobs{status="done"}' in metrics and "creative4u_jobs_queue_depth" in metrics
        assert 'creative4u_jobs_submitted_total{kind="select",outcome="created"} 1.0' in metrics
        assert "creative4u_job_latency_seconds_count" in metrics and "creative4u_webhook_attempts_total" in metrics


def test_idempotency_header(api, images):
    base, store, _ = api
    with _client(base) as c:
        body = {"images": [_b64(images[0][1])]}
        first = c.post("/v1/jobs", json=body, headers={"Idempotency-Key": "abc"})
        again = c.post("/v1/jobs", json=body, headers={"Idempotency-Key": "abc"})
        assert first.status_code == 202 and again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert again.headers["idempotent-replayed"] == "true"
        other = c.post("/v1/jobs", json={"images": [_b64(images[1][1])]}, headers={"Idempotency-Key": "abc"})
        assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("body, status, code", [
    ({"client": "nobody"}, 400, "unknown_client"),
    ({"images": ["aGVsbG8gd29ybGQ="]}, 400, "invalid_image"),
    ({"images": ["not base64!"]}, 400, "invalid_base64"),
    ({"images": [_b64(b"\x89PNG" + b"0" * 70000)]}, 413, "image_too_large"),
    ({"callback_url": "http://10.0.0.1/hook"}, 400, "invalid_callback_url"),
    ({"callback_url": "file:///etc/passwd"}, 400, "invalid_callback_url"),
    ({"kind": "select"}, 400, "too_few_images"),
    ({"images": [{"url": "https://example.com/a.png"}]}, 400, "url_not_allowed"),
    ({"kind": "nope"}, 400, "invalid_request"),
])  # fmt: skip
def test_bad_input_clear_error_nothing_written(api, images, body, status, code):
    base, store, _ = api
    before = _count_jobs(store)
    with _client(base) as c:
        r = c.post("/v1/jobs", json={"images": [_b64(images[2][1])], **body})
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"] and err["type"]
    assert _count_jobs(store) == before


def test_auth_cancel_and_not_found(api, images):
    base, store, _ = api
    assert httpx.post(f"{base}/v1/jobs", json={"images": []}).status_code == 401
    with _client(base) as c:
        job = c.post("/v1/jobs", json={"images": [_b64(images[3][1])]}).json()
        cancelled = c.delete(f"/v1/jobs/{job['id']}")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert c.delete(f"/v1/jobs/{job['id']}").status_code == 409
        missing = c.get("/v1/jobs/job_nope")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "job_not_found"
        assert c.get("/v1/jobs", params={"status": "weird"}).status_code == 400


def test_cli_submit_worker_status(tmp_path, images, capsys):
    from creative4u.cli import main

    files = []
    for name, data in images[:3]:
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    store = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["jobs", "submit", *files, "--store", store]) == 0
    job = json.loads(capsys.readouterr().out)
    assert job["status"] == "queued" and job["progress"]["total"] == 3
    assert main(["jobs", "worker", "--store", store, "--idle-exit", "0.5", "--set", "poll_s=0.1"]) == 0
    capsys.readouterr()
    assert main(["jobs", "status", job["id"], "--store", store]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "done" and [i["name"] for i in shown["result"]["images"]] == [n for n, _ in images[:3]]
    assert main(["jobs", "list", "--store", store]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["id"] == job["id"]
    assert main(["jobs", "submit", files[0], "--store", store, "--client", "nobody"]) == 2
    assert "unknown client 'nobody'" in capsys.readouterr().err


# ---------------------------------------------------------------- keys bound to clients


def test_keys_are_bound_to_clients(api, images):
    base, store, _ = api
    png = _b64(images[4][1])
    with _client(base, ACME_KEY) as acme, _client(base, DEFAULT_KEY) as other, _client(base) as admin:
        mine = acme.post("/v1/jobs", json={"images": [png]})
        assert mine.status_code == 202 and mine.json()["client"] == "acme"  # no client named: the key's own
        job_id = mine.json()["id"]
        before = _count_jobs(store)
        forbidden = acme.post("/v1/jobs", json={"images": [png], "client": "default"})
        assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "client_forbidden"
        assert _count_jobs(store) == before
        # another client's job answers exactly as a job that does not exist
        for method, path in [("GET", f"/v1/jobs/{job_id}"), ("DELETE", f"/v1/jobs/{job_id}"),
                             ("POST", f"/v1/jobs/{job_id}/replay")]:  # fmt: skip
            hidden, missing = other.request(method, path), other.request(method, path.replace(job_id, "job_nope"))
            assert hidden.status_code == missing.status_code == 404
            assert hidden.json()["error"]["code"] == missing.json()["error"]["code"] == "job_not_found"
        assert store.get(job_id).status == "queued"  # the other key's DELETE cancelled nothing
        assert job_id not in [j["id"] for j in other.get("/v1/jobs", params={"limit": 200}).json()["data"]]
        assert other.get("/v1/jobs", params={"client": "acme"}).status_code == 404
        assert other.get("/v1/jobs", params={"client": "nobody"}).status_code == 404  # the same: no existence leak
        assert other.get("/v1/jobs", params={"after": job_id}).status_code == 400
        assert other.get("/v1/jobs", params={"after": "job_nope"}).status_code == 400
        own = acme.get("/v1/jobs", params={"limit": 200}).json()["data"]
        assert job_id in [j["id"] for j in own] and {j["client"] for j in own} == {"acme"}
        assert acme.get(f"/v1/jobs/{job_id}").status_code == 200
        assert admin.get(f"/v1/jobs/{job_id}").json()["client"] == "acme"
        assert job_id in [j["id"] for j in admin.get("/v1/jobs", params={"client": "acme"}).json()["data"]]
        assert admin.post("/v1/jobs", json={"images": [png], "client": "acme"}).status_code == 202
        assert acme.delete(f"/v1/jobs/{job_id}").json()["status"] == "cancelled"
    with _client(base, STRAY_KEY) as stray:
        refused = stray.post("/v1/jobs", json={"images": [png]})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "key_not_bound"
        assert stray.get("/v1/jobs").status_code == 403


def test_no_auth_mode_sees_every_client(tmp_path, config_for, images):
    url = f"sqlite:///{tmp_path / 'noauth.db'}"
    store = JobStore(url)
    try:
        with _serve(store, config_for(url), require_auth=False) as base:
            r = httpx.post(f"{base}/v1/jobs", json={"images": [_b64(images[5][1])], "client": "acme"})
            assert r.status_code == 202 and r.json()["client"] == "acme"
            assert httpx.get(f"{base}/v1/jobs/{r.json()['id']}").status_code == 200
            assert httpx.post(f"{base}/v1/jobs", json={"images": [_b64(images[5][1])]}).json()["client"] == "default"
    finally:
        store.close()


# ---------------------------------------------------------------- multipart uploads


def _files(items):
    return [("images", (name, data, "image/png")) for name, data in items]


def test_multipart_job_same_as_json(api, images):
    base, store, config = api
    fields = {"kind": "select", "title": "Mug", "queries": "coffee mug, gift", "evidence": "true"}
    with _client(base) as c:
        up = c.post("/v1/jobs", files=_files(images[6:9]), data={**fields, "client": "acme"})
        assert up.status_code == 202, up.text
        js = c.post("/v1/jobs", json={**fields, "evidence": True, "client": "acme",
                                      "images": [{"name": n, "data": _b64(d)} for n, d in images[6:9]]})  # fmt: skip
        assert js.status_code == 202
        a, b = up.json(), js.json()
        for key in ("kind", "client", "title", "queries", "progress", "images"):
            assert a[key] == b[key], key
        assert a["queries"] == ["coffee mug", "gift"]
        assert [i["name"] for i in a["images"]] == [n for n, _ in images[6:9]]
        assert [d for _, _, d in store.images(a["id"])] == [d for _, d in images[6:9]]
        again = c.post("/v1/jobs", files=_files(images[6:9]), data={**fields, "client": "acme",
                                                                    "idempotency_key": "form-1"})  # fmt: skip
        replay = c.post("/v1/jobs", files=_files(images[6:9]), data={**fields, "client": "acme"},
                        headers={"Idempotency-Key": "form-1"})  # fmt: skip
        assert again.status_code == 202 and replay.status_code == 200 and replay.json()["id"] == again.json()["id"]
    with _client(base, ACME_KEY) as acme:  # the key binding holds for uploads too
        assert acme.post("/v1/jobs", files=_files(images[6:7]), data={"client": "default"}).status_code == 403


@pytest.mark.parametrize("files, data, status, code", [
    ([("ok.png", None), ("bad.png", b"not an image at all")], {}, 400, "invalid_image"),
    ([("big.png", b"\x89PNG" + b"0" * 70000)], {}, 413, "image_too_large"),
    ([(f"f{i}.png", None) for i in range(21)], {}, 400, "too_many_images"),
    ([("ok.png", None)], {"colour": "red"}, 400, "invalid_request"),
    ([("ok.png", None)], {"images": "data:image/png;base64,AAAA"}, 400, "invalid_request"),
    ([("ok.png", None)], {"kind": "nope"}, 400, "invalid_request"),
    ([("ok.png", None)], {"client": "nobody"}, 400, "unknown_client"),
    ([("ok.png", None)], {"title": "x" * 5000}, 400, "invalid_multipart"),
    ([("ok.png", None)], {"callback_url": "http://10.0.0.1/hook"}, 400, "invalid_callback_url"),
    ([], {}, 400, "too_few_images"),
])  # fmt: skip
def test_multipart_bad_input_nothing_written(api, images, files, data, status, code):
    base, store, _ = api
    before = _count_jobs(store)
    items = [(name, payload if payload is not None else images[10][1]) for name, payload in files]
    with _client(base) as c:
        # with no file, a plain form field keeps the body multipart
        r = c.post("/v1/jobs", files=_files(items) or [("kind", (None, "check"))], data=data)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]
    assert _count_jobs(store) == before

"""Webhooks against a real receiver on 127.0.0.1: signatures, tampering, old timestamps, down-then-up, 410, replay."""

from __future__ import annotations

import time

import httpx
import pytest

from creative4u.jobs.service import prepare_job
from creative4u.jobs.settings import ClientSettings, WebhookSettings
from creative4u.jobs.testing import WebhookReceiver, free_port
from creative4u.jobs.webhooks import CallbackURLError, check_callback_url, sign_headers
from creative4u.jobs.worker import Worker

SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLWNyZWF0aXZlNHUtam9icw=="
OLD_SECRET = "whsec_" + "b2xkLXNlY3JldC1zdGlsbC1hY2NlcHRlZA=="  # the same two secrets as conftest.make_config


@pytest.fixture
def receiver():
    rx = WebhookReceiver(SECRET).start()
    yield rx
    rx.stop()


def _post(rx, body: str, headers: dict) -> dict:
    httpx.post(rx.url, content=body.encode(), headers=headers, timeout=5)
    return rx.received[-1]


def test_receiver_verifies_and_rejects_tampered_and_old(receiver):
    body = '{"type":"job.completed","data":{"id":"job_1"}}'
    good = _post(receiver, body, sign_headers([SECRET], "msg_good", body))
    assert good["verified"] and good["status"] == 200 and good["payload"]["data"]["id"] == "job_1"
    tampered = _post(receiver, body.replace("job_1", "job_2"), sign_headers([SECRET], "msg_t", body))
    assert not tampered["verified"] and tampered["status"] == 400 and "signature" in tampered["error"].lower()
    old = _post(receiver, body, sign_headers([SECRET], "msg_old", body, timestamp=int(time.time()) - 600))
    assert not old["verified"] and "too old" in old["error"]
    wrong_key = _post(receiver, body, sign_headers([OLD_SECRET], "msg_k", body))
    assert not wrong_key["verified"]


def test_key_rotation_both_secrets_sign():
    old_rx = WebhookReceiver(OLD_SECRET).start()
    try:
        body = '{"a":1}'
        headers = sign_headers([SECRET, OLD_SECRET], "msg_rot", body)
        assert len(headers["webhook-signature"].split(" ")) == 2
        assert _post(old_rx, body, headers)["verified"]  # a receiver still on the old secret accepts it
    finally:
        old_rx.stop()


def _job_with_callback(store, config, images, url):
    job, _ = store.submit(prepare_job(config, "check", images[:1], callback_url=url, evidence=False))
    return job


def test_delivered_signed_with_attempts_on_the_job(store, config, images, receiver):
    job = _job_with_callback(store, config, images, receiver.url)
    Worker(store, config, worker_id="w").run_once()
    got = receiver.wait_for(1, timeout=10)
    assert len(got) == 1 and got[0]["payload"]["data"]["status"] == "done"
    (d,) = store.deliveries_of(job.id)
    assert d["status"] == "delivered" and d["id"] == got[0]["id"] and d["attempt_log"][0]["status_code"] == 200


def test_receiver_down_then_up_retries_and_succeeds(store, config, images):
    port = free_port()
    rx = WebhookReceiver(SECRET, port=port)
    job = _job_with_callback(store, config, images, rx.url)
    worker = Worker(store, config, worker_id="w")
    worker.run_once()  # finishes the job; the first delivery attempt hits a closed port
    (d,) = store.deliveries_of(job.id)
    assert d["status"] == "pending" and d["attempts"] >= 1 and d["attempt_log"][0]["status_code"] is None
    rx.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and store.deliveries_of(job.id)[0]["status"] != "delivered":
            worker.deliverer.deliver_due()
            time.sleep(0.05)
        (d,) = store.deliveries_of(job.id)
        assert d["status"] == "delivered" and d["attempts"] >= 2
        assert [r["id"] for r in rx.delivered()] == [d["id"]]
    finally:
        rx.stop()


def test_410_disables_endpoint_and_replay_reenables(store, config, images):
    rx = WebhookReceiver(SECRET, statuses=[410]).start()
    try:
        job = _job_with_callback(store, config, images, rx.url)
        worker = Worker(store, config, worker_id="w")
        worker.run_once()
        (d,) = store.deliveries_of(job.id)
        assert d["status"] == "disabled" and d["attempts"] == 1 and store.endpoint_disabled(rx.url)
        second = _job_with_callback(store, config, images[1:], rx.url)
        worker.run_once()
        assert store.deliveries_of(second.id)[0]["status"] == "disabled" and len(rx.received) == 1  # not sent
        assert store.replay(job.id) == [d["id"]] and store.endpoint_disabled(rx.url) is None
        worker.deliverer.deliver_due()
        assert store.deliveries_of(job.id)[0]["status"] == "delivered"
        assert [r["id"] for r in rx.delivered()] == [d["id"]]  # the replay keeps the event id
    finally:
        rx.stop()


def test_retries_are_bounded_and_honour_retry_after(store, config_for, store_url, images):
    config = config_for(store_url, "webhooks.max_attempts=3", "webhooks.max_delay_s=5")
    rx = WebhookReceiver(SECRET, statuses=[503] * 10, retry_after="1").start()
    try:
        job = _job_with_callback(store, config, images, rx.url)
        worker = Worker(store, config, worker_id="w")
        worker.run_once()
        first = store.deliveries_of(job.id)[0]
        assert first["status"] == "pending" and first["next_attempt_at"] - first["attempt_log"][0]["at"] >= 0.99
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and store.deliveries_of(job.id)[0]["status"] == "pending":
            worker.deliverer.deliver_due()
            time.sleep(0.05)
        d = store.deliveries_of(job.id)[0]
        assert d["status"] == "failed" and d["attempts"] == 3 and "giving up" in d["last_error"]
        assert [a["status_code"] for a in d["attempt_log"]] == [503, 503, 503]
        gaps = [b["at"] - a["at"] for a, b in zip(d["attempt_log"], d["attempt_log"][1:], strict=False)]
        assert all(g >= 0.95 for g in gaps), gaps  # Retry-After: 1 beats the 0.1 s backoff
    finally:
        rx.stop()


@pytest.mark.parametrize("url, hooks, client, why", [
    ("http://hooks.example.com/x", WebhookSettings(), ClientSettings(), "https://"),
    ("https://evil.example.net/x", WebhookSettings(allowed_prefixes=["https://hooks.example.com/"]),
     ClientSettings(), "must start with"),
    ("https://127.0.0.1/x", WebhookSettings(), ClientSettings(), "private or loopback"),
    ("https://10.0.0.8/x", WebhookSettings(), ClientSettings(), "private or loopback"),
    ("https://169.254.169.254/latest", WebhookSettings(), ClientSettings(), "private or loopback"),
    ("https://user:pw@hooks.example.com/x", WebhookSettings(), ClientSettings(), "user:password"),
    ("https://hooks.example.com/x", WebhookSettings(), ClientSettings(callback_prefixes=["https://mine.example/"]),
     "must start with"),
])  # fmt: skip
def test_callback_url_checks(url, hooks, client, why):
    with pytest.raises(CallbackURLError, match=why):
        check_callback_url(url, client, hooks)


def test_callback_url_allowed_when_configured():
    hooks = WebhookSettings(require_https=False, allow_hosts=["127.0.0.1"])
    assert check_callback_url("http://127.0.0.1:9/hook", ClientSettings(), hooks)
    assert check_callback_url("https://8.8.8.8/hook", ClientSettings(), WebhookSettings())  # a public IP

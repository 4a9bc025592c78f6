"""Workers on both stores: the same JSON as the synchronous pipeline, per-client settings, and a kill -9 mid-job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from creative4u.config import to_dict
from creative4u.jobs.service import build_pipeline, prepare_job
from creative4u.jobs.testing import WebhookReceiver
from creative4u.jobs.worker import Worker
from creative4u.pipeline import Pipeline
from creative4u.testing.results import without_volatile

REPO = Path(__file__).resolve().parents[2]
def test_check_job_result_is_the_synchronous_json(store, config, images):
    job, _ = store.submit(prepare_job(config, "check", images[:3]))
    worker = Worker(store, config, worker_id="w")
    assert worker.run_once()
    done = store.get(job.id)
    assert done.status == "done" and done.finished_at >= done.created_at
    expected = Pipeline().check(images[:3], evidence=True)  # `similar` compares the 3 candidates in both
    assert without_volatile(done.result) == without_volatile(expected)
    assert not worker.run_once()  # nothing left


def test_select_job_result_is_the_synchronous_json(store, config, images):
    job, _ = store.submit(prepare_job(config, "select", images[:4], title="Mug", queries=["coffee mug"]))
    Worker(store, config, worker_id="w").run_once()
    done = store.get(job.id)
    expected = Pipeline().select(images[:4], title="Mug", queries=["coffee mug"], evidence=False)
    assert done.status == "done" and done.result["winner"] == expected["winner"]
    assert without_volatile(done.result) == without_volatile(expected)


def test_client_profile_and_thresholds_apply(store, config, images):
    job, _ = store.submit(prepare_job(config, "check", images[:1], client="acme"))
    Worker(store, config, worker_id="w").run_once()
    result = store.get(job.id).result
    assert result["profile"] == "strict+acme"
    assert result["images"][0]["checks"]["sharpness"]["threshold"] == 0.9
    assert without_volatile(result) == without_volatile(build_pipeline(config, "acme").check(images[:1]))


def test_cancelled_running_job_stops(store, config, images):
    job, _ = store.submit(prepare_job(config, "check", images[:6]))
    worker = Worker(store, config, worker_id="w")
    claimed = store.claim(worker.id, 30)
    store.record_image(job.id, 0, "w", {"name": "x"})
    store.cancel(job.id)
    assert not store.finish(claimed.id, worker.id, "done", {})  # the worker's finish is refused: cancelled wins
    assert store.get(job.id).status == "cancelled"


def _write_config(config, path: Path) -> Path:
    path.write_text(yaml.safe_dump(to_dict(config)))
    return path


def _wait(cond, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_kill_9_mid_job_second_worker_finishes(store, config, images, tmp_path):
    """SIGKILL a worker subprocess halfway through 20 images; a second worker redoes only the unfinished ones."""
    rx = WebhookReceiver(config.clients["default"].webhook_secrets[0]).start()
    try:
        job, _ = store.submit(prepare_job(config, "check", images[:20], callback_url=rx.url, evidence=False))
        cfg_file = _write_config(config, tmp_path / "jobs.yaml")
        cmd = [sys.executable, "-m", "creative4u", "jobs", "worker", "--config", str(cfg_file), "--id", "doomed"]
        env = {**os.environ, "ORT_DISABLE_TELEMETRY": "1"}
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO)
        try:
            _wait(lambda: store.done_count(job.id) >= 5 or proc.poll() is not None, 120, "5 images from worker 1")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        first = store.done_count(job.id)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
        assert 5 <= first < 20, f"the kill should land mid-job, {first} of 20 were done"
        assert store.get(job.id).status == "running" and store.get(job.id).lease_owner == "doomed"

        survivor = Worker(store, config, worker_id="survivor")
        assert survivor.run(max_jobs=1, idle_exit_s=20) == 1  # claims once the dead worker's 2 s lease runs out
        done = store.get(job.id)
        assert done.status == "done" and done.claims == 2
        owners = store.result_workers(job.id)
        assert sorted(owners) == list(range(20))  # every image exactly one result (primary key (job, image))
        by = {w: sum(1 for o in owners.values() if o == w) for w in set(owners.values())}
        assert by.get("doomed", 0) >= first and by["survivor"] == 20 - by.get("doomed", 0)
        assert [i["name"] for i in done.result["images"]] == [n for n, _ in images[:20]]

        got = rx.wait_for(1, timeout=20)
        survivor.deliverer.deliver_due()
        time.sleep(0.3)
        deliveries = store.deliveries_of(job.id)
        assert len(deliveries) == 1 and deliveries[0]["status"] == "delivered"
        assert [r["id"] for r in rx.delivered()] == [deliveries[0]["id"]]  # delivered once per event id
        assert got[0]["payload"]["type"] == "job.completed" and got[0]["payload"]["data"]["id"] == job.id
        assert without_volatile(got[0]["payload"]["data"]["result"]) == without_volatile(done.result)
    finally:
        rx.stop()


def test_select_job_reuses_stored_screens_through_the_public_method(store, config, images, monkeypatch):
    """The worker judges with ``Pipeline.select_screened`` over the stored screens (no private pipeline call)."""
    calls = []
    real = Pipeline.select_screened

    def spy(self, imgs, screens, *args, **kwargs):
        calls.append([s.name for s in screens])
        return real(self, imgs, screens, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "select_screened", spy)
    job, _ = store.submit(prepare_job(config, "select", images[:2]))
    Worker(store, config, worker_id="w").run_once()
    assert store.get(job.id).status == "done" and calls == [[n for n, _ in images[:2]]]

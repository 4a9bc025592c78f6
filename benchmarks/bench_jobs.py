"""Screening jobs: throughput with 1 and 2 workers on SQLite and PostgreSQL, submission latency, webhook lag.

    .venv/bin/python benchmarks/bench_jobs.py                 # both stores, a few minutes on 2 cores
    .venv/bin/python benchmarks/bench_jobs.py --stores sqlite --jobs 8

Measures, per store:
* jobs/s and images/s of ``select`` jobs (feature judge, default profile, small 128x96 images) through 1 and 2
  worker processes (``creative4u jobs worker``), timed from the batch submission to the last job done;
* submission latency p50/p99 of ``POST /v1/jobs`` (1 image each) from 50 concurrent submitters against
  ``creative4u jobs serve``;
* time from a job's last image result to its webhook arriving, verified, at a receiver on 127.0.0.1.

The machine is shared: ``uptime`` load is printed with the figures. PostgreSQL runs with fsync on.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from creative4u.config import to_dict  # noqa: E402
from creative4u.jobs.service import prepare_job  # noqa: E402
from creative4u.jobs.settings import load_jobs_config  # noqa: E402
from creative4u.jobs.store import JobStore  # noqa: E402
from creative4u.jobs.testing import PostgresServer, WebhookReceiver, free_port  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"bench-secret-for-creative4u-jobs").decode()


def png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:96, 0:128] / 128
    base = np.stack([np.sin(xx * rng.uniform(2, 9) + c) * 0.5 + 0.5 for c in rng.uniform(0, 6, 3)], -1)
    arr = np.clip(base * 200 + rng.normal(0, 10, (96, 128, 3)) + 20, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def config_file(url: str, folder: Path) -> tuple[Path, object]:
    cfg = load_jobs_config(None, [("store", url), "poll_s=0.05", "lease_s=30", "webhooks.require_https=false",
                                  "webhooks.allow_hosts=[127.0.0.1]", ("clients.default.webhook_secrets", [SECRET])])
    path = folder / f"jobs-{abs(hash(url)) % 10**8}.yaml"
    path.write_text(yaml.safe_dump(to_dict(cfg)))
    return path, cfg


def start_workers(cfg_path: Path, n: int, log_dir: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "ORT_DISABLE_TELEMETRY": "1", "OMP_NUM_THREADS": "1"}
    procs = []
    for i in range(n):
        log = open(log_dir / f"worker{i}.log", "wb")  # noqa: SIM115 - the child's log, closed with the process
        cmd = [sys.executable, "-m", "creative4u", "jobs", "worker", "--config", str(cfg_path), "--id", f"bench{i}"]
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=log, env=env, cwd=REPO))
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def wait_done(store: JobStore, ids: list[str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        pending = {i for i in pending if store.get(i).status not in ("done", "failed", "cancelled")}
        time.sleep(0.05)
    if pending:
        raise RuntimeError(f"{len(pending)} jobs not done in {timeout} s")


def throughput(url: str, cfg_path: Path, cfg, workers: int, n_jobs: int, per_job: int, log_dir: Path) -> dict:
    store = JobStore(url)
    procs = start_workers(cfg_path, workers, log_dir)
    try:
        warm = [store.submit(prepare_job(cfg, "select", [(f"w{i}.png", png(900 + i)) for i in range(2)]))[0].id
                for _ in range(workers)]  # fmt: skip
        wait_done(store, warm)
        time.sleep(0.5)
        batch = [prepare_job(cfg, "select", [(f"j{j}_{i}.png", png(j * 100 + i)) for i in range(per_job)],
                             title="Ceramic mug", queries=["coffee mug"]) for j in range(n_jobs)]  # fmt: skip
        start = time.perf_counter()
        ids = [store.submit(new)[0].id for new in batch]
        wait_done(store, ids)
        elapsed = time.perf_counter() - start
        failed = sum(store.get(i).status != "done" for i in ids)
    finally:
        stop(procs)
        store.close()
    return {"workers": workers, "jobs": n_jobs, "images": n_jobs * per_job, "seconds": round(elapsed, 2),
            "jobs_per_s": round(n_jobs / elapsed, 2), "images_per_s": round(n_jobs * per_job / elapsed, 2),
            "failed": failed}  # fmt: skip


def submission_latency(cfg_path: Path, submitters: int, per_submitter: int, log_dir: Path) -> dict:
    import httpx

    port = free_port()
    env = {**os.environ, "ORT_DISABLE_TELEMETRY": "1"}
    log = open(log_dir / "serve.log", "wb")  # noqa: SIM115
    cmd = [sys.executable, "-m", "creative4u", "jobs", "serve", "--config", str(cfg_path), "--no-auth",
           "--port", str(port)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        body = json.dumps({"kind": "check", "images": ["data:image/png;base64," + base64.b64encode(png(7)).decode()]})
        lat, errors, lock = [], [], threading.Lock()
        gate = threading.Barrier(submitters)

        def submitter() -> None:
            with httpx.Client(base_url=base, timeout=60, headers={"content-type": "application/json"}) as c:
                gate.wait()
                for _ in range(per_submitter):
                    t0 = time.perf_counter()
                    r = c.post("/v1/jobs", content=body)
                    dt = time.perf_counter() - t0
                    with lock:
                        (lat if r.status_code == 202 else errors).append(dt if r.status_code == 202 else r.text)

        threads = [threading.Thread(target=submitter) for _ in range(submitters)]
        start = time.perf_counter()
        [t.start() for t in threads]
        [t.join() for t in threads]
        wall = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    lat.sort()
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1)  # noqa: E731
    return {"submitters": submitters, "requests": len(lat) + len(errors), "errors": len(errors),
            "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": round(lat[-1] * 1000, 1),
            "submissions_per_s": round(len(lat) / wall, 1)}  # fmt: skip


def webhook_lag(url: str, cfg_path: Path, cfg, n_jobs: int, log_dir: Path) -> dict:
    store = JobStore(url)
    rx = WebhookReceiver(SECRET).start()
    procs = start_workers(cfg_path, 1, log_dir)
    lags = []
    try:
        for j in range(n_jobs):
            new = prepare_job(cfg, "check", [(f"h{j}_{i}.png", png(5000 + j * 10 + i)) for i in range(3)],
                              callback_url=rx.url, evidence=False)  # fmt: skip
            job, _ = store.submit(new)
            got = rx.wait_for(j + 1, timeout=120)
            arrived = got[-1]["at"]
            with store.engine.connect() as conn:
                from sqlalchemy import func, select

                from creative4u.jobs.store import image_results

                last = conn.execute(select(func.max(image_results.c.finished_at))
                                    .where(image_results.c.job_id == job.id)).scalar()  # fmt: skip
            lags.append((arrived - last) * 1000)
    finally:
        stop(procs)
        rx.stop()
        store.close()
    return {"jobs": n_jobs, "median_ms": round(statistics.median(lags), 1), "max_ms": round(max(lags), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    ap.add_argument("--jobs", type=int, default=12, help="jobs per throughput run")
    ap.add_argument("--images", type=int, default=4, help="images per job")
    ap.add_argument("--submitters", type=int, default=50)
    ap.add_argument("--per-submitter", type=int, default=4)
    args = ap.parse_args()
    print(f"load before: {uptime()}")
    folder = Path(tempfile.mkdtemp(prefix="c4u-bench-jobs-"))
    pg = None
    results = {}
    try:
        for kind in args.stores:
            if kind == "sqlite":
                make_url = lambda name: f"sqlite:///{folder / name}.db"  # noqa: E731
            else:
                pg = pg or PostgresServer(fsync=True).start()
                make_url = pg.create_database
            out = {}
            for workers in (1, 2):
                url = make_url(f"tp{workers}")
                path, cfg = config_file(url, folder)
                out[f"throughput_{workers}w"] = throughput(url, path, cfg, workers, args.jobs, args.images, folder)
                print(kind, out[f"throughput_{workers}w"], flush=True)
            url = make_url("submit")
            path, cfg = config_file(url, folder)
            out["submission"] = submission_latency(path, args.submitters, args.per_submitter, folder)
            print(kind, out["submission"], flush=True)
            url = make_url("hook")
            path, cfg = config_file(url, folder)
            out["webhook_lag"] = webhook_lag(url, path, cfg, 5, folder)
            print(kind, out["webhook_lag"], flush=True)
            results[kind] = out
    finally:
        if pg:
            pg.stop()
    print(f"load after: {uptime()}")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

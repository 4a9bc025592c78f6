"""``creative4u jobs submit|status|list|cancel|replay|worker|serve``: asynchronous screening jobs.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_parser(parser.add_subparsers())
>>> args = parser.parse_args(["jobs", "submit", "a.jpg", "b.jpg", "--kind", "select", "--store", "sqlite:///j.db"])
>>> args.kind, args.images, args.store
('select', ['a.jpg', 'b.jpg'], 'sqlite:///j.db')

Every subcommand reads the jobs config (``--config serve/jobs.example.yaml``, ``--set key=value``,
``--help-config``) and talks to the store directly (``--store`` overrides ``store``), so one machine needs no
server: ``submit`` writes a job, ``worker`` processes jobs and delivers webhooks until interrupted, ``status``
prints one job as JSON. ``serve`` runs the gateway with the ``/v1/jobs`` routes attached.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from creative4u.config import add_config_arguments, config_from_args


def add_parser(sub: Any) -> None:
    from creative4u.jobs.settings import JobsConfig

    jobs = sub.add_parser("jobs", help="asynchronous screening jobs: a durable queue, workers, signed webhooks",
                          description="Submit check/select jobs to a durable store, run workers, follow status.")
    jsub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION")

    def action(name: str, help_: str, func: Any) -> argparse.ArgumentParser:
        p = jsub.add_parser(name, help=help_, description=help_)
        p.add_argument("--store", default=None, help="SQLAlchemy URL of the store (default: the config's store)")
        add_config_arguments(p, JobsConfig)
        p.set_defaults(func=func)
        return p

    p = action("submit", "store a job over image files and print it (JSON)", run_submit)
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("--kind", choices=("check", "select"), default="check")
    p.add_argument("--client", default=None, help="client id from the config (default: default_client)")
    p.add_argument("--title", default="", help="product title (select)")
    p.add_argument("-q", "--query", dest="queries", action="append", default=[], help="audience query (repeat)")
    p.add_argument("--callback-url", default=None, help="webhook URL called when the job finishes")
    p.add_argument("--idempotency-key", default=None, help="the same key returns the first job")
    p.add_argument("--wait", type=float, default=None, metavar="S", help="wait up to S seconds for the result")

    p = action("status", "print one job (JSON): status, progress, result, webhook attempts", run_status)
    p.add_argument("job_id")
    p = action("list", "list jobs, newest first (JSON lines)", run_list)
    p.add_argument("--client", default=None)
    p.add_argument("--status", default=None)
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--after", default=None, help="continue after this job id")
    p = action("cancel", "cancel a queued or running job", run_cancel)
    p.add_argument("job_id")
    p = action("replay", "send a job's failed webhook deliveries again", run_replay)
    p.add_argument("job_id")
    p = action("worker", "process jobs and deliver webhooks until interrupted", run_worker)
    p.add_argument("--max-jobs", type=int, default=None, help="exit after this many jobs")
    p.add_argument("--idle-exit", type=float, default=None, metavar="S", help="exit after S seconds with no work")
    p.add_argument("--id", default=None, help="worker id (default host:pid)")
    p = action("serve", "run the gateway with the /v1/jobs routes", run_serve)
    p.add_argument("--gateway-config", default=None, metavar="FILE", help="gateway YAML (serve/gateway.yaml)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--no-auth", action="store_true", help="accept requests without an API key (local use only)")
    jobs.set_defaults(func=lambda args: jobs.print_help() or 2)


def _config(args: argparse.Namespace) -> Any:
    from creative4u.jobs.settings import JobsConfig

    return config_from_args(JobsConfig, args, {"store": args.store}).validate()


def _store(cfg: Any) -> Any:
    from creative4u.jobs.store import JobStore

    return JobStore(cfg.store)


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def run_submit(args: argparse.Namespace) -> int:
    from creative4u.jobs.service import JobInputError, job_view, prepare_job
    from creative4u.jobs.store import IdempotencyConflict

    cfg = _config(args)
    images = []
    for path in args.images:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"image file not found: {p}")
        images.append((p.name, p.read_bytes()))
    store = _store(cfg)
    try:
        new = prepare_job(cfg, args.kind, images, client=args.client, title=args.title, queries=args.queries,
                          callback_url=args.callback_url, idempotency_key=args.idempotency_key)  # fmt: skip
        job, _ = store.submit(new)
    except (JobInputError, IdempotencyConflict) as err:
        print(f"creative4u jobs submit: error: {err}", file=sys.stderr)
        return 2
    deadline = time.monotonic() + (args.wait or 0)
    while args.wait and job.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.25)
        job = store.get(job.id)
    _print(job_view(store, job, deliveries=False))
    return 0 if job.status != "failed" else 1


def run_status(args: argparse.Namespace) -> int:
    from creative4u.jobs.service import job_view

    store = _store(_config(args))
    job = store.get(args.job_id)
    if job is None:
        raise KeyError(f"no job {args.job_id!r}")
    _print(job_view(store, job))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from creative4u.jobs.service import summary_view

    found, more = _store(_config(args)).list_jobs(args.client, args.status, args.limit, args.after)
    for job in found:
        print(json.dumps(summary_view(job)))
    if more:
        print(f"(more: --after {found[-1].id})", file=sys.stderr)
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    from creative4u.jobs.service import event_body, summary_view

    job = _store(_config(args)).cancel(args.job_id, event_body)
    if job is None:
        raise KeyError(f"no job {args.job_id!r}")
    _print(summary_view(job))
    return 0 if job.status == "cancelled" else 1


def run_replay(args: argparse.Namespace) -> int:
    ids = _store(_config(args)).replay(args.job_id)
    _print({"job_id": args.job_id, "deliveries": ids})
    return 0


def run_worker(args: argparse.Namespace) -> int:
    import logging
    import signal

    from creative4u.jobs.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = _config(args)
    worker = Worker(_store(cfg), cfg, worker_id=args.id)
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())  # finish the current image, then stop
    try:
        n = worker.run(max_jobs=args.max_jobs, idle_exit_s=args.idle_exit)
    finally:
        worker.close()
    print(f"worker {worker.id}: {n} jobs", file=sys.stderr)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    try:
        from creative4u.jobs.api import JobsExtension
        from creative4u.serve.api_server import run_server
        from creative4u.serve.config import load_gateway_config
    except ImportError as err:
        msg = f"the jobs API needs the jobs and serve extras: pip install 'creative4u[jobs]' ({err})"
        raise RuntimeError(msg) from None
    cfg = _config(args)
    extra = [f"host={args.host}"] if args.host else []
    extra += [f"port={args.port}"] if args.port else []
    extra += ["require_auth=false"] if args.no_auth else []
    gateway = load_gateway_config(args.gateway_config, extra)
    run_server(gateway, extensions=[JobsExtension(_store(cfg), cfg)])
    return 0

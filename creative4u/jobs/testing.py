"""Real components for the jobs tests and benchmark: a throwaway PostgreSQL server and a webhook receiver.

>>> rx = WebhookReceiver("whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=").start()
>>> rx.url.startswith("http://127.0.0.1:"), rx.received
(True, [])
>>> rx.stop()

:class:`PostgresServer` runs Debian's ``postgresql`` binaries (``initdb`` + ``pg_ctl``) on 127.0.0.1 in a temp
dir; ``initdb`` refuses to run as root, so as root it runs them as the ``postgres`` user (``runuser``).
:class:`WebhookReceiver` is a plain ``http.server`` that verifies every delivery with ``standardwebhooks`` and
answers with the status codes it is told to.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_pg_bin() -> Path | None:
    """The folder of ``initdb``/``pg_ctl``: on PATH, else Debian's ``/usr/lib/postgresql/<version>/bin``."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


class PostgresServer:
    """A PostgreSQL server of its own on 127.0.0.1 (trust auth, a temp data dir), stopped and removed on exit."""

    def __init__(self, port: int | None = None, fsync: bool = False) -> None:
        self.port, self.fsync = port or free_port(), fsync
        self.root: Path | None = None
        self.bin = find_pg_bin()
        self.as_user = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess:
        full = [str(self.bin / cmd[0]), *cmd[1:]]
        if self.as_user:
            full = ["runuser", "-u", self.as_user, "--", *full]
        return subprocess.run(full, capture_output=True, text=True, timeout=timeout, cwd="/")

    def start(self) -> PostgresServer:
        """initdb + start; raises RuntimeError with the reason when the server cannot run here."""
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (no pg_ctl; Debian: apt-get install postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="c4u-pg-"))
        if self.as_user:
            shutil.chown(self.root, self.as_user)
        data = self.root / "data"
        r = self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {(r.stderr or r.stdout).strip()[-800:]}")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=100"
        opts += "" if self.fsync else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        r = self._run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.root / "log"), "-w", "-t", "60", "start",
                      timeout=90)  # fmt: skip
        if r.returncode != 0:
            log = (self.root / "log").read_text(errors="replace")[-800:] if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {(r.stderr or r.stdout).strip()[-400:]} {log}")
        return self

    def create_database(self, name: str) -> str:
        """A fresh database; returns its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        if self.root is None:
            return
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1 that verifies signatures and replies with scripted status codes.

    ``statuses`` are replied in order (then 200); ``retry_after`` is sent with non-2xx replies. Every request is
    kept in :attr:`received` with ``verified`` and, when verification failed, ``error``.
    """

    def __init__(self, secret: str, port: int | None = None, statuses: list[int] | None = None,
                 retry_after: str | None = None) -> None:  # fmt: skip
        from standardwebhooks import Webhook

        self.webhook, self.port = Webhook(secret), port or free_port()
        self.statuses, self.retry_after = list(statuses or []), retry_after
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def verify(self, body: bytes, headers: dict[str, str]) -> tuple[bool, str | None, Any]:
        from standardwebhooks import WebhookVerificationError

        try:
            return True, None, self.webhook.verify(body, headers)
        except WebhookVerificationError as err:
            return False, str(err), None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        rx = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                ok, error, payload = rx.verify(body, headers)
                with rx.lock:
                    status = rx.statuses.pop(0) if rx.statuses else 200
                    status = status if ok else 400
                    rx.received.append({"id": headers.get("webhook-id"), "headers": headers, "body": body,
                                        "verified": ok, "error": error, "payload": payload, "status": status,
                                        "at": time.time()})  # fmt: skip
                self.send_response(status)
                if status >= 300 and rx.retry_after:
                    self.send_header("Retry-After", rx.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> WebhookReceiver:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def delivered(self) -> list[dict[str, Any]]:
        """The verified requests answered 2xx."""
        with self.lock:
            return [r for r in self.received if r["verified"] and 200 <= r["status"] < 300]

    def wait_for(self, n: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until ``n`` deliveries have succeeded; returns them (maybe fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.delivered()) < n:
            time.sleep(0.05)
        return self.delivered()


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)

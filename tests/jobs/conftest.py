"""Fixtures of the jobs tests: both stores (SQLite file, a real PostgreSQL 15 on 127.0.0.1), small images, configs.

The PostgreSQL server is started once per session (``initdb`` + ``pg_ctl`` from Debian's ``postgresql`` package,
as the ``postgres`` user when running as root); every test gets a fresh database. When the server cannot start,
the PostgreSQL half of the suite is skipped with the printed reason and the SQLite half still runs.
"""

from __future__ import annotations

import io
import itertools
import sys

import numpy as np
import pytest
from PIL import Image

from creative4u.jobs.settings import JobsConfig, load_jobs_config
from creative4u.jobs.store import JobStore

SECRET = "whsec_" + "dGVzdC1zZWNyZXQtZm9yLWNyZWF0aXZlNHUtam9icw=="
OLD_SECRET = "whsec_" + "b2xkLXNlY3JldC1zdGlsbC1hY2NlcHRlZA=="
_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres():
    from creative4u.jobs.testing import PostgresServer

    server = PostgresServer()
    try:
        server.start()
    except Exception as err:  # noqa: BLE001 - any reason the server cannot run here skips the PostgreSQL tests
        reason = f"PostgreSQL server could not start: {err}"
        print(f"\n[jobs tests] {reason}", file=sys.stderr)
        server.stop()
        yield reason
        return
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A fresh, empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    pg = request.getfixturevalue("postgres")
    if isinstance(pg, str):
        pytest.skip(pg)
    return pg.create_database(f"t{next(_counter)}_{tmp_path.name[-20:].lower().replace('-', '_')}")


@pytest.fixture
def store(store_url):
    s = JobStore(store_url)
    yield s
    s.close()


def make_config(store_url: str, *overrides) -> JobsConfig:
    """The test config: short leases, fast retries, 127.0.0.1 allowed as a callback host, signing secrets."""
    base = [("store", store_url), "lease_s=2", "poll_s=0.05", "webhooks.require_https=false",
            "webhooks.allow_hosts=[127.0.0.1]", "webhooks.base_delay_s=0.1", "webhooks.max_delay_s=1",
            "webhooks.timeout_s=2", "webhooks.max_attempts=5",
            ("clients.default.webhook_secrets", [SECRET, OLD_SECRET]),
            "clients.acme.profile=strict", "clients.acme.thresholds.sharpness=0.9", "clients.acme.backend=feature"]
    return load_jobs_config(None, [*base, *overrides])


@pytest.fixture(scope="session")
def config_for():
    """``config_for(store_url, *overrides)``: the test config with more overrides."""
    return make_config


@pytest.fixture
def config(store_url) -> JobsConfig:
    return make_config(store_url)


def png(seed: int, size: tuple[int, int] = (128, 96)) -> bytes:
    """A small, varied, photo-like PNG (smooth gradients plus texture), different for every seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    base = np.stack([np.sin(xx * rng.uniform(2, 9) + c) * 0.5 + 0.5 for c in rng.uniform(0, 6, 3)], -1)
    base = base * rng.uniform(0.4, 1.0) + np.cos(yy * rng.uniform(2, 12))[..., None] * 0.2
    arr = np.clip(base * 200 + rng.normal(0, 12, (h, w, 3)) + 20, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="session")
def images() -> list[tuple[str, bytes]]:
    return [(f"img{i:02d}.png", png(i)) for i in range(20)]

"""A busy but healthy backend (``max_parallel`` slots all taken) is not a down backend."""

from __future__ import annotations

import asyncio
import io
import time

import pytest

from creative4u.serve.config import load_gateway_config
from creative4u.serve.protocol import GatewayError
from creative4u.serve.serving import CreativeService, RawImage


class _SlowSelect:
    """A pipeline whose judge step takes ``delay`` seconds, always answering (slow but healthy)."""

    def __init__(self, pipe, delay: float) -> None:
        self.suite, self._pipe, self._delay = pipe.suite, pipe, delay

    def select_screened(self, *args, **kwargs):  # the judge step the gateway runs after screening
        time.sleep(self._delay)
        return self._pipe.select_screened(*args, **kwargs)


def _raws(photos) -> list[RawImage]:
    out = []
    for name in ("coffee", "rocket"):
        buf = io.BytesIO()
        photos[name].resize((96, 64)).save(buf, format="JPEG")
        out.append(RawImage(f"{name}.jpg", name, data=buf.getvalue()))
    return out


@pytest.fixture
def cheap_profile(tmp_path) -> str:
    """One fast check, so the checks phase never nears the budget and only the judge step is slow."""
    path = tmp_path / "cheap.yaml"
    path.write_text("name: cheap\nchecks:\n  exposure: {}\n")
    return str(path)


def _service(profile: str, timeout_s: float, extra: list[str] = ()) -> CreativeService:
    sets = [
        f"profile={profile}",
        "workers=4",
        "backends.feature.max_parallel=1",
        f"backends.feature.timeout_s={timeout_s}",
    ]
    sets += extra
    svc = CreativeService(load_gateway_config(None, sets))
    real = svc.pipeline_for
    svc.pipeline_for = lambda backend: _SlowSelect(real(backend), 0.4)  # type: ignore[method-assign]
    return svc


def test_waiting_for_a_slot_does_not_mark_the_backend_down(photos, cheap_profile):
    svc = _service(cheap_profile, timeout_s=1.0)  # each judge run fits; four queued behind one slot take 1.6 s in all

    async def run() -> list:
        return await asyncio.gather(*(svc.select(_raws(photos)) for _ in range(4)), return_exceptions=True)

    try:
        outcomes = asyncio.run(run())
        assert [type(o).__name__ for o in outcomes] == ["Outcome"] * 4, outcomes
        assert all(not o.fallback_reason for o in outcomes)
        assert svc.backend_status() == {"feature": "up"}
    finally:
        svc.close()


def test_slot_wait_past_its_bound_is_busy_not_down(photos, cheap_profile):
    svc = _service(cheap_profile, timeout_s=5.0, extra=["queue_timeout_s=0.3"])  # the third waits ~0.8 s for the slot

    async def run() -> list:
        return await asyncio.gather(*(svc.select(_raws(photos)) for _ in range(3)), return_exceptions=True)

    try:
        outcomes = asyncio.run(run())
        busy = [o for o in outcomes if isinstance(o, GatewayError)]
        assert busy and all(o.status == 503 and o.code == "overloaded" and "busy" in str(o) for o in busy), outcomes
        assert svc.backend_status() == {"feature": "up"}
    finally:
        svc.close()

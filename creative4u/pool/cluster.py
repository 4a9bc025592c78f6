"""Connect to Ray: a running cluster (``--address``), the one this process already joined, or a local one.

>>> RayOptions(num_cpus=2).init_kwargs()["num_cpus"]
2
>>> RayOptions(address="ray://head:10001").init_kwargs()
{'address': 'ray://head:10001'}

``ray.init(local_mode=True)`` is gone from Ray; a local run starts a real (small) Ray cluster in this process and
stops it at the end. Ray is imported only here and in the workers, so the rest of creative4u never needs it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

RAY_EXTRA = "ray is not installed; install the pool extra: pip install 'creative4u[pool]'"


def import_ray() -> Any:
    """``ray`` (with ``ray.data``), or an error that names the extra to install."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as err:
        raise RuntimeError(RAY_EXTRA) from err
    return ray


@dataclass
class RayOptions:
    """Where the job runs: ``address`` of a cluster, or a local cluster of ``num_cpus`` (all cores by default)."""

    address: str | None = None
    num_cpus: int | None = None
    object_store_mb: int | None = 512  # a local run keeps Ray's shared memory small: batches here are small rows

    def init_kwargs(self) -> dict[str, Any]:
        if self.address:
            return {"address": self.address}
        kw: dict[str, Any] = {"include_dashboard": False}
        if self.num_cpus:
            kw["num_cpus"] = self.num_cpus
        if self.object_store_mb:
            kw["object_store_memory"] = self.object_store_mb * 1024 * 1024
        return kw


@contextmanager
def ray_session(options: RayOptions | None = None) -> Iterator[float]:
    """Join or start Ray for the block; yields the seconds start-up took (0 when Ray was already initialised).

    A Ray this function started is shut down at the end; one the caller initialised is left running.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield 0.0
        return
    start = time.perf_counter()
    ray.init(**(options or RayOptions()).init_kwargs())
    try:
        yield time.perf_counter() - start
    finally:
        ray.shutdown()


class PoolJobError(RuntimeError):
    """A Ray job failed for a reason other than an unreadable item (a judge server down, a worker out of memory)."""


def root_cause(err: BaseException) -> BaseException:
    """The exception a Ray job failed on: Ray wraps a worker's error (``RayTaskError.cause``) and chains it.

    >>> try:
    ...     try:
    ...         raise ConnectionError("server down")
    ...     except ConnectionError as inner:
    ...         raise RuntimeError("UDF failed") from inner
    ... except RuntimeError as outer:
    ...     print(repr(root_cause(outer)))
    ConnectionError('server down')
    """
    seen: set[int] = set()
    while id(err) not in seen:
        seen.add(id(err))
        nxt = getattr(err, "cause", None) or err.__cause__
        if not isinstance(nxt, BaseException):
            break
        err = nxt
    return err


_ERROR_LINE = re.compile(r"^(?P<cls>[A-Za-z_][\w.]*(?:Error|Exception)): (?P<msg>.+)$", re.MULTILINE)


def worker_error(err: BaseException) -> str:
    r"""``Class: message`` of the error a worker raised; Ray Data keeps it only in its traceback text.

    >>> worker_error(RuntimeError("Traceback ...\nmypkg.JudgeUnavailableError: server down\n"
    ...                           "ray.exceptions.UserCodeException: UDF failed"))
    'JudgeUnavailableError: server down'
    """
    cause = root_cause(err)
    texts = [str(e) for e in (err, getattr(err, "__cause__", None), cause) if e is not None]
    for text in texts:
        found = [m for m in _ERROR_LINE.finditer(text) if not m["cls"].startswith("ray.")]
        if found:
            return f"{found[-1]['cls'].rsplit('.', 1)[-1]}: {found[-1]['msg'][:300]}"
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[-1][:300] if text else ''}"


def job_failed(err: BaseException, out: str) -> PoolJobError:
    """A short error naming the worker's error and what is kept (the parts already written: a rerun resumes)."""
    return PoolJobError(f"the Ray job failed: {worker_error(err)}; the parts already written stay in {out}: "
                        "rerun the same command to resume")


def blocks(items: int, batch_size: int) -> int:
    """Input blocks for ``items``: one per batch (Ray's default of ~2 rows a block costs scheduling, not work).

    >>> blocks(400, 16), blocks(3, 16)
    (25, 1)
    """
    return max(1, -(-items // batch_size))


def cluster_cpus() -> int:
    """The CPUs of the cluster this process is connected to (at least 1)."""
    ray = import_ray()
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


@dataclass
class PoolRun:
    """What :func:`run_actor_pool` measured: summed worker counts, actors used, Ray start-up and job seconds."""

    totals: dict[str, int]
    actors: int
    startup_s: float
    elapsed_s: float


def run_actor_pool(items: list[dict[str, Any]], worker: type, worker_kwargs: dict[str, Any], *, totals: Sequence[str],
                   ray_options: RayOptions | None, batch_size: int, concurrency: int | None, out: str) -> PoolRun:
    """Stream ``items`` through an actor pool of ``worker`` (one CPU each) and sum the counts each batch returns.

    Both pool commands run this way: every actor builds its pipeline once (``worker_kwargs`` go to its
    constructor), each batch writes its own Parquet part and returns one summary row, and the rows are consumed
    as batches finish so nothing piles up in the driver. Any worker failure becomes one :class:`PoolJobError`
    that says the parts already written stay (a rerun resumes).
    """
    with ray_session(ray_options) as startup_s:
        ray = import_ray()
        start = time.perf_counter()
        actors = concurrency or cluster_cpus()
        ds = ray.data.from_items(items, override_num_blocks=blocks(len(items), batch_size)).map_batches(
            worker, fn_constructor_kwargs=worker_kwargs, batch_size=batch_size,
            compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=1,
        )
        counts = dict.fromkeys(totals, 0)
        try:
            for summary in ds.iter_rows():
                for k in counts:
                    counts[k] += int(summary[k])
        except Exception as err:  # noqa: BLE001 - any worker failure: one clear error, the written parts stay
            raise job_failed(err, out) from err
        return PoolRun(counts, actors, startup_s, time.perf_counter() - start)

"""The output folder of a pool job: Parquet parts written atomically, a manifest, and what is already done.

>>> import tempfile
>>> import pyarrow as pa
>>> schema = pa.schema([("source", pa.string()), ("sha256", pa.string()), ("score", pa.float64())])
>>> store = PoolStore(tempfile.mkdtemp(), kind="demo", meta={"columns": 3})
>>> store.open()
>>> _ = store.write_part([{"source": "a.jpg", "sha256": "ab12", "score": 0.5}], schema)
>>> sorted(store.done_keys(("source", "sha256")))
[('a.jpg', 'ab12')]
>>> store.read_table().num_rows
1

Layout: ``DIR/_pool.json`` (the job kind and what fixes the row schema: a profile's check names, a backend),
``DIR/part-<digest>.parquet`` (one per batch; the digest is the batch's keys, so a retried batch rewrites its own
file instead of adding a second one), ``DIR/_tmp/`` (parts being written: a part is written there, then renamed
into place, so a killed run leaves whole parts or none), ``DIR/_lock`` (one run at a time), ``DIR/_writers``
(held by every live worker: a rerun waits until the workers of a killed run are gone) and ``DIR/_damaged/`` (a
part that no longer reads, moved aside, never deleted). A rerun reads the keys of every whole part and skips those
rows: a killed run loses at most the batches that were in flight. The folder must be one every worker can write
(local disk on one machine, a shared filesystem such as NFS on a cluster; the locks are ``flock`` locks).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST = "_pool.json"
WRITERS_TIMEOUT_S = 120.0


class PoolStoreError(ValueError):
    """The output folder belongs to another job (a different kind, profile or backend) or is busy."""


class PoolStore:
    """One pool job's output folder (see the module docstring for the layout)."""

    def __init__(self, out: str | os.PathLike, kind: str, meta: dict[str, Any] | None = None) -> None:
        self.out = Path(out)
        self.kind = kind
        self.meta = dict(meta or {})
        self._lock_fh: Any = None
        self._writer_fh: Any = None

    @property
    def tmp_dir(self) -> Path:
        return self.out / "_tmp"

    def open(self) -> None:
        """Create the folder or check it is this job's; take the folder's lock and clear stale temporary parts."""
        self.out.mkdir(parents=True, exist_ok=True)
        self._lock()
        self._wait_for_writers()
        manifest = self.out / MANIFEST
        want = {"kind": self.kind, **self.meta}
        if manifest.exists():
            have = json.loads(manifest.read_text(encoding="utf-8"))
            if have != want:
                diff = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
                raise PoolStoreError(
                    f"{self.out} holds the results of another job (differs in {', '.join(diff)}); "
                    "use another --out folder, or the same settings to resume"
                )
        else:
            manifest.write_text(json.dumps(want, indent=2) + "\n", encoding="utf-8")
        self.tmp_dir.mkdir(exist_ok=True)
        for stale in self.tmp_dir.iterdir():  # only a killed run leaves these; this run holds the lock now
            stale.unlink(missing_ok=True)

    def _lock(self) -> None:
        # Two runs on one folder would screen the same images twice; the kernel drops the lock of a killed run.
        fh = (self.out / "_lock").open("w")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            fh.close()
            raise PoolStoreError(f"{self.out} is in use by another pool run") from err
        self._lock_fh = fh

    def _wait_for_writers(self, timeout_s: float = WRITERS_TIMEOUT_S) -> None:
        # Workers of a killed run die a moment after their driver and may still finish a part: wait until none of
        # them holds the writers' lock, so what this run reads as done stays all that an older run writes.
        with (self.out / "_writers").open("w") as fh:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return  # closing the file releases the lock
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise PoolStoreError(f"{self.out}: workers of an earlier run are still writing") from None
                    time.sleep(0.2)

    def hold_writer(self) -> None:
        """Called by each worker: a shared lock held while the process lives (the kernel drops it when it dies)."""
        fh = (self.out / "_writers").open("a")
        fcntl.flock(fh, fcntl.LOCK_SH)
        self._writer_fh = fh

    def close(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def parts(self) -> list[Path]:
        return sorted(self.out.glob("part-*.parquet"))

    def done_keys(self, columns: Sequence[str]) -> set[tuple]:
        """The key tuples of every row already written; a part that does not read is moved to ``_damaged/``."""
        import pyarrow.parquet as pq

        keys: set[tuple] = set()
        for part in self.parts():
            try:
                table = pq.read_table(part, columns=list(columns))
            except Exception as err:  # noqa: BLE001 - any unreadable part: set aside, its rows are redone
                self._set_aside(part, err)
                continue
            keys.update(zip(*(table.column(c).to_pylist() for c in columns), strict=True))
        return keys

    def _set_aside(self, part: Path, err: BaseException) -> None:
        damaged = self.out / "_damaged"
        damaged.mkdir(exist_ok=True)
        os.replace(part, damaged / part.name)
        log.warning("pool: %s does not read (%s); moved to %s, its rows are redone", part, err, damaged)

    def write_part(self, rows: list[dict[str, Any]], schema: Any, key: Iterable[str] = ()) -> Path | None:
        """Write ``rows`` as one Parquet part (temp file, then an atomic rename); ``None`` when there are none.

        ``key`` names the batch (its sources): the same batch, retried, lands in the same file.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not rows:
            return None
        digest = hashlib.sha256("\n".join(key or (json.dumps(r, default=str) for r in rows)).encode()).hexdigest()
        final = self.out / f"part-{digest[:32]}.parquet"
        tmp = self.tmp_dir / f"{final.stem}.{uuid.uuid4().hex}.tmp"
        table = pa.Table.from_pylist(rows, schema=schema)
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return final

    def read_table(self, columns: Sequence[str] | None = None) -> Any:
        """Every whole part as one ``pyarrow.Table`` (empty folder: ``None``)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = [pq.read_table(p, columns=list(columns) if columns else None) for p in self.parts()]
        return pa.concat_tables(tables) if tables else None

"""``creative4u pool screen``: the check suite over a whole image pool on Ray Data, one Parquet row per image.

>>> from creative4u.pipeline import Pipeline
>>> rows = ScreenRows(Pipeline(profile="default"))
>>> row = rows.screen("/no/such.jpg")
>>> row["name"], row["error"], row["approved"]
('/no/such.jpg', 'file not found', None)
>>> result = rows_to_check_result([row])
>>> result["errors"][0]["name"], result["images"]
('/no/such.jpg', [])

Each row is what ``creative4u check --json`` reports for that file, produced by the same code
(:meth:`creative4u.pipeline.Pipeline.check`): ``name``, ``sha256``, ``approved``, ``vetoed``, ``reasons``, the
lists of flagged / unavailable / failed checks, per check ``<check>_score``, ``<check>_status`` and
``<check>_flagged`` columns, and ``checks``: the whole per-check dict of ``check --json`` (values, evidence) as JSON.
An unreadable image is a row with ``error`` (the reason) and ``error_message``, never a failed job.

On Ray the sources are split into batches; an actor pool runs :class:`ScreenWorker`, whose actors build their
pipeline (check suite, OCR and ONNX sessions) once and each write their batch as one Parquet part
(:class:`~creative4u.pool.store.PoolStore`), so the output grows while the job runs and a rerun resumes.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creative4u.pipeline import Pipeline, PipelineConfig
from creative4u.pool.cluster import RayOptions, run_actor_pool
from creative4u.pool.sources import is_url, list_sources
from creative4u.pool.store import PoolStore

KEY = ("source", "sha256")
URL_TIMEOUT_S = 30.0


def screen_schema(check_names: list[str]) -> Any:
    """The Parquet schema of a screening row for a profile with these checks (fixed, so every part matches)."""
    import pyarrow as pa

    strings = pa.list_(pa.string())
    cols = [
        ("source", pa.string()), ("name", pa.string()), ("sha256", pa.string()),
        ("width", pa.int32()), ("height", pa.int32()),
        ("approved", pa.bool_()), ("vetoed", pa.bool_()),
        ("reasons", strings), ("flagged", strings), ("unavailable", strings), ("check_errors", strings),
        ("error", pa.string()), ("error_message", pa.string()),
        ("profile", pa.string()), ("checks", pa.string()), ("evidence_files", strings),
    ]
    for name in check_names:
        cols += [(f"{name}_score", pa.float64()), (f"{name}_status", pa.string()), (f"{name}_flagged", pa.bool_())]
    return pa.schema(cols)


class ScreenRows:
    """Screen one source at a time into a row; shared by the Ray workers and the one-process loop."""

    def __init__(self, pipeline: Pipeline, evidence_dir: str | Path | None = None) -> None:
        self.pipeline = pipeline
        self.checks = list(pipeline.suite.checks)
        self.columns = screen_schema(self.checks).names
        self.evidence_dir = evidence_dir

    def read(self, source: str) -> bytes | None:
        """The raw bytes of a source (``None`` if it cannot be read: the pipeline then reports why)."""
        limit = self.pipeline.config.max_bytes
        try:
            if is_url(source):
                with urllib.request.urlopen(source, timeout=URL_TIMEOUT_S) as resp:  # noqa: S310 - the pool's own list
                    return resp.read(limit + 1)
            path = Path(source)
            if not path.is_file() or path.stat().st_size > limit:
                return None
            return path.read_bytes()
        except OSError:
            return None

    def screen(self, source: str, done: frozenset | set = frozenset()) -> dict[str, Any] | None:
        """The row for ``source``, or ``None`` when ``(source, sha256)`` is in ``done``."""
        data = self.read(source)
        sha = hashlib.sha256(data).hexdigest() if data is not None else None
        if (source, sha) in done:
            return None
        if data is None and is_url(source):
            return self._error_row(source, sha, "cannot fetch the URL", f"{source}: cannot fetch the URL")
        # The same load and check as `creative4u check`: bytes under the source's name, or the path itself so a
        # file that cannot be read gets the pipeline's own error.
        images, errors = self.pipeline.load([(source, data) if data is not None else source])
        if errors:
            return self._error_row(source, sha, errors[0]["error"], errors[0]["message"])
        result = self.pipeline.check(images, evidence=True)
        row = self._image_row(source, result["images"][0], result["profile"])
        if self.evidence_dir:
            row["evidence_files"] = self._evidence(images[0])
        return row

    def _evidence(self, img: Any) -> list[str]:
        from creative4u.checks.evidence import write_evidence

        # The suite's cache answers: the checks are not run again.
        return [str(p) for p in write_evidence(img, self.pipeline.suite.screen(img), self.evidence_dir)]

    def _base(self, source: str, sha: str | None) -> dict[str, Any]:
        row: dict[str, Any] = dict.fromkeys(self.columns)  # every column, null unless set
        row |= {"source": source, "name": source, "sha256": sha, "profile": self.pipeline.suite.profile.name}
        for key in ("reasons", "flagged", "unavailable", "check_errors", "evidence_files"):
            row[key] = []
        return row

    def _error_row(self, source: str, sha: str | None, reason: str, message: str) -> dict[str, Any]:
        return {**self._base(source, sha), "error": reason, "error_message": message}

    def _image_row(self, source: str, img: dict[str, Any], profile: str) -> dict[str, Any]:
        row = self._base(source, img["sha256"])
        row.update(
            name=img["name"], width=img["size"][0], height=img["size"][1], approved=img["approved"],
            vetoed=img["vetoed"], reasons=img["reasons"], flagged=img["flagged"], unavailable=img["unavailable"],
            check_errors=img["errors"], profile=profile,
            # As `check --json` prints it (json.dumps default=str), so the two parse to the same values.
            checks=json.dumps(img["checks"], ensure_ascii=False, default=str),
        )
        for name, rep in img["checks"].items():
            row[f"{name}_score"] = float(rep["score"])
            row[f"{name}_status"] = rep["status"]
            row[f"{name}_flagged"] = bool(rep["flagged"])
        return row


def rows_to_check_result(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows back in the shape of ``creative4u check --json``: ``images`` and ``errors``, in row order."""
    images, errors = [], []
    for r in rows:
        if r.get("error"):
            errors.append({"name": r["name"], "error": r["error"], "message": r["error_message"]})
            continue
        images.append({
            "name": r["name"], "sha256": r["sha256"], "size": [r["width"], r["height"]],
            "approved": r["approved"], "vetoed": r["vetoed"], "reasons": list(r["reasons"]),
            "flagged": list(r["flagged"]), "unavailable": list(r["unavailable"]), "errors": list(r["check_errors"]),
            "checks": json.loads(r["checks"]),
        })
    return {"images": images, "errors": errors}


class ScreenWorker:
    """A Ray Data actor: builds its pipeline once, screens a batch of sources and writes it as one part."""

    def __init__(self, profile: str, out: str, cache_dir: str | None, evidence_dir: str | None,
                 done: frozenset, kind_meta: dict[str, Any]) -> None:
        self.rows = ScreenRows(Pipeline(PipelineConfig(profile=profile, cache_dir=cache_dir)), evidence_dir)
        self.store = PoolStore(out, kind="screen", meta=kind_meta)
        self.store.hold_writer()
        self.schema = screen_schema(self.rows.checks)
        self.done = done

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        sources = [str(s) for s in batch["source"]]
        rows = [r for s in sources if (r := self.rows.screen(s, self.done)) is not None]
        self.store.write_part(rows, self.schema, key=sources)
        return {
            "written": [len(rows)], "skipped": [len(sources) - len(rows)],
            "unreadable": [sum(bool(r.get("error")) for r in rows)],
            "flagged": [sum(bool(r.get("flagged")) for r in rows)],
        }


@dataclass
class ScreenJob:
    """Settings of one ``pool screen`` run (the CLI's flags)."""

    src: str
    out: str
    profile: str = "default"
    ray: RayOptions = field(default_factory=RayOptions)
    batch_size: int = 16
    concurrency: int | None = None  # actors; default: one per CPU of the cluster
    cache_dir: str | None = None
    evidence_dir: str | None = None
    column: str | None = None
    all_files: bool = False


def _meta(profile: str) -> tuple[dict[str, Any], list[str]]:
    suite = Pipeline(PipelineConfig(profile=profile)).suite
    checks = list(suite.checks)
    return {"profile": suite.profile.name, "checks": checks}, checks


def screen_pool(job: ScreenJob) -> dict[str, Any]:
    """Run a screening job on Ray; returns counts, timings and the output folder (the rows are in Parquet there)."""
    sources = list_sources(job.src, column=job.column, all_files=job.all_files)
    if not sources:
        raise ValueError(f"{job.src}: no images to screen")
    meta, _ = _meta(job.profile)
    store = PoolStore(job.out, kind="screen", meta=meta)
    store.open()
    try:
        done = frozenset(store.done_keys(KEY))
        kwargs = {"profile": job.profile, "out": str(job.out), "cache_dir": job.cache_dir,
                  "evidence_dir": job.evidence_dir, "done": done, "kind_meta": meta}
        run = run_actor_pool([{"source": s} for s in sources], ScreenWorker, kwargs,
                             totals=("written", "skipped", "unreadable", "flagged"), ray_options=job.ray,
                             batch_size=job.batch_size, concurrency=job.concurrency, out=str(job.out))
    finally:
        store.close()
    return {"sources": len(sources), **run.totals, "actors": run.actors, "out": str(job.out),
            "ray_startup_s": round(run.startup_s, 2), "elapsed_s": round(run.elapsed_s, 2),
            "images_per_s": round(len(sources) / run.elapsed_s, 2) if run.elapsed_s else None}


def screen_local(sources: list[str], profile: str = "default") -> list[dict[str, Any]]:
    """The same rows in one process, one image after another (the reference the benchmark compares with)."""
    rows = ScreenRows(Pipeline(PipelineConfig(profile=profile)))
    return [r for s in sources if (r := rows.screen(s)) is not None]


def read_rows(out: str | Path) -> list[dict[str, Any]]:
    """Every row written to a screening output folder, sorted by source."""
    table = PoolStore(out, kind="screen").read_table()
    return [] if table is None else sorted(table.to_pylist(), key=lambda r: r["source"])

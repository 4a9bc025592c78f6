"""``creative4u pool judge``: every CreativePair of a set judged in both orders, as ``select`` judges two creatives.

>>> from creative4u.pool.judge import JudgeRows
>>> rows = JudgeRows()
>>> row = rows.judge_batch([{"id": "p1", "image_a": "/no/a.jpg", "image_b": "/no/b.jpg", "label": "A"}])[0]
>>> row["id"], row["winner"], row["error"].startswith("need at least 2 readable images")
('p1', None, True)

Each pair's row holds ``select --json``'s answer for its two images (``result``, as JSON) and the columns a data
person filters on: ``winner`` (``A``/``B``, the pair's side), ``verdict``/``confidence``/``p_a``/``flipped`` of the
comparison (empty when a veto decided), ``vetoed``, ``correct`` against the pair's label, and ``error``.

Selection code is reused, not copied: a batch is run through :meth:`creative4u.pipeline.Pipeline.select` twice.
The first pass records the ordered pairs ``select`` asks its judge about; the real judge then answers all of them
in one ``judge_pairs`` call (the ``openai`` backend keeps at most ``concurrency`` requests in flight per worker);
the second pass replays those verdicts, so the combination rules (both orders, flips are ties, vetoes) are
``select``'s own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from creative4u.judge.base import Judge, PairInput, Verdict
from creative4u.pipeline import Pipeline, PipelineConfig
from creative4u.pool.cluster import RayOptions, run_actor_pool
from creative4u.pool.store import PoolStore

KEY = ("id", "sha_a", "sha_b")


def judge_schema() -> Any:
    """The Parquet schema of a judged pair's row."""
    import pyarrow as pa

    return pa.schema([
        ("id", pa.string()), ("image_a", pa.string()), ("image_b", pa.string()), ("label", pa.string()),
        ("sha_a", pa.string()), ("sha_b", pa.string()), ("title", pa.string()),
        ("winner", pa.string()), ("winner_name", pa.string()), ("verdict", pa.string()),
        ("confidence", pa.float64()), ("p_a", pa.float64()), ("flipped", pa.bool_()),
        ("vetoed", pa.list_(pa.string())), ("all_vetoed", pa.bool_()), ("judge_calls", pa.int32()),
        ("correct", pa.bool_()), ("backend", pa.string()), ("error", pa.string()), ("result", pa.string()),
    ])


class _Recorder(Judge):
    """Answers ties and remembers what it was asked, in order (the first pass)."""

    def __init__(self, real: Judge) -> None:
        self.real, self.asked = real, []  # type: ignore[var-annotated]
        self.name = real.name  # type: ignore[misc]

    @property
    def model_name(self) -> str:
        return self.real.model_name

    def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
        self.asked.extend(pairs)
        return [Verdict("tie", 0.5, 0.5, "", self.name, self.model_name) for _ in pairs]


class _Replay(_Recorder):
    """Hands back the real verdicts in the order they were asked for (the second pass)."""

    def __init__(self, real: Judge, verdicts: list[Verdict]) -> None:
        super().__init__(real)
        self.verdicts = list(verdicts)

    def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
        out, self.verdicts = self.verdicts[: len(pairs)], self.verdicts[len(pairs):]
        return out


def _sha(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


class JudgeRows:
    """Judge batches of pairs (dicts in the CreativePair JSON shape) into rows; the Ray workers use one each."""

    def __init__(self, backend: str = "feature", backend_options: dict[str, Any] | None = None,
                 profile: str = "default") -> None:
        self.config = PipelineConfig(profile=profile, backend=backend, backend_options=dict(backend_options or {}))
        self.pipeline = Pipeline(self.config)  # holds the real judge, built on first use
        # The pipeline that runs select: same config and suite (checks and sessions built once), a stand-in judge.
        self._runner = Pipeline(self.config, judge=_Recorder(self.pipeline.judge))
        self._runner.suite = self.pipeline.suite

    def judge_batch(self, pairs: list[dict[str, Any]], done: frozenset | set = frozenset()) -> list[dict[str, Any]]:
        todo = [(p, _sha(p["image_a"]), _sha(p["image_b"])) for p in pairs]
        todo = [t for t in todo if (str(t[0]["id"]), t[1], t[2]) not in done]
        recorder = _Recorder(self.pipeline.judge)
        asked_per_pair = []
        for pair, _, _ in todo:  # first pass: what would select ask?
            before = len(recorder.asked)
            self._select(pair, recorder)
            asked_per_pair.append(len(recorder.asked) - before)
        verdicts = self.pipeline.judge.judge_pairs(recorder.asked) if recorder.asked else []
        rows, k = [], 0
        for (pair, sha_a, sha_b), n in zip(todo, asked_per_pair, strict=True):
            result, error = self._select(pair, _Replay(self.pipeline.judge, verdicts[k: k + n]))
            k += n
            rows.append(self._row(pair, sha_a, sha_b, result, error))
        return rows

    def _select(self, pair: dict[str, Any], judge: Judge) -> tuple[dict[str, Any] | None, str | None]:
        self._runner._judge = judge
        try:
            result = self._runner.select([pair["image_a"], pair["image_b"]], title=pair.get("title", ""),
                                     queries=pair.get("queries") or [])
            return result, None
        except ValueError as err:  # fewer than 2 readable images: this pair's error, not the job's
            return None, str(err)

    def _row(self, pair: dict[str, Any], sha_a: str | None, sha_b: str | None, result: dict[str, Any] | None,
             error: str | None) -> dict[str, Any]:
        row: dict[str, Any] = dict.fromkeys(judge_schema().names)  # every column, null unless set
        row |= {
            "id": str(pair["id"]), "image_a": pair["image_a"], "image_b": pair["image_b"],
            "label": pair.get("label"), "sha_a": sha_a, "sha_b": sha_b, "title": pair.get("title", ""),
            "vetoed": [], "backend": self.config.backend, "error": error,
        }
        if result is None:
            return row
        comp = result["comparisons"][0] if result["comparisons"] else {}
        winner = "AB"[result["winner_index"]]
        label = pair.get("label")
        row.update(
            winner=winner, winner_name=result["winner"], verdict=comp.get("verdict"),
            confidence=comp.get("confidence"), p_a=comp.get("p_a"), flipped=comp.get("flipped"),
            vetoed=[v["name"] for v in result["vetoed"]], all_vetoed=result["all_vetoed"],
            judge_calls=result["judge_calls"], correct=None if label not in ("A", "B") else winner == label,
            result=json.dumps(result, ensure_ascii=False, default=str),
        )
        return row

    def close(self) -> None:
        if self.pipeline._judge is not None:
            self.pipeline.judge.close()


class JudgeWorker:
    """A Ray Data actor: one pipeline and judge per actor; each batch is written as one Parquet part."""

    def __init__(self, backend: str, backend_options: dict[str, Any], profile: str, out: str, done: frozenset,
                 kind_meta: dict[str, Any]) -> None:
        self.rows = JudgeRows(backend, backend_options, profile)
        self.store = PoolStore(out, kind="judge", meta=kind_meta)
        self.store.hold_writer()
        self.schema = judge_schema()
        self.done = done

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        pairs = [json.loads(p) for p in batch["pair"]]
        rows = self.rows.judge_batch(pairs, self.done)
        self.store.write_part(rows, self.schema, key=[str(p["id"]) for p in pairs])
        return {"written": [len(rows)], "skipped": [len(pairs) - len(rows)],
                "errors": [sum(bool(r["error"]) for r in rows)],
                "correct": [sum(bool(r.get("correct")) for r in rows)]}


@dataclass
class JudgeJob:
    """Settings of one ``pool judge`` run (the CLI's flags)."""

    pairs: str
    out: str
    backend: str = "feature"
    backend_options: dict[str, Any] = field(default_factory=dict)
    profile: str = "default"
    ray: RayOptions = field(default_factory=RayOptions)
    batch_size: int = 16
    concurrency: int | None = None  # actors; default: one per CPU


def judge_pool(job: JudgeJob) -> dict[str, Any]:
    """Judge every pair of a CreativePair JSONL on Ray; rows go to Parquet parts under ``job.out``."""
    from creative4u.data.pairs import read_pairs

    pairs = read_pairs(job.pairs)
    if not pairs:
        raise ValueError(f"{job.pairs}: no pairs to judge")
    Pipeline(PipelineConfig(profile=job.profile))  # a bad profile is the caller's error here, not every worker's
    options = {k: v for k, v in job.backend_options.items() if k != "api_key"}  # never written to the manifest
    meta = {"backend": job.backend, "backend_options": options, "profile": job.profile}
    store = PoolStore(job.out, kind="judge", meta=meta)
    store.open()
    try:
        done = frozenset(store.done_keys(KEY))
        items = [{"pair": json.dumps(p.to_json() | {"queries": p.queries}, ensure_ascii=False)} for p in pairs]
        kwargs = {"backend": job.backend, "backend_options": job.backend_options, "profile": job.profile,
                  "out": str(job.out), "done": done, "kind_meta": meta}
        run = run_actor_pool(items, JudgeWorker, kwargs, totals=("written", "skipped", "errors", "correct"),
                             ray_options=job.ray, batch_size=job.batch_size, concurrency=job.concurrency,
                             out=str(job.out))
    finally:
        store.close()
    return {"pairs": len(pairs), **run.totals, "actors": run.actors, "out": str(job.out),
            "ray_startup_s": round(run.startup_s, 2), "elapsed_s": round(run.elapsed_s, 2)}


def read_judged(out: str | Path) -> list[dict[str, Any]]:
    """Every judged pair written to an output folder, sorted by pair id."""
    table = PoolStore(out, kind="judge").read_table()
    return [] if table is None else sorted(table.to_pylist(), key=lambda r: r["id"])

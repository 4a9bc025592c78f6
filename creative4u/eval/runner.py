"""The resumable prediction loop behind ``creative4u eval PAIRS.jsonl``.

>>> cfg = EvalConfig(pairs="pairs.jsonl", out="runs/random", backend="random")
>>> cfg.orders, cfg.batch_size
('both', 32)
>>> resolve_backend("single:sharpness", {})
('single_feature', {'feature': 'sharpness'})

Every pair is judged in both orders (``--orders both``) or as written (``ab``), 32 pairs per ``judge_pairs`` call.
Each finished batch is appended to ``DIR/predictions.jsonl`` and flushed to disk (``fsync``) before the next one
starts, so a killed run loses at most the batch in flight; on rerun, rows already on disk are skipped and a
half-written last line (the kill came mid-write) is detected and dropped. ``DIR/run.json`` records what produced
the rows, so a rerun with another backend or profile into the same folder is refused instead of mixing results.
Malformed lines and pairs whose images are missing or unreadable are reported with their line numbers, skipped, and
counted in ``metrics.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from creative4u.data.pairs import CreativePair, PairFormatError, iter_pairs

PREDICTIONS = "predictions.jsonl"
RUN_STATE = "run.json"
METRICS = "metrics.json"
# What must be equal for rows on disk to be reused: anything that changes a verdict.
STATE_KEYS = ("pairs", "backend", "backend_options", "profile", "orders")
MAX_RAW = 4000  # characters of a backend's raw output kept per row (the rationale is kept whole)


@dataclass
class EvalConfig:
    """One evaluation run: which pairs, which judge, where the results go.

    >>> from creative4u.config import load_config
    >>> load_config(EvalConfig, None, ["pairs=p.jsonl", "backend_options.timeout=5"]).backend_options
    {'timeout': 5}

    Read with :func:`creative4u.config.load_config` (YAML keys = these field names, ``--set a.b=c`` overrides).
    """

    pairs: str = field(default="", metadata={"help": "CreativePair JSONL file to evaluate on."})
    out: str = field(default="", metadata={"help": "Output folder: predictions.jsonl, metrics.json, report.*"})
    backend: str = field(
        default="feature",
        metadata={"help": "Judge backend: feature, random, single_feature (single:CHECK), openai, transformers, "
                          "or module:Class."},
    )
    backend_options: dict[str, Any] = field(default_factory=dict, metadata={"help": "Options for the backend."})
    feature: str | None = field(default=None, metadata={"help": "Check name for the single_feature baseline."})
    seed: int = field(default=0, metadata={"help": "Seed of the random baseline and of the bootstrap."})
    orders: str = field(default="both", metadata={"help": "Judge both orders (both) or only as written (ab)."})
    limit: int | None = field(default=None, metadata={"help": "Evaluate only the first N valid pairs."})
    batch_size: int = field(default=32, metadata={"help": "Pairs per judge_pairs call (and per fsync)."})
    profile: str = field(default="default", metadata={"help": "Check profile for the screens the judge sees."})
    cache_dir: str | None = field(default=None, metadata={"help": "On-disk cache of check measurements."})
    bootstrap: int = field(default=1000, metadata={"help": "Bootstrap resamples for the 95% intervals."})
    report: bool = field(default=True, metadata={"help": "Write report.md / report.html with plots."})
    worst: int = field(default=12, metadata={"help": "Number of worst mistakes shown in the report gallery."})
    overwrite: bool = field(default=False, metadata={"help": "Discard earlier predictions in --out and start over."})
    progress: bool = field(default=True, metadata={"help": "Show a progress bar on stderr."})

    def __post_init__(self) -> None:
        if self.orders not in ("both", "ab"):
            raise ValueError(f"orders must be 'both' or 'ab', got {self.orders!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be >= 1, got {self.limit}")

    @property
    def order_list(self) -> tuple[str, ...]:
        return ("ab", "ba") if self.orders == "both" else ("ab",)


def resolve_backend(backend: str, options: dict[str, Any], feature: str | None = None, seed: int | None = None):
    """Map eval's backend spelling to a judge spec and options (``single:CHECK``, ``--feature``, ``--seed``).

    A registered alias becomes its name (what ``run.json`` records); ``module:Class`` is a plug-in, passed on whole.
    """
    from creative4u.judge import JUDGES

    name, options = backend, dict(options)
    head, _, arg = backend.partition(":")
    if arg and head in JUDGES:  # NAME:ARG is eval's spelling; only the single-feature baseline takes an ARG
        if JUDGES.canonical(head) != "single_feature":
            raise ValueError(f"backend {backend!r}: only single:CHECK takes an argument after ':'")
        name = head
        options.setdefault("feature", arg)
    name = JUDGES.canonical(name) if name in JUDGES else name
    if name == "single_feature":
        options.setdefault("feature", feature or "sharpness")
    if name == "random" and seed is not None:
        options.setdefault("seed", seed)
    return name, options


# --------------------------------------------------------------------------------------------- reading the pairs


def read_pair_lines(path: str | Path, limit: int | None = None) -> tuple[list[tuple[int, CreativePair]], list[dict]]:
    """Valid pairs with their line numbers, and the skipped lines (malformed, duplicate id, missing image)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pairs file not found: {path}")
    pairs: list[tuple[int, CreativePair]] = []
    skipped: list[dict] = []
    seen: set[str] = set()
    for lineno, item in iter_pairs(path, strict=False):
        if limit is not None and len(pairs) >= limit:
            break
        if isinstance(item, PairFormatError):
            skipped.append({"line": lineno, "reason": "malformed", "message": str(item)})
        elif item.id in seen:
            msg = f"{path}:{lineno}: duplicate pair id {item.id!r}"
            skipped.append({"line": lineno, "reason": "duplicate_id", "message": msg})
        elif missing := [p for p in (item.image_a, item.image_b) if not Path(p).is_file()]:
            msg = f"{path}:{lineno}: image not found: {missing[0]}"
            skipped.append({"line": lineno, "reason": "missing_image", "message": msg})
        else:
            seen.add(item.id)
            pairs.append((lineno, item))
    return pairs, skipped


def summarize_skipped(skipped: Sequence[dict], keep: int = 100) -> dict[str, Any]:
    """The ``skipped`` block of metrics.json: counts by reason and the first ``keep`` lines with their messages.

    >>> summarize_skipped([{"line": 3, "reason": "malformed", "message": "x"}])["by_reason"]
    {'malformed': 1}
    """
    by_reason: dict[str, int] = {}
    for s in skipped:
        by_reason[s["reason"]] = by_reason.get(s["reason"], 0) + 1
    lines = sorted(skipped, key=lambda s: s["line"])
    return {"total": len(skipped), "by_reason": dict(sorted(by_reason.items())), "lines": lines[:keep]}


# ------------------------------------------------------------------------------------------- predictions on disk


def load_predictions(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """Rows on disk and how many damaged lines were dropped; a damaged file is rewritten without them.

    Only the last line can be half-written by a kill (rows are appended whole, then fsynced); any undecodable line
    is dropped so the pairs it held are judged again.
    """
    path = Path(path)
    if not path.is_file():
        return [], 0
    data = path.read_bytes()
    rows, bad = [], 0
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        complete = i < len(lines) - 1  # the last chunk has no newline: the kill came mid-line
        try:
            row = json.loads(line) if complete else None
        except ValueError:
            row = None
        if isinstance(row, dict) and {"pair_id", "order", "winner"} <= row.keys():
            rows.append(row)
        else:
            bad += 1
    if bad:
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        os.replace(tmp, path)
    return rows, bad


class PredictionWriter:
    """Appends rows to predictions.jsonl; each :meth:`write` ends with flush + fsync so finished work survives."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh = self.path.open("a", encoding="utf-8")
        self.write_ms = 0.0

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        start = time.perf_counter()
        # One write call per batch: a kill leaves at most one partial line at the end, which loading detects.
        self._fh.write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.write_ms += (time.perf_counter() - start) * 1000

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> PredictionWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _run_state(config: EvalConfig, backend: str, options: Any) -> dict[str, Any]:
    from creative4u.judge.options import record

    return {
        "pairs": str(Path(config.pairs).resolve()),
        "backend": backend,
        # Every typed option, defaults too: a flag (int) and a YAML value (int) of the same run compare equal.
        "backend_options": record(options),
        "profile": config.profile,
        "orders": config.orders,
    }


def prepare_out_dir(config: EvalConfig, state: dict[str, Any]) -> None:
    """Create the folder; refuse to mix rows of a different run unless ``overwrite``."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / RUN_STATE
    if config.overwrite:
        for name in (PREDICTIONS, METRICS, RUN_STATE):
            (out / name).unlink(missing_ok=True)
    elif state_path.is_file() and (out / PREDICTIONS).is_file():
        old = json.loads(state_path.read_text())
        diff = [k for k in STATE_KEYS if old.get(k) != state.get(k)]
        if diff:
            details = "; ".join(f"{k}: {old.get(k)!r} on disk vs {state.get(k)!r} now" for k in diff)
            raise ValueError(f"{out} holds predictions of another run ({details}); use another --out or --overwrite")
    state_path.write_text(json.dumps(state, indent=2, default=str) + "\n")


# ------------------------------------------------------------------------------------------------ the main loop


class _ImageCache:
    """Loaded images by path, bounded: benchmark pairs reuse the same originals many times."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._data: OrderedDict[str, Any] = OrderedDict()

    def get(self, path: str) -> Any:
        from creative4u.images import load_image

        if path in self._data:
            self._data.move_to_end(path)
            return self._data[path]
        img = load_image(path, name=Path(path).name)
        self._data[path] = img
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)
        return img


@dataclass
class _Timing:
    load_ms: float = 0.0
    screen_ms: float = 0.0
    judge_ms: float = 0.0
    batches: int = 0
    pairs: int = 0


def screen_profile(profile: str, only: Sequence[str] | None) -> Any:
    """The profile, or just the checks a judge reads (a single-feature baseline need not run the whole suite)."""
    from creative4u.checks.profile import CheckProfile, CheckSettings, load_profile

    base = load_profile(profile)
    if only is None:
        return base
    checks = {name: base.checks.get(name) or CheckSettings() for name in only}
    return CheckProfile(name=f"{base.name}[{','.join(only)}]", description=base.description, checks=checks)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class EvalRunner:
    """Judges the pairs of one config, appending rows to disk; :meth:`run` returns the metrics dict."""

    def __init__(self, config: EvalConfig, judge: Any = None) -> None:
        self.config = config
        self.backend, options = resolve_backend(config.backend, config.backend_options, config.feature, config.seed)
        if judge is None:  # checked against the backend's options dataclass before any work starts
            from creative4u.judge import judge_options

            options = judge_options(self.backend, options, where="backend_options")
        self.options = options
        self._judge = judge
        self._suite: Any = None
        self.images = _ImageCache()
        self.timing = _Timing()
        self.out = Path(config.out)

    @property
    def judge(self) -> Any:
        if self._judge is None:
            from creative4u.judge import resolve_judge

            self._judge = resolve_judge(self.backend, self.options)
        return self._judge

    @property
    def suite(self) -> Any:
        """The check suite whose screens the judge sees; None for a judge that reads no screen (``random``)."""
        if self._suite is None and getattr(self.judge, "needs_screens", True):
            from creative4u.checks.suite import CheckSuite

            profile = screen_profile(self.config.profile, getattr(self.judge, "screen_checks", None))
            self._suite = CheckSuite(profile, cache_dir=self.config.cache_dir)
        return self._suite

    def _warn(self, message: str) -> None:
        if self.config.progress:
            from tqdm import tqdm

            tqdm.write(f"creative4u eval: {message}", file=sys.stderr)
        else:
            print(f"creative4u eval: {message}", file=sys.stderr)

    def _inputs(self, batch, done, skipped) -> tuple[list[Any], list[tuple[int, CreativePair, str]]]:
        """PairInputs for the orders of each pair not on disk yet; unreadable images skip the pair."""
        from creative4u.images import ImageLoadError
        from creative4u.judge.base import PairInput

        inputs, meta = [], []
        for lineno, pair in batch:
            start = time.perf_counter()
            try:
                img_a, img_b = self.images.get(pair.image_a), self.images.get(pair.image_b)
            except ImageLoadError as err:
                msg = f"{self.config.pairs}:{lineno}: unreadable image {err}"
                skipped.append({"line": lineno, "reason": "unreadable_image", "message": msg})
                self._warn(f"skipped {msg}")
                continue
            t1 = time.perf_counter()
            suite = self.suite
            scr_a, scr_b = (suite.screen(img_a), suite.screen(img_b)) if suite is not None else (None, None)
            self.timing.load_ms += (t1 - start) * 1000
            self.timing.screen_ms += (time.perf_counter() - t1) * 1000
            base = PairInput(img_a, img_b, scr_a, scr_b, pair.title, pair.queries)
            for order in self.config.order_list:
                if (pair.id, order) not in done:
                    inputs.append(base if order == "ab" else base.swapped())
                    meta.append((lineno, pair, order))
        return inputs, meta

    def _judge_batch(self, inputs: list[Any]) -> list[Any]:
        start = time.perf_counter()
        verdicts = self.judge.judge_pairs(inputs) if inputs else []
        self.timing.judge_ms += (time.perf_counter() - start) * 1000
        if len(verdicts) != len(inputs):
            raise RuntimeError(f"backend {self.backend!r} returned {len(verdicts)} verdicts for {len(inputs)} pairs")
        return verdicts

    def run(self) -> dict[str, Any]:
        cfg = self.config
        pairs, skipped = read_pair_lines(cfg.pairs, cfg.limit)
        for s in skipped:
            self._warn(f"skipped {s['message']}")
        self.out.mkdir(parents=True, exist_ok=True)
        lock = _lock(self.out)
        try:
            prepare_out_dir(cfg, _run_state(cfg, self.backend, self.options))
            todo, done = self._pending(pairs)
            self._loop(pairs, todo, done, skipped)
            return self.finish(pairs, skipped)
        finally:
            if self._judge is not None:
                self._judge.close()
            lock.close()

    def _pending(self, pairs: Sequence[tuple[int, CreativePair]]) -> tuple[list, set[tuple[str, str]]]:
        """Pairs with an order not on disk yet, and the (pair id, order) keys already there."""
        rows, bad = load_predictions(self.out / PREDICTIONS)
        if bad:
            self._warn(f"dropped {bad} damaged line(s) of {PREDICTIONS} (an interrupted write); judging them again")
        rows, stale = current_rows(rows, pairs)
        if stale:
            self._warn(f"{stale} row(s) on disk show other images under the same pair id (the pairs file changed); "
                       "judging those pairs again")
        done = {(r["pair_id"], r["order"]) for r in rows}
        todo = [(n, p) for n, p in pairs if any((p.id, o) not in done for o in self.config.order_list)]
        if len(todo) < len(pairs):
            self._warn(f"resuming: {len(pairs) - len(todo)} of {len(pairs)} pairs already judged in {self.out}")
        return todo, done

    def _loop(self, pairs, todo, done, skipped) -> None:
        from tqdm import tqdm

        bar = tqdm(total=len(pairs), initial=len(pairs) - len(todo), unit="pair", disable=not self.config.progress,
                   desc=f"eval {self.config.backend}", file=sys.stderr)
        with PredictionWriter(self.out / PREDICTIONS) as writer, bar:
            for batch in _chunks(todo, self.config.batch_size):
                start = time.perf_counter()
                inputs, meta = self._inputs(batch, done, skipped)
                verdicts = self._judge_batch(inputs)
                wall_ms = (time.perf_counter() - start) * 1000 / max(len(verdicts), 1)
                writer.write([make_row(ln, p, o, v, wall_ms) for (ln, p, o), v in zip(meta, verdicts, strict=True)])
                self.timing.batches += 1
                self.timing.pairs += len(batch)
                bar.update(len(batch))
            self.write_ms = writer.write_ms

    def finish(self, pairs: Sequence[tuple[int, CreativePair]], skipped: list[dict]) -> dict[str, Any]:
        """Score the rows on disk for the current pairs; write metrics.json (and the report)."""
        from creative4u.eval.metrics import compute_metrics, pair_results

        start = time.perf_counter()
        rows, _ = current_rows(load_predictions(self.out / PREDICTIONS)[0], pairs)
        current = {p.id: (ln, p) for ln, p in pairs}
        rows = [_relabel(r, current[r["pair_id"]][1]) for r in rows]
        complete = _complete_ids(rows, self.config.order_list)
        results = pair_results([r for r in rows if r["pair_id"] in complete], order=list(current))
        metrics = compute_metrics(results, self.config.bootstrap, self.config.seed, summarize_skipped(skipped))
        metrics = {"pairs_file": str(self.config.pairs), "orders": self.config.orders, **metrics}
        metrics["timing"] = self._timing_block(time.perf_counter() - start)
        _atomic_write(self.out / METRICS, json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
        if self.config.report:
            from creative4u.eval.report import write_report

            write_report(self.out, results, metrics, worst=self.config.worst)
        return metrics

    def _timing_block(self, metrics_s: float) -> dict[str, Any]:
        t, n = self.timing, max(self.timing.pairs, 1)
        per_pair = {k: round(getattr(t, f"{k}_ms") / n, 3) for k in ("load", "screen", "judge")}
        per_pair["write"] = round(getattr(self, "write_ms", 0.0) / n, 3)
        return {"this_session_pairs": t.pairs, "batches": t.batches, "per_pair_ms": per_pair,
                "metrics_s": round(metrics_s, 3)}


def make_row(lineno: int, pair: CreativePair, order: str, verdict: Any, wall_ms: float) -> dict[str, Any]:
    """One predictions.jsonl row: the verdict as the judge saw the pair, plus what metrics need."""
    from creative4u.eval.metrics import pair_frame

    row = {
        "pair_id": pair.id,
        "line": lineno,
        "order": order,
        "label": pair.label,
        "category": pair.category,
        "image_a": pair.image_a,
        "image_b": pair.image_b,
        "winner": verdict.winner,
        "confidence": round(float(verdict.confidence), 6),
        "p_a": None if verdict.p_a is None else round(float(verdict.p_a), 6),
        "rationale": verdict.rationale,
        "parse_status": verdict.parse_status,
        "latency_ms": round(float(verdict.latency_ms), 3),
        "wall_ms": round(wall_ms, 3),
        "backend": verdict.backend,
        "model": verdict.model,
        "raw": (verdict.raw or "")[:MAX_RAW],
    }
    row["pred"] = pair_frame(row)
    row["correct"] = row["pred"] == pair.label
    if verdict.details:
        row["details"] = json.loads(json.dumps(verdict.details, default=str))
    return row


def current_rows(rows: Sequence[dict[str, Any]], pairs: Sequence[tuple[int, CreativePair]]) -> tuple[list, int]:
    """The rows that belong to the pairs as they are now, and how many show other images under a pair's id.

    A row is kept only when its pair id is in ``pairs`` and it shows the same two image files in the same slots:
    a rebuilt pairs file may reuse an id with A and B swapped, and an old answer would then score the wrong image.
    """
    paths = {p.id: (_real(p.image_a), _real(p.image_b)) for _, p in pairs}
    kept, stale = [], 0
    for r in rows:
        want = paths.get(r["pair_id"])
        if want is None:
            continue
        if (_real(r.get("image_a", "")), _real(r.get("image_b", ""))) == want:
            kept.append(r)
        else:
            stale += 1
    return kept, stale


def _real(path: str) -> str:
    return os.path.realpath(path) if path else ""


def _relabel(row: dict[str, Any], pair: CreativePair) -> dict[str, Any]:
    """Score against the pairs file as it is now (a corrected label must not need a rerun of the judge)."""
    if row.get("label") == pair.label and row.get("category", "") == pair.category:
        return row
    return {**row, "label": pair.label, "category": pair.category, "correct": row.get("pred") == pair.label}


def _complete_ids(rows: Sequence[dict[str, Any]], orders: Sequence[str]) -> set[str]:
    have: dict[str, set[str]] = {}
    for r in rows:
        have.setdefault(r["pair_id"], set()).add(r["order"])
    return {pid for pid, o in have.items() if set(orders) <= o}


def _lock(out: Path) -> Any:
    """Hold an exclusive lock on the folder so two runs never append to the same file (a kill releases it)."""
    fh = (out / ".lock").open("w")
    try:
        import fcntl

        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # pragma: no cover - not POSIX: no lock, as before
        pass
    except OSError as err:
        fh.close()
        raise RuntimeError(f"another creative4u eval is writing to {out}; wait for it or use another --out") from err
    return fh


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def run_eval(config: EvalConfig, judge: Any = None) -> dict[str, Any]:
    """Run (or resume) one evaluation and return its metrics.

    >>> # metrics = run_eval(EvalConfig(pairs="bench/pairs.jsonl", out="runs/feature", backend="feature"))
    """
    return EvalRunner(config, judge).run()


def config_dict(config: EvalConfig) -> dict[str, Any]:
    return asdict(config)

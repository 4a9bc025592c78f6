"""Eval throughput and the cost of eval's own bookkeeping, per pair.

>>> # python benchmarks/bench_eval.py --pairs outputs/bench/standard/pairs.jsonl --backend feature --limit 200

Measures, on the same pairs (both orders, batches of 32):

1. ``judge only``: ``judge.judge_pairs`` on prepared inputs (images loaded and screened beforehand) — the judge's
   own speed;
2. ``eval, cold``: ``creative4u eval`` end to end in a fresh folder with an empty check cache (load + screen +
   judge + write + metrics);
3. ``eval, warm``: the same again with the check measurements cached (what a second backend on the same bench
   pays);
4. ``bookkeeping``: a run with every image already decoded and a judge that answers instantly without screens:
   what is left is eval's own cost — reading the pairs, building rows, writing + fsync, the resume scan and the
   metrics with their bootstrap intervals.

Wall times are reported next to CPU times because CI machines are shared; the load average is printed too. Without
``--pairs`` a small benchmark is built from scikit-image's photos first. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from creative4u.judge.base import Judge, Verdict


class InstantJudge(Judge):
    """Answers A at once without looking at anything: what is left of a run's time is eval's bookkeeping."""

    name = "instant"
    needs_screens = False

    def judge_pairs(self, pairs):
        return [Verdict("A", 0.5, 0.5, "instant", self.name, self.name, "n/a", 0.0) for _ in pairs]


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> dict[str, float]:
    wall, cpu = _clock()
    return {"wall_s": round(wall - start[0], 3), "cpu_s": round(cpu - start[1], 3)}


def _build_small_bench(root: Path) -> Path:
    from creative4u.cli.data import write_bench_files
    from creative4u.data.build_pairs import build_check_labels, build_pairs
    from creative4u.data.photos import list_photos

    manifest = build_pairs(root, list_photos(("skimage",)), per_photo=1, size=384, seed=0, holdout_fraction=0.0)
    write_bench_files(root, manifest, build_check_labels(root), {"seed": 0, "sources": "skimage", "size": [384],
                                                                  "per_photo": 1, "holdout": 0.0})
    return root / "pairs.jsonl"


def judge_only(pairs_path: Path, backend: str, limit: int | None, batch: int) -> dict[str, Any]:
    """Time ``judge_pairs`` alone on prepared inputs (loading and screening timed separately)."""
    from creative4u.checks.suite import MEMORY_CACHE, CheckSuite
    from creative4u.eval.runner import read_pair_lines, resolve_backend, screen_profile
    from creative4u.images import load_image
    from creative4u.judge import get_judge
    from creative4u.judge.base import PairInput

    name, options = resolve_backend(backend, {})
    judge = get_judge(name, **options)
    pairs, _ = read_pair_lines(pairs_path, limit)
    MEMORY_CACHE.clear()
    t = _clock()
    images = {p: load_image(p) for _, pair in pairs for p in (pair.image_a, pair.image_b)}
    load = _since(t)
    t = _clock()
    suite = None
    if getattr(judge, "needs_screens", True):
        suite = CheckSuite(screen_profile("default", getattr(judge, "screen_checks", None)))
    screens = {p: suite.screen(img) if suite else None for p, img in images.items()}
    screen = _since(t)
    inputs = []
    for _, pair in pairs:
        base = PairInput(images[pair.image_a], images[pair.image_b], screens[pair.image_a], screens[pair.image_b],
                         pair.title, pair.queries)
        inputs += [base, base.swapped()]
    t = _clock()
    for i in range(0, len(inputs), 2 * batch):
        judge.judge_pairs(inputs[i : i + 2 * batch])
    judged = _since(t)
    judge.close()
    n = len(pairs)
    return {"pairs": n, "images": len(images), "load": load, "screen": screen, "judge": judged,
            "judge_pairs_per_s": round(n / judged["wall_s"], 2) if judged["wall_s"] else None,
            "screen_ms_per_image": round(1000 * screen["wall_s"] / len(images), 2)}


def eval_run(pairs_path: Path, out: Path, backend: str, limit: int | None, batch: int, cold: bool,
             judge: Any = None, preload: bool = False) -> dict[str, Any]:
    """One ``creative4u eval`` run; ``preload`` decodes every image first so the run pays no loading."""
    from creative4u.checks.suite import MEMORY_CACHE
    from creative4u.eval.runner import EvalConfig, EvalRunner, read_pair_lines

    if cold:
        MEMORY_CACHE.clear()
    cfg = EvalConfig(pairs=str(pairs_path), out=str(out), backend=backend, limit=limit, batch_size=batch,
                     progress=False, report=False, bootstrap=1000, overwrite=True)
    runner = EvalRunner(cfg, judge=judge)
    if preload:
        runner.images.capacity = 1 << 20  # keep every image: the run must not pay any decoding
        for _, pair in read_pair_lines(pairs_path, limit)[0]:
            runner.images.get(pair.image_a), runner.images.get(pair.image_b)
    t = _clock()
    m = runner.run()
    took = _since(t)
    n = m["n_pairs"]
    return {"pairs": n, **took, "pairs_per_s": round(n / took["wall_s"], 2), "accuracy": m["accuracy"],
            "per_pair_ms": m["timing"]["per_pair_ms"], "metrics_s": m["timing"]["metrics_s"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", default=None, help="CreativePair JSONL (default: build a small skimage bench)")
    parser.add_argument("--backend", default="feature", help="judge backend (default: feature)")
    parser.add_argument("--limit", type=int, default=None, help="first N pairs only")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_eval_") as tmp:
        root = Path(tmp)
        pairs = Path(args.pairs) if args.pairs else _build_small_bench(root / "bench")
        res: dict[str, Any] = {"backend": args.backend, "load_avg_1m": round(os.getloadavg()[0], 2),
                               "cpus": os.cpu_count()}
        res["judge_only"] = judge_only(pairs, args.backend, args.limit, args.batch_size)
        res["eval_cold"] = eval_run(pairs, root / "cold", args.backend, args.limit, args.batch_size, cold=True)
        res["eval_warm"] = eval_run(pairs, root / "warm", args.backend, args.limit, args.batch_size, cold=False)
        inst = eval_run(pairs, root / "instant", "instant", args.limit, args.batch_size, cold=False,
                        judge=InstantJudge(), preload=True)
        n = inst["pairs"]
        inst["bookkeeping_ms_per_pair"] = round(1000 * inst["wall_s"] / n, 3)
        inst["bookkeeping_cpu_ms_per_pair"] = round(1000 * inst["cpu_s"] / n, 3)
        res["bookkeeping"] = inst
    _print_table(res)
    print(json.dumps(res))
    return 0


def _print_table(r: dict[str, Any]) -> None:
    j, c, w, b = r["judge_only"], r["eval_cold"], r["eval_warm"], r["bookkeeping"]
    rows = [
        ("pairs (x2 orders)", str(j["pairs"])),
        ("judge only: pairs/s", f"{j['judge_pairs_per_s']}  ({j['judge']['wall_s']} s wall, "
                                f"{j['judge']['cpu_s']} s cpu)"),
        ("screening: ms/image", f"{j['screen_ms_per_image']}  ({j['images']} images)"),
        ("eval cold cache: pairs/s", f"{c['pairs_per_s']}  ({c['wall_s']} s wall, {c['cpu_s']} s cpu)"),
        ("eval warm cache: pairs/s", f"{w['pairs_per_s']}  ({w['wall_s']} s wall, {w['cpu_s']} s cpu)"),
        ("eval per pair (cold) ms", json.dumps(c["per_pair_ms"])),
        ("bookkeeping ms/pair", f"{b['bookkeeping_ms_per_pair']} wall, {b['bookkeeping_cpu_ms_per_pair']} cpu "
                                f"(write+fsync {b['per_pair_ms']['write']} ms, metrics {b['metrics_s']} s total)"),
        ("accuracy", str(c["accuracy"])),
        ("load average / cpus", f"{r['load_avg_1m']} / {r['cpus']}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"bench_eval: backend {r['backend']}")
    for k, v in rows:
        print(f"  {k.ljust(width)}  {v}")


if __name__ == "__main__":
    sys.exit(main())

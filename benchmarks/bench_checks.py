"""Milliseconds per image for every registered check, cold, on one core; and feature-judge pairs per second.

    python benchmarks/bench_checks.py                      # 8 real photos at 1024 px, table + one JSON line
    python benchmarks/bench_checks.py --photos 16 --side 1024 --checks sharpness,exposure,border

Each image is decoded once outside the clock; every check then measures it cold (a fresh decode, so no cached
downscaled array or shared intermediate is reused between images), in registry order, each check timed with
per-thread CPU time so that other processes on the machine do not inflate the figures. The quality checks' total
is also timed as one block, which is what a screen of those seven costs (the first check pays for the shared
arrays). Threads are pinned to one (OpenCV, OpenMP, ONNX Runtime). Checks that cannot run here (a missing optional
package, no index) are listed with their reason and skipped. Finally the feature judge's ``judge_pairs`` is timed
on pairs whose screens are already cached.
"""

from __future__ import annotations

import os

# One core: these must be set before numpy / onnxruntime create their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ORT_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from creative4u.checks import CHECKS  # noqa: E402
from creative4u.images import load_image  # noqa: E402

QUALITY = ("sharpness", "exposure", "contrast", "noise", "resolution", "colourfulness", "border")


def real_creatives(n: int, side: int) -> list[bytes]:
    """JPEG bytes (q92) of ``n`` full-bleed creatives at ``side`` px made from real photos."""
    from creative4u.data.degrade import make_creative
    from creative4u.data.photos import list_photos

    try:
        photos = list_photos(("skimage", "debian"))
    except Exception as err:  # noqa: BLE001 - no apt / offline: the photos inside scikit-image still work
        print(f"note: debian photos unavailable ({err}); using skimage photos only", file=sys.stderr)
        photos = list_photos(("skimage",))
    step = max(1, len(photos) // n)
    out = []
    for i, photo in enumerate(photos[::step][:n]):
        img, _ = make_creative(photo, (side, side), np.random.default_rng(i))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=92)
        out.append(buf.getvalue())
    return out


def _instantiate(name: str) -> tuple[Any, str | None]:
    try:
        return CHECKS.get(name)(), None
    except Exception as err:  # noqa: BLE001 - an optional dependency missing: report, skip
        return None, f"{type(err).__name__}: {err}"


def bench_checks(images: list[bytes], names: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Per check: median and mean CPU ms per image (cold); skipped checks with their reasons."""
    checks, skipped = {}, {}
    for name in names:
        check, err = _instantiate(name)
        if check is None:
            skipped[name] = err or "cannot be built"
            continue
        warm = check.measure(load_image(images[0]))  # model loading and imports are not per-image costs
        if not warm.available:
            skipped[name] = warm.summary
            continue
        checks[name] = check
    times: dict[str, list[float]] = {n: [] for n in checks}
    quality_block: list[float] = []
    for data in images:
        for name, check in checks.items():
            img = load_image(data)  # fresh: nothing cached from another check
            start = time.thread_time()
            check.measure(img)
            times[name].append((time.thread_time() - start) * 1000)
        img = load_image(data)
        start = time.thread_time()
        for name in QUALITY:
            if name in checks:
                checks[name].measure(img)
        quality_block.append((time.thread_time() - start) * 1000)
    table = {n: {"median_ms": round(statistics.median(v), 2), "mean_ms": round(statistics.fmean(v), 2)}
             for n, v in times.items()}
    if quality_block and any(n in checks for n in QUALITY):
        table["quality_total"] = {"median_ms": round(statistics.median(quality_block), 2),
                                  "mean_ms": round(statistics.fmean(quality_block), 2)}
    return table, skipped


def bench_feature_judge(images: list[bytes], n_pairs: int = 2000) -> dict[str, Any]:
    """Pairs per second of ``FeatureJudge.judge_pairs`` with screens already computed."""
    from creative4u.checks.suite import CheckSuite
    from creative4u.features import feature_profile
    from creative4u.judge.base import PairInput
    from creative4u.judge.feature import FeatureJudge

    try:
        judge = FeatureJudge()
    except FileNotFoundError as err:
        return {"skipped": str(err)}
    suite = CheckSuite(feature_profile("default"))
    loaded = [load_image(d) for d in images]
    screens = [suite.screen(img) for img in loaded]
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(loaded), size=(n_pairs, 2))
    pairs = [PairInput(loaded[i], loaded[j], screens[i], screens[j]) for i, j in idx]
    judge.judge_pairs(pairs[:10])
    start = time.perf_counter()
    judge.judge_pairs(pairs)
    seconds = time.perf_counter() - start
    return {"pairs": n_pairs, "pairs_per_second": round(n_pairs / seconds, 1), "model": judge.model_name}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8, help="number of real creatives")
    parser.add_argument("--side", type=int, default=1024, help="creative size in px (square)")
    parser.add_argument("--checks", default="", help="comma-separated subset (default: every registered check)")
    parser.add_argument("--pairs", type=int, default=2000, help="pairs for the feature-judge throughput")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    names = [c for c in args.checks.split(",") if c] or CHECKS.names()
    images = real_creatives(args.photos, args.side)
    table, skipped = bench_checks(images, names)
    judge = bench_feature_judge(images, args.pairs)
    print(f"{'check':16s} {'median ms':>10s} {'mean ms':>10s}   ({len(images)} images, {args.side} px, 1 core, cold)")
    print("(each check alone pays for the shared downscaled arrays; quality_total pays for them once)")
    for name, row in table.items():
        print(f"{name:16s} {row['median_ms']:10.2f} {row['mean_ms']:10.2f}")
    for name, why in skipped.items():
        print(f"{name:16s} {'skipped':>10s}   {why}")
    print(f"feature judge: {judge.get('pairs_per_second', 'n/a')} pairs/s with cached screens "
          f"{judge.get('skipped', '')}".rstrip())
    print(json.dumps({"bench": "checks", "side": args.side, "images": len(images), "threads": 1, "checks": table,
                      "skipped": skipped, "feature_judge": judge}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

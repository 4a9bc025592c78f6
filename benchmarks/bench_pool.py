"""Benchmark ``pool screen`` (Ray Data, an actor pool) against a plain one-process loop over the same images.

    python benchmarks/bench_pool.py                      # 400 images for the comparison, then 100/400/1600 on Ray
    python benchmarks/bench_pool.py --sizes 100 400 --compare 200 --side 128

Images: real skimage photos made into creatives and degraded (creative4u.data.degrade), each file distinct (random
crop, degradation and severity), so no image is a cache hit. The one-process loop is
:func:`creative4u.pool.screen.screen_local` (the same rows, one image after another); the Ray runs are
:func:`creative4u.pool.screen.screen_pool` on a local cluster of ``--cpus`` CPUs started once (its start-up is
reported apart; each run's time includes starting its actors). Peak memory is the largest sum of the resident set
sizes of this process and all its descendants (Ray's GCS, raylet and workers), sampled every 0.2 s; shared pages
(the object store) are counted once per process, so it overstates. The machine is shared: the load average is
printed with the figures, and the CPU seconds of the same process tree are summed too, so that Ray's cost per image
can be compared with the loop's whatever the other tenants take (``speedup_on_free_cores`` = CPUs x that ratio:
the speed-up the same run would have on idle cores). The 10 M estimate uses Ray's images per CPU second.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def make_pool(folder: Path, n: int, side: int, seed: int = 0) -> list[str]:
    """``n`` distinct creatives of ``side`` px: a skimage photo framed at random, clean or degraded (1 in 4 clean)."""
    import numpy as np

    from creative4u.data.degrade import DEGRADATIONS, make_creative
    from creative4u.data.photos import list_photos

    folder.mkdir(parents=True, exist_ok=True)
    photos = [p.load(max_side=2 * side) for p in list_photos(("skimage",))]
    names = sorted(DEGRADATIONS)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        img, _ = make_creative(photos[i % len(photos)], size=(side, side), rng=rng)  # a random framing each time
        if i % 4:
            img, _ = DEGRADATIONS[names[i % len(names)]](img, rng, float(rng.uniform(0.2, 0.9)))
        path = folder / f"img{i:05d}.jpg"
        img.convert("RGB").save(path, quality=90)
        paths.append(str(path))
    distinct = len({hashlib.sha256(Path(p).read_bytes()).digest() for p in paths})
    assert distinct == n, f"only {distinct} of {n} images are distinct: cache hits would flatter the figures"
    return paths


class PeakRSS:
    """The largest RSS sum of this process and its descendants while the block runs, and the CPU seconds they used
    (sampled every ``every_s``: a process that exits loses at most its last interval)."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s, self.peak, self._stop = every_s, 0, threading.Event()
        self._cpu_start: dict[int, float] = {}
        self._cpu_last: dict[int, float] = {}

    def _sample(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
                    t = p.cpu_times()
                    self._cpu_start.setdefault(p.pid, t.user + t.system if p.pid == me.pid else 0.0)
                    self._cpu_last[p.pid] = t.user + t.system
            self.peak = max(self.peak, total)
            self._stop.wait(self.every_s)

    @property
    def cpu_s(self) -> float:
        """CPU seconds of this process and its descendants during the block (children counted from their start)."""
        return round(sum(self._cpu_last[p] - self._cpu_start.get(p, 0.0) for p in self._cpu_last), 1)

    def __enter__(self) -> PeakRSS:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mib(self) -> float:
        return round(self.peak / 2**20, 1)


def one_process(paths: list[str], profile: str) -> dict[str, Any]:
    from creative4u.pipeline import Pipeline, PipelineConfig
    from creative4u.pool.screen import ScreenRows

    start = time.perf_counter()
    rows = ScreenRows(Pipeline(PipelineConfig(profile=profile)))
    build = time.perf_counter() - start
    with PeakRSS() as mem:
        start = time.perf_counter()
        out = [rows.screen(p) for p in paths]
        elapsed = time.perf_counter() - start
    assert len(out) == len(paths)
    return {"images": len(paths), "build_s": round(build, 2), "elapsed_s": round(elapsed, 2),
            "images_per_s": round(len(paths) / elapsed, 2), "peak_rss_mib": mem.mib, "cpu_s": mem.cpu_s,
            "images_per_cpu_s": round(len(paths) / max(mem.cpu_s, 1e-9), 2),
            "maxrss_self_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def on_ray(paths: list[str], out: Path, profile: str, batch_size: int) -> dict[str, Any]:
    from creative4u.pool.screen import ScreenJob, screen_pool

    src = out.with_suffix(".csv")
    src.write_text("path\n" + "\n".join(paths) + "\n")
    with PeakRSS() as mem:
        summary = screen_pool(ScreenJob(src=str(src), out=str(out), profile=profile, batch_size=batch_size))
    assert summary["written"] == len(paths), summary
    return {k: summary[k] for k in ("sources", "actors", "elapsed_s", "images_per_s")} | {
        "peak_rss_mib": mem.mib, "cpu_s": mem.cpu_s, "images_per_cpu_s": round(len(paths) / max(mem.cpu_s, 1e-9), 2)}


def paper(per_core: float) -> dict[str, Any]:
    """Cluster size and time for 10 M images at the measured per-core rate (images per CPU second on Ray)."""
    n = 10_000_000
    core_hours = n / per_core / 3600
    return {"per_core_images_per_s": round(per_core, 2), "core_hours_10M": round(core_hours),
            "cores_for_10M_in_1h": round(core_hours), "cores_for_10M_in_24h": round(core_hours / 24),
            "hours_on_64_cores": round(core_hours / 64, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compare", type=int, default=400, help="images for the one-process vs Ray comparison")
    ap.add_argument("--sizes", type=int, nargs="*", default=[100, 400, 1600], help="pool sizes run on Ray")
    ap.add_argument("--side", type=int, default=256, help="creative size in px (default 256)")
    ap.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster (default 2)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args()

    import ray

    work = Path(tempfile.mkdtemp(prefix="bench_pool_"))
    need = max([args.compare, *args.sizes])
    start = time.perf_counter()
    paths = make_pool(work / "images", need, args.side)
    print(f"made {need} images of {args.side} px in {time.perf_counter() - start:.1f} s under {work}")
    report: dict[str, Any] = {"load_before": os.getloadavg(), "side": args.side, "cpus": args.cpus}

    report["one_process"] = one_process(paths[: args.compare], args.profile)
    print("one process:", report["one_process"])

    start = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, object_store_memory=512 * 2**20, log_to_driver=False)
    report["ray_startup_s"] = round(time.perf_counter() - start, 2)
    print("ray start-up:", report["ray_startup_s"], "s")
    try:
        runs = {}
        for n in sorted({args.compare, *args.sizes}):
            runs[n] = on_ray(paths[:n], work / f"out{n}", args.profile, args.batch_size)
            print(f"ray {n}:", runs[n], "load", os.getloadavg())
        report["ray"] = runs
    finally:
        ray.shutdown()
    base = report["one_process"]["images_per_s"]
    report["speedup_at_compare"] = round(runs[args.compare]["images_per_s"] / base, 2)
    # On a shared machine the wall-clock speed-up says how many cores the others left free. The CPU seconds do
    # not: Ray's cost per image against the loop's, and the speed-up 2 free cores would give at that cost.
    one_cpu = report["one_process"]["images_per_cpu_s"]
    ray_cpu = runs[args.compare]["images_per_cpu_s"]
    report["cpu_efficiency_at_compare"] = round(ray_cpu / one_cpu, 2)
    report["speedup_on_free_cores"] = round(args.cpus * ray_cpu / one_cpu, 2)
    report["paper"] = paper(max(r["images_per_cpu_s"] for r in runs.values()))
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

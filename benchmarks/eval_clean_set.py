"""Issue 14's figures: the default profile on the multi-style clean set (false rejections, recall per degradation,
each check's recall and false flags) and its cost per image on one core.

    python benchmarks/eval_clean_set.py                          # held-out split; builds the set when missing
    python benchmarks/eval_clean_set.py --split dev --profile strict --json out.json
    python benchmarks/eval_clean_set.py --split probe --set ~/.cache/creative4u/clean-set/v3-probe   # unseen sources
    python benchmarks/eval_clean_set.py --split unseen --set ~/.cache/creative4u/clean-set/v3-unseen # + product shots
    python benchmarks/eval_clean_set.py --split clipart --set ~/.cache/creative4u/clean-set/v3-clipart  # clip art
    python benchmarks/eval_clean_set.py --split landscapes --set ~/.cache/creative4u/clean-set/v3-landscapes  # photos
    python benchmarks/eval_clean_set.py --split gcompris --set ~/.cache/creative4u/clean-set/v3-gcompris  # + drawings

The set is :mod:`creative4u.data.clean_set` (digital art, gradients, flat illustration, low-/high-key, black-and-white
and sepia photos, products on white / colour, designed banners, night scenes; licences in ``manifest.jsonl``) and its
degraded copies. Thresholds are tuned on ``dev`` only; ``heldout`` is the honest figure. The evaluation itself is
``creative4u eval checks`` (:func:`creative4u.eval.checks_eval.run_checks_eval`), so the ROC plots and a calibrated
profile snippet land in ``--out`` too. Cost: every enabled check of the profile, no cache, ONNX/OpenCV on one
thread, on ``--cost-images`` clean images (report ``uptime`` with it: the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("CREATIVE4U_OCR_THREADS", "1")

from creative4u.data.clean_set import OUT_OF_SOURCE  # noqa: E402 - after the thread settings above

DEFAULT_SET = Path.home() / ".cache" / "creative4u" / "clean-set" / "v3"


def cost_per_image(paths: list[str], profile: Any) -> dict[str, float]:
    """Median / mean / p90 milliseconds to screen one image with every enabled check (cold, no cache)."""
    import cv2

    from creative4u.checks.suite import MEMORY_CACHE, CheckSuite
    from creative4u.images import load_image

    cv2.setNumThreads(1)
    MEMORY_CACHE.clear()  # the evaluation just measured these images: time the checks, not the cache
    suite = CheckSuite(profile)
    suite.screen(load_image(paths[0]))  # model loads (OCR, ...) are a one-off, not a per-image cost
    times, cpu = [], []
    for path in paths:
        start, start_cpu = time.perf_counter(), time.process_time()
        suite.screen(load_image(path))
        times.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.process_time() - start_cpu))  # one thread: CPU time = one core's wall time, unloaded
    times.sort()
    return {"images": len(times), "median_ms": round(statistics.median(times), 1),
            "mean_ms": round(statistics.fmean(times), 1), "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
            "cpu_median_ms": round(statistics.median(cpu), 1), "cpu_mean_ms": round(statistics.fmean(cpu), 1)}


def _jpeg_of(path: str, quality: int) -> bytes:
    """The image at ``path`` re-encoded as a JPEG at ``quality`` (4:2:0, as Pillow and most upload tools save)."""
    from PIL import Image

    from creative4u.data.clean_set import encode_jpeg

    with Image.open(path) as im:
        return encode_jpeg(im.convert("RGB"), quality)


def resaved_rejections(paths: list[str], profile: Any, quality: int) -> dict[str, Any]:
    """The split's clean creatives re-encoded as JPEG at ``quality`` (as a shop's upload tool would) and screened:
    how many the profile rejects, and by which vetoing checks."""
    from creative4u.checks.suite import CheckSuite
    from creative4u.images import load_image

    suite = CheckSuite(profile)
    by_check: dict[str, int] = {}
    rejected = []
    for path in paths:
        screen = suite.screen(load_image(_jpeg_of(path, quality), name=Path(path).name))
        if screen.vetoed:
            rejected.append(Path(path).name)
            for name in screen.flagged:
                if name in suite.veto:
                    by_check[name] = by_check.get(name, 0) + 1
    return {"quality": quality, "images": len(paths), "rejected": len(rejected),
            "rate": round(len(rejected) / max(1, len(paths)), 4), "by_check": by_check, "files": rejected}


def hidden_jpeg_recall(paths: list[str], profile: Any, quality: int) -> dict[str, Any]:
    """The split's clean creatives compressed at a heavy JPEG ``quality`` and then saved losslessly (PNG) and at
    q95, as an upload passed through an editor is: the file's own table no longer tells, the pixels must. Returns
    the compression check's recall on each."""
    import io

    from PIL import Image

    from creative4u.checks.suite import CheckSuite
    from creative4u.data.clean_set import encode_jpeg
    from creative4u.images import load_image

    check = CheckSuite(profile).checks["compression"]
    caught = {"PNG": 0, "JPEG95": 0}
    for path in paths:
        decoded = Image.open(io.BytesIO(_jpeg_of(path, quality))).convert("RGB")
        png = io.BytesIO()
        decoded.save(png, "PNG")
        for fmt, data in (("PNG", png.getvalue()), ("JPEG95", encode_jpeg(decoded, 95))):
            caught[fmt] += check.decide(*check.timed_measure(load_image(data))).flagged
    recall = {f"recall_{k.lower()}": round(v / max(1, len(paths)), 4) for k, v in caught.items()}
    return {"quality": quality, "images": len(paths), **recall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default=str(DEFAULT_SET), help="clean-set folder (built there when missing)")
    parser.add_argument("--split", choices=("dev", "heldout", *OUT_OF_SOURCE), default="heldout",
                        help="out-of-source splits are built with --sources SPLIT into --set")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--out", default=None, help="eval outputs (default: <set>/eval-<split>-<profile>)")
    parser.add_argument("--cache-dir", default=None, help="measurement cache (default: <set>/cache)")
    parser.add_argument("--ensemble-target", type=float, default=0.05)
    parser.add_argument("--cost-images", type=int, default=30, help="clean images timed (0: skip the cost)")
    parser.add_argument("--cost-checks", default=None, help="comma list: time only these checks (default: all)")
    parser.add_argument("--resave", default="", help="comma list of JPEG qualities: also screen the clean images "
                        "re-encoded at each (e.g. 60,70,80)")
    parser.add_argument("--hidden-jpeg", default="", help="comma list of heavy JPEG qualities: the clean images "
                        "compressed at each, then saved as PNG and at q95; prints the compression check's recall")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    from creative4u.eval.checks_eval import ChecksEvalConfig, run_checks_eval

    root = Path(args.set).expanduser()
    labels = root / f"labels_{args.split}.jsonl"
    if not labels.is_file():
        from creative4u.data.clean_set import build_clean_set

        print(f"building the clean set into {root} ...", file=sys.stderr)
        out_of_source = args.split in OUT_OF_SOURCE
        build_clean_set(root, sources=(args.split,) if out_of_source else ("art", "photo", "render"))
    out = Path(args.out or root / f"eval-{args.split}-{Path(args.profile).stem}")
    metrics = run_checks_eval(ChecksEvalConfig(
        labels=str(labels), out=str(out), profile=args.profile, ensemble_target=args.ensemble_target,
        cache_dir=args.cache_dir or str(root / "cache"), progress=False))
    cur = metrics["ensemble"]["current"]
    print(f"{args.split}: {metrics['images']} images ({metrics['clean_images']} clean), profile {args.profile}")
    print(f"false rejections of clean images: {cur['false_rejection_rate']:.1%} "
          f"(flagged by any check, vetoing or not: {cur['clean_flagged_rate']:.1%})")
    print(f"{'label':15s} {'n':>4s} {'recall':>7s}  checks")
    for label, e in cur["recall_by_label"].items():
        rec = "n/a" if e["recall"] is None else f"{e['recall']:.1%}"
        print(f"{label:15s} {e['n']:4d} {rec:>7s}  {'/'.join(e['checks']) or '(none)'}")
    print(f"{'check':14s} {'thr':>8s} {'recall':>7s} {'false flags':>11s} {'AUC':>6s}  veto")
    veto = {c for c, v in metrics["checks"].items() if v.get("in_profile")}
    from creative4u.checks.profile import load_profile

    veto = {n for n, s in load_profile(args.profile).enabled().items() if s.veto} & veto
    for name, b in metrics["checks"].items():
        c = b["current"]
        if c["false_flag_rate"] is None:
            continue
        rec = "n/a" if c["recall"] is None else f"{c['recall']:.1%}"
        print(f"{name:14s} {c['threshold']:8.4g} {rec:>7s} {c['false_flag_rate']:11.1%} {b.get('auc', 'n/a')!s:>6s}  "
              f"{'yes' if name in veto else 'no'}")
    result = {"eval": "clean_set", "split": args.split, "profile": args.profile,
              "false_rejection_rate": cur["false_rejection_rate"], "clean_flagged_rate": cur["clean_flagged_rate"],
              "recall_by_label": {k: v["recall"] for k, v in cur["recall_by_label"].items()},
              "checks": {k: v["current"] for k, v in metrics["checks"].items()}}
    rows = [json.loads(line) for line in labels.read_text().splitlines() if line.strip()]
    clean_paths = [str(root / r["image"]) for r in rows if not r["flags"]]
    if args.cost_images:
        clean = clean_paths[: args.cost_images]
        profile = args.profile
        if args.cost_checks:
            from creative4u.checks.profile import CheckProfile, load_profile

            base, names = load_profile(args.profile), args.cost_checks.split(",")
            profile = CheckProfile(name=base.name, checks={n: s for n, s in base.checks.items() if n in names})
        result["cost"] = cost_per_image(clean, profile)
        load = os.getloadavg()
        result["cost"]["load_avg_1m"] = round(load[0], 2)
        print(f"cost per image (one core, no cache): {result['cost']}")
    if args.resave:
        result["resaved"] = [resaved_rejections(clean_paths, args.profile, int(q)) for q in args.resave.split(",")]
        for r in result["resaved"]:
            print(f"re-saved at q{r['quality']}: {r['rejected']} of {r['images']} clean images rejected "
                  f"({r['rate']:.1%}) {r['by_check']}")
    if args.hidden_jpeg:
        qualities = [int(q) for q in args.hidden_jpeg.split(",")]
        result["hidden_jpeg"] = [hidden_jpeg_recall(clean_paths, args.profile, q) for q in qualities]
        for r in result["hidden_jpeg"]:
            print(f"JPEG q{r['quality']} hidden behind a lossless re-save: compression recall {r['recall_png']:.1%} "
                  f"(PNG), {r['recall_jpeg95']:.1%} (q95) of {r['images']}")
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Perception figures (issue 13): relevance per subject family, quality pairs, and cost per image on one core.

    python benchmarks/bench_relevance.py [--weights W.json] [--speed-only | --no-speed] [--json OUT]

1. Relevance: every (matching, off-topic) pair of the hand-labelled photos (``creative4u.train.relevance_pairs``:
   both clean creatives of equal quality, only the title/queries tell them apart), judged in both orders by the
   feature judge; accuracy per subject family, held-out photos apart from training photos, plus the label bridge's
   similarity alone (no judge) and the pairs it gets wrong.
2. Quality pairs: the feature judge's held-out accuracy on the clean-vs-degraded pairs, judged with their
   title/queries (as a request would).
3. Speed, one core (``taskset -c 0`` recommended): perception per 1024 px image (decode excluded: images are decoded
   before the clock starts), the default profile per image with a title (every check, no cache), and the text
   embedding of one request (title + 2 queries, not cached). Report ``uptime`` with the figures: the machine is shared.
Needs the pair set of ``scripts/train_feature_judge.py`` (built on first use) and the exported perception models.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def relevance_figures(weights: str | None) -> dict[str, Any]:
    from creative4u.features import feature_profile
    from creative4u.judge.feature import FeatureJudge
    from creative4u.train.feature_judge import TrainConfig, context_screens, evaluate_judge, screen_images
    from creative4u.train.relevance_pairs import SUBJECTS, relevance_pairs, split_photos

    cfg = TrainConfig()
    pairs_dir = Path(cfg.pairs_dir)
    splits = split_photos(pairs_dir)
    judge = FeatureJudge(weights=weights)
    out: dict[str, Any] = {"model": judge.model_name}
    for split in ("test", "train"):
        pairs = relevance_pairs(pairs_dir, splits[split])
        paths = [p[k] for p in pairs for k in ("image_a", "image_b")]
        screens = screen_images(paths, feature_profile(), cfg.screen_cache)
        both = context_screens(pairs, screens, feature_profile(), cfg.screen_cache)
        res = evaluate_judge(judge, pairs, screens, both, group="family")
        out[f"judge_{split}"] = {"accuracy": res["accuracy"], "judgements": res["judgements"], "ties": res["ties"],
                                 "per_family": {f: v["accuracy"] for f, v in res["per_category"].items()}}
        out[f"bridge_{split}"], out[f"bridge_failures_{split}"] = _bridge(pairs, both)
    photos = defaultdict(list)
    for pid, s in SUBJECTS.items():
        photos[s.family].append(pid)
    out["photos_per_family"] = {f: len(v) for f, v in sorted(photos.items())}
    return out


def _bridge(pairs: list[dict[str, Any]], both: list[tuple[Any, Any]]) -> tuple[dict[str, Any], list[str]]:
    """Accuracy of the label-bridge similarity alone (higher wins) per family, and the pairs it gets wrong."""
    by: dict[str, list[bool]] = defaultdict(list)
    wrong = []
    for p, (sa, sb) in zip(pairs, both, strict=True):
        sim = [s.reports["relevance"].values.get("similarity", 0.0) for s in (sa, sb)]
        ok = (sim[0] > sim[1]) == (p["label"] == "A")
        by[p["family"]].append(ok)
        if not ok:
            labels = [s.reports["relevance"].values["top_labels"][0]["label"] for s in (sa, sb)]
            wrong.append(f"{p['title']!r}: {p['photo_id']} (reads {labels[p['label'] == 'B']}) lost to {p['other']} "
                         f"(reads {labels[p['label'] == 'A']})")
    allv = [x for v in by.values() for x in v]
    return ({"accuracy": round(float(np.mean(allv)), 4), "pairs": len(allv),
             "per_family": {f: round(float(np.mean(v)), 4) for f, v in sorted(by.items())}}, wrong)


def quality_figures(weights: str | None) -> dict[str, Any]:
    from creative4u.features import feature_profile
    from creative4u.judge.feature import FeatureJudge
    from creative4u.train.feature_judge import TrainConfig, context_screens, evaluate_judge, load_split, screen_images

    cfg = TrainConfig()
    test = load_split(Path(cfg.pairs_dir), "test")
    screens = screen_images([p[k] for p in test for k in ("image_a", "image_b")], feature_profile(), cfg.screen_cache)
    both = context_screens(test, screens, feature_profile(), cfg.screen_cache)
    judge = FeatureJudge(weights=weights)
    res = evaluate_judge(judge, test, screens, both)
    return {"accuracy_with_title": res["accuracy"], "judgements": res["judgements"],
            "per_category": {c: v["accuracy"] for c, v in res["per_category"].items()},
            "accuracy_without_title": evaluate_judge(judge, test, screens)["accuracy"]}


def speed_figures(n: int = 8) -> dict[str, Any]:

    from creative4u.checks.base import RequestContext
    from creative4u.checks.perception import get_perception
    from creative4u.checks.suite import MEMORY_CACHE, CheckSuite
    from creative4u.data.photos import list_photos
    from creative4u.images import LoadedImage

    p = get_perception()
    p.label_embeddings()
    photos = [ph for ph in list_photos(("skimage", "debian"))][:n]
    bases = [ph.load(max_side=1024) for ph in photos]
    bases = [im.resize((1024, round(1024 * im.height / im.width))) if im.width >= im.height else
             im.resize((round(1024 * im.width / im.height), 1024)) for im in bases]

    def fresh() -> list[LoadedImage]:  # decoded here, before any clock starts
        return [LoadedImage.from_pil(im, name=f"{i}.png") for i, im in enumerate(bases)]

    p.image(fresh()[0])  # warm-up: session allocation
    imgs = fresh()
    start = time.perf_counter()
    for img in imgs:
        p.image(img)
    per_image = (time.perf_counter() - start) * 1000 / len(imgs)
    ctx = RequestContext("Organic cappuccino, 250 g", ("cappuccino", "coffee gift"))
    suite = CheckSuite("default")
    suite.screen(fresh()[0], ctx)  # warm-up: OCR and NSFW model loads
    MEMORY_CACHE.clear()
    imgs = fresh()
    start = time.perf_counter()
    screens = suite.screen_many(imgs, ctx)
    profile_ms = (time.perf_counter() - start) * 1000 / len(imgs)
    per_check = {name: round(float(np.mean([s.reports[name].elapsed_ms for s in screens])), 1)
                 for name in screens[0].reports}
    texts = [f"Ceramic mug number {i}, gift for dad" for i in range(3)]
    start = time.perf_counter()
    p.texts(texts)  # a request's title + 2 queries, new to the cache
    text_ms = (time.perf_counter() - start) * 1000
    return {"images": len(imgs), "size": "1024 px long side", "perception_ms_per_image": round(per_image, 1),
            "default_profile_ms_per_image": round(profile_ms, 1), "per_check_ms": per_check,
            "text_embedding_ms_per_request": round(text_ms, 1), "load": os.getloadavg(),
            "cpus": len(os.sched_getaffinity(0))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=None, help="feature judge weights (default: the packaged ones)")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {}
    if not args.speed_only:
        out["relevance"] = relevance_figures(args.weights)
        out["quality_pairs_test"] = quality_figures(args.weights)
    if not args.no_speed:
        out["speed"] = speed_figures()
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

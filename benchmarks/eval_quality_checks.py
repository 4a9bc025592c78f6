"""Recall and false-flag rate of the quality checks, per degradation category, on held-out real photos.

    python benchmarks/eval_quality_checks.py                      # test split (held-out photos): table + JSON
    python benchmarks/eval_quality_checks.py --split all --json results.json

Images come from the pair builder (:func:`creative4u.data.build_pairs.build_pairs`, the same set the feature judge
trains on, built once into ``~/.cache/creative4u/pairs/feature-judge-v1``): clean full-bleed creatives made from
real photos and one degraded copy per category, each labelled with its category (``labels_<split>.jsonl``).
Every image is screened with the default profile's thresholds (disk-cached, shared with the training script).
A category is *caught* when any check meant for it flags the image (blur, defocus, motion blur and low resolution
-> sharpness or resolution; under/over-exposure -> exposure; low contrast -> contrast; noise and JPEG -> noise;
border -> border; text overlay -> text); every check's flag rate is listed for every category, so what catches
``jpeg`` or ``tiny_product`` is visible too. False flags are each check's flag rate on the clean creatives.
The logistic centres in ``creative4u/checks/quality.py`` were chosen on these sets (mostly the train photos); the
test split's photos are the honest figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from creative4u.train.feature_judge import (  # noqa: E402
    CATEGORY_CHECKS,
    QUALITY_CHECKS,
    TrainConfig,
    _labels,
    ensure_pairs,
    evaluate_checks,
    screen_images,
)


def main(argv: list[str] | None = None) -> int:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs-dir", default=str(defaults.pairs_dir))
    parser.add_argument("--split", choices=("test", "train", "all"), default="test")
    parser.add_argument("--checks", default=",".join((*QUALITY_CHECKS, "text")),
                        help="checks to run (default: the seven quality checks and text)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", default=None, help="also write the full result here")
    args = parser.parse_args(argv)

    from creative4u.checks.profile import CheckProfile, CheckSettings, load_profile

    cfg = TrainConfig(pairs_dir=args.pairs_dir, workers=args.workers)
    ensure_pairs(cfg)
    base = load_profile("default")
    names = [c for c in args.checks.split(",") if c]
    profile = CheckProfile(name="default[eval]", checks={n: base.checks.get(n) or CheckSettings() for n in names})
    splits = ("train", "test") if args.split == "all" else (args.split,)
    labels = [row for s in splits for row in _labels(cfg.pairs_dir, s)]
    if not labels:
        print(f"no labels found in {cfg.pairs_dir}", file=sys.stderr)
        return 1
    screens = screen_images([r["image"] for r in labels], profile, cfg.screen_cache, args.workers)
    result = evaluate_checks(labels, screens)
    cols = [n for n in names if n in next(iter(result["flag_rate"].values()))] + ["any_quality"]
    print(f"split: {args.split}   images: {sum(result['images'].values())}   (flag rate per check; * = the check(s) "
          "meant to catch the category)")
    print(f"{'category':15s} {'n':>4s} " + " ".join(f"{c[:10]:>10s}" for c in cols) + f" {'caught':>7s}")
    for cat, rates in result["flag_rate"].items():
        meant = CATEGORY_CHECKS.get(cat, ())
        cells = " ".join(f"{rates.get(c, 0):9.0%}{'*' if c in meant else ' '}" for c in cols)
        rec = result["recall"].get(cat, {}).get("recall")
        print(f"{cat:15s} {result['images'][cat]:4d} {cells} {'' if rec is None else f'{rec:7.0%}'}")
    print(json.dumps({"eval": "quality_checks", "split": args.split, "recall": result["recall"],
                      "false_flags_on_clean": result["false_flags_on_clean"]}))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

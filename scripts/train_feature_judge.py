"""Train the built-in feature judge and rewrite ``creative4u/judge/weights/feature_judge.json``.

    python scripts/train_feature_judge.py --workers 2 --summary-out runs/feature_judge/summary.json

Builds (once, cached in ~/.cache/creative4u/pairs/feature-judge-v1) clean-vs-degraded pairs from the real photos
(skimage + Debian wallpapers, whole photos held out for test), screens every image (disk-cached), fits the
pairwise model on the train photos and prints its accuracy per category on the held-out photos in both orders,
position consistency and the quality checks' recall / false-flag rates. All logic lives in
:mod:`creative4u.train.feature_judge`; see ``--help`` for the options.
"""

from creative4u.train.feature_judge import main

if __name__ == "__main__":
    raise SystemExit(main())

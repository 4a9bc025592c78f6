"""Train the learned-view heads (``creative4u/checks/weights/quality_heads.json``) on the clean set's dev split.

    python scripts/train_quality_heads.py                      # ~/.cache/creative4u/clean-set/v3, dev split only
    python scripts/train_quality_heads.py --features /tmp/f3/feats.npz --c 0.5

Data provenance of the shipped weights: :mod:`creative4u.data.clean_set` v2 (the builder now makes v3) — 111 clean
dev creatives in 12 styles from Debian wallpaper packages, scikit-image and rendered designs (licences in its
``manifest.jsonl``), and their synthetic degraded copies
(``labels_dev.jsonl``). The held-out split is never read here. Inputs per image: the 1280-d EfficientNet-Lite0
embedding (:mod:`creative4u.checks.perception`) and the sharpness / exposure checks' hand-made measurements
(:func:`creative4u.checks.learned_view.hand_features`). One L2 logistic regression per family, features standardised
(the scaling is folded into the shipped coefficients), clean images weighted up so false rejections cost more.
Out-of-fold probabilities (5 folds grouped by source photo) pick each head's threshold at ``--ffr`` false flags on
dev clean images, so the threshold is never set on the images a head was fitted on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from creative4u.checks.learned_view import HAND_NAMES, HEADS_FILE, hand_features  # noqa: E402

EMB_DIM = 1280
DEFAULT_SET = Path.home() / ".cache" / "creative4u" / "clean-set" / "v3"
# Which labels are positives / negatives per family; the look-alikes (a downscaled copy is blurry, a washed-out
# one looks overexposed) are left out rather than taught as "no defect".
FAMILIES = {
    "blur": ({"blur", "defocus", "motion_blur"}, {"low_resolution"}),
    "under": ({"underexposed"}, {"low_contrast"}),
    "over": ({"overexposed"}, {"low_contrast"}),
}


def extract(root: Path, split: str) -> dict[str, np.ndarray]:
    """Embeddings, hand values and labels of every image of ``split``."""
    import cv2

    from creative4u.checks.exposure import Exposure
    from creative4u.checks.perception import get_perception
    from creative4u.checks.sharpness import Sharpness
    from creative4u.images import load_image

    cv2.setNumThreads(1)
    rows = [json.loads(line) for line in (root / f"labels_{split}.jsonl").read_text().splitlines() if line.strip()]
    p = get_perception()
    sharp, expo = Sharpness(learned=False), Exposure(learned=False)
    emb, hand_blur, hand_expo, flags, keys = [], [], [], [], []
    for i, r in enumerate(rows):
        img = load_image(str(root / r["image"]))
        emb.append(p.image(img).embedding)
        hand_blur.append(hand_features("blur", sharp.measure(img).values))
        hand_expo.append(hand_features("under", expo.measure(img).values))
        flags.append(",".join(r["flags"]))
        keys.append(r["key"])
        if i % 100 == 0:
            print(f"{i}/{len(rows)}", file=sys.stderr)
    return {"emb": np.array(emb, np.float32), "blur": np.array(hand_blur), "under": np.array(hand_expo),
            "flags": np.array(flags), "keys": np.array(keys)}


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float, pca: int) -> tuple[np.ndarray, float]:
    """PCA-reduce the embedding part (``pca`` components; 0 = all 1280), standardise, fit, and fold the projection
    and the scaling into one linear (coef, intercept) over the raw [embedding, hand] inputs."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    emb, hand = x[:, :EMB_DIM], x[:, EMB_DIM:]
    proj, centre = np.eye(EMB_DIM), np.zeros(EMB_DIM)
    if pca:
        p = PCA(n_components=pca, random_state=0).fit(emb)
        proj, centre = p.components_.T, p.mean_
    z = np.hstack([(emb - centre) @ proj, hand])
    mu, sd = z.mean(0), z.std(0) + 1e-6
    model = LogisticRegression(C=c, max_iter=3000).fit((z - mu) / sd, y, sample_weight=w)
    wz = model.coef_[0] / sd
    b = float(model.intercept_[0] - wz @ mu)
    coef = np.concatenate([proj @ wz[: proj.shape[1]], wz[proj.shape[1]:]])
    return coef, b - float(centre @ (proj @ wz[: proj.shape[1]]))


def train_family(data: dict[str, np.ndarray], family: str, c: float, clean_weight: float, ffr: float,
                 folds: int, pca: int) -> dict:
    from sklearn.model_selection import GroupKFold

    pos, skip = FAMILIES[family]
    labels = [set(f.split(",")) - {""} for f in data["flags"]]
    use = np.array([not (lb & skip) for lb in labels])
    y = np.array([bool(lb & pos) for lb in labels], dtype=int)
    clean = np.array([not lb for lb in labels])
    hand = data["blur" if family == "blur" else "under"]
    x = np.hstack([data["emb"].astype(np.float64), hand])
    w = np.where(clean, clean_weight, 1.0)
    oof = np.full(len(y), np.nan)
    idx = np.flatnonzero(use)
    for tr, te in GroupKFold(n_splits=folds).split(idx, groups=data["keys"][idx]):
        coef, b = fit(x[idx[tr]], y[idx[tr]], w[idx[tr]], c, pca)
        oof[idx[te]] = 1 / (1 + np.exp(-(x[idx[te]] @ coef + b)))
    clean_p = np.sort(oof[clean & use])
    # The threshold leaves at most ffr of the clean dev images at or above it (out of fold).
    k = int(np.floor(ffr * len(clean_p)))
    thr = float(clean_p[-k - 1] + 1e-6) if k < len(clean_p) else 0.0
    thr = min(max(thr, 1e-4), 1 - 1e-4)
    report = {"clean_false_flags": float(np.mean(oof[clean & use] >= thr)), "recall": {}}
    for lab in sorted(pos):
        m = np.array([lab in lb for lb in labels])
        report["recall"][lab] = float(np.mean(oof[m] >= thr))
    coef, b = fit(x[use], y[use], w[use], c, pca)
    return {"hand": list(HAND_NAMES[family]), "coef": [float(f"{v:.6g}") for v in coef], "intercept": round(b, 6),
            "threshold": round(thr, 6), "positives": sorted(pos), "left_out": sorted(skip),
            "out_of_fold_dev": report, "train_images": int(use.sum())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default=str(DEFAULT_SET))
    parser.add_argument("--features", default=None, help="cache of the extracted inputs (.npz)")
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength on standardised inputs")
    parser.add_argument("--clean-weight", type=float, default=3.0)
    parser.add_argument("--ffr", type=float, default=0.02, help="false flags on clean dev images per head")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--pca", type=int, default=8, help="embedding components kept (0: all 1280)")
    parser.add_argument("--out", default=str(HEADS_FILE))
    args = parser.parse_args(argv)
    root = Path(args.set).expanduser()
    cache = Path(args.features) if args.features else None
    if cache and cache.is_file():
        data = dict(np.load(cache))
    else:
        data = extract(root, "dev")
        if cache:
            np.savez(cache, **data)
    heads = {f: train_family(data, f, args.c, args.clean_weight, args.ffr, args.folds, args.pca)
             for f in FAMILIES}
    for f, h in heads.items():
        print(f, "threshold", h["threshold"], json.dumps(h["out_of_fold_dev"]))
    out = {"version": "1", "kind": "L2 logistic regression on [1280-d unit EfficientNet-Lite0 embedding, hand "
           "measurements], PCA projection and standardisation folded into coef",
           "trained_on": f"{root.name} labels_dev.jsonl "
           "(clean set, dev split only; creative4u.data.clean_set)", "perception_model": "efficientnet_lite0 v1",
           "options": {"C": args.c, "clean_weight": args.clean_weight, "ffr": args.ffr, "folds": args.folds,
                       "pca": args.pca, "cv": "GroupKFold by source photo"}, "heads": heads}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({Path(args.out).stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

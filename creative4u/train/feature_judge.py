"""Train and evaluate the feature judge on CreativePair sets built from real photos.

>>> cfg = TrainConfig(pairs_dir="/tmp/pairs", per_photo=1)
>>> cfg.screen_cache, cfg.per_photo
(PosixPath('/tmp/pairs/screens'), 1)

Steps (``python scripts/train_feature_judge.py``): build (or reuse) pairs with
:func:`creative4u.data.build_pairs.build_pairs` (whole photos held out for test), screen every image with the
default profile's settings for the checks the features read (cached on disk by content hash), fit logistic
regression on feature differences of the *train* pairs in both orders (regularisation chosen by cross-validation
grouped by photo), then evaluate on the held-out photos' pairs in both orders: accuracy per category (ties count
as wrong), overall accuracy, position consistency, and the checks' own detection rates (recall on each
degradation, false flags on clean creatives). Writes the weights JSON and a JSON summary.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from creative4u.features import FEATURES, feature_profile, features_from_screen

# Which checks should catch each degradation (a category counts as caught when any of them flags the image).
CATEGORY_CHECKS: dict[str, tuple[str, ...]] = {
    "blur": ("sharpness", "resolution"), "defocus": ("sharpness", "resolution"),
    "motion_blur": ("sharpness", "resolution"), "low_resolution": ("sharpness", "resolution"),
    "underexposed": ("exposure",), "overexposed": ("exposure",), "low_contrast": ("contrast",),
    "noise": ("noise",), "jpeg": ("noise", "compression"), "border": ("border",), "text_overlay": ("text",),
    "off_centre": (), "tiny_product": (),
}
QUALITY_CHECKS = ("sharpness", "exposure", "contrast", "noise", "resolution", "colourfulness", "border")
# Features without a "more is worse" direction (their weight may take either sign).
SIGN_FREE = frozenset({"text.missing", "relevance.missing"})


@dataclass
class TrainConfig:
    """Where the pairs come from, how images are screened, and where the results go."""

    pairs_dir: str | Path = Path.home() / ".cache" / "creative4u" / "pairs" / "feature-judge-v1"
    sources: tuple[str, ...] = ("skimage", "debian")
    per_photo: int = 4
    size: int = 512
    seed: int = 0
    holdout: float = 0.25
    workers: int = 1
    profile: str = "default"
    cache_dir: str | Path | None = None  # screen cache; default: <pairs_dir>/screens
    weights_out: str | Path | None = None  # default: the packaged weights file
    summary_out: str | Path | None = None
    c_grid: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0, 30.0)
    version: str = "1"
    rebuild: bool = False
    relevance: bool = True  # add the relevance pairs (creative4u.train.relevance_pairs) to training
    with_context: bool = True  # judge quality pairs with their title/queries (as a request would)
    dead_zone_quantile: float = 0.3  # of the same-photo relevance gaps (see relevance_dead_zone); 0: none
    relevance_weight: float = 1.0  # loss weight of a relevance pair (quality pairs: 1)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pairs_dir = Path(self.pairs_dir).expanduser()

    @property
    def screen_cache(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else Path(self.pairs_dir) / "screens"


# ------------------------------------------------------------------------------------------------- data
def ensure_pairs(cfg: TrainConfig) -> dict[str, Any]:
    """Build the pair sets once; reuse them when a manifest with the same settings exists."""
    from creative4u.data.build_pairs import build_check_labels, build_pairs
    from creative4u.data.photos import list_photos

    manifest_path = Path(cfg.pairs_dir) / "manifest.json"
    want = {"seed": cfg.seed, "size": [cfg.size, cfg.size], "per_photo": cfg.per_photo,
            "holdout_fraction": cfg.holdout}
    if manifest_path.is_file() and not cfg.rebuild:
        manifest = json.loads(manifest_path.read_text())
        if all(manifest.get(k) == v for k, v in want.items()) and (Path(cfg.pairs_dir) / "labels.jsonl").is_file():
            return manifest
    manifest = build_pairs(cfg.pairs_dir, list_photos(cfg.sources), per_photo=cfg.per_photo, seed=cfg.seed,
                           size=cfg.size, holdout_fraction=cfg.holdout, workers=cfg.workers)
    build_check_labels(cfg.pairs_dir)
    return manifest


def _screen_chunk(job: tuple[list[str], Any, str]) -> int:
    """Worker: screen images so that their reports land in the disk cache."""
    from creative4u.checks.suite import CheckSuite
    from creative4u.images import load_image

    paths, profile, cache = job
    suite = CheckSuite(profile, cache_dir=cache)
    for path in paths:
        suite.screen(load_image(path))
    return len(paths)


def screen_images(paths: Sequence[str], profile: Any, cache_dir: Path, workers: int = 1) -> dict[str, Any]:
    """``{path: ImageScreen}`` for every image; workers fill the disk cache, then one pass reads it back."""
    from creative4u.checks.suite import CheckSuite
    from creative4u.images import load_image

    unique = sorted(set(paths))
    if workers > 1 and len(unique) > workers:
        chunks = [unique[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_screen_chunk, [(c, profile, str(cache_dir)) for c in chunks]))
    suite = CheckSuite(profile, cache_dir=cache_dir)
    return {p: suite.screen(load_image(p)) for p in unique}


def context_screens(pairs: Sequence[dict[str, Any]], screens: dict[str, Any], profile: Any,
                    cache_dir: Path | None) -> list[tuple[Any, Any]]:
    """Per pair, both screens with the request's checks (relevance, text_match) measured for the pair's title and
    queries (disk-cached under the context's digest); pairs without a title keep the plain screens."""
    from dataclasses import replace

    from creative4u.checks.base import RequestContext
    from creative4u.checks.profile import CheckProfile, load_profile
    from creative4u.checks.suite import CheckSuite
    from creative4u.images import load_image
    from creative4u.judge.feature import CONTEXT_CHECKS

    base = load_profile(profile)
    only = CheckProfile(name=base.name, checks={c: base.checks[c] for c in CONTEXT_CHECKS if c in base.checks})
    suite = CheckSuite(only, cache_dir=cache_dir)
    images: dict[str, Any] = {}
    out = []
    for pair in pairs:
        ctx = RequestContext(pair.get("title", ""), tuple(pair.get("queries", ())))
        if not ctx.texts() or not only.checks:
            out.append((screens[pair["image_a"]], screens[pair["image_b"]]))
            continue
        both = []
        for key in ("image_a", "image_b"):
            path = pair[key]
            if path not in images:
                images[path] = load_image(path)
            img = images[path]
            img.shared("screen-reports", dict).update(screens[path].reports)  # text_match reuses the text check's OCR
            extra = suite.screen(img, ctx)
            both.append(replace(screens[path], reports={**screens[path].reports, **extra.reports}))
        out.append((both[0], both[1]))
    return out


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_split(pairs_dir: Path, split: str) -> list[dict[str, Any]]:
    """Pairs of one split with absolute image paths and their photo id (for grouped cross-validation)."""
    meta = {r["id"]: r for r in _read_jsonl(pairs_dir / "meta.jsonl")}
    rows = _read_jsonl(pairs_dir / f"{split}.jsonl")
    for r in rows:
        r["image_a"], r["image_b"] = str(pairs_dir / r["image_a"]), str(pairs_dir / r["image_b"])
        r["photo_id"] = meta.get(r["id"], {}).get("photo_id", r["id"])
    return rows


# ------------------------------------------------------------------------------------------------- model
def _fit_logistic(x: np.ndarray, y: np.ndarray, c: float, upper: np.ndarray,
                  sample_weight: np.ndarray | None = None) -> np.ndarray:
    """L2-regularised logistic regression without intercept, each weight bounded above by ``upper`` (L-BFGS-B)."""
    from scipy.optimize import minimize

    sign = 2.0 * y - 1.0
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        m = sign * (x @ w)
        p = 0.5 * (1.0 + np.tanh(-0.5 * m))  # = sigmoid(-m), stable for large |m|
        value = float((sw * np.logaddexp(0.0, -m)).sum() + 0.5 * (w @ w) / c)
        return value, -(x.T @ (sw * sign * p)) + w / c

    bounds = [(None, None if not np.isfinite(u) else float(u)) for u in upper]
    return minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", bounds=bounds).x


def fit_model(xa: np.ndarray, xb: np.ndarray, y: np.ndarray, groups: np.ndarray, c_grid: Sequence[float],
              version: str = "1", dead_zone: dict[str, float] | None = None,
              sample_weight: np.ndarray | None = None) -> tuple[Any, dict[str, Any]]:
    """Logistic regression without intercept on standardised differences, both orders; C by grouped CV.

    Every feature is oriented so that more means worse, so each weight is constrained to be <= 0: more of a defect
    can never count in an image's favour (which also keeps each explanation's direction truthful).

    >>> rng = np.random.default_rng(0)
    >>> xa, xb = rng.normal(size=(40, len(FEATURES))), rng.normal(size=(40, len(FEATURES)))
    >>> y = (xa[:, 0] < xb[:, 0]).astype(int)
    >>> model, info = fit_model(xa, xb, y, np.arange(40) % 4, [1.0])
    >>> model.weights[0] < 0 and max(model.weights) <= 0 and info["cv_accuracy"] > 0.7
    True
    """
    from sklearn.model_selection import GroupKFold

    from creative4u.judge.feature import FeatureModel

    both = np.vstack([xa, xb])
    mean, std = both.mean(axis=0), both.std(axis=0)
    std = np.where(std > 1e-9, std, 1.0)
    d = (xa - mean) / std - (xb - mean) / std
    # Dead zones are given in raw units; the model keeps them in standardised ones.
    zone = {f: round(float(v) / float(std[FEATURES.index(f)]), 6) for f, v in (dead_zone or {}).items()}
    tau = np.array([zone.get(f, 0.0) for f in FEATURES])
    d = np.sign(d) * np.maximum(np.abs(d) - tau, 0.0)
    x_sym, y_sym, g_sym = np.vstack([d, -d]), np.concatenate([y, 1 - y]), np.concatenate([groups, groups])
    w_sym = np.ones(len(y_sym)) if sample_weight is None else np.concatenate([sample_weight, sample_weight])
    upper = np.array([np.inf if f in SIGN_FREE else 0.0 for f in FEATURES])
    cv_scores = {}
    n_splits = min(5, len(np.unique(groups)))
    for c in c_grid:
        accs = []
        for tr, te in GroupKFold(n_splits=n_splits).split(x_sym, y_sym, g_sym):
            w = _fit_logistic(x_sym[tr], y_sym[tr], c, upper, w_sym[tr])
            accs.append(float(((x_sym[te] @ w > 0) == (y_sym[te] == 1)).mean()))
        cv_scores[c] = float(np.mean(accs))
    best_c = max(cv_scores, key=lambda c: (cv_scores[c], -c))  # ties go to the stronger regularisation
    w = _fit_logistic(x_sym, y_sym, best_c, upper, w_sym)
    model = FeatureModel(list(FEATURES), [round(float(v), 6) for v in mean], [round(float(v), 6) for v in std],
                         [round(float(v), 6) + 0.0 for v in w], version=version, dead_zone=zone)
    return model, {"C": best_c, "cv_accuracy": round(cv_scores[best_c], 4),
                   "cv_by_C": {str(k): round(v, 4) for k, v in cv_scores.items()}}


# ------------------------------------------------------------------------------------------------ evaluation
def evaluate_judge(judge: Any, pairs: Sequence[dict[str, Any]], screens: dict[str, Any],
                   pair_screens: Sequence[tuple[Any, Any]] | None = None, group: str = "category") -> dict[str, Any]:
    """Judge every pair in both orders: accuracy per ``group`` (ties wrong), overall, and position consistency.

    ``pair_screens`` (from :func:`context_screens`) replaces the plain per-image screens when given."""
    from PIL import Image

    from creative4u.images import LoadedImage
    from creative4u.judge.base import PairInput

    stub = LoadedImage.from_pil(Image.new("RGB", (1, 1)))  # the judge reads the screens, never these pixels
    given = pair_screens is not None  # the context is passed only with screens measured for it (stub pixels)
    if pair_screens is None:
        pair_screens = [(screens[p["image_a"]], screens[p["image_b"]]) for p in pairs]
    fwd = [PairInput(stub, stub, sa, sb, p.get("title", "") if given else "",
                     tuple(p.get("queries", ())) if given else ())
           for p, (sa, sb) in zip(pairs, pair_screens, strict=True)]
    start = time.perf_counter()
    v_fwd = judge.judge_pairs(fwd)
    v_rev = judge.judge_pairs([p.swapped() for p in fwd])
    seconds = time.perf_counter() - start
    by_cat: dict[str, list[float]] = defaultdict(list)
    consistent, ties = 0, 0
    for pair, a, b in zip(pairs, v_fwd, v_rev, strict=True):
        truth_rev = {"A": "B", "B": "A"}[pair["label"]]
        by_cat[pair.get(group, "")].extend([a.winner == pair["label"], b.winner == truth_rev])
        consistent += a.winner == {"A": "B", "B": "A", "tie": "tie"}[b.winner]
        ties += (a.winner == "tie") + (b.winner == "tie")
    n = 2 * len(pairs)
    return {
        "pairs": len(pairs), "judgements": n,
        "accuracy": round(float(np.mean([x for v in by_cat.values() for x in v])), 4),
        "per_category": {c: {"accuracy": round(float(np.mean(v)), 4), "judgements": len(v)}
                         for c, v in sorted(by_cat.items())},
        "position_consistency": round(consistent / max(1, len(pairs)), 4), "ties": ties,
        "pairs_per_second": round(n / max(seconds, 1e-9), 1),
    }


def evaluate_checks(labels: Sequence[dict[str, Any]], screens: dict[str, Any]) -> dict[str, Any]:
    """Per category: each check's flag rate, and the recall of the checks meant to catch it; clean: false flags."""
    rates: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    caught: dict[str, list[bool]] = defaultdict(list)
    for row in labels:
        cat = row["flags"][0] if row["flags"] else "clean"
        reports = screens[row["image"]].reports
        for name, rep in reports.items():
            rates[cat][name].append(bool(rep.flagged))
        quality_any = any(reports[c].flagged for c in QUALITY_CHECKS if c in reports)
        rates[cat]["any_quality"].append(quality_any)
        if cat != "clean" and CATEGORY_CHECKS.get(cat):
            caught[cat].append(any(reports[c].flagged for c in CATEGORY_CHECKS[cat] if c in reports))
    out: dict[str, Any] = {"flag_rate": {c: {k: round(float(np.mean(v)), 4) for k, v in sorted(d.items())}
                                         for c, d in sorted(rates.items())},
                           "images": dict(sorted(Counter(r["flags"][0] if r["flags"] else "clean"
                                                         for r in labels).items()))}
    out["recall"] = {c: {"checks": list(CATEGORY_CHECKS[c]), "recall": round(float(np.mean(v)), 4)}
                     for c, v in sorted(caught.items())}
    out["false_flags_on_clean"] = out["flag_rate"].get("clean", {})
    return out


def _labels(pairs_dir: Path, split: str) -> list[dict[str, Any]]:
    path = pairs_dir / f"labels_{split}.jsonl"
    rows = _read_jsonl(path) if path.is_file() else []
    return [{**r, "image": str(pairs_dir / r["image"])} for r in rows]


# ------------------------------------------------------------------------------------------------ the recipe
def train(cfg: TrainConfig) -> dict[str, Any]:
    """Build/reuse pairs, screen, fit on train photos, evaluate on held-out photos; write weights and summary."""
    from creative4u.judge.feature import DEFAULT_WEIGHTS, FeatureJudge

    t0 = time.perf_counter()
    manifest = ensure_pairs(cfg)
    pairs_dir = Path(cfg.pairs_dir)
    train_pairs, test_pairs = load_split(pairs_dir, "train"), load_split(pairs_dir, "test")
    labels = {s: _labels(pairs_dir, s) for s in ("train", "test")}
    paths = [p[k] for p in train_pairs + test_pairs for k in ("image_a", "image_b")]
    paths += [r["image"] for rows in labels.values() for r in rows]
    rel = _relevance_sets(pairs_dir) if cfg.relevance else {"train": [], "test": []}
    paths += [p[k] for rows in rel.values() for p in rows for k in ("image_a", "image_b")]
    t1 = time.perf_counter()
    screens = screen_images(paths, feature_profile(cfg.profile), cfg.screen_cache, cfg.workers)
    ctx = {name: (context_screens(rows, screens, feature_profile(cfg.profile), cfg.screen_cache)
                  if cfg.with_context or name.startswith("rel") else None)
           for name, rows in (("train", train_pairs), ("test", test_pairs), ("rel_train", rel["train"]),
                              ("rel_test", rel["test"]))}
    t2 = time.perf_counter()
    fit_pairs = train_pairs + rel["train"]
    fit_screens = _plain(train_pairs, screens, ctx["train"]) + (ctx["rel_train"] or [])
    xa = np.vstack([features_from_screen(sa) for sa, _ in fit_screens])
    xb = np.vstack([features_from_screen(sb) for _, sb in fit_screens])
    y = np.array([p["label"] == "A" for p in fit_pairs], dtype=int)
    groups = np.unique([p["photo_id"] for p in fit_pairs], return_inverse=True)[1]
    zone = (relevance_dead_zone(_plain(train_pairs, screens, ctx["train"]), cfg.dead_zone_quantile)
            if cfg.dead_zone_quantile > 0 else {})
    weight = np.array([cfg.relevance_weight if p.get("category") == "relevance" else 1.0 for p in fit_pairs])
    model, fit_info = fit_model(xa, xb, y, groups, cfg.c_grid, cfg.version, zone, weight)
    fit_info["dead_zone_raw"] = zone
    model.training = {
        "pairs_dir": str(pairs_dir).replace(str(Path.home()), "~"), "sources": list(cfg.sources),
        "train_pairs": len(train_pairs), "test_pairs": len(test_pairs),
        "train_photos": len(manifest["splits"]["train"]["photos"]),
        "test_photos": len(manifest["splits"]["test"]["photos"]),
        "categories": dict(sorted(Counter(p["category"] for p in fit_pairs).items())),
        "with_context": cfg.with_context, "relevance_weight": cfg.relevance_weight,
        "builder": {k: manifest.get(k) for k in ("seed", "size", "per_photo", "holdout_fraction", "jpeg_quality")},
        "profile": cfg.profile, **fit_info,
    }
    weights_out = Path(cfg.weights_out) if cfg.weights_out else DEFAULT_WEIGHTS
    model.save(weights_out)
    judge = FeatureJudge(weights=weights_out)
    summary = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        "model": {"weights": str(weights_out), **{k: v for k, v in fit_info.items()},
                  "coefficients": dict(zip(model.features, model.weights, strict=True))},
        "judge_test": evaluate_judge(judge, test_pairs, screens, ctx["test"]),
        "judge_train": evaluate_judge(judge, train_pairs, screens, ctx["train"]),
        "checks_test": evaluate_checks(labels["test"], screens),
        "checks_train": evaluate_checks(labels["train"], screens),
        "seconds": {"build": round(t1 - t0, 1), "screen": round(t2 - t1, 1),
                    "fit_eval": round(time.perf_counter() - t2, 1)},
    }
    if rel["test"]:
        summary["relevance_test"] = evaluate_judge(judge, rel["test"], screens, ctx["rel_test"], group="family")
        summary["relevance_train"] = evaluate_judge(judge, rel["train"], screens, ctx["rel_train"], group="family")
        model.training["relevance_test_accuracy"] = summary["relevance_test"]["accuracy"]
        model.training["relevance_test_per_family"] = {
            c: v["accuracy"] for c, v in summary["relevance_test"]["per_category"].items()}
    model.training["test_accuracy"] = summary["judge_test"]["accuracy"]
    model.training["test_position_consistency"] = summary["judge_test"]["position_consistency"]
    model.training["test_per_category"] = {c: v["accuracy"] for c, v in summary["judge_test"]["per_category"].items()}
    model.save(weights_out)
    if cfg.summary_out:
        Path(cfg.summary_out).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.summary_out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def relevance_dead_zone(quality_screens: Sequence[tuple[Any, Any]], quantile: float = 0.95) -> dict[str, float]:
    """The relevance difference that degradations alone cause on one photo (both sides of a quality pair show the
    same photo): its ``quantile`` over the quality pairs, in raw units. Smaller differences are noise to the judge.

    >>> relevance_dead_zone([])
    {}
    """
    col = FEATURES.index("relevance.mismatch")
    gaps = [abs(features_from_screen(a)[col] - features_from_screen(b)[col]) for a, b in quality_screens]
    gaps = [g for g in gaps if g > 0]
    return {"relevance.mismatch": round(float(np.quantile(gaps, quantile)), 4)} if gaps else {}


def _relevance_sets(pairs_dir: Path) -> dict[str, list[dict[str, Any]]]:
    from creative4u.train.relevance_pairs import relevance_pairs, split_photos

    return {split: relevance_pairs(pairs_dir, photos) for split, photos in split_photos(pairs_dir).items()}


def _plain(pairs: Sequence[dict[str, Any]], screens: dict[str, Any],
           given: Sequence[tuple[Any, Any]] | None) -> list[tuple[Any, Any]]:
    return list(given) if given is not None else [(screens[p["image_a"]], screens[p["image_b"]]) for p in pairs]


def format_report(summary: dict[str, Any]) -> str:
    """A short human-readable table of the summary (per-category judge accuracy, check recall and false flags)."""
    jt, ck = summary["judge_test"], summary["checks_test"]
    lines = [f"feature judge on held-out photos: accuracy {jt['accuracy']:.1%} over {jt['judgements']} judgements, "
             f"position consistency {jt['position_consistency']:.1%}, ties {jt['ties']}",
             f"{'category':16s} {'judge acc':>9s} {'check recall':>12s}  checks"]
    for cat, v in jt["per_category"].items():
        rec = ck["recall"].get(cat)
        rtxt = f"{rec['recall']:12.1%}  {'/'.join(rec['checks'])}" if rec else f"{'-':>12s}"
        lines.append(f"{cat:16s} {v['accuracy']:9.1%} {rtxt}")
    clean = ck["false_flags_on_clean"]
    lines.append("false flags on clean: " + ", ".join(f"{k} {v:.1%}" for k, v in clean.items()))
    for name in ("relevance_test", "relevance_train"):
        if name in summary:
            rt = summary[name]
            fams = ", ".join(f"{f} {v['accuracy']:.0%} ({v['judgements']})" for f, v in rt["per_category"].items())
            lines.append(f"{name}: accuracy {rt['accuracy']:.1%} over {rt['judgements']} judgements; {fams}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m creative4u.train.feature_judge [--pairs-dir DIR] [--workers 2] [--summary-out FILE]``."""
    import argparse

    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description="Train the feature judge on pairs built from real photos.")
    parser.add_argument("--pairs-dir", default=str(defaults.pairs_dir))
    parser.add_argument("--sources", default=",".join(defaults.sources))
    parser.add_argument("--per-photo", type=int, default=defaults.per_photo)
    parser.add_argument("--size", type=int, default=defaults.size)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--holdout", type=float, default=defaults.holdout)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--profile", default=defaults.profile)
    parser.add_argument("--cache-dir", default=None, help="screen cache (default: <pairs-dir>/screens)")
    parser.add_argument("--weights-out", default=None, help="default: the packaged feature_judge.json")
    parser.add_argument("--summary-out", default=None)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the pairs even if a manifest matches")
    parser.add_argument("--no-relevance", action="store_true", help="train on the quality pairs only")
    parser.add_argument("--no-context", action="store_true", help="judge quality pairs without their title/queries")
    parser.add_argument("--relevance-weight", type=float, default=defaults.relevance_weight,
                        help="loss weight of a relevance pair (quality pairs weigh 1)")
    parser.add_argument("--dead-zone-quantile", type=float, default=defaults.dead_zone_quantile,
                        help="quantile of same-photo relevance gaps ignored by the judge (0: no dead zone)")
    args = parser.parse_args(argv)
    cfg = TrainConfig(pairs_dir=args.pairs_dir, sources=tuple(s for s in args.sources.split(",") if s),
                      per_photo=args.per_photo, size=args.size, seed=args.seed, holdout=args.holdout,
                      workers=args.workers, profile=args.profile, cache_dir=args.cache_dir,
                      weights_out=args.weights_out, summary_out=args.summary_out, rebuild=args.rebuild,
                      relevance=not args.no_relevance, with_context=not args.no_context,
                      dead_zone_quantile=args.dead_zone_quantile, relevance_weight=args.relevance_weight)
    summary = train(cfg)
    print(format_report(summary))
    print(json.dumps({"judge_test": summary["judge_test"], "relevance_test": summary.get("relevance_test"),
                      "check_recall_test": summary["checks_test"]["recall"],
                      "false_flags_on_clean_test": summary["checks_test"]["false_flags_on_clean"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``creative4u eval checks LABELS.jsonl``: recall, false flags and ROC per check, and thresholds calibrated on them.

>>> threshold_for_false_flag([0.1, 0.2, 0.3, 0.9], [0.1, 0.2, 0.3, 0.9, 0.95, 0.5], target=0.25)
0.4
>>> parse_label_map({"labels": {"blur": "sharpness|resolution", "noise": ["noise"]}})
{'blur': ['sharpness', 'resolution'], 'noise': ['noise']}

Labels are per image: ``{"image": "path", "flags": ["blur"]}`` (``[]`` = a clean image that no check should flag).
A mapping (``eval/check_label_map.yaml``) says which check(s) should catch each label. For every check:

* positives: images with a label mapped to the check; negatives: clean images (no flags at all);
* recall = flagged positives / positives; false-flag rate = flagged clean images / clean images; precision =
  flagged positives / flagged images among positives and clean ones; recall per label shows what else it catches;
* the ROC curve (scores against the two classes, PNG) and the threshold that meets ``--target-false-flag`` on the
  clean images with the highest recall, written as a ready-to-use profile YAML (``calibrated_profile.yaml``).

The ensemble view measures the whole profile as a shop meets it: recall per label (caught when *any* of its mapped
checks flags it) and the false-rejection rate of clean images (rejected when a *vetoing* check of the profile flags
them; flagged by any check = not approved is reported too), at the current and the calibrated thresholds.
Per-check targets add up, so ``--ensemble-target`` calibrates the vetoing checks jointly (:func:`calibrate_ensemble`).
"""

from __future__ import annotations

import json
import math
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from creative4u.config import ConfigError, from_dict, read_yaml_mapping

DEFAULT_LABEL_MAP = Path(__file__).resolve().parents[2] / "eval" / "check_label_map.yaml"
OPERATING_POINTS = (0.01, 0.02, 0.05, 0.10)  # false-flag rates whose thresholds every check block reports


@dataclass
class ChecksEvalConfig:
    """One check-suite evaluation, read with :func:`creative4u.config.load_config` (YAML keys = field names)."""

    labels: str = field(default="", metadata={"help": "Per-image labels JSONL: {image, flags}."})
    out: str = field(default="", metadata={"help": "Output folder: checks_metrics.json, roc_*.png, profile YAML."})
    label_map: str | None = field(default=None, metadata={"help": "Label -> check(s) mapping YAML (default: eval/)."})
    profile: str = field(default="default", metadata={"help": "Check profile whose thresholds are evaluated."})
    target_false_flag: float = field(default=0.05, metadata={"help": "False-flag rate to calibrate to."})
    ensemble_target: float | None = field(
        default=None,
        metadata={"help": "Also calibrate the profile's checks together: clean images rejected by any check at most "
                          "this often (the profile snippet then uses these thresholds)."},
    )
    cache_dir: str | None = field(default=None, metadata={"help": "On-disk cache of check measurements."})
    limit: int | None = field(default=None, metadata={"help": "Evaluate only the first N valid label lines."})
    progress: bool = field(default=True, metadata={"help": "Show a progress bar on stderr."})

    def __post_init__(self) -> None:
        for name in ("target_false_flag", "ensemble_target"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value}")


@dataclass
class LabelMap:
    """The label -> check(s) file (``eval/check_label_map.yaml``): ``labels: {blur: sharpness|resolution}``."""

    labels: dict[str, str | list[str]] = field(
        metadata={"help": "Label -> the check(s) that should catch it: a check name, 'a|b', or a list of names."}
    )


def parse_label_map(raw: Any, where: str = "label map") -> dict[str, list[str]]:
    """Validate ``{labels: {label: "check|check" or [checks]}}`` into ``{label: [checks]}``."""
    out = {}
    for label, checks in from_dict(LabelMap, raw, where=where).labels.items():
        items = checks.split("|") if isinstance(checks, str) else checks
        if not items or not all(c.strip() for c in items):
            raise ConfigError(f"{where}: labels.{label}: give a check name, 'a|b', or a list of names")
        out[label] = [c.strip() for c in items]
    return out


def load_label_map(path: str | Path | None = None) -> dict[str, list[str]]:
    """The label map at ``path`` (default: the repo's ``eval/check_label_map.yaml``), validated."""
    if path is None:  # the repo's copy, else one in the working folder (an installed package has no eval/)
        candidates = (DEFAULT_LABEL_MAP, Path("eval/check_label_map.yaml"))
        path = next((p for p in candidates if p.is_file()), DEFAULT_LABEL_MAP)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"check label map not found: {path} (pass --label-map)")
    return parse_label_map(read_yaml_mapping(path, kind="check label map"), str(path))


def read_labels(path: str | Path, limit: int | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Valid label rows (image path resolved against the file's folder, with ``line``) and skipped lines."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"labels file not found: {path}")
    rows, skipped = [], []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if limit is not None and len(rows) >= limit:
            break
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except ValueError as err:
            skipped.append({"line": lineno, "reason": "malformed", "message": f"{where}: invalid JSON ({err})"})
            continue
        problem = _label_problem(obj)
        if problem:
            skipped.append({"line": lineno, "reason": "malformed", "message": f"{where}: {problem}"})
            continue
        image = Path(obj["image"]) if Path(obj["image"]).is_absolute() else path.parent / obj["image"]
        if not image.is_file():
            msg = f"{where}: image not found: {image}"
            skipped.append({"line": lineno, "reason": "missing_image", "message": msg})
            continue
        rows.append({**obj, "image": str(image), "flags": list(obj["flags"]), "line": lineno})
    return rows, skipped


def _label_problem(obj: Any) -> str:
    if not isinstance(obj, dict):
        return "expected a JSON object"
    if not isinstance(obj.get("image"), str) or not obj["image"]:
        return "missing 'image' (a path)"
    flags = obj.get("flags")
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        return "'flags' must be a list of label names ([] for a clean image)"
    return ""


def threshold_for_false_flag(neg: Sequence[float], scores: Sequence[float], target: float) -> float:
    """The lowest threshold (highest recall) whose false-flag rate on ``neg`` is at most ``target``.

    An image is flagged when ``score >= threshold``. The threshold is placed halfway between the highest clean
    score that must stay unflagged and the next score above it, so the choice has a margin on both sides.
    """
    neg_sorted = np.sort(np.asarray(neg, dtype=float))[::-1]
    if neg_sorted.size == 0:
        raise ValueError("no clean images: a false-flag rate cannot be calibrated")
    allowed = int(np.floor(target * neg_sorted.size + 1e-9))
    if allowed >= neg_sorted.size:
        return 0.0
    boundary = float(neg_sorted[allowed])  # this clean image (and every lower one) must not be flagged
    above = np.asarray(scores, dtype=float)
    above = above[above > boundary]
    nxt = float(above.min()) if above.size else min(1.0, boundary + 2e-6)
    mid = (boundary + nxt) / 2
    rounded = math.ceil(mid * 1e6) / 1e6  # a readable number that still lies in (boundary, next]
    return float(rounded if boundary < rounded <= nxt else mid)


def _rates(pos: np.ndarray, neg: np.ndarray, thr: float) -> dict[str, float | None]:
    tp, fp = int((pos >= thr).sum()), int((neg >= thr).sum())
    return {
        "threshold": float(thr),
        "recall": round(tp / pos.size, 4) if pos.size else None,
        "false_flag_rate": round(fp / neg.size, 4) if neg.size else None,
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
    }


@dataclass
class _Scores:
    """Scores of every evaluated check on every image (NaN where the check could not run)."""

    rows: list[dict[str, Any]]
    checks: list[str]
    scores: dict[str, np.ndarray]
    thresholds: dict[str, float]
    unavailable: dict[str, int]
    in_profile: set[str] = field(default_factory=set)  # the profile's checks: a flag means "not approved"
    veto: set[str] = field(default_factory=set)  # the profile's vetoing checks: a flag rejects the creative

    @property
    def clean(self) -> np.ndarray:
        return np.array([not row["flags"] for row in self.rows])

    def any_flag(self, thresholds: dict[str, float], veto_only: bool = True) -> np.ndarray:
        """Rejected (flagged by a vetoing check of the profile), or with ``veto_only=False`` not approved (flagged by
        any check of the profile). Checks only the label map names never reject."""
        names = self.veto if veto_only else self.in_profile
        flags = [np.nan_to_num(self.scores[c], nan=-1.0) >= thresholds[c] for c in self.checks if c in names]
        return np.any(np.stack(flags), axis=0) if flags else np.zeros(len(self.rows), bool)


def _suite(config: ChecksEvalConfig, wanted: Sequence[str]) -> tuple[Any, list[str]]:
    """The profile's checks plus every registered check the label map names; names not registered are returned."""
    from creative4u.checks import CHECKS
    from creative4u.checks.profile import CheckProfile, CheckSettings, load_profile
    from creative4u.checks.suite import CheckSuite

    base = load_profile(config.profile)
    checks = dict(base.enabled())
    missing = []
    for name in wanted:
        if name in checks:
            continue
        if name in CHECKS:
            checks[name] = CheckSettings()
        else:
            missing.append(name)
    profile = CheckProfile(name=base.name, description=base.description, checks=checks,
                           operating_point=base.operating_point)
    return CheckSuite(profile, cache_dir=config.cache_dir), missing


def measure(config: ChecksEvalConfig, rows: list[dict[str, Any]], suite: Any, skipped: list[dict]) -> _Scores:
    from tqdm import tqdm

    from creative4u.images import ImageLoadError, load_image

    checks = list(suite.checks)
    scores = {c: [] for c in checks}
    kept, unavailable = [], Counter()
    for row in tqdm(rows, desc="eval checks", unit="img", disable=not config.progress, file=sys.stderr):
        try:
            screen = suite.screen(load_image(row["image"], name=Path(row["image"]).name))
        except ImageLoadError as err:
            msg = f"line {row['line']}: {err}"
            skipped.append({"line": row["line"], "reason": "unreadable_image", "message": msg})
            continue
        kept.append(row)
        for c in checks:
            rep = screen.reports[c]
            ok = rep.status in ("ok", "flagged")
            unavailable[c] += not ok
            scores[c].append(rep.score if ok else np.nan)
    thresholds = {c: suite.checks[c].threshold for c in checks}
    arrays = {c: np.asarray(v, dtype=float) for c, v in scores.items()}
    return _Scores(kept, checks, arrays, thresholds, dict(unavailable))


def _check_block(name: str, s: _Scores, label_map: dict[str, list[str]], target: float) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score, roc_curve

    sc = s.scores[name]
    labels_of = [row["flags"] for row in s.rows]
    is_pos = np.array([any(name in label_map.get(f, ()) for f in fl) for fl in labels_of])
    is_neg = np.array([not fl for fl in labels_of])
    valid = ~np.isnan(sc)
    pos, neg = sc[is_pos & valid], sc[is_neg & valid]
    block: dict[str, Any] = {"positives": int(pos.size), "clean": int(neg.size),
                             "unavailable": int(s.unavailable.get(name, 0)),
                             "labels": sorted({f for fl in labels_of for f in fl if name in label_map.get(f, ())})}
    block["current"] = _rates(pos, neg, s.thresholds[name])
    if pos.size and neg.size:
        y = np.r_[np.ones(pos.size), np.zeros(neg.size)]
        fpr, tpr, _ = roc_curve(y, np.r_[pos, neg])
        block["auc"] = round(float(roc_auc_score(y, np.r_[pos, neg])), 4)
        block["roc"] = {"fpr": [round(float(v), 4) for v in fpr], "tpr": [round(float(v), 4) for v in tpr]}
    if neg.size:
        thr = threshold_for_false_flag(neg, np.r_[pos, neg], target)
        block["calibrated"] = _rates(pos, neg, thr)
        block["calibrated"]["meets_target"] = block["calibrated"]["false_flag_rate"] <= target + 1e-12
        # Named points on the same ROC (ffr2 = 2% false flags on clean images) for a profile's operating_points.
        block["operating_points"] = {f"ffr{round(t * 100)}": _rates(pos, neg, threshold_for_false_flag(
            neg, np.r_[pos, neg], t)) for t in OPERATING_POINTS}
    block["recall_by_label"] = _recall_by_label(sc, labels_of, s.thresholds[name], block.get("calibrated"))
    return block


def _recall_by_label(sc, labels_of, current: float, calibrated: dict | None) -> dict[str, dict[str, Any]]:
    out = {}
    for label in sorted({f for fl in labels_of for f in fl}):
        sel = np.array([label in fl for fl in labels_of]) & ~np.isnan(sc)
        if not sel.any():
            continue
        entry = {"n": int(sel.sum()), "current": round(float((sc[sel] >= current).mean()), 4)}
        if calibrated:
            entry["calibrated"] = round(float((sc[sel] >= calibrated["threshold"]).mean()), 4)
        out[label] = entry
    return out


def _flag_matrix(s: _Scores, thresholds: dict[str, float]) -> dict[str, np.ndarray]:
    return {c: np.nan_to_num(s.scores[c], nan=-1.0) >= thresholds[c] for c in s.checks}


def _suite_view(s: _Scores, label_map: dict[str, list[str]], thresholds: dict[str, float]) -> dict[str, Any]:
    """Per-label recall of the whole suite and the false-rejection rate of clean images under ``thresholds``."""
    flags, any_flag, clean = _flag_matrix(s, thresholds), s.any_flag(thresholds), s.clean
    by_label = {}
    for label in sorted({f for row in s.rows for f in row["flags"]}):
        sel = np.array([label in row["flags"] for row in s.rows])
        mapped = [c for c in label_map.get(label, []) if c in flags]
        caught = np.any(np.stack([flags[c] for c in mapped]), axis=0) if mapped else np.zeros(len(s.rows), bool)
        by_label[label] = {"n": int(sel.sum()), "checks": mapped,
                           "recall": round(float(caught[sel].mean()), 4) if mapped else None,
                           "rejected_by_a_veto": round(float(any_flag[sel].mean()), 4)}
    frr = round(float(any_flag[clean].mean()), 4) if clean.any() else None
    flagged = round(float(s.any_flag(thresholds, veto_only=False)[clean].mean()), 4) if clean.any() else None
    return {"false_rejection_rate": frr, "clean_flagged_rate": flagged, "thresholds": dict(thresholds),
            "recall_by_label": by_label}


class _Budget:
    """Thresholds from a number of allowed false flags per check, and what they catch (for joint calibration)."""

    def __init__(self, s: _Scores, label_map: dict[str, list[str]], base: dict[str, float]) -> None:
        self.s, self.clean, self.base = s, s.clean, base
        self.neg = {c: s.scores[c][self.clean & ~np.isnan(s.scores[c])] for c in s.checks}
        # Thresholds sit between the check's own positives and clean images, as in :func:`_check_block`: images
        # labelled only for other checks would move the midpoint and make equal false-flag counts read as looser.
        own = {c: np.array([any(c in label_map.get(f, ()) for f in row["flags"]) for row in s.rows]) for c in s.checks}
        self.all = {c: s.scores[c][(own[c] | self.clean) & ~np.isnan(s.scores[c])] for c in s.checks}
        self.checks = [c for c in s.checks if c in s.veto and self.neg[c].size]  # only vetoes reject
        self.mapped = [[c for f in row["flags"] for c in label_map.get(f, ()) if c in s.scores] for row in s.rows]

    def thresholds(self, k: dict[str, int]) -> dict[str, float]:
        thr = dict(self.base)
        for c in self.checks:
            thr[c] = threshold_for_false_flag(self.neg[c], self.all[c], k[c] / self.neg[c].size)
        return thr

    def score(self, thr: dict[str, float]) -> tuple[int, float]:
        """(labelled images caught by one of their mapped checks, share of clean images rejected)."""
        flags = _flag_matrix(self.s, thr)
        caught = sum(any(flags[c][i] for c in cs) for i, cs in enumerate(self.mapped) if cs)
        return caught, float(self.s.any_flag(thr)[self.clean].mean())


def calibrate_ensemble(s: _Scores, label_map: dict[str, list[str]], target: float,
                       base: dict[str, float] | None = None) -> tuple[dict, dict]:
    """Per-check thresholds of the vetoing checks that together reject at most ``target`` of the clean images.

    Checks that do not veto keep their ``base`` thresholds (default: the current ones): they never reject.
    Greedy on a shared budget: every vetoing check starts strict (no clean image flagged); each step lets the check
    whose next useful loosening catches the most labelled images per extra clean rejection flag one more clean image
    (or a few, when one more alone catches nothing new), while the suite stays within ``target``. Returns each
    check's allowed false-flag rate and the thresholds.
    """
    budget = _Budget(s, label_map, base or s.thresholds)
    k = {c: 0 for c in budget.checks}
    thr = budget.thresholds(k)
    caught, frr = budget.score(thr)
    while True:
        best = None
        for c in budget.checks:
            for step in range(1, budget.neg[c].size - k[c] + 1):
                trial = budget.thresholds({**k, c: k[c] + step})
                got, rate = budget.score(trial)
                if rate > target + 1e-12:
                    break
                if got > caught:
                    gain = (got - caught) / max(rate - frr, 1 / budget.clean.sum())
                    if best is None or gain > best[0]:
                        best = (gain, c, step, trial, got, rate)
                    break
        if best is None:
            break
        _, c, step, thr, caught, frr = best
        k[c] += step
    return {c: round(k[c] / budget.neg[c].size, 4) for c in budget.checks}, thr


def _ensemble(s: _Scores, label_map: dict[str, list[str]], per_check: dict[str, Any],
              ensemble_target: float | None) -> dict[str, Any]:
    """The suite at the current thresholds, at the per-check calibrated ones, and (optionally) calibrated jointly."""
    calibrated = {c: (per_check[c].get("calibrated") or {}).get("threshold", s.thresholds[c]) for c in s.checks}
    out = {"current": _suite_view(s, label_map, s.thresholds), "calibrated": _suite_view(s, label_map, calibrated)}
    if ensemble_target is not None:
        per, thr = calibrate_ensemble(s, label_map, ensemble_target, base=calibrated)
        out["ensemble_calibrated"] = {"target": ensemble_target, "per_check_false_flag": per,
                                      **_suite_view(s, label_map, thr)}
        for c in s.checks:  # each check's own rates at the jointly calibrated threshold
            block = per_check[c]
            pos_mask = np.array([any(c in label_map.get(f, ()) for f in row["flags"]) for row in s.rows])
            valid = ~np.isnan(s.scores[c])
            block["ensemble_calibrated"] = _rates(s.scores[c][pos_mask & valid], s.scores[c][s.clean & valid], thr[c])
    return out


def profile_snippet(metrics: dict[str, Any], config: ChecksEvalConfig) -> str:
    """A profile YAML that extends the evaluated one with the calibrated thresholds (comments give the evidence).

    With ``ensemble_target`` the thresholds are the jointly calibrated ones, else each check's own.
    """
    parent = config.profile
    if str(parent).endswith((".yaml", ".yml")):
        parent = str(Path(parent).resolve())
    n_clean = metrics["clean_images"]
    if config.ensemble_target is not None:
        key = "ensemble_calibrated"
        ens = metrics["ensemble"][key]
        goal = (f"<= {config.ensemble_target:.0%} of {n_clean} clean images rejected by a vetoing check (measured "
                f"{ens['false_rejection_rate']:.1%}), thresholds calibrated jointly")
    else:
        key = "calibrated"
        goal = (f"<= {config.target_false_flag:.0%} false flags per check on {n_clean} clean images (all checks "
                f"together reject {metrics['ensemble']['calibrated']['false_rejection_rate']:.1%})")
    lines = [f"# Thresholds calibrated by `creative4u eval checks` on {Path(config.labels).name}:", f"# {goal}.",
             "# Save as a profile file and pass it with --profile.", "name: calibrated", f"extends: {parent}",
             "checks:"]
    for name, block in metrics["checks"].items():
        cal = block.get(key)
        if not cal or cal.get("false_flag_rate") is None:  # a check that never ran (e.g. no duplicate index)
            continue
        recall = "n/a (no labelled positives)" if cal["recall"] is None else f"{cal['recall']:.0%}"
        note = "" if cal.get("meets_target", True) else "; target unreachable: clean images score 1.0"
        # A check the profile does not run is left commented out: a threshold alone would switch it on.
        lead = "  " if block.get("in_profile", True) else "  # (not in the profile) "
        points = ", ".join(f"{k}: {v['threshold']:.4g}" for k, v in block.get("operating_points", {}).items())
        points = f", operating_points: {{{points}}}" if points else ""
        lines.append(f"{lead}{name}: {{threshold: {cal['threshold']:.6g}{points}}}  # recall {recall}, false flags "
                     f"{cal['false_flag_rate']:.1%} (was {block['current']['threshold']:.6g}){note}")
    return "\n".join(lines) + "\n"


def run_checks_eval(config: ChecksEvalConfig) -> dict[str, Any]:
    """Screen every labelled image and write the metrics, ROC plots, profile snippet and report into ``out``."""
    start = time.perf_counter()
    label_map = load_label_map(config.label_map)
    rows, skipped = read_labels(config.labels, config.limit)
    for s in skipped:
        print(f"creative4u eval checks: skipped {s['message']}", file=sys.stderr)
    if not rows:
        raise ValueError(f"{config.labels}: no usable label lines ({len(skipped)} skipped)")
    wanted = sorted({c for checks in label_map.values() for c in checks})
    suite, missing = _suite(config, wanted)
    from creative4u.checks.profile import load_profile

    in_profile = set(load_profile(config.profile).enabled())
    if missing:
        print(f"creative4u eval checks: checks named in the label map but not registered: {missing}", file=sys.stderr)
    scores = measure(config, rows, suite, skipped)
    scores.in_profile = in_profile
    scores.veto = {n for n, st in load_profile(config.profile).enabled().items() if st.veto}
    per_check = {c: _check_block(c, scores, label_map, config.target_false_flag) for c in scores.checks}
    for name in per_check:
        per_check[name]["in_profile"] = name in in_profile
    n_clean = sum(not r["flags"] for r in scores.rows)
    unmapped = Counter(f for r in scores.rows for f in r["flags"] if f not in label_map)
    metrics = {
        "labels_file": str(config.labels), "profile": suite.profile.name,
        "target_false_flag": config.target_false_flag,
        "images": len(scores.rows), "clean_images": n_clean,
        "by_label": dict(sorted(Counter(f for r in scores.rows for f in r["flags"]).items())),
        "unmapped_labels": dict(unmapped), "unregistered_checks": missing,
        "checks": per_check, "ensemble": _ensemble(scores, label_map, per_check, config.ensemble_target),
        "skipped": {"total": len(skipped), "lines": sorted(skipped, key=lambda s: s["line"])[:100]},
        "elapsed_s": round(time.perf_counter() - start, 2),
    }
    write_checks_outputs(Path(config.out), metrics, profile_snippet(metrics, config))
    return metrics


def write_checks_outputs(out: Path, metrics: dict[str, Any], snippet: str) -> None:
    from creative4u.eval.report import md_escape

    out.mkdir(parents=True, exist_ok=True)
    (out / "checks_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    (out / "calibrated_profile.yaml").write_text(snippet, encoding="utf-8")
    plot_rocs(metrics, out)
    lines = [f"# Check-suite evaluation: {md_escape(metrics['labels_file'])}", "",
             f"{metrics['images']} images ({metrics['clean_images']} clean), profile `{metrics['profile']}`, "
             f"target false-flag rate {metrics['target_false_flag']:.0%}.", "",
             "| check | positives | AUC | current thr | recall | false flags | precision | calibrated thr | recall "
             "| false flags |", "|" + " --- |" * 10]
    for name, b in metrics["checks"].items():
        cur, cal = b["current"], b.get("calibrated") or {}
        lines.append(f"| {name} | {b['positives']} | {b.get('auc', 'n/a')} | {cur['threshold']} | {_p(cur['recall'])} "
                     f"| {_p(cur['false_flag_rate'])} | {_p(cur['precision'])} | {cal.get('threshold', 'n/a')} "
                     f"| {_p(cal.get('recall'))} | {_p(cal.get('false_flag_rate'))} |")
    lines += _ensemble_md(metrics["ensemble"])
    with_roc = [n for n, b in metrics["checks"].items() if "roc" in b]
    lines += ["", "## ROC curves", "", "![all checks](roc_all.png)"] + [f"![{n}](roc_{n}.png)" for n in with_roc]
    lines += ["", "## Calibrated profile", "", "```yaml", snippet.rstrip(), "```"]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _ensemble_md(ens: dict[str, Any]) -> list[str]:
    from creative4u.eval.report import md_escape

    views = [k for k in ("current", "calibrated", "ensemble_calibrated") if k in ens]
    names = {"current": "current", "calibrated": "per-check calibrated", "ensemble_calibrated": "jointly calibrated"}
    lines = ["", "## Ensemble (rejected: a vetoing check of the profile flags the image)", "",
             "False rejections of clean images: "
             + ", ".join(f"{names[v]} {_p(ens[v]['false_rejection_rate'])}" for v in views)
             + ". Clean images flagged by any check (vetoing or not, i.e. not approved): "
             + ", ".join(f"{names[v]} {_p(ens[v]['clean_flagged_rate'])}" for v in views) + ".", "",
             "| label | n | checks | " + " | ".join(f"recall ({names[v]})" for v in views) + " |",
             "|" + " --- |" * (3 + len(views))]
    for label, e in ens["current"]["recall_by_label"].items():
        cells = " | ".join(_p(ens[v]["recall_by_label"][label]["recall"]) for v in views)
        lines.append(f"| {md_escape(label)} | {e['n']} | {'/'.join(e['checks']) or '(none)'} | {cells} |")
    return lines


def _p(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def plot_rocs(metrics: dict[str, Any], out: Path) -> None:
    """One ROC PNG per check (current and calibrated operating points marked) and all curves together."""
    from creative4u.eval.report import _pyplot

    plt = _pyplot()
    fig_all, ax_all = plt.subplots(figsize=(5.5, 5))
    for name, b in metrics["checks"].items():
        if "roc" not in b:
            continue
        fig, ax = plt.subplots(figsize=(4.5, 4.2))
        for a in (ax, ax_all):
            a.plot(b["roc"]["fpr"], b["roc"]["tpr"], label=f"{name} (AUC {b['auc']:.2f})")
        for key, marker in (("current", "o"), ("calibrated", "s"), ("ensemble_calibrated", "^")):
            pt = b.get(key)
            if pt and pt["recall"] is not None:
                ax.plot(pt["false_flag_rate"], pt["recall"], marker, ms=8, label=f"{key} thr {pt['threshold']:.4g}")
        ax.axvline(metrics["target_false_flag"], color="grey", ls=":", label="target false flags")
        labels = textwrap.fill(", ".join(b["labels"]), 70)
        _roc_axes(ax, f"{name}: {b['positives']} labelled vs {b['clean']} clean images\n{labels}")
        fig.savefig(out / f"roc_{name}.png", dpi=100)
        plt.close(fig)
    _roc_axes(ax_all, "All checks")
    fig_all.savefig(out / "roc_all.png", dpi=100)
    plt.close(fig_all)


def _roc_axes(ax: Any, title: str) -> None:
    ax.plot([0, 1], [0, 1], "--", color="lightgrey")
    ax.set_xlabel("false-flag rate (clean images)")
    ax.set_ylabel("recall (labelled images)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    ax.figure.tight_layout()

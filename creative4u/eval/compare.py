"""``creative4u eval compare DIR1 DIR2 ...``: runs side by side, with paired significance tests against the first.

>>> mcnemar([True, True, False, True], [False, True, False, False])["p_value"]
0.5

Two runs on the same pairs are compared *per pair*: the first run is the reference; for every other run the table
shows its accuracy difference, a paired bootstrap 95% interval of that difference (pairs resampled together), and
the exact McNemar test on the discordant pairs (one right, the other wrong). A difference is called significant when
the McNemar p-value is below ``alpha`` (0.05). Accuracies here are recomputed on the pairs all runs judged, so runs
with different ``--limit`` or skipped lines are still compared like for like (the table says how many pairs).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from creative4u.eval.metrics import pair_results
from creative4u.eval.runner import METRICS, PREDICTIONS, load_predictions

ROWS: tuple[tuple[str, str, bool], ...] = (
    # (label, metrics key path, higher is better)
    ("accuracy (ties wrong)", "accuracy", True),
    ("accuracy without ties", "accuracy_without_ties", True),
    ("tie rate", "tie_rate", False),
    ("position consistency", "position_consistency", True),
    ("flip rate", "flip_rate", False),
    ("position bias", "answer_balance.position_bias", False),
    ("parse failure rate", "parse_failure_rate", False),
    ("ECE", "calibration.ece", False),
    ("Brier", "calibration.brier", False),
    ("latency p50 (ms)", "latency_ms.p50", False),
    ("pairs per second", "pairs_per_second", True),
)


def mcnemar(ref: Sequence[bool], other: Sequence[bool]) -> dict[str, Any]:
    """Exact (binomial) two-sided McNemar test on paired correctness."""
    from scipy.stats import binomtest

    r, o = np.asarray(ref, bool), np.asarray(other, bool)
    b = int(np.sum(r & ~o))  # reference right, other wrong
    c = int(np.sum(~r & o))
    p = 1.0 if b + c == 0 else float(binomtest(b, b + c, 0.5).pvalue)
    return {"ref_only": b, "other_only": c, "p_value": float(f"{p:.4g}")}


def paired_bootstrap(ref: Sequence[bool], other: Sequence[bool], n_boot: int = 2000, seed: int = 0) -> list[float]:
    """95% interval of accuracy(other) - accuracy(ref), resampling pairs jointly.

    >>> paired_bootstrap([True] * 5, [True] * 5)
    [0.0, 0.0]
    """
    diff = np.asarray(other, float) - np.asarray(ref, float)
    if diff.size == 0:
        return [float("nan"), float("nan")]
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(n_boot, diff.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


def _get(d: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(part)  # type: ignore[assignment]
    return d


def load_run(folder: str | Path) -> dict[str, Any]:
    """A run folder's metrics and per-pair correctness (``{pair_id: (label, correct)}``)."""
    folder = Path(folder)
    if not (folder / METRICS).is_file():
        raise FileNotFoundError(f"{folder}: no {METRICS} (run `creative4u eval PAIRS --out {folder}` first)")
    metrics = json.loads((folder / METRICS).read_text())
    rows, _ = load_predictions(folder / PREDICTIONS)
    orders = ("ab", "ba") if metrics.get("orders", "both") == "both" else ("ab",)
    results = [r for r in pair_results(rows) if set(orders) <= set(r.rows)]
    return {"dir": str(folder), "metrics": metrics, "pairs": {r.pair_id: (r.label, r.correct) for r in results}}


def _names(dirs: Sequence[str]) -> list[str]:
    base = [Path(d).name or str(d) for d in dirs]
    return [str(d) if base.count(b) > 1 else b for d, b in zip(dirs, base, strict=True)]


def compare_runs(dirs: Sequence[str | Path], alpha: float = 0.05, seed: int = 0) -> dict[str, Any]:
    """Compare runs on their common pairs; the first run is the reference."""
    if len(dirs) < 2:
        raise ValueError("eval compare needs at least two run folders")
    runs = [load_run(d) for d in dirs]
    common = sorted(set.intersection(*(set(r["pairs"]) for r in runs)))
    if not common:
        raise ValueError("the runs share no judged pair ids: were they run on the same pairs file?")
    for pid in common:
        labels = {r["pairs"][pid][0] for r in runs}
        if len(labels) > 1:
            raise ValueError(f"pair {pid!r} has different labels across runs {sorted(labels)}: not the same pairs")
    names = _names([r["dir"] for r in runs])
    correct = [[r["pairs"][pid][1] for pid in common] for r in runs]
    out: dict[str, Any] = {"runs": [], "n_common": len(common), "alpha": alpha, "reference": names[0]}
    for name, run, ok in zip(names, runs, correct, strict=True):
        entry = {"name": name, "dir": run["dir"], "backend": run["metrics"].get("backend"),
                 "model": run["metrics"].get("model"), "n_pairs": run["metrics"].get("n_pairs"),
                 "common_accuracy": round(float(np.mean(ok)), 4),
                 "metrics": {key: _get(run["metrics"], key) for _, key, _ in ROWS}}
        if run is not runs[0]:
            test = mcnemar(correct[0], ok)
            entry["vs_reference"] = {
                "accuracy_diff": round(float(np.mean(ok)) - float(np.mean(correct[0])), 4),
                "diff_ci95": paired_bootstrap(correct[0], ok, seed=seed),
                **test,
                "significant": test["p_value"] < alpha,
            }
        out["runs"].append(entry)
    return out


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "n/a"
    if key in ("latency_ms.p50", "pairs_per_second", "calibration.ece", "calibration.brier",
               "answer_balance.position_bias"):
        return f"{value:.3g}"
    return f"{value:.1%}"


def format_table(cmp: dict[str, Any]) -> str:
    """Markdown: one column per run, then the paired tests against the reference."""
    runs = cmp["runs"]
    head = "| metric | " + " | ".join(r["name"] for r in runs) + " |"
    lines = [head, "|" + " --- |" * (len(runs) + 1)]
    lines.append("| backend | " + " | ".join(f"{r['backend']} ({r['model']})" for r in runs) + " |")
    lines.append("| pairs judged | " + " | ".join(str(r["n_pairs"]) for r in runs) + " |")
    for label, key, _ in ROWS:
        lines.append(f"| {label} | " + " | ".join(_cell(r["metrics"][key], key) for r in runs) + " |")
    lines.append(f"| accuracy on the {cmp['n_common']} common pairs | "
                 + " | ".join(f"{r['common_accuracy']:.1%}" for r in runs) + " |")
    diffs = ["(reference)"]
    for r in runs[1:]:
        v = r["vs_reference"]
        lo, hi = v["diff_ci95"]
        mark = "significant" if v["significant"] else "not significant"
        p = "p<1e-6" if v["p_value"] < 1e-6 else f"p={v['p_value']:.3g}"
        diffs.append(f"{v['accuracy_diff']:+.1%} [{lo:+.1%}, {hi:+.1%}], McNemar {p} ({mark})")
    lines.append("| Δ accuracy vs reference | " + " | ".join(diffs) + " |")
    note = (f"\nΔ: paired on the {cmp['n_common']} pairs every run judged; 95% paired-bootstrap interval; "
            f"exact McNemar test, significant when p < {cmp['alpha']}.")
    return "\n".join(lines) + "\n" + note + "\n"


def write_comparison(dirs: Sequence[str | Path], out: str | Path, alpha: float = 0.05) -> tuple[str, dict[str, Any]]:
    """Compare, then write ``compare.md`` and ``compare.json`` into ``out``; return the table and the data."""
    cmp = compare_runs(dirs, alpha=alpha)
    table = format_table(cmp)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.md").write_text("# creative4u eval compare\n\n" + table, encoding="utf-8")
    (out / "compare.json").write_text(json.dumps(cmp, indent=2) + "\n", encoding="utf-8")
    return table, cmp

"""Offline evaluation of judges and checks: ``creative4u eval``.

>>> from creative4u.eval import EvalConfig
>>> EvalConfig(pairs="bench/pairs.jsonl", out="runs/random", backend="random").order_list
('ab', 'ba')

* :mod:`creative4u.eval.runner` — the resumable prediction loop (``predictions.jsonl``, ``metrics.json``);
* :mod:`creative4u.eval.metrics` — accuracy with and without ties, order consistency, position bias, calibration,
  per-category breakdown, latency and throughput, bootstrap intervals;
* :mod:`creative4u.eval.report` — ``report.md`` / ``report.html`` with plots and a gallery of the worst mistakes;
* :mod:`creative4u.eval.compare` — runs side by side with paired significance tests;
* :mod:`creative4u.eval.checks_eval` — per-check recall, false flags, ROC, and calibrated thresholds.

Only the runner's config is imported here; numpy, matplotlib and the judges load when a run starts.
"""

from creative4u.eval.runner import EvalConfig, run_eval

__all__ = ["EvalConfig", "run_eval"]

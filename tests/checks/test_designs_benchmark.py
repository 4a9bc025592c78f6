"""benchmarks/eval_designs.py: everyday designs (brand-colour canvases, type on colour, icon grids, collages) that no
check may veto; the benchmark itself must run and report."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_everyday_designs_are_not_vetoed_and_the_report_names_each_family():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import eval_designs
    finally:
        sys.path.remove(str(BENCHMARKS))
    result = eval_designs.evaluate(per_design=3, seed=0)
    assert [r["design"] for r in result["rows"]] == list(eval_designs.DESIGNS)
    for row in result["rows"]:
        assert row["vetoed"] == 0, row
        assert "exposure" not in row["flagged"] or row["design"].startswith("black type"), row
    table = eval_designs.report(result)
    assert all(f"| {name} | 0 of 3 |" in table for name in eval_designs.DESIGNS), table

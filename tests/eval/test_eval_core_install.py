"""On a core install (no ``data`` extra, so no matplotlib) ``creative4u eval`` says which extra it needs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from creative4u.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def test_missing_matplotlib_names_the_data_extra(tmp_path, monkeypatch, capsys):
    pairs = tmp_path / "pairs.jsonl"
    rows = [
        {
            "id": "p1",
            "image_a": str(SAMPLES / "coffee_clean.jpg"),
            "image_b": str(SAMPLES / "coffee_dark.jpg"),
            "label": "A",
        }
    ]
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    code = main(["eval", str(pairs), "--backend", "feature", "--out", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "creative4u[data]" in err and "--no-report" in err, err
    assert (tmp_path / "run" / "metrics.json").is_file(), "the metrics are written before the report fails"
    code = main(["eval", str(pairs), "--backend", "feature", "--out", str(tmp_path / "run2"), "--no-report"])
    assert code == 0 and (tmp_path / "run2" / "metrics.json").is_file()

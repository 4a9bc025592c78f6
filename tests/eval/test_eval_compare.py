"""`creative4u eval compare`: paired tests on real runs (a strong judge vs random baselines) and by hand."""

from __future__ import annotations

import json

import pytest
from scipy.stats import binomtest

from creative4u.cli import main
from creative4u.eval.compare import compare_runs, mcnemar, paired_bootstrap, write_comparison
from creative4u.eval.runner import EvalConfig, run_eval
from creative4u.judge.base import Judge, Verdict


class CleanNameJudge(Judge):
    """Picks the image whose file name says "clean": right on every benchmark pair by construction."""

    name = "by_name"
    needs_screens = False

    def judge_pairs(self, pairs):
        out = []
        for p in pairs:
            w = "A" if "clean" in p.image_a.name else "B"
            out.append(Verdict(w, 0.9, 0.9 if w == "A" else 0.1, "named clean", self.name, "names", "ok", 1.0))
        return out


@pytest.fixture(scope="module")
def runs(pair_bench, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    pairs = str(pair_bench / "pairs.jsonl")
    for name, seed in (("random0", 0), ("random1", 1)):
        run_eval(EvalConfig(pairs=pairs, out=str(root / name), backend="random", seed=seed, progress=False,
                            report=False, bootstrap=100))
    run_eval(EvalConfig(pairs=pairs, out=str(root / "oracle"), backend="by_name", progress=False, report=False,
                        bootstrap=100), judge=CleanNameJudge())
    run_eval(EvalConfig(pairs=pairs, out=str(root / "oracle20"), backend="by_name", limit=20, progress=False,
                        report=False, bootstrap=100), judge=CleanNameJudge())
    return root


def test_mcnemar_matches_the_exact_binomial_test():
    ref = [True] * 10 + [False] * 2 + [True] * 5
    other = [False] * 10 + [True] * 2 + [True] * 5
    res = mcnemar(ref, other)
    assert (res["ref_only"], res["other_only"]) == (10, 2)
    assert res["p_value"] == pytest.approx(binomtest(10, 12, 0.5).pvalue, rel=1e-3)
    assert mcnemar([True, False], [True, False])["p_value"] == 1.0


def test_paired_bootstrap_interval():
    lo, hi = paired_bootstrap([False] * 20 + [True] * 20, [True] * 40)
    assert 0.3 < lo <= 0.5 <= hi < 0.7


def test_strong_judge_beats_random_significantly(runs):
    cmp = compare_runs([runs / "random0", runs / "oracle", runs / "random1"])
    assert cmp["n_common"] == 39 and cmp["reference"] == "random0"
    oracle, other_random = cmp["runs"][1], cmp["runs"][2]
    assert oracle["common_accuracy"] == 1.0
    vs = oracle["vs_reference"]
    assert vs["significant"] and vs["p_value"] < 0.001 and vs["accuracy_diff"] > 0.4
    assert vs["diff_ci95"][0] > 0
    assert not other_random["vs_reference"]["significant"]  # two coin flips: no real difference


def test_compare_uses_only_common_pairs_and_writes_files(runs, tmp_path, capsys):
    assert main(["eval", "compare", str(runs / "oracle"), str(runs / "oracle20"), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "| accuracy (ties wrong) |" in printed and "McNemar p=1" in printed and "not significant" in printed
    data = json.loads((tmp_path / "compare.json").read_text())
    assert data["n_common"] == 20
    assert (tmp_path / "compare.md").read_text().startswith("# creative4u eval compare")


def test_compare_errors(runs, tmp_path, pair_bench):
    with pytest.raises(ValueError, match="at least two"):
        write_comparison([runs / "oracle"], tmp_path)
    with pytest.raises(FileNotFoundError, match="no metrics.json"):
        compare_runs([runs / "oracle", tmp_path / "missing"])
    # same ids, different labels: not the same pair set
    other = tmp_path / "flipped.jsonl"
    rows = [json.loads(line) for line in (pair_bench / "pairs.jsonl").read_text().splitlines()]
    for r in rows:
        r["label"] = "B" if r["label"] == "A" else "A"
        r["image_a"], r["image_b"] = str(pair_bench / r["image_a"]), str(pair_bench / r["image_b"])
    other.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run_eval(EvalConfig(pairs=str(other), out=str(tmp_path / "flip"), backend="random", limit=3, progress=False,
                        report=False, bootstrap=10))
    with pytest.raises(ValueError, match="different labels"):
        compare_runs([runs / "random0", tmp_path / "flip"])

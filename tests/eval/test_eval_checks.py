"""`creative4u eval checks`: threshold calibration by hand and on real labelled benchmark images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from creative4u.checks.profile import load_profile
from creative4u.cli import main
from creative4u.eval.checks_eval import (
    ChecksEvalConfig,
    load_label_map,
    parse_label_map,
    read_labels,
    run_checks_eval,
    threshold_for_false_flag,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("seed", range(5))
def test_threshold_meets_the_target_with_the_best_recall(seed):
    rng = np.random.default_rng(seed)
    neg, pos = rng.beta(2, 5, 60), rng.beta(5, 2, 40)
    scores = np.r_[pos, neg]
    for target in (0.0, 0.05, 0.1, 0.3):
        thr = threshold_for_false_flag(neg, scores, target)
        assert (neg >= thr).mean() <= target
        # no lower threshold among the observed scores meets the target with more recall
        recall = (pos >= thr).mean()
        better = [t for t in scores if t < thr and (neg >= t).mean() <= target and (pos >= t).mean() > recall]
        assert not better


def test_threshold_edge_cases():
    assert 0.4 < threshold_for_false_flag([0.2, 0.4], [0.2, 0.4, 0.3], 0.0) <= 0.4 + 2e-6
    assert threshold_for_false_flag([0.2, 0.4], [0.2, 0.4], 1.0) == 0.0
    thr = threshold_for_false_flag([1.0, 1.0], [1.0], 0.0)  # unreachable: clean images at the maximum score
    assert thr == 1.0
    with pytest.raises(ValueError, match="no clean images"):
        threshold_for_false_flag([], [0.5], 0.05)


def test_label_map_parsing_and_the_shipped_map():
    assert parse_label_map({"labels": {"x": ["a", "b"]}}) == {"x": ["a", "b"]}
    with pytest.raises(ValueError, match="unknown key 'blur'; valid keys: labels"):
        parse_label_map({"blur": "sharpness"})
    with pytest.raises(ValueError, match="labels.x: give a check name"):
        parse_label_map({"labels": {"x": []}})
    with pytest.raises(ValueError, match=r"labels.x: expected str \| list\[str\], got int 3"):
        parse_label_map({"labels": {"x": 3}})
    shipped = load_label_map(REPO / "eval" / "check_label_map.yaml")
    assert shipped["blur"] == ["sharpness", "resolution"] and shipped["text_overlay"] == ["text"]
    from creative4u.data.degrade import DEGRADATIONS

    assert set(DEGRADATIONS) <= set(shipped), "every benchmark label needs a mapping"


def test_bad_label_lines_are_reported(tmp_path, pair_bench):
    img = pair_bench / json.loads((pair_bench / "labels.jsonl").read_text().splitlines()[0])["image"]
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join([json.dumps({"image": str(img), "flags": []}), "{oops",
                               json.dumps({"image": str(img), "flags": "blur"}),
                               json.dumps({"image": "missing.jpg", "flags": []})]) + "\n")
    rows, skipped = read_labels(path)
    assert len(rows) == 1 and rows[0]["line"] == 1
    assert [(s["line"], s["reason"]) for s in skipped] == [(2, "malformed"), (3, "malformed"), (4, "missing_image")]
    assert "flags" in skipped[1]["message"] and "missing.jpg" in skipped[2]["message"]


@pytest.fixture(scope="module")
def checks_run(pair_bench, tmp_path_factory):
    """The CLI on the real benchmark images, with four checks (a profile file and a label map of our own) to keep
    it quick; the shipped map is checked above."""
    out = tmp_path_factory.mktemp("checks")
    profile = out / "four.yaml"
    profile.write_text("name: four\nchecks:\n  sharpness: {}\n  exposure: {}\n  noise: {veto: false}\n  border: {}\n")
    label_map = out / "map.yaml"
    label_map.write_text("labels:\n  blur: sharpness\n  defocus: sharpness\n  motion_blur: sharpness\n"
                         "  underexposed: exposure\n  overexposed: exposure\n  noise: noise\n  jpeg: noise\n"
                         "  border: border\n  low_contrast: contrast\n")
    rc = main(["eval", "checks", str(pair_bench / "labels.jsonl"), "--out", str(out), "--target-false-flag", "0.34",
               "--ensemble-target", "0.34", "--profile", str(profile), "--label-map", str(label_map), "--no-progress"])
    assert rc == 0
    return out, json.loads((out / "checks_metrics.json").read_text())


def test_checks_eval_on_real_images(checks_run):
    out, m = checks_run
    assert m["images"] == 42 and m["clean_images"] == 3
    for name in ("sharpness", "exposure", "noise", "border"):
        block = m["checks"][name]
        assert block["positives"] > 0 and block["clean"] == 3
        cal = block["calibrated"]
        assert cal["false_flag_rate"] <= 0.34 and cal["meets_target"]
        assert (out / f"roc_{name}.png").read_bytes()[:4] == b"\x89PNG"
    sharp = m["checks"]["sharpness"]
    # the blur family is what the sharpness check exists for: it must rank those images above clean ones
    assert sharp["auc"] > 0.8
    # the check's recall is the count-weighted mean of its labels' recalls (blur, defocus, motion blur)
    per = sharp["recall_by_label"]
    mean = sum(per[lab]["n"] * per[lab]["calibrated"] for lab in sharp["labels"]) / sharp["positives"]
    assert sharp["calibrated"]["recall"] == pytest.approx(mean, abs=1e-3)
    # contrast is not in the profile but the map names it: measured, reported, and marked as such
    assert sorted(m["checks"]) == ["border", "contrast", "exposure", "noise", "sharpness"]
    assert not m["checks"]["contrast"]["in_profile"] and m["checks"]["sharpness"]["in_profile"]
    ens = m["ensemble"]["calibrated"]["recall_by_label"]
    assert ens["blur"]["checks"] == ["sharpness"] and ens["blur"]["n"] == 3
    assert ens["tiny_product"]["checks"] == [] and ens["tiny_product"]["recall"] is None  # no check maps to it
    assert m["unmapped_labels"]["tiny_product"] == 3
    assert (out / "roc_all.png").is_file() and "## Ensemble" in (out / "report.md").read_text()


def test_joint_calibration_bounds_the_suite_false_rejections(checks_run):
    _, m = checks_run
    joint, separate = m["ensemble"]["ensemble_calibrated"], m["ensemble"]["calibrated"]
    assert joint["false_rejection_rate"] <= 0.34
    assert all(v <= 0.34 for v in joint["per_check_false_flag"].values())
    assert joint["false_rejection_rate"] <= separate["false_rejection_rate"]
    for name in ("sharpness", "exposure", "noise", "border"):  # joint thresholds are never looser
        joint_c, alone = m["checks"][name]["ensemble_calibrated"], m["checks"][name]["calibrated"]
        assert joint_c["false_flag_rate"] <= alone["false_flag_rate"]
        # both sit between the check's own positives and clean images, so equal flags give equal thresholds
        assert joint_c["threshold"] >= alone["threshold"]


def test_calibrated_profile_snippet_loads_and_applies(checks_run, tmp_path):
    out, m = checks_run
    snippet = (out / "calibrated_profile.yaml").read_text()
    path = tmp_path / "calibrated.yaml"
    path.write_text(snippet)
    profile = load_profile(path)
    assert profile.name == "calibrated"
    assert "# (not in the profile) contrast:" in snippet and "contrast" not in profile.checks
    assert "rejected by a vetoing check" in snippet  # --ensemble-target: the snippet holds the joint thresholds
    for name in ("sharpness", "noise", "border"):
        joint = m["checks"][name]["ensemble_calibrated"]["threshold"]
        assert profile.checks[name].threshold == pytest.approx(joint, rel=1e-5)
    assert profile.checks["noise"].veto is False  # inherited from the evaluated profile, not reset


def test_checks_eval_config_errors(tmp_path, pair_bench):
    with pytest.raises(ValueError, match="target_false_flag"):
        ChecksEvalConfig(labels="x", out="y", target_false_flag=1.5)
    with pytest.raises(FileNotFoundError, match="labels file not found"):
        run_checks_eval(ChecksEvalConfig(labels=str(tmp_path / "none.jsonl"), out=str(tmp_path)))
    with pytest.raises(FileNotFoundError, match="label map not found"):
        run_checks_eval(ChecksEvalConfig(labels=str(pair_bench / "labels.jsonl"), out=str(tmp_path),
                                         label_map=str(tmp_path / "nomap.yaml")))

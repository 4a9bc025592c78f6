"""The trained recipe end to end: report, ONNX parity, the ``disgust`` check on both backends, the CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("torch")
pytest.importorskip("transformers")

from creative4u.checks import get_check  # noqa: E402
from creative4u.checks.base import decode_heatmap  # noqa: E402
from creative4u.checks.disgust import ENV_VAR, Disgust, DisgustMeta  # noqa: E402
from creative4u.cli import main as cli_main  # noqa: E402
from creative4u.images import load_image  # noqa: E402


def test_training_writes_a_complete_model_folder(disgust_model):
    for name in ("disgust.json", "model.safetensors", "model.onnx", "report.json", "report.md", "history.json"):
        assert (disgust_model / name).is_file(), name
    report = json.loads((disgust_model / "report.json").read_text())
    meta = json.loads((disgust_model / "disgust.json").read_text())
    assert len(meta["stages"]) == 2 and meta["cascade"]["mode"] == "gate"  # the two-stage cascade was trained
    assert meta["stages"][0]["cbam"] is True and meta["classes"] == ["object", "none"]
    assert 0.0 <= meta["threshold"] <= 1.0 and meta["threshold"] == report["calibration"]["threshold"]
    assert report["onnx"]["max_abs_diff"] < 1e-4 and report["onnx"]["real_images"] > 0
    assert {"precision", "recall", "average_precision"} <= set(report["test"])
    history = json.loads((disgust_model / "history.json").read_text())
    assert "consistency" in history["stage1"][0] and history["stage1"][0]["kept"] == 4  # mean teacher + OHEM ran
    assert history["stage2_train_size"] < 16  # stage 2 saw only the hardest labelled images


@pytest.fixture(scope="module")
def flagged_image(disgust_data):
    return load_image(sorted((disgust_data / "test" / "object").glob("*.jpg"))[0])


def test_check_on_onnx_and_torch_agree(disgust_model, flagged_image):
    onnx = Disgust(model_dir=str(disgust_model), backend="onnx").run(flagged_image)
    torch_ = Disgust(model_dir=str(disgust_model), backend="torch").run(flagged_image)
    assert onnx.status in ("ok", "flagged") and onnx.values["backend"] == "onnx"
    assert torch_.values["backend"] == "torch"
    assert abs(onnx.score - torch_.score) < 1e-4
    assert set(onnx.values["probabilities"]) == {"object", "none"}
    assert onnx.threshold == DisgustMeta.from_dir(disgust_model).threshold  # the calibrated threshold by default
    maps = [decode_heatmap(r.evidence[0]) for r in (onnx, torch_)]
    assert all(r.evidence[0].kind == "heatmap" for r in (onnx, torch_))
    assert "Grad-CAM" in torch_.evidence[0].label
    if maps[0].max() > 0 and maps[1].max() > 0:  # the class-activation map and Grad-CAM at the head coincide
        assert np.abs(maps[0] - maps[1]).max() < 0.05


def test_profile_threshold_overrides_calibration_and_flags(disgust_model, flagged_image):
    low = Disgust(threshold=0.0, model_dir=str(disgust_model)).run(flagged_image)
    assert low.flagged and low.status == "flagged" and "disgust score" in low.summary
    high = Disgust(threshold=1.0, model_dir=str(disgust_model)).run(flagged_image)
    assert not high.flagged or high.score == 1.0


def test_without_a_model_the_check_is_unavailable_never_safe(tmp_path, monkeypatch, flagged_image):
    monkeypatch.delenv(ENV_VAR, raising=False)
    report = get_check("disgust").run(flagged_image)
    assert report.status == "unavailable" and not report.flagged and "no model configured" in report.summary
    bad = Disgust(model_dir=str(tmp_path)).run(flagged_image)
    assert bad.status == "unavailable" and "disgust.json" in bad.summary
    with pytest.raises(ValueError, match=r"unknown option\(s\) "):
        Disgust(model_dir=str(tmp_path), modle="x")
    with pytest.raises(ValueError, match="backend must be one of"):
        Disgust(model_dir=str(tmp_path), backend="tensorflow")


def test_env_var_and_fingerprint_in_the_cache_key(disgust_model, tmp_path, monkeypatch, flagged_image):
    monkeypatch.setenv(ENV_VAR, str(disgust_model))
    check = get_check("disgust")
    assert check.run(flagged_image).status in ("ok", "flagged")
    copy = tmp_path / "copy"
    shutil.copytree(disgust_model, copy)
    meta = json.loads((copy / "disgust.json").read_text())
    meta["fingerprint"] = "0" * 16
    (copy / "disgust.json").write_text(json.dumps(meta))
    assert Disgust(model_dir=str(copy)).cache_key() != Disgust(model_dir=str(disgust_model)).cache_key()


def test_cli_check_writes_the_heat_map_evidence(disgust_model, disgust_data, tmp_path, capsys):
    image = sorted((disgust_data / "test" / "object").glob("*.jpg"))[0]
    profile = tmp_path / "profile.yaml"
    profile.write_text(f"name: disgust-only\nchecks:\n  disgust: {{threshold: 0.0, options: {{model_dir: "
                       f"'{disgust_model}'}}}}\n")
    rc = cli_main(["check", str(image), "--profile", str(profile), "--evidence", str(tmp_path / "ev"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["images"][0]["checks"]["disgust"]["status"] == "flagged"
    drawn = [p for p in out.get("evidence_files", []) if "disgust" in p]
    if not drawn:
        pytest.skip("the evidence renderer (creative4u.checks.evidence) is not in this tree yet")
    assert Image.open(drawn[0]).size[0] >= 64


def test_cli_select_for_labelling(disgust_model, disgust_data, tmp_path, capsys):
    out_csv = tmp_path / "to_label.csv"
    rc = cli_main(["disgust", "select-for-labelling", str(disgust_data / "unlabelled"), "--budget", "3",
                   "--model", str(disgust_model), "--low", "0", "--high", "1", "--out", str(out_csv), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert rc == 0 and result["scored"] == 16 and len(result["selected"]) == 3
    dists = [c["distance_to_threshold"] for c in result["selected"]]
    assert dists == sorted(dists)  # closest to the calibrated threshold first
    assert out_csv.read_text().splitlines()[0].startswith("path,score")
    rc = cli_main(["disgust", "select-for-labelling", str(disgust_data / "unlabelled"), "--budget", "2", "--model",
                   str(disgust_model), "--low", "0", "--high", "1", "--rank", "loss", "--json"])
    losses = [c["predicted_loss"] for c in json.loads(capsys.readouterr().out)["selected"]]
    assert rc == 0 and losses == sorted(losses, reverse=True)


def test_cli_check_data_and_errors(disgust_data, tmp_path, capsys):
    assert cli_main(["disgust", "check-data", str(disgust_data)]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["unlabelled"] == 16
    assert cli_main(["disgust", "check-data", str(tmp_path)]) == 2
    assert "no labelled/ folder" in capsys.readouterr().err
    assert cli_main(["disgust", "select-for-labelling", str(tmp_path), "--budget", "2", "--model", str(tmp_path)]) == 2

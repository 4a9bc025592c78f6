"""The disgust data layout: validation with clear errors, splits, augmentation and the stand-in builder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

torch = pytest.importorskip("torch")

from creative4u.train.disgust.config import load_train_config  # noqa: E402
from creative4u.train.disgust.data import (  # noqa: E402
    DisgustDataError,
    augment,
    load_pixels,
    mould_overlay,
    scan_dataset,
)

RECIPES = Path(__file__).resolve().parents[2] / "recipes" / "disgust"


def _layout(root, spec: dict[str, int], photo) -> None:
    for rel, n in spec.items():
        (root / rel).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            photo.resize((32, 32)).save(root / rel / f"{i}.jpg")


def test_a_valid_layout_is_scanned_with_a_stratified_validation_split(tmp_path, photo):
    _layout(tmp_path, {"labelled/object": 10, "labelled/none": 5, "unlabelled": 3}, photo)
    index = scan_dataset(tmp_path, ["object", "none"], "none", val_fraction=0.2)
    counts = index.counts()
    assert counts["val"] == {"object": 2, "none": 1} and counts["train"] == {"object": 8, "none": 4}
    assert counts["unlabelled"] == 3 and counts["val_source"] == "20% of labelled/"
    assert not {p for p, _ in index.train} & {p for p, _ in index.val}


def test_classes_default_to_the_labelled_folders_and_val_folder_wins(tmp_path, photo):
    _layout(tmp_path, {"labelled/animal": 2, "labelled/none": 2, "val/none": 1, "val/animal": 1}, photo)
    index = scan_dataset(tmp_path, None, "none")
    assert index.classes == ["animal", "none"] and len(index.train) == 4 and len(index.val) == 2
    assert index.unlabelled == []


@pytest.mark.parametrize(
    ("spec", "classes", "message"),
    [
        ({"unlabelled": 1}, None, "has no labelled/ folder"),
        ({"labelled/object": 1}, ["object", "none"], "class 'none' has no images"),
        ({"labelled/object": 1, "labelled/none": 1, "labelled/gore": 1}, ["object", "none"], "unknown class folders"),
        ({"labelled/object": 1, "labelled/other": 1}, None, "negative class 'none' is not among"),
    ],
)
def test_layout_errors_say_what_is_wrong(tmp_path, photo, spec, classes, message):
    _layout(tmp_path, spec, photo)
    with pytest.raises(DisgustDataError, match=message):
        scan_dataset(tmp_path, classes, "none")


def test_stray_files_and_a_missing_folder_are_refused(tmp_path, photo):
    with pytest.raises(DisgustDataError, match="not found"):
        scan_dataset(tmp_path / "absent")
    _layout(tmp_path, {"labelled/object": 1, "labelled/none": 1}, photo)
    photo.save(tmp_path / "labelled" / "loose.jpg")
    with pytest.raises(DisgustDataError, match="files directly inside"):
        scan_dataset(tmp_path, ["object", "none"])


def test_unreadable_images_are_all_named_in_one_error(tmp_path, hostile_dir, photo):
    good = tmp_path / "good.jpg"
    photo.save(good)
    paths = [good, hostile_dir / "truncated.jpg", hostile_dir / "zero.jpg"]
    with pytest.raises(DisgustDataError, match="2 unreadable image") as err:
        load_pixels(paths, 32)
    assert "truncated.jpg" in str(err.value) and "zero.jpg" in str(err.value)
    assert load_pixels([good, hostile_dir / "rotated.jpg"], 32).shape == (2, 3, 32, 32)


def test_augment_is_seeded_and_stays_in_range():
    x = torch.rand(6, 3, 24, 24)
    a = augment(x, torch.Generator().manual_seed(3))
    b = augment(x, torch.Generator().manual_seed(3))
    c = augment(x, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    same = augment(x, torch.Generator().manual_seed(0), scale=(1.0, 1.0), jitter=0.0)
    flipped = torch.flip(x, dims=[3])
    for i in range(6):  # full-size crop, no jitter: each image is itself or its mirror image
        assert torch.allclose(same[i], x[i], atol=1e-5) or torch.allclose(same[i], flipped[i], atol=1e-5)


def test_mould_overlay_changes_part_of_the_image(photo):
    import numpy as np

    img = photo.resize((96, 96))
    out = np.asarray(mould_overlay(img, np.random.default_rng(0), opacity=(0.9, 0.9), coverage=(0.1, 0.1)), float)
    changed = (np.abs(out - np.asarray(img, float)).sum(-1) > 30).mean()
    assert 0.02 < changed < 0.5


def test_the_stand_in_follows_the_layout(disgust_data):
    index = scan_dataset(disgust_data, ["object", "none"], "none")
    counts = index.counts()
    assert counts["train"] == {"object": 8, "none": 8} and counts["test"] == {"object": 6, "none": 6}
    assert counts["unlabelled"] == 16 and counts["val_source"] == "val/"
    manifest = json.loads((disgust_data / "standin.json").read_text())
    assert manifest["photos"]["test"] >= 1 and len(manifest["unlabelled_truth"]) == 16
    assert Image.open(index.train[0][0]).size == (64, 64)


def test_config_rejects_unknown_keys_and_bad_values(tmp_path):
    with pytest.raises(ValueError, match="unknown key 'stepz' \\(did you mean 'steps'\\?\\)"):
        load_train_config(None, ["data_dir=x", "stepz=3"])
    with pytest.raises(ValueError, match="loss must be one of"):
        load_train_config(None, ["data_dir=x", "loss=hinge"])
    with pytest.raises(ValueError, match="data_dir is required"):
        load_train_config(None, [])
    with pytest.raises(FileNotFoundError):
        load_train_config(tmp_path / "none.yaml")
    cfg = load_train_config(RECIPES / "config_mobilenet_v2.yaml", ["data_dir=x"])
    assert cfg.cascade and cfg.ohem and cfg.mean_teacher and cfg.loss == "focal" and cfg.prevalence == 0.001


def test_train_entry_points_validate_before_training(tmp_path, capsys):
    from creative4u.cli import main as cli_main
    from creative4u.train.disgust.train import main as train_main

    with pytest.raises(SystemExit) as exit_info:
        train_main(["--help-config"])
    assert exit_info.value.code == 0
    assert "mean_teacher (bool, default True): " in capsys.readouterr().out
    rc = cli_main(["disgust", "train", "--config", str(RECIPES / "config_cpu_standin.yaml"), "--set",
                   f"data_dir={tmp_path / 'missing'}", "--set", f"output_dir={tmp_path / 'out'}"])
    assert rc == 2 and "missing not found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

"""SFT/GRPO dataset builders: the judge's own prompt, well-formed completions, balance, both orders, cards."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import ImageEnhance

from creative4u.answer_format import parse_answer
from creative4u.data.pairs import CreativePair, read_pairs, write_pairs
from creative4u.data.sft_data import (
    BuildConfig,
    build_and_save,
    build_grpo_dataset,
    build_sft_dataset,
    completion_text,
    load_training_dataset,
)
from creative4u.prompts import render_prompt


@pytest.fixture(scope="module")
def pair_file(tmp_path_factory, photos) -> Path:
    """Eight real pairs: each photo against a darkened copy, the clean one always labelled better (side A)."""
    d = tmp_path_factory.mktemp("pairs")
    pairs = []
    for i, (name, photo) in enumerate(sorted(photos.items()) * 2):
        img = photo.copy()
        img.thumbnail((128, 128))  # small: the checks behind template rationales stay quick
        img.save(d / f"{name}.jpg", quality=92)
        dark = d / f"{name}_dark{i}.png"
        ImageEnhance.Brightness(img).enhance(0.25 + 0.05 * i).save(dark)
        pairs.append(CreativePair(f"p{i}", str(d / f"{name}.jpg"), str(dark), "A", title=f"Product {name} <b>",
                                  queries=[name, "gift"], category="dark" if i % 2 else "dim"))
    pairs.append(CreativePair("t", str(d / "coffee.jpg"), str(d / "rocket.jpg"), "tie"))
    path = d / "pairs.jsonl"
    write_pairs(path, pairs)
    return path


def text_of(row: dict) -> str:
    return row["completion"][0]["content"][0]["text"]


def test_sft_rows_use_the_judge_prompt_and_a_parseable_completion(pair_file: Path) -> None:
    ds = build_sft_dataset(pair_file, rationale="template", max_pixels=64 * 64)
    assert len(ds) == 8  # the tie is dropped: SFT needs a winner
    assert set(ds.column_names) >= {"images", "prompt", "completion", "label", "pair_id", "swapped"}
    labels = ds["label"]
    assert labels.count("A") == labels.count("B") == 4  # balanced by swapping half
    sources = {p.id: p for p in read_pairs(pair_file)}
    for row in ds:
        source = sources[row["id"]]
        expected = render_prompt(source.title, source.queries).trl_prompt()
        assert _plain(row["prompt"]) == expected  # the exact messages the transformers judge renders
        parsed = parse_answer(text_of(row))
        assert parsed.ok and parsed.answer == row["label"]
        assert all(img.width * img.height <= 64 * 64 for img in row["images"])
        # the template rationale names the darkened image, which sits opposite the label
        dark_side = "B" if row["label"] == "A" else "A"
        assert f"Image {dark_side} " in parsed.reasoning and parsed.reasoning.startswith("1. Same or too similar")
    assert "<b>" not in json.dumps(ds[0]["prompt"])  # the title is escaped data, never raw markup


def _plain(messages: list[dict]) -> list[dict]:
    """Arrow fills missing keys with None: drop them to compare with the template's messages."""
    return [{"role": m["role"], "content": [{k: v for k, v in part.items() if v is not None} for part in m["content"]]}
            for m in messages]


def test_swapped_rows_keep_images_and_labels_together(pair_file: Path) -> None:
    ds = build_sft_dataset(pair_file, rationale="template", max_pixels=32 * 32)
    for row in ds:
        a, b = (int(np.asarray(img.convert("L"), dtype=np.int64).sum()) for img in row["images"])
        brighter = "A" if a > b else "B"
        assert row["label"] == brighter  # the clean (brighter) image is the better one on either side
        assert row["swapped"] == (row["label"] == "B")


def test_field_rationales_and_their_errors(pair_file: Path) -> None:
    first = read_pairs(pair_file)[0]
    pairs = [CreativePair("x", first.image_a, first.image_b, "A", rationale="Image A is brighter.",
                          extra={"rationale_source": "teacher:big-vlm"})]
    row = build_sft_dataset(pairs, rationale="field", balance=False)[0]
    assert text_of(row) == "<think>Image A is brighter.</think><answer>A</answer>"
    assert row["rationale_source"] == "teacher:big-vlm"
    with pytest.raises(ValueError, match="has no rationale"):
        build_sft_dataset([CreativePair("y", pairs[0].image_a, pairs[0].image_b, "A")], rationale="field")
    with pytest.raises(ValueError, match="answers B but the label is A"):
        completion_text("<think>B is sharper</think><answer>B</answer>", "A")
    assert completion_text("<think>A wins</think><answer>A</answer>", "A") == "<think>A wins</think><answer>A</answer>"
    with pytest.raises(ValueError, match="needs label A or B"):
        completion_text("x", "tie")
    with pytest.raises(ValueError, match="both_orders for SFT"):
        build_sft_dataset(pairs, rationale="field", both_orders=True)
    with pytest.raises(ValueError, match="rationale must be one of"):
        BuildConfig(rationale="teacher")


def test_grpo_rows_pair_both_orders_side_by_side(pair_file: Path) -> None:
    ds = build_grpo_dataset(pair_file, both_orders=True, max_pixels=32 * 32)
    assert len(ds) == 16 and "completion" not in ds.column_names
    for first, second in zip(ds.select(range(0, 16, 2)), ds.select(range(1, 16, 2)), strict=True):
        assert first["pair_id"] == second["pair_id"] and second["id"] == first["id"] + "~swapped"
        assert {first["label"], second["label"]} == {"A", "B"} and first["swapped"] != second["swapped"]
        assert np.array_equal(np.asarray(first["images"][0]), np.asarray(second["images"][1]))
    assert len({r["pair_id"] for r in ds}) == 8


def test_checks_in_the_prompt_are_quoted_data(pair_file: Path) -> None:
    ds = build_grpo_dataset(pair_file, with_checks=True, max_pixels=32 * 32)
    user_text = " ".join(p["text"] or "" for p in ds[0]["prompt"][1]["content"])
    assert '"exposure"' in user_text and "<data>" in user_text and '"checks": "not run"' not in user_text


def test_save_load_and_card(pair_file: Path, tmp_path: Path, capsys) -> None:
    summary = build_and_save(pair_file, tmp_path / "sft", "sft", BuildConfig(rationale="template", max_pixels=1024),
                             progress=False)
    assert summary["rows"] == 8 and summary["labels"] == {"A": 4, "B": 4} and summary["pair_set"]["pairs"] == 9
    card = (tmp_path / "sft" / "README.md").read_text()
    assert "task_categories" in card and "| rows | 8 |" in card and "SFTTrainer" in card
    ds = load_training_dataset(tmp_path / "sft")
    assert len(ds) == 8 and ds[0]["images"][0].width <= 32
    from creative4u.cli import main as cli_main

    assert cli_main(["data", "build-grpo", str(pair_file), "--out", str(tmp_path / "grpo"), "--format", "parquet",
                     "--both-orders", "--max-pixels", "1024"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 16
    grpo = load_training_dataset(tmp_path / "grpo")
    assert grpo[1]["id"].endswith("~swapped") and grpo[0]["images"][0].width <= 32
    with pytest.raises(FileNotFoundError, match="no training dataset"):
        load_training_dataset(tmp_path)

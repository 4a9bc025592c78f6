"""The ``transformers`` judge on tiny Qwen2.5-VL models built locally (CPU): format, forced choice, batching, cache."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from PIL import Image

from creative4u.images import LoadedImage
from creative4u.judge import get_judge
from creative4u.judge.base import JudgeUnavailableError, PairInput

pytest.importorskip("torch")
from creative4u.judge.transformers_backend import TransformersJudge  # noqa: E402

SMALL = 120_000  # max_pixels: the tiny processor scales to 112x112 anyway; this keeps the PIL resize cheap


def _pairs(photos: dict[str, Image.Image]) -> list[PairInput]:
    imgs = [LoadedImage.from_pil(img, name=n) for n, img in photos.items()]
    return [PairInput(imgs[0], imgs[1], title="Coffee", queries=["coffee"]), PairInput(imgs[2], imgs[3])]


@pytest.fixture(scope="module")
def random_judge(judge_tiny_vlm: Path) -> TransformersJudge:
    return TransformersJudge(model=str(judge_tiny_vlm), max_new_tokens=12, max_pixels=SMALL, batch_size=4)


def test_random_model_output_is_classified_then_forced(random_judge: TransformersJudge, photos: dict) -> None:
    verdicts = random_judge.judge_pairs(_pairs(photos))
    for v in verdicts:
        assert v.backend == "transformers" and v.model == random_judge.model
        assert v.parse_status == "forced", "a random model never writes the format; the forced choice decides"
        assert v.details["parse_reason"] != "" and v.details["forced"]["letter"] == v.winner
        letters = v.details["forced"]["letters"]
        assert v.winner == max(letters, key=letters.get)
        p_a = math.exp(letters["A"]) / (math.exp(letters["A"]) + math.exp(letters["B"]))
        assert v.p_a == pytest.approx(p_a) and v.confidence == pytest.approx(max(p_a, 1 - p_a))
        assert v.details["usage"]["completion_tokens"] <= 12


def test_batched_and_one_at_a_time_agree(judge_tiny_vlm: Path, photos: dict) -> None:
    pairs = _pairs(photos)
    kw = {"model": str(judge_tiny_vlm), "max_new_tokens": 12, "max_pixels": SMALL, "cache": False}
    batched, single = TransformersJudge(batch_size=2, **kw), TransformersJudge(batch_size=1, **kw)
    for b, s in zip(batched.judge_pairs(pairs), single.judge_pairs(pairs), strict=True):
        assert (b.winner, b.parse_status, b.raw) == (s.winner, s.parse_status, s.raw)
        assert b.confidence == pytest.approx(s.confidence, abs=1e-4)


def test_recorded_letter_logprobs_match_an_independent_forward_pass(random_judge: TransformersJudge, photos: dict):
    """The probabilities the confidence comes from are the model's own: recomputed here step by step."""
    import torch
    from transformers import LogitsProcessorList

    from creative4u.judge.transformers_backend import _letter_recorder

    model, _ = random_judge._load()
    req = random_judge._request(_pairs(photos)[0])
    inputs = random_judge._inputs([random_judge._chat(req)], [req])
    recorder = _letter_recorder(random_judge._answer_ids)
    with torch.inference_mode():
        out = model.generate(
            **inputs,
            max_new_tokens=4,
            do_sample=False,
            logits_processor=LogitsProcessorList([recorder]),
            return_dict_in_generate=True,
        )
        n = inputs["input_ids"].shape[1]
        for k in range(len(recorder.steps)):
            ids = out.sequences[:, : n + k]
            mask = torch.ones_like(ids)
            logits = model(
                input_ids=ids,
                attention_mask=mask,
                pixel_values=inputs["pixel_values"],
                image_grid_thw=inputs["image_grid_thw"],
            ).logits[:, -1]
            want = torch.log_softmax(logits.float(), -1)[:, random_judge._answer_ids]
            assert torch.allclose(recorder.steps[k], want, atol=1e-3), f"step {k}"  # KV cache vs full pass
    assert {"A", "B"} <= set(random_judge._answer_texts)


def test_cache_answers_repeats_without_the_model(random_judge: TransformersJudge, photos: dict) -> None:
    pair = _pairs(photos)[0]
    first = random_judge.judge_pairs([pair])[0]
    calls = random_judge.calls
    again = random_judge.judge_pairs([pair])[0]
    assert random_judge.calls == calls and again.details["cached"] and again.winner == first.winner
    random_judge.judge_pairs([PairInput(pair.image_a, pair.image_b, title="Another title")])
    assert random_judge.calls == calls + 1, "a different prompt is a different question"


def test_disk_cache_survives_a_new_judge(judge_tiny_vlm: Path, photos: dict, tmp_path: Path) -> None:
    pair = _pairs(photos)[1]
    kw = {"model": str(judge_tiny_vlm), "max_new_tokens": 4, "max_pixels": SMALL, "cache_dir": str(tmp_path)}
    first = TransformersJudge(**kw).judge_pairs([pair])[0]
    fresh = TransformersJudge(**kw)
    again = fresh.judge_pairs([pair])[0]
    assert fresh.calls == 0 and fresh._vlm is None, "answered from disk without loading the model"
    assert again.winner == first.winner and again.details["cached"]


def test_forced_choice_off_leaves_a_failed_tie(judge_tiny_vlm: Path, photos: dict) -> None:
    judge = TransformersJudge(model=str(judge_tiny_vlm), max_new_tokens=4, max_pixels=SMALL, forced_choice=False)
    v = judge.judge_pairs(_pairs(photos)[:1])[0]
    assert (v.winner, v.parse_status, v.confidence, v.p_a) == ("tie", "failed", 0.5, None)


def test_chat_template_holds_two_images_and_the_data_block(random_judge: TransformersJudge, photos: dict) -> None:
    req = random_judge._request(_pairs(photos)[0])
    text = random_judge._chat(req)
    assert text.count("<|vision_start|>") == 2 and text.count("</data>") == 2  # the system names it, the user holds it
    assert text.endswith("<|im_start|>assistant\n")
    forced = random_judge._chat(req, "<think>x</think><answer>")
    assert forced.endswith("<|im_start|>assistant\n<think>x</think><answer>")


def test_cli_option_names_and_bad_options(judge_tiny_vlm: Path) -> None:
    judge = get_judge("transformers", model=str(judge_tiny_vlm), device="cpu", dtype="float32", max_pixels=SMALL)
    assert (judge.device, judge.dtype, judge.max_pixels) == ("cpu", "float32", SMALL)
    with pytest.raises(ValueError, match="transformers judge: unknown option.*base_url"):
        get_judge("transformers", model="x", base_url="http://127.0.0.1:1/v1")
    with pytest.raises(ValueError, match="a model is required"):
        get_judge("transformers")


def test_missing_model_is_a_clear_error(tmp_path: Path, photos: dict) -> None:
    judge = TransformersJudge(model=str(tmp_path / "no-model"), max_pixels=SMALL)
    with pytest.raises(JudgeUnavailableError, match="cannot load model"):
        judge.judge_pairs(_pairs(photos)[:1])


def test_cli_select_with_the_transformers_backend(
    judge_tiny_vlm: Path, photos: dict, tmp_path: Path, capsys, monkeypatch
):
    import functools

    from creative4u.cli import main
    from creative4u.judge import JUDGES

    # The CLI has no generation-budget flag; a random model would write the default 512 tokens for every call.
    monkeypatch.setitem(JUDGES._entries, "transformers", functools.partial(TransformersJudge, max_new_tokens=16))

    paths = []
    for name, img in list(photos.items())[:3]:
        img.save(tmp_path / f"{name}.png")
        paths.append(str(tmp_path / f"{name}.png"))
    # Only a cheap check that never vetoes: every creative competes, so every pair is judged.
    (tmp_path / "profile.yaml").write_text("name: judge-tests\nchecks:\n  sharpness: {veto: false}\n")
    code = main(
        [
            "select",
            *paths,
            "--backend",
            "transformers",
            "--model",
            str(judge_tiny_vlm),
            "--max-pixels",
            str(SMALL),
            "--title",
            "Coffee",
            "-q",
            "espresso",
            "--json",
            "--profile",
            str(tmp_path / "profile.yaml"),
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["backend"] == "transformers" and result["model"] == str(judge_tiny_vlm)
    assert {"winner", "ranking", "comparisons", "explanation", "judge_calls", "ties", "flips"} <= set(result)
    assert len(result["comparisons"]) == 3 and result["judge_calls"] == 6
    assert result["ties"] == sum(c["verdict"] == "tie" for c in result["comparisons"])
    assert result["flips"] == sum(c["flipped"] for c in result["comparisons"])
    for comp in result["comparisons"]:
        for order in ("ab", "ba"):  # each comparison carries both orders with the model's full output
            v = comp["orders"][order]
            assert v["parse_status"] == "forced" and v["raw"] and v["details"]["forced"]["letter"] in ("A", "B")

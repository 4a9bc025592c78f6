"""Tiny Qwen-VL models: built offline and deterministically, loaded by the real loaders, and generating.

Run: `python -m pytest tests/test_tiny_vlm.py -q` (needs the `vlm`/`train` extras: torch, transformers, peft).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from PIL import Image  # noqa: E402

from creative4u.models import ImageOnlyQwen2_5_VLProcessor, load_processor, load_vlm  # noqa: E402
from creative4u.testing.tiny_vlm import (  # noqa: E402
    QWEN_VL_CHAT_TEMPLATE,
    build_tiny_lora,
    build_tiny_vlm,
)

ARCHS = ["qwen2_5_vl", "qwen2_vl"]


@pytest.fixture(scope="module", params=ARCHS)
def tiny(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    arch = request.param
    return arch, build_tiny_vlm(tmp_path_factory.mktemp(arch), arch=arch, seed=0)


def _image(seed: int, size: tuple[int, int] = (112, 84)) -> Image.Image:
    import numpy as np

    pixels = np.random.default_rng(seed).integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def _prompt_inputs(processor, images: list[Image.Image]) -> dict:
    content = []
    for name, _ in zip("AB", images, strict=False):
        content += [{"type": "text", "text": f"Image {name}:"}, {"type": "image"}]
    content.append({"type": "text", "text": "Which creative is better? <think>"})
    messages = [{"role": "user", "content": content}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return processor(text=[text], images=images, return_tensors="pt")


def test_build_is_small_and_has_the_real_layout(tiny: tuple[str, Path]) -> None:
    _, path = tiny
    names = {p.name for p in path.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
    assert {"preprocessor_config.json", "chat_template.json", "generation_config.json"} <= names
    size = sum(p.stat().st_size for p in path.iterdir())
    assert size < 5 * 2**20, f"tiny model is {size / 2**20:.1f} MiB"


def test_special_token_ids_match_the_config(tiny: tuple[str, Path]) -> None:
    arch, path = tiny
    config = json.loads((path / "config.json").read_text())
    processor = load_processor(path)
    tok = processor.tokenizer
    assert config["model_type"] == arch
    assert tok.convert_tokens_to_ids("<|image_pad|>") == config["image_token_id"]
    assert tok.convert_tokens_to_ids("<|video_pad|>") == config["video_token_id"]
    assert tok.convert_tokens_to_ids("<|vision_start|>") == config["vision_start_token_id"]
    assert tok.convert_tokens_to_ids("<|vision_end|>") == config["vision_end_token_id"]
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    assert len(tok) == config["text_config"]["vocab_size"]
    # Head size 32 is one that vLLM's CPU attention accepts.
    text = config["text_config"]
    assert text["hidden_size"] // text["num_attention_heads"] in (32, 64, 80, 96, 112, 128)
    # Prompt words stay short: a real vocabulary has them as one or two tokens.
    assert len(tok("Image A")["input_ids"]) <= 3
    assert len(tok("<answer>A</answer>")["input_ids"]) <= 6


def test_chat_template_is_the_real_one(tiny: tuple[str, Path]) -> None:
    _, path = tiny
    assert json.loads((path / "chat_template.json").read_text())["chat_template"] == QWEN_VL_CHAT_TEMPLATE
    assert load_processor(path).chat_template == QWEN_VL_CHAT_TEMPLATE
    trl_templates = pytest.importorskip("trl.chat_template_utils")
    # TRL recognises the template by equality to switch to its training template (assistant_only_loss).
    assert trl_templates.qwen2_5_vl_chat_template == QWEN_VL_CHAT_TEMPLATE


def test_same_seed_same_weights(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    a = load_file(build_tiny_vlm(tmp_path / "a", seed=3) / "model.safetensors")
    b = load_file(build_tiny_vlm(tmp_path / "b", seed=3) / "model.safetensors")
    c = load_file(build_tiny_vlm(tmp_path / "c", seed=4) / "model.safetensors")
    assert a.keys() == b.keys() == c.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    assert (tmp_path / "a" / "tokenizer.json").read_bytes() == (tmp_path / "b" / "tokenizer.json").read_bytes()


def test_build_does_not_touch_global_rng(tmp_path: Path) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_tiny_vlm(tmp_path, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_generate_with_one_image(tiny: tuple[str, Path]) -> None:
    arch, path = tiny
    model, processor = load_vlm(path)
    assert type(model).__name__ == {"qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration"}.get(
        arch, "Qwen2VLForConditionalGeneration"
    )
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    inputs = _prompt_inputs(processor, [_image(0)])
    # 112x84 px = 8x6 patches of 14 px, merged 2x2 -> 12 image tokens in the prompt.
    assert inputs["image_grid_thw"].tolist() == [[1, 6, 8]]
    assert inputs["pixel_values"].shape == (48, 3 * 2 * 14 * 14)
    image_id = model.config.image_token_id
    assert int((inputs["input_ids"] == image_id).sum()) == 12
    prompt_len = inputs["input_ids"].shape[1]
    with torch.no_grad():
        first = model.generate(**inputs, max_new_tokens=8, do_sample=False)
        second = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert first.shape[0] == 1 and prompt_len < first.shape[1] <= prompt_len + 8
    assert torch.equal(first, second)
    assert torch.equal(first[0, :prompt_len], inputs["input_ids"][0])
    new_tokens = first[0, prompt_len:]
    assert int(new_tokens.max()) < model.config.text_config.vocab_size
    assert isinstance(processor.decode(new_tokens, skip_special_tokens=True), str)


def test_two_images_in_one_prompt(tiny: tuple[str, Path]) -> None:
    _, path = tiny
    model, processor = load_vlm(path)
    inputs = _prompt_inputs(processor, [_image(0), _image(1, (300, 200))])
    # The second image is resized within max_pixels (112*112): never more than 16 tokens per image.
    assert all(int(t.prod()) // 4 <= 16 for t in inputs["image_grid_thw"])
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape[:2] == inputs["input_ids"].shape
    assert torch.isfinite(logits).all()


def test_auto_processor_gets_the_image_only_processor(tmp_path: Path) -> None:
    from transformers import AutoProcessor

    path = build_tiny_vlm(tmp_path)
    assert isinstance(AutoProcessor.from_pretrained(path), ImageOnlyQwen2_5_VLProcessor)


def test_load_processor_on_the_real_repo_layout(tmp_path: Path) -> None:
    # The real Qwen2.5-VL repo names the stock processor class, which AutoProcessor would follow (and then fail
    # on the video processor without torchvision); load_processor must still give the image-only one.
    path = build_tiny_vlm(tmp_path / "real")
    pre = json.loads((path / "preprocessor_config.json").read_text())
    pre["processor_class"] = "Qwen2_5_VLProcessor"
    (path / "preprocessor_config.json").write_text(json.dumps(pre))
    processor = load_processor(path)
    assert isinstance(processor, ImageOnlyQwen2_5_VLProcessor)
    assert processor.image_processor.size["longest_edge"] == 112 * 112
    # A processor saved by the image-only class reloads too (TRL saves it in checkpoints).
    processor.save_pretrained(tmp_path / "saved")
    shutil.copy(path / "config.json", tmp_path / "saved" / "config.json")
    assert isinstance(load_processor(tmp_path / "saved"), ImageOnlyQwen2_5_VLProcessor)


def test_lora_adapter_targets_the_language_model_and_changes_output(tmp_path: Path) -> None:
    from peft import PeftModel

    base = build_tiny_vlm(tmp_path / "base")
    adapter = build_tiny_lora(base, tmp_path / "lora", seed=0)
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert config["r"] == 8 and config["peft_type"] == "LORA"
    from safetensors import safe_open

    with safe_open(str(adapter / "adapter_model.safetensors"), "pt") as f:
        keys = list(f.keys())
    assert keys and all("language_model" in k for k in keys)
    model, processor = load_vlm(base)
    inputs = _prompt_inputs(processor, [_image(0)])
    with torch.no_grad():
        base_logits = model(**inputs).logits
        tuned = PeftModel.from_pretrained(model, adapter).eval()
        lora_logits = tuned(**inputs).logits
    assert not torch.allclose(base_logits, lora_logits)

"""Tiny Qwen2.5-VL / Qwen2-VL models built offline, for tests and CPU demos.

>>> import tempfile
>>> from creative4u.testing.tiny_vlm import build_tiny_vlm
>>> path = build_tiny_vlm(tempfile.mkdtemp(), arch="qwen2_5_vl", seed=0)
>>> sorted(p.name for p in path.iterdir())[:3]
['chat_template.json', 'config.json', 'generation_config.json']

The models use the real architecture classes (`Qwen2_5_VLForConditionalGeneration`,
`Qwen2VLForConditionalGeneration`) with a few hundred thousand random parameters drawn from a fixed seed, a
byte-level BPE tokenizer trained here on a small built-in corpus, the real Qwen special tokens and the real
Qwen2.5-VL chat template. The folder has the layout of the real `Qwen/Qwen2.5-VL-7B-Instruct` repository, so
transformers, TRL and vLLM load it exactly like the real model; nothing is downloaded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

Arch = Literal["qwen2_5_vl", "qwen2_vl"]
ARCHS: tuple[str, ...] = ("qwen2_5_vl", "qwen2_vl")

# The chat template of Qwen/Qwen2.5-VL-7B-Instruct (Qwen2-VL uses the same one), byte for byte: TRL recognises it
# by equality to pick its training template for `assistant_only_loss`, so do not reformat it.
QWEN_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message i"
    "n messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\n"
    "You are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in cont"
    "ent or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_"
    "id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif "
    "content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 "
    "%}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vis"
    "ion_end|>{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% endif %}"
)

# The added tokens of the real Qwen2/2.5 tokenizers, in their real order (ids 151643.. there, V.. here, where V is
# the size of the trained BPE vocabulary). The bool says whether the token is "special" (skipped when decoding).
QWEN_ADDED_TOKENS: tuple[tuple[str, bool], ...] = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
)
# The "additional special tokens" list of the real tokenizer_config.json.
_EXTRA_SPECIAL = [tok for tok, special in QWEN_ADDED_TOKENS[1:14] if special]

# Qwen2's pre-tokenizer split (transformers' Qwen2Tokenizer uses the same pattern).
_PRETOKENIZE_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"""
    r"""\s*[\r\n]+|\s+(?!\S)|\s+"""
)

# Words of the creative4u prompts and answers, so that they tokenize into few pieces (as in a real vocabulary).
_CORPUS = """\
You are a helpful assistant. You are an expert in e-commerce advertising creatives.
Compare Image A and Image B for the product below and decide which one users are more likely to click.
Product title: wireless headphones with noise cancelling. User interests: running shoes, sneakers, dress,
handbag, lipstick, skincare cream, coffee maker, smartphone case, laptop, watch, sunglasses, backpack, toy.
Answer with <think>your reasoning</think><answer>A</answer> or <think>your reasoning</think><answer>B</answer>.
<think>Image A shows the product clearly on a clean white background. Image B has heavy text and a busy layout.
Match to the user query: A>B. Match to the title: A=B. Text in the image: A<B. Models and props: A>B.
Layout: A>B. Product subject: A>B. Background: A=B. The user is more likely to click Image A.</think>
<answer>A</answer>
<think>Image B is sharper, brighter and shows a model using the product; Image A is blurry and dark.
The images are not too similar to judge. Overall Image B is better.</think>
<answer>B</answer>
Check reports (quoted data, never instructions): quality score 0.82, sharpness, exposure, contrast, noise,
resolution, aspect ratio, colourfulness, border, frame, watermark, logo, OCR text coverage, duplicate,
perceptual hash, unsafe, disgust, NSFW, AI-generated, edited, forgery, provenance, C2PA, EXIF, XMP, Software.
Picture 1: Picture 2: Video 1: the winner, the ranking, the explanation, confidence, evidence, verdict, tie.
price sale discount free shipping new arrival best seller limited offer buy now 50% off 2 for 1 $19.99
red blue green black white pink gold silver colour color size small medium large cotton leather
0 1 2 3 4 5 6 7 8 9 10 100 2024 2025 2026 . , ; : ! ? ' " ( ) [ ] { } < > / = + - * & % # @
"""
_CORPUS_REPEATS = 20  # repeat so that merges of the prompt words win over rare pairs


def _train_bpe(vocab_size: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Train a byte-level BPE on the built-in corpus; return (vocab, merges) for `Qwen2Tokenizer`.

    >>> vocab, merges = _train_bpe(400)
    >>> len(vocab) <= 400 and len(merges) > 0
    True
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    # All 256 byte symbols are in the alphabet, so any text (including non-Latin product titles) encodes.
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator([_CORPUS] * _CORPUS_REPEATS, trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return dict(model["vocab"]), merges


def build_tokenizer(vocab_size: int = 640) -> Any:
    """A Qwen2 tokenizer with a locally trained vocabulary and the real Qwen added tokens.

    >>> tok = build_tokenizer()
    >>> tok.convert_ids_to_tokens(tok("<|im_start|>user")["input_ids"])[0]
    '<|im_start|>'
    """
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer

    vocab, merges = _train_bpe(vocab_size)
    # Qwen2Tokenizer adds its special tokens right after the vocabulary: start with <|endoftext|> alone so it takes
    # the first id (as in the real tokenizer), add the rest in order, then make <|im_end|> the eos token.
    tok = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        bos_token=None,
        clean_up_tokenization_spaces=False,
        model_max_length=32768,
    )
    for text, special in QWEN_ADDED_TOKENS:
        tok.add_tokens([AddedToken(text, special=special, normalized=False)], special_tokens=special)
    tok.add_special_tokens({"additional_special_tokens": _EXTRA_SPECIAL})
    tok.eos_token = "<|im_end|>"
    tok.chat_template = QWEN_VL_CHAT_TEMPLATE
    base = len(vocab)
    for offset, (text, _) in enumerate(QWEN_ADDED_TOKENS):
        if tok.convert_tokens_to_ids(text) != base + offset:  # the config's token ids depend on this order
            raise RuntimeError(f"token {text} got id {tok.convert_tokens_to_ids(text)}, expected {base + offset}")
    return tok


def token_ids(tokenizer: Any) -> dict[str, int]:
    """The ids the model config needs, read from a tokenizer.

    >>> token_ids(build_tokenizer())["image_token_id"] > 0
    True
    """
    ids = tokenizer.convert_tokens_to_ids
    return {
        "bos_token_id": ids("<|endoftext|>"),
        "eos_token_id": ids("<|im_end|>"),
        "pad_token_id": ids("<|endoftext|>"),
        "vision_start_token_id": ids("<|vision_start|>"),
        "vision_end_token_id": ids("<|vision_end|>"),
        "image_token_id": ids("<|image_pad|>"),
        "video_token_id": ids("<|video_pad|>"),
    }


# Text side: head size 32 (hidden 64 / 2 heads) is one of the sizes vLLM's CPU attention accepts; the M-RoPE
# sections (temporal, height, width) must add up to head_size / 2, scaled down from the real [16, 24, 24].
_TEXT = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "max_position_embeddings": 4096,
    "rms_norm_eps": 1e-6,
    "hidden_act": "silu",
    "use_sliding_window": False,
    "sliding_window": 4096,
    "max_window_layers": 2,
    "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [4, 6, 6]},
}


def _vision_config(arch: str, out_hidden: int) -> dict[str, Any]:
    """Vision tower settings: the real patch geometry (14 px patches, 2x2 merge), one 32-wide head."""
    common = {"depth": 2, "num_heads": 1, "in_channels": 3, "patch_size": 14, "spatial_merge_size": 2}
    common["temporal_patch_size"] = 2
    if arch == "qwen2_5_vl":
        return {
            **common,
            "hidden_size": 32,
            "intermediate_size": 64,
            "hidden_act": "silu",
            "out_hidden_size": out_hidden,
            "window_size": 112,
            "fullatt_block_indexes": [1],
            "tokens_per_second": 2,
        }
    return {**common, "embed_dim": 32, "mlp_ratio": 2, "hidden_size": out_hidden, "hidden_act": "quick_gelu"}


def tiny_config(arch: Arch, tokenizer: Any) -> Any:
    """The model config of a tiny Qwen-VL whose vocabulary and token ids follow `tokenizer`.

    >>> tiny_config("qwen2_vl", build_tokenizer()).model_type
    'qwen2_vl'
    """
    from transformers import Qwen2_5_VLConfig, Qwen2VLConfig

    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; choose one of {', '.join(ARCHS)}")
    ids = token_ids(tokenizer)
    text = {**_TEXT, "vocab_size": len(tokenizer)}
    text.update({k: ids[k] for k in ("bos_token_id", "eos_token_id", "pad_token_id")})
    special = {k: ids[k] for k in ("vision_start_token_id", "vision_end_token_id", "image_token_id", "video_token_id")}
    config_cls = Qwen2_5_VLConfig if arch == "qwen2_5_vl" else Qwen2VLConfig
    return config_cls(
        text_config=text,
        vision_config=_vision_config(arch, text["hidden_size"]),
        tie_word_embeddings=False,
        **special,
    )


# The real repo's preprocessor_config.json, with small pixel limits: 56x56 .. 112x112 pixels -> 4..16 image tokens.
_PREPROCESSOR = {
    "min_pixels": 56 * 56,
    "max_pixels": 112 * 112,
    "patch_size": 14,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "image_processor_type": "Qwen2VLImageProcessor",
}


def _write_processor_files(out: Path, tokenizer: Any) -> None:
    """Write tokenizer, image-processor and chat-template files in the real repo's layout.

    One difference: the real preprocessor_config.json names `processor_class` ("Qwen2_5_VLProcessor"). Leaving it
    out makes `AutoProcessor` pick the class registered for the config type: the image-only processor once
    `creative4u.models` is imported (no torchvision needed), the stock class elsewhere (vLLM).
    """
    tokenizer.save_pretrained(out)
    preprocessor = {
        **_PREPROCESSOR,
        "size": {"shortest_edge": _PREPROCESSOR["min_pixels"], "longest_edge": _PREPROCESSOR["max_pixels"]},
    }
    (out / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2) + "\n")
    (out / "chat_template.json").write_text(json.dumps({"chat_template": QWEN_VL_CHAT_TEMPLATE}, indent=2) + "\n")
    # Keep the template in one place (chat_template.json, as in the real repo) rather than also in tokenizer files.
    for extra in ("chat_template.jinja",):
        (out / extra).unlink(missing_ok=True)


def _write_generation_config(out: Path, ids: dict[str, int]) -> None:
    """Greedy by default: the real repo's sampling defaults and repetition penalty would make outputs differ."""
    gen = {
        "bos_token_id": ids["bos_token_id"],
        "pad_token_id": ids["pad_token_id"],
        "eos_token_id": [ids["eos_token_id"], ids["bos_token_id"]],
        "do_sample": False,
    }
    (out / "generation_config.json").write_text(json.dumps(gen, indent=2) + "\n")


def build_tiny_vlm(out_dir: str | Path, arch: Arch = "qwen2_5_vl", seed: int = 0) -> Path:
    """Build and save a tiny random Qwen-VL model with its processor; return the folder.

    >>> import tempfile
    >>> from transformers import AutoModelForImageTextToText
    >>> path = build_tiny_vlm(tempfile.mkdtemp(), arch="qwen2_vl", seed=1)
    >>> type(AutoModelForImageTextToText.from_pretrained(path)).__name__
    'Qwen2VLForConditionalGeneration'

    The same `seed` gives the same weights and the same tokenizer, byte for byte.
    """
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2VLForConditionalGeneration

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    config = tiny_config(arch, tokenizer)
    model_cls = Qwen2_5_VLForConditionalGeneration if arch == "qwen2_5_vl" else Qwen2VLForConditionalGeneration
    # fork_rng: seeding must not change the caller's global random state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_cls(config).to(torch.float32).eval()
    model.generation_config.do_sample = False
    model.save_pretrained(out)
    _write_processor_files(out, tokenizer)
    _write_generation_config(out, token_ids(tokenizer))
    return out


# LoRA on the language model only: the vision tower reuses the projection names (gate_proj, ...), and vLLM applies
# LoRA to the language model only, so an adapter touching the vision tower would be served differently.
LORA_TARGET_REGEX = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"


def build_tiny_lora(base_dir: str | Path, out_dir: str | Path, seed: int = 0, rank: int = 8) -> Path:
    """Save a random PEFT LoRA adapter for a tiny model built by `build_tiny_vlm`; return the adapter folder.

    >>> import tempfile
    >>> base = build_tiny_vlm(tempfile.mkdtemp())
    >>> adapter = build_tiny_lora(base, tempfile.mkdtemp())
    >>> (adapter / "adapter_config.json").exists()
    True

    Both LoRA matrices are random (PEFT starts B at zero, which would make the adapter a no-op), so the adapter
    visibly changes the model's output. `rank` must not exceed vLLM's `--max-lora-rank`.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText

    out = Path(out_dir)
    model = AutoModelForImageTextToText.from_pretrained(base_dir, dtype=torch.float32)
    config = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules=LORA_TARGET_REGEX)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        peft_model = get_peft_model(model, config)
        with torch.no_grad():
            for name, param in peft_model.named_parameters():
                if re.search(r"lora_[AB]\.", name):
                    param.normal_(0.0, 0.3)
    peft_model.save_pretrained(out)
    return out

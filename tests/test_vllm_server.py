"""vLLM serving a tiny Qwen2.5-VL (+ a LoRA adapter) on CPU, compared with transformers' greedy output.

Run: `bash scripts/setup_vllm_cpu.sh` once (about 3-4 min, 2.5 GB), then
`python -m pytest tests/test_vllm_server.py -m vllm -s` (server start takes about a minute on an idle 2-core
machine, several minutes on a busy one; CREATIVE4U_VLLM_STARTUP_TIMEOUT raises the 900 s limit).
The launcher tests at the top need no vLLM and always run.
"""

from __future__ import annotations

import base64
import io
import os
import sys
import time
from pathlib import Path

import httpx
import pytest

from creative4u.vllm_launcher import (
    DEFAULT_VENV,
    VENV_ENV_VAR,
    VLLMError,
    VLLMNotInstalledError,
    VLLMServer,
    build_vllm_command,
    find_vllm_python,
    health_ok,
    lora_rank,
    parse_lora_specs,
)

BASE_NAME = "tiny"
LORA_NAME = "tiny-lora"
MAX_TOKENS = 8


def _vllm_python() -> Path | None:
    try:
        return find_vllm_python()
    except VLLMNotInstalledError:
        return None


VLLM_PYTHON = _vllm_python()
SKIP_REASON = (
    f"no vLLM virtualenv (${VENV_ENV_VAR} or {DEFAULT_VENV}): create it with `bash scripts/setup_vllm_cpu.sh`"
)
if VLLM_PYTHON is None:
    print(f"\n[tests/test_vllm_server.py] skipping the vLLM server tests: {SKIP_REASON}", file=sys.stderr)


# ---------------------------------------------------------------- launcher tests (no vLLM needed)


def test_cpu_command_uses_the_bootstrap_and_lora_flags(tmp_path: Path) -> None:
    adapter = tmp_path / "a"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"r": 12}')
    cmd = build_vllm_command("m", python="/v/bin/python", port=9, device="cpu", lora={"a": adapter}, dtype="float32")
    assert cmd[:2] == ["/v/bin/python", "-c"] and "+cpu" in cmd[2]
    assert cmd[cmd.index("--model") + 1] == "m"
    assert cmd[cmd.index("--max-lora-rank") + 1] == "16"  # rank 12 rounded up to a value vLLM accepts
    assert f"a={adapter}" in cmd and "--enforce-eager" in cmd and "--enable-lora" in cmd
    assert cmd[cmd.index("--limit-mm-per-prompt") + 1] == '{"image": 2, "video": 0}'


def test_gpu_command_is_vllm_serve() -> None:
    cmd = build_vllm_command("m", python="/v/bin/python", port=9, device="gpu", extra_args=["--x", "1"])
    assert cmd[:3] == ["/v/bin/vllm", "serve", "m"] and cmd[-2:] == ["--x", "1"]
    assert "--enforce-eager" not in cmd


def test_lora_specs_and_rank() -> None:
    assert parse_lora_specs(["a=/x", "b=/y=z"]) == {"a": "/x", "b": "/y=z"}
    with pytest.raises(ValueError, match="NAME=DIR"):
        parse_lora_specs(["nodir"])
    assert lora_rank({}) == 8


def test_missing_venv_names_the_setup_script(tmp_path: Path) -> None:
    with pytest.raises(VLLMNotInstalledError, match="setup_vllm_cpu.sh"):
        find_vllm_python(tmp_path / "none")


def test_server_that_dies_reports_its_log_fast(tmp_path: Path) -> None:
    # This test's python has no vLLM: the "server" dies at once, and the error must quote its log.
    server = VLLMServer("m", python=sys.executable, device="cpu", log_path=tmp_path / "log.txt")
    start = time.monotonic()
    with pytest.raises(VLLMError, match="exited with code 1") as err, server:
        pass
    assert "No module named 'vllm'" in str(err.value)
    assert time.monotonic() - start < 60


def test_closed_port_fails_fast() -> None:
    openai = pytest.importorskip("openai")
    from creative4u.vllm_launcher import free_port

    url = f"http://127.0.0.1:{free_port()}"
    start = time.monotonic()
    assert not health_ok(url, timeout=2)
    client = openai.OpenAI(base_url=url + "/v1", api_key="EMPTY", max_retries=0, timeout=5)
    with pytest.raises(openai.APIConnectionError):
        client.models.list()
    assert time.monotonic() - start < 5


# ---------------------------------------------------------------- against a real vLLM server


def _image(seed: int, size: tuple[int, int]) -> bytes:
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


# Sides that are multiples of 28 px within the pixel limits: neither processor resizes them, so transformers'
# PIL image processor and vLLM's torchvision one produce the same pixel values.
IMAGES = [_image(0, (112, 84)), _image(1, (84, 112))]
QUESTION = "Which creative is better? <think>"


def _messages(image_part) -> list[dict]:
    content: list[dict] = []
    for name, png in zip("AB", IMAGES, strict=True):
        content += [{"type": "text", "text": f"Image {name}:"}, image_part(png)]
    content.append({"type": "text", "text": QUESTION})
    return [{"role": "user", "content": content}]


def _data_url(png: bytes) -> dict:
    return {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()}}


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    pytest.importorskip("torch")
    pytest.importorskip("peft")
    from creative4u.testing.tiny_vlm import build_tiny_lora, build_tiny_vlm

    root = tmp_path_factory.mktemp("vllm-models")
    base = build_tiny_vlm(root / "base", arch="qwen2_5_vl", seed=0)
    return base, build_tiny_lora(base, root / "lora", seed=0)


@pytest.fixture(scope="session")
def server(models: tuple[Path, Path]):
    if VLLM_PYTHON is None:
        pytest.skip(SKIP_REASON)
    base, lora = models
    timeout = float(os.environ.get("CREATIVE4U_VLLM_STARTUP_TIMEOUT", "900"))
    # float32: vLLM's CPU backend supports it, so greedy outputs can be compared token for token.
    srv = VLLMServer(
        base, lora={LORA_NAME: lora}, served_model_name=BASE_NAME, dtype="float32", max_model_len=2048,
        python=VLLM_PYTHON, startup_timeout=timeout,
    )  # fmt: skip
    with srv:
        print(f"\n[vllm] ready after {srv.ready_after_s:.1f} s (log: {srv.log_path})", file=sys.stderr)
        yield srv


def _chat(server: VLLMServer, model: str, **extra) -> tuple[dict, float]:
    body = {"model": model, "messages": _messages(_data_url), "temperature": 0, "max_tokens": MAX_TOKENS, **extra}
    start = time.perf_counter()
    response = httpx.post(f"{server.base_url}/v1/chat/completions", json=body, timeout=120)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.text
    return response.json(), elapsed


@pytest.mark.vllm
@pytest.mark.skipif(VLLM_PYTHON is None, reason=SKIP_REASON)
def test_models_lists_base_and_lora(server: VLLMServer) -> None:
    ids = {m["id"] for m in httpx.get(f"{server.base_url}/v1/models", timeout=10).json()["data"]}
    assert {BASE_NAME, LORA_NAME} <= ids


@pytest.mark.vllm
@pytest.mark.skipif(VLLM_PYTHON is None, reason=SKIP_REASON)
@pytest.mark.parametrize("model", [BASE_NAME, LORA_NAME])
def test_chat_with_two_images(server: VLLMServer, model: str) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="EMPTY", max_retries=0, timeout=120)
    start = time.perf_counter()
    reply = client.chat.completions.create(
        model=model, messages=_messages(_data_url), temperature=0, max_tokens=MAX_TOKENS
    )
    elapsed = time.perf_counter() - start
    print(f"\n[vllm] 2-image request on {model}: {elapsed:.3f} s", file=sys.stderr)
    assert reply.choices[0].message.content is not None
    assert reply.usage.prompt_tokens > 2 * 12  # at least the image tokens (12 per 112x84 image)
    assert 1 <= reply.usage.completion_tokens <= MAX_TOKENS


@pytest.mark.vllm
@pytest.mark.skipif(VLLM_PYTHON is None, reason=SKIP_REASON)
def test_lora_changes_the_output(server: VLLMServer) -> None:
    base, _ = _chat(server, BASE_NAME, return_token_ids=True)
    tuned, _ = _chat(server, LORA_NAME, return_token_ids=True)
    assert base["prompt_token_ids"] == tuned["prompt_token_ids"]
    assert base["choices"][0]["token_ids"] != tuned["choices"][0]["token_ids"]


def _transformers_greedy(base: Path) -> tuple[list[int], list[int], list[float]]:
    """Prompt ids, greedy new ids, and each step's top-1 minus top-2 logit, from transformers."""
    import torch
    from PIL import Image

    from creative4u.models import load_vlm

    model, processor = load_vlm(base, dtype="float32")
    images = [Image.open(io.BytesIO(png)).convert("RGB") for png in IMAGES]
    text = processor.apply_chat_template(_messages(lambda _: {"type": "image"}), add_generation_prompt=True)
    inputs = processor(text=[text], images=images, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(
            **inputs, max_new_tokens=MAX_TOKENS, do_sample=False, output_scores=True, return_dict_in_generate=True
        )
    prompt = inputs["input_ids"][0].tolist()
    margins = [float(s[0].topk(2).values[0] - s[0].topk(2).values[1]) for s in out.scores]
    return prompt, out.sequences[0, len(prompt) :].tolist(), margins


@pytest.mark.vllm
@pytest.mark.skipif(VLLM_PYTHON is None, reason=SKIP_REASON)
def test_greedy_output_matches_transformers(server: VLLMServer, models: tuple[Path, Path]) -> None:
    reply, elapsed = _chat(server, BASE_NAME, return_token_ids=True)
    prompt, expected, margins = _transformers_greedy(models[0])
    assert reply["prompt_token_ids"] == prompt, "vLLM and transformers built different prompts"
    got = reply["choices"][0]["token_ids"]
    # Two float32 implementations agree to ~1e-5; compare up to the first step whose top-2 logits are closer
    # than that (a near tie may legitimately break either way).
    n = next((i for i, m in enumerate(margins) if m < 1e-3), len(margins))
    print(f"\n[vllm] greedy: vLLM {got} / transformers {expected} (compared {n}), {elapsed:.3f} s", file=sys.stderr)
    assert n >= 1, f"first-step logits are a near tie ({margins[0]:.2e}): nothing to compare"
    assert got[:n] == expected[:n]

"""The ``disgust_vlm`` check against real HTTP servers: a small OpenAI-compatible rater and, optionally, CPU vLLM."""

from __future__ import annotations

import base64
import io
import math
import socket
import threading
import time

import numpy as np
import pytest
from PIL import Image

from creative4u.checks import get_check
from creative4u.checks.vlm_zero_shot import DisgustVLM, answer_of, yes_probability
from creative4u.images import LoadedImage

pytest.importorskip("openai")
pytest.importorskip("uvicorn")
fastapi = pytest.importorskip("fastapi")
Request = fastapi.Request  # a module-level name: FastAPI resolves the string annotation below against it


def _rater_app(requests: list[dict]):
    """An OpenAI-compatible chat endpoint that rates what it sees: 'object' is 'yes' for a mostly green image.

    Model names pick a behaviour: ``rater`` (yes/no with log-probabilities), ``terse`` (no log-probabilities),
    ``rogue`` (ignores the yes/no constraint).
    """
    app = fastapi.FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> dict:
        body = await request.json()
        requests.append(body)
        parts = body["messages"][1]["content"]
        url = next(p["image_url"]["url"] for p in parts if p["type"] == "image_url")
        rgb = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"), float)
        question = next(p["text"] for p in parts if p["type"] == "text")
        green = rgb[..., 1].mean() > rgb[..., 0].mean() + 20 and "mould" in question
        answer, p_yes = ("yes", 0.9) if green else ("no", 0.15)
        if body["model"] == "rogue":
            answer = "Sure, here is my analysis"
        top = [{"token": "yes", "logprob": math.log(p_yes), "bytes": None},
               {"token": "no", "logprob": math.log(1 - p_yes), "bytes": None}]
        chosen = top[0] if answer == "yes" else top[1]
        logprobs = None if body["model"] == "terse" else {"content": [{**chosen, "top_logprobs": top}]}
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                             "finish_reason": "stop", "logprobs": logprobs}]}

    return app


@pytest.fixture(scope="module")
def rater():
    import uvicorn

    requests: list[dict] = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(_rater_app(requests), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1", requests
    server.should_exit = True
    thread.join(timeout=10)


def _image(colour) -> LoadedImage:
    return LoadedImage.from_pil(Image.new("RGB", (48, 32), colour))


def test_forced_yes_no_per_category_with_logprob_scores(rater):
    url, requests = rater
    requests.clear()
    check = get_check("disgust_vlm", base_url=url, model="rater")
    report = check.run(_image((60, 160, 60)))
    assert report.status == "flagged" and report.values["category"] == "object"
    assert report.score == pytest.approx(0.9) and report.values["probabilities"]["animal"] == pytest.approx(0.15)
    assert report.values["probabilities"]["none"] == pytest.approx(0.1)
    assert report.values["answers"]["object"] == {"answer": "yes", "p_yes": pytest.approx(0.9), "source": "logprobs"}
    assert len(requests) == 3  # one forced question per category
    body = requests[0]
    assert body["structured_outputs"] == {"choice": ["yes", "no"]} and body["logprobs"] is True
    assert body["temperature"] == 0 and "never an instruction" in body["messages"][0]["content"]
    clean = check.run(_image((200, 120, 90)))
    assert clean.status == "ok" and clean.score == pytest.approx(0.15)


def test_guided_choice_and_answer_only_servers(rater):
    url, requests = rater
    requests.clear()
    report = DisgustVLM(base_url=url, model="terse", forced_choice="guided_choice").run(_image((60, 160, 60)))
    assert requests[0]["guided_choice"] == ["yes", "no"] and "structured_outputs" not in requests[0]
    assert report.score == 1.0 and report.values["answers"]["object"]["source"] == "answer"


def test_a_server_ignoring_the_constraint_is_an_error_not_a_pass(rater):
    url, _ = rater
    report = DisgustVLM(base_url=url, model="rogue").run(_image((60, 160, 60)))
    assert report.status == "error" and "ignored the yes/no constraint" in report.summary and not report.flagged


def test_unconfigured_or_unreachable_is_never_safe():
    assert DisgustVLM().run(_image("red")).status == "unavailable"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    down = DisgustVLM(base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout=2, max_retries=0)
    report = down.run(_image("red"))
    assert report.status == "error" and f"127.0.0.1:{port}" in report.summary
    with pytest.raises(ValueError, match="forced_choice"):
        DisgustVLM(forced_choice="regex")


def test_answer_parsing_helpers():
    assert answer_of("Y") == "yes" and answer_of(" NO") == "no" and answer_of("yes!") is None
    p, source = yes_probability("no", [("No", math.log(0.5)), ("no", math.log(0.3)), ("Yes", math.log(0.2))])
    assert source == "logprobs" and p == pytest.approx(0.2)
    with pytest.raises(ValueError, match="ignored the yes/no constraint"):
        yes_probability("yes, because", [])


@pytest.mark.vllm
@pytest.mark.slow
def test_real_vllm_accepts_the_forced_yes_no_request(tmp_path, photo):
    """vLLM (CPU build) serving a tiny Qwen2.5-VL: the structured yes/no request works end to end."""
    from creative4u.testing.tiny_vlm import build_tiny_vlm
    from creative4u.vllm_launcher import VLLMNotInstalledError, find_vllm_python, launch_vllm

    try:
        find_vllm_python()
    except VLLMNotInstalledError as err:
        pytest.skip(str(err))
    model_dir = build_tiny_vlm(tmp_path / "tiny", arch="qwen2_5_vl", seed=0)
    with launch_vllm(model_dir, served_model_name="tiny", max_model_len=2048) as server:
        check = DisgustVLM(base_url=server.base_url + "/v1", model="tiny", max_pixels=128 * 128, timeout=120)
        report = check.run(LoadedImage.from_pil(photo))
    assert report.status in ("ok", "flagged"), report.summary
    assert all(a["answer"] in ("yes", "no") for a in report.values["answers"].values())
    assert all(a["source"] == "logprobs" for a in report.values["answers"].values())  # scores, not just answers
    assert all(0.0 <= p <= 1.0 for p in report.values["probabilities"].values())

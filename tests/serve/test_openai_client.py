"""The official ``openai`` client (sync, async, streaming) against the real gateway, and a small load test."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import numpy as np
import openai
import pytest

from creative4u.answer_format import parse_answer


def content(images: list[bytes], text: str = "title: Ceramic coffee cup\nqueries: latte, espresso") -> list[dict]:
    parts = [{"type": "text", "text": text}]
    for data in images:
        parts.append(
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + base64.b64encode(data).decode()}}
        )
    return parts


@pytest.fixture(scope="module")
def client(gateway):
    with openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=gateway.api_key, max_retries=0, timeout=120) as c:
        yield c


def test_models_list(client):
    ids = [m.id for m in client.models.list()]
    print("models:", ids)
    assert ids[0] == "creative4u" and "creative4u/feature" in ids


def test_plain_completion(client, creative_jpegs):
    resp = client.chat.completions.create(
        model="creative4u",
        messages=[{"role": "user", "content": content([creative_jpegs["coffee.jpg"], creative_jpegs["rocket.jpg"]])}],
    )
    text = resp.choices[0].message.content
    print("\nplain reply:", text, "\nusage:", resp.usage.model_dump(), "\nmodel:", resp.model)
    parsed = parse_answer(text)
    assert parsed.status == "ok" and parsed.answer in ("A", "B")
    assert resp.choices[0].finish_reason == "stop" and resp.usage.total_tokens > 0
    assert resp.model == "creative4u/feature" and resp.model_extra["creative4u"]["answer"] == parsed.answer


def test_json_mode_returns_the_structured_result(client, creative_jpegs):
    images = [creative_jpegs[n] for n in ("coffee.jpg", "astronaut.jpg", "rocket.jpg")]
    resp = client.chat.completions.create(
        model="creative4u/feature",
        response_format={"type": "json_object"},
        messages=[{"role": "user", "content": content(images, "Ceramic coffee cup for espresso lovers")}],
    )
    result = json.loads(resp.choices[0].message.content)
    print(
        "\njson reply: winner",
        result["winner"],
        "ranking",
        [r["name"] for r in result["ranking"]],
        "judge_calls",
        result["judge_calls"],
        "backend",
        result["backend"],
    )
    assert result["title"] == "Ceramic coffee cup for espresso lovers" and result["queries"] == []
    assert [img["name"] for img in result["images"]] == ["Image 1", "Image 2", "Image 3"]
    assert len(result["ranking"]) == 3 and result["gateway"]["backend"] == "feature"
    assert resp.model_extra["creative4u"]["answer"] == str(result["winner_index"] + 1)  # N > 2: 1-based index


def test_streaming_sync_matches_plain(client, creative_jpegs):
    messages = [{"role": "user", "content": content([creative_jpegs["astronaut.jpg"], creative_jpegs["coffee.jpg"]])}]
    plain = client.chat.completions.create(model="creative4u", messages=messages).choices[0].message.content
    pieces, usage, finish = [], None, None
    for chunk in client.chat.completions.create(
        model="creative4u", messages=messages, stream=True, stream_options={"include_usage": True}
    ):
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    print(f"\nstreamed {len(pieces)} chunks:", "".join(pieces)[:160], "...", "\nusage:", usage)
    assert "".join(pieces) == plain and finish == "stop" and usage.total_tokens > 0


def test_async_client_and_async_stream(gateway, creative_jpegs):
    names = ["coffee.jpg", "chelsea.jpg", "astronaut.jpg", "rocket.jpg"]

    async def run() -> tuple[list[str], str]:
        async with openai.AsyncOpenAI(base_url=f"{gateway.base_url}/v1", api_key=gateway.api_key, max_retries=0) as c:
            pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
            replies = await asyncio.gather(
                *(
                    c.chat.completions.create(
                        model="creative4u",
                        messages=[{"role": "user", "content": content([creative_jpegs[a], creative_jpegs[b]])}],
                    )
                    for a, b in pairs
                )
            )
            stream = await c.chat.completions.create(
                model="creative4u",
                stream=True,
                messages=[
                    {"role": "user", "content": content([creative_jpegs["rocket.jpg"], creative_jpegs["chelsea.jpg"]])}
                ],
            )
            text = "".join([ch.choices[0].delta.content or "" async for ch in stream if ch.choices])
            return [r.choices[0].message.content for r in replies], text

    replies, streamed = asyncio.run(run())
    print("\nasync answers:", [parse_answer(r).answer for r in replies], "| async stream:", streamed[-40:])
    assert len(replies) == 6 and all(parse_answer(r).status == "ok" for r in replies)
    assert parse_answer(streamed).status == "ok"


def test_errors_become_openai_exceptions(gateway, client, creative_jpegs):
    one = [{"role": "user", "content": content([creative_jpegs["coffee.jpg"]])}]
    two = [{"role": "user", "content": content([creative_jpegs["coffee.jpg"], creative_jpegs["rocket.jpg"]])}]
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="creative4u", messages=one)
    assert bad.value.code == "too_few_images" and "at least 2 images" in bad.value.message
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-4o", messages=two)
    assert "creative4u/feature" in missing.value.message  # the message lists the valid models
    wrong = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="c4u-not-a-real-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model="creative4u", messages=two)
    with pytest.raises(openai.InternalServerError) as down:  # 503: the backend is down and has no fallback
        client.chat.completions.create(model="creative4u/dead", messages=two)
    assert down.value.status_code == 503


def test_small_load_has_no_errors(gateway, creative_jpegs):
    """40 requests at concurrency 8 (the per-key limit): every one answered. Timings are printed, not asserted."""
    names = list(creative_jpegs)
    rng = np.random.default_rng(0)
    jobs = [tuple(rng.choice(names, 2, replace=False)) for _ in range(40)]

    async def run() -> list[tuple[float, str | None]]:
        gate = asyncio.Semaphore(8)
        async with openai.AsyncOpenAI(
            base_url=f"{gateway.base_url}/v1", api_key=gateway.keys["load"], max_retries=0, timeout=120
        ) as c:

            async def one(a: str, b: str) -> tuple[float, str | None]:
                async with gate:
                    start = time.perf_counter()
                    try:
                        r = await c.chat.completions.create(
                            model="creative4u",
                            messages=[{"role": "user", "content": content([creative_jpegs[a], creative_jpegs[b]])}],
                        )
                        err = None if parse_answer(r.choices[0].message.content).status == "ok" else "bad answer"
                    except openai.OpenAIError as e:
                        err = f"{type(e).__name__}: {e}"
                    return time.perf_counter() - start, err

            return await asyncio.gather(*(one(a, b) for a, b in jobs))

    results = asyncio.run(run())
    lat = np.array([t for t, _ in results]) * 1000
    errors = [e for _, e in results if e]
    print(
        f"\nload: {len(results)} requests, {len(errors)} errors, p50 {np.percentile(lat, 50):.0f} ms, "
        f"p95 {np.percentile(lat, 95):.0f} ms, max {lat.max():.0f} ms"
    )
    assert errors == []

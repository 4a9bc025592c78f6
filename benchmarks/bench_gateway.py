"""Load test of the creative4u gateway with the official ``openai`` client: errors, latency, gateway overhead.

    python benchmarks/bench_gateway.py                       # 200 requests at concurrency 20, feature judge
    python benchmarks/bench_gateway.py -n 500 -c 40 --unique # every request with never-seen images (cold checks)
    python benchmarks/bench_gateway.py --client httpx        # pre-encoded bodies: the gateway without client CPU
    python benchmarks/bench_gateway.py --url http://gw:8000 --api-key $KEY   # an already running gateway

It starts ``creative4u serve`` (a real uvicorn process on 127.0.0.1) unless ``--url`` is given, then runs two
phases with the async ``openai`` client:

1. *overhead*: requests one at a time. The gateway reports its pipeline time (load, checks, judge, selection) and
   the wait for a worker thread in the ``Server-Timing`` header; the client's latency minus both is the gateway's
   own overhead per request (HTTP, JSON, base64, routing, auth, the openai client's own work).
2. *load*: ``-n`` requests at concurrency ``-c``: errors by kind, throughput and latency percentiles.

Figures are printed as a table; ``--out FILE`` also writes them as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def load_creatives(folder: Path) -> list[tuple[str, bytes]]:
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    if len(files) < 2:
        raise SystemExit(f"need at least 2 images in {folder}")
    return [(p.name, p.read_bytes()) for p in files]


def jittered(data: bytes, rng: np.random.Generator) -> bytes:
    """A slightly cropped, re-encoded copy: new bytes, so the gateway's check cache cannot answer it."""
    from PIL import Image

    img = Image.open(io.BytesIO(data)).convert("RGB")
    dx, dy = (int(v) for v in rng.integers(1, 12, size=2))
    img = img.crop((dx, dy, img.width - int(rng.integers(1, 12)), img.height - int(rng.integers(1, 12))))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(85, 95)))
    return buf.getvalue()


def message(images: list[bytes], title: str = "Ceramic coffee cup, 350 ml", queries: str = "latte, espresso") -> list:
    parts = [{"type": "text", "text": f"title: {title}\nqueries: {queries}"}]
    for data in images:
        parts.append(
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + base64.b64encode(data).decode()}}
        )
    return [{"role": "user", "content": parts}]


def server_ms(header: str) -> dict[str, float]:
    """``Server-Timing: queue;dur=1.2, pipeline;dur=30.5`` -> {"queue": 1.2, "pipeline": 30.5}."""
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"(\w+);dur=([\d.]+)", header or "")}


async def one_request(client, images: list[bytes]) -> dict:
    import openai

    start = time.perf_counter()
    try:
        raw = await client.chat.completions.with_raw_response.create(model="creative4u", messages=message(images))
        reply = raw.parse()
        latency = (time.perf_counter() - start) * 1000
        ok = reply.choices[0].message.content.rstrip().endswith("</answer>")
        return {
            "latency": latency,
            "error": None if ok else "bad_reply",
            **server_ms(raw.headers.get("server-timing")),
        }
    except openai.APIStatusError as err:
        return {"latency": (time.perf_counter() - start) * 1000, "error": f"HTTP {err.status_code} {err.code}"}
    except openai.OpenAIError as err:
        return {"latency": (time.perf_counter() - start) * 1000, "error": type(err).__name__}


def make_jobs(creatives: list[tuple[str, bytes]], n: int, images: int, unique: bool, seed: int) -> list[list[bytes]]:
    rng = np.random.default_rng(seed)
    jobs = []
    for _ in range(n):
        pick = rng.choice(len(creatives), size=images, replace=False)
        jobs.append([jittered(creatives[i][1], rng) if unique else creatives[i][1] for i in pick])
    return jobs


async def raw_request(http, body: bytes) -> dict:
    """The same request through bare httpx with a pre-encoded body: the client's own work is nearly nothing."""
    start = time.perf_counter()
    r = await http.post("/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
    latency = (time.perf_counter() - start) * 1000
    if r.status_code != 200:
        return {"latency": latency, "error": f"HTTP {r.status_code} {r.json()['error']['code']}"}
    ok = r.json()["choices"][0]["message"]["content"].rstrip().endswith("</answer>")
    return {"latency": latency, "error": None if ok else "bad_reply", **server_ms(r.headers.get("server-timing"))}


async def run_phase(
    url: str, key: str, jobs: list[list[bytes]], concurrency: int, label: str, client_kind: str = "openai"
) -> tuple[list, float]:
    import httpx
    import openai
    from tqdm import tqdm

    gate = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(jobs), desc=label, unit="req", file=sys.stderr)
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    http = httpx.AsyncClient(limits=limits, timeout=300, base_url=url, headers={"Authorization": f"Bearer {key}"})
    bodies = [json.dumps({"model": "creative4u", "messages": message(j)}).encode() for j in jobs]
    async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, http_client=http) as client:

        async def guarded(i: int) -> dict:
            async with gate:
                if client_kind == "openai":
                    result = await one_request(client, jobs[i])
                else:
                    result = await raw_request(http, bodies[i])
                bar.update()
                return result

        start = time.perf_counter()
        results = await asyncio.gather(*(guarded(i) for i in range(len(jobs))))
        wall = time.perf_counter() - start
    bar.close()
    return results, wall


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summarise(results: list[dict], wall: float) -> dict:
    ok = [r for r in results if r["error"] is None]
    errors: dict[str, int] = {}
    for r in results:
        if r["error"]:
            errors[r["error"]] = errors.get(r["error"], 0) + 1
    lat = [r["latency"] for r in ok]
    pipe = [r.get("pipeline", 0.0) for r in ok]
    queue = [r.get("queue", 0.0) for r in ok]
    overhead = [r["latency"] - r.get("pipeline", 0.0) - r.get("queue", 0.0) for r in ok]
    inside = [r.get("app", 0.0) - r.get("pipeline", 0.0) - r.get("queue", 0.0) for r in ok]
    outside = [r["latency"] - r.get("app", 0.0) for r in ok]
    out = {
        "requests": len(results),
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(results) / wall, 2),
    }
    named = (("latency", lat), ("pipeline", pipe), ("queue", queue), ("overhead", overhead), ("inside", inside),
             ("outside", outside))  # fmt: skip
    for name, vals in named:
        for q in (50, 95, 99):
            out[f"{name}_p{q}_ms"] = round(pct(vals, q), 1)
    return out


def print_table(title: str, s: dict) -> None:
    print(f"\n## {title}")
    print(
        f"requests {s['requests']}, errors {s['errors']} {s['errors_by_kind'] or ''}, "
        f"wall {s['wall_s']} s, throughput {s['throughput_rps']} req/s"
    )
    print(f"{'ms':<26}{'p50':>9}{'p95':>9}{'p99':>9}")
    rows = (("latency", "client latency"), ("pipeline", "server pipeline work"), ("queue", "wait for a worker"),
            ("overhead", "gateway overhead"), ("inside", "  of which in the server"),
            ("outside", "  of which outside it"))  # fmt: skip
    for name, label in rows:
        print(f"{label:<26}" + "".join(f"{s[f'{name}_p{q}_ms']:>9.1f}" for q in (50, 95, 99)))


def start_gateway(args: argparse.Namespace) -> tuple[object, str, str]:
    from creative4u.serve.api_server import GatewayProcess

    key = "c4u-bench-" + secrets.token_urlsafe(12)
    overrides = [
        f"max_concurrency_per_key={max(args.concurrency, 8)}",
        f"workers={args.workers}",
        "log_level=warning",
        f"max_images={max(16, args.images)}",
        *args.overrides,
    ]
    log = tempfile.mkstemp(prefix="c4u-bench-gateway-", suffix=".log")[1]
    gw = GatewayProcess(args.config, env={"CREATIVE4U_API_KEYS": key}, overrides=overrides, log_path=log).start()
    return gw, gw.base_url, key


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", "--requests", type=int, default=200, help="requests in the load phase (default 200)")
    p.add_argument("-c", "--concurrency", type=int, default=20, help="requests in flight (default 20)")
    p.add_argument("--overhead-requests", type=int, default=50, help="sequential requests for the overhead phase")
    p.add_argument("--images", type=int, default=2, help="images per request (default 2)")
    p.add_argument("--unique", action="store_true", help="fresh image bytes per request (no check-cache hits)")
    p.add_argument("--creatives", type=Path, default=REPO / "data" / "samples", help="folder of images to send")
    p.add_argument("--config", default=str(REPO / "serve" / "gateway.yaml"), help="gateway config to start")
    p.add_argument("--workers", type=int, default=4, help="gateway pipeline threads (default 4)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="gateway config override for the started gateway (repeat)",
    )
    p.add_argument("--url", help="bench this running gateway instead of starting one")
    p.add_argument("--api-key", default=os.environ.get("CREATIVE4U_API_KEY"), help="key for --url")
    p.add_argument("--client", choices=["openai", "httpx"], default="openai",
                   help="openai: the official async client (default); httpx: pre-encoded bodies, to separate the "
                        "client's own CPU work from the gateway's")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = p.parse_args(argv)

    creatives = load_creatives(args.creatives)
    gw = None
    if args.url:
        url, key = args.url.rstrip("/"), args.api_key or ""
    else:
        gw, url, key = start_gateway(args)
    try:
        warm = make_jobs(creatives, 4, args.images, False, args.seed + 1)
        asyncio.run(run_phase(url, key, warm, 1, "warm-up"))
        seq = make_jobs(creatives, args.overhead_requests, args.images, args.unique, args.seed + 2)
        overhead = summarise(*asyncio.run(run_phase(url, key, seq, 1, "overhead (sequential)", args.client)))
        jobs = make_jobs(creatives, args.requests, args.images, args.unique, args.seed)
        label = f"load (c={args.concurrency})"
        load = summarise(*asyncio.run(run_phase(url, key, jobs, args.concurrency, label, args.client)))
    finally:
        if gw is not None:
            gw.stop()
    mode = "unique images (cold checks)" if args.unique else f"{len(creatives)} creatives re-sent (check cache warm)"
    load_avg = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\ncreative4u gateway benchmark: {url}, {args.images} images/request, {mode}, {args.client} client, "
          f"{os.cpu_count()} CPUs, load average {load_avg}")  # fmt: skip
    print_table(f"overhead phase: {args.overhead_requests} sequential requests", overhead)
    print_table(f"load phase: {args.requests} requests at concurrency {args.concurrency}", load)
    if args.out:
        args.out.write_text(
            json.dumps(
                {"overhead": overhead, "load": load, "args": {k: str(v) for k, v in vars(args).items()}}, indent=2
            )
        )
    return 1 if load["errors"] or overhead["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

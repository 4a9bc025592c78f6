"""``pool judge`` on a real Ray cluster: every pair's row is what ``creative4u select --json`` says for its two
images; the ``openai`` backend keeps its requests bounded against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pool_compare import assert_same, comparable  # tests/pool is on sys.path (pytest's prepend import mode)

from creative4u.cli import main as cli_main
from creative4u.data.pairs import read_pairs, write_pairs
from creative4u.pool.judge import JudgeJob, judge_pool, read_judged


def select_json(pair: Any, *extra: str) -> dict[str, Any]:
    """What ``creative4u select --json A B --title T -q Q...`` prints, through the real CLI entry point."""
    argv = ["select", "--json", pair.image_a, pair.image_b, "--title", pair.title, *extra]
    for q in pair.queries:
        argv += ["-q", q]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert cli_main(argv) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def judged(ray_cluster, pair_set: Path, tmp_path_factory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("judged") / "out"
    return judge_pool(JudgeJob(pairs=str(pair_set), out=str(out), batch_size=4)), out


@pytest.mark.slow
def test_pool_judge_equals_select_on_every_pair(judged, pair_set: Path) -> None:
    summary, out = judged
    pairs = {p.id: p for p in read_pairs(pair_set)}
    rows = read_judged(out)
    assert summary["written"] == len(rows) == len(pairs) == 26 and summary["errors"] == 0
    for row in rows:
        pair = pairs[row["id"]]
        ref = select_json(pair)
        assert_same(comparable(ref), comparable(json.loads(row["result"])), row["id"])
        assert row["winner_name"] == ref["winner"] and row["winner"] == "AB"[ref["winner_index"]]
        assert row["vetoed"] == [v["name"] for v in ref["vetoed"]]
        comp = ref["comparisons"][0] if ref["comparisons"] else {}
        assert (row["verdict"], row["flipped"]) == (comp.get("verdict"), comp.get("flipped"))
        assert row["correct"] == (row["winner"] == pair.label)
    # clean vs degraded: the feature judge (and the vetoes) get nearly all of them right
    assert sum(r["correct"] for r in rows) >= 22


def test_pool_judge_rerun_skips_every_pair(judged, pair_set: Path) -> None:
    _, out = judged
    again = judge_pool(JudgeJob(pairs=str(pair_set), out=str(out), batch_size=4))
    assert again["written"] == 0 and again["skipped"] == 26 and len(read_judged(out)) == 26


class ChatServer:
    """A real OpenAI-compatible chat endpoint on 127.0.0.1 that always prefers A, slowly, counting requests."""

    def __init__(self, delay: float = 0.3) -> None:
        self.delay, self.in_flight, self.max_in_flight, self.requests = delay, 0, 0, 0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests += 1
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                time.sleep(server.delay)
                with server.lock:
                    server.in_flight -= 1
                text = "<think>A is sharper.</think><answer>A</answer>"
                data = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                                   "choices": [{"index": 0, "finish_reason": "stop",
                                                "message": {"role": "assistant", "content": text}}],
                                   "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_pool_judge_openai_bounded_concurrency_equals_select(ray_cluster, pair_set: Path, tmp_path: Path) -> None:
    """2 actors x --concurrency 2: at most 4 requests in flight; each row still equals `select --backend openai`."""
    # Only a cheap check that never vetoes: every pair reaches the judge, in both orders.
    profile = tmp_path / "profile.yaml"
    profile.write_text("name: pool-openai\nchecks:\n  sharpness: {veto: false}\n")
    pairs = tmp_path / "pairs.jsonl"
    write_pairs(pairs, read_pairs(pair_set)[:8], relative=False)
    server = ChatServer()
    try:
        opts = {"base_url": server.url, "model": "tiny", "concurrency": 2, "cache": False}
        summary = judge_pool(JudgeJob(pairs=str(pairs), out=str(tmp_path / "out"), backend="openai",
                                      backend_options=opts, profile=str(profile), batch_size=4, concurrency=2))
        assert summary["written"] == 8 and summary["errors"] == 0
        assert server.requests == 16 and 2 <= server.max_in_flight <= 4  # both orders; bounded, yet concurrent
        row = read_judged(tmp_path / "out")[0]
        pair = {p.id: p for p in read_pairs(pairs)}[row["id"]]
        ref = select_json(pair, "--backend", "openai", "--base-url", server.url, "--model", "tiny",
                          "--no-cache", "--profile", str(profile))
    finally:
        server.close()
    assert_same(comparable(ref), comparable(json.loads(row["result"])), row["id"])
    assert row["verdict"] == "tie" and row["flipped"]  # "always A" flips with the order: select counts a tie


VLLM_PY = Path(__file__).resolve().parents[2] / ".venv-vllm" / "bin" / "python"


@pytest.mark.vllm
@pytest.mark.slow
def test_pool_judge_through_the_cpu_vllm_server(ray_cluster, judge_tiny_vlm: Path, pair_set: Path,
                                                tmp_path: Path) -> None:
    """The HTTP path for real: `pool judge --backend openai` against the CPU vLLM serving the tiny Qwen2.5-VL gives
    what `select --backend openai` gives against the same server (greedy decoding, float32)."""
    if not VLLM_PY.exists():
        pytest.skip("no .venv-vllm (bash scripts/setup_vllm_cpu.sh creates it)")
    from creative4u.vllm_launcher import launch_vllm

    profile = tmp_path / "profile.yaml"
    profile.write_text("name: pool-vllm\nchecks:\n  sharpness: {veto: false}\n")
    pairs = tmp_path / "pairs.jsonl"
    write_pairs(pairs, read_pairs(pair_set)[:3], relative=False)
    flags = ["--max-new-tokens", "24", "--max-pixels", "65536", "--no-cache"]
    with launch_vllm(str(judge_tiny_vlm), served_model_name="tiny", dtype="float32",
                     log_path=str(tmp_path / "vllm.log")) as server:
        url = server.base_url + "/v1"
        opts = {"base_url": url, "model": "tiny", "max_new_tokens": 24, "max_pixels": 65536, "cache": False,
                "concurrency": 2}
        summary = judge_pool(JudgeJob(pairs=str(pairs), out=str(tmp_path / "out"), backend="openai",
                                      backend_options=opts, profile=str(profile), batch_size=3, concurrency=1))
        rows = read_judged(tmp_path / "out")
        by_id = {p.id: p for p in read_pairs(pairs)}
        refs = [select_json(by_id[r["id"]], "--backend", "openai", "--base-url", url, "--model", "tiny",
                            "--profile", str(profile), *flags) for r in rows]
    assert summary["written"] == 3 and summary["errors"] == 0
    for row, ref in zip(rows, refs, strict=True):
        mine = json.loads(row["result"])
        assert mine["model"] == ref["model"] == "tiny" and mine["judge_calls"] == ref["judge_calls"] == 2
        assert (mine["winner"], mine["ties"], mine["flips"]) == (ref["winner"], ref["ties"], ref["flips"])
        for order in ("ab", "ba"):  # batched differently on the server: the same letters, p within float noise
            a, b = ref["comparisons"][0]["orders"][order], mine["comparisons"][0]["orders"][order]
            assert a["winner"] == b["winner"] and a["parse_status"] == b["parse_status"]
            assert b["p_a"] == pytest.approx(a["p_a"], abs=2e-3)


def test_a_judge_server_that_is_down_fails_the_job_with_its_reason(ray_cluster, pair_set: Path,
                                                                   tmp_path: Path) -> None:
    import socket

    from creative4u.pool.cluster import PoolJobError

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    pairs = tmp_path / "pairs.jsonl"
    write_pairs(pairs, read_pairs(pair_set)[:2], relative=False)
    profile = tmp_path / "profile.yaml"
    profile.write_text("name: pool-down\nchecks:\n  sharpness: {veto: false}\n")
    job = JudgeJob(pairs=str(pairs), out=str(tmp_path / "out"), backend="openai", profile=str(profile),
                   backend_options={"base_url": url, "model": "tiny", "max_retries": 0, "cache": False})
    with pytest.raises(PoolJobError, match=r"JudgeUnavailableError: .*cannot connect.*rerun the same command"):
        judge_pool(job)
    assert read_judged(tmp_path / "out") == []  # no verdict invented for an outage

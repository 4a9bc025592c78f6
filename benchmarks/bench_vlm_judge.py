"""Benchmark the VLM judge: tournament vs round-robin, backend agreement, and throughput of both VLM backends.

    python benchmarks/bench_vlm_judge.py                       # every section, tiny models built here
    python benchmarks/bench_vlm_judge.py --sections tournament --runs 500
    python benchmarks/bench_vlm_judge.py --sections openai --base-url http://127.0.0.1:8000/v1 --model tiny

Sections:
  tournament    N=8 creatives drawn from real photos (skimage) and degraded copies, screened by the check suite and
                judged by the feature judge (plus a noisy, position-biased synthetic judge): judge calls of the
                knockout vs the round-robin, and the share of runs where both pick the same winner.
  transformers  pairs/s of the ``transformers`` judge on a tiny Qwen2.5-VL, batched vs one pair at a time.
  openai        pairs/s of the ``openai`` judge against the CPU vLLM serving the same tiny model, at concurrency 1
                and 8 (started here from .venv-vllm unless --base-url is given).
  agreement     the same pairs through transformers and vLLM (greedy): identical verdicts and texts?

Writes ``results.json``, ``report.md`` and ``throughput.png`` under ``--out`` (default runs/bench_vlm_judge).
Numbers from a shared or busy machine are not comparable with an idle one: the report records the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from creative4u.images import LoadedImage  # noqa: E402
from creative4u.judge.base import Judge, PairInput, Verdict  # noqa: E402
from creative4u.selection import rank, round_robin  # noqa: E402
from creative4u.tournament import tournament  # noqa: E402

SECTIONS = ("tournament", "transformers", "openai", "agreement")


# --- tournament vs round-robin --------------------------------------------------------------------------------------
class MemoJudge(Judge):
    """Wraps a judge and remembers each ordered pair's verdict, so repeated runs cost nothing."""

    def __init__(self, inner: Judge) -> None:
        self.inner, self.name, self.memo = inner, inner.name, {}

    def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
        todo = [p for p in pairs if (p.image_a.sha256, p.image_b.sha256) not in self.memo]
        for p, v in zip(todo, self.inner.judge_pairs(todo) if todo else [], strict=True):
            self.memo[(p.image_a.sha256, p.image_b.sha256)] = v
        return [self.memo[(p.image_a.sha256, p.image_b.sha256)] for p in pairs]


class NoisyJudge(Judge):
    """A synthetic judge: hidden strengths, logistic noise and a position bias towards A (flips happen)."""

    name = "noisy_synthetic"

    def __init__(self, strength: dict[str, float], noise: float = 1.0, bias: float = 0.4, seed: int = 0) -> None:
        self.strength, self.noise, self.bias, self.seed = strength, noise, bias, seed

    def judge_pairs(self, pairs: Sequence[PairInput]) -> list[Verdict]:
        out = []
        for p in pairs:
            rng = random.Random(f"{self.seed}:{p.image_a.sha256}:{p.image_b.sha256}")
            z = self.strength[p.image_a.sha256] - self.strength[p.image_b.sha256] + self.bias
            p_a = 1 / (1 + np.exp(-z / self.noise))
            a_wins = rng.random() < p_a
            out.append(Verdict("A" if a_wins else "B", float(max(p_a, 1 - p_a)), float(p_a), "", self.name, "bt"))
        return out


def creative_pool(size: int, seed: int) -> list[LoadedImage]:
    """Real photos and degraded copies (blur, exposure, noise, text, ...) as candidate creatives."""
    from creative4u.data.degrade import DEGRADATIONS, make_creative
    from creative4u.data.degrade import degrade as apply
    from creative4u.data.photos import list_photos

    photos = list_photos(sources=("skimage",))
    rng = np.random.default_rng(seed)
    names = sorted(DEGRADATIONS)
    pool = []
    for k in range(size):
        photo = photos[k % len(photos)]
        base, _ = make_creative(photo, size=(384, 384), rng=rng)
        img, name = base, f"{photo.id}-clean-{k}"
        if k >= len(photos):
            kind = names[int(rng.integers(len(names)))]
            img, _ = apply(base, kind, rng, severity=float(rng.uniform(0.2, 0.9)))
            name = f"{photo.id}-{kind}-{k}"
        pool.append(LoadedImage.from_pil(img.convert("RGB"), name=name))
    return pool


def bench_tournament(runs: int, n: int, pool_size: int, seed: int) -> dict[str, Any]:
    from tqdm import tqdm

    from creative4u.checks.suite import CheckSuite
    from creative4u.judge import get_judge

    pool = creative_pool(pool_size, seed)
    suite = CheckSuite("default")
    screens = {img.sha256: suite.screen(img) for img in tqdm(pool, desc="screening the pool")}
    rng = random.Random(seed)
    strengths = {img.sha256: rng.gauss(0, 1.5) for img in pool}
    judges = {"noisy_synthetic": MemoJudge(NoisyJudge(strengths, seed=seed))}
    try:
        judges["feature"] = MemoJudge(get_judge("feature"))
    except (ImportError, KeyError, RuntimeError, OSError) as err:  # the feature judge lands in its own issue
        print(f"feature judge unavailable: {err}", file=sys.stderr)
    out: dict[str, Any] = {"n": n, "runs": runs, "pool": pool_size}
    for name, judge in judges.items():
        out[name] = _tournament_runs(judge, pool, screens, runs, n, rng, name)
    return out


def _tournament_runs(
    judge: Judge, pool: list, screens: dict, runs: int, n: int, rng: random.Random, name: str
) -> dict:
    from tqdm import tqdm

    same, ko_calls, rr_calls, ko_ties, ko_flips, rr_ties = 0, [], [], 0, 0, 0
    for _ in tqdm(range(runs), desc=f"tournament vs round-robin ({name})"):
        imgs = rng.sample(pool, n)
        scr = [screens[i.sha256] for i in imgs]
        # All N compete (no veto), so every run judges N creatives; the seeding is random so the bracket gets no
        # help from a lucky order.
        competing = list(range(n))
        rng.shuffle(competing)

        def make(i: int, j: int, imgs: list = imgs, scr: list = scr) -> PairInput:
            return PairInput(imgs[i], imgs[j], scr[i], scr[j], "Product", ["product"])

        ko, kc = tournament(n, competing, judge, make)
        rr, rc = round_robin(n, competing, judge, make)
        same += rank(n, competing, ko, []).ranking[0] == rank(n, competing, rr, []).ranking[0]
        ko_calls.append(kc)
        rr_calls.append(rc)
        ko_ties += sum(c.verdict == "tie" for c in ko)
        ko_flips += sum(c.flipped for c in ko)
        rr_ties += sum(c.verdict == "tie" for c in rr)
    return {
        "same_winner_share": same / runs,
        "knockout_calls_max": max(ko_calls),
        "knockout_calls_mean": float(np.mean(ko_calls)),
        "round_robin_calls_mean": float(np.mean(rr_calls)),
        "knockout_ties_per_run": ko_ties / runs,
        "knockout_flips_per_run": ko_flips / runs,
        "round_robin_ties_per_run": rr_ties / runs,
    }


# --- VLM backends ---------------------------------------------------------------------------------------------------
def vlm_pairs(count: int) -> list[PairInput]:
    from creative4u.data.photos import list_photos

    photos = [LoadedImage.from_pil(p.load(max_side=384).convert("RGB"), name=p.id) for p in list_photos(("skimage",))]
    pairs = []
    for k in range(count):
        a, b = photos[k % len(photos)], photos[(k * 3 + 1) % len(photos)]
        pairs.append(PairInput(a, b, title=f"Product {k}", queries=["gift", "sale"]))
    return pairs


def _throughput(judge: Any, pairs: list[PairInput], warmup: int = 1) -> dict[str, Any]:
    judge.judge_pairs(pairs[:warmup])  # model load / connection set-up are not throughput
    start = time.perf_counter()
    verdicts = judge.judge_pairs(pairs)
    elapsed = time.perf_counter() - start
    statuses = {s: sum(v.parse_status == s for v in verdicts) for s in ("ok", "forced", "failed")}
    return {
        "pairs": len(pairs),
        "seconds": round(elapsed, 3),
        "pairs_per_s": round(len(pairs) / elapsed, 3),
        **statuses,
    }


def bench_transformers(model: str, pairs: list[PairInput], max_new_tokens: int) -> dict[str, Any]:
    from creative4u.judge.transformers_backend import TransformersJudge

    out = {}
    for label, batch in (("one_at_a_time", 1), ("batched_8", 8)):
        judge = TransformersJudge(model=model, batch_size=batch, max_new_tokens=max_new_tokens, cache=False)
        out[label] = _throughput(judge, pairs)
        print(f"transformers {label}: {out[label]}", file=sys.stderr)
    return out


def bench_openai(url: str, model: str, pairs: list[PairInput], max_new_tokens: int) -> dict[str, Any]:
    from creative4u.judge.openai_backend import OpenAIJudge

    out = {}
    for conc in (1, 8):
        judge = OpenAIJudge(base_url=url, model=model, concurrency=conc, max_new_tokens=max_new_tokens, cache=False)
        out[f"concurrency_{conc}"] = _throughput(judge, pairs)
        print(f"openai concurrency {conc}: {out[f'concurrency_{conc}']}", file=sys.stderr)
    return out


def bench_agreement(model: str, url: str, served: str, pairs: list[PairInput], max_new_tokens: int) -> dict[str, Any]:
    from creative4u.judge.openai_backend import OpenAIJudge
    from creative4u.judge.transformers_backend import TransformersJudge

    local = TransformersJudge(model=model, max_new_tokens=max_new_tokens, cache=False).judge_pairs(pairs)
    remote = OpenAIJudge(base_url=url, model=served, max_new_tokens=max_new_tokens, cache=False).judge_pairs(pairs)
    rows = []
    for t, r in zip(local, remote, strict=True):
        prefix = 0
        while prefix < min(len(t.raw), len(r.raw)) and t.raw[prefix] == r.raw[prefix]:
            prefix += 1
        rows.append(
            {
                "winner_t": t.winner,
                "winner_v": r.winner,
                "status_t": t.parse_status,
                "status_v": r.parse_status,
                "same_text": t.raw == r.raw,
                "common_prefix": prefix,
                "p_a_t": t.p_a,
                "p_a_v": r.p_a,
            }
        )
    same = sum(x["winner_t"] == x["winner_v"] and x["status_t"] == x["status_v"] for x in rows)
    return {"pairs": len(rows), "same_verdict": same, "same_text": sum(x["same_text"] for x in rows), "rows": rows}


def start_vllm(model: Path, log_dir: Path) -> Any:
    from creative4u.vllm_launcher import launch_vllm

    return launch_vllm(str(model), served_model_name="tiny", dtype="float32", log_path=str(log_dir / "vllm.log"))


# --- report ---------------------------------------------------------------------------------------------------------
def write_report(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    lines = ["# VLM judge benchmark", "", f"Machine: {results['machine']}", ""]
    if "tournament" in results:
        t = results["tournament"]
        lines += [
            f"## Tournament vs round-robin (N = {t['n']}, {t['runs']} runs, pool of {t['pool']})",
            "",
            "| judge | knockout calls (max) | round-robin calls | same winner | ties/run (KO) | flips/run (KO) |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, r in t.items():
            if isinstance(r, dict):
                lines.append(
                    f"| {name} | {r['knockout_calls_max']} | {r['round_robin_calls_mean']:.0f} | "
                    f"{r['same_winner_share']:.1%} | {r['knockout_ties_per_run']:.2f} | "
                    f"{r['knockout_flips_per_run']:.2f} |"
                )
        lines.append("")
    rows = [(f"{sec} {k}", v) for sec in ("transformers", "openai") for k, v in results.get(sec, {}).items()]
    if rows:
        lines += [
            "## Throughput (tiny Qwen2.5-VL, CPU)",
            "",
            "| backend | pairs | s | pairs/s | ok/forced/failed |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {k} | {v['pairs']} | {v['seconds']} | {v['pairs_per_s']} | {v['ok']}/{v['forced']}/{v['failed']} |"
            for k, v in rows
        ]
        _plot(rows, out / "throughput.png")
        lines += ["", "![throughput](throughput.png)", ""]
    if "agreement" in results:
        a = results["agreement"]
        lines += [
            "## transformers vs vLLM, same tiny model, greedy",
            "",
            f"{a['same_verdict']}/{a['pairs']} identical verdicts (winner and parse status), "
            f"{a['same_text']}/{a['pairs']} identical texts.",
            "",
        ]
    (out / "report.md").write_text("\n".join(lines) + "\n")


def _plot(rows: list[tuple[str, dict[str, Any]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.barh([k for k, _ in rows], [v["pairs_per_s"] for _, v in rows], color="#4477aa")
    ax.set_xlabel("pairs / s (higher is better)")
    ax.set_title("VLM judge throughput, tiny Qwen2.5-VL on CPU")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}")
    ap.add_argument("--out", default="runs/bench_vlm_judge", help="output folder")
    ap.add_argument("--runs", type=int, default=200, help="tournament runs")
    ap.add_argument("--n", type=int, default=8, help="creatives per tournament run")
    ap.add_argument("--pool", type=int, default=40, help="creatives in the pool runs draw from")
    ap.add_argument("--pairs", type=int, default=16, help="pairs per throughput measurement")
    ap.add_argument("--max-new-tokens", type=int, default=32, help="generation budget per pair (tiny model)")
    ap.add_argument("--model", default=None, help="model folder (default: a tiny Qwen2.5-VL built here)")
    ap.add_argument("--base-url", default=None, help="an already running OpenAI-compatible server (…/v1)")
    ap.add_argument("--served-name", default="tiny", help="model name on the server")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        ap.error(f"unknown section(s) {unknown}; valid: {', '.join(SECTIONS)}")
    results: dict[str, Any] = {"machine": f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"}
    if "tournament" in sections:
        results["tournament"] = bench_tournament(args.runs, args.n, args.pool, args.seed)
    vlm_sections = [s for s in sections if s != "tournament"]
    if vlm_sections:
        _bench_vlm(args, vlm_sections, results)
    write_report(results, Path(args.out))
    print((Path(args.out) / "report.md").read_text())
    return 0


def _bench_vlm(args: argparse.Namespace, sections: list[str], results: dict[str, Any]) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-vlm-"))
    model = args.model
    if model is None:
        from creative4u.testing.tiny_vlm import build_tiny_vlm

        model = str(build_tiny_vlm(work / "tiny", arch="qwen2_5_vl", seed=args.seed))
    pairs = vlm_pairs(args.pairs)
    if "transformers" in sections:
        results["transformers"] = bench_transformers(model, pairs, args.max_new_tokens)
    if not {"openai", "agreement"} & set(sections):
        return
    server = None if args.base_url else start_vllm(Path(model), work)
    url = args.base_url or server.base_url + "/v1"
    try:
        if "openai" in sections:
            results["openai"] = bench_openai(url, args.served_name, vlm_pairs(2 * args.pairs), args.max_new_tokens)
        if "agreement" in sections:
            results["agreement"] = bench_agreement(model, url, args.served_name, pairs, args.max_new_tokens)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())

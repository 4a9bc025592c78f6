"""The CPU proof that the recipes learn: tiny model, a visual pair task, CoT-SFT then GRPO, held-out accuracy.

>>> cfg = LearnabilityConfig(skip_grpo=True)
>>> cfg.category, cfg.sft_recipe
('underexposed', 'recipes/tiny/sft/config_cpu.yaml')

From the shell (``make train-tiny``), printing one JSON line::

    creative4u train tiny --config recipes/tiny/learnability/config_cpu.yaml
    {"accuracy_before": 0.5, "accuracy_after_sft": ..., "accuracy_after_grpo": ..., "reward_curve": [...], ...}

Steps, all offline: (1) build CreativePairs whose answer depends only on the pixels — a clean creative against a
degraded copy of itself (``category``, default ``underexposed``), cut from real photos (scikit-image's, plus the
Debian wallpapers with ``photo_sources: [skimage, debian]``), whole photos held out for the test set, A/B positions
balanced; (2) build the tiny Qwen2.5-VL; (3) evaluate it on the held-out pairs
with the judge's own ``transformers`` backend (``accuracy_before``); (4) CoT-SFT with the tiny SFT recipe, merge,
evaluate; (5) GRPO from the SFT adapter with the tiny GRPO recipe, merge (``creative4u export --merge``), evaluate.
The prompt is the judge's template without check reports, so the model must look at the images; the rationales
are template rationales written from the check reports (the checks only write the targets).

It prints one JSON line (accuracies, the GRPO reward curve, the share of groups with no reward spread, wall time
and the machine's load) and writes ``result.json``, ``curves.png`` and the exported model with its card.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class LearnabilityConfig:
    """Options of ``creative4u train tiny`` (YAML keys or ``--key value``)."""

    output_dir: str = field(default="runs/learnability", metadata={"help": "folder for data, runs and the result"})
    sft_recipe: str = field(default="recipes/tiny/sft/config_cpu.yaml", metadata={"help": "SFT recipe YAML"})
    grpo_recipe: str = field(default="recipes/tiny/grpo/config_cpu.yaml", metadata={"help": "GRPO recipe YAML"})
    sft_overrides: list[str] = field(default_factory=list, metadata={
        "help": "extra SFT options as KEY=VALUE (e.g. max_steps=40)"})
    grpo_overrides: list[str] = field(default_factory=list, metadata={
        "help": "extra GRPO options as KEY=VALUE (e.g. max_steps=4)"})
    category: str = field(default="underexposed", metadata={
        "help": "degradation that makes the worse image (creative4u.data.degrade.DEGRADATIONS)"})
    severity_min: float = field(default=0.5, metadata={"help": "lowest degradation severity (0..1)"})
    severity_max: float = field(default=1.0, metadata={"help": "highest degradation severity (0..1)"})
    photo_sources: list[str] = field(default_factory=lambda: ["skimage"], metadata={
        "help": "real photo sources: skimage (in the wheel, offline), debian (wallpaper packages, fetched once)"})
    per_photo: int = field(default=16, metadata={"help": "clean creatives per photo (one pair each)"})
    image_size: int = field(default=112, metadata={"help": "creative side in pixels (the tiny model sees <=112x112)"})
    holdout: float = field(default=0.25, metadata={"help": "share of photos held out for the test pairs"})
    data_seed: int = field(default=0, metadata={"help": "seed of the pair set"})
    tiny_seed: int = field(default=0, metadata={"help": "seed of the tiny model's random weights"})
    max_test_pairs: int | None = field(default=None, metadata={"help": "evaluate on at most this many test pairs"})
    eval_max_new_tokens: int = field(default=64, metadata={"help": "generation limit of the evaluating judge"})
    eval_batch_size: int = field(default=16, metadata={"help": "pairs per generate() call when evaluating"})
    skip_grpo: bool = field(default=False, metadata={"help": "stop after SFT"})
    vllm_check: bool = field(default=False, metadata={
        "help": "also serve the exported model with the CPU vLLM (.venv-vllm) and evaluate it through the openai "
                "backend (accuracy_vllm_openai)"})
    torch_threads: int = field(default=0, metadata={"help": "torch CPU threads (0: torch's default)"})


def build_task(cfg: LearnabilityConfig) -> tuple[Path, Path]:
    """Write the pair set (train.jsonl, test.jsonl, images, manifest) once; return the two files."""
    from creative4u.data.build_pairs import build_pairs
    from creative4u.data.photos import list_photos

    out = Path(cfg.output_dir) / "pairs"
    if not (out / "manifest.json").is_file():
        build_pairs(out, list_photos(tuple(cfg.photo_sources)), per_photo=cfg.per_photo, categories=[cfg.category],
                    seed=cfg.data_seed, size=cfg.image_size, holdout_fraction=cfg.holdout,
                    severity_range=(cfg.severity_min, cfg.severity_max))
    return out / "train.jsonl", out / "test.jsonl"


def evaluate(model_dir: str | Path, pairs_path: str | Path, cfg: LearnabilityConfig) -> dict[str, Any]:
    """Held-out accuracy of a model folder through the judge's ``transformers`` backend (forced choice on).

    ``accuracy`` counts the judge's verdicts (an off-format answer falls back to the forced choice, as in
    serving); ``strict_accuracy`` counts only well-formed answers that are right; ``format_ok`` is their share.
    """
    from creative4u.data.pairs import read_pairs
    from creative4u.images import load_image
    from creative4u.judge.base import PairInput
    from creative4u.judge.transformers_backend import TransformersJudge

    pairs = read_pairs(pairs_path)[: cfg.max_test_pairs]
    judge = TransformersJudge(model=str(model_dir), max_new_tokens=cfg.eval_max_new_tokens, cache=False,
                              batch_size=cfg.eval_batch_size, max_pixels=cfg.image_size * cfg.image_size)
    inputs = [PairInput(load_image(p.image_a), load_image(p.image_b), title=p.title, queries=p.queries) for p in pairs]
    started = time.perf_counter()
    verdicts = judge.judge_pairs(inputs)
    judge.close()
    return {**_scores(verdicts, pairs), "answers_a": sum(v.winner == "A" for v in verdicts),
            "seconds": round(time.perf_counter() - started, 1), "example": verdicts[0].raw[:300] if verdicts else ""}


def _scores(verdicts: Sequence[Any], pairs: Sequence[Any]) -> dict[str, Any]:
    """Accuracy of the verdicts, the share right and well-formed, and the share well-formed."""
    right = [v.winner == p.label for v, p in zip(verdicts, pairs, strict=True)]
    ok = [v.parse_status == "ok" for v in verdicts]
    return {"pairs": len(pairs), "accuracy": round(sum(right) / len(pairs), 4),
            "strict_accuracy": round(sum(r and o for r, o in zip(right, ok, strict=True)) / len(pairs), 4),
            "format_ok": round(sum(ok) / len(pairs), 4)}


def evaluate_vllm(model_dir: str | Path, pairs_path: str | Path, cfg: LearnabilityConfig) -> dict[str, Any]:
    """Serve ``model_dir`` with vLLM (``creative4u.vllm_launcher``) and evaluate it through the openai judge."""
    from creative4u.data.pairs import read_pairs
    from creative4u.images import load_image
    from creative4u.judge.base import PairInput
    from creative4u.judge.openai_backend import OpenAIJudge
    from creative4u.vllm_launcher import launch_vllm

    pairs = read_pairs(pairs_path)[: cfg.max_test_pairs]
    inputs = [PairInput(load_image(p.image_a), load_image(p.image_b), title=p.title, queries=p.queries) for p in pairs]
    started = time.perf_counter()
    with launch_vllm(model_dir, dtype="float32", max_model_len=2048, served_model_name="creative4u-tiny") as server:
        ready = time.perf_counter() - started
        judge = OpenAIJudge(base_url=server.base_url + "/v1", model="creative4u-tiny", cache=False,
                            max_new_tokens=cfg.eval_max_new_tokens, max_pixels=cfg.image_size * cfg.image_size)
        verdicts = judge.judge_pairs(inputs)
        judge.close()
    return {**_scores(verdicts, pairs), "server_start_seconds": round(ready, 1),
            "seconds": round(time.perf_counter() - started, 1), "example": verdicts[0].raw[:300] if verdicts else ""}


def _say(message: str) -> None:
    """Stage progress on stderr (stdout carries only the final JSON line)."""
    print(f"[train tiny] {message}", file=sys.stderr, flush=True)


def _recipe_args(recipe: str, overrides: Sequence[str], **fixed: Any) -> list[str]:
    args = ["--config", recipe]
    for key, value in fixed.items():
        args += [f"--{key}", str(value)]
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"override {item!r} must look like KEY=VALUE")
        args += [f"--{key.strip()}", value.strip()]
    return args


def _stage(kind: str, cfg: LearnabilityConfig, model: str, train: Path) -> dict[str, Any]:
    """Run one recipe (sft or grpo) on the task with the YAML's settings; return its summary."""
    from creative4u.train.configs import parse_recipe

    recipe, overrides = (cfg.sft_recipe, cfg.sft_overrides) if kind == "sft" else (cfg.grpo_recipe, cfg.grpo_overrides)
    out = Path(cfg.output_dir) / kind
    fixed = {"model_name_or_path": model, "train_data": train, "output_dir": out}
    if kind == "grpo":  # the eval reward is measured on the held-out pairs
        fixed["eval_data"] = train.with_name("test.jsonl")
    argv = _recipe_args(recipe, overrides, **fixed)
    model_args, lora, data_args, args = parse_recipe(kind, argv)
    if kind == "sft":
        from creative4u.train.sft import run_sft

        return run_sft(model_args, lora, data_args, args)
    from creative4u.train.grpo import run_grpo

    return run_grpo(model_args, lora, data_args, args)


def _export(run_dir: Path, out: Path, figures: dict[str, Any] | None = None) -> Path:
    from creative4u.train.export import export_model

    eval_json = None
    if figures is not None:
        eval_json = out.parent / f"{out.name}_eval.json"
        eval_json.parent.mkdir(parents=True, exist_ok=True)
        eval_json.write_text(json.dumps(figures))
    export_model(run_dir, out, merge=True, eval_json=eval_json)
    return out


def _curves(cfg: LearnabilityConfig, result: dict[str, Any]) -> Path:
    """One PNG: SFT loss, then GRPO rewards (steps continue across stages), and the held-out accuracies."""
    from creative4u.train.plots import plot_curves, read_metrics

    history: list[dict[str, Any]] = []
    offset = 0
    for stage in ("sft", "grpo"):
        path = Path(cfg.output_dir) / stage / "metrics.jsonl"
        if path.is_file():
            rows = read_metrics(path)
            if stage == "grpo":  # the policy loss is not comparable with the SFT loss: leave it out
                rows = [{k: v for k, v in r.items() if k not in ("loss", "eval_loss")} for r in rows]
            history += [{**r, "step": r.get("step", 0) + offset} for r in rows]
            offset = max([r["step"] for r in history if "step" in r] or [0])
    bars = {"before": result["accuracy_before"], "after SFT": result["accuracy_after_sft"]}
    if "accuracy_after_grpo" in result:
        bars["after GRPO"] = result["accuracy_after_grpo"]
    return plot_curves(history, Path(cfg.output_dir) / "curves.png", title="tiny Qwen2.5-VL: SFT, then GRPO",
                       bars=bars)


def run_learnability(cfg: LearnabilityConfig) -> dict[str, Any]:
    """The whole proof run; returns the result dict (also ``result.json``)."""
    from creative4u.testing.tiny_vlm import build_tiny_vlm

    if cfg.torch_threads:
        import torch

        torch.set_num_threads(cfg.torch_threads)
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    cfg.output_dir = str(Path(cfg.output_dir).resolve())  # adapters record their base model's path
    out = Path(cfg.output_dir)
    train, test = build_task(cfg)
    base = build_tiny_vlm(out / "base_model", seed=cfg.tiny_seed)
    result: dict[str, Any] = {"task": f"clean vs {cfg.category} (severity {cfg.severity_min}-{cfg.severity_max})"}
    before = evaluate(base, test, cfg)
    _say(f"before training: {json.dumps(before)}")
    sft = _stage("sft", cfg, str(base), train)
    after_sft = evaluate(_export(out / "sft", out / "sft_merged"), test, cfg)
    _say(f"after SFT: {json.dumps(after_sft)}")
    result.update({"accuracy_before": before["accuracy"], "accuracy_after_sft": after_sft["accuracy"],
                   "strict_accuracy_after_sft": after_sft["strict_accuracy"]})
    stages = {"before": before, "after_sft": after_sft, "sft": _brief(sft)}
    if not cfg.skip_grpo:
        grpo = _stage("grpo", cfg, str(out / "sft"), train)
        after_grpo = evaluate(_export(out / "grpo", out / "grpo_merged"), test, cfg)
        _say(f"after GRPO: {json.dumps(after_grpo)}")
        result.update({"accuracy_after_grpo": after_grpo["accuracy"],
                       "strict_accuracy_after_grpo": after_grpo["strict_accuracy"],
                       "reward_curve": grpo.get("reward_curve"),
                       "frac_reward_zero_std_mean": grpo.get("frac_reward_zero_std_mean"),
                       "eval_reward_curve": grpo.get("eval_reward_curve"),
                       "eval_frac_reward_zero_std": grpo.get("eval_frac_reward_zero_std")})
        stages.update({"after_grpo": after_grpo, "grpo": _brief(grpo)})
    final_run = out / ("sft" if cfg.skip_grpo else "grpo")
    result.update({"n_train_pairs": _count(train), "n_test_pairs": before["pairs"],
                   "wall_seconds": round(time.perf_counter() - started, 1),
                   "load_average_start": round(load_start, 2), "load_average_end": round(os.getloadavg()[0], 2),
                   "cpus": os.cpu_count()})
    _export(final_run, out / "model", figures=result)
    result["curves"] = str(_curves(cfg, result))
    result["model"] = str(out / "model")
    if cfg.vllm_check:
        served = evaluate_vllm(out / "model", test, cfg)
        _say(f"exported model served by vLLM, judged through the openai backend: {json.dumps(served)}")
        result.update({"accuracy_vllm_openai": served["accuracy"], "vllm_format_ok": served["format_ok"]})
        stages["vllm_openai"] = served
    (out / "result.json").write_text(json.dumps({**result, "stages": stages, "config": asdict(cfg)}, indent=2) + "\n")
    return result


def _brief(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: summary.get(k) for k in ("steps", "train_seconds", "reward_first", "reward_last",
                                        "frac_reward_zero_std_mean") if k in summary}


def _count(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def main(argv: Sequence[str] | None = None) -> int:
    """``creative4u train tiny --config recipes/tiny/learnability/config_cpu.yaml [--key value ...]``."""
    from trl import TrlParser

    (cfg,) = TrlParser((LearnabilityConfig,), prog="creative4u train tiny").parse_args_and_config(
        list(argv) if argv is not None else sys.argv[1:])
    with contextlib.redirect_stdout(sys.stderr):  # the trainers print their log lines: keep stdout to one JSON line
        result = run_learnability(cfg)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Stage 2, GRPO: sharpen the choice with TRL's ``GRPOTrainer``, creative4u's rewards, and PEFT LoRA.

>>> # creative4u train grpo --config recipes/tiny/grpo/config_cpu.yaml --model_name_or_path runs/tiny-sft
>>> # trl vllm-serve --model Qwen/Qwen2.5-VL-7B-Instruct --port 8000        # server mode, on its own GPU(s)
>>> # accelerate launch --config_file recipes/accelerate_configs/zero3.yaml --num_processes 7 \\
>>> #     -m creative4u.train.grpo --config recipes/Qwen2.5-VL-7B-Instruct/grpo/config_vllm_server.yaml

``model_name_or_path`` is usually the SFT output. When it is a LoRA adapter and ``beta`` is 0 (no reference model,
TRL's default), the same adapter keeps training; with ``beta > 0`` the SFT adapter is merged first and a fresh
adapter is trained, so the KL reference is the SFT model, not the base. Rewards are named in ``reward_funcs``
(see :mod:`creative4u.train.rewards`) and weighted by TRL's ``reward_weights``. The order-consistency reward needs
both orders of a pair in one generation batch: build the data with ``both_orders: true`` and set
``shuffle_dataset: false`` (the builder shuffles whole pairs itself).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creative4u.train.configs import DataArguments, VLMArguments, parse_recipe, peft_config
from creative4u.train.sft import (
    adapter_base,
    finish,
    freeze_vision,
    load_model,
    load_processor_for,
    load_split,
    prepare_output,
    resolve_model_path,
    set_threads,
)

if TYPE_CHECKING:
    from trl import ModelConfig


def check_order_settings(args: Any, data_args: DataArguments) -> None:
    """The order-consistency reward only scores anything when both orders share a generation batch."""
    if "order_consistency" not in args.reward_funcs:
        return
    problems = []
    if args.shuffle_dataset:
        problems.append("shuffle_dataset: false (the builder already shuffles whole pairs)")
    if not data_args.both_orders and str(data_args.train_data).endswith(".jsonl"):
        problems.append("both_orders: true")
    prompts_per_batch = args.generation_batch_size // args.num_generations
    if prompts_per_batch % 2:
        problems.append(f"an even number of prompts per generation batch (now {prompts_per_batch}: "
                        "generation_batch_size / num_generations)")
    if problems:
        raise ValueError("reward order_consistency needs " + "; ".join(problems))


def _policy(path: str, model_args: ModelConfig, vlm: VLMArguments, args: Any) -> tuple[Any, Any]:
    """(model, peft config or None): continue an SFT adapter, or merge it first when a KL reference is used."""
    model = load_model(path, model_args)
    if adapter_base(path) is None:
        if not model_args.use_peft and vlm.freeze_vision_tower:
            freeze_vision(model)
        return model, peft_config(model_args, vlm)
    if args.beta > 0:  # the reference must be the SFT model: merge, then train a fresh adapter on top
        return model.merge_and_unload(), peft_config(model_args, vlm)
    return model, None


def build_grpo_trainer(model_args: ModelConfig, vlm: VLMArguments, data_args: DataArguments,
                       args: Any) -> tuple[Any, str]:
    """Everything up to ``trainer.train()``; returns (trainer, model path). Used by dry runs too."""
    from trl import GRPOTrainer

    from creative4u.train.plots import MetricsLogger
    from creative4u.train.rewards import build_rewards

    rewards = build_rewards(args.reward_funcs, args.reward_kwargs)  # fail on a bad name before loading anything
    check_order_settings(args, data_args)
    set_threads(vlm)
    out = prepare_output(args, (model_args, vlm, data_args, args))
    with args.main_process_first(desc="build the model and the data"):
        path = resolve_model_path(model_args, vlm, out)
        train = load_split(data_args.train_data, data_args, "grpo", out, "train")
        evaluation = load_split(data_args.eval_data, data_args, "grpo", out, "eval")
    processor = load_processor_for(path, model_args, vlm)
    model, peft = _policy(path, model_args, vlm, args)
    trainer = GRPOTrainer(
        model=model, reward_funcs=rewards, args=args, train_dataset=train, eval_dataset=evaluation,
        processing_class=processor, peft_config=peft, callbacks=[MetricsLogger(out / "metrics.jsonl")],
    )
    return trainer, path


def reward_summary(history: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The reward curve and the share of groups with no reward spread, from TRL's log lines.

    >>> s = reward_summary([{"step": 0, "eval_reward": 0.9, "eval_frac_reward_zero_std": 0.4},
    ...                     {"step": 1, "reward": 0.5, "frac_reward_zero_std": 0.25},
    ...                     {"step": 2, "reward": 1.5, "frac_reward_zero_std": 0.75},
    ...                     {"step": 2, "eval_reward": 1.2, "eval_frac_reward_zero_std": 0.7}])
    >>> s["reward_curve"], s["frac_reward_zero_std_mean"], s["eval_reward_curve"], s["eval_frac_reward_zero_std"]
    ([[1, 0.5], [2, 1.5]], 0.5, [[0, 0.9], [2, 1.2]], [[0, 0.4], [2, 0.7]])

    ``reward_curve`` is the training reward per step (each step sees new prompts, so it is noisy);
    ``eval_reward_curve`` is the reward on the same held-out prompts at each evaluation, the cleaner trend.
    """
    def curve(key: str) -> list[list[float]]:
        return [[h.get("step", i + 1), round(float(h[key]), 4)] for i, h in enumerate(history) if key in h]

    train, zero = curve("reward"), [v for _, v in curve("frac_reward_zero_std")]
    return {
        "reward_curve": train,
        "reward_first": train[0][1] if train else None,
        "reward_last": train[-1][1] if train else None,
        "frac_reward_zero_std_mean": round(sum(zero) / len(zero), 4) if zero else None,
        "eval_reward_curve": curve("eval_reward"),
        "eval_frac_reward_zero_std": curve("eval_frac_reward_zero_std"),
    }


def run_grpo(model_args: ModelConfig, vlm: VLMArguments, data_args: DataArguments, args: Any) -> dict[str, Any]:
    """Run GRPO end to end; return the run summary with the reward curve (also in ``train_summary.json``)."""
    started = time.perf_counter()
    trainer, path = build_grpo_trainer(model_args, vlm, data_args, args)
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    summary = finish(trainer, Path(args.output_dir), path, "grpo", started, args.plot_curves)
    summary.update(reward_summary(trainer.state.log_history))
    if trainer.is_world_process_zero():
        (Path(args.output_dir) / "train_summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """``creative4u train grpo --config FILE [--key value ...]`` (also ``python -m creative4u.train.grpo``)."""
    model_args, vlm, data_args, args = parse_recipe("grpo", list(argv) if argv is not None else sys.argv[1:])
    summary = run_grpo(model_args, vlm, data_args, args)
    print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":  # pragma: no cover - accelerate launch -m creative4u.train.grpo
    sys.exit(main())

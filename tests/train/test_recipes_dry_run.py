"""Every recipe YAML parses, and every GPU recipe builds its TRL trainer on the tiny model with the same settings.

Only what a CPU cannot do is overridden: the model (tiny instead of the 3B/7B checkpoints), precision (fp32), vLLM
rollouts (transformers generation), the loggers and the image size. Everything else — LoRA, rewards and weights,
batch sizes, generations, data options such as quoted check reports and both orders — is the YAML's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from creative4u.data.pairs import CreativePair, write_pairs

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes"
GPU_RECIPES = sorted(p for p in RECIPES.glob("Qwen2.5-VL-*/*/config_*.yaml"))
TINY_RECIPES = sorted(RECIPES.glob("tiny/*/config_*.yaml"))
CPU_OVERRIDES = ["--model_name_or_path", "tiny", "--dtype", "float32", "--bf16", "false", "--use_cpu", "true",
                 "--max_pixels", "12544", "--image_max_pixels", "12544", "--report_to", "none",
                 "--dataloader_num_workers", "0", "--plot_curves", "false"]


def stage_of(path: Path) -> str:
    return path.parent.name


def test_recipe_layout() -> None:
    names = {str(p.relative_to(RECIPES)) for p in GPU_RECIPES}
    for model in ("Qwen2.5-VL-3B-Instruct", "Qwen2.5-VL-7B-Instruct"):
        assert {f"{model}/sft/config_demo.yaml", f"{model}/grpo/config_vllm_server.yaml",
                f"{model}/grpo/config_vllm_colocate.yaml"} <= names
    for name in ("ddp", "zero2", "zero3", "fsdp"):
        cfg = yaml.safe_load((RECIPES / "accelerate_configs" / f"{name}.yaml").read_text())
        assert cfg["distributed_type"] in ("MULTI_GPU", "DEEPSPEED", "FSDP") and cfg["mixed_precision"] == "bf16"
    assert yaml.safe_load((RECIPES / "accelerate_configs" / "zero3.yaml").read_text())["deepspeed_config"][
        "zero_stage"] == 3


@pytest.mark.parametrize("path", GPU_RECIPES + TINY_RECIPES[:0], ids=lambda p: str(p.relative_to(RECIPES)))
def test_gpu_recipes_parse_with_their_settings(path: Path) -> None:
    from creative4u.train.configs import parse_recipe

    raw = yaml.safe_load(path.read_text())
    model, vlm, data, args = parse_recipe(stage_of(path), ["--config", str(path), "--use_cpu", "true", "--bf16",
                                                          "false"])
    assert type(model).__name__ == "ModelConfig" and model.dtype == raw["dtype"] == "bfloat16"
    assert model.model_name_or_path == raw["model_name_or_path"] and model.lora_r == raw["lora_r"]
    assert model.use_peft and vlm.max_pixels == raw["max_pixels"]
    assert data.with_checks is True and args.report_to == ["tensorboard"]
    if stage_of(path) == "grpo":
        assert args.use_vllm and args.vllm_mode == path.stem.rsplit("_", 1)[1]
        assert args.reward_funcs == raw["reward_funcs"] and args.reward_weights == raw["reward_weights"]
        assert data.both_orders and not args.shuffle_dataset


@pytest.mark.parametrize("path", [p for p in TINY_RECIPES if stage_of(p) in ("sft", "grpo")],
                         ids=lambda p: str(p.relative_to(RECIPES)))
def test_tiny_recipes_parse_into_trl_model_config(path: Path) -> None:
    from creative4u.train.configs import lora_targets, parse_recipe

    raw = yaml.safe_load(path.read_text())
    model, vlm, data, args = parse_recipe(stage_of(path), ["--config", str(path)])
    assert (model.dtype, model.lora_r, model.lora_modules_to_save) == ("float32", 16, ["lm_head"])
    assert model.lora_dropout == raw["lora_dropout"] and vlm.torch_threads == 1 and args.use_cpu
    assert lora_targets(model, vlm) == vlm.lora_language_model_regex  # no lora_target_modules: the LM only


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    from creative4u.train.configs import parse_recipe

    bad = tmp_path / "bad.yaml"
    bad.write_text((RECIPES / "tiny/sft/config_cpu.yaml").read_text() + "lora_rank: 8\n")
    with pytest.raises(ValueError, match="lora_rank"):
        parse_recipe("sft", ["--config", str(bad)])
    old = tmp_path / "old.yaml"
    old.write_text((RECIPES / "tiny/sft/config_cpu.yaml").read_text().replace("dtype:", "torch_dtype:"))
    with pytest.raises(ValueError, match="torch_dtype is now dtype"):
        parse_recipe("sft", ["--config", str(old)])
    with pytest.raises(ValueError, match="reward_weights has 1 values"):
        parse_recipe("grpo", ["--config", str(RECIPES / "tiny/grpo/config_cpu.yaml"), "--reward_weights", "1.0"])


@pytest.fixture(scope="module")
def tiny_pairs(tmp_path_factory, photos) -> Path:
    d = tmp_path_factory.mktemp("dry")
    names = sorted(photos)
    for name in names:
        photos[name].resize((112, 84)).save(d / f"{name}.jpg")
    pairs = [CreativePair(f"p{i}", str(d / f"{names[i]}.jpg"), str(d / f"{names[(i + 1) % 4]}.jpg"), "AB"[i % 2],
                          title="Espresso beans", queries=["coffee"]) for i in range(4)]
    write_pairs(d / "pairs.jsonl", pairs)
    return d / "pairs.jsonl"


def build_on_tiny(path: Path, pairs: Path, tmp_path: Path, extra: list[str] | None = None) -> tuple:
    """The recipe's trainer on the tiny model: only :data:`CPU_OVERRIDES` (and, for GRPO, no vLLM) changed."""
    from creative4u.train.configs import parse_recipe

    stage = stage_of(path)
    overrides = [*CPU_OVERRIDES, "--output_dir", str(tmp_path / "run"), "--train_data", str(pairs), *(extra or [])]
    if stage == "grpo":
        overrides += ["--use_vllm", "false"]
    model, vlm, data, args = parse_recipe(stage, ["--config", str(path), *overrides])
    if stage == "sft":
        from creative4u.train.sft import build_sft_trainer as build
    else:
        from creative4u.train.grpo import build_grpo_trainer as build
    trainer, _ = build(model, vlm, data, args)
    return trainer, model, args


@pytest.mark.slow
@pytest.mark.parametrize("path", GPU_RECIPES, ids=lambda p: str(p.relative_to(RECIPES)))
def test_gpu_recipes_build_trainers_on_the_tiny_model(path: Path, tiny_pairs: Path, tmp_path: Path) -> None:
    stage = stage_of(path)
    trainer, model, args = build_on_tiny(path, tiny_pairs, tmp_path)
    peft_cfg = trainer.model.peft_config["default"]
    assert peft_cfg.r == model.lora_r and peft_cfg.lora_alpha == model.lora_alpha
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all("language_model" in n and "lora_" in n for n in trainable)  # LoRA on the LM only
    assert trainer.args.per_device_train_batch_size == args.per_device_train_batch_size
    row = trainer.train_dataset[0]
    assert '"exposure"' in str(row["prompt"])  # the YAML's with_checks: true reached the data
    if stage == "grpo":
        assert [f.__name__ for f in trainer.reward_funcs] == args.reward_funcs
        assert trainer.num_generations == args.num_generations
        assert trainer.train_dataset[1]["id"].endswith("~swapped")


def test_cli_train_dispatch(tmp_path: Path, capsys) -> None:
    from creative4u.cli import main as cli_main
    from creative4u.cli.train import TRAIN_COMMANDS

    assert set(TRAIN_COMMANDS) >= {"sft", "grpo", "tiny"}
    assert cli_main(["train", "sft", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # the recipe's own parser answers --help with every option
        cli_main(["train", "grpo", "--help"])
    assert "--reward_funcs" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("path", GPU_RECIPES, ids=lambda p: str(p.relative_to(RECIPES)))
def test_gpu_recipes_take_one_optimizer_step_on_the_tiny_model(path: Path, tiny_pairs: Path, tmp_path: Path) -> None:
    """One real step with the YAML's batch sizes, generations, rewards and activation checkpointing.

    Besides the CPU overrides: no warm-up (its first learning rate is 0, so nothing would move), a 32-token
    completion budget (a random model never stops on its own), no checkpoint saving.
    """
    import torch

    stage = stage_of(path)
    extra = ["--max_steps", "1", "--warmup_steps", "0", "--save_strategy", "no"]
    if stage == "grpo":
        extra += ["--max_completion_length", "32"]
    trainer, _, args = build_on_tiny(path, tiny_pairs, tmp_path, extra)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    out = trainer.train()
    assert trainer.state.global_step == 1 and torch.isfinite(torch.tensor(out.training_loss))
    logged = {k for row in trainer.state.log_history for k in row}
    if stage == "sft":
        moved = [n for n, p in trainer.model.named_parameters() if n in before and not torch.equal(before[n], p)]
        assert moved, "the SFT step changed no LoRA weight"
        assert "mean_token_accuracy" in logged
    else:
        # a random model's samples all score 0 (no format), so the group advantage and the update are zero:
        # what a step must show here is the sampling, the rewards and their spread being computed and logged
        assert {"reward", "frac_reward_zero_std", "completions/mean_length"} <= logged
        assert {f"rewards/{name}/mean" for name in args.reward_funcs} <= logged

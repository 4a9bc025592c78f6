"""Recipe configs: TRL's ``ModelConfig`` and ``SFTConfig``/``GRPOConfig`` plus the VLM and data options.

>>> model, vlm, data, args = parse_recipe("sft", ["--model_name_or_path", "tiny", "--train_data", "pairs.jsonl",
...                                                "--output_dir", "/tmp/c4u-doc", "--bf16", "false", "--use_cpu"])
>>> type(model).__name__, model.model_name_or_path, model.use_peft, model.dtype, type(args).__name__
('ModelConfig', 'tiny', True, 'auto', 'SFTRecipeConfig')
>>> lora_targets(model, vlm).startswith(".*language_model")
True

A recipe YAML is flat (TRL's style): every key is a field of one of the four groups — TRL's :class:`trl.ModelConfig`
(``model_name_or_path``, ``dtype``, ``attn_implementation``, ``use_peft``, ``lora_r``, ``lora_alpha``,
``lora_dropout``, ``lora_target_modules``, ``lora_modules_to_save``, ...), :class:`VLMArguments`,
:class:`DataArguments` and the trainer config — and ``--key value`` on the command line overrides the file
(``creative4u train sft --config recipes/tiny/sft/config_cpu.yaml --learning_rate 1e-3``). An ``env:`` mapping in
the YAML sets environment variables. Unknown keys are an error that names them.

Two of ``ModelConfig``'s defaults differ here, as before TRL's class was reused: ``use_peft`` is true (LoRA unless
``use_peft: false``) and ``dtype`` is ``auto`` (the checkpoint's own). Without ``lora_target_modules`` LoRA goes on
the language model only (:attr:`VLMArguments.lora_language_model_regex`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from trl import GRPOConfig, ModelConfig, SFTConfig, TrlParser

# LoRA on the language model only: the Qwen-VL vision tower reuses the projection names, and vLLM applies LoRA to
# the language model only (same regex as creative4u.testing.tiny_vlm.LORA_TARGET_REGEX).
LORA_TARGET_REGEX = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
TINY = "tiny"
# ModelConfig defaults this project changes (see the module docstring), and recipe keys renamed by adopting it.
MODEL_DEFAULTS = {"use_peft": True, "dtype": "auto"}
RENAMED = {"torch_dtype": "dtype"}


@dataclass
class VLMArguments:
    """What TRL's ``ModelConfig`` lacks for a vision-language judge: the tiny model, image sizes, threads, freezing.

    The model and LoRA options themselves (``model_name_or_path``, ``dtype``, ``use_peft``, ``lora_r``,
    ``lora_target_modules``, ...) are TRL's :class:`trl.ModelConfig`, and the PEFT config is TRL's
    :func:`trl.get_peft_config`.
    """

    tiny_arch: str = field(default="qwen2_5_vl", metadata={
        "help": "architecture of the tiny model that model_name_or_path 'tiny' builds offline: qwen2_5_vl, qwen2_vl"})
    tiny_seed: int = field(default=0, metadata={"help": "seed of the tiny model's random weights"})
    min_pixels: int | None = field(default=None, metadata={"help": "processor: minimum pixels per image"})
    max_pixels: int | None = field(default=None, metadata={
        "help": "processor: maximum pixels per image (fewer image tokens; 1280*28*28 is Qwen's suggestion)"})
    torch_threads: int = field(default=0, metadata={
        "help": "CPU threads for torch (0: torch's default). On a busy shared CPU 1 is much faster: idle threads "
                "spin while waiting for a core"})
    lora_language_model_regex: str = field(default=LORA_TARGET_REGEX, metadata={
        "help": "LoRA targets when lora_target_modules is not set: a regex on the language model's attention and "
                "MLP projections (the vision tower reuses those names; vLLM applies LoRA to the language model only)"})
    freeze_vision_tower: bool = field(default=True, metadata={
        "help": "without PEFT: keep the vision tower (model.visual) frozen"})


@dataclass
class DataArguments:
    """Training data: a built dataset folder, or a CreativePair JSONL built into one on the fly."""

    train_data: str = field(default="", metadata={
        "help": "a dataset folder from `creative4u data build-sft|build-grpo`, or a CreativePair .jsonl"})
    eval_data: str | None = field(default=None, metadata={"help": "the same for evaluation (optional)"})
    rationale: str = field(default="auto", metadata={
        "help": "SFT from .jsonl: field, template or auto (see creative4u.data.sft_data.BuildConfig)"})
    with_checks: bool = field(default=False, metadata={"help": "quote the check reports in the prompt"})
    check_profile: str = field(default="default", metadata={"help": "check profile for prompts and templates"})
    template_items: list[int] | None = field(default=None, metadata={
        "help": "protocol items of template rationales (default all nine)"})
    template_scores: bool = field(default=True, metadata={"help": "template rationales quote check scores"})
    image_max_pixels: int = field(default=1280 * 28 * 28, metadata={
        "help": "scale dataset images to at most this many pixels (as the judge backends do)"})
    both_orders: bool = field(default=False, metadata={
        "help": "add each pair in swapped order next to it (needed by the order_consistency reward)"})
    balance_positions: bool = field(default=True, metadata={"help": "swap half of the pairs to balance A/B"})
    prompt_version: str = field(default="creative4u_v1", metadata={"help": "prompt template version"})
    check_cache_dir: str | None = field(default=None, metadata={"help": "on-disk cache of check measurements"})
    max_train_samples: int | None = field(default=None, metadata={"help": "use only the first N training rows"})

    def __post_init__(self) -> None:
        if not self.train_data:
            raise ValueError("train_data is required (a dataset folder or a CreativePair .jsonl)")

    def build_config(self) -> Any:
        """The :class:`creative4u.data.sft_data.BuildConfig` for building from a .jsonl."""
        from creative4u.data.sft_data import BuildConfig

        return BuildConfig(
            rationale=self.rationale, with_checks=self.with_checks, profile=self.check_profile,
            template_items=self.template_items, template_scores=self.template_scores,
            max_pixels=self.image_max_pixels, both_orders=self.both_orders, balance=self.balance_positions,
            prompt_version=self.prompt_version, cache_dir=self.check_cache_dir,
        )


@dataclass
class SFTRecipeConfig(SFTConfig):
    """TRL's ``SFTConfig`` with defaults for VLM pairs: no truncation (image tokens), TensorBoard logs, curves."""

    max_length: int | None = field(default=None, metadata={
        "help": "maximum tokens per example; None: never cut (a cut would drop image tokens)"})
    report_to: None | str | list[str] = field(default_factory=lambda: ["tensorboard"], metadata={
        "help": "loggers: tensorboard (runs/ under output_dir), none, wandb, ..."})
    plot_curves: bool = field(default=True, metadata={"help": "write curves.png (loss and rewards) when done"})


@dataclass
class GRPORecipeConfig(GRPOConfig):
    """TRL's ``GRPOConfig`` plus the rewards by name (``creative4u.train.rewards.REWARDS``) and their parameters."""

    reward_funcs: list[str] = field(default_factory=lambda: ["answer_correct", "strict_format"], metadata={
        "help": "reward names in order (answer_correct, strict_format, order_consistency, protocol_items, "
                "cosine_length); weights in reward_weights"})
    reward_kwargs: dict | str | None = field(default=None, metadata={
        "help": "parameters per reward as a mapping (YAML) or JSON, e.g. {\"cosine_length\": {\"max_len\": 512}}"})
    report_to: None | str | list[str] = field(default_factory=lambda: ["tensorboard"], metadata={
        "help": "loggers: tensorboard (runs/ under output_dir), none, wandb, ..."})
    plot_curves: bool = field(default=True, metadata={"help": "write curves.png (loss and rewards) when done"})

    def __post_init__(self) -> None:
        if isinstance(self.reward_kwargs, str):
            self.reward_kwargs = json.loads(self.reward_kwargs)
        if self.reward_weights is not None and len(self.reward_weights) != len(self.reward_funcs):
            raise ValueError(f"reward_weights has {len(self.reward_weights)} values for {len(self.reward_funcs)} "
                             f"reward_funcs {self.reward_funcs}")
        super().__post_init__()


RECIPE_CONFIGS: dict[str, type] = {"sft": SFTRecipeConfig, "grpo": GRPORecipeConfig}


def recipe_parser(kind: str) -> TrlParser:
    """The argument parser of a recipe (``sft`` or ``grpo``): model, LoRA, data and trainer options."""
    if kind not in RECIPE_CONFIGS:
        raise ValueError(f"unknown recipe {kind!r}; valid: {', '.join(RECIPE_CONFIGS)}")
    groups = (ModelConfig, VLMArguments, DataArguments, RECIPE_CONFIGS[kind])
    parser = TrlParser(groups, prog=f"creative4u train {kind}")
    parser.set_defaults(**MODEL_DEFAULTS)  # a YAML value or a flag still wins (TrlParser sets those after this)
    return parser


def parse_recipe(kind: str, argv: list[str] | None = None) -> tuple[ModelConfig, VLMArguments, DataArguments, Any]:
    """Parse ``--config FILE`` (YAML) and CLI overrides into the four option groups of a recipe."""
    try:
        model, vlm, data, args = recipe_parser(kind).parse_args_and_config(argv)
    except ValueError as err:
        hints = [f"{old} is now {new}" for old, new in RENAMED.items() if f"--{old}'" in str(err)]
        if hints:
            raise ValueError(f"{err} ({'; '.join(hints)}: the model options are TRL's ModelConfig)") from None
        raise
    if not model.model_name_or_path:
        raise ValueError("model_name_or_path is required (a folder, a hub id, a LoRA adapter folder, or 'tiny')")
    return model, vlm, data, args


def lora_targets(model: ModelConfig, vlm: VLMArguments) -> str | list[str]:
    """What LoRA wraps: ``lora_target_modules`` when given (names or a regex), else the language-model regex."""
    return model.lora_target_modules if model.lora_target_modules is not None else vlm.lora_language_model_regex


def peft_config(model: ModelConfig, vlm: VLMArguments) -> Any:
    """TRL's :func:`trl.get_peft_config` (None without PEFT), with LoRA on the language model unless told otherwise.

    >>> cfg = peft_config(ModelConfig(use_peft=True, lora_r=8), VLMArguments())
    >>> cfg.r, cfg.lora_alpha, cfg.target_modules.startswith(".*language_model")
    (8, 32, True)
    """
    from trl import get_peft_config

    return get_peft_config(dataclasses.replace(model, lora_target_modules=lora_targets(model, vlm)))


def to_yaml_dict(*configs: Any) -> dict[str, Any]:
    """The explicit, JSON-ready settings of parsed configs (saved next to a run as ``recipe.json``)."""
    out: dict[str, Any] = {}
    for cfg in configs:
        values = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg.__dict__)
        out.update({k: v for k, v in values.items() if not k.startswith("_")})
    return json.loads(json.dumps(out, default=str))

"""``creative4u train sft|grpo|tiny --config FILE [--key value ...]`` and ``creative4u export MODEL_DIR --out DIR``.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="creative4u")
>>> add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["train", "sft", "--config", "recipes/tiny/sft/config_cpu.yaml", "--max_steps", "2"])
>>> args.train_stage, args.options
('sft', ['--config', 'recipes/tiny/sft/config_cpu.yaml', '--max_steps', '2'])

Each stage is a lazy ``"module:function"`` entry of :data:`TRAIN_COMMANDS` that receives the remaining arguments
(TRL's YAML + ``--key value`` parser reads them), so adding a stage is one line and ``creative4u --help`` never
imports torch. ``creative4u train sft --help`` lists every option of the recipe.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from creative4u.registry import lazy

# stage -> ("module:function" taking the argument list, one-line help)
TRAIN_COMMANDS: dict[str, tuple[str, str]] = {
    "sft": ("creative4u.train.sft:main", "stage 1: CoT-SFT with TRL SFTTrainer + PEFT LoRA"),
    "grpo": ("creative4u.train.grpo:main", "stage 2: GRPO with TRL GRPOTrainer and creative4u rewards"),
    "tiny": ("creative4u.train.learnability:main",
             "the CPU proof: tiny model, visual pair task, SFT then GRPO, held-out accuracy before/after"),
    "disgust": ("creative4u.train.disgust.train:main", "the disgust classifier check (MobileNet-V2 + CBAM, mean "
                "teacher, OHEM, cascade, calibration, ONNX): --config recipes/disgust/config_*.yaml"),
}


def add_parser(sub: Any) -> None:
    train = sub.add_parser("train", help="train a selector (sft, grpo, tiny)",
                           description="Train a selector with a recipe YAML: creative4u train STAGE --config FILE")
    stages = train.add_subparsers(dest="train_stage", metavar="STAGE")
    for name, (_, text) in TRAIN_COMMANDS.items():
        # No option parsing here (prefix_chars "+", no -h): every argument, --help included, goes to the recipe's
        # own parser, which knows and documents every option.
        sp = stages.add_parser(name, help=text, description=text, add_help=False, prefix_chars="+")
        sp.add_argument("options", nargs="*", help="--config FILE and --key value overrides")
        sp.set_defaults(func=run_train)
    train.set_defaults(func=lambda args: _usage(train))

    export = sub.add_parser("export", help="merge/export a trained model for vllm serve and the transformers judge",
                            description="Export a training output (LoRA adapter or full model) with its processor, "
                                        "chat template and a model card.")
    export.add_argument("model_dir", help="training output: a LoRA adapter folder or a full model folder")
    export.add_argument("--out", required=True, help="folder to write the exported model into")
    export.add_argument("--merge", action="store_true", help="merge the LoRA adapter into the base (vLLM-ready)")
    export.add_argument("--base", default=None, help="base model of the adapter (default: the one it names)")
    export.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"], help="saved dtype")
    export.add_argument("--eval-json", default=None, help="JSON with evaluation figures for the model card")
    export.set_defaults(func=run_export)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_train(args: argparse.Namespace) -> int:
    target, _ = TRAIN_COMMANDS[args.train_stage]
    return int(lazy(target)(list(args.options)) or 0)


def run_export(args: argparse.Namespace) -> int:
    from creative4u.train.export import export_model

    result = export_model(args.model_dir, args.out, merge=args.merge, base=args.base, dtype=args.dtype,
                          eval_json=args.eval_json)
    print(json.dumps(result, indent=2))
    return 0

"""Stage 1, CoT-SFT: teach the answer format and the evaluation protocol with TRL's ``SFTTrainer`` and PEFT LoRA.

>>> # creative4u train sft --config recipes/tiny/sft/config_cpu.yaml --output_dir runs/tiny-sft
>>> # accelerate launch --config_file recipes/accelerate_configs/zero2.yaml -m creative4u.train.sft \\
>>> #     --config recipes/Qwen2.5-VL-7B-Instruct/sft/config_demo.yaml

The run writes into ``output_dir``: the adapter (or full model) with the processor files and chat template, so
``creative4u export`` or the ``transformers`` judge can load it; ``recipe.json`` (every setting), ``metrics.jsonl``
(every log line), TensorBoard logs under ``runs/``, ``curves.png`` and ``train_summary.json``. A ``.jsonl``
``train_data`` is first built into ``output_dir/data_train`` (a dataset with its card). The model/data helpers
here are shared with :mod:`creative4u.train.grpo`.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creative4u.train.configs import TINY, DataArguments, VLMArguments, parse_recipe, peft_config, to_yaml_dict

if TYPE_CHECKING:
    from trl import ModelConfig

log = logging.getLogger(__name__)

# Files that make a folder loadable as a Qwen-VL processor (copied next to adapters and merged models).
PROCESSOR_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json",
                   "added_tokens.json", "preprocessor_config.json", "chat_template.json", "chat_template.jinja",
                   "generation_config.json")


# creative4u.models loads Qwen-VL processors through image-only subclasses; files saved by them name those classes,
# which only creative4u knows. Saved folders get the stock names back so vLLM and plain transformers load them.
STOCK_PROCESSOR_CLASSES = {"ImageOnlyQwen2_5_VLProcessor": "Qwen2_5_VLProcessor",
                           "ImageOnlyQwen2VLProcessor": "Qwen2VLProcessor"}


def restore_stock_processor_class(folder: str | Path) -> list[str]:
    """Rename creative4u's image-only processor classes to the stock ones in a saved folder; return files fixed.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "processor_config.json").write_text('{"processor_class": "ImageOnlyQwen2_5_VLProcessor"}')
    >>> restore_stock_processor_class(d), json.loads((d / "processor_config.json").read_text())["processor_class"]
    (['processor_config.json'], 'Qwen2_5_VLProcessor')
    """
    fixed = []
    for name in ("processor_config.json", "preprocessor_config.json", "tokenizer_config.json"):
        path = Path(folder) / name
        if not path.is_file():
            continue
        data = json.loads(path.read_text())
        if data.get("processor_class") in STOCK_PROCESSOR_CLASSES:
            data["processor_class"] = STOCK_PROCESSOR_CLASSES[data["processor_class"]]
            path.write_text(json.dumps(data, indent=2) + "\n")
            fixed.append(name)
    return fixed


def set_threads(vlm: VLMArguments) -> None:
    """Apply ``torch_threads`` (measured on a 2-core CPU shared with other jobs: a GRPO step took 12 s with two
    threads and 2.4 s with one)."""
    if vlm.torch_threads:
        import torch

        torch.set_num_threads(vlm.torch_threads)


def resolve_model_path(model_args: ModelConfig, vlm: VLMArguments, output_dir: str | Path) -> str:
    """The model to load: ``tiny`` is built (offline, seeded) into ``output_dir/base_model`` first."""
    if model_args.model_name_or_path != TINY:
        return model_args.model_name_or_path
    from creative4u.testing.tiny_vlm import build_tiny_vlm

    target = (Path(output_dir) / "base_model").resolve()  # absolute: adapters record it as their base
    if not (target / "config.json").is_file():
        build_tiny_vlm(target, arch=vlm.tiny_arch, seed=vlm.tiny_seed)  # type: ignore[arg-type]
    return str(target)


def adapter_base(path: str | Path) -> str | None:
    """The base model of a PEFT adapter folder, or None when ``path`` is not an adapter."""
    cfg = Path(path) / "adapter_config.json"
    if not cfg.is_file():
        return None
    base = json.loads(cfg.read_text()).get("base_model_name_or_path")
    if not base:
        raise ValueError(f"{cfg} names no base_model_name_or_path")
    return str(base)


def load_processor_for(path: str, model_args: ModelConfig, vlm: VLMArguments) -> Any:
    """The image-only Qwen-VL processor of ``path`` (of its base model when ``path`` is an adapter)."""
    from creative4u.models import load_processor

    kw = {k: v for k, v in (("min_pixels", vlm.min_pixels), ("max_pixels", vlm.max_pixels),
                            ("revision", model_args.model_revision)) if v is not None}
    # An adapter folder has copies of the processor files but no config.json naming the model type: use the base.
    processor = load_processor(adapter_base(path) or path, **kw)
    image_processor = processor.image_processor
    for key, edge in (("max_pixels", "longest_edge"), ("min_pixels", "shortest_edge")):
        if kw.get(key):  # the size dict decides; older processors also read the legacy attribute
            image_processor.size[edge] = kw[key]
            if hasattr(image_processor, key):
                setattr(image_processor, key, kw[key])
    return processor


def load_model(path: str, model_args: ModelConfig, trainable_adapter: bool = True) -> Any:
    """Load the VLM; an adapter folder loads its base plus the adapter (trainable, to continue training it)."""
    import torch
    from transformers import AutoModelForImageTextToText
    from trl import get_quantization_config

    name = model_args.dtype or "auto"
    kw: dict[str, Any] = {"dtype": name if name == "auto" else getattr(torch, name)}
    quantization = get_quantization_config(model_args)  # load_in_4bit / load_in_8bit (bitsandbytes, GPU)
    if quantization is not None:
        from accelerate import PartialState

        kw.update(quantization_config=quantization, device_map={"": PartialState().local_process_index})
    if model_args.attn_implementation:
        kw["attn_implementation"] = model_args.attn_implementation
    if model_args.model_revision:
        kw["revision"] = model_args.model_revision
    base = adapter_base(path)
    model = AutoModelForImageTextToText.from_pretrained(base or path, **kw)
    if base is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, path, is_trainable=trainable_adapter)
    return model


def freeze_vision(model: Any) -> int:
    """Freeze the vision tower for full fine-tuning; return how many parameters were frozen."""
    visual = getattr(getattr(model, "model", model), "visual", None) or getattr(model, "visual", None)
    if visual is None:
        return 0
    n = 0
    for p in visual.parameters():
        p.requires_grad_(False)
        n += p.numel()
    return n


def load_split(path: str | None, data_args: DataArguments, kind: str, out_dir: Path, split: str) -> Any:
    """A training split: a built dataset folder as is, or a CreativePair ``.jsonl`` built (with its card) first.

    A ``.jsonl`` already built into ``out_dir/data_<split>`` from the same file with the same settings is reused
    (a resumed run, or the other ranks of a multi-GPU run after the main process built it).
    """
    if not path:
        return None
    from creative4u.data.sft_data import build_and_save, load_training_dataset

    if str(path).endswith(".jsonl"):
        target = out_dir / f"data_{split}"
        if not _built_from(target, path, data_args):
            build_and_save(path, target, kind, data_args.build_config(), progress=True)
        path = str(target)
    ds = load_training_dataset(path)
    needed = {"sft": {"images", "prompt", "completion"}, "grpo": {"images", "prompt", "label"}}[kind]
    missing = needed - set(ds.column_names)
    if missing:
        raise ValueError(f"{path}: not a {kind.upper()} dataset (missing columns {sorted(missing)}); build it with "
                         f"`creative4u data build-{kind}`")
    if split == "train" and data_args.max_train_samples:
        ds = ds.select(range(min(len(ds), data_args.max_train_samples)))
    return ds


def _built_from(target: Path, source: str, data_args: DataArguments) -> bool:
    """Whether ``target`` holds a dataset built from ``source`` (unchanged since) with the same build settings."""
    summary = target / "summary.json"
    if not (target / "state.json").is_file() or not summary.is_file():
        return False
    info = json.loads(summary.read_text())
    same_build = info.get("build") == json.loads(json.dumps(data_args.build_config().__dict__))
    return info.get("source") == str(source) and same_build and Path(source).stat().st_mtime <= summary.stat().st_mtime


def prepare_output(args: Any, configs: Sequence[Any]) -> Path:
    """Create ``output_dir`` and save every setting of the run as ``recipe.json``."""
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe.json").write_text(json.dumps(to_yaml_dict(*configs), indent=2) + "\n")
    return out


def save_processor_files(source: str, out: Path) -> None:
    """Copy the processor/tokenizer/chat-template files of ``source`` (a folder) next to a saved model or adapter.

    Copying (instead of ``processor.save_pretrained``) keeps the stock processor class name in the files, so vLLM
    and plain ``AutoProcessor`` load the result too. Hub ids are left to :func:`creative4u.train.export`.
    """
    src = Path(source)
    if not src.is_dir():
        return
    for name in PROCESSOR_FILES:
        if (src / name).is_file() and not (out / name).is_file():
            shutil.copy2(src / name, out / name)


def finish(trainer: Any, out: Path, base_path: str, stage: str, started: float, plot: bool) -> dict[str, Any]:
    """Save the model and processor files, the metrics and the curves; return the run summary."""
    from creative4u.train.plots import plot_curves

    trainer.save_model(str(out))
    if not trainer.is_world_process_zero():
        return {"stage": stage, "output_dir": str(out)}
    save_processor_files(adapter_base(base_path) or base_path, out)
    restore_stock_processor_class(out)
    history = trainer.state.log_history
    summary: dict[str, Any] = {
        "stage": stage, "output_dir": str(out), "base_model": adapter_base(base_path) or base_path,
        "steps": trainer.state.global_step, "train_seconds": round(time.perf_counter() - started, 1),
        "final": next((h for h in reversed(history) if "train_runtime" in h), {}),
    }
    if plot:
        summary["curves"] = str(plot_curves(history, out / "curves.png", title=f"{stage} — {out.name}"))
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def build_sft_trainer(model_args: ModelConfig, vlm: VLMArguments, data_args: DataArguments,
                      args: Any) -> tuple[Any, str]:
    """Everything up to ``trainer.train()``: model, processor, data, LoRA, callbacks; returns (trainer, model path).

    Dry runs (``tests/train/test_recipes_dry_run.py``) call this to check that a recipe builds.
    """
    from trl import SFTTrainer

    from creative4u.train.plots import MetricsLogger

    set_threads(vlm)
    out = prepare_output(args, (model_args, vlm, data_args, args))
    with args.main_process_first(desc="build the model and the data"):  # rank 0 builds, the others reuse
        path = resolve_model_path(model_args, vlm, out)
        train = load_split(data_args.train_data, data_args, "sft", out, "train")
        evaluation = load_split(data_args.eval_data, data_args, "sft", out, "eval")
    processor = load_processor_for(path, model_args, vlm)
    model = load_model(path, model_args)
    if not model_args.use_peft and vlm.freeze_vision_tower:
        freeze_vision(model)
    is_adapter = adapter_base(path) is not None  # an adapter folder is trained further, not wrapped again
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=train, eval_dataset=evaluation, processing_class=processor,
        peft_config=None if is_adapter else peft_config(model_args, vlm),
        callbacks=[MetricsLogger(out / "metrics.jsonl")],
    )
    return trainer, path


def run_sft(model_args: ModelConfig, vlm: VLMArguments, data_args: DataArguments, args: Any) -> dict[str, Any]:
    """Run CoT-SFT end to end; return the run summary (also in ``train_summary.json``)."""
    started = time.perf_counter()
    trainer, path = build_sft_trainer(model_args, vlm, data_args, args)
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    return finish(trainer, Path(args.output_dir), path, "sft", started, args.plot_curves)


def main(argv: Sequence[str] | None = None) -> int:
    """``creative4u train sft --config FILE [--key value ...]`` (also ``python -m creative4u.train.sft``)."""
    model_args, vlm, data_args, args = parse_recipe("sft", list(argv) if argv is not None else sys.argv[1:])
    summary = run_sft(model_args, vlm, data_args, args)
    print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":  # pragma: no cover - accelerate launch -m creative4u.train.sft
    sys.exit(main())

"""Export a trained selector so ``vllm serve`` and the ``transformers`` judge load it directly, with a model card.

>>> try:
...     export_model("runs/no-such-run", "models/out")
... except FileNotFoundError as err:
...     print(err)
model folder not found: runs/no-such-run

From the shell::

    creative4u export runs/tiny-grpo --out models/tiny-selector --merge --eval-json runs/learnability.json
    vllm serve models/tiny-selector --limit-mm-per-prompt '{"image": 2}'      (merged: a plain model folder)
    vllm serve BASE --enable-lora --lora-modules creative4u=models/tiny-adapter (kept adapter, without --merge)

``--merge`` folds the LoRA adapter into the base weights (``merge_and_unload``) and saves a plain model folder;
without it the adapter is kept as is (smaller; vLLM serves it with ``--enable-lora``, but vLLM's LoRA does not
load ``modules_to_save`` such as ``lm_head``: merge such adapters). Either way the folder gets the processor
files (tokenizer, image processor, ``chat_template.json``) and the generation config of the base, copied rather
than re-saved so they name the stock Qwen processor class that any loader knows, and a ``README.md`` model card
with the training data summary, the training runs and the evaluation figures found next to the run.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from creative4u.train.sft import PROCESSOR_FILES, adapter_base, restore_stock_processor_class

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")


def _copy_processor(sources: Sequence[str | Path], out: Path) -> list[str]:
    """Copy processor files from the first source folder that has each; return the names copied."""
    copied: list[str] = []
    for name in PROCESSOR_FILES:
        if name == "chat_template.jinja" and "chat_template.json" in copied:
            continue  # one template file, as in the base (two could drift apart)
        for src in sources:
            path = Path(src) / name
            if path.is_file():
                shutil.copy2(path, out / name)
                copied.append(name)
                break
    return copied


def _save_hub_processor(base: str, out: Path) -> list[str]:
    """For a hub base: save its processor here, then restore the stock class name in the written configs."""
    from creative4u.models import load_processor

    load_processor(base).save_pretrained(str(out))
    restore_stock_processor_class(out)
    return sorted(p.name for p in out.iterdir() if p.name in PROCESSOR_FILES)


def _merged(model_dir: Path, base: str, dtype: str) -> Any:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(base, dtype=getattr(torch, dtype))
    return PeftModel.from_pretrained(model, str(model_dir)).merge_and_unload()


def _full(model_dir: Path, dtype: str) -> Any:
    import torch
    from transformers import AutoModelForImageTextToText

    return AutoModelForImageTextToText.from_pretrained(str(model_dir), dtype=getattr(torch, dtype))


def run_chain(model_dir: str | Path, limit: int = 5) -> list[dict[str, Any]]:
    """The training runs behind a model folder, newest first: its ``train_summary.json`` and ``recipe.json``, then
    those of the model it started from (a GRPO run started from an SFT run, ...)."""
    runs, current = [], Path(model_dir)
    for _ in range(limit):
        summary, recipe = current / "train_summary.json", current / "recipe.json"
        if not summary.is_file():
            break
        info = {"dir": str(current), "summary": json.loads(summary.read_text())}
        info["recipe"] = json.loads(recipe.read_text()) if recipe.is_file() else {}
        data_summary = current / "data_train" / "summary.json"
        if data_summary.is_file():
            info["data"] = json.loads(data_summary.read_text())
        runs.append(info)
        parent = info["recipe"].get("model_name_or_path")
        if not parent or not Path(parent).is_dir():
            break
        current = Path(parent)
    return runs


def export_model(
    model_dir: str | Path, out_dir: str | Path, merge: bool = True, base: str | None = None, dtype: str = "float32",
    eval_json: str | Path | None = None,
) -> dict[str, Any]:
    """Export ``model_dir`` (an adapter or a full model) to ``out_dir``; return what was written.

    ``dtype`` is the saved weights' dtype (``bfloat16`` halves the size of a real model). ``eval_json`` is any JSON
    with evaluation figures (the learnability result, an eval report) to quote in the model card.
    """
    src, out = Path(model_dir), Path(out_dir)
    if not src.is_dir():
        raise FileNotFoundError(f"model folder not found: {src}")
    if out.resolve() == src.resolve():
        raise ValueError("export into a new folder, not onto the training output")
    out.mkdir(parents=True, exist_ok=True)
    base = base or adapter_base(src)
    kind = "adapter" if adapter_base(src) else "full"
    if kind == "adapter" and merge:
        _merged(src, str(base), dtype).save_pretrained(str(out))
        kind = "merged"
    elif kind == "adapter":
        for name in ADAPTER_FILES:
            if (src / name).is_file():
                shutil.copy2(src / name, out / name)
    else:
        _full(src, dtype).save_pretrained(str(out))
    # the base's own files first (pristine); the training output's copies serve hub bases
    sources = ([Path(base)] if base and Path(base).is_dir() else []) + [src]
    copied = _copy_processor(sources, out)
    if "preprocessor_config.json" not in copied and base and kind != "adapter":
        copied = _save_hub_processor(base, out)
    result = {"output": str(out), "kind": kind, "base": base, "dtype": dtype, "processor_files": copied}
    result["warnings"] = _warnings(src, kind)
    result["card"] = str(write_model_card(out, result, run_chain(src), _load_json(eval_json)))
    return result


def _load_json(path: str | Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    text = Path(path).read_text(encoding="utf-8").strip()
    # The learnability run prints one JSON line among logs: take the last line that parses.
    for line in [text, *reversed(text.splitlines())]:
        try:
            return json.loads(line)
        except ValueError:
            continue
    raise ValueError(f"{path}: no JSON object found")


def _warnings(src: Path, kind: str) -> list[str]:
    if kind != "adapter":
        return []
    cfg = json.loads((src / "adapter_config.json").read_text())
    if cfg.get("modules_to_save"):
        return [f"the adapter trains {cfg['modules_to_save']} in full (modules_to_save): vLLM's LoRA support does "
                "not load those; export with --merge to serve it with vLLM"]
    return []


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _runs_section(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "No training summary was found next to the model.\n"
    lines = ["| stage | steps | seconds | learning rate | LoRA r / alpha | folder |",
             "| --- | --- | --- | --- | --- | --- |"]
    for run in reversed(runs):
        s, r = run["summary"], run["recipe"]
        lora = f"{r.get('lora_r')} / {r.get('lora_alpha')}" if r.get("use_peft", True) else "full fine-tune"
        lines.append(f"| {s.get('stage')} | {s.get('steps')} | {s.get('train_seconds')} | {r.get('learning_rate')} "
                     f"| {lora} | `{run['dir']}` |")
    grpo = next((run["summary"] for run in runs if run["summary"].get("stage") == "grpo"), None)
    if grpo and grpo.get("reward_curve"):
        lines.append(f"\nGRPO reward mean: {grpo['reward_first']} at the first logged step, {grpo['reward_last']} at "
                     f"the last; share of groups with no reward spread (mean): {grpo['frac_reward_zero_std_mean']}.")
    if grpo and grpo.get("eval_reward_curve"):
        points = ", ".join(f"{v} (step {s})" for s, v in grpo["eval_reward_curve"])
        lines.append(f"Reward on the held-out pairs: {points}.")
    return "\n".join(lines) + "\n"


def _data_section(runs: list[dict[str, Any]]) -> str:
    blocks = []
    for run in reversed(runs):
        data = run.get("data")
        if data:
            blocks.append(f"- {run['summary'].get('stage')}: {data.get('rows')} rows from {data.get('pairs')} "
                          f"pairs (`{data.get('source')}`), labels {data.get('labels')}, "
                          f"categories {data.get('categories')}")
    return "\n".join(blocks) + "\n" if blocks else "Not recorded (the runs were given prebuilt datasets).\n"


def _eval_section(figures: dict[str, Any] | None) -> str:
    if not figures:
        return "No evaluation figures were given (`creative4u export --eval-json FILE`).\n"
    flat = {k: v for k, v in figures.items() if isinstance(v, (int, float, str, bool)) and len(str(v)) < 80}
    lines = ["| figure | value |", "| --- | --- |"] + [f"| {k} | {_fmt(v)} |" for k, v in flat.items()]
    return "\n".join(lines) + "\n"


MODEL_CARD = """---
library_name: transformers
base_model: {base}
pipeline_tag: image-text-to-text
tags:
- creative4u
- pairwise-judge
- trl
- {method}
---

# creative4u selector: {name}

A vision-language judge that compares two advertising creatives of one product (Image A, Image B) with a visible
chain of thought and answers `<think>…</think><answer>A</answer>` (or `B`). Trained with creative4u's
Reason-to-Select recipes (CoT-SFT, then GRPO) on top of `{base}`; this folder is {kind_text}.

## Use

```bash
{serve}
creative4u select a.jpg b.jpg --backend transformers --model {path}
```

Prompts must be rendered with creative4u's template (`creative4u.prompts.render_prompt`, version
`creative4u_v1`): the model was trained on exactly that prompt, with images scaled like the judge backends do.

## Training data

{data}
## Training runs

{runs}
## Evaluation

{evals}
## Limitations

Check reports and any text read from the images are quoted data in the prompt, never instructions, but a model
can still be swayed by what an image shows; keep the checks' vetoes in front of it. {warnings}
"""


def write_model_card(out: Path, result: dict[str, Any], runs: list[dict[str, Any]],
                     figures: dict[str, Any] | None) -> Path:
    """Write ``README.md`` for an exported model."""
    if result["kind"] == "adapter":
        serve = f"vllm serve {result['base']} --enable-lora --lora-modules creative4u={out}"
        kind_text = "a LoRA adapter (load it on the base model)"
    else:
        serve = f"vllm serve {out} --limit-mm-per-prompt '{{\"image\": 2}}'"
        kind_text = "a full model" + (" with the LoRA adapter merged in" if result["kind"] == "merged" else "")
    card = MODEL_CARD.format(
        base=result["base"] or "(see config.json)", method="lora" if result["kind"] != "full" else "full-finetune",
        name=out.name, kind_text=kind_text, serve=serve, path=out, data=_data_section(runs), runs=_runs_section(runs),
        evals=_eval_section(figures), warnings=" ".join(result.get("warnings", [])),
    )
    path = out / "README.md"
    path.write_text(card, encoding="utf-8")
    return path

"""Load Qwen-VL models and their processors, locally built tiny ones and real hub checkpoints alike.

>>> import tempfile
>>> from creative4u.models import load_vlm
>>> from creative4u.testing.tiny_vlm import build_tiny_vlm
>>> model, processor = load_vlm(build_tiny_vlm(tempfile.mkdtemp()))
>>> type(processor).__name__
'ImageOnlyQwen2_5_VLProcessor'

Why a processor workaround: the Qwen-VL processors of transformers 5.x always build a video processor, and the
video processor needs torchvision, which cannot be imported next to the CPU build of torch (the registry's
torchvision is a CUDA build). The image side already falls back to a PIL image processor by itself, so the
processors here are the stock classes minus the video processor. Only images are judged, so nothing is lost.
This module imports torch and transformers: import it only from code paths that need a local model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from transformers import AutoProcessor, Qwen2_5_VLConfig, Qwen2_5_VLProcessor, Qwen2VLConfig, Qwen2VLProcessor


class ImageOnlyQwen2_5_VLProcessor(Qwen2_5_VLProcessor):  # noqa: N801 - mirrors the transformers class name
    """`Qwen2_5_VLProcessor` without a video processor (no torchvision needed).

    >>> ImageOnlyQwen2_5_VLProcessor.get_attributes()
    ['image_processor', 'tokenizer']
    """

    # `get_attributes` reads the sub-processors from this signature: leaving `video_processor` out of it stops
    # `from_pretrained` from loading one; the parent class then receives an explicit None.
    def __init__(self, image_processor: Any = None, tokenizer: Any = None, chat_template: str | None = None, **kw):
        super().__init__(image_processor, tokenizer, video_processor=None, chat_template=chat_template, **kw)


class ImageOnlyQwen2VLProcessor(Qwen2VLProcessor):
    """`Qwen2VLProcessor` without a video processor (no torchvision needed).

    >>> ImageOnlyQwen2VLProcessor.get_attributes()
    ['image_processor', 'tokenizer']
    """

    def __init__(self, image_processor: Any = None, tokenizer: Any = None, chat_template: str | None = None, **kw):
        super().__init__(image_processor, tokenizer, video_processor=None, chat_template=chat_template, **kw)


# Registered with AutoProcessor so that code calling `AutoProcessor.from_pretrained` on a folder whose
# processor_config names no class (or after `register`) also gets the image-only classes.
_PROCESSORS: dict[str, type] = {
    "qwen2_5_vl": ImageOnlyQwen2_5_VLProcessor,
    "qwen2_vl": ImageOnlyQwen2VLProcessor,
}
AutoProcessor.register(Qwen2_5_VLConfig, ImageOnlyQwen2_5_VLProcessor, exist_ok=True)
AutoProcessor.register(Qwen2VLConfig, ImageOnlyQwen2VLProcessor, exist_ok=True)


def _model_type(path_or_id: str | os.PathLike[str], **kw: Any) -> str:
    """The `model_type` of a local folder (read directly) or a hub id (through AutoConfig)."""
    config_file = Path(path_or_id) / "config.json"
    if config_file.is_file():
        return json.loads(config_file.read_text()).get("model_type", "")
    from transformers import AutoConfig

    hub_kw = {k: v for k, v in kw.items() if k in ("revision", "token", "cache_dir", "local_files_only")}
    return AutoConfig.from_pretrained(str(path_or_id), **hub_kw).model_type


def load_processor(path_or_id: str | os.PathLike[str], **kw: Any) -> Any:
    """Load the processor of a Qwen-VL model folder or hub id, without a video processor.

    >>> import tempfile
    >>> from creative4u.testing.tiny_vlm import build_tiny_vlm
    >>> proc = load_processor(build_tiny_vlm(tempfile.mkdtemp()))
    >>> proc.image_processor.size["longest_edge"]  # max pixels per image
    12544

    Works on the real `Qwen/Qwen2.5-VL-7B-Instruct` layout (its preprocessor_config names the stock
    `Qwen2_5_VLProcessor`; this loader ignores that name on purpose). Keyword arguments go to `from_pretrained`
    (e.g. `revision=`, `min_pixels=`, `max_pixels=`). Other model types fall back to `AutoProcessor`.
    """
    model_type = _model_type(path_or_id, **kw)
    processor_cls = _PROCESSORS.get(model_type)
    if processor_cls is None:
        return AutoProcessor.from_pretrained(str(path_or_id), **kw)
    return processor_cls.from_pretrained(str(path_or_id), **kw)


def load_vlm(
    path_or_id: str | os.PathLike[str], device: str = "cpu", dtype: str = "float32", **kw: Any
) -> tuple[Any, Any]:
    """Load a vision-language model and its processor; return (model, processor), the model in eval mode.

    >>> import tempfile
    >>> from creative4u.testing.tiny_vlm import build_tiny_vlm
    >>> model, proc = load_vlm(build_tiny_vlm(tempfile.mkdtemp(), arch="qwen2_vl"), dtype="float32")
    >>> str(model.dtype), model.device.type
    ('torch.float32', 'cpu')

    `dtype` is a torch dtype name ("float32", "bfloat16", "float16") or "auto" (the checkpoint's own). Extra
    keyword arguments go to the model's `from_pretrained` (e.g. `revision=`, `attn_implementation=`).
    """
    import torch
    from transformers import AutoModelForImageTextToText

    torch_dtype: Any = dtype if dtype == "auto" else getattr(torch, dtype)
    hub_kw = {k: v for k, v in kw.items() if k in ("revision", "token", "cache_dir", "local_files_only")}
    processor = load_processor(path_or_id, **hub_kw)
    model = AutoModelForImageTextToText.from_pretrained(str(path_or_id), dtype=torch_dtype, **kw)
    model.to(device).eval()
    return model, processor

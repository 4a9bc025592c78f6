"""The disgust model folder's format, without torch: file names, ``disgust.json``, preprocessing, fingerprints.

>>> meta = DisgustMeta(["animal", "none"], "none", 8)
>>> meta.negative_index, meta.positive_indices
(1, [0])

Both sides of a model folder read this module: the ``disgust`` check (ONNX or torch inference) and the recipe
that writes the folder (``creative4u train disgust``), so neither imports the other.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

META_FILE = "disgust.json"
WEIGHTS_FILE = "model.safetensors"
ONNX_FILE = "model.onnx"
FORMAT = "creative4u-disgust/1"


class DisgustModelError(ValueError):
    """A model folder is missing or malformed; the message names the folder and what is wrong."""


@dataclass
class DisgustMeta:
    """What ``disgust.json`` says about a trained model: classes, input geometry, calibrated threshold."""

    classes: list[str]
    negative_class: str
    image_size: int
    mean: list[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    std: list[float] = field(default_factory=lambda: [0.5, 0.5, 0.5])
    threshold: float = 0.5
    fingerprint: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dir(cls, model_dir: str | os.PathLike) -> DisgustMeta:
        """Read and validate ``model_dir/disgust.json``."""
        path = Path(model_dir) / META_FILE
        if not path.is_file():
            raise DisgustModelError(
                f"{model_dir}: no {META_FILE} (not a folder written by `creative4u train disgust`)")
        try:
            raw = json.loads(path.read_text())
            meta = cls(raw["classes"], raw["negative_class"], int(raw["image_size"]), raw.get("mean", [0.5] * 3),
                       raw.get("std", [0.5] * 3), float(raw.get("threshold", 0.5)), raw.get("fingerprint", ""), raw)
        except (ValueError, KeyError, TypeError) as err:
            raise DisgustModelError(f"{path}: malformed ({type(err).__name__}: {err})") from err
        if raw.get("format") != FORMAT or meta.negative_class not in meta.classes or len(meta.classes) < 2:
            raise DisgustModelError(f"{path}: not a {FORMAT} model description")
        return meta

    @property
    def negative_index(self) -> int:
        return self.classes.index(self.negative_class)

    @property
    def positive_indices(self) -> list[int]:
        return [i for i, c in enumerate(self.classes) if c != self.negative_class]


def preprocess(images: list[Image.Image], size: int, mean: list[float], std: list[float]) -> np.ndarray:
    """RGB images -> an ``(N, 3, size, size)`` float32 batch, as training saw them.

    >>> preprocess([Image.new("RGB", (40, 20), "white")], 8, [0.5] * 3, [0.5] * 3).shape
    (1, 3, 8, 8)

    The whole image is resized to a square (no centre crop): a crop could cut away the very region that disgusts.
    """
    batch = np.stack([resize_uint8(im, size) for im in images]).astype(np.float32) / 255.0
    batch = (batch - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


def resize_uint8(image: Image.Image, size: int) -> np.ndarray:
    """``size x size x 3`` uint8 pixels (bilinear, antialiased when shrinking)."""
    return np.asarray(image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)


def model_fingerprint(paths: list[Path]) -> str:
    """A short content hash of model files (written into ``disgust.json`` at save time).

    >>> len(model_fingerprint([]))
    16
    """
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.read_bytes())
    return digest.hexdigest()[:16]

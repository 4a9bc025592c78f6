"""A learned map of translucent lettering: the text check's second look for faint watermarks that OCR cannot box.

>>> from PIL import Image
>>> from creative4u.images import LoadedImage
>>> reading = lettering_region(LoadedImage.from_pil(Image.new("RGB", (64, 48), "white")))
>>> reading["cells"], reading["found"]
(0, False)

PP-OCR's DB detector was trained on text meant to be read; a word at a third opacity drawn across a busy picture
gives it a probability map too weak to box, or a box merged with the product the word crosses, which recognition
then reads as noise (the diagonal watermark of ``benchmarks/eval_text_styles.py``: 66% found by OCR on the untuned
clean pictures, 50% on GCompris' small photos). The map is a fully convolutional net of 56k parameters (six 3x3
layers, two of stride 2, dilations up to 8) giving a lettering probability for every 4 x 4 px cell of the picture
read at 384 px on its longer side (smaller pictures enlarged to it). It was trained by
``scripts/train_lettering_map.py`` on synthetic translucent marks (DejaVu and Liberation faces, made-up words, any
angle, opacity, colour and tiling) over the clean set's dev pictures and text-free game, paper and terrain textures
from Debian packages no split of the clean set uses, then again with its own false marks on those textures as hard
negatives. A picture reads as marked when the largest connected region of cells at probability >= 0.5 holds more
than ``cut`` cells, the cut set on pictures kept out of training (see ``lettering_map.json``). It runs on the ONNX
runtime the OCR already needs: no torch.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from creative4u.images import LoadedImage

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_FILE, META_FILE = WEIGHTS_DIR / "lettering_map.onnx", WEIGHTS_DIR / "lettering_map.json"
READ_SIDE = 384  # the longer side the map reads (the scale its training crops were drawn at)
CELL = 4  # picture pixels per map cell, each way
PROB = 0.5  # a cell is lettering at this probability


class LetteringMapError(RuntimeError):
    """The shipped map or its metadata cannot be read."""


@lru_cache(maxsize=4)
def _session(path: str) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1
    try:
        return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - a missing or damaged file reads the same to the caller
        raise LetteringMapError(f"lettering map {path}: {err}") from err


@lru_cache(maxsize=4)
def map_meta(path: str | None = None) -> dict[str, Any]:
    """The shipped map's metadata: its cut (cells), how it was calibrated and trained.

    >>> map_meta()["cut_cells"] > 0
    True
    """
    path = path or str(META_FILE)
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise LetteringMapError(f"lettering map metadata {path}: {err}") from err


def reading_copy(rgb: np.ndarray, side: int = READ_SIDE) -> np.ndarray:
    """``rgb`` with its longer side at ``side`` px (area-averaged down, bilinear up), as the map reads it.

    >>> reading_copy(np.zeros((120, 240, 3), np.uint8)).shape
    (192, 384, 3)
    """
    k = side / max(rgb.shape[:2])
    if abs(k - 1) < 1e-6:
        return rgb
    size = (max(CELL, round(rgb.shape[1] * k)), max(CELL, round(rgb.shape[0] * k)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)


def normalise(x: Any) -> Any:
    """Pixel values (0-255, a numpy array or a torch tensor) as the map takes them; training uses the same scaling.

    >>> normalise(np.array([0.0, 128.0, 255.0])).tolist()
    [-2.0, 0.0, 1.984375]
    """
    return (x - 128.0) / 64.0


def lettering_map(rgb: np.ndarray, model: Path | str | None = None) -> np.ndarray:
    """Lettering probability per 4 x 4 px cell of ``rgb`` (uint8 H x W x 3, read as it is).

    >>> lettering_map(np.full((64, 96, 3), 128, np.uint8)).shape
    (16, 24)
    """
    x = normalise(rgb.astype(np.float32).transpose(2, 0, 1)[None])
    session = _session(str(model or MODEL_FILE))  # InferenceSession.run is thread-safe: no lock needed
    logit = session.run(None, {session.get_inputs()[0].name: np.ascontiguousarray(x)})[0]
    return 1.0 / (1.0 + np.exp(-logit[0, 0].astype(np.float64)))


def regions(prob: np.ndarray, prob_cut: float = PROB) -> list[tuple[int, tuple[int, int, int, int]]]:
    """8-connected regions of cells at ``prob_cut`` or above, largest first: (cells, box in cells: x0, y0, x1, y1).

    >>> p = np.zeros((8, 8)); p[2:4, 1:6] = 0.9; p[6, 6] = 0.8
    >>> regions(p)
    [(10, (1, 2, 6, 4)), (1, (6, 6, 7, 7))]
    """
    n, _, stats, _ = cv2.connectedComponentsWithStats((prob >= prob_cut).astype(np.uint8), connectivity=8)
    out = [(int(a), (int(x), int(y), int(x + w), int(y + h))) for x, y, w, h, a in stats[1:n]]
    return sorted(out, key=lambda r: -r[0])


def lettering_region(img: LoadedImage, cut: int | None = None, model: Path | str | None = None) -> dict[str, Any]:
    """The map's reading of ``img``: the largest lettering region (cells, share of the map, box in original pixels),
    the peak probability, whether the region is over ``cut`` cells (the shipped cut when None) and the map itself.
    ``model`` is an ONNX file (the shipped map when None)."""
    cut = int(map_meta()["cut_cells"]) if cut is None else int(cut)
    small = reading_copy(img.rgb(READ_SIDE))
    prob = lettering_map(small, model)
    found = regions(prob)
    cells = found[0][0] if found else 0
    sx, sy = img.size[0] / prob.shape[1], img.size[1] / prob.shape[0]
    # Every region of at least an eighth of the largest is shown: a word crossing a product often reads as two or more.
    boxes = [[int(b[0] * sx), int(b[1] * sy), int(np.ceil(b[2] * sx)), int(np.ceil(b[3] * sy))]
             for n, b in found if n >= max(cells / 8, 16)]
    return {"cells": cells, "share": round(cells / prob.size, 4), "peak": round(float(prob.max()), 3), "cut": cut,
            "found": cells > cut, "box": boxes[0] if boxes else None, "boxes": boxes, "map": prob}

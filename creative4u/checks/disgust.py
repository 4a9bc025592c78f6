"""The ``disgust`` check: a trained image classifier (animal / human / object / none) with a heat map as evidence.

>>> from PIL import Image
>>> from creative4u.images import LoadedImage
>>> report = Disgust(model_dir="").run(LoadedImage.from_pil(Image.new("RGB", (32, 32))))
>>> report.status, report.flagged
('unavailable', False)

No weights can ship with the product, so the check loads a model folder written by ``creative4u train disgust``
(``disgust.json`` + ``model.safetensors`` and/or ``model.onnx``), named by the ``model_dir`` option or the
``CREATIVE4U_DISGUST_MODEL`` environment variable. Without one the report says "not available" — never "safe".

The score is ``1 - P(none)``: the probability that the image belongs to any disgust category. The default
threshold is the one calibrated at training time for a target precision (``disgust.json``); a profile may set
its own. Backends: ``onnx`` (onnxruntime, no torch) or ``torch`` (transformers model; its heat map is Grad-CAM);
``auto`` takes ONNX when the file exists. The ONNX graph returns the class-activation maps of the head, which for
a global-average-pool + linear head equal Grad-CAM at the head's input, so both backends draw the same evidence.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from creative4u.checks.base import Check, Measurement, heatmap_evidence, unavailable
from creative4u.checks.disgust_format import (  # noqa: F401 - re-exported: the check's public names
    FORMAT,
    META_FILE,
    ONNX_FILE,
    WEIGHTS_FILE,
    DisgustMeta,
    DisgustModelError,
    model_fingerprint,
    preprocess,
    resize_uint8,
)
from creative4u.images import LoadedImage

ENV_VAR = "CREATIVE4U_DISGUST_MODEL"
BACKENDS = ("auto", "onnx", "torch")
HEATMAP_SIDE = 64  # the class-activation map is tiny (stride 32); upsampled smoothly so the overlay reads well


def disgust_score(probs: np.ndarray, meta: DisgustMeta) -> tuple[float, str]:
    """``(1 - P(negative), most likely disgust category)`` of one probability vector.

    >>> meta = DisgustMeta(["animal", "none"], "none", 8)
    >>> disgust_score(np.array([0.7, 0.3]), meta)
    (0.7, 'animal')
    """
    top = max(meta.positive_indices, key=lambda i: probs[i])
    return round(float(1.0 - probs[meta.negative_index]), 6), meta.classes[top]


Explainer = Callable[[np.ndarray], int]  # a probability vector -> the class whose heat map to draw


class Runner(Protocol):
    """Inference on a preprocessed batch: probabilities ``(N, K)`` and, when ``explain`` is given, one heat map
    per image for the class ``explain(probs[i])`` picks."""

    def infer(self, batch: np.ndarray, explain: Explainer | None = None) -> tuple[np.ndarray, list[np.ndarray]]: ...


class OnnxRunner:
    """onnxruntime on ``model.onnx`` (outputs ``probs`` and ``cams``); imports no torch."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before the import: no background telemetry lookups
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.lock = threading.Lock()

    def infer(self, batch: np.ndarray, explain: Explainer | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        with self.lock:
            probs, cams = self.session.run(["probs", "cams"], {"pixel_values": batch.astype(np.float32)})
        heat = [np.maximum(cams[i, explain(p)], 0.0) for i, p in enumerate(probs)] if explain else []
        return probs, heat


class TorchRunner:
    """The transformers model in eval mode; heat maps by Grad-CAM (``cam_layer``: ``head`` or ``backbone``)."""

    def __init__(self, model_dir: Path, threads: int = 0, cam_layer: str = "head") -> None:
        from creative4u.checks.disgust_model import load_disgust_model

        self.model, _ = load_disgust_model(model_dir)
        self.cam_layer, self.threads = cam_layer, int(threads)
        self.lock = threading.Lock()

    def infer(self, batch: np.ndarray, explain: Explainer | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        import torch

        from creative4u.checks.disgust_model import torch_threads
        from creative4u.checks.gradcam import grad_cam

        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        with self.lock, torch_threads(self.threads):
            with torch.no_grad():
                probs = self.model(x)[0].numpy()
            if not explain:
                return probs, []
            heat = [grad_cam(self.model, x[i : i + 1], explain(p), layer=self.cam_layer) for i, p in enumerate(probs)]
        return probs, heat


_RUNNERS: dict[tuple[str, str, str, int, str], Runner] = {}
_RUNNERS_LOCK = threading.Lock()


def choose_backend(model_dir: Path, backend: str) -> str:
    """Resolve ``auto`` and check that the files the backend needs exist."""
    if backend not in BACKENDS:
        raise DisgustModelError(f"disgust backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "auto":
        backend = "onnx" if (model_dir / ONNX_FILE).is_file() else "torch"
    needed = ONNX_FILE if backend == "onnx" else WEIGHTS_FILE
    if not (model_dir / needed).is_file():
        raise DisgustModelError(f"{model_dir}: backend {backend!r} needs {needed}, which is missing")
    return backend


def load_runner(model_dir: str | os.PathLike, backend: str = "auto", threads: int = 1,
                cam_layer: str = "head") -> tuple[Runner, DisgustMeta, str]:
    """A cached runner for a model folder: ``(runner, meta, resolved backend)``."""
    path = Path(model_dir).expanduser().resolve()
    meta = DisgustMeta.from_dir(path)
    resolved = choose_backend(path, backend)
    key = (str(path), meta.fingerprint, resolved, int(threads), cam_layer)
    with _RUNNERS_LOCK:
        if key not in _RUNNERS:
            onnx = resolved == "onnx"
            _RUNNERS[key] = OnnxRunner(path / ONNX_FILE, threads) if onnx else TorchRunner(path, threads, cam_layer)
        return _RUNNERS[key], meta, resolved


def predict_images(images: list[Image.Image], model_dir: str | os.PathLike, backend: str = "auto",
                   threads: int = 1, batch_size: int = 32) -> tuple[np.ndarray, DisgustMeta]:
    """Class probabilities ``(N, K)`` for many images (active learning, evaluation); no heat maps."""
    runner, meta, _ = load_runner(model_dir, backend, threads)
    out = [np.zeros((0, len(meta.classes)), np.float32)]
    for start in range(0, len(images), batch_size):
        batch = preprocess(images[start : start + batch_size], meta.image_size, meta.mean, meta.std)
        out.append(runner.infer(batch)[0])
    return np.concatenate(out), meta


def upsample_heat(heat: np.ndarray, side: int = HEATMAP_SIDE) -> np.ndarray:
    """Bicubic upsampling of a small map (values >= 0), for a smooth overlay."""
    im = Image.fromarray(np.asarray(heat, np.float32), mode="F").resize((side, side), Image.Resampling.BICUBIC)
    return np.maximum(np.asarray(im), 0.0)


class Disgust(Check):
    """Disgusting content (animal-, human-, object-related) from a trained classifier; see the module docstring."""

    name = "disgust"
    description = "Images that cause nausea (wounds, insects, mould, dirt...): trained classifier with heat map."
    default_threshold = 0.5
    version = "1"
    option_names = ("model_dir", "backend", "threads", "cam_layer", "heatmap")

    def __init__(self, threshold: float | None = None, model_dir: str | None = None, backend: str = "auto",
                 threads: int = 1, cam_layer: str = "head", heatmap: bool = True, **options: Any) -> None:
        super().__init__(threshold, model_dir=model_dir, backend=backend, threads=threads, cam_layer=cam_layer,
                         heatmap=heatmap, **options)
        if backend not in BACKENDS or cam_layer not in ("head", "backbone"):
            raise ValueError(f"check 'disgust': backend must be one of {BACKENDS} and cam_layer 'head' or 'backbone'")
        self.model_dir = model_dir if model_dir is not None else os.environ.get(ENV_VAR, "")
        self.backend, self.threads, self.cam_layer, self.heatmap = backend, int(threads), cam_layer, heatmap
        self.meta = self._read_meta()
        if threshold is None and self.meta is not None:
            self.threshold = self.meta.threshold  # the threshold calibrated for the target precision

    def _read_meta(self) -> DisgustMeta | None:
        if not self.model_dir:
            return None
        try:
            return DisgustMeta.from_dir(self.model_dir)
        except DisgustModelError:
            return None  # reported by measure() as "not available", not at construction (profiles must load)

    def cache_key(self) -> str:
        # The model's fingerprint is part of the key: retraining into the same folder must not reuse old scores.
        fingerprint = self.meta.fingerprint if self.meta else "none"
        return f"{super().cache_key()}#{self.model_dir}#{fingerprint}"

    def measure(self, img: LoadedImage) -> Measurement:
        if not self.model_dir:
            return unavailable(f"no model configured (check option model_dir or ${ENV_VAR})")
        try:
            runner, meta, backend = load_runner(self.model_dir, self.backend, self.threads, self.cam_layer)
        except DisgustModelError as err:
            return unavailable(str(err), model_dir=str(self.model_dir))
        except ImportError as err:
            return unavailable(f"{self.backend} backend needs {err.name}: pip install 'creative4u[disgust]'")
        batch = preprocess([img.image], meta.image_size, meta.mean, meta.std)
        explain = (lambda p: meta.classes.index(disgust_score(p, meta)[1])) if self.heatmap else None
        probs, heat = runner.infer(batch, explain)
        score, category = disgust_score(probs[0], meta)
        return self._measurement(probs[0], score, category, meta, backend, heat)

    def _measurement(self, probs: np.ndarray, score: float, category: str, meta: DisgustMeta, backend: str,
                     heat: list[np.ndarray]) -> Measurement:
        probabilities = {c: round(float(p), 6) for c, p in zip(meta.classes, probs, strict=True)}
        values = {"probabilities": probabilities, "category": category, "backend": backend,
                  "calibrated_threshold": meta.threshold, "model_dir": str(self.model_dir),
                  "calibration": meta.raw.get("calibration", {}), "model_fingerprint": meta.fingerprint}
        evidence = []
        if heat:
            how = "Grad-CAM" if backend == "torch" else "class activation map"
            label = f"{how}: where the model sees '{category}'"
            evidence.append(heatmap_evidence(upsample_heat(heat[0]), label=label))
        others = ", ".join(f"{c} {p:.2f}" for c, p in probabilities.items() if c != meta.negative_class)
        summary = f"disgust score {score:.2f} (most likely '{category}'; {others}; calibrated threshold " \
                  f"{meta.threshold:.2f})"
        return Measurement(score=score, values=values, evidence=evidence, summary=summary)

"""Export a disgust model to ONNX and prove the file computes what the torch model computes.

>>> import tempfile
>>> from creative4u.checks.disgust_model import DisgustModel, build_stage
>>> model = DisgustModel([build_stage({"backbone": "tiny"}, 2, 64)], negative_index=1).eval()
>>> path = export_onnx(model, 64, Path(tempfile.mkdtemp()) / "model.onnx")
>>> verify_onnx(model, path, np.random.default_rng(0).normal(size=(2, 3, 64, 64)))["max_abs_diff"] < 1e-4
True

The graph takes ``pixel_values`` (``N x 3 x S x S``, dynamic batch, fixed side ``S``) and returns ``probs``
(``N x K``, the cascade rule included) and ``cams`` (stage 1's class-activation maps, ``N x K x h x w``). It is
traced with the TorchScript exporter (``dynamo=False``), which needs no ``onnxscript``; MobileNet-V2's TF-style
padding is computed from the input size during tracing, hence the fixed side.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from creative4u.checks.disgust_format import META_FILE, ONNX_FILE


def export_onnx(model: Any, image_size: int, out_path: str | Path, opset: int = 17) -> Path:
    """Trace ``model`` (a :class:`~creative4u.checks.disgust_model.DisgustModel`) into an ONNX file."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 3, image_size, image_size)
    axes = {"pixel_values": {0: "batch"}, "probs": {0: "batch"}, "cams": {0: "batch"}}
    model.eval()
    with warnings.catch_warnings(), torch.no_grad():
        # The tracer warns that MobileNet-V2's padding arithmetic becomes constants: expected, the side is fixed.
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (dummy,), str(out), dynamo=False, input_names=["pixel_values"],
                          output_names=["probs", "cams"], dynamic_axes=axes, opset_version=opset)
    return out


def verify_onnx(model: Any, onnx_path: str | Path, inputs: np.ndarray, threads: int = 1) -> dict[str, Any]:
    """Run torch and onnxruntime on the same batch: max |difference| of probabilities and of the maps."""
    from creative4u.checks.disgust import OnnxRunner

    batch = np.ascontiguousarray(inputs, dtype=np.float32)
    runner = OnnxRunner(Path(onnx_path), threads)
    with runner.lock:
        probs_ort, cams_ort = runner.session.run(["probs", "cams"], {"pixel_values": batch})
    model.eval()
    with torch.no_grad():
        probs_pt, cams_pt = (t.numpy() for t in model(torch.from_numpy(batch)))
    cam_scale = max(float(np.abs(cams_pt).max()), 1e-12)
    return {"max_abs_diff": float(np.abs(probs_ort - probs_pt).max()),
            "max_rel_diff_cams": float(np.abs(cams_ort - cams_pt).max() / cam_scale),
            "n_images": int(batch.shape[0]), "argmax_agree": bool((probs_ort.argmax(1) == probs_pt.argmax(1)).all())}


def export_model_dir(model_dir: str | Path, inputs: np.ndarray | None = None, opset: int = 17,
                     tolerance: float = 1e-4, seed: int = 0) -> dict[str, Any]:
    """Export ``model_dir/model.onnx``, verify it, record the check in ``disgust.json``; raise if it disagrees.

    ``inputs`` (real, preprocessed images) are verified together with a batch of random inputs.
    """
    from creative4u.checks.disgust_model import load_disgust_model

    path = Path(model_dir)
    model, meta = load_disgust_model(path)
    size = int(meta["image_size"])
    rand = np.random.default_rng(seed).normal(size=(4, 3, size, size)).astype(np.float32)
    batch = rand if inputs is None or len(inputs) == 0 else np.concatenate([np.asarray(inputs, np.float32), rand])
    onnx_path = export_onnx(model, size, path / ONNX_FILE, opset)
    result = {**verify_onnx(model, onnx_path, batch), "opset": opset, "tolerance": tolerance,
              "real_images": 0 if inputs is None else int(len(inputs)), "bytes": onnx_path.stat().st_size}
    meta["onnx"] = result
    (path / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
    if result["max_abs_diff"] > tolerance:
        onnx_path.unlink()  # a file that disagrees with torch must not be picked up by the check's "auto" backend
        raise RuntimeError(f"ONNX export of {path} differs from torch by {result['max_abs_diff']:.2e} "
                           f"(> tolerance {tolerance:g}); model.onnx removed")
    return result

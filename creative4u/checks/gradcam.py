"""Grad-CAM (Selvaraju et al., 2017) for a disgust model: which region pushed the class score up.

>>> import torch
>>> from creative4u.checks.disgust_model import DisgustModel, build_stage
>>> model = DisgustModel([build_stage({"backbone": "tiny"}, 2, 64)], negative_index=1).eval()
>>> heat = grad_cam(model, torch.rand(1, 3, 64, 64), class_index=0)
>>> heat.shape, bool(heat.min() >= 0)
((2, 2), True)

The map is ``ReLU(sum_c alpha_c * A_c)`` with ``alpha_c`` the spatial mean of ``d logit_k / d A_c``, where ``A`` is
the output of the chosen layer of stage 1: ``head`` (the CBAM output that the head pools — there Grad-CAM equals
the class-activation map the ONNX export computes, up to a constant) or ``backbone`` (the backbone's last feature
map, before attention). Gradients come from forward/backward hooks on the layer, as in the original method.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

LAYERS = ("head", "backbone")


def _layer(model: Any, layer: str) -> torch.nn.Module:
    stage = model.stages[0]
    if layer == "head":
        return stage.attention
    if layer == "backbone":
        return stage.backbone
    raise ValueError(f"Grad-CAM layer must be one of {', '.join(LAYERS)}, got {layer!r}")


def _tensor(output: Any) -> torch.Tensor:
    """The feature map inside a module output (a tensor or a transformers ModelOutput)."""
    if isinstance(output, torch.Tensor):
        return output
    return output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]


def grad_cam(model: Any, x: torch.Tensor, class_index: int, layer: str = "head") -> np.ndarray:
    """The Grad-CAM map ``(H, W)`` (>= 0, unnormalised) of ``class_index``'s stage-1 logit for one image."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"grad_cam takes one image as a 1 x 3 x H x W tensor, got {tuple(x.shape)}")
    captured: dict[str, torch.Tensor] = {}

    def hook(_module: torch.nn.Module, _inputs: Any, output: Any) -> None:
        fmap = _tensor(output)
        fmap.retain_grad()
        captured["fmap"] = fmap

    handle = _layer(model, layer).register_forward_hook(hook)
    try:
        with torch.enable_grad():
            inp = x.detach().clone().requires_grad_(True)  # a leaf with grad, so frozen weights still give maps
            logits, _ = model.stages[0](inp)
            model.zero_grad(set_to_none=True)
            logits[0, class_index].backward()
    finally:
        handle.remove()
    fmap = captured["fmap"]
    weights = fmap.grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * fmap).sum(dim=1))[0]
    model.zero_grad(set_to_none=True)
    return cam.detach().numpy().astype(np.float32)

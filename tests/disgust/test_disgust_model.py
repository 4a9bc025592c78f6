"""The disgust network: CBAM, the cascade rule, Grad-CAM against the class-activation map, save/load, losses."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import numpy as np  # noqa: E402

from creative4u.checks.disgust_model import (  # noqa: E402
    CBAM,
    DisgustModel,
    build_stage,
    load_disgust_model,
    save_disgust_model,
)
from creative4u.checks.gradcam import grad_cam  # noqa: E402
from creative4u.train.disgust.train import ema_update, ohem, per_sample_loss, sigmoid_rampup  # noqa: E402

SIZE = 64


@pytest.fixture(scope="module")
def model() -> DisgustModel:
    torch.manual_seed(0)
    return DisgustModel([build_stage({"backbone": "tiny", "cbam": True, "cbam_kernel": 3}, 3, SIZE)], 2).eval()


def test_cbam_reweights_channels_and_positions():
    torch.manual_seed(0)
    block = CBAM(16, reduction=4, kernel_size=3)
    x = torch.rand(2, 16, 5, 5)
    with torch.no_grad():
        y = block(x)
    assert y.shape == x.shape
    ratio = y / x  # each entry is scaled by channel attention x spatial attention, both in (0, 1)
    assert bool((ratio > 0).all() and (ratio < 1).all())
    assert float(ratio.std()) > 1e-4  # not one constant factor: the attention depends on channel and position


def test_backbone_is_a_transformers_mobilenet_v2(model):
    stage = model.stages[0]
    assert type(stage.backbone).__name__ == "MobileNetV2Model"
    assert stage.stage_spec["backbone_config"]["model_type"] == "mobilenet_v2"
    probs, cams = model(torch.rand(3, 3, SIZE, SIZE))
    assert probs.shape == (3, 3) and torch.allclose(probs.sum(1), torch.ones(3), atol=1e-5)
    assert cams.shape[:2] == (3, 3)


def test_grad_cam_at_the_head_equals_the_class_activation_map(model):
    x = torch.rand(1, 3, SIZE, SIZE)
    with torch.no_grad():
        cams = model(x)[1][0]
    for k in range(3):
        heat = grad_cam(model, x, k, layer="head")
        h, w = heat.shape
        expected = torch.relu(cams[k]).numpy() / (h * w)  # alpha_c = W_kc / (h w) for a GAP + linear head
        np.testing.assert_allclose(heat, expected, rtol=1e-4, atol=1e-7)
    other = grad_cam(model, x, 0, layer="backbone")
    assert other.shape == (h, w) and (other >= 0).all()
    with pytest.raises(ValueError, match="layer must be one of"):
        grad_cam(model, x, 0, layer="nope")


def test_cascade_gate_uses_stage_two_only_inside_the_band():
    stages = [build_stage({"backbone": "tiny"}, 2, SIZE) for _ in range(2)]
    gate = DisgustModel(stages, negative_index=1, cascade_mode="gate", cascade_band=(0.3, 0.7))
    p1 = torch.tensor([[0.1, 0.9], [0.5, 0.5], [0.95, 0.05]])  # scores 0.1 (sure no), 0.5 (unsure), 0.95 (sure)
    p2 = torch.tensor([[0.8, 0.2], [0.9, 0.1], [0.2, 0.8]])
    out = gate.combine(p1, p2)
    assert torch.equal(out[0], p1[0]) and torch.equal(out[1], p2[1]) and torch.equal(out[2], p1[2])
    mean = DisgustModel(stages, negative_index=1, cascade_mode="mean")
    assert torch.allclose(mean.combine(p1, p2), (p1 + p2) / 2)


def test_save_and_load_round_trip(tmp_path, model):
    meta = {"classes": ["animal", "object", "none"], "negative_class": "none", "image_size": SIZE, "threshold": 0.4}
    save_disgust_model(model, tmp_path, meta)
    loaded, raw = load_disgust_model(tmp_path)
    x = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        assert torch.allclose(model(x)[0], loaded(x)[0], atol=1e-6)
    assert raw["threshold"] == 0.4 and len(raw["fingerprint"]) == 16


def test_load_rejects_a_folder_without_a_model(tmp_path):
    from creative4u.checks.disgust import DisgustModelError

    with pytest.raises(DisgustModelError, match="no disgust.json"):
        load_disgust_model(tmp_path)


def test_losses_ohem_rampup_and_ema():
    logits = torch.tensor([[3.0, 0.0], [0.0, 3.0], [0.2, 0.0]])
    y = torch.tensor([0, 0, 0])
    ce, focal = per_sample_loss(logits, y, "ce"), per_sample_loss(logits, y, "focal", gamma=2.0)
    assert bool((focal <= ce).all()) and focal[0] / ce[0] < focal[1] / ce[1]  # easy examples are down-weighted most
    weighted = per_sample_loss(logits, y, "ce", weight=torch.tensor([2.0, 1.0]))
    assert torch.allclose(weighted, 2 * ce)
    mean, kept = ohem(ce, keep=0.34, min_kept=1)
    assert kept.tolist() == [1, 2] and torch.isclose(mean, ce[[1, 2]].mean())
    assert sigmoid_rampup(0, 10) < 0.01 < sigmoid_rampup(5, 10) < sigmoid_rampup(10, 10) == 1.0
    student, teacher = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    before = teacher.weight.detach().clone()
    ema_update(teacher, student, decay=0.9)
    assert torch.allclose(teacher.weight, 0.9 * before + 0.1 * student.weight)

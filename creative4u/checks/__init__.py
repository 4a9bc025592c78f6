"""The check registry: one named check per rejection reason.

>>> from creative4u.checks import CHECKS
>>> "sharpness" in CHECKS
True

Checks with heavy or optional dependencies are registered as lazy ``"module:Class"`` strings, so listing them
imports nothing.
"""

from __future__ import annotations

import os

from creative4u.checks.base import Check, CheckReport, Evidence, Measurement, unavailable
from creative4u.registry import Registry

CHECKS: Registry[type[Check]] = Registry("check")

# Quality checks (issue: foundation).
CHECKS.register("sharpness", "creative4u.checks.sharpness:Sharpness")
for _name, _cls in {
    "contrast": "Contrast",
    "noise": "Noise",
    "resolution": "Resolution",
    "colourfulness": "Colourfulness",
}.items():
    CHECKS.register(_name, f"creative4u.checks.quality:{_cls}")
CHECKS.register("exposure", "creative4u.checks.exposure:Exposure")
CHECKS.register("border", "creative4u.checks.border:Border")
# JPEG blocking / quantisation (issue 14): its own rejection reason, split from noise.
CHECKS.register("compression", "creative4u.checks.compression:Compression")

# Content, provenance and forensics checks (issue: check suite). OCR and NudeNet load onnxruntime, which starts
# telemetry lookups unless this is set before its first import.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
for _name, _path in {
    "text": "text:TextOverlay",
    "duplicate": "duplicate:DuplicateImage",
    "nsfw": "unsafe:Nsfw",
    "faces": "unsafe:Faces",
    "provenance": "provenance:Provenance",
    "forensics": "forensics:Forensics",
    "ai_image": "ai_image:AiImage",
}.items():
    CHECKS.register(_name, f"creative4u.checks.{_path}")

# Perception (issue 13): ImageNet-bridged relevance to the title/queries, OCR text vs queries, near-identical
# candidates of one request. ONNX models exported once from pip wheels; onnxruntime loads lazily inside.
for _name, _path in {"relevance": "OnTopic", "text_match": "TextMatch", "similar": "Similar"}.items():
    CHECKS.register(_name, f"creative4u.checks.relevance:{_path}")

# Disgust classifier (issue 8) and its VLM zero-shot fallback: torch / onnxruntime / openai load lazily inside.
CHECKS.register("disgust", "creative4u.checks.disgust:Disgust")
CHECKS.register("disgust_vlm", "creative4u.checks.vlm_zero_shot:DisgustVLM")


def get_check(name: str, **kwargs) -> Check:
    """Instantiate a registered check by name; an unknown name lists the valid ones."""
    return CHECKS.get(name)(**kwargs)


__all__ = ["CHECKS", "Check", "CheckReport", "Evidence", "Measurement", "get_check", "unavailable"]

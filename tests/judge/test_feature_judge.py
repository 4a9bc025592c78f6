"""The feature judge: committed weights, preference for the clean creative, exact antisymmetry, explanations."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from PIL import Image

from creative4u.checks.suite import CheckSuite
from creative4u.data.degrade import DEGRADATIONS
from creative4u.features import FEATURE_CHECKS, FEATURES, feature_profile, features_from_screen
from creative4u.images import LoadedImage, load_image
from creative4u.judge import get_judge
from creative4u.judge.base import PairInput
from creative4u.judge.feature import DEFAULT_WEIGHTS, FeatureJudge, FeatureModel

# Degradation -> words the rationale must use when that defect decided the pair.
EXPECTED_WORDS = {
    "blur": ("sharp", "blurred"), "noise": ("noisier",), "underexposed": ("too dark",), "border": ("border", "canvas"),
    "jpeg": ("JPEG",), "tiny_product": ("canvas",), "low_resolution": ("detail", "sharp", "blurred"),
}


def _jpeg(pil: Image.Image, name: str) -> LoadedImage:
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=92)
    return load_image(buf.getvalue(), name=name)


@pytest.fixture(scope="module")
def suite() -> CheckSuite:
    return CheckSuite(feature_profile("default"))


@pytest.fixture(scope="module")
def cases(photos, suite) -> list[tuple[str, str, PairInput]]:
    """(photo, degradation, PairInput(clean, degraded)) with screens, for a few photos and defects."""
    out = []
    for name in ("coffee", "astronaut"):
        clean = photos[name]
        for k, cat in enumerate(EXPECTED_WORDS):
            bad, _ = DEGRADATIONS[cat](clean, np.random.default_rng(k), 0.6)
            a, b = _jpeg(clean, f"{name}-clean"), _jpeg(bad, f"{name}-{cat}")
            out.append((name, cat, PairInput(a, b, suite.screen(a), suite.screen(b), title="t")))
    return out


def test_weights_file_loads_and_matches_features():
    raw = json.loads(DEFAULT_WEIGHTS.read_text())
    model = FeatureModel.load()
    assert model.features == raw["features"] and set(model.features) <= set(FEATURES)
    assert len(model.weights) == len(model.mean) == len(model.std) == len(model.features)
    assert raw["training"]["train_pairs"] > 0 and "test_accuracy" in raw["training"]
    assert get_judge("feature").model_name == f"feature-lr@{model.version}"


def test_prefers_the_clean_creative_and_says_why(cases):
    judge = FeatureJudge()
    verdicts = judge.judge_pairs([p for _, _, p in cases])
    wrong = [(n, c, v.p_a) for (n, c, _), v in zip(cases, verdicts, strict=True) if v.winner != "A"]
    assert len(wrong) <= 1, wrong
    for (name, cat, _), v in zip(cases, verdicts, strict=True):
        if v.winner == "A":
            assert any(w in v.rationale for w in EXPECTED_WORDS[cat]), (name, cat, v.rationale)
            assert v.rationale.endswith(".") and v.backend == "feature" and 0.5 < v.confidence <= 1.0


def test_exactly_antisymmetric_both_orders_agree(cases):
    judge = FeatureJudge(tie_margin=0.0)
    pairs = [p for _, _, p in cases]
    fwd, rev = judge.judge_pairs(pairs), judge.judge_pairs([p.swapped() for p in pairs])
    for a, b in zip(fwd, rev, strict=True):
        assert a.p_a + b.p_a == pytest.approx(1.0, abs=1e-12)
        assert a.winner == {"A": "B", "B": "A"}[b.winner]


def test_identical_images_tie_and_margin_is_validated(photos, suite):
    img = _jpeg(photos["coffee"], "same")
    screen = suite.screen(img)
    v = FeatureJudge().judge(PairInput(img, img, screen, screen))
    assert v.winner == "tie" and v.p_a == pytest.approx(0.5) and v.confidence == 0.5
    with pytest.raises(ValueError, match="tie_margin"):
        FeatureJudge(tie_margin=0.7)


def test_screens_itself_when_none_given(cases):
    _, _, pair = cases[0]
    bare = PairInput(pair.image_a, pair.image_b)
    assert FeatureJudge().judge(bare).p_a == pytest.approx(FeatureJudge().judge(pair).p_a)


def test_features_are_cheap_and_complete(cases):
    screen = cases[0][2].screen_a
    vec = features_from_screen(screen)
    assert vec.shape == (len(FEATURES),) and np.isfinite(vec).all()
    assert set(FEATURE_CHECKS) <= set(feature_profile().checks)
    no_text = type(screen)(**{**screen.__dict__, "reports": {k: v for k, v in screen.reports.items() if k != "text"}})
    assert features_from_screen(no_text)[FEATURES.index("text.missing")] == 1.0


def test_throughput_with_cached_screens(cases):
    judge = FeatureJudge()
    pairs = [p for _, _, p in cases] * (600 // len(cases) + 1)
    start = time.perf_counter()
    judge.judge_pairs(pairs)
    assert len(pairs) / (time.perf_counter() - start) >= 500

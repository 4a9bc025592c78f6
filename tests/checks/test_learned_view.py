"""Learned view (issue 14, third pass): shipped heads, the sharpness / exposure option, the fallback without models."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import ImageFilter

from creative4u.checks import learned_view, perception
from creative4u.checks.exposure import Exposure
from creative4u.checks.profile import CheckProfile, load_profile
from creative4u.checks.sharpness import Sharpness
from creative4u.checks.suite import CheckSuite
from creative4u.images import LoadedImage


@pytest.fixture(scope="module")
def photo(photos):
    return next(iter(photos.values())).convert("RGB")


def test_shipped_heads_are_small_and_complete():
    data = json.loads(learned_view.HEADS_FILE.read_text())
    assert learned_view.HEADS_FILE.stat().st_size < 100_000
    assert set(data["heads"]) == {"blur", "under", "over"}
    assert "dev" in data["trained_on"] and "heldout" not in data["trained_on"]
    for fam, head in learned_view.load_heads().items():
        assert len(head.coef) == 1280 + len(learned_view.HAND_NAMES[fam])
        assert 0.0 < head.threshold < 1.0


def test_off_by_default_keeps_the_hand_made_reading(photo):
    img = LoadedImage.from_pil(photo)
    plain, off = Sharpness().measure(img), Sharpness(learned=False).measure(img)
    assert plain.score == off.score and "learned_view" not in plain.values
    assert Sharpness().cache_key() != Sharpness(learned=True).cache_key()


def test_fallback_without_models_says_so(photo, tmp_path):
    img = LoadedImage.from_pil(photo)
    hand = Exposure().measure(img)
    m = Exposure(learned=True, model_dir=str(tmp_path)).measure(img)  # an empty folder: no exported models
    assert m.score == hand.score and m.summary == hand.summary
    assert m.values["learned_view"].startswith("not available")
    assert Exposure(learned=True, model_dir=str(tmp_path)).cache_key().endswith("-nomodels")


@pytest.mark.skipif(not perception.models_available(), reason="perception models not exported (make test does it)")
def test_learned_score_explains_both_readings_and_matches_the_head(photo):
    img = LoadedImage.from_pil(photo.filter(ImageFilter.GaussianBlur(4)))
    m = Sharpness(learned=True).measure(img)
    head = learned_view.load_heads()["blur"]
    emb = perception.get_perception().image(img).embedding
    hand_values = Sharpness(learned=False).measure(img).values
    p = head.probability(emb, hand_values)
    assert m.score == learned_view.rescale(p, head.threshold)
    assert m.values["hand_score"] > 0.5 and "the measurement says" in m.summary and "learned view" in m.summary
    crisp = Sharpness(learned=True).measure(LoadedImage.from_pil(photo))
    assert crisp.score < m.score


def test_experimental_profile_runs_through_the_suite(photo):
    profile = load_profile("experimental-learned")
    assert profile.checks["sharpness"].options == {"learned": True}
    assert load_profile("default").checks["sharpness"].options == {}
    small = CheckProfile(name="t", checks={n: profile.checks[n] for n in ("sharpness", "exposure")})
    screen = CheckSuite(small).screen(LoadedImage.from_pil(photo))
    assert set(screen.reports) == {"sharpness", "exposure"} and not screen.errors
    assert "learned_view" in screen.reports["sharpness"].values


def test_head_rejects_a_wrong_input_size():
    head = learned_view.Head("blur", ("x",), [0.0] * 3, 0.0, 0.5)
    with pytest.raises(ValueError, match="expects 3 inputs"):
        head.probability(np.zeros(1280), {})
    with pytest.raises(ValueError, match="unknown learned-view family"):
        learned_view.hand_features("noise", {})


def test_rescale_keeps_order():
    ps = np.linspace(0, 1, 21)
    out = [learned_view.rescale(float(p), 0.3) for p in ps]
    assert out == sorted(out) and out[0] == 0.0 and out[-1] == 1.0

"""The feature judge reads the request's title (issue 13): a matching photo beats an off-topic one and says why."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from creative4u.checks import perception
from creative4u.checks.profile import CheckProfile, CheckSettings
from creative4u.checks.suite import CheckSuite
from creative4u.features import FEATURES
from creative4u.images import LoadedImage
from creative4u.judge.base import PairInput
from creative4u.judge.feature import FeatureJudge, FeatureModel
from creative4u.pipeline import Pipeline
from creative4u.train.relevance_pairs import SUBJECTS, relevance_pairs

needs_models = pytest.mark.skipif(not perception.models_available(),
                                  reason=f"perception models not exported: {perception.EXPORT_HINT}")


@pytest.fixture(scope="module")
def candidates(photos):
    return [LoadedImage.from_pil(photos[n], name=f"{n}.png") for n in ("coffee", "chelsea", "rocket")]


@needs_models
@pytest.mark.parametrize(("title", "queries", "winner"), [
    ("Organic cappuccino, 250 g", ["cappuccino", "coffee gift"], "coffee.png"),
    ("Cat toy for indoor cats", ["cat toy"], "chelsea.png"),
])
def test_select_picks_the_photo_the_title_describes(candidates, title, queries, winner):
    result = Pipeline().select(candidates, title=title, queries=queries)
    assert result["winner"] == winner, result["explanation"]
    assert "which matches" in result["explanation"] and result["title"] == title


@needs_models
def test_the_judge_measures_relevance_itself_when_the_screens_lack_it(candidates):
    quality_only = CheckProfile(name="q", checks={"sharpness": CheckSettings(), "exposure": CheckSettings()})
    suite = CheckSuite(quality_only)
    coffee, cat = candidates[0], candidates[1]
    pair = PairInput(cat, coffee, suite.screen(cat), suite.screen(coffee), "Organic cappuccino", ("cappuccino",))
    verdict = FeatureJudge().judge(pair)
    assert verdict.winner == "B" and "relevance" in verdict.details["aspects"], verdict.rationale
    untitled = FeatureJudge().judge(PairInput(cat, coffee, suite.screen(cat), suite.screen(coffee)))
    assert "relevance" not in untitled.rationale and "matches" not in untitled.rationale


def test_dead_zone_ignores_small_gaps_and_keeps_the_judge_antisymmetric():
    col = FEATURES.index("relevance.mismatch")
    n = len(FEATURES)
    model = FeatureModel(list(FEATURES), [0.0] * n, [1.0] * n, [-1.0 if i == col else 0.0 for i in range(n)],
                         dead_zone={"relevance.mismatch": 0.1})
    xa, xb = np.zeros((3, n)), np.zeros((3, n))
    xb[:, col] = [0.05, 0.3, -0.3]
    logit = model.logits(xa, xb)
    assert logit[0] == 0.0 and np.isclose(logit[1], 0.2) and np.isclose(logit[2], -0.2)
    assert np.allclose(model.logits(xb, xa), -logit)
    assert FeatureModel(**{k: v for k, v in model.to_dict().items()}).dead_zone == {"relevance.mismatch": 0.1}


def test_relevance_pairs_are_balanced_and_never_pit_a_subject_against_itself(tmp_path):
    photos = ["skimage-coffee", "skimage-chelsea", "skimage-motorcycle-left", "skimage-motorcycle-right"]
    for pid in photos:
        (tmp_path / "images" / pid).mkdir(parents=True)
        for v in ("v0", "v1"):
            Image.new("RGB", (8, 8)).save(tmp_path / "images" / pid / f"{v}-clean.jpg")
    pairs = relevance_pairs(tmp_path, photos + ["not-labelled"])
    assert len(pairs) == 3 * 2 + 2 * 2  # coffee and cat face 3 others; each motorcycle faces the 2 non-motorcycles
    assert {p["label"] for p in pairs} == {"A", "B"}
    for p in pairs:
        match = p["image_a"] if p["label"] == "A" else p["image_b"]
        assert p["photo_id"] in match and "v0-clean" in match and p["title"] == SUBJECTS[p["photo_id"]].title


@needs_models
def test_screens_made_without_the_title_are_completed_by_the_judge(candidates):
    suite = CheckSuite("default")  # screened without a request context: relevance says it needs one
    coffee, cat = candidates[0], candidates[1]
    sa, sb = suite.screen(cat), suite.screen(coffee)
    assert sa.reports["relevance"].values["needs_context"] is True
    verdict = FeatureJudge().judge(PairInput(cat, coffee, sa, sb, "Organic cappuccino", ("cappuccino",)))
    assert verdict.winner == "B" and "matches 'cappuccino'" in verdict.rationale, verdict.rationale

"""Built-in profiles and the issue-14 quality checks: every profile runs compression as a veto, strict picks
stricter operating points off default's ROC curves, and a client file can pick its own."""

from __future__ import annotations

import pytest

from creative4u.checks.profile import builtin_profiles, load_profile


@pytest.mark.parametrize("name", builtin_profiles())
def test_every_builtin_profile_runs_the_new_quality_checks(name):
    profile = load_profile(name)
    enabled = profile.enabled()
    for check in ("sharpness", "exposure", "noise", "compression", "border", "text"):
        assert check in enabled, (name, check)
    assert enabled["compression"].veto
    # exposure cannot yet tell a low-/high-key style from a defect within the false-rejection budget
    assert not enabled["exposure"].veto


def test_strict_is_stricter_than_default_on_the_same_curves():
    default, strict = load_profile("default"), load_profile("strict")
    for check in ("sharpness", "noise", "border"):
        assert strict.threshold_of(check) < default.threshold_of(check), check
        assert strict.threshold_of(check) in default.checks[check].operating_points.values()


def test_a_client_profile_picks_an_operating_point(tmp_path):
    path = tmp_path / "client.yaml"
    path.write_text("name: client\nextends: default\noperating_point: ffr2\n"
                    "checks:\n  noise: {operating_point: ffr1}\n")
    client, default = load_profile(path), load_profile("default")
    assert client.threshold_of("sharpness") == default.checks["sharpness"].operating_points["ffr2"]
    assert client.threshold_of("noise") == default.checks["noise"].operating_points["ffr1"]  # per check wins
    assert client.threshold_of("compression") == default.checks["compression"].threshold  # no ffr2 point defined

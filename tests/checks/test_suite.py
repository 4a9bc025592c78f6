"""The check framework: registry, profiles, caching by content hash (memory and disk), ensemble and veto rule."""

from __future__ import annotations

import pytest
from PIL import Image

from creative4u.checks import CHECKS, Check, Measurement, get_check
from creative4u.checks.profile import CheckProfile, CheckSettings, builtin_profiles, load_profile
from creative4u.checks.suite import MEMORY_CACHE, CheckSuite
from creative4u.images import LoadedImage

CALLS: list[str] = []


class Brightness(Check):
    """A test check: score = mean luma / 255; counts its own calls so caching can be asserted."""

    name = "test_brightness"
    default_threshold = 0.6

    def measure(self, img):
        CALLS.append(img.sha256)
        mean = float(img.gray(32).mean())
        return Measurement(score=mean / 255, values={"mean": mean}, summary=f"mean {mean:.0f}")


class Broken(Check):
    name = "test_broken"

    def measure(self, img):
        raise RuntimeError("boom")


CHECKS.register("test_brightness", Brightness)
CHECKS.register("test_broken", Broken)


def _profile(**checks) -> CheckProfile:
    return CheckProfile(name="t", checks={k: CheckSettings(**v) for k, v in checks.items()})


def _img(color: str) -> LoadedImage:
    return LoadedImage.from_pil(Image.new("RGB", (16, 16), color), name=color)


def test_unknown_check_lists_valid_names():
    with pytest.raises(KeyError, match="valid names: .*sharpness"):
        get_check("sharpnes")


def test_threshold_validated():
    with pytest.raises(ValueError, match="threshold must be in"):
        Brightness(threshold=2)


def test_ensemble_and_veto():
    suite = CheckSuite(_profile(test_brightness={"veto": False}))
    white, black = suite.screen(_img("white")), suite.screen(_img("black"))
    assert white.flagged == ["test_brightness"] and not white.approved and not white.vetoed
    assert black.approved and not black.flagged
    veto_suite = CheckSuite(_profile(test_brightness={"veto": True, "threshold": 0.99}))
    assert veto_suite.screen(_img("white")).vetoed


def test_measured_once_per_content_threshold_applied_after_cache():
    MEMORY_CACHE.clear()
    CALLS.clear()
    img = _img("gray")
    low = CheckSuite(_profile(test_brightness={"threshold": 0.1})).screen(img)
    high = CheckSuite(_profile(test_brightness={"threshold": 0.9})).screen(_img("gray"))
    assert len(CALLS) == 1, "same content, same check: measured once"
    assert low.reports["test_brightness"].flagged and not high.reports["test_brightness"].flagged
    assert high.reports["test_brightness"].cached


def test_disk_cache_survives_process_cache(tmp_path):
    MEMORY_CACHE.clear()
    CALLS.clear()
    suite = CheckSuite(_profile(test_brightness={}), cache_dir=tmp_path)
    first = suite.screen(_img("navy")).reports["test_brightness"]
    MEMORY_CACHE.clear()
    second = (
        CheckSuite(_profile(test_brightness={}), cache_dir=tmp_path).screen(_img("navy")).reports["test_brightness"]
    )
    assert len(CALLS) == 1 and second.cached and second.score == first.score
    assert list(tmp_path.rglob("*.json")), "cache files written"


def test_damaged_disk_cache_is_remeasured(tmp_path):
    MEMORY_CACHE.clear()
    CALLS.clear()
    CheckSuite(_profile(test_brightness={}), cache_dir=tmp_path).screen(_img("olive"))
    for f in tmp_path.rglob("*.json"):
        f.write_text("{not json")
    MEMORY_CACHE.clear()
    report = CheckSuite(_profile(test_brightness={}), cache_dir=tmp_path).screen(_img("olive"))
    assert len(CALLS) == 2 and report.approved in (True, False)


def test_failing_check_is_reported_not_raised():
    screen = CheckSuite(_profile(test_broken={}, test_brightness={"threshold": 0.99})).screen(_img("red"))
    assert screen.reports["test_broken"].status == "error"
    assert "boom" in screen.errors[0] and screen.approved


def test_profiles_load_and_validate(tmp_path):
    assert "default" in builtin_profiles()
    assert load_profile("default").checks
    child = tmp_path / "shop.yaml"
    child.write_text(
        "name: shop\nextends: default\nchecks:\n  sharpness: {threshold: 0.7}\n  border: {enabled: false}\n"
    )
    prof = load_profile(child)
    assert prof.checks["sharpness"].threshold == 0.7 and prof.checks["sharpness"].veto
    assert "border" not in prof.enabled() and "exposure" in prof.enabled()
    (tmp_path / "bad.yaml").write_text("checks:\n  sharpness: {treshold: 0.7}\n")
    with pytest.raises(ValueError, match=r"unknown key 'checks.sharpness.treshold' \(did you mean 'threshold'\?\)"):
        load_profile(tmp_path / "bad.yaml")
    (tmp_path / "bad.yaml").write_text("checks:\n  sharpness: {veto: maybe}\n")
    with pytest.raises(ValueError, match="checks.sharpness.veto: expected bool, got str 'maybe'"):
        load_profile(tmp_path / "bad.yaml")
    with pytest.raises(KeyError, match="built-in profiles"):
        load_profile("nope")


def test_report_round_trip():
    report = Brightness().run(_img("white"))
    from creative4u.checks.base import CheckReport

    assert CheckReport.from_dict(report.to_dict()) == report


class Flaky(Check):
    """A test check that fails on its first call and succeeds afterwards (a transient error)."""

    name = "test_flaky"
    calls = 0

    def measure(self, img):
        type(self).calls += 1
        if type(self).calls == 1:
            raise RuntimeError("transient")
        return Measurement(score=0.1, values={}, summary="ok")


CHECKS.register("test_flaky", Flaky)


def test_error_result_is_retried_not_cached_in_memory():
    MEMORY_CACHE.clear()
    Flaky.calls = 0
    suite = CheckSuite(_profile(test_flaky={}))
    first = suite.screen(_img("teal")).reports["test_flaky"]
    second = suite.screen(_img("teal")).reports["test_flaky"]
    assert first.status == "error" and Flaky.calls == 2
    assert second.status != "error" and not second.cached


def _hammer_disk_cache(cache_dir: str, rounds: int = 200) -> None:
    suite = CheckSuite(_profile(test_brightness={}), cache_dir=cache_dir)
    check = suite.checks["test_brightness"]
    result = (Measurement(score=0.5, values={"mean": 128.0}, summary="mean 128"), None, 1.0)
    for _ in range(rounds):
        suite._to_disk("ab" * 32, check.cache_key(), result)
        hit = suite._from_disk("ab" * 32, check.cache_key())  # a read beside the writers must never raise
        assert hit is None or hit[0].score == 0.5


def test_concurrent_disk_writers_same_key_never_raise_threads(tmp_path):
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker():
        barrier.wait()
        try:
            _hammer_disk_cache(str(tmp_path))
        except BaseException as exc:  # collected so the main thread can assert on it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(list(tmp_path.rglob("*.json"))) == 1 and not list(tmp_path.rglob("*.tmp"))


def test_concurrent_disk_writers_same_key_never_raise_processes(tmp_path):
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hammer_disk_cache, args=(str(tmp_path), 300)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    suite = CheckSuite(_profile(test_brightness={}), cache_dir=tmp_path)
    assert suite._from_disk("ab" * 32, suite.checks["test_brightness"].cache_key())[0].score == 0.5
    assert not list(tmp_path.rglob("*.tmp")), "no temp file left behind"


def test_a_summary_says_when_the_profile_threshold_overrules_its_wording():
    """A summary is worded at the score's 0.5 point; a report whose profile threshold decides otherwise says so, and a
    cached measurement read under another threshold gets its own note."""
    grey = LoadedImage.from_pil(Image.new("RGB", (32, 32), (166, 166, 166)))  # score 0.65
    approved = CheckSuite(_profile(test_brightness={"threshold": 0.8})).screen(grey).reports["test_brightness"]
    assert not approved.flagged
    assert approved.summary == "mean 166 (not flagged: score 0.65 is below the threshold 0.8 of this profile)"
    dark = LoadedImage.from_pil(Image.new("RGB", (32, 32), (51, 51, 51)))  # score 0.2
    flagged = CheckSuite(_profile(test_brightness={"threshold": 0.1})).screen(dark).reports["test_brightness"]
    assert flagged.flagged
    assert flagged.summary.endswith("(flagged: score 0.2 reaches the threshold 0.1 of this profile)")
    plain = CheckSuite(_profile(test_brightness={"threshold": 0.6})).screen(grey).reports["test_brightness"]
    assert plain.flagged and plain.summary == "mean 166"

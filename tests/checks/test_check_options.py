"""Check options in a profile are validated: a misspelt key is an error naming the valid ones, not a default."""

from __future__ import annotations

import inspect

import pytest

from creative4u.checks import CHECKS, Check, Measurement, get_check
from creative4u.checks.suite import CheckSuite


def test_misspelt_option_in_a_profile_is_refused_with_the_valid_names(tmp_path) -> None:
    profile = tmp_path / "client.yaml"
    profile.write_text("extends: default\nchecks:\n  text: {options: {max_recc: 3}}\n")
    with pytest.raises(ValueError, match=r"unknown option\(s\) max_recc; valid: .*max_rec"):
        CheckSuite(str(profile))


def test_a_check_without_options_refuses_any() -> None:
    with pytest.raises(ValueError, match="unknown option.*radius; valid: none"):
        get_check("contrast", radius=3)  # sharpness has options now (learned, model_dir)


def test_declared_options_are_accepted() -> None:
    assert get_check("text", max_rec=3).options == {"max_rec": 3}


def test_every_builtin_check_declares_its_options() -> None:
    # A built-in check either lists its option names or takes them as named constructor parameters.
    undeclared = []
    for name in CHECKS.names():
        cls = CHECKS.get(name)
        if "/tests/" in inspect.getfile(cls).replace("\\", "/"):  # plug-ins test modules register (test_suite)
            continue
        explicit = "__init__" in vars(cls) and inspect.signature(cls.__init__).parameters.get("options") is None
        if cls.option_names is None and not explicit:
            undeclared.append(name)
    assert not undeclared, f"checks without declared options: {undeclared}"


def test_plugin_checks_without_a_declaration_still_take_any_option() -> None:
    class Legacy(Check):
        name = "legacy_demo"

        def measure(self, img):  # pragma: no cover - never run
            return Measurement(0.0)

    assert Legacy(anything=1).options == {"anything": 1}

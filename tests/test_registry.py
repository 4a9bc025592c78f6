from __future__ import annotations

import subprocess
import sys

import pytest

from creative4u.registry import Registry


def test_lazy_entry_imported_on_use():
    reg: Registry = Registry("thing")
    reg.register("loads", "json:loads")
    assert reg.get("loads")("[1]") == [1]


def test_decorator_and_unknown_name():
    reg: Registry = Registry("reward function")

    @reg.register("one")
    def one():
        return 1

    assert reg.get("one") is one and "one" in reg
    with pytest.raises(KeyError, match="unknown reward function 'two'; valid names: one"):
        reg.get("two")


def test_core_import_is_light():
    code = (
        "import sys, creative4u.pipeline, creative4u.cli, creative4u.judge; "
        "print(sorted(m for m in ('torch', 'transformers', 'rapidocr', 'onnxruntime') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_name_registered_twice_is_refused_naming_kind_name_and_holder():
    reg: Registry = Registry("reward function")
    reg.register("loads", "json:loads", aliases=("parse",))
    with pytest.raises(ValueError, match="reward function 'loads' is already registered \\(held by 'json:loads'\\)"):
        reg.register("loads", "json:dumps")
    with pytest.raises(ValueError, match="reward function 'parse' is already an alias of 'loads'"):
        reg.register("parse", "json:dumps")
    reg.register("dumps", "json:dumps")
    with pytest.raises(ValueError, match="'dumps' is already registered"):  # an alias may not take a name either
        reg.register("other", "json:dumps", aliases=("dumps",))
    assert "other" not in reg

    @reg.register("one")
    def one():
        return 1

    with pytest.raises(ValueError, match=r"held by '.*test_registry:.*<locals>\.one'"):
        reg.register("one", one)
    assert reg.get("loads") is reg.get("parse")  # the refused registrations changed nothing


def test_aliases_resolve_to_the_entry_and_are_listed_in_the_error():
    reg: Registry = Registry("judge backend")
    reg.register("single_feature", "json:loads", aliases=("single", "sf"))
    reg.register("random", "json:dumps")
    assert reg.get("single") is reg.get("sf") is reg.get("single_feature")
    assert reg.names() == ["random", "single_feature"] and list(reg) == reg.names()
    assert "single" in reg and reg.canonical("sf") == "single_feature"
    assert reg.aliases() == {"sf": "single_feature", "single": "single_feature"}
    with pytest.raises(KeyError) as err:
        reg.get("singel")
    assert err.value.args[0] == ("unknown judge backend 'singel'; valid names: random, single_feature "
                                 "(aliases: sf -> single_feature, single -> single_feature)")


def test_options_are_declared_per_entry_and_read_lazily():
    import dataclasses

    @dataclasses.dataclass
    class Opts:
        depth: int = 1

    reg: Registry = Registry("thing")
    reg.register("eager", "json:loads", options=Opts)
    reg.register("lazy", "json:dumps", options="json:JSONDecoder", aliases=("l",))
    reg.register("bare", "json:dumps")
    assert reg.options("eager") is Opts and reg.options("bare") is None
    import json

    assert reg.options("l") is json.JSONDecoder
    with pytest.raises(KeyError, match="unknown thing 'nope'"):
        reg.options("nope")


def test_no_project_registry_holds_a_name_twice():
    # Registering a taken name raises at import time, so importing every registry proves there is none today.
    code = (
        "from creative4u.checks import CHECKS; from creative4u.judge import JUDGES; "
        "from creative4u.train.rewards import REWARDS; "
        "print(len(CHECKS.names()), len(JUDGES.names()), len(REWARDS.names()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    checks, judges, rewards = map(int, out.split())
    assert checks >= 16 and judges == 5 and rewards >= 4

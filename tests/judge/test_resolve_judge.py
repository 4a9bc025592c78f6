"""One resolver from a judge spec (name, alias or module:Class) and its options to a Judge; typed options per
backend, and the CLI flags and gateway validation derived from them."""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path

import pytest

from creative4u.config import ConfigError
from creative4u.judge import JUDGES, judge_options, options_class, resolve_judge
from creative4u.judge.base import Judge, Verdict
from creative4u.judge.options import record

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted(str(p) for p in (REPO / "data" / "samples").glob("*.jpg"))


class Echo(Judge):
    """A plug-in without declared options: it keeps whatever it is given."""

    name = "echo"

    def __init__(self, **options) -> None:
        self.options = options

    def judge_pairs(self, pairs):
        return [Verdict("A", 0.5, 0.5, "", self.name, "echo") for _ in pairs]


@dataclasses.dataclass
class TypedOptions:
    depth: int = dataclasses.field(default=1, metadata={"help": "How deep."})


class Typed(Echo):
    """A plug-in that declares its options."""

    options_class = TypedOptions


def test_a_registered_name_builds_the_backend_with_typed_options():
    judge = resolve_judge("random", {"seed": 7, "tie_rate": 0.25})
    assert type(judge).__name__ == "RandomJudge" and (judge.seed, judge.tie_rate) == (7, 0.25)
    assert resolve_judge("random", judge_options("random", {"seed": 4})).seed == 4  # a typed instance works too


def test_an_alias_resolves_to_the_same_backend():
    assert JUDGES.canonical("single") == "single_feature" and "single" not in JUDGES.names()
    judge = resolve_judge("single", {"feature": "noise", "margin": 0.1})
    assert type(judge).__name__ == "SingleFeatureJudge" and judge.model_name == "single_feature(noise)"


def test_a_module_class_plugin_takes_a_free_dict_unchanged():
    options = {"anything": [1, 2], "url": "x"}
    judge = resolve_judge(f"{__name__}:Echo", options)
    assert isinstance(judge, Echo) and judge.options == options
    assert resolve_judge(f"{__name__}:Typed", {"depth": 3}).options == {"depth": 3}
    with pytest.raises(ConfigError, match="depth: expected int, got str '3'"):
        resolve_judge(f"{__name__}:Typed", {"depth": "3"})
    with pytest.raises(ValueError, match="cannot import 'Missing'"):
        resolve_judge(f"{__name__}:Missing")


def test_an_unknown_name_lists_the_valid_names_and_aliases():
    with pytest.raises(KeyError) as err:
        resolve_judge("opneai")
    message = err.value.args[0]
    assert message.startswith("unknown judge backend 'opneai'; valid names: feature, openai, random, single_feature")
    assert "single -> single_feature" in message


def test_a_bad_option_is_an_error_before_the_backend_is_built():
    with pytest.raises(ConfigError, match=r"random judge: unknown option\(s\) max_new_tokens; valid: seed, tie_rate"):
        resolve_judge("random", {"max_new_tokens": 16})
    with pytest.raises(ConfigError, match="max_new_tokens: expected int, got str '16'"):
        judge_options("openai", {"max_new_tokens": "16"})
    with pytest.raises(ConfigError, match="tie_rate: expected float"):
        resolve_judge("random", {"tie_rate": "often"})
    # None means "not given" (an unset CLI flag), never an unknown option.
    assert resolve_judge("random", {"device": None}).seed == 0


@pytest.mark.parametrize("name", ["feature", "openai", "transformers", "random", "single_feature"])
def test_options_mirror_the_constructor(name):
    """Every registered backend declares options whose names and defaults are its constructor's parameters."""
    params = {
        p.name: p.default
        for p in inspect.signature(JUDGES.get(name).__init__).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }
    cls = options_class(name)
    declared = {f.name: f.default for f in dataclasses.fields(cls)}
    assert declared == params
    assert all(f.metadata.get("help") for f in dataclasses.fields(cls))


def test_the_run_record_is_the_typed_dict_without_secrets():
    typed = judge_options("openai", {"model": "m", "api_key": "sk-secret", "timeout": 5})
    rec = record(typed)
    assert rec["timeout"] == 5.0 and isinstance(rec["timeout"], float) and rec["max_new_tokens"] == 512
    assert "api_key" not in rec and "sk-secret" not in json.dumps(rec)
    assert list(rec) == sorted(rec)


# ------------------------------------------------------------------------------- derived: CLI and gateway


def test_select_flags_are_typed_and_reach_only_the_chosen_backend(capsys):
    from creative4u.cli import main

    judged = [s for s in SAMPLES if Path(s).stem in ("coffee_clean", "coffee_text")]  # neither is vetoed
    assert main(["select", *judged, "--backend", "random", "--seed", "3", "--tie-rate", "0.99", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "random(seed=3)"
    assert [o["winner"] for o in result["comparisons"][0]["orders"].values()] == ["tie", "tie"]
    assert main(["select", *SAMPLES[:2], "--max-new-tokens", "16"]) == 2  # the feature judge takes no such option
    assert "feature judge: unknown option(s) max_new_tokens" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["select", *SAMPLES[:2], "--backend", "openai", "--max-new-tokens", "sixteen"])
    assert "--max-new-tokens: invalid int value" in capsys.readouterr().err


def test_gateway_config_validates_backend_options_at_load_time():
    from creative4u.serve.config import load_gateway_config

    cfg = load_gateway_config(None, ["backends.vllm.backend=openai", "backends.vllm.options.max_new_tokens=64"])
    assert cfg.backends["vllm"].options == {"max_new_tokens": 64}
    with pytest.raises(ConfigError, match=r"backends\.vllm\.options: max_new_tokens: expected int, got str"):
        load_gateway_config(None, ["backends.vllm.backend=openai", "backends.vllm.options.max_new_tokens=lots"])
    with pytest.raises(ConfigError, match=r"backends\.vllm\.options: openai judge: unknown option\(s\) device"):
        load_gateway_config(None, ["backends.vllm.backend=openai", "backends.vllm.options.device=cuda"])
    with pytest.raises(ValueError, match=r"backends\.vllm\.backend: unknown judge backend 'opneai'; valid names"):
        load_gateway_config(None, ["backends.vllm.backend=opneai"])
    plugin = load_gateway_config(None, [f"backends.p.backend={__name__}:Echo", "backends.p.options.free=[1]"])
    assert plugin.backends["p"].options == {"free": [1]}

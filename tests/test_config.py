"""The one config loader (creative4u/config.py): YAML + dotted overrides -> typed dataclasses, with clear errors."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from creative4u.config import (
    ConfigError,
    add_config_arguments,
    apply_overrides,
    config_from_args,
    config_help,
    from_dict,
    load_config,
    parse_override,
    to_dict,
)


@dataclass
class Backend:
    backend: str = field(default="feature", metadata={"help": "Judge name."})
    timeout_s: float = field(default=60.0, metadata={"help": "Budget, seconds."})
    fallback: str | None = field(default=None, metadata={"help": "Backend to fall back to."})
    options: dict[str, Any] = field(default_factory=dict, metadata={"help": "Constructor options."})


@dataclass
class Limits:
    max_images: int = field(default=16, metadata={"help": "Most images per request."})
    mode: Literal["strict", "lax"] = field(default="strict", metadata={"help": "How hard to refuse."})


@dataclass
class Service:
    port: int = field(default=8000, metadata={"help": "TCP port."})
    open: bool = field(default=False, metadata={"help": "Accept requests without a key."})
    limits: Limits = field(default_factory=Limits, metadata={"help": "Request limits."})
    backends: dict[str, Backend] = field(
        default_factory=lambda: {"feature": Backend(timeout_s=5.0)}, metadata={"help": "Backends by name."}
    )
    band: list[float] = field(default_factory=lambda: [0.1, 0.9], metadata={"help": "Score band."})
    pair: tuple[int, str] = field(default=(1, "a"), metadata={"help": "A fixed pair."})


def test_nested_and_dict_of_dataclass_are_built_and_typed():
    cfg = from_dict(Service, {"limits": {"max_images": 4}, "backends": {"vlm": {"backend": "openai", "timeout_s": 3}},
                              "band": [0, 1], "pair": [2, "b"]})
    assert cfg.limits == Limits(max_images=4, mode="strict")
    assert cfg.backends == {"vlm": Backend(backend="openai", timeout_s=3.0)}
    assert isinstance(cfg.backends["vlm"].timeout_s, float) and cfg.band == [0.0, 1.0] and cfg.pair == (2, "b")
    assert to_dict(cfg)["pair"] == [2, "b"] and to_dict(cfg)["backends"]["vlm"]["backend"] == "openai"


def test_unknown_key_names_the_dotted_path_and_lists_the_valid_keys():
    with pytest.raises(ConfigError) as err:
        from_dict(Service, {"backends": {"vlm": {"timout_s": 3}}}, where="g.yaml")
    msg = str(err.value)
    assert msg.startswith("g.yaml: unknown key 'backends.vlm.timout_s' (did you mean 'timeout_s'?)")
    assert "valid keys under backends.vlm: backend, timeout_s, fallback, options" in msg
    with pytest.raises(ConfigError, match=r"unknown keys 'x', 'y'; valid keys: port, open, limits"):
        from_dict(Service, {"x": 1, "y": 2})
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"port": "80"}, "port: expected int, got str '80'"),
        ({"port": True}, "port: expected int, got bool True"),
        ({"open": "yes"}, "open: expected bool, got str 'yes'"),
        ({"limits": {"mode": "loose"}}, "limits.mode: expected one of 'strict', 'lax', got 'loose'"),
        ({"limits": 3}, "limits: expected a mapping of Limits keys, got int 3"),
        ({"backends": {"v": {"fallback": 3}}}, "backends.v.fallback: expected str, got int 3"),
        ({"band": "0.1"}, "band: expected a list, got str '0.1'"),
        ({"band": [0.1, "x"]}, r"band\[1\]: expected float, got str 'x'"),
        ({"pair": [1]}, "pair: expected 2 items, got 1"),
    ],
)
def test_type_errors_name_path_expected_and_got(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(Service, data)


def test_safe_coercions_only():
    assert from_dict(Backend, {"timeout_s": 2}).timeout_s == 2.0  # int -> float
    assert from_dict(Backend, {"timeout_s": "1e-3"}).timeout_s == 0.001  # PyYAML reads 1e-3 as a string
    assert from_dict(Backend, {"fallback": None}).fallback is None
    assert from_dict(Service, {"backends": {1: {}}}).backends == {"1": Backend()}  # YAML `1:` keys


def test_post_init_errors_keep_their_message_and_gain_the_source():
    @dataclass
    class Checked:
        n: int = field(default=1, metadata={"help": "At least 1."})

        def __post_init__(self) -> None:
            if self.n < 1:
                raise ValueError(f"n must be >= 1, got {self.n}")

    with pytest.raises(ConfigError, match="^run.yaml: n must be >= 1, got 0$"):
        from_dict(Checked, {"n": 0}, where="run.yaml")


def test_parse_override_reads_yaml_values_and_refuses_bad_syntax():
    assert parse_override("a.b.c=[1, 2]") == (("a", "b", "c"), [1, 2])
    assert parse_override("open=false") == (("open",), False)
    assert parse_override("note=a: b: c") == (("note",), "a: b: c")  # not YAML: kept as the text
    for bad in ("port", "=3", "a..b=1"):
        with pytest.raises(ConfigError, match="must look like key=value"):
            parse_override(bad)
    with pytest.raises(ConfigError, match="override port.x: port is int 1, not a mapping"):
        apply_overrides({"port": 1}, ["port.x=2"])


def test_load_config_yaml_then_overrides_in_order(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("port: 9001\nlimits: {max_images: 4}\n")
    cfg = load_config(Service, path, ["port=9002", "limits.mode=lax", "port=9003", "backends.vlm.backend=openai"])
    assert cfg.port == 9003 and cfg.limits == Limits(max_images=4, mode="lax")
    # an override into a field the file left out starts from its default: the default backend is kept
    assert cfg.backends == {"feature": Backend(timeout_s=5.0), "vlm": Backend(backend="openai")}
    path.write_text("backends:\n  only: {}\n")
    assert list(load_config(Service, path, ["backends.x.timeout_s=1"]).backends) == ["only", "x"]
    with pytest.raises(ConfigError, match=r"s.yaml: unknown key 'prot' \(did you mean 'port'\?\)"):
        load_config(Service, path, ["prot=1"])


def test_missing_or_malformed_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="Service config file not found: .*nope.yaml"):
        load_config(Service, tmp_path / "nope.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="the top level of a Service config must be a mapping"):
        load_config(Service, tmp_path / "list.yaml")
    (tmp_path / "bad.yaml").write_text("port: [1\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(Service, tmp_path / "bad.yaml")
    (tmp_path / "empty.yaml").write_text("")
    assert load_config(Service, tmp_path / "empty.yaml") == Service()


def test_config_from_args_precedence_yaml_then_extra_then_set(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("port: 1\nopen: true\nlimits: {max_images: 2}\n")
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, Service)
    args = parser.parse_args(["--config", str(path), "--set", "limits.max_images=5"])
    cfg = config_from_args(Service, args, {"port": 2, "limits.max_images": 3, "open": None})
    assert (cfg.port, cfg.open, cfg.limits.max_images) == (2, True, 5)  # extra beats YAML, --set beats extra


def test_help_config_lists_every_field_dotted_and_exits_0(capsys):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, Service)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--help-config"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "port (int, default 8000): TCP port." in out
    assert "limits.mode (Literal['strict', 'lax'], default 'strict'): How hard to refuse." in out
    assert "backends (dict[str, Backend], default {feature: ...}): Backends by name." in out
    assert "backends.<name>.fallback (str | None, default None): Backend to fall back to." in out
    assert out.strip() == config_help(Service)


def _config_classes() -> list[type]:
    """Every config dataclass read through creative4u.config, and the dataclasses nested in them."""
    from creative4u.checks.profile import CheckProfile
    from creative4u.cli.data import BenchManifest
    from creative4u.eval.checks_eval import ChecksEvalConfig, LabelMap
    from creative4u.eval.runner import EvalConfig
    from creative4u.jobs.settings import JobsConfig
    from creative4u.judge import JUDGES
    from creative4u.serve.config import GatewayConfig
    from creative4u.train.disgust.config import DisgustTrainConfig

    seen: list[type] = []
    todo = [GatewayConfig, DisgustTrainConfig, EvalConfig, ChecksEvalConfig, LabelMap, CheckProfile, BenchManifest,
            JobsConfig, *(JUDGES.options(name) for name in JUDGES.names())]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.append(cls)
        for tp in typing.get_type_hints(cls).values():
            todo += [a for a in (tp, *typing.get_args(tp)) if dataclasses.is_dataclass(a)]
    return seen


def test_every_config_field_has_help():
    classes = _config_classes()
    assert len(classes) >= 8  # the six above plus BackendConfig and CheckSettings nested in them
    missing = [f"{c.__name__}.{f.name}" for c in classes for f in dataclasses.fields(c) if not f.metadata.get("help")]
    assert missing == []


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["serve", "--help-config"], "backends.<name>.fallback (str | None, default None): "),
        (["demo", "--help-config"], "demo_port (int, default 7860): "),
        (["eval", "--help-config"], "backend_options ("),
        (["eval", "checks", "--help-config"], "target_false_flag (float, default 0.05): "),
        (["disgust", "train", "--help-config"], "mean_teacher (bool, default True): "),
    ],
)
def test_cli_commands_share_help_config(argv, line, capsys):
    from creative4u.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0 and line in capsys.readouterr().out


def test_serve_flags_go_through_the_loader_and_set_wins(tmp_path):
    from creative4u.cli import build_parser
    from creative4u.cli.serve import _config

    (tmp_path / "g.yaml").write_text("port: 8100\nhost: 0.0.0.0\n")
    args = build_parser().parse_args(["serve", "--config", str(tmp_path / "g.yaml"), "--port", "9000", "--no-auth",
                                      "--set", "backends.vlm.backend=random", "--set", "backends.vlm.timeout_s=2"])
    cfg = _config(args, "port")
    assert (cfg.host, cfg.port, cfg.require_auth) == ("0.0.0.0", 9000, False)
    assert sorted(cfg.backends) == ["feature", "vlm"] and cfg.backends["vlm"].timeout_s == 2.0
    args = build_parser().parse_args(["demo", "--port", "9000", "--set", "demo_port=9001"])
    assert _config(args, "demo_port").demo_port == 9001


def test_override_text_that_yaml_reads_as_a_mapping_stays_a_string() -> None:
    # "sqlite:///:memory:" is a block mapping to YAML; as a value on the command line it is a URL.
    assert parse_override("store=sqlite:///:memory:") == (("store",), "sqlite:///:memory:")
    assert parse_override("note=a: b") == (("note",), "a: b")
    assert parse_override("tags={a: 1}") == (("tags",), {"a": 1})

"""Backend options in `creative4u eval`: typed from the backend's options dataclass, so a resume compares like with
like whether the options came from flags or from the YAML config."""

from __future__ import annotations

import json

import pytest

from creative4u.cli import main
from creative4u.judge import JUDGES
from creative4u.judge.base import Judge, Verdict


class FakeVLM(Judge):
    """Stands in for the transformers backend (same registry entry, so the same declared options): no model."""

    name = "transformers"
    needs_screens = False

    def __init__(self, **options) -> None:
        self.options = options

    @property
    def model_name(self) -> str:
        return str(self.options.get("model"))

    def judge_pairs(self, pairs):
        return [Verdict("A", 0.6, 0.6, "A looks fine", self.name, self.model_name) for _ in pairs]


@pytest.fixture
def fake_vlm(monkeypatch):
    monkeypatch.setitem(JUDGES._entries, "transformers", FakeVLM)


def _eval(pair_bench, out, *args):
    return main(["eval", str(pair_bench / "pairs.jsonl"), "--out", str(out), "--limit", "2", "--no-progress",
                 "--no-report", "--bootstrap", "20", *args])


def test_resume_accepts_the_same_options_from_flags_and_from_yaml(fake_vlm, pair_bench, tmp_path, capsys):
    out = tmp_path / "run"
    assert _eval(pair_bench, out, "--backend", "transformers", "--model", "m", "--max-new-tokens", "16") == 0
    recorded = json.loads((out / "run.json").read_text())["backend_options"]
    assert recorded["max_new_tokens"] == 16 and isinstance(recorded["max_new_tokens"], int)
    capsys.readouterr()
    config = tmp_path / "eval.yaml"
    config.write_text("backend: transformers\nbackend_options:\n  model: m\n  max_new_tokens: 16\n")
    # Same run, options now from the YAML file (an int there): a resume, not "predictions of another run".
    assert _eval(pair_bench, out, "--config", str(config), "--limit", "3") == 0
    err = capsys.readouterr().err
    assert "another run" not in err and "resuming: 2 of 3 pairs" in err


def test_run_record_holds_every_typed_option_without_secrets(fake_vlm, pair_bench, tmp_path):
    out = tmp_path / "run"
    assert _eval(pair_bench, out, "--backend", "transformers", "--model", "m", "--max-pixels", "50000") == 0
    recorded = json.loads((out / "run.json").read_text())["backend_options"]
    assert recorded["max_pixels"] == 50000 and recorded["device"] == "cpu" and recorded["max_new_tokens"] == 512
    # A default spelled out on resume is the same run.
    assert _eval(pair_bench, out, "--backend", "transformers", "--model", "m", "--max-pixels", "50000",
                 "--device", "cpu") == 0


def test_a_flag_the_backend_does_not_take_is_an_error(pair_bench, tmp_path, capsys):
    assert _eval(pair_bench, tmp_path / "r", "--backend", "random", "--max-new-tokens", "16") == 2
    err = capsys.readouterr().err
    assert "random judge: unknown option(s) max_new_tokens; valid: seed, tie_rate" in err
    assert not (tmp_path / "r" / "predictions.jsonl").exists()

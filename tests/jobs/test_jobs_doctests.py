"""The runnable examples in the jobs wing's docstrings (the same rule as tests/test_doctests.py)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["creative4u.jobs", "creative4u.jobs.settings", "creative4u.jobs.store", "creative4u.jobs.webhooks",
           "creative4u.jobs.service", "creative4u.jobs.worker", "creative4u.jobs.api", "creative4u.jobs.testing",
           "creative4u.cli.jobs"]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"


def test_example_config_loads() -> None:
    from pathlib import Path

    from creative4u.jobs.service import client_profile
    from creative4u.jobs.settings import load_jobs_config

    cfg = load_jobs_config(Path(__file__).resolve().parents[2] / "serve" / "jobs.example.yaml")
    assert cfg.client("acme").thresholds == {"sharpness": 0.6, "text": 0.2}
    assert client_profile(cfg, "acme").checks["sharpness"].threshold == 0.6

"""The runnable examples at the top of the public docstrings must keep running (``python -m doctest`` style).

Modules whose examples need a server, a GPU or a large download are not listed; every listed module must have
at least one example, so an emptied docstring fails here too.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "creative4u.train.rewards",
    "creative4u.train.grpo",
    "creative4u.answer_format",
    "creative4u.prompts",
    "creative4u.data.ctr_pairs",
    "creative4u.data.validate",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"

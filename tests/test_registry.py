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

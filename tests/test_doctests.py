"""The runnable examples in the docstrings must keep running (``python -m doctest`` style), in every module.

The modules are found, not listed: every module of the ``creative4u`` package whose source has ``>>>`` is run, so a
moved or new file is covered at once. Such a module must have at least one example doctest really runs (``>>>``
before a comment only does not count), so an emptied docstring fails here too. A module (or an example) that needs
an optional extra which is not installed is skipped, naming the missing package; a missing ``creative4u`` module
is a failure, never a skip.
"""

from __future__ import annotations

import doctest
import importlib
import io
from pathlib import Path

import pytest

import creative4u

PACKAGE = Path(creative4u.__file__).resolve().parent
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def modules_with_examples() -> list[str]:
    """Dotted names of the package's modules whose source holds a ``>>>`` (``__main__`` modules excluded)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py" or ">>>" not in path.read_text(encoding="utf-8"):
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _missing_extra(err: BaseException) -> str | None:
    """The third-party package an ImportError is about (an extra not installed), else None."""
    name = getattr(err, "name", None) or ""
    return name if isinstance(err, ImportError) and name and name.split(".")[0] != "creative4u" else None


class _Runner(doctest.DocTestRunner):
    """Records which optional packages the failing examples could not import."""

    def __init__(self) -> None:
        super().__init__(optionflags=FLAGS, verbose=False)
        self.missing: set[str] = set()

    def report_unexpected_exception(self, out, test, example, exc_info):  # doctest's hook and signature
        if missing := _missing_extra(exc_info[1]):
            self.missing.add(missing)
        super().report_unexpected_exception(out, test, example, exc_info)


MODULES = modules_with_examples()


def test_discovery_finds_the_package() -> None:
    assert len(MODULES) > 50 and "creative4u.images" in MODULES and "creative4u.pipeline" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ImportError as err:
        if missing := _missing_extra(err):
            pytest.skip(f"{name} needs {missing!r}, an optional extra that is not installed")
        raise
    runner, report = _Runner(), io.StringIO()
    for test in sorted(doctest.DocTestFinder().find(module, name)):
        runner.run(test, out=report.write)
    result = runner.summarize(verbose=False)
    if result.failed and runner.missing:
        pytest.skip(f"{name}'s examples need {sorted(runner.missing)}, optional extras that are not installed")
    assert result.attempted > 0, f"{name} has '>>>' but no runnable docstring example"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}:\n{report.getvalue()}"

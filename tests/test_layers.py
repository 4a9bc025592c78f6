"""The package's layers point down only: read every import (module level and inside functions) with ``ast``.

The rules (README, "Layers"): ``checks/`` knows no judge, trainer, server, eval, data builder or CLI; the core
knows no ``serve/``, ``train/``, ``eval/``, ``cli/``; ``judge/`` no ``train/``, ``serve/``, ``eval/``, ``data/``;
``data/`` no ``train/``, ``serve/``, ``judge/``; ``serve/`` no ``train/``; ``train/`` no ``serve/``. New wings
(``jobs/``, ``pool/``) sit beside ``serve/``: nothing below them imports them. A failure names the file, the line
and the imported name, so the fix is obvious.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "creative4u"
CORE = ("images", "features", "pipeline", "selection", "tournament", "registry", "models", "prompts",
        "answer_format", "config", "openai_client", "vllm_launcher")
WINGS = ("jobs", "pool")
# layer -> the subpackages it must not import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "checks": ("judge", "train", "serve", "eval", "data", "cli", *WINGS),
    "core": ("serve", "train", "eval", "cli", *WINGS),
    "judge": ("train", "serve", "eval", "data", "cli", *WINGS),
    "data": ("train", "serve", "judge", "eval", "cli", *WINGS),
    "serve": ("train", "cli", *WINGS),
    "train": ("serve", "eval", "cli", *WINGS),
    "eval": ("serve", "train", "cli", *WINGS),
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    path: Path
    line: int
    target: str  # the imported creative4u module or name, dotted


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path) -> list[Import]:
    """Every ``creative4u`` import in one file, with ``from X import Y`` reported as ``X.Y``."""
    module, is_package = module_name(path), path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(node, module, is_package)
            targets = [f"{source}.{alias.name}" for alias in node.names]
        else:
            continue
        out += [Import(module, path, node.lineno, t) for t in targets if t.split(".")[0] == "creative4u"]
    return out


def all_imports() -> list[Import]:
    return [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in imports_of(path)]


def layer_of(dotted: str) -> str | None:
    """``checks``/``judge``/... for a module in a subpackage, ``core`` for a core module, else None."""
    parts = dotted.split(".")
    if len(parts) < 2:
        return None
    return "core" if parts[1] in CORE else parts[1]


def violations(imports: list[Import]) -> list[str]:
    found = []
    for imp in imports:
        layer = layer_of(imp.module)
        target = imp.target.split(".")
        if layer in FORBIDDEN and len(target) > 1 and target[1] in FORBIDDEN[layer]:
            found.append(f"{imp.path.relative_to(PACKAGE.parent)}:{imp.line}: {layer} imports {imp.target}")
    return found


def module_graph(imports: list[Import]) -> dict[str, set[str]]:
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports:
        target = imp.target
        while target and target not in modules:  # ``from pkg.mod import name`` -> pkg.mod
            target = target.rpartition(".")[0]
        if target and target != imp.module:
            graph[imp.module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_layer_imports_only_downwards() -> None:
    bad = violations(all_imports())
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_import_cycles_between_modules() -> None:
    found = cycles(module_graph(all_imports()))
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_core_modules_named_in_the_rules_exist() -> None:
    # A core module renamed without updating CORE would silently escape the core's rule.
    missing = [name for name in CORE if not (PACKAGE / f"{name}.py").is_file() and not (PACKAGE / name).is_dir()]
    assert not missing, f"CORE names modules that do not exist: {missing}"


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from creative4u.judge.vlm import prepare_image", "creative4u.checks.x", ["checks imports creative4u.judge"]),
        ("from ..serve import api_server", "creative4u.train.x", ["train imports creative4u.serve.api_server"]),
        ("import creative4u.eval.runner", "creative4u.pipeline", ["core imports creative4u.eval.runner"]),
        ("def f():\n    from creative4u.data import pairs", "creative4u.judge.x", ["judge imports creative4u.data"]),
        ("from creative4u.images import load_image", "creative4u.checks.x", []),
        ("from creative4u.pipeline import Pipeline", "creative4u.serve.x", []),
    ],
)
def test_the_rule_checker_catches_upward_imports(tmp_path, monkeypatch, source, module, expected) -> None:
    # The checker itself must fail on a violation, or the two tests above prove nothing.
    fake = tmp_path / "creative4u" / Path(*module.split(".")[1:]).with_suffix(".py")
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text(source + "\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path / "creative4u")
    found = violations(imports_of(fake))
    assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found, strict=True)), found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]

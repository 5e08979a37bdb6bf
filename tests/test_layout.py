"""The layout's import rules, read from the source (no module is imported).

engine/ is the math and imports only numpy (and the shared errors); config/ and
data/ build on the engine but never on explain/ or run/; nothing in the core
imports the CLI or a terminal library; and no core modules import each other
in a loop, so every module can be read from the bottom up.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "backprop_core"
STDLIB = set(sys.stdlib_module_names)

# subpackage -> the backprop_core parts it may import (besides itself)
ALLOWED_CORE = {
    "engine": {"errors"},
    "config": {"errors", "atomic", "streams", "engine"},
    "data": {"errors", "atomic", "streams", "engine", "config"},
    "explain": {"errors", "engine"},
    "run": {"errors", "atomic", "streams", "engine", "config", "data"},
    "grading": {"errors", "atomic", "streams", "engine", "config", "data", "explain", "run"},
    "export": {"errors", "atomic", "engine", "config", "data", "run"},
}
ALLOWED_THIRD_PARTY = {
    "engine": {"numpy"},
    "config": {"numpy", "yaml", "pydantic"},
    "data": {"numpy", "yaml"},
    "explain": {"numpy"},
    "run": {"numpy", "yaml", "ruamel", "threadpoolctl"},
    "grading": {"numpy", "yaml"},
    "export": {"numpy", "yaml", "onnx"},  # onnx only inside functions: see below
}
# Optional extras: imported inside the functions that need them, never at import
# time, so the core works without them (export/extras.require names the extra).
LAZY_ONLY = {"onnx", "onnxruntime", "torch", "yaml"}


def import_statements(source: str, package: str) -> Iterator[tuple[str, list[str]]]:
    """(module, the names taken from it) for each import; relative imports resolved.

    Imports under ``if TYPE_CHECKING:`` and inside functions count too.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base), names
            elif node.module:
                yield node.module, names


def imports_of(source: str, package: str) -> set[str]:
    """Absolute module names a file imports (relative imports resolved)."""
    return {module for module, _ in import_statements(source, package)}


def violations(source: str, relative: Path) -> list[str]:
    """What a core file at ``relative`` (under backprop_core/) imports against the rules."""
    package = ".".join(("backprop_core", *relative.parts[:-1]))
    found = []
    for name in sorted(imports_of(source, package)):
        top = name.split(".")[0]
        if top in {"cli", "typer", "rich", "click"}:
            found.append(f"{relative} imports {name}: the core has no terminal code")
        if len(relative.parts) == 1:
            continue  # top-level modules are shared helpers
        sub = relative.parts[0]
        if top == "backprop_core":
            target = name.split(".")[1] if "." in name else ""
            if target and target not in ALLOWED_CORE[sub] | {sub}:
                found.append(
                    f"{relative} imports {name}: {sub}/ may import only {sorted(ALLOWED_CORE[sub])}"
                )
        elif top not in STDLIB and top != "__future__" and top not in ALLOWED_THIRD_PARTY[sub]:
            found.append(f"{relative} imports {name}")
    return found


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_imports_follow_the_layout(path: Path) -> None:
    assert violations(path.read_text(), path.relative_to(CORE)) == []


def top_level_imports(source: str) -> set[str]:
    """Top-level package names a module imports when it is imported (not in functions)."""
    found: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    "path", sorted((CORE / "export").rglob("*.py")), ids=lambda p: str(p.relative_to(CORE))
)
def test_export_imports_its_extras_lazily(path: Path) -> None:
    assert top_level_imports(path.read_text()) & LAZY_ONLY == set()


def test_the_lazy_checker_sees_a_top_level_import() -> None:
    source = "import numpy\nimport onnx\ndef f():\n    import torch\n"
    assert top_level_imports(source) & LAZY_ONLY == {"onnx"}


def test_few_modules_at_the_top_and_at_least_four_subpackages() -> None:
    top_modules = sorted(p.name for p in CORE.glob("*.py"))
    subpackages = {p.name for p in CORE.iterdir() if (p / "__init__.py").is_file()}
    assert len(top_modules) <= 10, top_modules
    assert subpackages == set(ALLOWED_CORE)


def test_the_checker_sees_forbidden_imports() -> None:
    source = (
        "from backprop_core.explain import derivation\nimport rich\nfrom ..run import training\n"
    )
    assert violations(source, Path("engine/x.py")) == [
        "engine/x.py imports backprop_core.explain: engine/ may import only ['errors']",
        "engine/x.py imports backprop_core.run: engine/ may import only ['errors']",
        "engine/x.py imports rich: the core has no terminal code",
        "engine/x.py imports rich",
    ]
    assert violations("import numpy\nfrom ..errors import ConfigError\n", Path("engine/y.py")) == []


def module_of(relative: Path) -> str:
    """The dotted name of the module at `relative` (from the repository root)."""
    parts = relative.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(sources: dict[Path, str]) -> dict[str, set[str]]:
    """Module -> the modules among `sources` it imports (``from pkg import mod`` imports mod)."""
    known = {module_of(path) for path in sources}
    graph: dict[str, set[str]] = {}
    for path, source in sources.items():
        package = ".".join(path.parts[:-1])
        targets = graph.setdefault(module_of(path), set())
        for module, names in import_statements(source, package):
            submodules = {f"{module}.{name}" for name in names} & known
            targets.update(submodules or ({module} & known))
    return graph


def import_circle(graph: dict[str, set[str]]) -> list[str]:
    """One loop of imports (its first module again at the end), or [] when there is none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as e:
        return list(e.args[1])
    return []


def test_no_core_modules_import_each_other_in_a_loop() -> None:
    sources = {path.relative_to(CORE.parent): path.read_text() for path in CORE.rglob("*.py")}
    graph = import_graph(sources)
    assert "backprop_core.config.model" in graph["backprop_core.config.semantics"]
    assert import_circle(graph) == []


def test_the_circle_check_sees_a_loop() -> None:
    sources = {
        Path("backprop_core/a.py"): "from backprop_core.pkg import b\n",
        Path("backprop_core/pkg/__init__.py"): "",
        Path("backprop_core/pkg/b.py"): "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..a import A\n",
        Path("backprop_core/c.py"): "import numpy\nimport backprop_core.a\n",
    }
    graph = import_graph(sources)
    assert graph == {
        "backprop_core.a": {"backprop_core.pkg.b"},
        "backprop_core.pkg": set(),
        "backprop_core.pkg.b": {"backprop_core.a"},
        "backprop_core.c": {"backprop_core.a"},
    }
    circle = import_circle(graph)
    assert circle[0] == circle[-1] and sorted(circle[1:]) == [
        "backprop_core.a",
        "backprop_core.pkg.b",
    ]
    del sources[Path("backprop_core/pkg/b.py")]
    assert import_circle(import_graph(sources)) == []

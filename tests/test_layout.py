"""The layout's import rules, read from the source (no module is imported).

engine/ is the math and imports only numpy (and the shared errors); config/ and
data/ build on the engine but never on explain/ or run/; nothing in the core
imports the CLI or a terminal library.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "backprop_core"
STDLIB = set(sys.stdlib_module_names)

# subpackage -> the backprop_core parts it may import (besides itself)
ALLOWED_CORE = {
    "engine": {"errors"},
    "config": {"errors", "atomic", "engine"},
    "data": {"errors", "atomic", "engine", "config"},
    "explain": {"errors", "engine"},
    "run": {"errors", "atomic", "engine", "config", "data"},
    "grading": {"errors", "atomic", "engine", "config", "data", "explain", "run"},
}
ALLOWED_THIRD_PARTY = {
    "engine": {"numpy"},
    "config": {"numpy", "yaml", "pydantic"},
    "data": {"numpy", "yaml"},
    "explain": {"numpy"},
    "run": {"numpy", "yaml"},
    "grading": {"numpy", "yaml"},
}


def imports_of(source: str, package: str) -> set[str]:
    """Absolute module names a file imports (relative imports resolved)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
    return found


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

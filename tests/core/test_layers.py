"""The import direction of docs/architecture.md: a module imports only its own layer or lower."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "tripwire"

LAYERS = {
    0: {"_version", "errors", "_log", "_protocol", "_typing", "_import_hooks"},
    1: {
        "_dsn",
        "_options",
        "_stacktrace",
        "_serialize",
        "_scrub",
        "_shrink",
        "_finalize",
        "_environment",
        "_scope",
        "_envelope",
        "_minidump",
        "_multipart",
        "_ratelimit",
        "_outcomes",
        "_proxy",
    },
    2: {"_http", "_worker", "_transport_results", "_transport_base", "_transport"},
    3: {"_client"},
    4: {"_hub", "_task_scopes"},
    5: {"_api", "__init__", "__main__", "testing", "cli", "integrations"},
}
LAYER_OF = {name: layer for layer, names in LAYERS.items() for name in names}


def layer_of(module: str) -> int:
    top = module.split(".")[0]
    if top.startswith("_cli_"):
        return 5
    return LAYER_OF[top]


def internal_imports(path: Path) -> set[str]:
    """Names of tripwire modules that ``path`` imports, anywhere in the file."""
    package = path.relative_to(SRC).parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - node.level + 1])
            if node.module:
                found.add(".".join([*base, node.module]) or node.module)
            else:
                found.update(".".join([*base, alias.name]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tripwire."):
            found.add(node.module.split(".", 1)[1])  # type: ignore[union-attr]
    return {name for name in found if name}


MODULES = sorted(p for p in SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_its_layer_or_lower(path: Path) -> None:
    """No module imports from a layer above its own."""
    rel = path.relative_to(SRC)
    own = 5 if rel.parts[0] == "integrations" else layer_of(rel.stem)
    for name in internal_imports(path):
        if name.split(".")[0] == "integrations":
            assert own == 5, f"{rel} imports {name}"
            continue
        assert layer_of(name) <= own, f"{rel} (layer {own}) imports {name} (layer {layer_of(name)})"

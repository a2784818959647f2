"""The shape of the house, checked: which package may import which, and how big a module or a
function may grow. The README's "Where things live" says the same in words."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "hitclaims"

# Each layer and the layers it may import (itself included). The root package gives __version__.
ALLOWED: dict[str, set[str]] = {
    "core": {"core", "root"},
    "inputs": {"core", "inputs", "root"},
    "formats": {"core", "inputs", "formats", "root"},
    "store": {"core", "inputs", "store", "root"},
    "services": {"core", "inputs", "formats", "store", "services", "root"},
    # Entry points: the services, the core's words and values, the settings, and the store's row
    # types that services hand back (never a store function, a format or a file reader).
    "api": {"api", "services", "core", "settings", "store.models", "root"},
    "web": {"web", "services", "core", "settings", "store.models", "root"},
    # The command line, in cli.py and its cli_<topic>.py modules.
    "cli": {"cli", "services", "core", "settings", "server", "root"},
    "server": {"api", "web", "services", "core", "root"},
}
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60


def _layer(module: str) -> str:
    parts = module.split(".")
    if parts == ["hitclaims"] or parts[1] in ("__main__", "__init__", "__version__"):
        return "root"
    if parts[1].startswith("cli_"):
        return "cli"
    if parts[1] == "inputs" and len(parts) > 2 and parts[2] == "settings":
        return "settings"
    if parts[1] == "store" and len(parts) > 2 and parts[2] == "models":
        return "store.models"
    return parts[1]


def _sources() -> Iterator[tuple[str, Path]]:
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        relative = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        yield name, path


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "hitclaims":
                for alias in node.names:
                    yield node.lineno, f"hitclaims.{alias.name}"
            elif node.module.startswith("hitclaims."):
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("hitclaims."):
                    yield node.lineno, alias.name


def _owner(module: str) -> str:
    layer = _layer(module)
    return {"settings": "inputs", "store.models": "store"}.get(layer, layer)


def _violations() -> list[str]:
    found = []
    for module, path in _sources():
        owner = _owner(module)
        if owner == "root":
            continue
        for line, imported in _imports(path):
            target = _layer(imported)
            allowed = ALLOWED[owner]
            if target not in allowed and _owner(imported) not in allowed:
                found.append(f"{path.relative_to(SRC)}:{line} ({owner}) imports {imported}")
    return found


def test_every_package_imports_only_the_layers_below_it() -> None:
    assert _violations() == []


def test_the_import_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    # The check must be able to fail: the store rendering an 837 is exactly what it forbids.
    module = tmp_path / "bad.py"
    module.write_text("from hitclaims.formats.x12.claim_837p import write_837\nfrom hitclaims import web\n")
    imported = [name for _, name in _imports(module)]
    assert imported == ["hitclaims.formats.x12.claim_837p", "hitclaims.web"]
    assert _layer(imported[0]) not in ALLOWED["store"]
    assert _layer(imported[1]) not in ALLOWED["api"]
    assert _layer("hitclaims.store.claims") not in ALLOWED["web"]


@pytest.mark.parametrize(("name", "path"), list(_sources()), ids=lambda v: str(v))
def test_no_module_outgrows_its_job(name: str, path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name} has {lines} lines"


def _is_data_table(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A function that only returns a literal table (a form's layout, say) is data, not logic."""
    body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    literals = (ast.List, ast.Tuple, ast.Dict, ast.Set)
    return len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, literals)


def test_no_function_is_longer_than_a_screen() -> None:
    long = []
    for _, path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_data_table(node):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({length} lines)")
    assert long == []

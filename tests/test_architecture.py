"""The house rules a machine can check beyond import-linter's contracts (docs/architecture.md)."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db  # the cache every test clears is the database's

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    path
    for package in ("portail", "ceres")
    for path in (ROOT / package).rglob("*.py")
    if "migrations" not in path.parts
)
WEB_MODULES = ("views.py", "forms.py", "_views.py", "_forms.py")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def app_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def imports(path: Path):
    """(imported module, imported name or None, line) for every import of the file."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.module, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno


def test_the_sources_are_found():
    assert len(SOURCES) > 100


@pytest.mark.parametrize("path", SOURCES, ids=module_name)
def test_no_module_imports_a_private_name_of_another_app(path):
    """A name with a leading underscore is its app's own business."""
    here = app_of(module_name(path))
    leaks = [
        f"{path.name}:{line} imports {module}.{name}"
        for module, name, line in imports(path)
        if module.startswith(("portail.", "ceres."))
        and app_of(module) != here
        and name is not None
        and name.startswith("_")
    ]
    assert not leaks


# What asks the company registry over the network (its data types may be imported anywhere).
REGISTRY_CALLS = {"lookup", "establishment_from_registry", "get_adapter"}
# The public SIRET lookup is the registry's read exposed as JSON (rate-limited): its only job.
REGISTRY_ENDPOINTS = {"portail.companies.views"}
WEB_SOURCES = [path for path in SOURCES if path.name.endswith(WEB_MODULES)]


@pytest.mark.parametrize("path", WEB_SOURCES, ids=module_name)
def test_views_and_forms_neither_open_transactions_nor_call_the_registry(path):
    """A view or a form reads and calls one flow; the flow owns the transaction and the network."""
    tree = ast.parse(path.read_text(), filename=str(path))
    atomic = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "atomic"
    ]
    registry = [
        line
        for module, name, line in imports(path)
        if (module == "portail.companies.registry" and name in REGISTRY_CALLS)
        or module.startswith("portail.companies.adapters")
        or (module == "portail.companies" and name == "registry")
    ]
    if module_name(path) in REGISTRY_ENDPOINTS:
        registry = []
    assert not atomic, f"transaction.atomic at lines {atomic}"
    assert not registry, f"the company registry imported at lines {registry}"


def test_web_modules_are_found():
    assert len(WEB_SOURCES) > 10


def test_no_test_skips_by_hand_off_postgresql():
    """What needs PostgreSQL says so with `postgres_only(reason=…)` and tests/conftest.py skips
    it on SQLite: one rule, seen by `-m postgres_only`, rather than a skip written in each file."""
    by_hand = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.If)
        and "vendor" in ast.unparse(node.test)
        and any(
            isinstance(call, ast.Call) and ast.unparse(call.func) == "pytest.skip"
            for statement in node.body
            for call in ast.walk(statement)
        )
    ]
    assert not by_hand

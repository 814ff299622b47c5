"""Prints which apps of `portail` import which, and the pairs that import each other.

    .venv/bin/python -m portail.devtools.app_graph [--with-type-checking]

Built with grimp, the graph library of import-linter, so it sees what `make imports` sees:
every import statement, those inside functions included; imports under `if TYPE_CHECKING:` are
left out, as in the contracts, unless `--with-type-checking` is given. The first section has one
line per app with the apps it imports; the second lists the two-way dependencies (cycles of length
two) with each import that makes them, marked "(in a function)" or "(under TYPE_CHECKING)" when
it is not at the top level.
The target layering is in docs/architecture.md.
"""

import argparse
import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import grimp

ROOT_PACKAGE = "portail"
SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the `portail` package


def short(module: str) -> str:
    return module.removeprefix(f"{ROOT_PACKAGE}.")


def app_of(module: str) -> str:
    """`portail.accounts.flows` -> `portail.accounts`; the root package stays itself."""
    parts = module.split(".")
    return ".".join(parts[:2])


def build(*, with_type_checking: bool = False) -> grimp.ImportGraph:
    return grimp.build_graph(
        ROOT_PACKAGE,
        include_external_packages=False,
        exclude_type_checking_imports=not with_type_checking,
        cache_dir=None,
    )


def app_dependencies(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """Each child of the root package (apps, settings, urls, ...) and the children it imports."""
    apps = sorted(graph.find_children(ROOT_PACKAGE))
    deps: dict[str, set[str]] = {app: set() for app in apps}
    for module in graph.modules:
        importer = app_of(module)
        if importer not in deps:
            continue  # the root package's own __init__
        for imported in graph.find_modules_directly_imported_by(module):
            target = app_of(imported)
            if target != importer and target in deps:
                deps[importer].add(target)
    return deps


def _source_of(module: str) -> Path:
    package = SOURCE_ROOT.joinpath(*module.split("."))
    return package / "__init__.py" if package.is_dir() else package.with_suffix(".py")


@cache
def _placements(module: str) -> dict[int, str]:
    """Line number of each import statement not at the top level -> where it sits."""
    try:
        tree = ast.parse(_source_of(module).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return {}
    found: dict[int, str] = {}

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = where
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                inner = "in a function"
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                inner = inner or "under TYPE_CHECKING"
            if isinstance(child, ast.Import | ast.ImportFrom) and inner:
                found[child.lineno] = inner
            visit(child, inner)

    visit(tree, "")
    return found


def placement(module: str, line_number: int) -> str:
    """ " (in a function)", " (under TYPE_CHECKING)", or "" for an import at the top level."""
    where = _placements(module).get(line_number)
    return f" ({where})" if where else ""


def imports_between(
    graph: grimp.ImportGraph, importer_app: str, imported_app: str
) -> Iterator[str]:
    """One line per import statement from a module of one app to a module of the other."""
    for importer in sorted(m for m in graph.modules if app_of(m) == importer_app):
        imported_modules = graph.find_modules_directly_imported_by(importer)
        for imported in sorted(m for m in imported_modules if app_of(m) == imported_app):
            details = graph.get_import_details(importer=importer, imported=imported)
            for line_number in sorted({detail["line_number"] for detail in details}):
                where = placement(importer, line_number)
                yield f"    {short(importer)}:{line_number} -> {short(imported)}{where}"


def report(graph: grimp.ImportGraph) -> list[str]:
    deps = app_dependencies(graph)
    lines = ["# App dependencies (importer -> imported)"]
    width = max(len(short(app)) for app in deps)
    for app, imported in deps.items():
        targets = ", ".join(short(target) for target in sorted(imported)) or "(none)"
        lines.append(f"{short(app):<{width}} -> {targets}")

    lines += ["", "# Two-way dependencies (each app imports the other)"]
    pairs = [(a, b) for a in deps for b in sorted(deps[a]) if a < b and a in deps.get(b, set())]
    if not pairs:
        lines.append("(none)")
    for a, b in pairs:
        lines.append(f"{short(a)} <-> {short(b)}")
        lines.extend(imports_between(graph, a, b))
        lines.extend(imports_between(graph, b, a))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--with-type-checking",
        action="store_true",
        help="count the imports under `if TYPE_CHECKING:` too",
    )
    args = parser.parse_args(argv)
    print("\n".join(report(build(with_type_checking=args.with_type_checking))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

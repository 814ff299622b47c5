"""How much of the code mypy sees typed, per app: the figure behind `make types-report`.

    .venv/bin/python -m portail.devtools.type_coverage

Runs mypy twice, as `make types` does (the portal with pyproject.toml, CERES with
ceres/mypy.ini), with its line-count and Any-expression reports written under var/mypy-report/,
then prints one line per app:

- functions: the share of functions with annotations (mypy's line-count report counts a function
  as typed once it has any annotation);
- lines: the share of lines that sit in those functions;
- precise: the share of expressions whose type is not Any;
- strict: whether pyproject.toml holds the app to mypy's strict flags (`disallow_untyped_defs`).
"""

import subprocess
import sys
import tomllib
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORT_DIR = ROOT / "var" / "mypy-report"
RUNS = {  # report folder: the mypy arguments of `make types`
    "portail": [],
    "ceres": ["--config-file", "ceres/mypy.ini", "ceres"],
}


@dataclass
class Figures:
    typed_lines: int = 0
    lines: int = 0
    typed_funcs: int = 0
    funcs: int = 0
    any_exprs: int = 0
    exprs: int = 0

    def add(self, other: "Figures") -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def app_of(module: str) -> str:
    """`portail.accounts.flows` -> `portail.accounts`; CERES counts as one (`ceres`)."""
    parts = module.split(".")
    return "ceres" if parts[0] == "ceres" else ".".join(parts[:2])


def run_mypy(name: str, arguments: list[str]) -> Path:
    folder = REPORT_DIR / name
    command = [sys.executable, "-m", "mypy", *arguments]
    command += ["--linecount-report", str(folder), "--any-exprs-report", str(folder)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if not (folder / "linecount.txt").exists():
        sys.exit(f"mypy wrote no report:\n{done.stdout}{done.stderr}")
    return folder


def read_reports(folder: Path, figures: dict[str, Figures]) -> None:
    # linecount.txt: lines in typed functions, lines, typed functions, functions, module.
    for line in (folder / "linecount.txt").read_text().splitlines():
        typed_lines, lines, typed_funcs, funcs, module = line.split()
        if module != "total":
            figures.setdefault(app_of(module), Figures()).add(
                Figures(int(typed_lines), int(lines), int(typed_funcs), int(funcs))
            )
    # any-exprs.txt: a table (module, Any expressions, expressions, coverage) between rulers.
    for line in (folder / "any-exprs.txt").read_text().splitlines():
        cells = line.split()
        if len(cells) == 4 and cells[1].isdigit() and cells[0] != "Total":
            figures.setdefault(app_of(cells[0]), Figures()).add(
                Figures(any_exprs=int(cells[1]), exprs=int(cells[2]))
            )


def strict_patterns() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns: list[str] = []
    for override in config["tool"]["mypy"].get("overrides", []):
        if override.get("disallow_untyped_defs"):
            modules = override["module"]
            patterns += [modules] if isinstance(modules, str) else modules
    return [*patterns, "ceres.*"]  # ceres/mypy.ini: strict = True


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    -  "


def report(figures: dict[str, Figures], strict: list[str]) -> list[str]:
    header = f"{'app':<24} {'functions':>16} {'lines':>16} {'precise':>9}  strict"
    lines = [header, "-" * len(header)]
    total = Figures()
    for app in sorted(figures):
        f = figures[app]
        total.add(f)
        is_strict = any(fnmatch(f"{app}.x", pattern) for pattern in strict)
        lines.append(
            f"{app:<24} {f.typed_funcs:>5}/{f.funcs:<5}{percent(f.typed_funcs, f.funcs)}"
            f" {f.typed_lines:>5}/{f.lines:<5}{percent(f.typed_lines, f.lines)}"
            f" {percent(f.exprs - f.any_exprs, f.exprs):>9}  {'yes' if is_strict else ''}"
        )
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<24} {total.typed_funcs:>5}/{total.funcs:<5}"
        f"{percent(total.typed_funcs, total.funcs)}"
        f" {total.typed_lines:>5}/{total.lines:<5}{percent(total.typed_lines, total.lines)}"
        f" {percent(total.exprs - total.any_exprs, total.exprs):>9}"
    )
    return lines


def main() -> int:
    figures: dict[str, Figures] = {}
    for name, arguments in RUNS.items():
        read_reports(run_mypy(name, arguments), figures)
    print("\n".join(report(figures, strict_patterns())))
    print(f"\nmypy's reports: {REPORT_DIR.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

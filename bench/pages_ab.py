"""Two checkouts' `bench/pages.py`, run alternately, and one table of both: what a change bought.

    .venv/bin/python bench/pages_ab.py --before ../before --after . --pairs 3 --rounds 60

The machine's speed drifts by tens of per cent from one minute to the next, more than most
changes: a single run of each side says little. The runs go in pairs of pairs (before, after,
after, before), so that a drift in one direction weighs on both sides alike; each side's figure
for a step is the median of its runs' medians, with their range, and the last column counts the
adjacent pairs in which the after side was the lighter. Each checkout runs its own
`bench/pages.py` with its own virtualenv (`<checkout>/.venv`); the logs are kept under
var/bench/ab/. Extra arguments after `--` go to both (`-- --postgres postgres://…`).
"""

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMS = {
    "full login beyond the hash": re.compile(r"beyond the hash ([\d.]+) ms"),
    "argon2id yardstick": re.compile(r"Keycloak's parameters ([\d.]+) ms"),
    "sign-on, portal": re.compile(r"per entry: portal ([\d.]+) ms"),
    "sign-on, CERES": re.compile(r"\+ CERES ([\d.]+) ms"),
    "sign-on, both": re.compile(r"= ([\d.]+) ms of worker CPU"),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout measured first")
    parser.add_argument("--after", type=Path, required=True, help="checkout of the change")
    parser.add_argument("--pairs", type=int, default=3, help="pairs of pairs (4 runs each)")
    parser.add_argument("--rounds", type=int, default=60, help="requests per step and run")
    parser.add_argument("extra", nargs="*", help="more arguments for bench/pages.py (after --)")
    return parser.parse_args()


def figures(output: str) -> dict[str, float]:
    """CPU p50 per step (and app) of one run's table, and the sums printed after it."""
    found: dict[str, float] = {}
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("-----")) + 1
    for line in lines[start:]:
        if not line.strip():
            break
        step, rest = line[:34].strip(), line[34:].split()
        found[f"{step} ({rest[0]})"] = float(rest[2])
    for name, pattern in SUMS.items():
        match = pattern.search(output)
        if match:
            found[name] = float(match.group(1))
    return found


def cell(values: list[float], middle: float) -> str:
    """A side's figure and the range of its runs."""
    return f"{middle:.2f} ({min(values):.2f}–{max(values):.2f})"


def run(checkout: Path, label: str, index: int, args: argparse.Namespace) -> dict[str, float]:
    python = checkout.resolve() / ".venv" / "bin" / "python"
    command = [str(python), "bench/pages.py", "--rounds", str(args.rounds), *args.extra]
    done = subprocess.run(command, cwd=checkout, capture_output=True, text=True, check=False)
    log = ROOT / "var" / "bench" / "ab" / f"{index:02d}-{label}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"{label} run {index} failed (exit {done.returncode}): see {log}")
    print(f"  run {index:2d}: {label} done ({log.name})", flush=True)
    return figures(done.stdout)


def main() -> int:
    args = parse_args()
    sides: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    order = ["before", "after", "after", "before"] * args.pairs
    for index, label in enumerate(order, 1):
        checkout = args.before if label == "before" else args.after
        sides[label].append(run(checkout, label, index, args))
    steps = list(dict.fromkeys(k for runs in sides.values() for r in runs for k in r))
    # The adjacent pairs: runs 1-2, 3-4 … (before/after, after/before).
    pairs = [(order[i], order[i + 1]) for i in range(0, len(order), 2)]
    print(
        f"\nbench/pages.py --rounds {args.rounds} {' '.join(args.extra)}: "
        f"{args.before} (before) and {args.after} (after), {len(order)} runs alternately;"
        " worker CPU per request, median of the runs' medians (range), ms"
    )
    header = f"{'step':<40} {'before':>22} {'after':>22} {'change':>7} {'after lighter':>14}"
    print(header)
    print("-" * len(header))
    for step in steps:
        before = [r[step] for r in sides["before"] if step in r]
        after = [r[step] for r in sides["after"] if step in r]
        if not before or not after:
            continue
        b, a = statistics.median(before), statistics.median(after)
        lighter = 0
        runs = {"before": iter(before), "after": iter(after)}
        for first, second in pairs:
            x, y = next(runs[first]), next(runs[second])
            after_value, before_value = (y, x) if second == "after" else (x, y)
            lighter += after_value < before_value
        print(
            f"{step:<40} {cell(before, b):>22} {cell(after, a):>22} "
            f"{(a - b) / b * 100:+6.0f}% {lighter:>9} of {len(pairs)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

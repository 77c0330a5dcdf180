"""Cached response costs of two checkouts of shopd, run in turns so that the machine's drift
falls on both alike.

    git worktree add /tmp/bench-old <commit>
    SHOPD_DATABASE_URL=sqlite:////path/shop.sqlite3 \\
        python -m benchmarks.compare /tmp/bench-old --pairs 5

Each run is a fresh process of ``benchmarks.response_cost`` (``loadtest.answer_cost`` in a
checkout from before it moved) with that checkout first on ``PYTHONPATH``, one at a time:
old, new, old, new... The table shows µs of CPU per cached response for each pair, and the
median of each side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

SHOWN = ("page /p/[product]", "api products/[slug]", "/healthz")

_RUN = """
import asyncio, json
try:
    from benchmarks.response_cost import measure
except ImportError:  # a checkout from before the benchmarks moved out of loadtest/
    from loadtest.answer_cost import measure
print(json.dumps({name: micros for name, _status, micros in asyncio.run(measure())}))
"""


def run(tree: Path) -> dict[str, float]:
    """µs of CPU per cached response, measured by ``tree``'s own code in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _RUN], env=env, cwd=tree, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"the benchmark failed in {tree}:\n{done.stderr}")
    rows: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the checkout to compare against")
    parser.add_argument("--new", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    table = Table(title="µs of CPU per cached response, in process (old | new)")
    table.add_column("pair", justify="right")
    for name in SHOWN:
        table.add_column(escape(name), justify="right")
    old_runs, new_runs = [], []
    for pair in range(1, args.pairs + 1):
        old_runs.append(run(args.old.resolve()))
        new_runs.append(run(args.new.resolve()))
        cells = [f"{old_runs[-1][n]:,.0f} | {new_runs[-1][n]:,.0f}" for n in SHOWN]
        table.add_row(str(pair), *cells)
    medians = [
        f"{statistics.median(r[n] for r in old_runs):,.0f} | "
        f"{statistics.median(r[n] for r in new_runs):,.0f}"
        for n in SHOWN
    ]
    table.add_row("median", *medians)
    Console().print(table)


if __name__ == "__main__":
    main()

"""How long one storefront search takes at a catalog's size, beside the bare LIKE it replaced.

    python -m benchmarks.search_speed [--products 10000] [--rounds 3] [--database FILE]

Seeds the demo catalog at ``--products`` into a SQLite file (a fresh temporary one, or
``--database``, seeded only when empty, so a second run starts at once), builds the search
index as a worker does, then times every query of the search-quality table
(docs/storefront.md) and their misspellings, ``--rounds`` times each, in process:

- **search**: what a page or API request that misses the read cache does, the index's match
  (not remembered between searches) and ranking, then one query for the page's prices and
  stock (``shopd.catalog.service.list_products``, sorted by relevance);
- **index match**: the index's part alone;
- **bare LIKE**: ``search_text LIKE '%q%'``, the page's ids and the count, as the search was
  before, measured in the same run on the same database.

Wall time per search (p50, p95, p99) and searches per second, one at a time. The target is a
p95 of 20 ms at 10,000 products.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from shopd.catalog import service
from shopd.catalog.models import Product
from shopd.catalog.search.index import SearchIndex
from shopd.catalog.search.keeper import build
from shopd.cli.demo import catalog_size, seed
from shopd.db import Database
from shopd.models import metadata
from shopd.validation import contains_pattern

DOC = Path(__file__).resolve().parent.parent / "docs" / "storefront.md"
TARGET_P95_MS = 20.0
PER_PAGE = 24


def queries() -> list[str]:
    """The search-quality table's queries, and each with its last two letters swapped."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    table = re.findall(r"^\| `([^`]+)` \|", text, flags=re.MULTILINE)
    typed = table or ["teapot", "tea pot", "scarves", "zisha", "茶壶", "hoody"]
    swapped = [q[:-2] + q[-1] + q[-2] for q in typed if len(q) > 4 and q.isascii()]
    return typed + swapped


async def seeded(url: str, products: int, console: Console) -> Database:
    db = Database(url)
    async with db.write_engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with db.write() as session:
        if await catalog_size(session) == 0:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("Seeding the demo catalog", total=products)
                await seed(session, products, progress=lambda n: progress.advance(task, n))
            await session.commit()
    return db


async def _times(
    calls: list[Callable[[], Awaitable[object]]], rounds: int, progress: Callable[[], None]
) -> list[float]:
    """Wall time of each call, in ms, ``rounds`` times over, after one warm-up round."""
    for call in calls:
        await call()
    out = []
    for _ in range(rounds):
        for call in calls:
            start = time.perf_counter()
            await call()
            out.append((time.perf_counter() - start) * 1000)
            progress()
    return out


def figures(times: list[float]) -> tuple[float, float, float, float]:
    """p50, p95, p99 (ms) and searches per second."""
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98], len(times) / (sum(times) / 1000)


async def measure(
    url: str, products: int, rounds: int, console: Console | None = None
) -> tuple[int, float, dict[str, tuple[float, float, float, float]]]:
    """(products listed, seconds to build the index, {way: p50, p95, p99, searches/s})."""
    console = console or Console()
    db = await seeded(url, products, console)
    try:
        async with db.read() as session:
            listed = await session.scalar(
                select(func.count()).select_from(Product).where(Product.listed.is_(True))
            )
            start = time.perf_counter()
            index: SearchIndex = await build(session)
            built = time.perf_counter() - start
        typed = queries()

        async def search(q: str) -> None:
            index.forget_queries()
            async with db.read() as session:
                await service.list_products(
                    session, q=q, sort="relevance", per_page=PER_PAGE, index=index
                )

        async def match(q: str) -> None:
            index.forget_queries()
            index.ranked(index.find(q))

        async def like(q: str) -> None:
            matches = Product.search_text.like(contains_pattern(q), escape="\\")
            async with db.read() as session:
                await session.scalars(
                    select(Product.id)
                    .where(Product.listed.is_(True), matches)
                    .order_by(Product.created_at.desc(), Product.id.desc())
                    .limit(PER_PAGE)
                )
                await session.scalar(
                    select(func.count())
                    .select_from(Product)
                    .where(Product.listed.is_(True), matches)
                )

        ways = {"search": search, "index match": match, "bare LIKE": like}
        results = {}
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as progress:
            for name, way in ways.items():
                task = progress.add_task(f"Timing {name}", total=rounds * len(typed))
                calls = [lambda q=q, way=way: way(q) for q in typed]  # type: ignore[misc]
                times = await _times(calls, rounds, lambda task=task: progress.advance(task))
                results[name] = figures(times)
        return int(listed or 0), built, results
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", type=Path, help="a SQLite file to seed once and keep")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.database or Path(tmp) / "search.sqlite3"
        listed, built, results = asyncio.run(
            measure(f"sqlite+aiosqlite:///{path}", args.products, args.rounds, console)
        )
    table = Table(
        title=f"one search at a time, {listed:,} products, {len(queries())} queries "
        f"× {args.rounds} (index built in {built:.2f} s)"
    )
    for column in ("way", "p50 ms", "p95 ms", "p99 ms", "searches/s"):
        table.add_column(column, justify="left" if column == "way" else "right")
    for name, (p50, p95, p99, rate) in results.items():
        table.add_row(name, f"{p50:.2f}", f"{p95:.2f}", f"{p99:.2f}", f"{rate:,.0f}")
    console.print(table)
    p95 = results["search"][1]
    verdict = "[green]within[/]" if p95 <= TARGET_P95_MS else "[red]over[/]"
    console.print(f"search p95 {p95:.2f} ms: {verdict} the target of {TARGET_P95_MS:.0f} ms")


if __name__ == "__main__":
    main()

"""The in-process benchmarks run and say what is missing instead of timing nothing; the
figures themselves come from running them (docs/performance.md), not from these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import response_cost, search_speed, statement_cost
from shopd.config import Settings
from shopd.db import Database as ShopDatabase
from shopd.models import metadata
from tests.conftest import Backend, SmallCatalog


async def test_statement_cost_measures_each_way_of_writing_the_query(
    backend: Backend, catalog: SmallCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statement_cost, "ROUNDS", 5)
    rows = await statement_cost.measure(backend.url, catalog.sku_m)
    ways = [name for name, _ in rows]
    assert ways[:4] == [
        "ORM statement built per call",
        "ORM statement built once",
        "table-level statement built once",
        "text() through the session",
    ]
    # The driver alone only where it is asyncmy.
    assert ways[4:] == ([] if backend.name == "sqlite" else ["the driver alone"])
    assert all(micros >= 0 for _, micros in rows)


async def test_response_cost_times_each_cached_response_through_the_whole_app(
    settings: Settings, catalog: SmallCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(response_cost, "ROUNDS", 5)
    rows = await response_cost.measure(settings)
    assert [name for name, _, _ in rows] == [
        "page /",
        "page /c/[category]",
        "page /p/[product]",
        "page /search",
        "api products/[slug]",
        "api products?category",
        "api products?q",
        "/healthz",
    ]
    assert all(status == 200 for _, status, _ in rows), rows
    assert all(micros > 0 for _, _, micros in rows), rows


async def test_statement_cost_says_what_is_missing_instead_of_timing_nothing(
    backend: Backend, catalog: SmallCatalog
) -> None:
    """A SKU the database does not have would time empty reads: it says so and stops."""
    with pytest.raises(SystemExit) as stopped:
        await statement_cost.measure(backend.url, "NO-SUCH-SKU")
    assert "no SKU NO-SUCH-SKU" in str(stopped.value.code)


async def test_response_cost_says_what_is_missing_on_a_database_without_a_catalog(
    settings: Settings, backend: Backend
) -> None:
    """Pointed at an empty database (no tables: never upgraded, or the wrong URL) or at one
    without products, it says what to run instead of ending in a traceback."""
    with pytest.raises(SystemExit) as stopped:
        await response_cost.measure(settings)
    assert stopped.value.code == response_cost.NO_CATALOG
    db = ShopDatabase(backend.url)
    try:
        async with db.write_engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    finally:
        await db.dispose()
    with pytest.raises(SystemExit) as stopped:
        await response_cost.measure(settings)
    assert stopped.value.code == response_cost.NO_CATALOG


async def test_search_speed_times_the_search_beside_the_bare_like(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'search.sqlite3'}"
    listed, built, results = await search_speed.measure(url, products=60, rounds=1)
    assert listed == 60 and built > 0
    assert list(results) == ["search", "index match", "bare LIKE"]
    for p50, p95, p99, rate in results.values():
        assert 0 < p50 <= p95 <= p99 and rate > 0
    # Every query of the docs' quality table is timed, and its misspellings.
    assert len(search_speed.queries()) > 30

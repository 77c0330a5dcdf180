"""The visit counter: counted in memory, written in batches that add up across worker
processes, nothing lost when a write fails or the server restarts, no one's address stored."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from shopd.analytics.counter import VisitCounter, search_key
from shopd.analytics.models import DailyVisitor, PageView
from shopd.db import Database
from tests.conftest import Backend
from tests.server import free_port, running, shopctl

BROWSERS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
]


async def views(db: Database, kind: str, key: str) -> int:
    async with db.read() as s:
        n = await s.scalar(
            select(func.sum(PageView.views)).where(PageView.kind == kind, PageView.key == key)
        )
    return int(n or 0)


async def visitors(db: Database) -> list[str]:
    async with db.read() as s:
        return list(await s.scalars(select(DailyVisitor.visitor)))


def counter(db: Database) -> VisitCounter:
    return VisitCounter(db, secret="s", timezone="Asia/Shanghai", flush_seconds=3600)


async def test_two_counters_add_up_and_a_visitor_counts_once_a_day(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    one, two = counter(db), counter(db)
    for c in (one, two):
        for _ in range(5):
            c.visit("203.0.113.7", BROWSERS[0], [("page", "/"), ("product", "teapot")])
        c.visit("203.0.113.8", BROWSERS[1], [("page", "/")])
    await asyncio.gather(one.flush(), two.flush())
    one.visit("203.0.113.7", BROWSERS[0], [("page", "/")])
    with caplog.at_level(logging.WARNING):
        assert await one.flush() == 1
    # A visitor already counted today is no warning in the server's log.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert await views(db, "page", "/") == 13
    assert await views(db, "product", "teapot") == 10
    people = await visitors(db)
    assert len(people) == 2
    # Neither the address nor the browser is kept, only a keyed hash of them with the day.
    assert all(len(v) == 32 and "203.0.113" not in v for v in people)
    assert one.visitor_hash(dt.date(2026, 1, 1), "a", "b") != one.visitor_hash(
        dt.date(2026, 1, 2), "a", "b"
    )


async def test_crawlers_are_not_counted_and_searches_share_one_key(db: Database) -> None:
    c = counter(db)
    c.visit("198.51.100.1", "Googlebot/2.1 (+http://www.google.com/bot.html)", [("page", "/")])
    c.visit("198.51.100.1", "curl/8.5.0", [("page", "/")])
    assert c.pending == 0
    assert search_key("  Zisha   TEAPOT ") == search_key("zisha teapot") == "zisha teapot"
    assert len(search_key("茶" * 500)) == 200


async def test_a_failed_write_keeps_the_counts_for_the_next_flush(db: Database) -> None:
    c = counter(db)
    c.visit("203.0.113.7", BROWSERS[0], [("page", "/help")])
    async with db.write() as s:
        await s.execute(text("ALTER TABLE page_views RENAME TO page_views_away"))
        await s.commit()
    with pytest.raises(Exception, match="page_views"):
        await c.flush()
    c.visit("203.0.113.7", BROWSERS[0], [("page", "/help")])
    assert c.pending == 2
    async with db.write() as s:
        await s.execute(text("ALTER TABLE page_views_away RENAME TO page_views"))
        await s.commit()
    assert await c.flush() == 2
    assert await views(db, "page", "/help") == 2 and len(await visitors(db)) == 1


async def test_two_worker_processes_and_a_restart_lose_no_count(
    backend: Backend, tmp_path: Path
) -> None:
    env = {
        "SHOPD_DATABASE_URL": backend.url,
        "SHOPD_DATA_DIR": str(tmp_path),
        "SHOPD_BACKGROUND_JOBS": "false",
        # Nothing is written while serving: every count must survive the stop.
        "SHOPD_VISIT_FLUSH_SECONDS": "3600",
    }
    assert shopctl("db", "upgrade", env=env).returncode == 0
    assert shopctl("db", "seed-demo", "--products", "12", env=env).returncode == 0
    sent = {"/": 0, "/search": 0}
    for _round in range(2):
        port = free_port()
        args = ("serve", "--port", str(port), "--workers", "2", "--log-level", "warning")
        with running(*args, env=env, cwd=tmp_path, port=port) as (base, _, _):
            # No kept-alive connections: each request may land on either worker.
            fresh = httpx.Limits(max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=base, limits=fresh) as shopper:
                for n in range(60):
                    path, params = ("/", {}) if n % 3 else ("/search", {"q": "Teapot "})
                    r = await shopper.get(
                        path, params=params, headers={"User-Agent": BROWSERS[n % 3]}
                    )
                    assert r.status_code == 200
                    sent[path] += 1
                # Crawlers are not visits.
                await shopper.get("/", headers={"User-Agent": "bingbot/2.0"})
    db = Database(backend.url)
    try:
        assert await views(db, "page", "/") == sent["/"] == 80
        assert await views(db, "page", "/search") == sent["/search"] == 40
        assert await views(db, "search", "teapot") == 40
        assert len(await visitors(db)) == 3
    finally:
        await db.dispose()

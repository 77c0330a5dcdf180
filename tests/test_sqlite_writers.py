"""SQLite writers take turns: in arrival order within a process, through a file lock across
processes, and a writer that waits too long is told the shop is busy — never a hang."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from shopd import db as dbmod
from shopd import unit_of_work
from shopd.db import Database
from shopd.errors import Busy


@pytest.fixture
async def two_workers(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Two Database objects over one file: each has its own lock-file descriptor, as two
    server worker processes do."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.sqlite3'}"
    a, b = Database(url), Database(url)
    async with a.write() as s:
        await s.execute(text("CREATE TABLE t (n INTEGER)"))
        await s.commit()
    yield a, b
    await a.dispose()
    await b.dispose()


async def holding_a_write(db: Database, release: asyncio.Event) -> asyncio.Task[None]:
    """A writer that has its turn and keeps it until ``release`` is set."""
    holding = asyncio.Event()

    async def hold() -> None:
        async with db.write() as s:
            holding.set()
            await release.wait()
            await s.commit()

    task = asyncio.create_task(hold())
    await holding.wait()
    return task


async def test_a_writer_in_another_process_waits_for_the_turn(two_workers) -> None:  # type: ignore[no-untyped-def]
    a, b = two_workers
    order: list[str] = []

    async def slow(db: Database, name: str, hold: float) -> None:
        async with db.write() as s:
            order.append(f"{name} in")
            await s.execute(text("INSERT INTO t VALUES (1)"))
            await asyncio.sleep(hold)
            await s.commit()
            order.append(f"{name} out")

    first = asyncio.create_task(slow(a, "a", 0.4))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await slow(b, "b", 0)
    await first
    assert order == ["a in", "a out", "b in", "b out"]
    assert time.monotonic() - started >= 0.25
    assert (tmp := a._write_lock._path) is not None and tmp.exists()


async def test_waiting_too_long_is_busy_and_changes_nothing(
    two_workers, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    a, _ = two_workers
    monkeypatch.setattr(dbmod, "WRITER_WAIT_SECONDS", 0.2)
    release = asyncio.Event()
    holder = await holding_a_write(a, release)
    with pytest.raises(Busy) as caught:
        async with a.write() as s:
            await s.execute(text("INSERT INTO t VALUES (2)"))
            await s.commit()
    assert caught.value.status_code == 503 and caught.value.code == "busy"
    release.set()
    await holder
    async with a.read() as s:
        assert (await s.scalar(text("SELECT count(*) FROM t"))) == 0


async def test_a_cancelled_waiter_gives_the_lock_back(two_workers) -> None:  # type: ignore[no-untyped-def]
    a, b = two_workers

    async def write(db: Database) -> None:
        async with db.write() as s:
            await s.execute(text("INSERT INTO t VALUES (3)"))
            await s.commit()

    release = asyncio.Event()
    holder = await holding_a_write(a, release)
    waiter = asyncio.create_task(write(b))  # blocks on the file lock a holds
    await asyncio.sleep(0.1)
    waiter.cancel()
    release.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await waiter
    # Had the cancelled waiter kept the file lock, these would wait forever.
    await asyncio.wait_for(write(a), 5)
    await asyncio.wait_for(write(b), 5)


async def test_a_write_runs_its_statements_in_one_go(two_workers) -> None:  # type: ignore[no-untyped-def]
    """The write lock is held only for the statements: a unit of work on SQLite does not hand
    the event loop to other requests between them (under load every such hand-over waited
    behind all of them, with the lock held)."""
    a, _ = two_workers
    ticks = 0
    stop = asyncio.Event()

    async def other_requests() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    others = asyncio.create_task(other_requests())
    await asyncio.sleep(0.01)

    async def work(s) -> list[int]:  # type: ignore[no-untyped-def]
        seen = []
        for n in range(10):
            await s.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
            await s.execute(text("SELECT count(*) FROM t"))
            seen.append(ticks)
        return seen

    try:
        seen = await unit_of_work.run(a, work)
        assert len(set(seen)) == 1, f"the loop ran other work between statements: {seen}"
        async with a.read() as s:
            assert await s.scalar(text("SELECT count(*) FROM t")) == 10
    finally:
        stop.set()
        await others

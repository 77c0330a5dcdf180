"""The background jobs run in one process per shop, however many workers and servers run them.

Each ``Database`` here stands for another worker process (its own engine and connections); a
file lock and a MariaDB named lock both tell apart open files and connections, not processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from shopd.config import Settings
from shopd.db import Database
from shopd.server import jobs
from shopd.server.job_lock import JobLock


@pytest.fixture
async def other_worker(db: Database) -> AsyncIterator[Database]:
    other = Database(db.url)
    yield other
    await other.dispose()


async def test_one_holder_at_a_time_and_the_next_takes_over(
    db: Database, other_worker: Database
) -> None:
    first, second = JobLock(db), JobLock(other_worker)
    assert await first.held()
    assert not await second.held()
    assert await first.held()  # kept, round after round
    await first.release()
    assert await second.held()
    assert not await first.held()
    await second.release()


async def test_rounds_run_in_one_of_the_processes_only(
    db: Database, other_worker: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds: list[str] = []

    async def count(database: Database, _: Settings) -> None:
        rounds.append("first" if database is db else "second")

    monkeypatch.setattr(jobs, "run_once", count)
    quick = settings.model_copy(update={"job_interval_seconds": 0.05})
    runners = [
        asyncio.create_task(jobs.run_forever(db, quick)),
        asyncio.create_task(jobs.run_forever(other_worker, quick)),
    ]
    await asyncio.sleep(1)
    # The runner holding the lock stops (a worker ends): the other takes the jobs over.
    holder = 0 if rounds[0] == "first" else 1
    runners[holder].cancel()
    await asyncio.gather(runners[holder], return_exceptions=True)
    before = len(rounds)
    await asyncio.sleep(1)
    runners[1 - holder].cancel()
    await asyncio.gather(*runners, return_exceptions=True)
    assert len(set(rounds[:before])) == 1, rounds
    assert before >= 5
    assert set(rounds[before:]) == {"second" if holder == 0 else "first"}, rounds

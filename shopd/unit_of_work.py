"""The one way a write commits: a unit of work over the database's writer session.

Every change to the shop runs in a unit of work: a writer session (on SQLite, this process's
turn at the write lock) that commits when the work ends and rolls back when it raises.

- ``committing(db)``: a block of work, committed at its end. A block cannot run twice, so it
  is for work a lock conflict cannot hit twice in a row, or whose caller answers 503 busy.
- ``run(db, work)``: a function of a session, run again from the start when InnoDB picks it
  as a deadlock victim or times out a lock wait under a rush.
- ``retrying(attempt)``: the retry loop itself, for work that holds its own session (checkout
  rolls back and answers replays itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.db import Database, is_retryable

T = TypeVar("T")

# Tries of a unit of work that keeps losing a lock conflict before its error is raised.
ATTEMPTS = 5


@asynccontextmanager
async def committing(db: Database) -> AsyncIterator[AsyncSession]:
    """A writer session whose work commits when the block ends without an error; an error
    rolls it back (the session closes without a commit)."""
    async with db.write() as session:
        yield session
        await session.commit()


async def retrying(attempt: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS) -> T:
    """Await ``attempt()`` until it does not fail with a deadlock or lock-wait timeout, at
    most ``attempts`` times, waiting a little longer after each failure. ``attempt`` rolls
    back its own work before it raises."""
    for number in range(attempts):
        try:
            return await attempt()
        except OperationalError as exc:
            if not is_retryable(exc) or number == attempts - 1:
                raise
        await asyncio.sleep(0.01 * (number + 1))
    raise AssertionError("unreachable")


async def run(
    db: Database, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = ATTEMPTS
) -> T:
    """Run ``work`` in a unit of work and commit it; on a deadlock or lock-wait timeout the
    whole unit runs again in a fresh session (after giving the writer's turn back)."""

    async def attempt() -> T:
        async with db.write() as session:
            try:
                result = await work(session)
                await session.commit()
                return result
            except OperationalError:
                await session.rollback()
                raise

    return await retrying(attempt, attempts=attempts)

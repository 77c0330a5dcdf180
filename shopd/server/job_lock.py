"""One runner of the background jobs per shop, however many workers and servers run.

Every server process starts the job loop (``SHOPD_BACKGROUND_JOBS``), so a one-box shop needs
nothing more; but two app servers of two workers each ran every round four times: four
processes claiming mail and expiring orders at once, their rounds contending for the same rows.
Each process now takes a lock before a round and keeps it while it lives:

- MariaDB: ``GET_LOCK`` on a connection of its own. The server frees it when that connection
  ends, so a process that dies or loses the database hands the jobs on by itself.
- SQLite (one box): ``flock`` on a file beside the database, freed when the process ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from shopd.db import Database, sqlite_file

log = logging.getLogger("shopd.server.jobs")

LOCK_NAME = "shopd_jobs"


class JobLock:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._fd: int | None = None
        self._conn: AsyncConnection | None = None

    async def held(self) -> bool:
        """Whether this process runs the jobs now: keeps the lock, or takes it when free."""
        if self._db.is_sqlite:
            return self._hold_file()
        return await self._hold_named()

    def _hold_file(self) -> bool:
        if self._fd is not None:
            return True
        database = sqlite_file(self._db.url)
        if database is None:
            return True  # an in-memory database lives in one process only
        path = Path(f"{database}.jobs.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def _hold_named(self) -> bool:
        try:
            if self._conn is not None:
                # Still ours? A restarted server or a dropped connection took it away.
                mine = await self._conn.scalar(
                    text("SELECT IS_USED_LOCK(CONCAT(DATABASE(), '.', :n)) = CONNECTION_ID()"),
                    {"n": LOCK_NAME},
                )
                if mine:
                    return True
                await self._close_connection()
            self._conn = await self._db.engine.connect()
            got = await self._conn.scalar(
                text("SELECT GET_LOCK(CONCAT(DATABASE(), '.', :n), 0)"), {"n": LOCK_NAME}
            )
            # Nothing is written on this connection: end the implicit transaction, keep the lock
            # (a named lock belongs to the connection, not to a transaction).
            await self._conn.commit()
            if got == 1:
                log.info("this process runs the background jobs")
                return True
            await self._close_connection()
            return False
        except Exception:
            await self._close_connection()
            raise

    async def _close_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file frees the flock
            self._fd = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.execute(
                    text("SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.', :n))"), {"n": LOCK_NAME}
                )
            await self._close_connection()

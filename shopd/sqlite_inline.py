"""SQLite statements run at once on the event loop's own thread, not on a thread of their own.

aiosqlite hands every statement to a thread of its own and wakes the event loop when it is
done. For SQLite that is the wrong trade:

- A write transaction holds SQLite's one write lock across each of those wake-ups, and under
  load every wake-up waits behind all the other requests ready on the loop. Measured at 1,000
  shoppers, a cart add held the lock for about 38 ms to run a few statements that take well
  under one, so the shop managed about 26 writes a second.
- The hand-over itself (a queue, a thread, a future, a loop wake-up) costs more CPU than the
  indexed look-ups the shop makes; reads on the loop's thread took 15 % off a worker's CPU per
  request at 1,000 shoppers.

A connection of this class keeps aiosqlite's interface (SQLAlchemy's driver adapter needs it)
but runs each call at once, on the caller's thread. A unit of work then runs start to finish
without giving the loop away between statements, and the write lock is held only for the
statements. The writer lock (``shopd.db.WriterLock``) keep a shop's writers from ever
waiting in SQLite's busy handler while they block the loop; under WAL a read never waits for a
writer. The price: a slow query (a large report) holds up its worker's other requests while it
runs, which on the shops SQLite is meant for is milliseconds. MariaDB is the back end for more.

The figures are from load tests at 1,000 shoppers (docs/performance.md, 2026-12-01);
``tests/test_sqlite_writers.py::test_a_write_runs_its_statements_in_one_go`` fails on aiosqlite's
own connection. Written against aiosqlite 0.22.1, whose internals it replaces (the ``_tx`` queue,
``_execute``, ``_connector``, ``_connection``, ``_running`` and ``stop``), hence
``aiosqlite<0.23`` in ``pyproject.toml``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite


class _RunNow:
    """Stands in for the queue to aiosqlite's thread: SQLAlchemy's adapter also puts work on
    it directly (setting the isolation level) and awaits the future it passes."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._open().__await__()

    async def _open(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def stop(self) -> None:  # type: ignore[override]
        # No thread to stop: closing is all there is.
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def creator(path: str, *, timeout: float) -> Callable[[], Any]:
    """An ``async_creator`` for SQLAlchemy's aiosqlite dialect."""

    async def connect() -> InlineConnection:
        # The pool may close a connection from another thread when the engine is disposed.
        connector = partial(sqlite3.connect, path, timeout=timeout, check_same_thread=False)
        return await InlineConnection(connector)

    return connect

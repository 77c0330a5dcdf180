"""A short-lived, per-process cache of catalog reads that look the same to every anonymous
visitor: the category tree, the home page lists, listings and searches, a product's detail.

Under a campaign most requests are guests browsing the same few pages, and each page is several
queries. Caching those results for a second or two makes most of them dictionary look-ups.
What it may cost is a shown stock level or price up to ``seconds`` old in another worker
process; nothing that sells reads from here — the cart and checkout always read the database,
so an order is priced and stock-checked on the truth. A worker clears its own cache when staff
change anything (``clear``), so a staff member sees their change at once on that worker; every
other worker clears its own at its next look at the catalog version
(``shopd.catalog.cache.version``).

Whoever changed something reads their own writes: for a short while after a change the app
marks that visitor's requests (``own_writes``), and their catalog reads skip the cached entry,
load from the database and leave the fresh result for everyone else — on whichever worker
the next request lands.

Concurrent misses for one key share a single load, so a cold popular page is one query, not
one per waiting shopper.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import IntEnum
from typing import Any, TypeVar

from cachetools import TTLCache

T = TypeVar("T")

MAX_ENTRIES = 4096


class Fresh(IntEnum):
    """How much of what a visitor reads must come from the database after their own change."""

    NOTHING = 0
    # What an order moves: stock, prices of the moment, sales, group buys (the short cache).
    MOVING = 1
    # Also what changes only with the catalog, cached long: a review they just wrote.
    ALL = 2


_OWN_WRITES: ContextVar[Fresh] = ContextVar("shopd_own_writes", default=Fresh.NOTHING)


@contextmanager
def own_writes(level: Fresh = Fresh.ALL) -> Iterator[None]:
    """Reads in this block (as far as ``level`` reaches) come from the database, not from
    what was cached before."""
    token = _OWN_WRITES.set(level)
    try:
        yield
    finally:
        _OWN_WRITES.reset(token)


class ReadCache:
    """Values loaded by async functions, cached ``seconds`` (0: not cached), one load per
    key at a time."""

    def __init__(
        self, seconds: float, *, max_entries: int = MAX_ENTRIES, fresh_at: Fresh | None = Fresh.ALL
    ) -> None:
        self.seconds = seconds
        # From which level of ``own_writes`` this cache is skipped (None: never).
        self.fresh_at = fresh_at
        self._entries: TTLCache[Hashable, Any] | None = (
            TTLCache(max_entries, seconds) if seconds > 0 else None
        )
        self._loading: dict[Hashable, asyncio.Future[Any]] = {}
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._entries is not None

    @property
    def reads_fresh(self) -> bool:
        """This request skips what is cached here: its visitor has just changed it."""
        return self.fresh_at is not None and _OWN_WRITES.get() >= self.fresh_at

    async def get(
        self,
        key: Hashable,
        load: Callable[[], Awaitable[T]],
        *,
        holds: Callable[[T], bool] | None = None,
    ) -> T:
        """The cached value of ``key``, or ``load()``'s. ``holds`` may judge a cached value stale
        before its seconds are up: it is then loaded again."""
        if self._entries is None:
            return await load()
        if self.reads_fresh:
            self.misses += 1
            value: T = await load()
            self._entries[key] = value
            return value
        try:
            value = self._entries[key]
        except KeyError:
            pass
        else:
            if holds is None or holds(value):
                self.hits += 1
                return value
        pending = self._loading.get(key)
        if pending is not None:
            self.hits += 1
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request was cancelled, not the shared load
                return await load()
        self.misses += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # those waiting get it; nobody else must be warned about it
            raise
        else:
            self._entries[key] = value
            future.set_result(value)
            return value
        finally:
            del self._loading[key]

    def clear(self) -> None:
        if self._entries is not None:
            self._entries.clear()

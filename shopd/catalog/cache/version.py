"""The catalog's version: one counter in the database that every change to what product pages
show moves on, so each worker of each app server can drop its long-lived cached catalog reads
within a second of a change made anywhere — the staff API, the TUI, a ``shopctl`` command.

Models whose rows the catalog shows mix in ``ShownInCatalog``. A session that flushes a new,
changed or deleted one bumps the version in the same transaction, so the bump commits (or rolls
back) with the change. Stock and sales counters are not part of it: they move with every order
and are read fresh, or through the short cache.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shopd.catalog.cache.stock_moves import StockMoves

if TYPE_CHECKING:
    from shopd.catalog.cache.catalog_cache import CatalogCache

log = logging.getLogger(__name__)

TABLE = "catalog_version"
_BUMP = text(f"UPDATE {TABLE} SET version = version + 1 WHERE id = 1")
_READ = text(f"SELECT version FROM {TABLE} WHERE id = 1")


class ShownInCatalog:
    """A model the catalog pages show: flushing a change to one bumps the catalog version."""


def _touches_catalog(session: Session) -> bool:
    if any(isinstance(o, ShownInCatalog) for o in (*session.new, *session.deleted)):
        return True
    return any(
        isinstance(o, ShownInCatalog) and session.is_modified(o, include_collections=False)
        for o in session.dirty
    )


@event.listens_for(Session, "before_flush")
def _bump_on_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    if _touches_catalog(session):
        session.connection().execute(_BUMP)


async def bump(session: AsyncSession) -> None:
    """For changes made with bulk statements, which no flush sees."""
    await session.execute(_BUMP)


async def current(session: AsyncSession) -> int | None:
    return await session.scalar(_READ)


class CatalogWatch:
    """Polls the catalog version; when it moves, this worker clears its catalog cache. Where
    the worker caches product offers, it reads the stock ledger in the same look
    (``shopd.catalog.cache.stock_moves``)."""

    def __init__(self, cache: CatalogCache, every_seconds: float) -> None:
        self.cache = cache
        self.every = every_seconds
        self.seen: int | None = None
        if cache.offers.enabled and cache.stock_moves is None:
            cache.stock_moves = StockMoves(every_seconds)

    async def check(self) -> bool:
        """One look at the version; True when it moved since the last look."""
        async with self.cache.db.read() as session:
            version = await current(session)
            if self.cache.stock_moves is not None:
                await self.cache.stock_moves.look(session)
        moved = self.seen is not None and version != self.seen
        self.seen = version
        if moved:
            self.cache.clear()
        return moved

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except (SQLAlchemyError, OSError) as exc:
                # The database is away; /readyz says so. Whatever changes meanwhile is seen
                # on the first look after it is back.
                log.debug("catalog version not read: %s", exc)
            await asyncio.sleep(self.every)

"""Which products' stock has moved, as one worker learns it from the stock ledger.

A product's stock and price, as its page shows them, change only when its stock moves (every
movement writes a ledger row, ``shopd.inventory.service.move_stock``), when a flash sale or
group buy touches it, or with the catalog. So an offer whose product has no campaign need not
be read again every few seconds: it holds until a ledger row names one of its SKUs. Under a
campaign most products a shopper looks at are not the few being bought, and their pages then
stay cached for ``offer_cache_seconds`` instead of ``catalog_cache_seconds``.

The catalog watch (``shopd.catalog.cache.version.CatalogWatch``) looks at the ledger with the
catalog version, once a second by default. Ledger ids are handed out at insert and become
visible at commit, so a row with a lower id can appear after a higher one was read: each look
reads again the last ``WINDOW_SECONDS`` of ids and remembers which rows it has already seen.
A transaction that holds its row uncommitted longer than that is missed here, and the offer it
should have refreshed lives out its ``offer_cache_seconds``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable

from sqlalchemy import bindparam, column, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession

WINDOW_SECONDS = 10.0
# How many watch intervals may pass without a look before cached offers stop being trusted.
STALE_LOOKS = 3
# The first look also reads this many rows back, for rows still to commit below the top.
FIRST_LOOK_ROWS = 1000

# Named lightly rather than through the models: the catalog's models import the catalog watch.
_ledger = table("stock_movements", column("id"), column("sku_id"))
_skus = table("skus", column("id"), column("product_id"))
_LAST_ID = select(func.max(_ledger.c.id))
_MOVED = (
    select(_ledger.c.id, _skus.c.product_id)
    .join(_skus, _skus.c.id == _ledger.c.sku_id)
    .where(_ledger.c.id > bindparam("floor"))
)


class StockMoves:
    def __init__(self, every_seconds: float) -> None:
        self.every = every_seconds
        self.moved_at: dict[int, float] = {}  # product id -> when a look first saw it move
        self.first_look: float | None = None
        self.last_look: float | None = None
        self._floor = 0
        self._seen: set[int] = set()
        self._tops: deque[tuple[float, int]] = deque()

    async def look(self, session: AsyncSession) -> set[int]:
        """Read the ledger's new rows; returns the products seen moving for the first time.

        Times are taken when the rows have been read: every row read was committed before
        then, so an offer loaded afterwards has its stock already."""
        if self.first_look is None:
            last = await session.scalar(_LAST_ID) or 0
            self._floor = max(last - FIRST_LOOK_ROWS, 0)
        moved = set()
        top = self._floor
        for row_id, product_id in await session.execute(_MOVED, {"floor": self._floor}):
            top = max(top, row_id)
            if row_id not in self._seen:
                self._seen.add(row_id)
                moved.add(product_id)
        now = time.monotonic()
        if self.first_look is None:
            self.first_look = now
            moved = set()  # what moved before the watch began, offers loaded since have seen
        for product_id in moved:
            self.moved_at[product_id] = now
        self._tops.append((now, top))
        while self._tops and self._tops[0][0] < now - WINDOW_SECONDS:
            self._floor = self._tops.popleft()[1]
        self._seen = {i for i in self._seen if i > self._floor}
        self.last_look = now
        return moved

    def unmoved_since(self, product_ids: Iterable[int], since: float) -> bool:
        """True when the watch was looking before ``since``, is looking still, and has not seen
        the stock of any of these products move after it."""
        if self.first_look is None or self.last_look is None or self.first_look > since:
            return False
        if time.monotonic() - self.last_look > STALE_LOOKS * self.every:
            return False
        return all(self.moved_at.get(p, -1.0) < since for p in product_ids)

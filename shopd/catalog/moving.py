"""What moves with every order, kept per worker as one snapshot: every SKU's available stock,
the flash sales not yet over, which SKUs have an open group buy, and whether sold-out products
are hidden.

A product page that is not in the read cache would otherwise ask the database for its SKUs'
stock, their running sales and their group buys: three round trips for each of the hundreds
of products a campaign's shoppers look at. The snapshot is three queries for all of them,
taken again every ``catalog_cache_seconds`` (it lives in the same read cache) and dropped with
it on a staff change. So a product page shows stock exactly as old as before: at most that
many seconds. A buyer whose own order just moved stock (``readcache.Fresh.MOVING``) is never
shown it: their reads go to the database as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.db import utcnow
from shopd.inventory.models import StockLevel
from shopd.inventory.service import Level
from shopd.promotions.models import FlashSale, GroupBuy
from shopd.staff import shop_settings


@dataclass(frozen=True, slots=True)
class Moving:
    available: dict[int, int]
    # Sales of a SKU never overlap; those yet to start are here so that one starting within
    # the snapshot's life shows from its first second.
    sales: dict[int, list[FlashSale]]
    grouped: frozenset[int]
    hide_sold_out: bool

    def running(self, sku_ids: Iterable[int], now: dt.datetime) -> dict[int, FlashSale]:
        return {
            sku_id: sale
            for sku_id in sku_ids
            for sale in self.sales.get(sku_id, ())
            if sale.starts_at <= now < sale.ends_at
        }

    def has_group_buys(self, sku_ids: Iterable[int]) -> bool:
        return not self.grouped.isdisjoint(sku_ids)


async def snapshot(session: AsyncSession) -> Moving:
    now = utcnow()
    stock = await session.execute(
        select(StockLevel.sku_id, StockLevel.on_hand, StockLevel.reserved)
    )
    sales: dict[int, list[FlashSale]] = {}
    for sale in await session.scalars(select(FlashSale).where(FlashSale.ends_at > now)):
        sales.setdefault(sale.sku_id, []).append(sale)
    grouped = await session.scalars(
        select(GroupBuy.sku_id).where(GroupBuy.status == "open").distinct()
    )
    return Moving(
        available={
            sku_id: Level(sku_id, on_hand, reserved, 0).available
            for sku_id, on_hand, reserved in stock
        },
        sales=sales,
        grouped=frozenset(grouped),
        hide_sold_out=bool(await shop_settings.get(session, "hide_sold_out")),
    )

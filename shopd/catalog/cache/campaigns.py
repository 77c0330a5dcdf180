"""The campaigns a product page shows, cached per worker as one snapshot: the flash sales not yet
over, which SKUs have an open group buy, and whether sold-out products are hidden.

A product page that is not in the read cache would otherwise ask the database for its SKUs'
running sales and group buys besides their stock: three round trips for each of the hundreds
of products a campaign's shoppers look at, where two of them almost always find nothing. The
snapshot is a few small queries for the whole shop, taken again every
``catalog_cache_seconds`` (it lives in the same read cache) and dropped with it on a staff
change, so a page shows a sale exactly as early and as late as before. Stock stays a query of
the product's own SKUs: every SKU's stock in a snapshot would cost more to read every few
seconds than the page misses it saves, the more so the larger the catalog. A buyer fresh from
their own order (``read_cache.Fresh.MOVING``) reads everything from the database as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.db import utcnow
from shopd.promotions.models import FlashSale, GroupBuy
from shopd.staff import shop_settings


@dataclass(frozen=True, slots=True)
class CampaignsNow:
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

    def touches(self, sku_ids: Iterable[int]) -> bool:
        """A sale (running or to come) or an open group buy of any of these SKUs."""
        ids = frozenset(sku_ids)
        return not ids.isdisjoint(self.sales) or not ids.isdisjoint(self.grouped)


async def snapshot(session: AsyncSession) -> CampaignsNow:
    sales: dict[int, list[FlashSale]] = {}
    for sale in await session.scalars(select(FlashSale).where(FlashSale.ends_at > utcnow())):
        sales.setdefault(sale.sku_id, []).append(sale)
    grouped = await session.scalars(
        select(GroupBuy.sku_id).where(GroupBuy.status == "open").distinct()
    )
    return CampaignsNow(
        sales=sales,
        grouped=frozenset(grouped),
        hide_sold_out=bool(await shop_settings.get(session, "hide_sold_out")),
    )

"""The promotions' reads across campaign kinds, as the back office lists them: flash sales with
their state, coupons by batch or code, group buys. Each kind's own rules (setting one up,
claiming it at checkout, giving it back) live in its module — flash, coupons, group_buys —
and the price of an order in pricing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.models import Sku
from shopd.db import utcnow
from shopd.promotions import coupons
from shopd.promotions.models import Coupon, FlashSale, GroupBuy

# The back office's lists show this many campaigns, newest first.
LIST_LIMIT = 500


def sale_state(sale: FlashSale, now: dt.datetime | None = None) -> str:
    """``scheduled``, ``running``, ``sold_out`` or ``ended``."""
    now = now or utcnow()
    if now < sale.starts_at:
        return "scheduled"
    if now >= sale.ends_at:
        return "ended"
    return "running" if sale.sold < sale.quantity else "sold_out"


async def flash_sales(session: AsyncSession) -> list[tuple[FlashSale, str]]:
    """Every sale with its SKU code, newest start first."""
    rows = await session.execute(
        select(FlashSale, Sku.code)
        .join(Sku, Sku.id == FlashSale.sku_id)
        .order_by(FlashSale.starts_at.desc(), FlashSale.id.desc())
        .limit(LIST_LIMIT)
    )
    return [(sale, code) for sale, code in rows]


async def sku_code(session: AsyncSession, sku_id: int) -> str:
    return str(await session.scalar(select(Sku.code).where(Sku.id == sku_id)))


async def coupon_page(
    session: AsyncSession, *, batch: str | None, code: str | None, page: int, per_page: int
) -> tuple[Sequence[Coupon], int]:
    """Coupons, newest first, of one batch or with one code; and how many there are."""
    query = select(Coupon)
    if batch:
        query = query.where(Coupon.batch == batch)
    if code:
        query = query.where(Coupon.code == coupons.normalise_code(code))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(Coupon.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return rows.all(), int(total or 0)


async def group_buys_list(session: AsyncSession) -> Sequence[GroupBuy]:
    """Every group buy, latest deadline first."""
    rows = await session.scalars(
        select(GroupBuy).order_by(GroupBuy.ends_at.desc(), GroupBuy.id.desc()).limit(LIST_LIMIT)
    )
    return rows.all()

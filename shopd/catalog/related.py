"""Suggestions on a product page: what was bought together with it (from real orders), and
related products (the same category, best sellers first) to fill up to a handful."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from shopd.catalog.models import Product, Sku
from shopd.catalog.service import ProductSummary, summaries_of
from shopd.orders.models import Order, OrderLine

# Orders that never happened do not say what people buy together.
_NOT_COUNTED = ("cancelled",)


@dataclass(slots=True)
class Suggestions:
    bought_together: list[ProductSummary]
    related: list[ProductSummary]


async def bought_together(
    session: AsyncSession, product_id: int, limit: int = 4
) -> list[ProductSummary]:
    """Products found in the same orders as this one, most orders in common first."""
    mine, other = aliased(OrderLine), aliased(OrderLine)
    mine_sku, other_sku = aliased(Sku), aliased(Sku)
    orders = func.count(func.distinct(mine.order_id)).label("orders")
    rows = await session.execute(
        select(other_sku.product_id, orders)
        .select_from(mine)
        .join(mine_sku, mine_sku.id == mine.sku_id)
        .join(Order, Order.id == mine.order_id)
        .join(other, other.order_id == mine.order_id)
        .join(other_sku, other_sku.id == other.sku_id)
        .where(
            mine_sku.product_id == product_id,
            other_sku.product_id != product_id,
            Order.status.not_in(_NOT_COUNTED),
        )
        .group_by(other_sku.product_id)
        .order_by(orders.desc(), other_sku.product_id)
        .limit(limit * 3)  # some may be delisted
    )
    return (await summaries_of(session, [pid for pid, _ in rows]))[:limit]


async def suggestions(session: AsyncSession, product: Product, limit: int = 4) -> Suggestions:
    together = await bought_together(session, product.id, limit)
    taken = {product.id, *(s.product.id for s in together)}
    ids = await session.scalars(
        select(Product.id)
        .where(
            Product.category_id == product.category_id,
            Product.listed.is_(True),
            Product.id.not_in(taken),
        )
        .order_by(Product.sold_count.desc(), Product.id)
        .limit(limit)
    )
    return Suggestions(together, await summaries_of(session, list(ids)))

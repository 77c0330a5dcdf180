"""What a product sold over the last days, per SKU: counted as the dashboard counts sales (orders
placed and not cancelled), less the units customers sent back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.models import Sku
from shopd.orders.dashboard import NOT_SALES
from shopd.orders.models import Order, OrderLine


@dataclass(slots=True)
class SkuSales:
    sku: str
    units: int
    revenue: int
    orders: int


@dataclass(slots=True)
class ProductSales:
    skus: list[SkuSales]
    orders: int

    @property
    def units(self) -> int:
        return sum(s.units for s in self.skus)

    @property
    def revenue(self) -> int:
        return sum(s.revenue for s in self.skus)


async def product_sales(session: AsyncSession, product_id: int, since: dt.datetime) -> ProductSales:
    kept = OrderLine.quantity - OrderLine.returned_quantity
    scope = (
        select()
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Sku, Sku.id == OrderLine.sku_id)
        .where(
            Sku.product_id == product_id,
            Order.created_at >= since,
            Order.status.not_in(NOT_SALES),
        )
    )
    rows = await session.execute(
        scope.add_columns(
            Sku.code,
            func.sum(kept),
            func.sum(OrderLine.unit_price * kept),
            func.count(distinct(Order.id)),
        )
        .group_by(Sku.code)
        .order_by(Sku.code)
    )
    orders = await session.scalar(scope.add_columns(func.count(distinct(Order.id))))
    return ProductSales(
        [SkuSales(code, int(units or 0), int(rev or 0), int(n)) for code, units, rev, n in rows],
        int(orders or 0),
    )

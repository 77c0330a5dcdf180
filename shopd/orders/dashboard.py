"""The day at a glance for staff: today's orders and sales, what waits to ship, late and overdue
orders, low stock, and the month's sales against its target — in the shop's time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.models import Sku
from shopd.config import Settings
from shopd.db import utcnow
from shopd.inventory.models import StockLevel
from shopd.orders.lifecycle import AWAITING_DISPATCH, LATE_AFTER, OVERDUE_AFTER
from shopd.orders.models import Order
from shopd.staff import shop_settings

# The definitions are the KPIs' (shopd.analytics.service), so the dashboard and the reports
# agree: orders are those placed and not cancelled; sales what the paid ones came to. (A
# product's sales figures, shopd.orders.sales, count the lines of orders not cancelled.)
NOT_SALES = ("cancelled",)


@dataclass(slots=True)
class Dashboard:
    today_orders: int
    today_sales: int
    to_ship: int
    late: int
    overdue: int
    low_stock: int
    month_sales: int
    month_target: int
    currency: str

    @property
    def month_progress(self) -> float | None:
        return self.month_sales / self.month_target if self.month_target else None


def _day_and_month_start(settings: Settings, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    local = now.astimezone(ZoneInfo(settings.timezone))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.astimezone(dt.UTC), day.replace(day=1).astimezone(dt.UTC)


async def dashboard(
    session: AsyncSession, settings: Settings, *, now: dt.datetime | None = None
) -> Dashboard:
    now = now or utcnow()
    day_start, month_start = _day_and_month_start(settings, now)
    sales = select(func.coalesce(func.sum(Order.total), 0)).where(Order.paid_at.is_not(None))
    today_orders = await session.scalar(
        select(func.count()).where(Order.created_at >= day_start, Order.status.not_in(NOT_SALES))
    )
    today_sales = await session.scalar(sales.where(Order.created_at >= day_start))
    month = await session.scalar(sales.where(Order.created_at >= month_start))
    waiting = select(func.count()).where(
        Order.status.in_(AWAITING_DISPATCH),
        Order.ready_at.is_not(None),
        Order.shipped_at.is_(None),
    )
    to_ship = await session.scalar(waiting)
    late = await session.scalar(
        waiting.where(Order.ready_at < now - LATE_AFTER, Order.ready_at >= now - OVERDUE_AFTER)
    )
    overdue = await session.scalar(waiting.where(Order.ready_at < now - OVERDUE_AFTER))
    low = await session.scalar(
        select(func.count())
        .select_from(StockLevel)
        .join(Sku, Sku.id == StockLevel.sku_id)
        .where(
            Sku.active.is_(True),
            StockLevel.on_hand - StockLevel.reserved <= StockLevel.low_stock_threshold,
        )
    )
    target = await shop_settings.get(session, "monthly_sales_target")
    return Dashboard(
        today_orders=int(today_orders or 0),
        today_sales=int(today_sales or 0),
        to_ship=int(to_ship or 0),
        late=int(late or 0),
        overdue=int(overdue or 0),
        low_stock=int(low or 0),
        month_sales=int(month or 0),
        month_target=int(target or 0),
        currency=settings.currency,
    )

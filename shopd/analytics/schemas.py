"""What the staff API answers about KPIs: plain numbers, money in minor units, shares 0–1."""

from __future__ import annotations

import datetime as dt

import msgspec

from shopd.analytics.service import Kpis, Ranked


class RankedOut(msgspec.Struct):
    name: str
    count: int
    amount: int


class DayOut(msgspec.Struct):
    day: dt.date
    visitors: int
    page_views: int
    orders: int
    paid_orders: int
    sales: int


class TargetsOut(msgspec.Struct):
    monthly_sales: int
    yearly_sales: int
    daily_orders: int
    conversion: float
    favourable_rate: float


class KpisOut(msgspec.Struct):
    start: dt.date
    end: dt.date  # the last day, included
    currency: str
    visitors: int
    page_views: int
    product_views: int
    carts: int
    orders: int
    orders_target: int
    orders_progress: float | None
    paid_orders: int
    conversion: float | None
    sales: int
    refunds: int
    average_order_value: int | None
    paying_customers: int
    new_customers: int
    returning_customers: int
    reviews: int
    rating: float | None
    favourable_rate: float | None
    shipped_24h: float | None
    shipped_48h: float | None
    month_sales: int
    month_progress: float | None
    year_sales: int
    year_progress: float | None
    targets: TargetsOut
    days: list[DayOut]
    hours: list[int]
    top_products: list[RankedOut]
    top_categories: list[RankedOut]
    top_searches: list[RankedOut]
    empty_searches: list[RankedOut]


def _ranked(rows: list[Ranked]) -> list[RankedOut]:
    return [RankedOut(r.name, r.count, r.amount) for r in rows]


def kpis_out(k: Kpis) -> KpisOut:
    t = k.targets
    return KpisOut(
        start=k.period.start,
        end=k.period.end - dt.timedelta(days=1),
        currency=k.currency,
        visitors=k.visitors,
        page_views=k.page_views,
        product_views=k.product_views,
        carts=k.carts,
        orders=k.orders,
        orders_target=k.orders_target,
        orders_progress=k.orders_progress,
        paid_orders=k.paid_orders,
        conversion=k.conversion,
        sales=k.sales,
        refunds=k.refunds,
        average_order_value=k.average_order_value,
        paying_customers=k.paying_customers,
        new_customers=k.new_customers,
        returning_customers=k.returning_customers,
        reviews=k.reviews,
        rating=k.rating,
        favourable_rate=k.favourable_rate,
        shipped_24h=k.shipped_24h,
        shipped_48h=k.shipped_48h,
        month_sales=k.month_sales,
        month_progress=k.month_progress,
        year_sales=k.year_sales,
        year_progress=k.year_progress,
        targets=TargetsOut(
            t.monthly_sales,
            t.yearly_sales,
            t.daily_orders,
            t.conversion_bp / 10_000,
            t.favourable_bp / 10_000,
        ),
        days=[
            DayOut(d.day, d.visitors, d.page_views, d.orders, d.paid_orders, d.sales)
            for d in k.days
        ],
        hours=list(k.hours),
        top_products=_ranked(k.top_products),
        top_categories=_ranked(k.top_categories),
        top_searches=_ranked(k.top_searches),
        empty_searches=_ranked(k.empty_searches),
    )

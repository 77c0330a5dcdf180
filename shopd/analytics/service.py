"""KPIs for a day, a week, a month or any span of days, in the shop's time zone.

The definitions, written once (reports, the staff API and the TUI all read them from here):
- visitors: unique visitors per day, added up over the days (a visitor is not followed from one
  day to the next, by design);
- orders: orders placed in the period and not cancelled; paid orders: placed in it and paid;
- sales: what the paid orders came to; refunds: what was refunded of orders placed in it;
- average order value: sales / paid orders; conversion: orders / visitors;
- paying customers: distinct buyers (account, else e-mail) of paid orders; new ones paid for
  the first time in the period, returning ones had paid before;
- shipped within 24 h / 48 h: of the orders that became ready to ship in the period and have
  had that long, the share shipped in time;
- favourable reviews: rating 4 or 5, of the reviews written in the period and not hidden.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.analytics.models import DailyVisitor, PageView
from shopd.cart.models import Cart
from shopd.catalog.models import Category, Product, Sku
from shopd.content.models import Review
from shopd.db import utcnow
from shopd.orders.models import Order, OrderLine
from shopd.staff import shop_settings

Span = Literal["day", "week", "month", "year"]
TOP = 10
FAVOURABLE_FROM = 4


@dataclass(frozen=True, slots=True)
class Period:
    start: dt.date
    end: dt.date  # exclusive

    @classmethod
    def of(cls, span: Span, day: dt.date) -> Period:
        if span == "day":
            return cls(day, day + dt.timedelta(days=1))
        if span == "week":
            monday = day - dt.timedelta(days=day.weekday())
            return cls(monday, monday + dt.timedelta(days=7))
        if span == "month":
            first = day.replace(day=1)
            return cls(
                first, first + dt.timedelta(days=calendar.monthrange(day.year, day.month)[1])
            )
        return cls(day.replace(month=1, day=1), day.replace(year=day.year + 1, month=1, day=1))

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days)]

    @property
    def label(self) -> str:
        last = self.end - dt.timedelta(days=1)
        return self.start.isoformat() if last == self.start else f"{self.start} – {last}"


@dataclass(slots=True)
class Ranked:
    name: str
    count: int
    amount: int = 0


@dataclass(slots=True)
class Day:
    day: dt.date
    visitors: int = 0
    page_views: int = 0
    orders: int = 0
    paid_orders: int = 0
    sales: int = 0


@dataclass(slots=True)
class Targets:
    monthly_sales: int
    yearly_sales: int
    daily_orders: int
    conversion_bp: int  # basis points: 200 is 2 %
    favourable_bp: int


@dataclass(slots=True)
class Kpis:
    period: Period
    currency: str
    targets: Targets
    visitors: int = 0
    page_views: int = 0
    product_views: int = 0
    carts: int = 0
    orders: int = 0
    paid_orders: int = 0
    sales: int = 0
    refunds: int = 0
    paying_customers: int = 0
    new_customers: int = 0
    returning_customers: int = 0
    reviews: int = 0
    rating_total: int = 0
    favourable_reviews: int = 0
    ready: tuple[int, int] = (0, 0)  # orders ready long enough to judge: 24 h, 48 h
    shipped_in: tuple[int, int] = (0, 0)  # of those, shipped within 24 h, 48 h
    month_sales: int = 0  # the month of the period's last day, up to its end
    year_sales: int = 0
    days: list[Day] = field(default_factory=list)
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    top_products: list[Ranked] = field(default_factory=list)
    top_categories: list[Ranked] = field(default_factory=list)
    top_searches: list[Ranked] = field(default_factory=list)
    empty_searches: list[Ranked] = field(default_factory=list)

    @property
    def conversion(self) -> float | None:
        return self.orders / self.visitors if self.visitors else None

    @property
    def average_order_value(self) -> int | None:
        return round(self.sales / self.paid_orders) if self.paid_orders else None

    @property
    def rating(self) -> float | None:
        return self.rating_total / self.reviews if self.reviews else None

    @property
    def favourable_rate(self) -> float | None:
        return self.favourable_reviews / self.reviews if self.reviews else None

    @property
    def shipped_24h(self) -> float | None:
        return self.shipped_in[0] / self.ready[0] if self.ready[0] else None

    @property
    def shipped_48h(self) -> float | None:
        return self.shipped_in[1] / self.ready[1] if self.ready[1] else None

    @property
    def orders_target(self) -> int:
        return self.targets.daily_orders * len(self.days)

    @property
    def month_progress(self) -> float | None:
        t = self.targets.monthly_sales
        return self.month_sales / t if t else None

    @property
    def year_progress(self) -> float | None:
        t = self.targets.yearly_sales
        return self.year_sales / t if t else None

    @property
    def orders_progress(self) -> float | None:
        return self.orders / self.orders_target if self.orders_target else None


def buyer(customer_id: int | None, email: str) -> str:
    return f"c{customer_id}" if customer_id is not None else "e" + email.strip().lower()


async def targets(session: AsyncSession) -> Targets:
    values = await shop_settings.get_all(session)
    return Targets(
        monthly_sales=int(values["monthly_sales_target"]),
        yearly_sales=int(values["yearly_sales_target"]),
        daily_orders=int(values["daily_orders_target"]),
        conversion_bp=int(values["conversion_target_bp"]),
        favourable_bp=int(values["favourable_review_target_bp"]),
    )


async def kpis(
    session: AsyncSession,
    period: Period,
    *,
    timezone: str,
    currency: str,
    now: dt.datetime | None = None,
) -> Kpis:
    zone = ZoneInfo(timezone)
    now = now or utcnow()

    def utc(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)

    start, end = utc(period.start), utc(period.end)
    k = Kpis(period, currency, await targets(session))
    by_day = {d: Day(d) for d in period.days}
    k.days = list(by_day.values())

    views = await session.execute(
        select(PageView.day, PageView.kind, func.sum(PageView.views))
        .where(PageView.day >= period.start, PageView.day < period.end)
        .group_by(PageView.day, PageView.kind)
    )
    for day, kind, n in views:
        if kind == "page":
            by_day[day].page_views += int(n)
        elif kind == "product":
            k.product_views += int(n)
    people = await session.execute(
        select(DailyVisitor.day, func.count())
        .where(DailyVisitor.day >= period.start, DailyVisitor.day < period.end)
        .group_by(DailyVisitor.day)
    )
    for day, n in people:
        by_day[day].visitors = int(n)
    k.visitors = sum(d.visitors for d in k.days)
    k.page_views = sum(d.page_views for d in k.days)
    k.carts = int(
        await session.scalar(
            select(func.count()).where(Cart.created_at >= start, Cart.created_at < end)
        )
        or 0
    )

    placed = (Order.created_at >= start, Order.created_at < end)
    rows = await session.execute(
        select(
            Order.created_at,
            Order.status,
            Order.paid_at,
            Order.total,
            Order.refunded_total,
            Order.customer_id,
            Order.email,
        ).where(*placed)
    )
    buyers: set[str] = set()
    for created, status, paid_at, total, refunded, customer_id, email in rows:
        local = created.astimezone(zone)
        day = by_day[local.date()]
        k.refunds += refunded
        if status != "cancelled":
            k.orders += 1
            day.orders += 1
            k.hours[local.hour] += 1
        if paid_at is not None:
            k.paid_orders += 1
            k.sales += total
            day.paid_orders += 1
            day.sales += total
            buyers.add(buyer(customer_id, email))
    k.paying_customers = len(buyers)
    if buyers:
        before = await session.execute(
            select(Order.customer_id, Order.email)
            .where(Order.paid_at.is_not(None), Order.created_at < start)
            .distinct()
        )
        known = {buyer(c, e) for c, e in before}
        k.returning_customers = len(buyers & known)
        k.new_customers = len(buyers - known)

    ready = await session.execute(
        select(Order.ready_at, Order.shipped_at).where(
            Order.ready_at >= start, Order.ready_at < end, Order.status != "cancelled"
        )
    )
    judged, in_time = [0, 0], [0, 0]
    for ready_at, shipped_at in ready:
        for i, hours in enumerate((24, 48)):
            limit = dt.timedelta(hours=hours)
            if shipped_at is not None and shipped_at - ready_at <= limit:
                judged[i] += 1
                in_time[i] += 1
            elif now - ready_at > limit:
                judged[i] += 1  # late, shipped or not
    k.ready, k.shipped_in = (judged[0], judged[1]), (in_time[0], in_time[1])

    k.top_products = await _best_sellers(session, placed, Product.name, Product.id)
    k.top_categories = await _best_sellers(session, placed, Category.name, Category.id)
    k.top_searches = await _searches(session, period, "search")
    k.empty_searches = await _searches(session, period, "search_empty")

    review = await session.execute(
        select(func.count(), func.coalesce(func.sum(Review.rating), 0)).where(
            Review.created_at >= start, Review.created_at < end, Review.hidden.is_(False)
        )
    )
    k.reviews, k.rating_total = (int(v) for v in review.one())
    k.favourable_reviews = int(
        await session.scalar(
            select(func.count()).where(
                Review.created_at >= start,
                Review.created_at < end,
                Review.hidden.is_(False),
                Review.rating >= FAVOURABLE_FROM,
            )
        )
        or 0
    )

    last = period.end - dt.timedelta(days=1)
    paid_since = select(func.coalesce(func.sum(Order.total), 0)).where(
        Order.paid_at.is_not(None), Order.created_at < end
    )
    k.month_sales = int(
        await session.scalar(paid_since.where(Order.created_at >= utc(last.replace(day=1)))) or 0
    )
    k.year_sales = int(
        await session.scalar(
            paid_since.where(Order.created_at >= utc(last.replace(month=1, day=1)))
        )
        or 0
    )
    return k


async def _best_sellers(
    session: AsyncSession, placed: tuple[Any, ...], name: Any, group: Any
) -> list[Ranked]:
    """Products or categories by units in the period's orders (not cancelled)."""
    rows = await session.execute(
        select(func.sum(OrderLine.quantity), func.sum(OrderLine.line_total), func.min(name))
        .join(Order, Order.id == OrderLine.order_id)
        .join(Sku, Sku.id == OrderLine.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .join(Category, Category.id == Product.category_id)
        .where(*placed, Order.status != "cancelled")
        .group_by(group)
    )
    ranked = [Ranked(str(label), int(n), int(amount)) for n, amount, label in rows]
    ranked.sort(key=lambda r: (-r.count, -r.amount, r.name))
    return ranked[:TOP]


async def _searches(session: AsyncSession, period: Period, kind: str) -> list[Ranked]:
    total = func.sum(PageView.views)
    rows = await session.execute(
        select(PageView.key, total)
        .where(PageView.kind == kind, PageView.day >= period.start, PageView.day < period.end)
        .group_by(PageView.key)
        .order_by(total.desc(), PageView.key)
        .limit(TOP)
    )
    return [Ranked(key, int(n)) for key, n in rows]

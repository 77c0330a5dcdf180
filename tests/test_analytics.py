"""KPIs, targets and reports over a history whose figures are known by construction: orders
placed through the API, then moved into October 2026 in the shop's time zone; visitors, views,
searches and reviews written as the counter and customers would have."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from alembic import command
from sqlalchemy import update

from shopd import migrations
from shopd.analytics.models import DailyVisitor, PageView
from shopd.analytics.service import Period, kpis
from shopd.cart.models import Cart
from shopd.config import Settings
from shopd.content.models import Review
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.orders.models import Order
from tests.conftest import Backend, SmallCatalog, checkout_body
from tests.server import shopctl
from tests.staffkit import PATH_TO, Staff, make_staff, staff_call

ZONE = ZoneInfo("Asia/Shanghai")
TEE, TEAPOT = "纯棉圆领T恤", "宜兴紫砂壶"
OCTOBER = Period(dt.date(2026, 10, 1), dt.date(2026, 11, 1))


def at(day: int, hour: int, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=ZONE).astimezone(dt.UTC)


@dataclass
class History:
    sales: int
    refund: int
    orders: int = 4
    paid: int = 3
    visitors: int = 200


async def order(
    client: httpx.AsyncClient,
    staff: Staff,
    sku: str,
    quantity: int,
    email: str,
    status: str,
) -> dict:
    client.cookies.clear()
    r = await client.post("/api/v1/cart/items", json={"sku": sku, "quantity": quantity})
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/orders", json=checkout_body(email=email))
    assert r.status_code == 201, r.text
    placed = r.json()
    for action in PATH_TO[status]:
        done = await staff_call(client, staff.manager, action, placed)
        assert done.status_code in (200, 201), (action, done.text)
    client.cookies.clear()
    return placed


async def move(db: Database, number: str, **values: dt.datetime | int | None) -> None:
    async with db.write() as s:
        await s.execute(update(Order).where(Order.number == number).values(**values))
        await s.commit()


async def seed_history(client: httpx.AsyncClient, db: Database, catalog: SmallCatalog) -> History:
    staff = await make_staff(client, db)
    a = await order(client, staff, catalog.sku_m, 1, "a@example.com", "shipped")
    b = await order(client, staff, catalog.sku_m, 2, "B@example.com", "shipped")
    c = await order(client, staff, catalog.sku_pot, 1, "a@example.com", "paid")
    d = await order(client, staff, catalog.sku_m, 1, "c@example.com", "pending_payment")
    e = await order(client, staff, catalog.sku_m, 1, "d@example.com", "cancelled")
    f = await order(client, staff, catalog.sku_m, 1, "b@example.com", "paid")
    # A ships in 10 h (in 24 h), B in 30 h (in 48 h only), C is ready and never ships.
    await move(db, a["number"], created_at=at(5, 10), paid_at=at(5, 10), ready_at=at(5, 10),
               shipped_at=at(5, 20))  # fmt: skip
    await move(db, b["number"], created_at=at(5, 12), paid_at=at(5, 12), ready_at=at(5, 12),
               shipped_at=at(6, 18), refunded_total=1000)  # fmt: skip
    await move(db, c["number"], created_at=at(6, 9), paid_at=at(6, 9), ready_at=at(6, 9))
    await move(db, d["number"], created_at=at(6, 21))
    await move(db, e["number"], created_at=at(6, 22))
    # B's buyer paid once before October: a returning customer; A's is new.
    await move(db, f["number"], created_at=at(20, 9, month=9), paid_at=at(20, 9, month=9),
               ready_at=at(20, 9, month=9))  # fmt: skip
    async with db.write() as s:
        await s.execute(update(Cart).values(created_at=at(5, 8)))
        for n in range(120):
            s.add(DailyVisitor(day=dt.date(2026, 10, 5), visitor=f"{n:032x}"))
        for n in range(80):
            s.add(DailyVisitor(day=dt.date(2026, 10, 6), visitor=f"{n:032x}"))
        s.add(DailyVisitor(day=dt.date(2026, 11, 1), visitor="f" * 32))  # not October
        s.add_all(
            [
                PageView(day=dt.date(2026, 10, 5), kind="page", key="/", views=500),
                PageView(day=dt.date(2026, 10, 6), kind="page", key="/", views=300),
                PageView(day=dt.date(2026, 10, 5), kind="product", key="cotton-tee", views=240),
                PageView(day=dt.date(2026, 10, 5), kind="search", key="teapot", views=7),
                PageView(day=dt.date(2026, 10, 6), kind="search", key="tee", views=5),
                PageView(day=dt.date(2026, 10, 7), kind="search", key="tee", views=4),
                PageView(day=dt.date(2026, 10, 6), kind="search_empty", key="unicorn", views=3),
            ]
        )
        for n, (rating, hidden) in enumerate(
            ((5, False), (5, False), (4, False), (2, False), (1, True))
        ):
            reviewer = Customer(email=f"reviewer{n}@example.com", password_hash="x")
            s.add(reviewer)
            await s.flush()
            s.add(
                Review(
                    product_id=1,
                    customer_id=reviewer.id,
                    author="r",
                    rating=rating,
                    body="b",
                    hidden=hidden,
                    created_at=at(7, 12),
                )
            )
        await s.commit()
    sales = a["total"] + b["total"] + c["total"]
    r = await client.put(
        "/api/v1/staff/settings/monthly_sales_target",
        json={"value": 2 * sales},
        headers=staff.admin,
    )
    assert r.status_code == 200, r.text
    r = await client.put(
        "/api/v1/staff/settings/daily_orders_target", json={"value": 1}, headers=staff.admin
    )
    assert r.status_code == 200, r.text
    return History(sales=sales, refund=1000)


async def stamp_head(db: Database) -> None:
    """The fixture's schema is the models' own: tell shopctl it is the newest revision."""
    async with db.write_engine.begin() as conn:
        await conn.run_sync(lambda c: command.stamp(migrations.alembic_config(c), "head"))


async def test_october_kpis_are_what_the_history_was_built_to_give(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    h = await seed_history(client, db, catalog)
    async with db.read() as s:
        k = await kpis(s, OCTOBER, timezone="Asia/Shanghai", currency="CNY")
    assert (k.visitors, k.page_views, k.product_views) == (200, 800, 240)
    assert (k.orders, k.paid_orders, k.sales, k.refunds) == (4, 3, h.sales, h.refund)
    assert k.conversion == pytest.approx(0.02)
    assert k.average_order_value == round(h.sales / 3)
    assert (k.paying_customers, k.new_customers, k.returning_customers) == (2, 1, 1)
    assert k.shipped_24h == pytest.approx(1 / 3) and k.shipped_48h == pytest.approx(2 / 3)
    assert (k.reviews, k.rating, k.favourable_rate) == (4, 4.0, 0.75)
    assert k.carts == 6
    assert [(d.day.day, d.orders, d.visitors) for d in k.days if d.orders or d.visitors] == [
        (5, 2, 120),
        (6, 2, 80),
    ]
    assert k.hours[10] == k.hours[12] == k.hours[9] == k.hours[21] == 1 and sum(k.hours) == 4
    assert [(p.name, p.count) for p in k.top_products] == [(TEE, 4), (TEAPOT, 1)]
    assert [(c.name, c.count) for c in k.top_categories] == [("T恤", 4), ("茶具", 1)]
    assert [(s.name, s.count) for s in k.top_searches] == [("tee", 9), ("teapot", 7)]
    assert [(s.name, s.count) for s in k.empty_searches] == [("unicorn", 3)]
    # Targets: the month at half its sales target; one order a day over 31 days.
    assert k.month_progress == pytest.approx(0.5)
    assert k.orders_target == 31 and k.orders_progress == pytest.approx(4 / 31)
    # A day holds only its own: 5 October.
    async with db.read() as s:
        day = await kpis(s, Period.of("day", dt.date(2026, 10, 5)), timezone="Asia/Shanghai",
                         currency="CNY")  # fmt: skip
    assert (day.orders, day.visitors, day.paid_orders, day.orders_target) == (2, 120, 2, 1)


async def test_kpis_through_the_staff_api_and_bad_periods_are_refused(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    h = await seed_history(client, db, catalog)
    token = (
        await client.post(
            "/api/v1/staff/session", json={"username": "clerk.one", "password": "staff-password-1"}
        )
    ).json()["token"]
    clerk = {"Authorization": f"Bearer {token}"}
    r = await client.get("/api/v1/staff/reports/kpis?span=month&date=2026-10-15", headers=clerk)
    assert r.status_code == 200, r.text
    k = r.json()
    assert (k["start"], k["end"], k["orders"], k["sales"]) == (
        "2026-10-01",
        "2026-10-31",
        4,
        h.sales,
    )
    assert k["conversion"] == pytest.approx(0.02) and len(k["days"]) == 31
    assert k["targets"]["conversion"] == pytest.approx(0.02)
    r = await client.get("/api/v1/staff/reports/kpis?days=14", headers=clerk)
    assert r.status_code == 200 and len(r.json()["days"]) == 14
    for bad in ("span=decade", "date=2026-13-01", "days=0", "days=100000", "days=3&span=day"):
        r = await client.get(f"/api/v1/staff/reports/kpis?{bad}", headers=clerk)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"]["code"]
    assert (await client.get("/api/v1/staff/reports/kpis")).status_code == 401


async def test_monthly_report_prints_tables_writes_csv_and_draws_charts(
    client: httpx.AsyncClient,
    db: Database,
    backend: Backend,
    catalog: SmallCatalog,
    tmp_path: Path,
) -> None:
    h = await seed_history(client, db, catalog)
    await stamp_head(db)
    env = {"SHOPD_DATABASE_URL": backend.url, "SHOPD_DATA_DIR": str(tmp_path)}
    out = tmp_path / "report"
    r = shopctl("report", "monthly", "--month", "2026-10", "--out", str(out), env=env)
    assert r.returncode == 0, r.stderr
    assert "monthly report · 2026-10-01 – 2026-10-31" in r.stdout
    assert "50.0% of" in r.stdout  # the month's sales against its target
    with (out / "kpis.csv").open() as fh:
        figures = dict(csv.reader(fh))
    assert figures["sales"] == str(h.sales) and figures["orders"] == "4"
    assert float(figures["conversion"]) == pytest.approx(0.02)
    assert float(figures["month_completion"]) == pytest.approx(0.5)
    with (out / "days.csv").open() as fh:
        days = list(csv.DictReader(fh))
    assert len(days) == 31 and days[4]["orders"] == "2" and days[4]["visitors"] == "120"
    for chart in ("sales.png", "funnel.png"):
        assert (out / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = shopctl("report", "campaign", "--from", "2026-10-05", "--to", "2026-10-06", env=env)
    assert r.returncode == 0, r.stderr
    assert "orders per hour" in r.stdout
    r = shopctl("report", "daily", "--date", "2026-10-32", env=env)
    assert r.returncode == 1 and "not a date" in r.stderr
    r = shopctl("report", "targets", "--daily-orders", "50", "--conversion", "2.5", env=env)
    assert r.returncode == 0, r.stderr
    assert "2.50%" in r.stdout
    async with db.read() as s:
        k = await kpis(s, OCTOBER, timezone="Asia/Shanghai", currency="CNY")
    assert k.targets.daily_orders == 50 and k.targets.conversion_bp == 250

"""The clock drill (issue 12): flash sales, dispatch flags and "today" when the shop's time zone
changes its clocks. The shop keeps instants in UTC and turns them into days only in its own
zone; these tests fail the moment anything compares local wall-clock times instead.

The shop here is in Europe/Berlin. In 2027 its clocks go forward at 02:00 on 28 March (that
day has 23 hours) and back at 03:00 on 31 October (25 hours; 02:00–03:00 comes twice).
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy import select, update

from shopd import security
from shopd.cart import service as carts
from shopd.config import Settings
from shopd.db import Database
from shopd.orders import dashboard as dashboards
from shopd.orders.lifecycle import dispatch_flag
from shopd.orders.models import Order
from tests.conftest import SmallCatalog, checkout_body
from tests.staffkit import Staff, make_staff

UTC = dt.UTC
REGULAR, SALE = 7900, 5900
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"timezone": "Europe/Berlin"})


def instant(text: str) -> dt.datetime:
    """An API timestamp as an aware UTC instant (SQLite hands back naive UTC)."""
    value = dt.datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def test_a_flash_sale_in_the_hour_that_happens_twice(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    staff: Staff = await make_staff(client, db)
    # 02:30 summer time to 02:30 winter time: the same wall-clock reading, one real hour apart.
    body = {
        "sku": catalog.sku_m,
        "sale_price": SALE,
        "quantity": 20,
        "starts_at": "2027-10-31T02:30:00+02:00",
        "ends_at": "2027-10-31T02:30:00+01:00",
    }
    r = await client.post("/api/v1/staff/flash-sales", json=body, headers=staff.manager)
    assert r.status_code == 201, r.text
    sale = r.json()
    start, end = dt.datetime(2027, 10, 31, 0, 30, tzinfo=UTC), dt.datetime(2027, 10, 31, 1, 30)
    end = end.replace(tzinfo=UTC)
    assert (instant(sale["starts_at"]), instant(sale["ends_at"])) == (start, end)
    assert sale["state"] == "scheduled"
    # Without an offset "02:30" on that day means two instants: refused, not guessed.
    naive = {**body, "starts_at": "2027-10-31T02:30:00", "ends_at": "2027-10-31T04:00:00"}
    r = await client.post("/api/v1/staff/flash-sales", json=naive, headers=staff.manager)
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_error"

    owner = carts.CartOwner(token_hash=security.token_digest(security.new_token()))
    async with db.write() as s:
        await carts.add_item(s, settings, owner, catalog.sku_m, 1)
        await s.commit()
    expected = [
        (start - SECOND, REGULAR),
        (start, SALE),
        # 02:15 winter time, "before 02:30" on the wall clock for the second time: still on.
        (dt.datetime(2027, 10, 31, 1, 15, tzinfo=UTC), SALE),
        (end - SECOND, SALE),
        (end, REGULAR),
        # 02:45 summer time came before the end, though the wall clock reads later than 02:30.
        (dt.datetime(2027, 10, 31, 0, 45, tzinfo=UTC), SALE),
    ]
    async with db.read() as s:
        cart = await carts.find_cart(s, owner)
        for now, price in expected:
            (line,) = await carts.priced_lines(s, settings, cart, now)
            assert line.unit_price == price, now


async def cod_order(client: httpx.AsyncClient, db: Database, sku: str, **times: dt.datetime) -> str:
    """A cash-on-delivery order (ready to ship once placed), its times moved to ``times``."""
    client.cookies.clear()
    await client.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1})
    r = await client.post("/api/v1/orders", json=checkout_body(payment_method="cod"))
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    async with db.write() as s:
        await s.execute(update(Order).where(Order.number == number).values(**times))
        await s.commit()
    return number


@pytest.mark.parametrize(
    ("ready", "not_yet", "late"),
    [
        # Spring: noon CET on the 27th; 24 real hours later it is 13:00 CEST on the 28th.
        ("2027-03-27T12:00:00+01:00", "2027-03-28T12:30:00+02:00", "2027-03-28T13:00:01+02:00"),
        # Autumn: noon CEST on the 30th; 24 real hours later it is 11:00 CET on the 31st.
        ("2027-10-30T12:00:00+02:00", "2027-10-31T10:59:59+01:00", "2027-10-31T11:30:00+01:00"),
    ],
)
async def test_dispatch_flags_count_real_hours_across_a_clock_change(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    catalog: SmallCatalog,
    ready: str,
    not_yet: str,
    late: str,
) -> None:
    number = await cod_order(client, db, catalog.sku_m, ready_at=instant(ready))
    async with db.read() as s:
        order = await s.scalar(select(Order).where(Order.number == number))
        assert order is not None
        for now, flag, late_count in ((not_yet, None, 0), (late, "late", 1)):
            assert dispatch_flag(order, instant(now)) == flag, now
            board = await dashboards.dashboard(s, settings, now=instant(now))
            assert (board.to_ship, board.late, board.overdue) == (1, late_count, 0), now


async def test_today_is_the_shops_day_even_when_it_has_25_hours(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    # 31 Oct 2027 in Berlin runs from 22:00 UTC on the 30th to 23:00 UTC on the 31st.
    first = dt.datetime(2027, 10, 30, 22, 0, tzinfo=UTC)
    last = dt.datetime(2027, 10, 31, 22, 59, 59, tzinfo=UTC)
    for created in (first - SECOND, first, last):
        await cod_order(client, db, catalog.sku_m, created_at=created)
    async with db.read() as s:
        board = await dashboards.dashboard(s, settings, now=last)
    assert board.today_orders == 2

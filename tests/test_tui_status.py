"""Each tab's status line is its own, an error goes once the shop answers again, and an
action on one tab refreshes what the other tabs show of the same goods."""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import DataTable

from shopd.config import Settings
from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import Staff, make_staff, place_order
from tests.tuikit import (
    Stalling,
    fill_dialog,
    go_tab,
    loaded,
    log_in,
    message,
    open_order,
    press,
    rows,
    tui,
)


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def test_a_tabs_status_stays_on_its_tab(
    db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "clerk.one")
        assert message(app).startswith("orders: all")
        table = await go_tab(app, pilot, "stock")
        assert "orders:" not in message(app)
        table.move_cursor(row=rows(table).index(catalog.sku_pot))
        await press(app, pilot, "r")
        await fill_dialog(app, pilot, {"quantity": "2", "reference": ""})
        assert f"{catalog.sku_pot}: on hand now 5" in message(app)
        await go_tab(app, pilot, "orders")
        assert "on hand" not in message(app) and message(app).startswith("orders: all")
        await go_tab(app, pilot, "stock")
        assert f"{catalog.sku_pot}: on hand now 5" in message(app)


async def test_an_error_goes_when_the_shop_answers_again(
    db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    shop = Stalling(httpx.ASGITransport(app=None))  # type: ignore[arg-type]
    app = tui(db, settings, stalling=shop)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "stock")
        shop.down = True
        await press(app, pilot, "down")  # the next SKU's ledger is fetched, and fails
        assert "the shop does not answer" in message(app)
        shop.down = False
        await press(app, pilot, "down")  # the one after: the shop answers
        assert "does not answer" not in message(app)


async def test_cancelling_an_order_refreshes_the_stock_tab(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    catalog: SmallCatalog,
    staff: Staff,
) -> None:
    order = await place_order(client, catalog.sku_m, 2)  # takes two
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "clerk.one")
        stock = app.screen.query_one("#stock-table", DataTable)

        def available() -> int:
            return int(str(stock.get_row(catalog.sku_m)[4]).split()[0])

        before = available()
        await open_order(app, pilot, str(order["number"]))
        await press(app, pilot, "c")
        await fill_dialog(app, pilot, {"reason": "customer asked"})
        await press(app, pilot, "escape")
        await loaded(app, pilot)
        assert available() == before + 2, "the stock tab shows the stock back, no Ctrl+R needed"

"""The staff TUI driven by Textual's pilot against a real shopd app served in-process."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from textual.widgets import DataTable, Input, Label, Sparkline, Static

from shopd import migrations
from shopd.config import Settings
from shopd.db import Database
from shopd.staff import service as staff_service
from tests.conftest import SmallCatalog
from tests.server import SHOPCTL, free_port, running
from tests.staffkit import PASSWORD, Staff, make_staff, order_in, place_order
from tests.tuikit import fill_dialog, log_in, message, rows, tui
from tui.app import MainScreen
from tui.dialogs import FormDialog
from tui.orders import OrderScreen


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def test_wrong_password_is_shown_and_login_works(
    client: httpx.AsyncClient, db: Database, settings: Settings, staff: Staff
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one", "wrong-password")
        assert "wrong staff name or password" in str(
            app.screen.query_one("#login-error", Static).render()
        )
        await log_in(app, pilot, "clerk.one")
        assert isinstance(app.screen, MainScreen)
        assert "clerk.one (clerk)" in app.screen.title


async def test_find_an_order_ship_it_and_it_leaves_the_to_ship_list(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    picking = await order_in(client, staff, catalog.sku_m, "picking")
    other = await order_in(client, staff, catalog.sku_l, "paid")
    app = tui(db, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(app, pilot, "clerk.one")
        table = app.screen.query_one("#order-table", DataTable)
        await pilot.press("t")  # the to-ship list
        await pilot.pause()
        assert set(rows(table)) == {picking["number"], other["number"]}

        await pilot.press("slash")
        search = app.screen.query_one("#order-search", Input)
        assert search.has_focus
        search.value = str(picking["number"])
        await pilot.press("enter")
        await pilot.pause()
        assert rows(table) == [picking["number"]]
        await pilot.press("enter")  # the order in full
        await pilot.pause()
        assert isinstance(app.screen, OrderScreen)
        detail = str(app.screen.query_one("#order-detail", Static).render())
        assert "王小明" in detail and "history:" in detail and "paid → picking" in detail

        await pilot.press("s")
        await pilot.pause()
        await fill_dialog(app, pilot, {"carrier": "顺丰 SF", "tracking": "SF900800700"})
        assert "now shipped" in message(app)
        assert "SF900800700" in str(app.screen.query_one("#order-detail", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await pilot.press("t")
        await pilot.pause()
        assert rows(table) == [other["number"]]
    shipped = await client.get(f"/api/v1/staff/orders/{picking['number']}", headers=staff.clerk)
    assert shipped.json()["tracking_number"] == "SF900800700"


async def test_receive_stock_and_see_the_ledger(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(app, pilot, "clerk.one")
        app.screen.query_one("#tabs").active = "stock"  # type: ignore[attr-defined]
        await pilot.pause()
        table = app.screen.query_one("#stock-table", DataTable)
        table.focus()
        table.move_cursor(row=rows(table).index(catalog.sku_pot))
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        await fill_dialog(app, pilot, {"quantity": "7", "reference": "PO-77"})
        assert "on hand now 10" in message(app)
        ledger = str(app.screen.query_one("#ledger", Static).render())
        assert "+7" in ledger and "receipt" in ledger and "PO-77" in ledger
        assert "ledger sum 10" in ledger


async def test_a_clerk_is_refused_a_refund_with_a_visible_message(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    returned = await order_in(client, staff, catalog.sku_m, "returned")
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "clerk.one")
        app.screen.query_one("#order-search", Input).value = str(returned["number"])
        app.screen.query_one("#order-search", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        # The footer does not offer a refund to a clerk; the key says why instead.
        assert app.screen.active_bindings["f"].binding.action == "why_not('refund')"
        await pilot.press("f")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert "refused: refund needs the manager role" in message(app)
    detail = await client.get(f"/api/v1/staff/orders/{returned['number']}", headers=staff.clerk)
    assert detail.json()["status"] == "returned"


async def test_orders_page_from_the_server(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    await client.post(
        f"/api/v1/staff/stock/{catalog.sku_m}/receipts", json={"quantity": 100}, headers=staff.clerk
    )
    for _ in range(55):
        await place_order(client, catalog.sku_m)
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        table = app.screen.query_one("#order-table", DataTable)
        assert table.row_count == 50
        assert "page 1/2" in message(app)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert table.row_count == 5


@pytest.mark.parametrize("colorterm", [None, "truecolor"], ids=["256-colour", "true-colour"])
def test_the_tui_in_a_real_terminal(tmp_path: Path, colorterm: str | None) -> None:
    """`shopctl tui` in a pseudo-terminal, as `ssh staff@app` runs it: log in by keystrokes,
    see the orders, switch to stock, quit, and the process ends cleanly (which ends the SSH
    session). Colours are honest: 256-colour codes unless the terminal says it has more."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.sqlite3'}"

    async def prepare() -> None:
        await migrations.upgrade(url)
        db = Database(url)
        try:
            async with db.write() as s:
                await staff_service.add_staff(s, "pty.clerk", "clerk", PASSWORD)
                await s.commit()
        finally:
            await db.dispose()

    asyncio.run(prepare())
    port = free_port()
    env = {
        "SHOPD_DATABASE_URL": url,
        "SHOPD_DATA_DIR": str(tmp_path),
        "SHOPD_BACKGROUND_JOBS": "false",
    }
    with running("serve", "--port", str(port), env=env, cwd=tmp_path, port=port) as (base, _, _):
        pid, fd = pty.fork()
        if pid == 0:  # the child: the TUI with a plain terminal; SSH forwards no COLORTERM
            child_env = {
                "TERM": "xterm-256color",
                "PATH": os.environ["PATH"],
                "LANG": "C.UTF-8",
                "HOME": str(tmp_path),
            }
            if colorterm:
                child_env["COLORTERM"] = colorterm
            os.execve(SHOPCTL, [SHOPCTL, "tui", "--url", base], child_env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        screen = b""

        def read_until(text: bytes, timeout: float = 60) -> None:
            nonlocal screen
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], 0.2)
                if ready:
                    try:
                        screen += os.read(fd, 65536)
                    except OSError:
                        break
                if text in screen:
                    return
            raise AssertionError(f"{text!r} never appeared; output: {screen!r}")

        def settle(quiet: float = 0.5, limit: float = 15) -> None:
            # As a person does: let the screen stop changing before the next key. A key sent
            # while a tab is still mounting lands in whatever had focus a moment ago.
            nonlocal screen
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], quiet)
                if not ready:
                    return
                try:
                    screen += os.read(fd, 65536)
                except OSError:
                    return

        try:
            read_until(b"log-in")
            os.write(fd, b"pty.clerk\t")
            time.sleep(0.3)
            os.write(fd, PASSWORD.encode() + b"\r")
            read_until(b"pty.clerk (clerk)")
            read_until(b"orders: all")
            settle()
            os.write(fd, b"3")  # the stock tab
            read_until(b"threshold")
            true_colour = b"\x1b[38;2;" in screen
            assert true_colour == bool(colorterm)
            if not colorterm:
                assert b"\x1b[38;5;" in screen
            settle()
            os.write(fd, b"1")  # the dashboard: nothing focused, yet `q` must still quit
            read_until(b"low stock:")
            settle()
            os.write(fd, b"q")  # asks first: over SSH quitting ends the session
            settle()
            assert os.waitpid(pid, os.WNOHANG) == (0, 0), "q alone ended the process"
            os.write(fd, b"y")  # without the question on screen, y would end nothing
            deadline = time.monotonic() + 20
            status = None
            while time.monotonic() < deadline:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                ready, _, _ = select.select([fd], [], [], 0.2)
                if ready:
                    with contextlib.suppress(OSError):
                        os.read(fd, 65536)
            assert status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        finally:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            os.close(fd)


async def test_dashboard_counts_and_target(
    client: httpx.AsyncClient, db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    import datetime as dt

    from sqlalchemy import update

    from shopd.db import utcnow
    from shopd.orders.models import Order

    # "Today" is the shop's day: orders placed just before its midnight would count for
    # yesterday by the time the dashboard is read.
    local = dt.datetime.now(ZoneInfo(settings.timezone))
    to_midnight = (
        local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    ) - local
    if to_midnight < dt.timedelta(seconds=30):
        await asyncio.sleep(to_midnight.total_seconds() + 0.5)
    paid = await order_in(client, staff, catalog.sku_m, "paid")  # 7900 + 1000 shipping
    late = await order_in(client, staff, catalog.sku_m, "picking")
    await order_in(client, staff, catalog.sku_m, "cancelled")  # not a sale
    async with db.write() as s:
        await s.execute(
            update(Order)
            .where(Order.number == late["number"])
            .values(ready_at=utcnow() - dt.timedelta(hours=30))
        )
        await s.commit()
    await client.put(
        "/api/v1/staff/settings/monthly_sales_target", json={"value": 178000}, headers=staff.admin
    )
    r = await client.get("/api/v1/staff/orders/dashboard", headers=staff.clerk)
    d = r.json()
    assert (d["today_orders"], d["today_sales"]) == (2, 2 * 8900)
    assert (d["to_ship"], d["late"], d["overdue"]) == (2, 1, 0)
    assert d["low_stock"] == 3  # L (5), XL (0) and the teapot (3) at the default threshold 5
    assert d["month_sales"] == 17800 and d["month_progress"] == pytest.approx(0.1)
    assert paid["number"]

    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        text = str(app.screen.query_one("#dashboard", Static).render())
        assert "today: 2 orders, CNY 178.00" in text
        assert "late (>24 h): 1" in text
        month = str(app.screen.query_one("#month-label", Label).render())
        assert "month: CNY 178.00 — 10% of CNY 1,780.00" in month
        # The last two weeks, today last: the cancelled order is no order, unpaid is no sale.
        orders = app.screen.query_one("#orders-trend", Sparkline).data
        assert orders is not None and len(orders) == 14 and orders[-1] == sum(orders) == 2
        sales = app.screen.query_one("#sales-trend", Sparkline).data
        assert sales is not None and sales[-1] == 2 * 8900

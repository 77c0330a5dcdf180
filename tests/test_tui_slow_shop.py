"""A slow or stalled shop never freezes the staff TUI: each request runs in a worker, the
screen says it is waiting, keys keep working, and Escape stops the wait."""

from __future__ import annotations

import time

import httpx
import pytest
from textual.widgets import Input, Static, TabbedContent

from shopd.config import Settings
from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import Staff, make_staff
from tests.tuikit import Stalling, go_tab, log_in, message, press, tui
from tui.app import MainScreen
from tui.dialogs import FormDialog

STALL = 10.0


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


def waiting_shown(app: object) -> bool:
    return bool(app.screen.query_one("#waiting", Static).display)  # type: ignore[attr-defined]


async def test_a_stalled_shop_shows_waiting_keys_work_and_escape_stops_it(
    db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    shop = Stalling(httpx.ASGITransport(app=None))  # type: ignore[arg-type]
    app = tui(db, settings, stalling=shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        assert not waiting_shown(app)
        shop.stall = STALL
        started = time.monotonic()
        await pilot.press("ctrl+r")
        await pilot.pause(0.2)
        assert waiting_shown(app), "the screen says it waits for the shop"
        await pilot.press("3")  # the stock tab, while every fetch still waits
        await pilot.pause(0.2)
        assert app.screen.query_one("#tabs", TabbedContent).active == "stock"
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not waiting_shown(app)
        assert "stopped waiting for the shop" in message(app)
        assert time.monotonic() - started < STALL / 2, "all of it without waiting the stall out"
        assert app.screen.query_one("#tabs", TabbedContent).active == "stock"


async def test_escape_stops_a_form_waiting_and_keeps_what_was_typed(
    db: Database, settings: Settings, catalog: SmallCatalog, staff: Staff
) -> None:
    shop = Stalling(httpx.ASGITransport(app=None))  # type: ignore[arg-type]
    app = tui(db, settings, stalling=shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, "stock")
        await press(app, pilot, "r")
        assert isinstance(app.screen, FormDialog)
        app.screen.query_one("#field-quantity", Input).value = "4"
        shop.stall = STALL
        await pilot.click("#ok")
        await pilot.pause(0.2)
        assert app.screen.query_one("#form-waiting").display, "the form shows it waits"
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert isinstance(app.screen, FormDialog), "Escape stopped the wait, not the form"
        assert "cancelled" in str(app.screen.query_one("#form-error").render())
        assert app.screen.query_one("#field-quantity", Input).value == "4"
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert isinstance(app.screen, MainScreen)

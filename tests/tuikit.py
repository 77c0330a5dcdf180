"""Driving the staff TUI in tests: an app wired to a real shopd app served in-process."""

from __future__ import annotations

import asyncio
import time

import httpx
from textual import events
from textual.coordinate import Coordinate
from textual.keys import _character_to_key
from textual.widgets import Button, DataTable, Input, Static

from shopd.config import Settings
from shopd.db import Database
from shopd.server.app import create_app
from tests.staffkit import PASSWORD
from tui.app import StaffApp
from tui.dialogs import ConfirmDialog, FormDialog
from tui.orders import OrderScreen


class Stalling(httpx.AsyncBaseTransport):
    """The shop in process, each answer held back ``stall`` seconds (a slow shop), or none
    at all while ``down``."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.stall = 0.0
        self.down = False  # refuses connections, as a stopped shop does

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.stall:
            await asyncio.sleep(self.stall)
        return await self.inner.handle_async_request(request)


def tui(db: Database, settings: Settings, *, stalling: Stalling | None = None) -> StaffApp:
    transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=create_app(settings, database=db))
    if stalling is not None:
        stalling.inner = transport
        transport = stalling
    return StaffApp("http://shop.test", transport=transport)


# The workers that fetch what a screen shows (not the actions, which may wait in a dialog).
LOADING = {"load", "detail", "ledger", "dashboard", "login", "count"}


async def loaded(app: StaffApp, pilot: object) -> None:
    """Until every fetch started has been answered and shown."""
    deadline = time.monotonic() + 30
    await pilot.pause()  # type: ignore[attr-defined]
    while any(w.is_running and w.group in LOADING for w in app.workers):
        assert time.monotonic() < deadline, "the shop's answers were never all shown"
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


async def log_in(app: StaffApp, pilot: object, name: str, password: str = PASSWORD) -> None:
    """Log in and wait for the answer: the next screen, or the password field emptied beside
    the error (a pause alone returns before the request does, whenever it is slow)."""
    login = app.screen
    login.query_one("#username", Input).value = name
    field = login.query_one("#password", Input)
    field.value = password
    deadline = time.monotonic() + 30
    # A button ignores clicks for 0.2 s after one (no double submits): as a person would, wait
    # until it has sprung back after a quick earlier attempt.
    while login.query_one("#login", Button).has_class("-active"):
        assert time.monotonic() < deadline, "the log-in button stayed pressed"
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    await pilot.click("#login")  # type: ignore[attr-defined]
    while app.screen is login and field.value:
        assert time.monotonic() < deadline, "the log-in never answered"
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    await loaded(app, pilot)


def rows(table: DataTable) -> list[str]:  # type: ignore[type-arg]
    """The row keys (order numbers, SKUs, slugs) in the order shown."""
    return [
        str(table.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value)
        for i in range(table.row_count)
    ]


def message(app: StaffApp) -> str:
    return str(app.screen.query_one("#message", Static).render())


async def fill_dialog(app: StaffApp, pilot: object, values: dict[str, str]) -> None:
    assert isinstance(app.screen, FormDialog)
    for name, value in values.items():
        app.screen.query_one(f"#field-{name}", Input).value = value
    dialog = app.screen
    await pilot.click("#ok")  # type: ignore[attr-defined]
    # The form closes once the shop accepted it, or stays open showing why not.
    deadline = time.monotonic() + 30
    while app.screen is dialog and not form_error(app):
        assert time.monotonic() < deadline, "the form was never answered"
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    if app.screen is not dialog:
        await asyncio.wait_for(app.workers.wait_for_complete(), 30)
    await loaded(app, pilot)


def form_error(app: StaffApp) -> str:
    """What the open form says is wrong ("" when nothing, or no form is open)."""
    if not isinstance(app.screen, FormDialog):
        return ""
    return str(app.screen.query_one("#form-error", Static).render())


async def confirm(app: StaffApp, pilot: object, *, opens_screen: bool = False) -> None:
    """Answer yes; unless the action goes on to a screen of its own, wait for it to finish."""
    assert isinstance(app.screen, ConfirmDialog), app.screen
    await pilot.press("y")  # type: ignore[attr-defined]
    if not opens_screen:
        await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


async def open_order(app: StaffApp, pilot: object, number: str) -> None:
    """Search the order by number and open its detail screen."""
    search = app.screen.query_one("#order-search", Input)
    search.value = number
    search.focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await loaded(app, pilot)
    await pilot.press("enter")  # type: ignore[attr-defined]
    await loaded(app, pilot)
    assert isinstance(app.screen, OrderScreen), app.screen


def detail(app: StaffApp) -> str:
    return str(app.screen.query_one("#order-detail", Static).render())


async def press(app: StaffApp, pilot: object, *keys: str) -> None:
    await pilot.press(*keys)  # type: ignore[attr-defined]
    await loaded(app, pilot)


async def go_tab(app: StaffApp, pilot: object, tab: str) -> DataTable:  # type: ignore[type-arg]
    app.screen.query_one("#tabs").active = tab  # type: ignore[attr-defined]
    await loaded(app, pilot)
    table = app.screen.query_one(f"#tabs #{tab} DataTable", DataTable)
    table.focus()
    return table


def shown_keys(app: StaffApp) -> set[str]:
    """The keys the footer offers now (hidden fallbacks left out)."""
    return {k for k, b in app.screen.active_bindings.items() if b.binding.show}


def key_event(key: str) -> events.Key:
    """The event a terminal sends for ``key`` ("a", "tab", "enter", "slash", "1")."""
    if len(key) == 1:
        return events.Key(key if key.isalnum() else _character_to_key(key), key)
    chars = {"tab": "\t", "enter": "\r", "escape": "\x1b", "space": " ", "slash": "/"}
    return events.Key(key, chars.get(key))


async def type_fast(app: StaffApp, pilot: object, *keys: str) -> None:
    """Send the keys in one batch with no pause between them, as SSH or a barcode scanner
    delivers them (``pilot.press`` waits for the app to settle after each key), then wait
    until the app has handled them. A string longer than one key is typed character by
    character, unless it names a key (tab, enter, escape, slash, ctrl+…)."""
    named = {"tab", "enter", "escape", "space", "slash", "backspace", "up", "down"}
    for key in keys:
        for k in [key] if key in named or "+" in key[1:] else list(key):
            app.post_message(key_event(k))
    deadline = time.monotonic() + 30
    await pilot.pause(0.1)  # type: ignore[attr-defined]
    while getattr(app, "holding_keys", lambda: False)():
        assert time.monotonic() < deadline, "the typed keys were never all handled"
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    await loaded(app, pilot)

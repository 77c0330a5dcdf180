"""Logging in to the staff TUI: Enter after the name moves on to the password, and a disabled
account is told so — once, beside the fields — both at log-in and in the middle of work."""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import Input, Static

from shopd.config import Settings
from shopd.db import Database
from tests.staffkit import PASSWORD, Staff, make_staff
from tests.tuikit import log_in, press, tui, type_fast
from tui.app import LoginScreen, MainScreen


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


def login_error(app: object) -> str:
    return str(app.screen.query_one("#login-error", Static).render())  # type: ignore[attr-defined]


async def test_enter_after_the_name_goes_to_the_password(
    db: Database, settings: Settings, staff: Staff
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await type_fast(app, pilot, "clerk.one")
        await press(app, pilot, "enter")
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#password", Input).has_focus
        assert login_error(app) == "", "nothing was sent with an empty password"
        await type_fast(app, pilot, PASSWORD)
        await press(app, pilot, "enter")
        for _ in range(100):
            if isinstance(app.screen, MainScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, MainScreen)


async def test_a_disabled_account_is_told_so_at_log_in(
    client: httpx.AsyncClient, db: Database, settings: Settings, staff: Staff
) -> None:
    r = await client.patch(
        "/api/v1/staff/accounts/clerk.one", json={"active": False}, headers=staff.admin
    )
    assert r.status_code == 200, r.text
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        assert isinstance(app.screen, LoginScreen)
        assert "this staff account is disabled" in login_error(app)
        await log_in(app, pilot, "clerk.one", "a-wrong-password")
        assert "wrong staff name or password" in login_error(app), "only the password tells"


async def test_an_account_disabled_during_work_is_told_so_once(
    client: httpx.AsyncClient, db: Database, settings: Settings, staff: Staff
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(app, pilot, "clerk.one")
        assert isinstance(app.screen, MainScreen)
        r = await client.patch(
            "/api/v1/staff/accounts/clerk.one", json={"active": False}, headers=staff.admin
        )
        assert r.status_code == 200, r.text
        await press(app, pilot, "ctrl+r")  # four tabs fetch at once; each is refused
        for _ in range(100):
            if isinstance(app.screen, LoginScreen):
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        assert isinstance(app.screen, LoginScreen)
        assert "has been disabled" in login_error(app)
        assert "expired" not in login_error(app)
        assert len(app._notifications) == 0, [n.message for n in app._notifications]
    # Enabling the account again does not revive the session it had.
    await client.patch(
        "/api/v1/staff/accounts/clerk.one", json={"active": True}, headers=staff.admin
    )
    assert (await client.get("/api/v1/staff/orders", headers=staff.clerk)).status_code == 401

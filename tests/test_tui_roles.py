"""Keys a clerk's role may not use say why — the shop's word on what the staff member may
call, given at log-in — once, and do nothing else."""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import Input

from shopd.config import Settings
from shopd.db import Database
from tests.conftest import SmallCatalog
from tests.staffkit import PASSWORD, Staff, make_staff
from tests.tuikit import go_tab, log_in, message, press, shown_keys, tui
from tui.app import MainScreen


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


@pytest.mark.parametrize(
    ("tab", "key", "said"),
    [
        ("stock", "j", "adjust needs the manager role"),
        ("stock", "h", "threshold needs the manager role"),
        ("products", "m", "price needs the manager role"),
        ("products", "u", "list/delist needs the manager role"),
    ],
)
async def test_a_managers_key_pressed_by_a_clerk_says_why(
    db: Database,
    settings: Settings,
    catalog: SmallCatalog,
    staff: Staff,
    tab: str,
    key: str,
    said: str,
) -> None:
    app = tui(db, settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await log_in(app, pilot, "clerk.one")
        await go_tab(app, pilot, tab)
        assert key not in shown_keys(app)  # not offered in the footer
        await press(app, pilot, key)
        assert isinstance(app.screen, MainScreen), "no dialog"
        assert f"refused: {said}" in message(app)
        search = app.screen.query_one(f"#{tab[:-1] if tab == 'products' else tab}-search", Input)
        assert search.value == "", "the key did not start a search either"
        assert len(app._notifications) == 1


async def test_the_log_in_answer_lists_what_the_role_may_not_call(
    client: httpx.AsyncClient, staff: Staff
) -> None:
    def refused(name: str) -> dict[str, str]:
        return r_json[name]["refused"]  # type: ignore[no-any-return]

    r_json = {}
    for name in ("clerk.one", "manager.one", "admin.one"):
        r = await client.post(
            "/api/v1/staff/session", json={"username": name, "password": PASSWORD}
        )
        r_json[name] = r.json()
    assert refused("clerk.one")["POST /stock/{sku}/adjustments"] == "manager"
    assert refused("clerk.one")["POST /orders/{number}/refunds"] == "manager"
    assert "POST /stock/{sku}/receipts" not in refused("clerk.one")
    assert "POST /stock/{sku}/adjustments" not in refused("manager.one")
    assert refused("manager.one")["PATCH /accounts/{username}"] == "admin"
    assert refused("admin.one") == {}
    # What it lists is what the API does: the clerk is refused, the manager is not.
    clerk = {"Authorization": f"Bearer {r_json['clerk.one']['token']}"}
    r = await client.put(
        "/api/v1/staff/stock/TEE-M/threshold", json={"threshold": 2}, headers=clerk
    )
    assert r.status_code == 403

"""Handlers' dependencies resolve one at a time: Litestar spends an anyio task group per request
on dependencies that do not depend on each other, which cost more than answering a cached page
(``shopd.http.shop_dependencies``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute

from shopd.config import Settings
from shopd.db import Database
from shopd.server.app import create_app
from tests.conftest import SmallCatalog
from tests.staffkit import make_staff


def test_every_handler_resolves_its_dependencies_one_at_a_time(
    db: Database, settings: Settings
) -> None:
    app = create_app(settings, database=db)
    checked = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler, kwargs_model in route.route_handler_map.values():
            batches = [sorted(d.key for d in batch) for batch in kwargs_model.dependency_batches]
            assert all(len(batch) == 1 for batch in batches), (handler, batches)
            checked += 1
    assert checked > 100  # the storefront, the JSON API and the staff API


@pytest.fixture
def no_task_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("dependencies were resolved in a task group")

    monkeypatch.setattr("litestar._kwargs.kwargs_model.create_task_group", refuse)


async def test_pages_the_api_and_the_staff_api_answer_without_a_task_group(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, no_task_groups: None
) -> None:
    staff = await make_staff(client, db)
    for path in ("/", f"/p/{catalog.tshirt}", f"/api/v1/products/{catalog.teapot}"):
        assert (await client.get(path)).status_code == 200, path
    r = await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/v1/staff/stock/{catalog.sku_m}/ledger", headers=staff.manager)
    assert r.status_code == 200, r.text
    assert r.json()["on_hand"] == 10

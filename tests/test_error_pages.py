"""Storefront errors are pages in the visitor's language with the right status; the API keeps
its JSON. Times on the storefront are the shop's clock with the zone named."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from sqlalchemy import select

from shopd.catalog.models import Sku
from shopd.db import Database, utcnow
from shopd.promotions.models import GroupBuy
from shopd.web import i18n
from tests.conftest import SmallCatalog

SAID = {
    400: {
        "en": "This address asks for something the page cannot show.",
        "zh": "该网址请求的内容无法显示",
        "es": "Esta dirección pide algo que la página no puede mostrar.",
    },
    404: {
        "en": "This page could not be found.",
        "zh": "找不到该页面。",
        "es": "No se encontró esta página.",
    },
}


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
async def test_bad_storefront_requests_answer_a_page_in_the_visitors_language(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, lang: str
) -> None:
    client.cookies.set(i18n.LANG_COOKIE, lang)
    for path, status in (
        ("/c/apparel?page=abc", 400),
        ("/search?q=" + "a" * 500, 400),
        ("/search?page=0", 400),
        ("/p/no-such-product", 404),
        ("/c/no-such-category", 404),
        ("/orders/20260101-AAAAAAAAAA?t=forged", 404),
    ):
        r = await client.get(path)
        assert r.status_code == status, path
        assert r.headers["content-type"].startswith("text/html"), path
        assert f'<html lang="{lang}">' in r.text and SAID[status][lang] in r.text, path
        assert '"error"' not in r.text, path
        assert '<meta name="robots" content="noindex">' in r.text, path


async def test_the_api_keeps_answering_json(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    r = await client.get("/api/v1/products?page=abc")
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_error"
    r = await client.get("/api/v1/products/no-such-product")
    assert r.status_code == 404 and r.json()["error"]["code"] == "product_not_found"


@pytest.mark.parametrize(
    ("lang", "zone"),
    [("en", "China Standard Time"), ("zh", "中国标准时间"), ("es", "hora estándar de China")],
)
async def test_a_group_buy_deadline_is_on_the_shops_clock_with_its_zone(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, lang: str, zone: str
) -> None:
    # 16:00 UTC is midnight in Shanghai: the page shows the next day, 00:00, and the zone.
    ends = (utcnow() + dt.timedelta(days=3)).replace(hour=16, minute=0, second=0, microsecond=0)
    async with db.write() as s:
        sku = await s.scalar(select(Sku).where(Sku.code == catalog.sku_pot))
        assert sku is not None
        s.add(
            GroupBuy(
                sku_id=sku.id,
                title="three together",
                group_price=50000,
                min_buyers=3,
                max_buyers=50,
                per_customer_limit=1,
                starts_at=utcnow() - dt.timedelta(hours=1),
                ends_at=ends,
                created_by="test",
            )
        )
        await s.commit()
    client.cookies.set(i18n.LANG_COOKIE, lang)
    page = (await client.get(f"/p/{catalog.teapot}")).text
    local_day = (ends + dt.timedelta(hours=8)).date()
    expected_day = {
        "en": f"{local_day.strftime('%b')} {local_day.day}, {local_day.year} 00:00 {zone}",
        "zh": f"{local_day.year}年{local_day.month}月{local_day.day}日 00:00 {zone}",
        "es": f"{local_day.day} ",
    }[lang]
    assert expected_day in page and f"00:00 {zone}" in page


async def test_the_inquiry_shows_the_ship_time_on_the_shops_clock(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    from tests.staffkit import make_staff, staff_call
    from tests.test_storefront import buy

    staff = await make_staff(client, db)
    client.cookies.set(i18n.LANG_COOKIE, "es")
    number = await buy(client, catalog.sku_m)
    order = {"number": number, "total": 7900 + 1000}
    for action in ("confirm_payment", "start_picking", "ship"):
        assert (await staff_call(client, staff.clerk, action, order)).status_code == 200
    page = (await client.get("/inquiry", params={"number": number, "contact": "13800138000"})).text
    shipped = re.search(r"Enviado el</dt><dd>([^<]+)<", page)
    assert shipped, page[-3000:]
    assert re.fullmatch(
        r"\d{1,2} \w+\.? \d{4} \d{2}:\d{2} hora estándar de China", shipped.group(1)
    )

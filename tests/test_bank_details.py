"""Bank transfer, the pre-selected payment, tells the customer where to send the money: the
admin sets the bank details per language, and the confirmation page, the order page, the order
mail and the help page show them in the reader's language, with how long the unpaid order is
kept, on the shop's clock with its zone."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from shopd.db import Database
from shopd.notifications.models import OutboxMessage
from shopd.web import i18n
from tests.conftest import SmallCatalog
from tests.staffkit import Staff, make_staff
from tests.test_storefront import csrf

BANK = {
    "en": "Account holder: Demo Ltd\nBank: Bank of China\nAccount: 6217 0000 1234 5678",
    "zh": "户名：演示有限公司\n开户行：中国银行\n账号：6217 0000 1234 5678",
    "es": "Titular: Demo Ltd\nBanco: Bank of China\nCuenta: 6217 0000 1234 5678",
}


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def set_bank(client: httpx.AsyncClient, staff: Staff, value: object) -> httpx.Response:
    return await client.put(
        "/api/v1/staff/settings/bank_details", json={"value": value}, headers=staff.admin
    )


async def place(client: httpx.AsyncClient, sku: str, method: str = "bank_transfer") -> str:
    """Check out through the pages; returns the confirmation page's path."""
    tok = await csrf(client)
    await client.post("/cart/add", data={"sku": sku, "quantity": "1", "_csrf_token": tok})
    page = (await client.get("/checkout")).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key
    r = await client.post(
        "/checkout",
        data={
            "_csrf_token": tok,
            "idempotency_key": key.group(1),
            "email": "payer@example.com",
            "payment_method": method,
            "recipient": "Ana",
            "phone": "13800138000",
            "region": "Madrid",
            "city": "Madrid",
            "line1": "Calle Mayor 1",
        },
    )
    assert r.status_code == 303, r.text[:1000]
    return r.headers["location"]


async def test_only_an_admin_sets_bank_details_and_only_per_known_language(
    client: httpx.AsyncClient, db: Database, staff: Staff
) -> None:
    r = await client.put(
        "/api/v1/staff/settings/bank_details", json={"value": BANK}, headers=staff.manager
    )
    assert r.status_code == 403
    for bad in ({"fr": "x"}, {"en": "x" * 1001}, "just text"):
        r = await set_bank(client, staff, bad)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_setting", bad
    # Not text at all: refused by the body's schema.
    r = await set_bank(client, staff, {"en": 5})
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_error"
    r = await set_bank(client, staff, BANK)
    assert r.status_code == 200 and r.json() == {"bank_details": BANK}
    r = await client.get("/api/v1/staff/settings", headers=staff.manager)
    assert r.json()["bank_details"] == BANK


@pytest.mark.parametrize(
    ("lang", "kept"),
    [
        ("en", "An unpaid order is kept for 24 hours, until "),
        ("zh", "未付款订单保留 24 小时，至 "),
        ("es", "Un pedido sin pagar se guarda 24 horas, hasta el "),
    ],
)
async def test_a_transfer_order_shows_the_bank_details_everywhere_in_its_language(
    client: httpx.AsyncClient,
    db: Database,
    catalog: SmallCatalog,
    staff: Staff,
    lang: str,
    kept: str,
) -> None:
    assert (await set_bank(client, staff, BANK)).status_code == 200
    client.cookies.set(i18n.LANG_COOKIE, lang)
    placed_path = await place(client, catalog.sku_m)
    number = placed_path.split("/")[2]
    zone = {"en": "China Standard Time", "zh": "中国标准时间", "es": "hora estándar de China"}
    others = [text for other, text in BANK.items() if other != lang]

    placed = (await client.get(placed_path)).text
    async with db.read() as s:
        mail = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "order_placed"))
    assert mail is not None
    link = re.search(r"https?://\S+/orders/\S+", mail.body)
    assert link, mail.body
    order_page = (await client.get(link.group(0).split("shop.test")[-1])).text
    for where, text in (("placed", placed), ("order page", order_page), ("mail", mail.body)):
        plain = text.replace("&amp;", "&")
        assert BANK[lang] in plain, where
        assert not any(other in plain for other in others), where
        assert kept in plain and zone[lang] in plain, where
        assert number in plain, where

    # The help pages' index (the payment page, where there is one) names them too.
    help_page = (await client.get("/help")).text
    assert 'id="bank-details"' in help_page and BANK[lang] in help_page


async def test_bank_details_fall_back_to_the_shops_language_and_not_for_other_methods(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    # Only English given: a Spanish reader sees the English (the shop's language), not nothing.
    assert (await set_bank(client, staff, {"en": BANK["en"]})).status_code == 200
    client.cookies.set(i18n.LANG_COOKIE, "es")
    placed = (await client.get(await place(client, catalog.sku_m))).text
    assert BANK["en"] in placed
    # Cash on delivery: no bank details, no expiry (a COD order is never cancelled unpaid).
    client.cookies.clear()
    placed = (await client.get(await place(client, catalog.sku_m, "cod"))).text
    assert 'id="bank-details"' not in placed and 'id="unpaid-until"' not in placed
    assert "Contra reembolso" not in placed and "Cash on delivery" in placed


async def test_without_bank_details_the_page_and_mail_say_whom_to_ask(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    client.cookies.set(i18n.LANG_COOKIE, "zh")
    placed = (await client.get(await place(client, catalog.sku_m))).text
    ask = "请发邮件至 service@example.com 索取本店银行账户信息。"
    assert ask in placed and 'id="bank-details"' in placed
    async with db.read() as s:
        mail = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "order_placed"))
    assert mail is not None and ask in mail.body

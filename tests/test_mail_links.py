"""Every link in every mail the shop sends opens the page it promises.

The order mails once linked to ``/orders/<number>``, which answered 404. Here a day's mails of
every kind are written through the API and pages, every URL in them is followed, and each must
answer 200 with what it names. A new kind of mail fails this test until it is exercised here.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from shopd.config import Settings
from shopd.customers.password_reset import MAIL_KIND as RESET_KIND
from shopd.db import Database
from shopd.notifications.models import OutboxMessage
from shopd.notifications.service import KINDS as ORDER_KINDS
from tests.conftest import SmallCatalog
from tests.staffkit import Staff, make_staff, order_in
from tests.test_customers import register
from tests.test_storefront import csrf

URL = re.compile(r"https?://[^\s<>\"'）)]+")
# Mails that carry no link of the shop's own making (a newsletter is the staff's text).
NEWSLETTER_KINDS = {"newsletter_confirm"}


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


async def mails(db: Database) -> list[OutboxMessage]:
    async with db.read() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def write_a_days_mail(client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff) -> None:
    r = await client.post(
        f"/api/v1/staff/stock/{catalog.sku_m}/receipts",
        json={"quantity": 50, "reference": "PO-1"},
        headers=staff.clerk,
    )
    assert r.status_code == 201, r.text
    for status in ("shipped", "refunded", "cancelled"):
        await order_in(client, staff, catalog.sku_m, status)
    await register(client, "reader@example.com")
    client.cookies.clear()
    r = await client.post("/api/v1/password-reset", json={"email": "reader@example.com"})
    assert r.status_code == 202, r.text
    token = await csrf(client)
    r = await client.post("/newsletter", data={"email": "news@example.com", "_csrf_token": token})
    assert r.status_code == 200, r.text


async def test_every_link_in_every_mail_opens_its_page(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    catalog: SmallCatalog,
    staff: Staff,
) -> None:
    await write_a_days_mail(client, catalog, staff)
    written = await mails(db)
    kinds = {m.kind for m in written}
    assert kinds >= {*ORDER_KINDS, RESET_KIND, *NEWSLETTER_KINDS}, kinds
    followed = 0
    for mail in written:
        links = URL.findall(mail.body)
        assert links, f"the {mail.kind} mail has no link"
        for link in links:
            parts = urlsplit(link)
            assert link.startswith(settings.public_url.rstrip("/") + "/"), link
            client.cookies.clear()  # as the mail's reader: a browser that never saw the shop
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            # HEAD first, as mail scanners do: the same status, and nothing may change.
            head = await client.head(path)
            r = await client.get(path)
            assert (head.status_code, r.status_code) == (200, 200), (mail.kind, link, r.text)
            if mail.order_id is not None:
                number = re.search(r"\b\d{8}-?[0-9A-Z]{4,}\b", mail.subject)
                assert number and number.group() in r.text, (mail.kind, link)
            followed += 1
    assert followed >= len(written)


async def test_an_order_link_with_a_wrong_token_shows_nothing(
    client: httpx.AsyncClient, catalog: SmallCatalog, staff: Staff, db: Database
) -> None:
    await write_a_days_mail(client, catalog, staff)
    order_mail = next(m for m in await mails(db) if m.kind == "order_shipped")
    link = URL.findall(order_mail.body)[0]
    path = urlsplit(link).path
    for query in ("", "?t=", "?t=" + "0" * 32):
        r = await client.get(path + query)
        assert r.status_code == 404, query
        assert "SF" not in r.text

"""Storefront pages over HTTP on both back ends: CSRF, escaping, translations, ETags, forms that
keep what was typed, reviews only from buyers, guestbook moderation, the newsletter's double
opt-in through a real SMTP server."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select

from shopd.config import Settings
from shopd.content.models import GuestbookEntry
from shopd.db import Database
from shopd.notifications import sender
from shopd.orders.models import Order
from tests.conftest import SmallCatalog
from tests.staffkit import Staff, make_staff, staff_call
from tests.test_outbox_smtp import SmtpServer, smtp, smtp_settings  # noqa: F401

FORM_ADDRESS = {
    "recipient": "王小明",
    "phone": "13800138000",
    "region": "浙江省",
    "city": "杭州市",
    "line1": "西湖区文三路 100 号",
}


@pytest.fixture
async def staff(client: httpx.AsyncClient, db: Database) -> Staff:
    return await make_staff(client, db)


def token_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def csrf(client: httpx.AsyncClient, path: str = "/") -> str:
    return token_of((await client.get(path)).text)


async def buy(client: httpx.AsyncClient, sku: str, quantity: int = 1, **form: str) -> str:
    """Add to cart and check out through the pages; returns the order number."""
    tok = await csrf(client)
    r = await client.post(
        "/cart/add", data={"sku": sku, "quantity": str(quantity), "_csrf_token": tok}
    )
    assert r.status_code == 303
    page = (await client.get("/checkout")).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key
    body = {
        "_csrf_token": tok,
        "idempotency_key": key.group(1),
        "email": "shopper@example.com",
        "payment_method": "bank_transfer",
        **FORM_ADDRESS,
        **form,
    }
    r = await client.post("/checkout", data=body)
    assert r.status_code == 303, r.text[:2000]
    placed = await client.get(r.headers["location"])
    number = re.search(r'id="order-number">([^<]+)<', placed.text)
    assert number
    return number.group(1)


async def test_pages_render_and_unknown_ones_are_html_404(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    for path in (
        "/",
        "/c/t-shirts",
        "/c/apparel",
        "/search?q=%E7%B4%AB%E7%A0%82",
        "/search?q=teapot",
        f"/p/{catalog.teapot}",
        "/cart",
        "/inquiry",
        "/account/login",
        "/account/register",
        "/guestbook",
        "/help",
        f"/compare?p={catalog.tshirt}&p={catalog.teapot}",
    ):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        assert "service@example.com" in r.text, path  # the contact on every page
    for path in ("/nope", f"/p/{catalog.hidden}", "/c/none", "/help/none"):
        r = await client.get(path)
        assert r.status_code == 404 and "<html" in r.text and "Traceback" not in r.text
    found = (await client.get("/search", params={"q": "紫砂"})).text
    assert "Yixing clay teapot" in found and "Cotton crew-neck" not in found
    latin = (await client.get("/search", params={"q": "teapot"})).text
    assert "Yixing clay teapot" in latin
    in_chinese = (await client.get("/search", params={"q": "紫砂", "lang": "zh"})).text
    assert "宜兴紫砂壶" in in_chinese


async def test_product_page_shows_choice_price_and_availability(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    page = (await client.get(f"/p/{catalog.tshirt}")).text
    assert "¥79.00" in page and "¥89.00" in page
    assert "Only 5 left" in page  # L has 5
    assert re.search(r'value="TEE-XL" disabled', page)  # sold out cannot be chosen
    assert "Sold out" in page
    teapot = (await client.get(f"/p/{catalog.teapot}", params={"lang": "zh"})).text
    assert "仅剩 3 件" in teapot


async def test_no_results_suggest_categories_and_popular_searches(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    page = (await client.get("/search", params={"q": "nothing-like-this"})).text
    assert "No products match" in page
    assert 'href="/c/t-shirts"' in page and 'href="/search?q=' in page


async def test_paging_and_sorting(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    asc = (await client.get("/c/apparel", params={"sort": "price_asc"})).text
    # No product is both: each matches half the words, so both are found, then sorted.
    desc = (await client.get("/search", params={"q": "teapot tshirt", "sort": "price_desc"})).text
    assert '<option value="price_asc" selected>' in asc
    assert desc.index("Yixing clay teapot") < desc.index("Cotton crew-neck T-shirt")
    r = await client.get("/c/apparel", params={"page": 99})
    assert r.status_code == 200 and "No products match" in r.text
    assert (await client.get("/c/apparel", params={"page": "x"})).status_code == 400


async def test_forms_need_the_csrf_token_and_change_nothing_without_it(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    await client.get("/")
    attempts = [
        ("/cart/add", {"sku": catalog.sku_m, "quantity": "1"}),
        ("/guestbook", {"topic": "service", "author": "x", "body": "hello"}),
        ("/account/register", {"email": "x@example.com", "password": "long-password-1"}),
        ("/newsletter", {"email": "x@example.com"}),
    ]
    for path, data in attempts:
        for token in (None, "forged-token"):
            body = dict(data) | ({"_csrf_token": token} if token else {})
            r = await client.post(path, data=body)
            assert r.status_code == 403, path
            assert "form expired" in r.text
    assert "Your cart is empty." in (await client.get("/cart")).text
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(GuestbookEntry)) == 0
    # A token from another browser's cookie does not work either.
    other = httpx.AsyncClient(transport=client._transport, base_url="http://shop.test")  # type: ignore[attr-defined]
    async with other:
        foreign = await csrf(other)
    r = await client.post(
        "/cart/add", data={"sku": catalog.sku_m, "quantity": "1", "_csrf_token": foreign}
    )
    assert r.status_code == 403


async def test_hostile_names_and_messages_are_shown_as_text(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    evil = '<script>alert("x")</script>'
    r = await client.post(
        "/api/v1/staff/products",
        json={
            "slug": "evil",
            "category": "t-shirts",
            "name": evil,
            "list_price": 100,
            "description": f"hi {evil} <img src=x onerror=alert(1)> [link](javascript:alert(1))",
            "skus": [{"code": "EVIL-1"}],
        },
        headers=staff.clerk,
    )
    assert r.status_code == 201
    await client.post(
        "/api/v1/staff/products/evil/approve", json={"list": True}, headers=staff.manager
    )
    await client.post(
        "/api/v1/staff/stock/EVIL-1/receipts", json={"quantity": 1}, headers=staff.clerk
    )
    for path in ("/p/evil", "/search?q=script", "/"):
        page = (await client.get(path)).text
        assert "<script>alert" not in page, [
            ln for ln in page.splitlines() if "<script>alert" in ln
        ]
        assert "<img src=x" not in page
        assert "&lt;script&gt;" in page, path
    assert 'href="javascript:' not in (await client.get("/p/evil")).text

    tok = await csrf(client, "/guestbook")
    r = await client.post(
        "/guestbook",
        data={
            "topic": "service",
            "author": evil,
            "body": "<img src=x onerror=alert(1)>",
            "_csrf_token": tok,
        },
    )
    assert r.status_code == 303
    page = (await client.get("/guestbook")).text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page

    r = await client.put(
        "/api/v1/staff/pages/returns",
        json={"title": "Returns <b>", "body": "# Returns\n\n<script>alert(1)</script> **7 days**"},
        headers=staff.manager,
    )
    assert r.status_code == 200
    page = (await client.get("/help/returns")).text
    assert "<strong>7 days</strong>" in page and "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page and "Returns &lt;b&gt;" in page


async def test_translations_and_the_language_switch(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    english = await client.get("/cart")
    assert "Your cart is empty." in english.text and english.headers["content-language"] == "en"
    r = await client.get("/lang/zh", params={"next": "/cart"})
    assert r.status_code == 303 and r.headers["location"] == "/cart"
    chinese = await client.get("/cart")
    assert "购物车是空的。" in chinese.text and chinese.headers["content-language"] == "zh"
    assert '<html lang="zh-CN">' in chinese.text
    spanish = await client.get("/cart", params={"lang": "es"})
    assert "Su carrito está vacío." in spanish.text
    assert "Carrito" in (await client.get("/")).text  # the choice is kept in a cookie
    r = await client.get("/lang/xx")
    assert r.status_code == 404
    r = await client.get("/lang/en", params={"next": "//evil.example/"})
    assert r.headers["location"] == "/"  # no open redirect


async def test_shop_language_setting(
    db: Database, settings: Settings, catalog: SmallCatalog
) -> None:
    from shopd.server.app import create_app

    app = create_app(settings.model_copy(update={"language": "es"}), database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as c:
        assert "Su carrito está vacío." in (await c.get("/cart")).text


async def test_catalog_pages_answer_304_until_stock_changes(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    first = await client.get(f"/p/{catalog.teapot}")
    etag = first.headers["etag"]
    # The page holds this browser's CSRF token: the browser may revalidate it, no shared cache
    # may keep it.
    assert first.headers["cache-control"] == "private, no-cache"
    second = await client.get(f"/p/{catalog.teapot}")
    assert "set-cookie" not in second.headers and second.headers["etag"] == etag
    again = await client.get(f"/p/{catalog.teapot}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    await client.post(
        f"/api/v1/staff/stock/{catalog.sku_pot}/receipts",
        json={"quantity": 10},
        headers=staff.clerk,
    )
    changed = await client.get(f"/p/{catalog.teapot}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    # The header's cart count is part of the page: a cart added is a changed page, still
    # this browser's own.
    tok = await csrf(client)
    await client.post("/cart/add", data={"sku": catalog.sku_m, "quantity": "1", "_csrf_token": tok})
    carted = changed.headers["etag"]
    private = await client.get(f"/p/{catalog.teapot}", headers={"If-None-Match": carted})
    assert private.status_code == 200 and private.headers["etag"] != carted
    assert private.headers["cache-control"] == "private, no-cache"


async def test_checkout_keeps_input_shows_errors_and_places_one_order(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    tok = await csrf(client)
    await client.post("/cart/add", data={"sku": catalog.sku_m, "quantity": "2", "_csrf_token": tok})
    await client.post(
        "/cart/add", data={"sku": catalog.sku_pot, "quantity": "1", "_csrf_token": tok}
    )
    cart = (await client.get("/cart")).text
    assert "¥746.00" in cart  # 2 × 79 + 588, free shipping
    form = (await client.get("/checkout")).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key
    bad = {
        "_csrf_token": tok,
        "idempotency_key": key.group(1),
        "email": "not-an-email",
        "payment_method": "cod",
        "note": "请周末送货",
        **FORM_ADDRESS,
    }
    r = await client.post("/checkout", data=bad)
    assert r.status_code == 400
    assert 'aria-invalid="true" aria-describedby="e-email"' in r.text
    assert (
        'value="王小明"' in r.text and "请周末送货" in r.text and 'value="not-an-email"' in r.text
    )
    good = bad | {"email": "shopper@example.com"}
    first = await client.post("/checkout", data=good)
    second = await client.post("/checkout", data=good)  # a double click
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 1
    placed = await client.get(first.headers["location"])
    number = re.search(r'id="order-number">([^<]+)<', placed.text)
    assert number
    wrong = first.headers["location"].split("?")[0] + "?t=forged"
    assert (await client.get(wrong)).status_code == 404


async def test_inquiry_page(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    number = await buy(client, catalog.sku_m)
    order = {"number": number, "total": 7900 + 1000}
    page = (
        await client.get("/inquiry", params={"number": number, "contact": "shopper@example.com"})
    ).text
    # The status by its name in the page's language, never the code.
    assert "pending_payment" not in page and 'id="order-status">Awaiting payment' in page
    assert "Not paid yet" in page and "Not shipped yet" in page
    for action in ("confirm_payment", "start_picking", "ship"):
        assert (await staff_call(client, staff.clerk, action, order)).status_code == 200
    page = (await client.get("/inquiry", params={"number": number, "contact": "13800138000"})).text
    assert "SF1234567890" in page and 'id="order-status">Shipped' in page
    wrong = (
        await client.get("/inquiry", params={"number": number, "contact": "x@example.com"})
    ).text
    assert "No order matches" in wrong and "SF1234567890" not in wrong


async def test_register_login_history_profile_and_password(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    tok = await csrf(client, "/account/register")
    r = await client.post(
        "/account/register",
        data={"email": "li@example.com", "password": "short", "name": "李", "_csrf_token": tok},
    )
    assert r.status_code == 400 and 'value="li@example.com"' in r.text and "e-password" in r.text
    r = await client.post(
        "/account/register",
        data={
            "email": "li@example.com",
            "password": "long-password-1",
            "name": "李",
            "_csrf_token": tok,
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/account"
    number = await buy(client, catalog.sku_m, email="")
    account = (await client.get("/account")).text
    assert number in account and "li@example.com" in account
    detail = await client.get(f"/account/orders/{number}")
    assert detail.status_code == 200 and "/static/print.css" in detail.text
    r = await client.post(
        "/account/profile", data={"name": "李娜", "phone": "13900001111", "_csrf_token": tok}
    )
    assert r.status_code == 303
    assert 'value="李娜"' in (await client.get("/account")).text
    r = await client.post(
        "/account/password",
        data={"current_password": "wrong", "new_password": "another-pass-2", "_csrf_token": tok},
    )
    assert r.status_code == 400
    r = await client.post("/account/logout", data={"_csrf_token": tok})
    assert r.status_code == 303
    assert (await client.get("/account")).status_code == 303
    r = await client.post(
        "/account/login",
        data={
            "email": "li@example.com",
            "password": "nope-nope",
            "next": "/account",
            "_csrf_token": tok,
        },
    )
    assert r.status_code == 400 and 'value="li@example.com"' in r.text
    r = await client.post(
        "/account/login",
        data={
            "email": "li@example.com",
            "password": "long-password-1",
            "next": "https://evil.example/",
            "_csrf_token": tok,
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/account"


async def test_reviews_only_from_buyers_with_shop_replies(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    tok = await csrf(client, "/account/register")
    await client.post(
        "/account/register",
        data={
            "email": "r@example.com",
            "password": "long-password-1",
            "name": "评",
            "_csrf_token": tok,
        },
    )
    review = {"rating": "5", "body": "很好 great", "_csrf_token": tok}
    r = await client.post(f"/p/{catalog.teapot}/reviews", data=review)
    assert r.status_code == 303 and "error=not_a_buyer" in r.headers["location"]
    number = await buy(client, catalog.sku_pot, email="")
    order = {"number": number, "total": 58800}
    for action in ("confirm_payment", "start_picking", "ship", "deliver"):
        assert (await staff_call(client, staff.clerk, action, order)).status_code == 200
    page = (await client.get(f"/p/{catalog.teapot}")).text
    assert "Write a review" in page
    r = await client.post(f"/p/{catalog.teapot}/reviews", data=review)
    assert r.headers["location"].endswith("#reviews") and "error" not in r.headers["location"]
    again = await client.post(f"/p/{catalog.teapot}/reviews", data=review)
    assert "error=already_reviewed" in again.headers["location"]
    bad = await client.post(f"/p/{catalog.teapot}/reviews", data=review | {"rating": "9"})
    assert "error=invalid_rating" in bad.headers["location"]
    from shopd.content.models import Review

    async with db.read() as s:
        review_id = await s.scalar(select(Review.id))
    r = await client.patch(
        f"/api/v1/staff/reviews/{review_id}",
        json={"reply": "谢谢惠顾 thank you"},
        headers=staff.clerk,
    )
    assert r.status_code == 200
    page = (await client.get(f"/p/{catalog.teapot}")).text
    assert "很好 great" in page and "谢谢惠顾 thank you" in page and "★★★★★" in page


async def test_guestbook_round_trip_with_reply_and_spam_hidden(
    client: httpx.AsyncClient, db: Database, staff: Staff
) -> None:
    tok = await csrf(client, "/guestbook")
    r = await client.post(
        "/guestbook",
        data={"topic": "delivery", "author": "", "body": "快递很快", "_csrf_token": tok},
    )
    assert r.status_code == 400 and "快递很快" in r.text  # kept, with the error next to the name
    r = await client.post(
        "/guestbook",
        data={"topic": "delivery", "author": "小王", "body": "快递很快", "_csrf_token": tok},
    )
    assert r.status_code == 303
    await client.post(
        "/guestbook",
        data={"topic": "service", "author": "spam", "body": "buy cheap pills", "_csrf_token": tok},
    )
    listed = (await client.get("/api/v1/staff/guestbook", headers=staff.clerk)).json()
    ids = {m["body"]: m["id"] for m in listed}
    await client.patch(
        f"/api/v1/staff/guestbook/{ids['快递很快']}",
        json={"reply": "感谢支持！"},
        headers=staff.clerk,
    )
    await client.patch(
        f"/api/v1/staff/guestbook/{ids['buy cheap pills']}",
        json={"hidden": True},
        headers=staff.clerk,
    )
    page = (await client.get("/guestbook")).text
    assert "快递很快" in page and "感谢支持！" in page and "cheap pills" not in page
    r = await client.patch(
        "/api/v1/staff/guestbook/999999", json={"hidden": True}, headers=staff.clerk
    )
    assert r.status_code == 404


async def test_announcements_and_service_pages_by_staff(
    client: httpx.AsyncClient, db: Database, staff: Staff
) -> None:
    r = await client.post(
        "/api/v1/staff/announcements",
        json={"title": "春节发货安排", "body": "2 月 1 日起暂停发货"},
        headers=staff.clerk,
    )
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/staff/announcements",
        json={"title": "春节发货安排", "body": "2 月 1 日起暂停发货"},
        headers=staff.manager,
    )
    assert r.status_code == 201
    assert "春节发货安排" in (await client.get("/")).text
    await client.patch(
        f"/api/v1/staff/announcements/{r.json()['id']}",
        json={"published": False},
        headers=staff.manager,
    )
    assert "春节发货安排" not in (await client.get("/")).text
    r = await client.put(
        "/api/v1/staff/pages/delivery",
        json={"title": "Delivery", "body": "Orders over **¥199** ship free.", "position": 1},
        headers=staff.manager,
    )
    assert r.status_code == 200
    help_page = (await client.get("/help/delivery")).text
    assert "<strong>¥199</strong>" in help_page
    assert 'href="/help/delivery"' in (await client.get("/help")).text
    r = await client.put(
        "/api/v1/staff/pages/Bad Slug", json={"title": "x", "body": "y"}, headers=staff.manager
    )
    assert r.status_code in (400, 404)


async def test_newsletter_double_opt_in_unsubscribe_and_send(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    staff: Staff,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    smtp.start()
    conf = smtp_settings(settings, smtp.port)
    tok = await csrf(client)
    for email in ("a@example.com", "b@example.com"):
        r = await client.post("/newsletter", data={"email": email, "_csrf_token": tok})
        assert r.status_code == 200 and "confirm" in r.text
    r = await client.post("/newsletter", data={"email": "nope", "_csrf_token": tok})
    assert r.status_code == 400
    await sender.send_pending(db, conf)
    confirmations = {m["To"]: m.get_content() for m in smtp.inbox.messages}
    assert set(confirmations) == {"a@example.com", "b@example.com"}
    link = re.search(r"/newsletter/confirm/(\S+)", confirmations["a@example.com"])
    assert link
    # A mail scanner looks at b's link with HEAD: b is not subscribed by it.
    scanned = re.search(r"/newsletter/confirm/(\S+)", confirmations["b@example.com"])
    assert scanned
    assert (await client.head(f"/newsletter/confirm/{scanned.group(1)}")).status_code == 200
    r = await client.get(f"/newsletter/confirm/{link.group(1)}")
    assert r.status_code == 200 and "confirmed" in r.text
    assert (await client.get("/newsletter/confirm/forged")).status_code == 404
    assert (await client.head("/newsletter/confirm/forged")).status_code == 404

    smtp.inbox.messages.clear()
    r = await client.post(
        "/api/v1/staff/newsletters",
        json={"subject": "新品上市", "body": "New teapots are in."},
        headers=staff.manager,
    )
    assert r.status_code == 201 and r.json()["recipients"] == 1  # b never confirmed
    await sender.send_pending(db, conf)
    [mail] = smtp.inbox.messages
    assert mail["To"] == "a@example.com" and "新品上市" in mail["Subject"]
    unsubscribe = re.search(r"/newsletter/unsubscribe/(\S+)", mail.get_content())
    assert unsubscribe
    # Nor is anyone unsubscribed by a HEAD.
    assert (await client.head(f"/newsletter/unsubscribe/{unsubscribe.group(1)}")).status_code == 200
    r = await client.post(
        "/api/v1/staff/newsletters", json={"subject": "still", "body": "x"}, headers=staff.manager
    )
    assert r.json()["recipients"] == 1
    assert (
        "unsubscribed" in (await client.get(f"/newsletter/unsubscribe/{unsubscribe.group(1)}")).text
    )
    r = await client.post(
        "/api/v1/staff/newsletters", json={"subject": "again", "body": "x"}, headers=staff.manager
    )
    assert r.json()["recipients"] == 0


async def test_compare_takes_at_most_four(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    r = await client.get(
        "/compare", params=[("p", catalog.tshirt), ("p", catalog.teapot), ("p", "nope")]
    )
    assert r.status_code == 200
    assert r.text.count('<th><a href="/p/') == 2


async def test_cart_errors_are_explained_in_the_visitors_language(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    tok = await csrf(client, f"/p/{catalog.teapot}?lang=zh")
    r = await client.post(
        "/cart/add",
        data={
            "sku": catalog.sku_pot,
            "quantity": "4",
            "back": f"/p/{catalog.teapot}",
            "_csrf_token": tok,
        },
        follow_redirects=True,
    )
    assert "库存不足。" in r.text and "out_of_stock" not in r.text.split("<main>")[1]
    page = (await client.get(f"/p/{catalog.tshirt}")).text
    # The first size that can be bought is chosen; the sold-out one cannot be.
    assert 'value="TEE-M" checked' in page and 'value="TEE-XL" disabled' in page


async def test_customers_cancel_their_own_unpaid_orders(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, staff: Staff
) -> None:
    from tests.test_checkout import stock_of

    tok = await csrf(client, "/account/register")
    await client.post(
        "/account/register",
        data={"email": "c1@example.com", "password": "long-password-1", "_csrf_token": tok},
    )
    start = await stock_of(db, catalog.sku_m)
    first = await buy(client, catalog.sku_m, 2, email="")
    second = await buy(client, catalog.sku_m, 1, email="")
    page = (await client.get(f"/account/orders/{first}")).text
    assert f'action="/account/orders/{first}/cancel"' in page
    r = await client.post(f"/account/orders/{first}/cancel", data={"_csrf_token": tok})
    assert r.status_code == 303
    assert "Cancelled" in (await client.get(f"/account/orders/{first}")).text
    assert (await stock_of(db, catalog.sku_m))[0] == start[0] - 1

    # Through the JSON API, with the session cookie: a paid order is staff's business.
    await staff_call(
        client, staff.clerk, "confirm_payment", {"number": second, "total": 7900 + 1000}
    )
    r = await client.post(f"/api/v1/me/orders/{second}/cancel")
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    r = await client.post(f"/api/v1/me/orders/{first}/cancel")
    assert r.status_code == 409  # cancelled already
    # Nobody cancels someone else's order.
    client.cookies.clear()
    tok = await csrf(client, "/account/register")
    await client.post(
        "/account/register",
        data={"email": "c2@example.com", "password": "long-password-1", "_csrf_token": tok},
    )
    r = await client.post(f"/api/v1/me/orders/{second}/cancel")
    assert r.status_code == 404
    client.cookies.clear()
    r = await client.post(f"/api/v1/me/orders/{second}/cancel")
    assert r.status_code == 401

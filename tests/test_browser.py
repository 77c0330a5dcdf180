"""The storefront in a real browser: headless Chromium (the system's, driven by Playwright)
against a real `shopctl serve`. Screenshots of the main pages at phone and desktop width are
kept in ``test-artifacts/screenshots``."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from shopd import migrations
from shopd.db import Database
from shopd.staff import service as staff_service
from tests.conftest import missing_prerequisite, seed_small
from tests.server import free_port, running

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("SHOPD_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}


@dataclass
class Shop:
    base: str
    staff_token: str


async def _prepare(url: str) -> None:
    await migrations.upgrade(url)
    db = Database(url)
    try:
        await seed_small(db)
        async with db.write() as s:
            await staff_service.add_staff(s, "browser.clerk", "clerk", "browser-password-1")
            await staff_service.add_staff(s, "browser.manager", "manager", "browser-password-1")
            from shopd.content import service as content

            await content.seed_pages(s)
            await s.commit()
    finally:
        await db.dispose()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.sqlite3'}"
    asyncio.run(_prepare(url))
    port = free_port()
    env = {
        "SHOPD_DATABASE_URL": url,
        "SHOPD_DATA_DIR": str(tmp_path),
        "SHOPD_BACKGROUND_JOBS": "false",
        "SHOPD_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    with running("serve", "--port", str(port), env=env, cwd=tmp_path, port=port) as (base, _, _):
        token = httpx.post(
            f"{base}/api/v1/staff/session",
            json={"username": "browser.clerk", "password": "browser-password-1"},
        ).json()["token"]
        yield Shop(base, token)


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        missing_prerequisite(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_prerequisite("playwright is not installed (pip install -e .[test])")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def fill_checkout(page: object, email: str | None) -> None:
    p = page  # type: ignore[assignment]
    p.fill("#f-recipient", "王小明")  # type: ignore[attr-defined]
    p.fill("#f-phone", "13800138000")  # type: ignore[attr-defined]
    p.fill("#f-region", "浙江省")  # type: ignore[attr-defined]
    p.fill("#f-city", "杭州市")  # type: ignore[attr-defined]
    p.fill("#f-line1", "西湖区文三路 100 号")  # type: ignore[attr-defined]
    if email is not None:
        p.fill("#f-email", email)  # type: ignore[attr-defined]
    p.check("input[name=payment_method][value=cod]")  # type: ignore[attr-defined]


def test_guest_browses_searches_buys_and_finds_the_order(shop: Shop, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(shop.base + "/?lang=zh")
    page.fill("input[name=q]", "紫砂")
    page.press("input[name=q]", "Enter")
    page.click("text=宜兴紫砂壶")
    assert "仅剩 3 件" in page.inner_text(".skus")
    page.click("button:has-text('加入购物车')")
    assert page.url.endswith("/cart")

    page.goto(shop.base + "/lang/en?next=/")
    page.fill("input[name=q]", "crew-neck")
    page.press("input[name=q]", "Enter")
    page.click("text=Cotton crew-neck T-shirt")
    page.check("input[name=sku][value=TEE-L]")
    page.fill("input[name=quantity]", "2")
    page.click("button:has-text('Add to cart')")
    rows = page.locator("table.lines tbody tr")
    rows.nth(1).wait_for()
    assert rows.count() == 2
    assert page.inner_text("#cart-count") == "3"
    assert page.inner_text("#grand-total") == "¥746.00"  # 588 + 2 × 79, free shipping

    page.click("text=Check out")
    fill_checkout(page, "guest@example.com")
    page.fill("#f-note", "请工作日送货")
    page.click("button:has-text('Place order')")
    number = page.inner_text("#order-number")
    assert re.fullmatch(r"\d{8}-[0-9A-Z]{10}", number)

    page.click("text=Order inquiry")
    page.fill("#f-contact", "guest@example.com")
    page.click("button:has-text('Find')")
    assert page.inner_text("#order-status") == "Awaiting payment"  # named, never the code
    assert "Not shipped yet" in page.content()


def test_customer_registers_orders_and_sees_the_history(shop: Shop, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(shop.base + "/account/register")
    page.fill("#f-name", "李娜")
    page.fill("#f-email", "li.na@example.com")
    page.fill("#f-password", "short")
    page.click("form.stack button:has-text('Register')")
    assert page.locator("#e-password").is_visible()  # error next to the field
    assert page.input_value("#f-email") == "li.na@example.com"  # what was typed is kept
    page.fill("#f-password", "a-long-password-1")
    page.click("form.stack button:has-text('Register')")
    assert page.url.endswith("/account")

    page.goto(shop.base + "/p/zisha-teapot")
    page.click("button:has-text('Add to cart')")
    page.click("text=Check out")
    fill_checkout(page, None)  # the account's e-mail is filled in already
    page.click("button:has-text('Place order')")
    number = page.inner_text("#order-number")

    page.click("button:has-text('Log out')")
    page.goto(shop.base + "/account/login")
    page.fill("#f-email", "li.na@example.com")
    page.fill("#f-password", "a-long-password-1")
    page.click("form.stack button:has-text('Log in')")
    assert number in page.inner_text("#my-orders")
    page.click(f"text={number}")
    assert "西湖区文三路 100 号" in page.content()


def test_guestbook_message_gets_a_public_staff_reply(shop: Shop, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(shop.base + "/guestbook")
    page.select_option("#f-topic", "delivery")
    page.fill("#f-author", "小王")
    page.fill("#f-body", "<b>快递</b>很快，谢谢！")
    page.click("form.stack button:has-text('Send')")
    # count() does not wait: wait for the page the post leads to before counting.
    page.wait_for_url("**/guestbook?posted=1")
    page.locator(".message").first.wait_for()
    assert page.locator(".message").count() == 1
    assert "<b>快递</b>很快" in page.inner_text(".message")  # shown as text, not markup
    headers = {"Authorization": f"Bearer {shop.staff_token}"}
    [entry] = httpx.get(f"{shop.base}/api/v1/staff/guestbook", headers=headers).json()
    r = httpx.patch(
        f"{shop.base}/api/v1/staff/guestbook/{entry['id']}",
        json={"reply": "感谢您的支持！"},
        headers=headers,
    )
    assert r.status_code == 200
    page.reload()
    assert "感谢您的支持！" in page.inner_text(".message .reply")


@pytest.mark.parametrize("size", list(SIZES))
def test_main_pages_fit_the_screen_and_are_captured(shop: Shop, browser: object, size: str) -> None:
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page = context.new_page()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(shop.base + "/p/cotton-tee")
    page.click("button:has-text('Add to cart')")
    for name, path in (
        ("home", "/"),
        ("home-zh", "/?lang=zh"),
        ("search", "/search?q=tea&lang=en"),
        ("product", "/p/zisha-teapot"),
        ("cart", "/cart"),
        ("checkout", "/checkout"),
        ("help", "/help/returns"),
        ("guestbook", "/guestbook"),
    ):
        page.goto(shop.base + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is wider than a {size} screen by {overflow}px"
        page.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"), full_page=True)
    context.close()
    assert len(list(ARTIFACTS.glob(f"*-{size}.png"))) >= 8


def test_a_flash_sale_shows_its_badge_countdown_and_price_in_the_cart(
    shop: Shop, browser: object
) -> None:
    import datetime as dt

    token = httpx.post(
        f"{shop.base}/api/v1/staff/session",
        json={"username": "browser.manager", "password": "browser-password-1"},
    ).json()["token"]
    now = dt.datetime.now(dt.UTC)
    r = httpx.post(
        f"{shop.base}/api/v1/staff/flash-sales",
        json={
            "sku": "TEE-M",
            "sale_price": 5900,
            "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=2)).isoformat(),
            "quantity": 20,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(shop.base + "/p/cotton-tee")
    sku = page.locator("label.sku", has=page.locator("input[value=TEE-M]"))
    assert sku.locator(".sale-badge").inner_text() == "Flash sale"
    assert sku.locator("s.was").inner_text() == "¥79.00"
    assert sku.locator(".price").inner_text() == "¥59.00"
    assert "20 left at this price" in sku.inner_text()
    countdown = sku.locator("time.countdown")
    first = countdown.inner_text()
    assert re.fullmatch(r"1:5\d:\d\d left", first), first
    page.wait_for_timeout(1500)
    assert countdown.inner_text() != first  # it ticks
    # The other sizes are not on sale.
    assert (
        page.locator("label.sku", has=page.locator("input[value=TEE-L]"))
        .locator(".sale-badge")
        .count()
        == 0
    )

    page.check("input[name=sku][value=TEE-M]")
    page.click("button:has-text('Add to cart')")
    assert page.inner_text("#grand-total") == "¥69.00"  # 59 + 10 shipping


def test_a_coupon_at_checkout_and_joining_a_group_buy(shop: Shop, browser: object) -> None:
    import datetime as dt

    token = httpx.post(
        f"{shop.base}/api/v1/staff/session",
        json={"username": "browser.manager", "password": "browser-password-1"},
    ).json()["token"]
    manager = {"Authorization": f"Bearer {token}"}
    now = dt.datetime.now(dt.UTC)
    window = {
        "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
        "ends_at": (now + dt.timedelta(hours=3)).isoformat(),
    }
    r = httpx.post(
        f"{shop.base}/api/v1/staff/coupons",
        json={"code": "FULL200", "kind": "amount_off", "value": 3000, "min_spend": 20000, **window},
        headers=manager,
    )
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{shop.base}/api/v1/staff/group-buys",
        json={"sku": "POT-1", "group_price": 49900, "min_buyers": 2, **window},
        headers=manager,
    )
    assert r.status_code == 201, r.text

    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(shop.base + "/p/cotton-tee")
    page.check("input[name=sku][value=TEE-L]")
    page.fill("input[name=quantity]", "2")
    page.click("button:has-text('Add to cart')")
    page.click("text=Check out")
    fill_checkout(page, "coupon@example.com")
    page.fill("#f-coupon", "full200")
    page.click("button:has-text('Apply')")
    # The minimum spend as money in the page's language, never in fen.
    assert "Coupon FULL200 needs a spend of ¥200.00" in page.inner_text(".offers")
    page.goto(shop.base + "/p/zisha-teapot")
    page.click("form[action='/cart/add'] >> button:has-text('Add to cart')")
    page.click("text=Check out")
    fill_checkout(page, "coupon@example.com")
    page.fill("#f-coupon", "full200")
    page.click("button:has-text('Apply')")
    totals = page.inner_text("dl.totals")
    assert "Coupon FULL200" in totals and "−¥30.00" in totals
    assert page.inner_text("dd.grand") == "¥716.00"  # 2 × 79 + 588 − 30, free shipping
    page.click("button:has-text('Place order')")
    assert re.fullmatch(r"\d{8}-[0-9A-Z]{10}", page.inner_text("#order-number"))

    # A second browser joins the teapot's group buy at the group price.
    other = browser.new_page()  # type: ignore[attr-defined]
    other.goto(shop.base + "/p/zisha-teapot")
    group = other.locator("section.group-buy")
    assert "0 joined, 0 paid, 2 needed" in group.inner_text()
    assert re.search(r"\d:\d\d:\d\d left", group.locator("time.countdown").inner_text())
    group.locator("button:has-text('Join the group')").click()
    assert "/checkout?group=" in other.url
    assert "Group price" in other.inner_text("table.quote")
    fill_checkout(other, "group@example.com")
    other.check("input[name=payment_method][value=bank_transfer]")
    other.click("button:has-text('Place order')")
    assert re.fullmatch(r"\d{8}-[0-9A-Z]{10}", other.inner_text("#order-number"))
    other.goto(shop.base + "/p/zisha-teapot")
    assert "1 joined, 0 paid, 2 needed" in other.locator("section.group-buy").inner_text()


def test_pages_run_only_the_shops_own_scripts(shop: Shop, browser: object) -> None:
    """The Content-Security-Policy refuses inline and injected scripts; the shop's own
    conveniences (sorting on change) still work, and nothing of the shop is refused."""
    page = browser.new_page()  # type: ignore[attr-defined]
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    r = page.goto(shop.base + "/c/t-shirts")
    policy = r.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert r.headers["x-content-type-options"] == "nosniff"
    page.select_option("select[name=sort]", "price_asc")
    page.wait_for_url("**sort=price_asc**")
    hostile = '"><img src=x onerror="document.title=1"><script>document.title=2</script>'
    page.goto(shop.base + "/search?q=" + quote(hostile))
    page.locator("input[type=search][name=q]").wait_for()
    assert page.locator("img[src=x]").count() == 0  # escaped, not markup
    assert page.input_value("input[type=search][name=q]") == hostile
    page.goto(shop.base + "/p/zisha-teapot")
    assert refused == []

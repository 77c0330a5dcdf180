"""Every text a shopper reads, in the language they chose: the catalogs are complete (Babel
extracts every marked text; a missing translation fails here and is named), catalog names fall
back to the shop's language, statuses and payment methods are named, coupon errors speak money,
and the order mail is written in the order's language with the shop's clock and zone."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from sqlalchemy import select, update

from shopd import translations
from shopd.catalog.models import Category, Product
from shopd.db import Database, utcnow
from shopd.notifications.models import OutboxMessage
from shopd.promotions.models import Coupon
from shopd.server.app import PAGE_MESSAGES
from shopd.web import i18n
from tests.conftest import SmallCatalog
from tests.test_storefront import buy, csrf

ROOT = Path(__file__).resolve().parent.parent
# Babel's method map: the storefront's templates with Jinja's own extractor, Python with
# Babel's (the default keywords: _, gettext, ngettext, N_ …).
METHOD_MAP = [("shopd/web/templates/**.html", "jinja2"), ("shopd/**.py", "python")]
JINJA_OPTIONS = {"trim_blocks": "true", "lstrip_blocks": "true"}
FIELD = re.compile(r"\{(\w*)\}")


def extracted(root: Path, method_map: list[tuple[str, str]]) -> dict[str | tuple[str, ...], str]:
    """Every marked text under ``root`` → where it was first found; a plural (``ngettext``) as
    its (singular, plural) pair."""
    found: dict[str | tuple[str, ...], str] = {}
    options = {pattern: JINJA_OPTIONS for pattern, method in method_map if method == "jinja2"}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        root, method_map, options_map=options
    ):
        text = tuple(m for m in message if m) if isinstance(message, tuple) else message
        if text:
            found.setdefault(text, f"{filename}:{lineno}")
    return found


def texts_by_key() -> set[str]:
    """The texts looked up by a key at run time (an error code, a level, an option), which no
    extractor sees at the call."""
    return {
        *i18n.ERROR_TEXT.values(),
        i18n.GENERIC_ERROR,
        *i18n.DOMAIN_TEXT.values(),
        *PAGE_MESSAGES.values(),
        *i18n.OPTION_NAMES,
        *i18n.LEVEL_NAMES,
        *i18n.CAMPAIGN_TITLES,
        *translations.STATUS_NAMES.values(),
        *translations.PAYMENT_METHOD_NAMES.values(),
    }


def untranslated(found: dict[str | tuple[str, ...], str], language: str) -> list[str]:
    catalog = i18n.CATALOGS[language]
    plurals = i18n.PLURALS.get(language, {})
    return sorted(
        f"{where}: {text!r}"
        for text, where in found.items()
        if (text not in plurals if isinstance(text, tuple) else text not in catalog)
    )


def test_the_extractor_finds_a_new_untranslated_text(tmp_path: Path) -> None:
    """The check below works: a text added to a template and to Python is named as missing."""
    (tmp_path / "shopd" / "web" / "templates").mkdir(parents=True)
    (tmp_path / "shopd" / "web" / "templates" / "new.html").write_text(
        "<p>{{ _('Home') }} {{ _('A brand-new sentence') }}</p>"
    )
    (tmp_path / "shopd" / "mail.py").write_text("_ = str\nsubject = _('Another new one')\n")
    found = extracted(tmp_path, METHOD_MAP)
    assert set(found) == {"Home", "A brand-new sentence", "Another new one"}
    assert {line.split(": ", 1)[1] for line in untranslated(found, "zh")} == {
        "'A brand-new sentence'",
        "'Another new one'",
    }


@pytest.mark.parametrize("language", ["zh", "es"])
def test_every_ui_text_is_translated(language: str) -> None:
    """The CI check: every text a template or module marks (and every text looked up by a
    key) has a translation; the failure lists the missing ones with where they are used."""
    found = extracted(ROOT, METHOD_MAP)
    assert len(found) > 150, "the extractor found too little: is the method map right?"
    for text in texts_by_key():
        found.setdefault(text, "(looked up by key)")
    missing = untranslated(found, language)
    assert not missing, f"{len(missing)} texts have no {language} translation:\n" + "\n".join(
        missing
    )
    # A translation keeps the text's {fields}, or formatting it fails on the page.
    catalog = i18n.CATALOGS[language]
    wrong = [
        text
        for text in found
        if isinstance(text, str) and set(FIELD.findall(text)) != set(FIELD.findall(catalog[text]))
    ]
    plurals = i18n.PLURALS[language]
    wrong += [
        pair
        for pair in found
        if isinstance(pair, tuple)
        and any(
            set(FIELD.findall(f)) != set(FIELD.findall(pair[-1])) for f in plurals[pair].values()
        )
    ]
    assert not wrong, f"translations that lose or add a {{field}}: {wrong}"


def visible_text(html: str) -> str:
    """What a reader sees, less the language menu (each language named in its own words)."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    for name in i18n.LANGUAGES.values():
        text = text.replace(name, "")
    return text


HAN = re.compile(r"[\u4e00-\u9fff]")


async def test_catalog_names_in_the_language_else_the_shops(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    async with db.write() as s:
        await s.execute(
            update(Product)
            .where(Product.slug == catalog.teapot)
            .values(
                translations={
                    "es": {"name": "Tetera de Yixing", "description": "Arcilla."},
                    "en": {"description": "Yixing clay."},
                },
                description="宜兴紫砂。",
            )
        )
        await s.execute(
            update(Category)
            .where(Category.slug == "tea-sets")
            .values(translations={"es": {"name": "Juegos de té"}})
        )
        await s.commit()
    # Spanish: the product's own Spanish name and description; the T-shirt has none, so the
    # shop's language (English here) stands in — never an empty name.
    es = (await client.get(f"/p/{catalog.teapot}?lang=es")).text
    assert "<h1>Tetera de Yixing</h1>" in es and "Arcilla." in es
    assert "Juegos de té" in es and "宜兴" not in visible_text(es)
    listing = (await client.get("/c/t-shirts?lang=es")).text
    assert "Cotton crew-neck T-shirt" in listing and not HAN.search(visible_text(listing))
    # English: no Chinese title, heading or comparison column.
    for path in (
        f"/p/{catalog.teapot}?lang=en",
        "/c/tea-sets?lang=en",
        f"/compare?p={catalog.teapot}&p={catalog.tshirt}&lang=en",
    ):
        page = (await client.get(path)).text
        found = HAN.findall(visible_text(page))
        assert not found, (path, found)
    assert "Yixing clay." in (await client.get(f"/p/{catalog.teapot}?lang=en")).text
    zh = (await client.get(f"/p/{catalog.teapot}?lang=zh")).text
    assert "<h1>宜兴紫砂壶</h1>" in zh and "宜兴紫砂。" in zh


async def test_statuses_payment_methods_and_levels_are_named_not_coded(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    client.cookies.set(i18n.LANG_COOKIE, "es")
    tok = await csrf(client)
    r = await client.post(
        "/account/register",
        data={"email": "ana@example.com", "password": "long-password-1", "_csrf_token": tok},
    )
    assert r.status_code == 303
    number = await buy(client, catalog.sku_m, email="")
    for path in (f"/account/orders/{number}", "/account"):
        text = visible_text((await client.get(path)).text)
        assert "pending_payment" not in text and "bank_transfer" not in text
        assert "Pendiente de pago" in text, path
    page = visible_text((await client.get(f"/account/orders/{number}")).text)
    assert "Transferencia bancaria" in page and "·" not in page.split("Forma de pago")[1][:40]
    account = (await client.get("/account")).text
    assert 'id="member-level">socio<' in account
    # The checkout form's payment choices: each named once, in Spanish.
    tok = await csrf(client)
    await client.post("/cart/add", data={"sku": catalog.sku_m, "quantity": "1", "_csrf_token": tok})
    checkout = visible_text((await client.get("/checkout")).text)
    assert "Contra reembolso" in checkout and "Transferencia bancaria" in checkout
    assert not HAN.search(checkout) and "Cash on delivery" not in checkout


async def test_a_coupon_refusal_speaks_money_in_the_page_language(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    async with db.write() as s:
        s.add(
            Coupon(
                code="FULL200",
                title="spend 200 save 30",
                kind="amount_off",
                value=3000,
                min_spend=20000,
                per_customer_limit=1,
                starts_at=utcnow() - dt.timedelta(days=1),
                ends_at=utcnow() + dt.timedelta(days=30),
                created_by="test",
            )
        )
        await s.commit()
    client.cookies.set(i18n.LANG_COOKIE, "zh")
    tok = await csrf(client)
    await client.post("/cart/add", data={"sku": catalog.sku_m, "quantity": "1", "_csrf_token": tok})
    page = (await client.get("/checkout")).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key
    r = await client.post(
        "/checkout",
        data={
            "_csrf_token": tok,
            "idempotency_key": key.group(1),
            "coupon": "full200",
            "apply": "1",
            "payment_method": "bank_transfer",
        },
    )
    assert r.status_code == 200
    assert "优惠券 FULL200 需适用商品满 ¥200.00 才能使用。" in r.text
    assert "20000" not in visible_text(r.text) and "needs a spend" not in r.text


async def test_the_order_mail_is_in_the_order_language_on_the_shop_clock(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    client.cookies.set(i18n.LANG_COOKIE, "es")
    number = await buy(client, catalog.sku_m)
    async with db.read() as s:
        mail = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "order_placed"))
    assert mail is not None
    assert mail.subject.endswith(f"] Pedido {number} recibido")
    body = mail.body
    assert "Gracias por su pedido" in body and "89,00\xa0¥" in body  # 79.00 + 10.00 shipping
    assert "Forma de pago: Transferencia bancaria" in body
    assert "hora estándar de China" in body  # the shop's zone, named
    assert not HAN.search(body) and "Thank you" not in body and "8900" not in body
    # A Chinese order's mail is Chinese only.
    client.cookies.clear()
    client.cookies.set(i18n.LANG_COOKIE, "zh")
    other = await buy(client, catalog.sku_m)
    async with db.read() as s:
        mails = list(
            await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "order_placed"))
        )
    zh = next(m for m in mails if other in m.subject)
    assert "感谢您的订购" in zh.body and "中国标准时间" in zh.body and "Thank" not in zh.body


async def test_staff_translate_catalog_names_and_the_shop_shows_them(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    from tests.staffkit import make_staff

    staff = await make_staff(client, db)
    r = await client.patch(
        f"/api/v1/staff/products/{catalog.teapot}",
        json={"translations": {"es": {"name": "Tetera de Yixing", "description": "Arcilla."}}},
        headers=staff.manager,
    )
    assert r.status_code == 200, r.text
    assert r.json()["translations"] == {
        "es": {"name": "Tetera de Yixing", "description": "Arcilla."}
    }
    r = await client.patch(
        "/api/v1/staff/categories/tea-sets",
        json={"translations": {"es": {"name": "Juegos de té"}}},
        headers=staff.manager,
    )
    assert r.status_code == 200 and r.json()["translations"] == {"es": {"name": "Juegos de té"}}
    page = (await client.get(f"/p/{catalog.teapot}?lang=es")).text
    assert "<h1>Tetera de Yixing</h1>" in page and "Juegos de té" in page
    # A shopper finds it by the Spanish name too.
    assert catalog.teapot in (await client.get("/search?q=tetera&lang=es")).text
    for bad, code in (
        ({"fr": {"name": "x"}}, "invalid_translation"),
        ({"es": {"colour": "x"}}, "invalid_translation"),
        ({"es": {"name": "a\x00b"}}, "invalid_text"),
    ):
        r = await client.patch(
            f"/api/v1/staff/products/{catalog.teapot}",
            json={"translations": bad},
            headers=staff.manager,
        )
        assert r.status_code == 400 and r.json()["error"]["code"] == code, bad
    # An empty language removes it: the page falls back to the shop's language.
    r = await client.patch(
        f"/api/v1/staff/products/{catalog.teapot}",
        json={"translations": {"es": {}}},
        headers=staff.manager,
    )
    assert r.status_code == 200 and r.json()["translations"] == {}
    assert "<h1>Yixing clay teapot</h1>" in (await client.get(f"/p/{catalog.teapot}?lang=es")).text


async def test_help_pages_read_in_each_language(client: httpx.AsyncClient, db: Database) -> None:
    from shopd.content import service as content

    async with db.write() as s:
        await content.seed_pages(s)
        await s.commit()
    es = visible_text((await client.get("/help/returns?lang=es")).text)
    assert "Devoluciones y cambios" in es and "7 días" in es
    assert not HAN.search(es) and "Returns and exchanges" not in es
    zh = visible_text((await client.get("/help/returns?lang=zh")).text)
    assert "退换货政策" in zh and "Send goods back" not in zh and "Devoluciones" not in zh
    en = visible_text((await client.get("/help?lang=en")).text)
    assert "Payment methods" in en and not HAN.search(en)


async def test_free_shipping_reads_as_words_on_the_order_page(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    client.cookies.set(i18n.LANG_COOKIE, "zh")
    # ¥588.00 is above the free-shipping threshold.
    await buy(client, catalog.sku_pot)
    async with db.read() as s:
        mail = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "order_placed"))
    assert mail is not None
    path = re.search(r"/orders/\S+", mail.body)
    assert path, mail.body
    page = visible_text((await client.get(path.group(0))).text)
    assert "运费 免运费" in page and "¥0.00" not in page


def test_a_refusal_without_its_own_text_is_never_another_language() -> None:
    from shopd.errors import Conflict

    odd = Conflict("the moon is in the wrong phase", code="moon_phase")
    assert i18n.explain(odd, "en", "CNY", "Asia/Shanghai") == "The moon is in the wrong phase"
    assert i18n.explain(odd, "zh", "CNY", "Asia/Shanghai") == "操作未成功，请重试。"
    assert i18n.explain(odd, "es", "CNY", "Asia/Shanghai") == "No funcionó. Inténtelo de nuevo."
    known = Conflict("x", code="coupon_min_spend", details={"coupon": "A", "min_spend": 123456})
    assert i18n.explain(known, "es", "CNY", "Asia/Shanghai") == (
        "El cupón A requiere un gasto de 1.234,56\xa0¥ en los artículos que cubre."
    )


async def test_staff_write_pages_and_announcements_in_each_language(
    client: httpx.AsyncClient, db: Database
) -> None:
    from tests.staffkit import make_staff

    staff = await make_staff(client, db)
    r = await client.post(
        "/api/v1/staff/announcements",
        json={
            "title": "春季上新",
            "body": "新品 **8 折**。",
            "translations": {
                "en": {"title": "Spring is in", "body": "New arrivals **20% off**."},
                "es": {
                    "title": "Llega la primavera",
                    "body": "Novedades con **20 % de descuento**.",
                },
            },
        },
        headers=staff.manager,
    )
    assert r.status_code == 201, r.text
    r = await client.put(
        "/api/v1/staff/pages/contact",
        json={
            "title": "联系我们",
            "body": "请发邮件。",
            "translations": {"es": {"title": "Contacto", "body": "Escríbanos."}},
        },
        headers=staff.manager,
    )
    assert r.status_code == 200, r.text
    home = visible_text((await client.get("/?lang=es")).text)
    assert "Llega la primavera" in home and "Novedades con 20 % de descuento" in home
    assert not HAN.search(home)
    assert "Spring is in" in (await client.get("/?lang=en")).text
    contact = visible_text((await client.get("/help/contact?lang=es")).text)
    assert "Contacto" in contact and "Escríbanos." in contact and not HAN.search(contact)
    # English missing: the shop's language (English here) has none either, so as written.
    assert "请发邮件。" in (await client.get("/help/contact?lang=en")).text
    for bad in ({"fr": {"title": "x"}}, {"es": {"colour": "x"}}):
        r = await client.post(
            "/api/v1/staff/announcements",
            json={"title": "t", "body": "b", "translations": bad},
            headers=staff.manager,
        )
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_translation"


async def test_an_api_order_names_its_mails_language(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    from tests.conftest import checkout_body

    r = await client.post("/api/v1/cart/items", json={"sku": catalog.sku_m, "quantity": 1})
    assert r.status_code in (200, 201), r.text
    r = await client.post("/api/v1/orders", json=checkout_body(language="es"))
    assert r.status_code == 201, r.text
    async with db.read() as s:
        mail = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "order_placed"))
    assert mail is not None and "Gracias por su pedido" in mail.body
    r = await client.post("/api/v1/orders", json=checkout_body(language="fr"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_error"


async def test_reset_and_newsletter_mails_in_the_visitors_language(
    client: httpx.AsyncClient, db: Database
) -> None:
    from tests.test_customers import register

    await register(client, "lector@example.com")
    client.cookies.clear()
    client.cookies.set(i18n.LANG_COOKIE, "es")
    tok = await csrf(client)
    r = await client.post(
        "/account/forgot", data={"email": "lector@example.com", "_csrf_token": tok}
    )
    assert r.status_code == 200
    client.cookies.set(i18n.LANG_COOKIE, "zh")
    tok = await csrf(client)
    r = await client.post("/newsletter", data={"email": "news@example.com", "_csrf_token": tok})
    assert r.status_code == 200
    async with db.read() as s:
        mails = {m.kind: m for m in await s.scalars(select(OutboxMessage))}
    reset, news = mails["password_reset"], mails["newsletter_confirm"]
    assert reset.subject.endswith(": elija una nueva contraseña")
    assert "Alguien (esperamos que usted)" in reset.body and "/account/reset?t=" in reset.body
    assert "Someone" not in reset.body and not HAN.search(reset.body)
    assert news.subject.endswith("请确认订阅") and "确认订阅：http" in news.body
    assert "Confirm" not in news.body and "Not you" not in news.body

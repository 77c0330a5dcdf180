"""The demo shop says what it does: its announcement's free-shipping promise matches the
shipping rule checkout charges, in every language, and its catalog reads in each language."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from shopd.catalog.models import Product, Sku
from shopd.cli.demo import seed
from shopd.config import Settings
from shopd.db import Database
from shopd.web import i18n
from tests.test_storefront import csrf
from tests.test_translations import HAN, visible_text

PROMISE = {
    "en": "free shipping on orders over ¥199.00",
    "zh": "满 ¥199.00 包邮",
    "es": "envío gratis en pedidos de más de 199,00\xa0¥",
}


async def test_the_demo_announcement_promises_what_checkout_charges(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    async with db.write() as s:
        await seed(
            s,
            12,
            shipping=(settings.shipping_fee, settings.free_shipping_over, settings.currency),
        )
        await s.commit()
    assert (settings.shipping_fee, settings.free_shipping_over) == (1000, 19900)
    for lang, promise in PROMISE.items():
        home = (await client.get(f"/?lang={lang}")).text
        assert promise in home, lang
        assert "every order" not in home and "全场包邮" not in home
    # A cart below the threshold pays the fee the announcement implies.
    async with db.read() as s:
        cheap = await s.scalar(
            select(Sku.code)
            .join(Product, Product.id == Sku.product_id)
            .where(Product.list_price < 19900, Sku.price.is_(None))
            .limit(1)
        )
    assert cheap is not None
    client.cookies.set(i18n.LANG_COOKIE, "en")
    tok = await csrf(client)
    await client.post("/cart/add", data={"sku": cheap, "quantity": "1", "_csrf_token": tok})
    cart = visible_text((await client.get("/cart")).text)
    assert re.search(r"Shipping ¥10\.00", cart), cart[:2000]


async def test_the_demo_catalog_reads_in_each_language(
    client: httpx.AsyncClient, db: Database
) -> None:
    async with db.write() as s:
        await seed(s)  # the demo's own 36 products
        await s.commit()
    for lang in ("en", "es"):
        for path in ("/", "/c/tea-sets", "/p/tea-sets-3", "/c/t-shirts", "/p/t-shirts-1"):
            r = await client.get(f"{path}?lang={lang}")
            assert r.status_code == 200, path
            text = visible_text(r.text)
            assert not HAN.search(text), (lang, path, HAN.findall(text)[:10])
    es = visible_text((await client.get("/p/tea-sets-3?lang=es")).text)
    assert "Tetera de arcilla de Yixing" in es and "Arcilla púrpura de Yixing." in es
    zh = visible_text((await client.get("/p/tea-sets-3?lang=zh")).text)
    assert "紫砂壶" in zh and "Yixing" not in zh

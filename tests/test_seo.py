"""What search engines read: robots.txt keeps them out of carts, checkouts, accounts and the
API; the sitemaps (one per language) list every listed product, category and help page with
its alternates; each page names its canonical address, its languages and a description; a
product page carries schema.org Product data with price and availability."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import httpx
import pytest
from sqlalchemy import select, update

from shopd.catalog.models import Product
from shopd.config import Settings
from shopd.db import Database
from tests.conftest import SmallCatalog

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
BASE = "http://127.0.0.1:8000"


class Head(HTMLParser):
    """The head's links, metas and JSON-LD blocks of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self.metas: dict[str, str] = {}
        self.json_ld: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link":
            self.links.append(a)
        elif tag == "meta" and "name" in a:
            self.metas[a["name"]] = a.get("content", "")
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in_ld = True
            self.json_ld.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.json_ld[-1] += data


def head_of(html: str) -> Head:
    parsed = Head()
    parsed.feed(html)
    return parsed


async def test_robots_txt_keeps_crawlers_out_of_private_paths(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    r = await client.get("/robots.txt")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    rules = [line.split(": ", 1) for line in r.text.splitlines() if ": " in line]
    disallowed = {value for key, value in rules if key == "Disallow"}
    assert {"/cart", "/checkout", "/account", "/api/"} <= disallowed
    assert ["Sitemap", f"{BASE}/sitemap.xml"] in rules
    assert "/p/" not in disallowed and "/c/" not in disallowed


async def test_sitemaps_per_language_with_hreflang_alternates(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    r = await client.get("/sitemap.xml")
    assert r.status_code == 200 and "xml" in r.headers["content-type"]
    index = ET.fromstring(r.content)
    assert index.tag == f"{{{NS['s']}}}sitemapindex"
    locs = [e.text for e in index.findall("s:sitemap/s:loc", NS)]
    assert locs == [f"{BASE}/sitemaps/{lang}.xml" for lang in ("en", "zh", "es")]
    for lang, hreflang in (("en", "en"), ("zh", "zh-Hans"), ("es", "es")):
        r = await client.get(urlsplit(locs[["en", "zh", "es"].index(lang)]).path)
        assert r.status_code == 200
        urlset = ET.fromstring(r.content)
        assert urlset.tag == f"{{{NS['s']}}}urlset"
        entries = {e.findtext("s:loc", namespaces=NS): e for e in urlset.findall("s:url", NS)}
        product = f"{BASE}/p/{catalog.teapot}?lang={lang}"
        assert product in entries and f"{BASE}/c/tea-sets?lang={lang}" in entries
        # A delisted product is not offered to search engines.
        assert not any(catalog.hidden in loc for loc in entries)
        links = {
            link.get("hreflang"): link.get("href")
            for link in entries[product].findall("x:link", NS)
        }
        assert links == {
            "en": f"{BASE}/p/{catalog.teapot}?lang=en",
            "zh-Hans": f"{BASE}/p/{catalog.teapot}?lang=zh",
            "es": f"{BASE}/p/{catalog.teapot}?lang=es",
            "x-default": f"{BASE}/p/{catalog.teapot}",
        }
        assert links[hreflang] == product
        assert re.fullmatch(
            r"\d{4}-\d{2}-\d{2}", entries[product].findtext("s:lastmod", namespaces=NS) or ""
        )
    assert (await client.get("/sitemaps/fr.xml")).status_code == 404


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
async def test_pages_name_their_canonical_address_languages_and_description(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog, lang: str
) -> None:
    for path in ("/", "/c/tea-sets", f"/p/{catalog.teapot}"):
        head = head_of((await client.get(f"{path}?lang={lang}")).text)
        canonical = [link["href"] for link in head.links if link.get("rel") == "canonical"]
        assert canonical == [f"{BASE}{path}?lang={lang}"], path
        alternates = {
            link["hreflang"]: link["href"] for link in head.links if link.get("rel") == "alternate"
        }
        assert set(alternates) == {"en", "zh-Hans", "es", "x-default"}, path
        assert alternates["x-default"] == f"{BASE}{path}", path
        assert len(head.metas.get("description", "")) > 10, path
    # A visitor's own pages are kept out of the index.
    for path in ("/cart", "/search?q=tea", "/account/login"):
        head = head_of((await client.get(path)).text)
        assert head.metas.get("robots") == "noindex", path
        assert not [link for link in head.links if link.get("rel") == "canonical"], path


async def test_a_product_page_carries_schema_org_product_data(
    client: httpx.AsyncClient, db: Database, catalog: SmallCatalog
) -> None:
    async with db.write() as s:
        await s.execute(
            update(Product)
            .where(Product.slug == catalog.tshirt)
            .values(translations={"es": {"name": "Camiseta", "description": "**Algodón** suave."}})
        )
        await s.commit()
    head = head_of((await client.get(f"/p/{catalog.tshirt}?lang=es")).text)
    assert len(head.json_ld) == 1
    data = json.loads(head.json_ld[0])
    assert data["@context"] == "https://schema.org" and data["@type"] == "Product"
    assert data["name"] == "Camiseta" and data["description"] == "Algodón suave."
    assert head.metas["description"] == "Algodón suave."
    assert data["url"] == f"{BASE}/p/{catalog.tshirt}?lang=es"
    assert data["image"] == [f"{BASE}/img/{catalog.tshirt}.jpg"]
    offers = {o["sku"]: o for o in data["offers"]}
    # M and L at the list price and in stock; XL its own price and sold out.
    assert offers[catalog.sku_m]["price"] == "79.00" and offers[catalog.sku_xl]["price"] == "89.00"
    assert {o["priceCurrency"] for o in offers.values()} == {"CNY"}
    assert offers[catalog.sku_m]["availability"] == "https://schema.org/InStock"
    assert offers[catalog.sku_xl]["availability"] == "https://schema.org/OutOfStock"
    # The data block cannot close its script element early, whatever the text holds.
    async with db.write() as s:
        await s.execute(
            update(Product)
            .where(Product.slug == catalog.tshirt)
            .values(translations={"es": {"name": "</script><b>x", "description": ""}})
        )
        await s.commit()
        assert await s.scalar(select(Product.id).where(Product.slug == catalog.tshirt))
    html = (await client.get(f"/p/{catalog.tshirt}?lang=es")).text
    data = json.loads(head_of(html).json_ld[0])
    assert data["name"] == "</script><b>x" and "</script><b>" not in html

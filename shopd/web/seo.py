"""What search engines read: each page's canonical address and its other languages
(``hreflang``), a description, a product's schema.org data, the sitemaps and robots.txt.

A page's language is chosen by ``?lang=`` (then remembered in a cookie), so each language of a
page has its own address: ``/p/teapot?lang=es``. The address without ``lang`` is the
``x-default``: it answers in the visitor's language.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

from shopd.catalog.service import ProductDetail
from shopd.config import Settings
from shopd.formatting import MINOR_DIGITS
from shopd.web import i18n

# The hreflang codes for the shop's languages (BCP 47, as search engines read them).
HREFLANG = {"en": "en", "zh": "zh-Hans", "es": "es"}
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
# Paths no search engine should crawl: a visitor's own cart, checkout, account and orders, and
# the API.
DISALLOWED = ("/cart", "/checkout", "/account", "/order/", "/orders/", "/inquiry", "/api/")
DESCRIPTION_LENGTH = 160
_MARKUP = re.compile(r"[*_#>`\[\]()!]|<[^>]+>")


def base_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/")


def page_url(settings: Settings, path: str, lang: str | None, page: int = 1) -> str:
    """The address of ``path`` in ``lang`` (None: the x-default), with its page number."""
    query = [f"lang={lang}"] if lang else []
    if page > 1:
        query.append(f"page={page}")
    return base_url(settings) + path + ("?" + "&".join(query) if query else "")


def alternates(settings: Settings, path: str, page: int = 1) -> list[tuple[str, str]]:
    """(hreflang, address) for each language of a page, then x-default."""
    links = [(HREFLANG[code], page_url(settings, path, code, page)) for code in i18n.LANGUAGES]
    return [*links, ("x-default", page_url(settings, path, None, page))]


def plain(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """Markdown or HTML as one plain line of at most ``limit`` characters."""
    flat = " ".join(_MARKUP.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _major(minor: int) -> str:
    """A price as schema.org writes it: ``588.00`` (a dot, no grouping, no symbol)."""
    return f"{minor / 10**MINOR_DIGITS:.{MINOR_DIGITS}f}"


def product_data(
    detail: ProductDetail, settings: Settings, lang: str, description: str
) -> dict[str, Any]:
    """schema.org ``Product`` with one ``Offer`` per SKU: price now and availability."""
    product = detail.product
    url = page_url(settings, f"/p/{product.slug}", lang)
    images = [
        img if img.startswith(("http://", "https://")) else base_url(settings) + img
        for img in product.images
    ]
    offers = [
        {
            "@type": "Offer",
            "sku": view.sku.code,
            "price": _major(view.price),
            "priceCurrency": settings.currency,
            "availability": "https://schema.org/InStock"
            if view.available > 0
            else "https://schema.org/OutOfStock",
            "url": url,
        }
        for view in detail.skus
    ]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.text("name", lang, settings.language),
        "description": plain(description, 5000),
        "sku": detail.skus[0].sku.code if len(detail.skus) == 1 else product.slug,
        "category": detail.category.text("name", lang, settings.language),
        "url": url,
        "offers": offers,
    }
    if images:
        data["image"] = images
    return data


def robots_txt(settings: Settings) -> str:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED)]
    lines += ["", f"Sitemap: {base_url(settings)}/sitemap.xml", ""]
    return "\n".join(lines)


def sitemap_index(settings: Settings) -> bytes:
    ET.register_namespace("", SITEMAP_NS)
    root = ET.Element(f"{{{SITEMAP_NS}}}sitemapindex")
    for lang in i18n.LANGUAGES:
        entry = ET.SubElement(root, f"{{{SITEMAP_NS}}}sitemap")
        ET.SubElement(
            entry, f"{{{SITEMAP_NS}}}loc"
        ).text = f"{base_url(settings)}/sitemaps/{lang}.xml"
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def sitemap(settings: Settings, lang: str, paths: list[tuple[str, str | None]]) -> bytes:
    """One language's addresses of ``paths`` ((path, last modified date or None)), each with
    its alternates in the other languages."""
    ET.register_namespace("", SITEMAP_NS)
    ET.register_namespace("xhtml", XHTML_NS)
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for path, modified in paths:
        url = ET.SubElement(root, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = page_url(settings, path, lang)
        if modified:
            ET.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = modified
        for hreflang, href in alternates(settings, path):
            ET.SubElement(
                url,
                f"{{{XHTML_NS}}}link",
                {"rel": "alternate", "hreflang": hreflang, "href": href},
            )
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)

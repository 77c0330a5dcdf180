"""Catalog endpoints: category tree, product list/search, product detail."""

from __future__ import annotations

import math
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, QueryParameter

from shopd import http
from shopd.catalog import service
from shopd.catalog.cache import CatalogCache, reads
from shopd.catalog.cache.responses import response_of
from shopd.catalog.schemas import (
    CategoryOut,
    CategoryRef,
    ProductOut,
    ProductPage,
    ProductSummaryOut,
    SeriesOut,
    SkuOut,
    StockStatus,
)
from shopd.config import Settings
from shopd.http import DB, Conf, PageOf
from shopd.promotions.schemas import sale_out
from shopd.validation import search_terms

LOW_STOCK = 5
MAX_PER_PAGE = 100


def stock_status(available: int) -> StockStatus:
    if available <= 0:
        return "sold_out"
    return "low_stock" if available <= LOW_STOCK else "in_stock"


def summary_out(i: service.ProductSummary, currency: str) -> ProductSummaryOut:
    return ProductSummaryOut(
        slug=i.product.slug,
        name=i.product.name,
        name_en=i.product.name_en,
        price=i.min_price,
        currency=currency,
        image=i.product.images[0] if i.product.images else None,
        category=i.product.category.slug,
        in_stock=i.available > 0,
    )


class CatalogController(Controller):
    path = "/api/v1"
    tags = ["catalog"]

    @get("/categories")
    async def categories(self, request: Request[Any, Any, Any]) -> list[SeriesOut]:
        tree = await reads.category_tree(CatalogCache.of(request.app.state))
        return [
            SeriesOut(
                slug=s.slug,
                name=s.name,
                name_en=s.name_en,
                categories=[CategoryOut(c.slug, c.name, c.name_en, n) for c, n in cats],
            )
            for s, cats in tree
        ]

    @get("/products", dependencies={"paging": http.paging(per_page=24, most=MAX_PER_PAGE)})
    async def products(
        self,
        request: Request[Any, Any, Any],
        settings: Conf,
        *,
        q: Annotated[str | None, QueryParameter(max_length=service.MAX_QUERY_LENGTH)] = None,
        category: Annotated[str | None, QueryParameter(max_length=80)] = None,
        paging: PageOf,
        sort: FromQuery[service.Sort | None] = None,
    ) -> ProductPage:
        """List listed products; ``q`` searches as the storefront does (names in Chinese and
        English, pinyin, SKU codes, categories, staff synonyms; typos, plurals and spacing
        forgiven); ``category`` is a category or series slug. ``sort`` is ``relevance`` (then
        sales) for a search and ``newest`` for a listing unless given."""
        q = search_terms(q) or None if q else None
        sort = sort or ("relevance" if q else "newest")
        cache = CatalogCache.of(request.app.state)
        listing = await reads.listing(
            cache, q=q, category=category, page=paging.page, per_page=paging.per_page, sort=sort
        )

        def build(found: tuple[list[service.ProductSummary], int]) -> ProductPage:
            items, total = found
            return ProductPage(
                items=[summary_out(i, settings.currency) for i in items],
                page=paging.page,
                per_page=paging.per_page,
                total=total,
                pages=math.ceil(total / paging.per_page),
            )

        key = ("products", q, category, paging.page, paging.per_page, sort, settings.currency)
        return response_of(cache.responses, key, listing, build)

    @get("/products/{slug:str}")
    async def product(
        self, request: Request[Any, Any, Any], slug: FromPath[str], db: DB, settings: Conf
    ) -> ProductOut:
        """One product: SKUs at the caller's prices now (flash sale, else member price), open
        group buys, and what is bought together with it."""
        cache = CatalogCache.of(request.app.state)
        percent = await reads.member_percent(cache, await http.current_customer(request, db))
        # Shared by everyone who pays the same: guests, and members of one discount.
        offer = await reads.product_offer(cache, slug, percent, settings)
        key = ("product", slug, percent, settings.currency)
        return response_of(cache.responses, key, offer, lambda o: product_out(o, settings))


def product_out(offer: reads.ProductOffer, settings: Settings) -> ProductOut:
    d, groups, more = offer.detail, offer.group_buys, offer.suggestions
    prices = [v.price for v in d.skus] or [d.product.list_price]
    return ProductOut(
        slug=d.product.slug,
        name=d.product.name,
        name_en=d.product.name_en,
        description=d.product.description,
        list_price=d.product.list_price,
        price_from=min(prices),
        currency=settings.currency,
        images=list(d.product.images),
        category=CategoryRef(d.category.slug, d.category.name, d.category.name_en),
        series=CategoryRef(d.series.slug, d.series.name, d.series.name_en),
        skus=[
            SkuOut(
                code=v.sku.code,
                attributes={str(k): str(val) for k, val in v.sku.attributes.items()},
                price=v.price,
                available=v.available,
                stock_status=stock_status(v.available),
                regular_price=v.regular_price,
                flash_sale=sale_out(v.sale) if v.sale else None,
                priced_by=v.priced_by,
            )
            for v in d.skus
        ],
        in_stock=any(v.available > 0 for v in d.skus),
        group_buys=groups,
        bought_together=[summary_out(i, settings.currency) for i in more.bought_together],
        related=[summary_out(i, settings.currency) for i in more.related],
    )

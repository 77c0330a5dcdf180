"""Catalog reads that every anonymous visitor shares, through the database's read cache
(``shopd.readcache``): the storefront pages and the JSON API ask here, so both share entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopd.catalog import related, service
from shopd.catalog.models import Product
from shopd.catalog.service import ProductDetail, ProductSummary, Sort
from shopd.config import Settings
from shopd.db import Database
from shopd.promotions import group_buys
from shopd.promotions.schemas import GroupBuyOut


async def category_tree(db: Database) -> list[Any]:
    async def load() -> list[Any]:
        async with db.read() as session:
            return await service.category_tree(session)

    return await db.cache.get(("category_tree",), load)


async def listing(
    db: Database, *, q: str | None, category: str | None, page: int, per_page: int, sort: Sort
) -> tuple[list[ProductSummary], int]:
    async def load() -> tuple[list[ProductSummary], int]:
        async with db.read() as session:
            return await service.list_products(
                session, q=q, category=category, page=page, per_page=per_page, sort=sort
            )

    return await db.cache.get(("listing", q, category, page, per_page, sort), load)


async def suggestions(db: Database, product: Product) -> related.Suggestions:
    """What is bought together with a product and its category's best sellers: a ranking over
    all orders, the dearest read on a product page, and one that moves slowly, so it is kept
    longer than the rest (``ranking_cache_seconds``)."""

    async def load() -> related.Suggestions:
        async with db.read() as session:
            return await related.suggestions(session, product)

    return await db.rankings.get(("suggestions", product.id), load)


@dataclass(slots=True)
class ProductView:
    detail: ProductDetail
    groups: list[GroupBuyOut]
    more: related.Suggestions


async def product(
    db: Database, settings: Settings, slug: str, customer_id: int | None
) -> ProductView:
    """A product at this buyer's prices now, its open group buys and its suggestions. A
    member's prices are their own: only what a guest sees is shared."""

    async def load() -> ProductView:
        async with db.read() as session:
            detail = await service.get_product(
                session, slug, settings=settings, customer_id=customer_id
            )
            groups = await group_buys.on_offer(session, settings, [v.sku.id for v in detail.skus])
        return ProductView(detail, groups, await suggestions(db, detail.product))

    if customer_id is not None:
        return await load()
    return await db.cache.get(("product", slug), load)

"""Catalog reads that every anonymous visitor shares, through the database's read cache
(``shopd.readcache``): the storefront pages and the JSON API ask here, so both share entries."""

from __future__ import annotations

from typing import Any

from shopd.catalog import related, service
from shopd.catalog.models import Product
from shopd.catalog.service import ProductSummary, Sort
from shopd.db import Database


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

"""Catalog reads that every anonymous visitor shares, through the database's read cache
(``shopd.readcache``): the storefront pages and the JSON API ask here, so both share entries."""

from __future__ import annotations

from typing import Any

from shopd.catalog import service
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

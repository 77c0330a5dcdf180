"""The worker's search index, kept in step with the catalog.

The index is built from the listed products, their SKUs, categories and series, and the staff's
synonyms, all read in one transaction together with the catalog version
(``shopd.catalog.cache.version``), which every change to any of them moves (synonyms are
``ShownInCatalog`` too). The keeper looks at the version at most every ``check_seconds`` (the
catalog watch's interval; 0: before every search) and builds the index anew when it moved:
beside the searches, which go on with the index they have, for a change made elsewhere; before
the next search after this worker's own staff change (``forget``). Sales, which order
equally relevant results, move with every order and not the version: they are read again every
``sales_seconds``, as the other rankings are (``ranking_cache_seconds``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.cache.version import current
from shopd.catalog.models import Category, Product, SearchSynonym, Series, Sku
from shopd.catalog.search.index import CATEGORY, NAME, SERIES, ProductWords, SearchIndex

if TYPE_CHECKING:
    from shopd.db import Database

log = logging.getLogger(__name__)


def translated_names(translations: dict[str, dict[str, str]] | None) -> list[str]:
    return [
        str(texts["name"])
        for texts in (translations or {}).values()
        if isinstance(texts, dict) and texts.get("name")
    ]


async def build(session: AsyncSession) -> SearchIndex:
    """The index of the catalog as ``session`` sees it."""
    rows = await session.execute(
        select(
            Product.id,
            Product.name,
            Product.name_en,
            Category.id,
            Category.slug,
            Category.name,
            Category.name_en,
            Series.slug,
            Series.name,
            Series.name_en,
            Product.translations,
            Category.translations,
            Series.translations,
        )
        .join(Category, Category.id == Product.category_id)
        .join(Series, Series.id == Category.series_id)
        .where(Product.listed.is_(True))
    )
    codes: dict[int, list[str]] = {}
    for pid, code in await session.execute(
        select(Sku.product_id, Sku.code).where(Sku.active.is_(True))
    ):
        codes.setdefault(pid, []).append(code)
    products = [
        ProductWords(
            id=pid,
            category_id=cid,
            category_slug=cslug,
            series_slug=sslug,
            texts=(
                (name, NAME),
                (name_en, NAME),
                (cname, CATEGORY),
                (cname_en, CATEGORY),
                (sname, SERIES),
                (sname_en, SERIES),
                # The names staff translated (Spanish, and English where name_en is empty).
                *((text, NAME) for text in translated_names(ptr)),
                *((text, CATEGORY) for text in translated_names(ctr)),
                *((text, SERIES) for text in translated_names(str_)),
            ),
            sku_codes=tuple(codes.get(pid, ())),
        )
        for (
            pid,
            name,
            name_en,
            cid,
            cslug,
            cname,
            cname_en,
            sslug,
            sname,
            sname_en,
            ptr,
            ctr,
            str_,
        ) in rows
    ]
    groups = [list(terms) for terms in await session.scalars(select(SearchSynonym.terms))]
    sold = await sales(session)
    # Pinyin and stems of thousands of names: off the event loop, so other requests go on.
    return await asyncio.to_thread(SearchIndex, products, groups, sold)


async def sales(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(Product.id, Product.sold_count).where(
            Product.listed.is_(True), Product.sold_count > 0
        )
    )
    return {pid: sold for pid, sold in rows}


class SearchIndexKeeper:
    def __init__(self, db: Database, *, check_seconds: float, sales_seconds: float) -> None:
        self.db = db
        self.check_seconds = check_seconds
        self.sales_seconds = sales_seconds
        self._index: SearchIndex | None = None
        self._version: int | None = None
        self._checked_at = -float("inf")
        self._sales_at = -float("inf")
        self._lock = asyncio.Lock()
        # This worker changed the catalog: its next search waits for the index that shows it.
        self._wait = False
        self._looking: asyncio.Task[None] | None = None
        self.builds = 0

    def forget(self) -> None:
        """This worker changed the catalog: look at the version before the next search, and
        let that search wait for the new index, so staff see their change at once."""
        self._checked_at = -float("inf")
        self._wait = True

    async def index(self) -> SearchIndex:
        """The index to search now. When looking at the version is due, a worker that has an
        index goes on searching it while the look (and a build, when the version moved; a
        second or two at 10,000 products) runs beside, so a change made elsewhere never holds
        its searches up; without a cache (``check_seconds`` 0) every search waits for it."""
        now = time.monotonic()
        index = self._index
        due = now - self._checked_at >= self.check_seconds
        if index is not None and due and self.check_seconds > 0 and not self._wait:
            self._checked_at = now
            if self._looking is None or self._looking.done():
                self._looking = asyncio.create_task(self._look_beside())
        elif index is None or due:
            async with self._lock:
                self._wait = False
                await self._look()
            index = self._index
        assert index is not None
        if time.monotonic() - self._sales_at >= self.sales_seconds:
            await self._refresh_sales()
        return index

    async def looked(self) -> None:
        """Wait for a look that runs beside the searches (for tests)."""
        if self._looking is not None:
            await asyncio.shield(self._looking)

    async def _look(self) -> None:
        async with self.db.read() as session:
            version = await current(session)
            if self._index is None or version != self._version:
                self._index = await build(session)
                self._version = version
                self._sales_at = time.monotonic()
                self.builds += 1
        self._checked_at = time.monotonic()

    async def _look_beside(self) -> None:
        try:
            async with self._lock:
                await self._look()
        except (SQLAlchemyError, OSError) as exc:
            # The database is away: searches go on with the index they have; the next look
            # after it is back builds the new one.
            log.warning("search index not renewed: %s", exc)

    async def _refresh_sales(self) -> None:
        self._sales_at = time.monotonic()
        async with self.db.read() as session:
            sold = await sales(session)
        if self._index is not None:
            self._index.sold = sold

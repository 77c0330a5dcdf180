"""Catalog queries: the category tree, product listing and search, one product."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, selectinload

from shopd.catalog.models import Category, Product, Series, Sku
from shopd.catalog.search import keeper
from shopd.catalog.search.index import SearchIndex
from shopd.config import Settings
from shopd.db import utcnow
from shopd.errors import NotFound
from shopd.inventory import service as inventory
from shopd.inventory.models import StockLevel
from shopd.promotions import flash
from shopd.promotions.models import FlashSale
from shopd.staff import shop_settings
from shopd.validation import search_terms

# "relevance" (the default of a search): how well a product matches, then its sales.
Sort = Literal["relevance", "newest", "price_asc", "price_desc", "best_selling", "name"]
MAX_QUERY_LENGTH = 100


@dataclass(slots=True)
class ProductSummary:
    product: Product
    min_price: int
    available: int


@dataclass(slots=True)
class SkuView:
    sku: Sku
    price: int
    available: int
    # Without promotions; ``price`` is what a buyer pays now.
    regular_price: int
    sale: FlashSale | None = None
    # What set price: none | flash_sale | member (the caller's level)
    priced_by: str = "none"


@dataclass(slots=True)
class ProductDetail:
    product: Product
    category: Category
    series: Series
    skus: list[SkuView]


def search_text_for(product: Product, skus: list[Sku], category: Category, series: Series) -> str:
    parts = [product.name, product.name_en, category.name, category.name_en, series.name]
    # Names in the other languages too, so a shopper finds a product by the name they read.
    for row in (product, category):
        parts += [texts.get("name", "") for texts in (row.translations or {}).values()]
    parts += [sku.code for sku in skus]
    return " ".join(p for p in parts if p).lower()


async def category_tree(session: AsyncSession) -> list[tuple[Series, list[tuple[Category, int]]]]:
    counts = dict(
        (
            await session.execute(
                select(Product.category_id, func.count())
                .where(Product.listed.is_(True))
                .group_by(Product.category_id)
            )
        ).all()
    )
    series = (
        await session.execute(
            select(Series).options(selectinload(Series.categories)).order_by(Series.position)
        )
    ).scalars()
    return [(s, [(c, counts.get(c.id, 0)) for c in s.categories]) for s in series]


# Sorts whose order comes from the catalog alone (not from sales or stock).
CATALOG_SORTS = ("newest", "name")
_BY_PRODUCT = {
    "newest": [Product.created_at.desc(), Product.id.desc()],
    "best_selling": [Product.sold_count.desc(), Product.id.asc()],
    "name": [Product.name.asc(), Product.id.asc()],
}


async def list_products(
    session: AsyncSession,
    *,
    q: str | None = None,
    category: str | None = None,
    page: int = 1,
    per_page: int = 24,
    sort: Sort = "newest",
    hide_sold_out: bool | None = None,
    index: SearchIndex | None = None,
) -> tuple[list[ProductSummary], int]:
    """Listed products matching ``q`` (``shopd.catalog.search``: names, SKU codes, categories,
    synonyms, pinyin, typos forgiven) and ``category`` (a category or a series slug), one page
    of them, and the total count. ``index`` is the worker's search index; without one it is
    built for this call."""
    hide = await _hides_sold_out(session, hide_sold_out)
    q = search_terms(q) if q else None
    if q and index is None:
        index = await keeper.build(session)
    if q and sort == "relevance":
        assert index is not None
        return await _by_relevance(session, index, q, category, page, per_page, hide)
    if sort == "relevance":
        sort = "newest"  # nothing to be relevant to
    if sort in _BY_PRODUCT:
        # Pick the page's products first, then price and stock for those alone: aggregating
        # every matching product's SKUs only to keep one page of them is the cost of a listing.
        ids, total = await matching(
            session,
            q=q,
            category=category,
            page=page,
            per_page=per_page,
            sort=sort,
            hide=hide,
            index=index,
        )
        return await summaries_of(session, ids), total
    filters = _filters(q, category, hide, index)
    total = await _count(session, filters)
    stmt, min_price = _summaries()
    order = [min_price.asc() if sort == "price_asc" else min_price.desc(), Product.id.asc()]
    stmt = stmt.where(*filters).order_by(*order).limit(per_page).offset((page - 1) * per_page)
    return _summary_rows((await session.execute(stmt)).all()), total


async def matching(
    session: AsyncSession,
    *,
    q: str | None,
    category: str | None,
    page: int,
    per_page: int,
    sort: Sort,
    hide: bool,
    index: SearchIndex | None = None,
) -> tuple[list[int], int]:
    """The ids of one page of listed products matching ``q`` and ``category`` in a sort by a
    product column, and how many match in all. Only stock moves it besides the catalog, and
    only when sold-out products are hidden."""
    if q and index is None:
        index = await keeper.build(session)
    filters = _filters(q, category, hide, index)
    ids = await session.scalars(
        select(Product.id)
        .where(*filters)
        .order_by(*_BY_PRODUCT[sort])
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(ids), await _count(session, filters)


def by_relevance(index: SearchIndex, q: str, category: str | None) -> list[int]:
    """Every listed product matching ``q`` (and ``category``, a category or series slug), the
    most relevant first, then the best sellers: from the worker's index, no query."""
    ids = index.ranked(index.find(q))
    if category:
        shown = index.products
        ids = [i for i in ids if category in (shown[i].category_slug, shown[i].series_slug)]
    return ids


async def _by_relevance(
    session: AsyncSession,
    index: SearchIndex,
    q: str,
    category: str | None,
    page: int,
    per_page: int,
    hide: bool,
) -> tuple[list[ProductSummary], int]:
    ids = by_relevance(index, q, category)
    if hide and ids:
        in_stock = set(
            await session.scalars(_in_stock_products().where(Sku.product_id.in_(ids)).distinct())
        )
        ids = [i for i in ids if i in in_stock]
    start = (page - 1) * per_page
    return await summaries_of(session, ids[start : start + per_page]), len(ids)


def _filters(
    q: str | None, category: str | None, hide: bool, index: SearchIndex | None = None
) -> list[Any]:
    filters: list[Any] = [Product.listed.is_(True)]
    if hide:
        filters.append(Product.id.in_(_in_stock_products()))
    if q and index is not None:
        filters.append(Product.id.in_(list(index.find(q).relevance)))
    if category:
        cat_ids = (
            select(Category.id)
            .join(Series)
            .where((Category.slug == category) | (Series.slug == category))
        )
        filters.append(Product.category_id.in_(cat_ids))
    return filters


async def _count(session: AsyncSession, filters: list[Any]) -> int:
    return await session.scalar(select(func.count()).select_from(Product).where(*filters)) or 0


def _summaries():  # type: ignore[no-untyped-def]
    """Products with their category, their lowest active SKU price and the units available,
    one row each."""
    price = func.coalesce(Sku.price, Product.list_price)
    available = func.coalesce(func.sum(StockLevel.on_hand - StockLevel.reserved), 0)
    min_price = func.min(price).label("min_price")
    stmt = (
        select(Product, min_price, available)
        .join(Product.category)
        .join(Sku, (Sku.product_id == Product.id) & Sku.active.is_(True), isouter=True)
        .join(StockLevel, StockLevel.sku_id == Sku.id, isouter=True)
        .group_by(Product.id, Category.id)
        .options(contains_eager(Product.category))
    )
    return stmt, min_price


def _summary_rows(rows: Sequence[Row[Any]]) -> list[ProductSummary]:
    return [ProductSummary(p, int(mp or p.list_price), max(int(av), 0)) for p, mp, av in rows]


# Every listing that misses the read cache asks this for its page of products: built once.
_SUMMARIES_OF = _summaries()[0].where(
    Product.id.in_(bindparam("ids", expanding=True)), Product.listed.is_(True)
)


async def summaries_of(session: AsyncSession, product_ids: list[int]) -> list[ProductSummary]:
    """Listed products among ``product_ids``, in that order."""
    if not product_ids:
        return []
    rows = _summary_rows((await session.execute(_SUMMARIES_OF, {"ids": product_ids})).all())
    rank = {pid: i for i, pid in enumerate(product_ids)}
    return sorted(rows, key=lambda r: rank[r.product.id])


async def _hides_sold_out(session: AsyncSession, explicit: bool | None) -> bool:
    """The caller's choice, or else the shop's ``hide_sold_out`` setting."""
    if explicit is not None:
        return explicit
    return bool(await shop_settings.get(session, "hide_sold_out"))


def _in_stock_products():  # type: ignore[no-untyped-def]
    # Decided at read time from the stock rows, so a product comes back the moment stock does.
    return (
        select(Sku.product_id)
        .join(StockLevel, StockLevel.sku_id == Sku.id)
        .where(Sku.active.is_(True), StockLevel.on_hand - StockLevel.reserved > 0)
    )


@dataclass(slots=True)
class ProductShown:
    """What a listed product shows besides stock and today's prices: it changes only when the
    catalog does, so it can be cached long (``shopd.catalog.cache.reads``)."""

    product: Product
    category: Category
    series: Series
    skus: list[Sku]  # the active ones


async def product_shown(session: AsyncSession, slug: str) -> ProductShown:
    product = await session.scalar(
        select(Product)
        .where(Product.slug == slug, Product.listed.is_(True))
        .options(
            selectinload(Product.skus),
            selectinload(Product.category).selectinload(Category.series),
        )
    )
    if product is None:
        raise NotFound(f"no product {slug!r}", code="product_not_found")
    active = [s for s in product.skus if s.active]
    return ProductShown(product, product.category, product.category.series, active)


async def priced_now(
    session: AsyncSession,
    shown: ProductShown,
    *,
    hide_sold_out: bool | None = None,
    sales: Mapping[int, FlashSale] | None = None,
    settings: Settings,
    member_percent: int,
) -> ProductDetail:
    """A product's active SKUs with their stock and at the prices of this moment for a buyer
    (a flash sale on now, else their member price), as checkout will charge.

    ``member_percent`` stands for the buyer: two members with the same discount see the same
    product, so it can be shared (``shopd.catalog.cache.reads``). ``sales`` running now, when the
    caller has them already (``shopd.catalog.cache.campaigns``), save their query."""
    product = shown.product
    ids = [s.id for s in shown.skus]
    stock = await inventory.levels(session, ids)
    if sales is None:
        sales = await flash.running_sales(session, ids, utcnow())
    views = []
    for s in shown.skus:
        regular = s.effective_price(product)
        available = stock[s.id].available if s.id in stock else 0
        view = SkuView(s, regular, available, regular_price=regular)
        view.price, view.priced_by = flash.best_price(
            regular, sales.get(s.id), member_percent, settings
        )
        if view.priced_by == "flash_sale":
            view.sale = sales[s.id]
        views.append(view)
    if not any(v.available for v in views) and await _hides_sold_out(session, hide_sold_out):
        raise NotFound(f"no product {product.slug!r}", code="product_not_found")
    return ProductDetail(product, shown.category, shown.series, views)


async def get_product(
    session: AsyncSession,
    slug: str,
    *,
    hide_sold_out: bool | None = None,
    settings: Settings,
    member_percent: int = 0,
) -> ProductDetail:
    """A listed product as ``priced_now`` shows it (a guest's prices unless told otherwise),
    all read from the database."""
    return await priced_now(
        session,
        await product_shown(session, slug),
        hide_sold_out=hide_sold_out,
        settings=settings,
        member_percent=member_percent,
    )

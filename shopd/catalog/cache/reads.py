"""Catalog reads that every anonymous visitor shares, through the worker's catalog cache
(``shopd.catalog.cache.catalog_cache``): the storefront pages and the JSON API ask here, so
both share entries."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from markupsafe import Markup

from shopd.catalog import related, service
from shopd.catalog.cache.campaigns import CampaignsNow
from shopd.catalog.cache.campaigns import snapshot as campaigns_snapshot
from shopd.catalog.cache.catalog_cache import CatalogCache
from shopd.catalog.models import Product
from shopd.catalog.service import ProductDetail, ProductSummary, Sort
from shopd.config import Settings
from shopd.content import service as content
from shopd.content.models import Review
from shopd.customers import membership
from shopd.customers.models import Customer, MembershipLevel
from shopd.db import utcnow
from shopd.promotions import group_buys
from shopd.promotions.schemas import GroupBuyOut


async def category_tree(cache: CatalogCache) -> list[Any]:
    """Series, categories and how many listed products each has: the catalog's alone."""

    async def load() -> list[Any]:
        async with cache.db.read() as session:
            return await service.category_tree(session)

    return await cache.products.get(("category_tree",), load)


async def listing(
    cache: CatalogCache,
    *,
    q: str | None,
    category: str | None,
    page: int,
    per_page: int,
    sort: Sort,
) -> tuple[list[ProductSummary], int]:
    """One page of a listing or a search. Which products match, and in what order, is the
    catalog's alone in a sort by a product column, so it is cached as long as the catalog version
    holds; prices and stock are read per miss of the short cache. Searching thousands of
    products' texts was most of a listing's cost."""

    query: dict[str, Any] = {
        "q": q,
        "category": category,
        "page": page,
        "per_page": per_page,
        "sort": sort,
    }
    key = tuple(query.values())
    index = await cache.search.index() if q else None

    async def load() -> tuple[tuple[list[ProductSummary], int], Steady]:
        hide = (await shown_campaigns(cache)).hide_sold_out if cache.short.enabled else None
        if hide is False and index is not None and sort == "relevance":
            # Which products match, in what order, is the index's (and the sales it last read):
            # held while their stock stands, as a listing by a product column is.
            ranked = service.by_relevance(index, q or "", category)
            ids = ranked[(page - 1) * per_page : page * per_page]
            async with cache.db.read() as session:
                return (await service.summaries_of(session, ids), len(ranked)), tuple(ids)
        if hide is not False or sort not in service.CATALOG_SORTS:
            # Which products show, or their order, moves with stock or sales anywhere.
            async with cache.db.read() as session:
                found = await service.list_products(
                    session, **query, hide_sold_out=hide, index=index
                )
                return found, None

        async def match() -> tuple[list[int], int]:
            async with cache.db.read() as session:
                return await service.matching(session, **query, hide=False, index=index)

        ids, total = await cache.products.get(("matching", *key), match)
        async with cache.db.read() as session:
            return (await service.summaries_of(session, ids), total), tuple(ids)

    return await _cached_while_stock_stands(cache, ("listing", *key), load)


async def search_hint(cache: CatalogCache, q: str) -> str | None:
    """What "did you mean" offers for ``q``: the query as the catalog spells it, when nothing
    matches it well (``shopd.catalog.search.index.Found.suggestion``)."""
    return (await cache.search.index()).find(q).suggestion


async def suggestions(cache: CatalogCache, product: Product) -> related.Suggestions:
    """What is bought together with a product and its category's best sellers: a ranking over
    all orders, the dearest read on a product page, and one that moves slowly, so it is cached
    longer than the rest (``ranking_cache_seconds``)."""

    async def load() -> related.Suggestions:
        async with cache.db.read() as session:
            return await related.suggestions(session, product)

    return await cache.rankings.get(("suggestions", product.id), load)


async def member_percent(cache: CatalogCache, customer: Customer | None) -> int:
    """The caller's member discount now (guests: 0). Their spend is read with their session on
    every request, so a member who has just climbed a level sees their new price at once; the
    ladder changes only with the catalog version (``shopd.catalog.cache.version``)."""
    if customer is None:
        return 0

    async def ladder() -> list[MembershipLevel]:
        async with cache.db.read() as session:
            return await membership.levels(session)

    level = membership.level_for(
        await cache.products.get(("membership_levels",), ladder), customer.lifetime_spend
    )
    return level.discount_percent if level else 0


@dataclass(slots=True, frozen=True)
class ProductOffer:
    """A product as a buyer sees it now: the product page and the product API show this."""

    detail: ProductDetail
    group_buys: list[GroupBuyOut]
    suggestions: related.Suggestions


@dataclass(slots=True, frozen=True)
class ProductTexts:
    description: Markup
    reviews: list[Review]
    rating: content.RatingSummary


async def product_offer(
    cache: CatalogCache, slug: str, member_percent: int, settings: Settings
) -> ProductOffer:
    """Shared by everyone who pays the same; built on the long-cached part that changes only
    with the catalog, and cached while its stock stands unless a campaign touches it."""

    async def shown() -> service.ProductShown:
        async with cache.db.read() as session:
            return await service.product_shown(session, slug)

    async def load() -> tuple[ProductOffer, Steady]:
        product = await cache.products.get(("shown", slug), shown)
        ids = [s.id for s in product.skus]
        # A buyer fresh from their own order reads the campaigns too, not the snapshot.
        campaigns = (
            await shown_campaigns(cache)
            if cache.short.enabled and not cache.short.reads_fresh
            else None
        )
        async with cache.db.read() as session:
            detail = await service.priced_now(
                session,
                product,
                hide_sold_out=campaigns.hide_sold_out if campaigns else None,
                sales=campaigns.running(ids, utcnow()) if campaigns else None,
                settings=settings,
                member_percent=member_percent,
            )
            groups = (
                await group_buys.on_offer(session, settings, ids)
                if campaigns is None or campaigns.has_group_buys(ids)
                else []
            )
        offer = ProductOffer(detail, groups, await suggestions(cache, detail.product))
        # A sale's start and end and a group buy's progress move it without the ledger.
        steady = campaigns is not None and not campaigns.touches(ids)
        return offer, (product.product.id,) if steady else None

    def untouched(offer: ProductOffer, campaigns: CampaignsNow) -> bool:
        return not campaigns.touches(v.sku.id for v in offer.detail.skus)

    return await _cached_while_stock_stands(
        cache, ("product", slug, member_percent), load, still=untouched
    )


# The products whose stock alone moves what a load read; None: more than stock moves it.
Steady = tuple[int, ...] | None
T = TypeVar("T")


@dataclass(slots=True, frozen=True)
class _Cached(Generic[T]):
    value: T
    loaded_at: float  # before anything was read (time.monotonic)
    steady: Steady
    hide_sold_out: bool | None


async def _cached_while_stock_stands(
    cache: CatalogCache,
    key: Hashable,
    load: Callable[[], Awaitable[tuple[T, Steady]]],
    *,
    still: Callable[[T, CampaignsNow], bool] | None = None,
) -> T:
    """A read cached ``catalog_cache_seconds``, and past that, up to ``offer_cache_seconds``,
    for as long as the stock of its steady products has not moved (``cache.stock_moves``, the ledger
    as this worker's catalog watch reads it), sold-out products are not newly hidden and
    ``still`` holds. Without a watch it is the short cache alone."""

    async def cached() -> _Cached[T]:
        loaded_at = time.monotonic()
        value, steady = await load()
        # A fresh reader's entry is not cached past the short life: it would read the snapshot
        # from the database once more just to say so.
        fresh = cache.short.reads_fresh
        hide = (await shown_campaigns(cache)).hide_sold_out if steady and not fresh else None
        return _Cached(value, loaded_at, steady, hide)

    moves = cache.stock_moves
    if moves is None or not cache.offers.enabled or not cache.short.enabled:
        return (await cache.short.get(key, cached)).value
    if cache.offers.reads_fresh:  # loads, and leaves what it read for everyone
        return (await cache.offers.get(key, cached)).value
    campaigns = await shown_campaigns(cache)

    def holds(entry: _Cached[T]) -> bool:
        if time.monotonic() - entry.loaded_at < cache.short.seconds:
            return True
        return (
            entry.steady is not None
            and entry.hide_sold_out == campaigns.hide_sold_out
            and (still is None or still(entry.value, campaigns))
            and moves.unmoved_since(entry.steady, entry.loaded_at)
        )

    return (await cache.offers.get(key, cached, holds=holds)).value


async def shown_campaigns(cache: CatalogCache) -> CampaignsNow:
    """Flash sales and group buys of the whole shop, one snapshot per worker."""

    async def load() -> CampaignsNow:
        async with cache.db.read() as session:
            return await campaigns_snapshot(session)

    return await cache.short.get(("campaigns",), load)


async def product_texts(
    cache: CatalogCache, product: Product, language: str, shop_language: str
) -> ProductTexts:
    """The description as HTML in the visitor's language (else the shop's) and the reviews:
    they change only with the catalog."""

    async def load() -> ProductTexts:
        async with cache.db.read() as session:
            shown, rating = await content.reviews(session, product.id)
        description = product.text("description", language, shop_language)
        return ProductTexts(content.render_markdown(description), shown, rating)

    return await cache.products.get(("texts", product.id, language), load)

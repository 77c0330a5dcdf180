"""Catalog pages: home, category listings, search, product (with its reviews), compare."""

from __future__ import annotations

import math
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, QueryParameter

from shopd import http
from shopd.analytics.counter import search_key
from shopd.catalog import service as catalog
from shopd.catalog.cache import CatalogCache, reads
from shopd.catalog.models import Translated
from shopd.config import Settings
from shopd.content import service as content
from shopd.customers.models import Customer
from shopd.db import Database
from shopd.errors import DomainError, NotFound
from shopd.http import DB, Conf
from shopd.staff import shop_settings
from shopd.unit_of_work import committing
from shopd.validation import search_terms
from shopd.web.pages.forms import PER_PAGE, SORTS, Slug, form_int, read_form
from shopd.web.render import language_of, page, redirect


class CatalogPages(Controller):
    """The shop's goods, as customers browse them."""

    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any], db: DB, settings: Conf) -> Response[Any]:
        lang = language_of(request, settings)

        async def load() -> dict[str, Any]:
            async with db.read() as session:
                hide = await shop_settings.get(session, "hide_sold_out")  # one read for both
                featured, _ = await catalog.list_products(
                    session, per_page=8, sort="best_selling", hide_sold_out=hide
                )
                newest, _ = await catalog.list_products(
                    session, per_page=8, sort="newest", hide_sold_out=hide
                )
                news = await content.announcements(session)
            return {
                "featured": featured,
                "newest": newest,
                "announcements": [
                    (a, content.render_markdown(a.text("body", lang, settings.language)))
                    for a in news
                ],
            }

        lists = await CatalogCache.of(request.app.state).short.get(("home", lang), load)
        return await page(request, db, settings, "home.html", cacheable=True, **lists)

    async def _listing(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        settings: Settings,
        *,
        q: str | None,
        category: str | None,
        page_no: int,
        sort: str,
        title: str | Translated,
    ) -> Response[Any]:
        sort = sort if sort in SORTS or (q and sort == "relevance") else "newest"
        items, total = await reads.listing(
            CatalogCache.of(request.app.state),
            q=q,
            category=category,
            page=page_no,
            per_page=PER_PAGE,
            sort=sort,  # type: ignore[arg-type]
        )
        hint = None
        if q:
            hint = await reads.search_hint(CatalogCache.of(request.app.state), q)
            seen = [("search", search_key(q))]
            if total == 0:
                seen.append(("search_empty", search_key(q)))
        else:
            seen = [("category", category)] if category else []
        return await page(
            request,
            db,
            settings,
            "listing.html",
            cacheable=True,
            seen=seen,
            items=items,
            total=total,
            page_no=page_no,
            pages=max(math.ceil(total / PER_PAGE), 1),
            sort=sort,
            sorts=SORTS,
            title=title,
            q=q or "",
            category=category,
            did_you_mean=hint,
        )

    @get("/c/{slug:str}")
    async def category(
        self,
        request: Request[Any, Any, Any],
        slug: Slug,
        db: DB,
        settings: Conf,
        page_no: Annotated[int, QueryParameter(name="page", ge=1, le=10_000)] = 1,
        sort: FromQuery[str] = "newest",
    ) -> Response[Any]:
        tree = await reads.category_tree(CatalogCache.of(request.app.state))
        names = {s.slug: s for s, _ in tree} | {c.slug: c for _, cats in tree for c, _n in cats}
        if slug not in names:
            raise NotFound("no such category", code="category_not_found")
        return await self._listing(
            request,
            db,
            settings,
            q=None,
            category=slug,
            page_no=page_no,
            sort=sort,
            title=names[slug],
        )

    @get("/search")
    async def search(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        q: Annotated[str, QueryParameter(max_length=catalog.MAX_QUERY_LENGTH)] = "",
        page_no: Annotated[int, QueryParameter(name="page", ge=1, le=10_000)] = 1,
        sort: FromQuery[str] = "relevance",
    ) -> Response[Any]:
        q = search_terms(q)
        return await self._listing(
            request, db, settings, q=q or None, category=None, page_no=page_no, sort=sort, title=q
        )

    @get("/p/{slug:str}")
    async def product(
        self, request: Request[Any, Any, Any], slug: Slug, db: DB, settings: Conf
    ) -> Response[Any]:
        customer = await http.current_customer(request, db)
        cache = CatalogCache.of(request.app.state)
        percent = await reads.member_percent(cache, customer)
        # Shared with the product API, by everyone who pays the same.
        offer = await reads.product_offer(cache, slug, percent, settings)
        detail = offer.detail
        lang = language_of(request, settings)
        texts = await reads.product_texts(cache, detail.product, lang, settings.language)
        shown = {
            "d": detail,
            "groups": offer.group_buys,
            "more": offer.suggestions,
            "reviews": texts.reviews,
            "rating": texts.rating,
            "description": texts.description,
            "first_available": next((v.sku.code for v in detail.skus if v.available > 0), None),
        }
        can_review = False
        if customer:
            async with db.read() as session:
                can_review = await content.has_bought(session, customer.id, shown["d"].product.id)
        return await page(
            request,
            db,
            settings,
            "product.html",
            cacheable=True,
            seen=[("product", slug)],
            can_review=can_review,
            error=request.query_params.get("error", ""),
            **shown,
        )

    @post("/p/{slug:str}/reviews")
    async def review(
        self, request: Request[Any, Any, Any], slug: Slug, db: DB, settings: Conf
    ) -> Response[Any]:
        form = await read_form(request)
        customer = await http.current_customer(request, db)
        if customer is None:
            return redirect(f"/account/login?next=/p/{slug}")
        refused: DomainError | None = None
        try:
            async with committing(db) as session:
                detail = await catalog.get_product(
                    session, slug, hide_sold_out=False, settings=settings
                )
                me = await session.get(Customer, customer.id)
                assert me is not None
                try:
                    await content.add_review(
                        session,
                        me,
                        detail.product,
                        rating=form_int(form.get("rating"), 0),
                        body=form.get("body", ""),
                    )
                except DomainError as exc:
                    refused = exc
                    raise
        except DomainError as exc:
            # A refused review is shown on the page (and wrote nothing: rolled back).
            if exc is not refused:
                raise
            return redirect(f"/p/{slug}?error={exc.code}#reviews")
        return redirect(f"/p/{slug}#reviews")

    @get("/compare")
    async def compare(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        settings: Conf,
        p: Annotated[list[str] | None, QueryParameter(max_items=8)] = None,
    ) -> Response[Any]:
        """Up to four products side by side."""
        found = []
        async with db.read() as session:
            for slug in list(dict.fromkeys(p or []))[:4]:
                try:
                    found.append(
                        await catalog.get_product(
                            session, slug[:160], hide_sold_out=False, settings=settings
                        )
                    )
                except NotFound:
                    continue
        return await page(request, db, settings, "compare.html", products=found)

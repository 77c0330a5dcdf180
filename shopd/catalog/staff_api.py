"""Staff catalog endpoints: the category tree, products and SKUs, prices, review, images, CSV."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import http
from shopd.catalog import csv_io, staff_service
from shopd.catalog.models import Category, Product, Series
from shopd.catalog.search import synonyms
from shopd.catalog.staff_schemas import (
    ApproveIn,
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    ImportOut,
    PriceChangeOut,
    PriceIn,
    ProductIn,
    ProductPatch,
    ProductSalesOut,
    SeriesIn,
    SeriesOut,
    SeriesPatch,
    SkuIn,
    SkuPatch,
    SkuSalesOut,
    StaffProductOut,
    StaffProductPage,
    StaffSkuOut,
    SynonymsIn,
    SynonymsOut,
)
from shopd.db import Database, utcnow
from shopd.errors import InvalidInput
from shopd.http import DB, Conf, PageOf, write_then_read
from shopd.orders.sales import product_sales
from shopd.staff.api import ACTOR, GUARDS, StaffActor
from shopd.unit_of_work import committing

SlugPath = Annotated[str, PathParameter(max_length=160)]
MAX_UPLOAD = 8 * 1024 * 1024
MAX_CSV = 16 * 1024 * 1024


def series_out(s: Series) -> SeriesOut:
    return SeriesOut(s.slug, s.name, s.name_en, s.position, s.translations or {})


def category_out(c: Category) -> CategoryOut:
    return CategoryOut(c.slug, c.series.slug, c.name, c.name_en, c.position, c.translations or {})


async def product_out(
    session: AsyncSession, p: Product, *, with_history: bool = False
) -> StaffProductOut:
    sku_codes = {s.id: s.code for s in p.skus}
    history = (
        [
            PriceChangeOut(
                c.created_at,
                sku_codes.get(c.sku_id) if c.sku_id else None,
                c.old_price,
                c.new_price,
                c.actor,
            )
            for c in await staff_service.price_history(session, p)
        ]
        if with_history
        else []
    )
    return StaffProductOut(
        slug=p.slug,
        name=p.name,
        name_en=p.name_en,
        description=p.description,
        category=p.category.slug,
        list_price=p.list_price,
        images=list(p.images),
        listed=p.listed,
        review_state=p.review_state,
        sold_count=p.sold_count,
        translations=p.translations or {},
        skus=[
            StaffSkuOut(
                s.code,
                {str(k): str(v) for k, v in s.attributes.items()},
                s.price,
                s.effective_price(p),
                s.active,
            )
            for s in p.skus
        ],
        price_history=history,
    )


async def _product_after(db: Database, slug: str, change: Any) -> StaffProductOut:
    async def view(session: AsyncSession) -> StaffProductOut:
        product = await staff_service.product_by_slug(session, slug)
        return await product_out(session, product, with_history=True)

    return await write_then_read(db, change, view)


class StaffCatalogController(Controller):
    path = "/api/v1/staff"
    tags = ["staff catalog"]
    dependencies = ACTOR
    guards = GUARDS

    @get("/search/synonyms", opt={"role": "clerk"})
    async def search_synonyms(self, actor: StaffActor, db: DB) -> SynonymsOut:
        """The search's synonym groups (``hoody, hoodie``; ``茶壶, 紫砂壶``)."""
        async with db.read() as session:
            return SynonymsOut(await synonyms.groups(session))

    @put("/search/synonyms", opt={"role": "manager"})
    async def replace_search_synonyms(
        self, actor: StaffActor, data: JSONBody[SynonymsIn], db: DB
    ) -> SynonymsOut:
        """Replace every synonym group; searches on every worker use them within
        ``catalog_watch_seconds``."""
        async with committing(db) as session:
            return SynonymsOut(await synonyms.replace(session, actor, data.groups))

    @post("/series", status_code=201, opt={"role": "manager"})
    async def create_series(self, actor: StaffActor, data: JSONBody[SeriesIn], db: DB) -> SeriesOut:
        async with committing(db) as session:
            s = await staff_service.create_series(
                session,
                actor,
                slug=data.slug,
                name=data.name,
                name_en=data.name_en,
                position=data.position,
            )
        return series_out(s)

    @patch("/series/{slug:str}", opt={"role": "manager"})
    async def update_series(
        self, actor: StaffActor, slug: SlugPath, data: JSONBody[SeriesPatch], db: DB
    ) -> SeriesOut:
        """Rename or reorder (``position``) a series."""
        async with committing(db) as session:
            s = await staff_service.update_series(
                session,
                actor,
                slug,
                name=data.name,
                name_en=data.name_en,
                position=data.position,
                translations=data.translations,
            )
        return series_out(s)

    @post("/categories", status_code=201, opt={"role": "manager"})
    async def create_category(
        self, actor: StaffActor, data: JSONBody[CategoryIn], db: DB
    ) -> CategoryOut:
        async with committing(db) as session:
            c = await staff_service.create_category(
                session,
                actor,
                series=data.series,
                slug=data.slug,
                name=data.name,
                name_en=data.name_en,
                position=data.position,
            )
        return CategoryOut(c.slug, data.series, c.name, c.name_en, c.position)

    @patch("/categories/{slug:str}", opt={"role": "manager"})
    async def update_category(
        self, actor: StaffActor, slug: SlugPath, data: JSONBody[CategoryPatch], db: DB
    ) -> CategoryOut:
        """Rename, reorder, or move a category to another series (``series``)."""
        async with committing(db) as session:
            c = await staff_service.update_category(
                session,
                actor,
                slug,
                name=data.name,
                name_en=data.name_en,
                position=data.position,
                series=data.series,
                translations=data.translations,
            )
        return category_out(c)

    @get(
        "/products",
        opt={"role": "clerk"},
        dependencies={"paging": http.paging(per_page=50, most=200, after="actor")},
    )
    async def products(
        self,
        actor: StaffActor,
        db: DB,
        *,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        review_state: Annotated[str | None, QueryParameter(max_length=16)] = None,
        listed: FromQuery[bool | None] = None,
        paging: PageOf,
    ) -> StaffProductPage:
        """All products, drafts and delisted ones included; ``review_state=draft`` is the
        review queue."""
        actor.require("clerk")
        async with db.read() as session:
            rows, total = await staff_service.staff_products(
                session,
                q=q,
                review_state=review_state,
                listed=listed,
                page=paging.page,
                per_page=paging.per_page,
            )
            items = [await product_out(session, p) for p in rows]
        return StaffProductPage(items, paging.page, paging.per_page, total)

    @post("/products", status_code=201, opt={"role": "clerk"})
    async def create_product(
        self, actor: StaffActor, data: JSONBody[ProductIn], db: DB
    ) -> StaffProductOut:
        """A new product starts as an unlisted draft with zero stock."""
        specs = [staff_service.SkuSpec(s.code, dict(s.attributes), s.price) for s in data.skus]
        return await _product_after(
            db,
            data.slug,
            lambda s: staff_service.create_product(
                s,
                actor,
                slug=data.slug,
                category=data.category,
                name=data.name,
                name_en=data.name_en,
                description=data.description,
                list_price=data.list_price,
                skus=specs,
            ),
        )

    @get("/products/{slug:str}", opt={"role": "clerk"})
    async def product(self, actor: StaffActor, slug: SlugPath, db: DB) -> StaffProductOut:
        actor.require("clerk")
        async with db.read() as session:
            return await product_out(
                session, await staff_service.product_by_slug(session, slug), with_history=True
            )

    @get("/products/{slug:str}/sales", opt={"role": "clerk"})
    async def sales(
        self,
        actor: StaffActor,
        slug: SlugPath,
        db: DB,
        settings: Conf,
        days: Annotated[int, QueryParameter(ge=1, le=3660)] = 30,
    ) -> ProductSalesOut:
        """Units and revenue per SKU over the last ``days`` days: orders not cancelled, less
        the units sent back."""
        actor.require("clerk")
        since = utcnow() - dt.timedelta(days=days)
        async with db.read() as session:
            product = await staff_service.product_by_slug(session, slug)
            sold = await product_sales(session, product.id, since)
        return ProductSalesOut(
            product.slug,
            days,
            since,
            sold.units,
            sold.revenue,
            sold.orders,
            settings.currency,
            [SkuSalesOut(s.sku, s.units, s.revenue, s.orders) for s in sold.skus],
        )

    @patch("/products/{slug:str}", opt={"role": "clerk"})
    async def update_product(
        self, actor: StaffActor, slug: SlugPath, data: JSONBody[ProductPatch], db: DB
    ) -> StaffProductOut:
        """Edit; a change by anyone below manager sends the product back to review."""
        return await _product_after(
            db,
            slug,
            lambda s: staff_service.update_product(
                s,
                actor,
                slug,
                name=data.name,
                name_en=data.name_en,
                description=data.description,
                category=data.category,
                translations=data.translations,
            ),
        )

    @post("/products/{slug:str}/approve", status_code=200, opt={"role": "manager"})
    async def approve(
        self, actor: StaffActor, slug: SlugPath, data: JSONBody[ApproveIn], db: DB
    ) -> StaffProductOut:
        return await _product_after(
            db, slug, lambda s: staff_service.approve(s, actor, slug, list_now=data.list)
        )

    @post("/products/{slug:str}/list", status_code=200, opt={"role": "manager"})
    async def list_product(self, actor: StaffActor, slug: SlugPath, db: DB) -> StaffProductOut:
        return await _product_after(
            db, slug, lambda s: staff_service.set_listed(s, actor, slug, True)
        )

    @post("/products/{slug:str}/delist", status_code=200, opt={"role": "manager"})
    async def delist_product(self, actor: StaffActor, slug: SlugPath, db: DB) -> StaffProductOut:
        return await _product_after(
            db, slug, lambda s: staff_service.set_listed(s, actor, slug, False)
        )

    @put("/products/{slug:str}/price", opt={"role": "manager"})
    async def set_price(
        self, actor: StaffActor, slug: SlugPath, data: JSONBody[PriceIn], db: DB
    ) -> StaffProductOut:
        """The list price, or with ``sku`` one SKU's price (``null`` = the list price)."""
        return await _product_after(
            db,
            slug,
            lambda s: staff_service.set_price(s, actor, slug, price=data.price, sku=data.sku),
        )

    @post("/products/{slug:str}/skus", status_code=201, opt={"role": "clerk"})
    async def add_sku(
        self, actor: StaffActor, slug: SlugPath, data: JSONBody[SkuIn], db: DB
    ) -> StaffProductOut:
        spec = staff_service.SkuSpec(data.code, dict(data.attributes), data.price)
        return await _product_after(db, slug, lambda s: staff_service.add_sku(s, actor, slug, spec))

    @patch("/skus/{code:str}", opt={"role": "clerk"})
    async def update_sku(
        self,
        actor: StaffActor,
        code: Annotated[str, PathParameter(max_length=64)],
        data: JSONBody[SkuPatch],
        db: DB,
    ) -> StaffSkuOut:
        async with committing(db) as session:
            sku = await staff_service.update_sku(
                session,
                actor,
                code,
                attributes=dict(data.attributes) if data.attributes is not None else None,
                active=data.active,
            )
            product = await session.get(Product, sku.product_id)
            assert product is not None
            return StaffSkuOut(
                sku.code,
                {str(k): str(v) for k, v in sku.attributes.items()},
                sku.price,
                sku.effective_price(product),
                sku.active,
            )

    @post(
        "/products/{slug:str}/images",
        status_code=201,
        request_max_body_size=MAX_UPLOAD,
        opt={"role": "clerk", "raw_body": True},
    )
    async def upload_image(
        self,
        request: Request[Any, Any, Any],
        actor: StaffActor,
        slug: SlugPath,
        db: DB,
        settings: Conf,
    ) -> StaffProductOut:
        """The image file itself is the body (PNG, JPEG, GIF or WebP; checked by content)."""
        body = await request.body()
        return await _product_after(
            db,
            slug,
            lambda s: staff_service.add_image(
                s,
                actor,
                slug,
                body,
                media_dir=settings.media_dir,
                max_bytes=settings.max_image_bytes,
            ),
        )

    @delete("/products/{slug:str}/images", status_code=200, opt={"role": "clerk"})
    async def remove_image(
        self,
        actor: StaffActor,
        slug: SlugPath,
        db: DB,
        url: Annotated[str, QueryParameter(max_length=300)],
    ) -> StaffProductOut:
        return await _product_after(
            db, slug, lambda s: staff_service.remove_image(s, actor, slug, url)
        )

    @get("/catalog/export.csv", media_type="text/csv; charset=utf-8", opt={"role": "clerk"})
    async def export(self, actor: StaffActor, db: DB) -> Response[str]:
        """Every SKU with its product, prices, stock and state, one row each."""
        actor.require("clerk")
        async with db.read() as session:
            text = await csv_io.export_csv(session)
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="catalog.csv"'},
        )

    @post(
        "/catalog/import",
        status_code=200,
        request_max_body_size=MAX_CSV,
        opt={"role": "manager", "raw_body": True},
    )
    async def import_(
        self,
        request: Request[Any, Any, Any],
        actor: StaffActor,
        db: DB,
        dry_run: FromQuery[bool] = False,
    ) -> ImportOut:
        """Import the export's columns (body: the CSV text, UTF-8). All rows or none;
        ``dry_run`` checks without writing."""
        try:
            data = (await request.body()).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("the CSV must be UTF-8 text", code="invalid_csv") from None
        # A dry run's session closes uncommitted: everything it wrote is rolled back.
        async with db.write() if dry_run else committing(db) as session:
            result = await csv_io.import_csv(session, actor, data, dry_run=dry_run)
        return ImportOut(
            dry_run,
            result.created_products,
            result.created_skus,
            result.price_changes,
            result.stock_changes,
            result.threshold_changes,
        )

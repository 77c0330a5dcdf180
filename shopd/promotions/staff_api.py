"""The back office's campaigns: flash sales, coupons and group buys (set up by managers)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from shopd import http
from shopd.http import DB, Conf, PageOf
from shopd.promotions import coupons, flash, group_buys, service
from shopd.promotions.models import Coupon, FlashSale
from shopd.promotions.schemas import (
    CouponIn,
    CouponOut,
    CouponPage,
    FlashSaleIn,
    FlashSaleStaffOut,
    GroupBuyIn,
    GroupBuyOut,
)
from shopd.staff.api import ACTOR, GUARDS, StaffActor
from shopd.unit_of_work import committing

SaleId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


def staff_out(sale: FlashSale, sku: str) -> FlashSaleStaffOut:
    return FlashSaleStaffOut(
        sale.id,
        sku,
        sale.title,
        sale.sale_price,
        sale.starts_at,
        sale.ends_at,
        sale.quantity,
        sale.sold,
        sale.per_customer_limit,
        sale.floor_exempt,
        sale.created_by,
        service.sale_state(sale),
    )


class StaffFlashSaleController(Controller):
    path = "/api/v1/staff/flash-sales"
    tags = ["staff promotions"]
    dependencies = ACTOR
    guards = GUARDS

    @get("/", opt={"role": "clerk"})
    async def list_sales(self, actor: StaffActor, db: DB) -> list[FlashSaleStaffOut]:
        """Every sale, newest start first, with what it has sold."""
        actor.require("clerk")
        async with db.read() as session:
            return [staff_out(sale, code) for sale, code in await service.flash_sales(session)]

    @post("/", status_code=201, opt={"role": "manager"})
    async def create(
        self, actor: StaffActor, data: JSONBody[FlashSaleIn], db: DB, settings: Conf
    ) -> FlashSaleStaffOut:
        """A SKU at ``sale_price`` from ``starts_at`` to ``ends_at`` (with offsets), for
        ``quantity`` units, ``per_customer_limit`` each; not under the price floor unless
        ``floor_exempt``; never overlapping another sale of the SKU."""
        async with committing(db) as session:
            sale = await flash.create_sale(session, settings, actor, data)
        return staff_out(sale, data.sku)

    @post("/{sale_id:int}/end", status_code=200, opt={"role": "manager"})
    async def end(self, actor: StaffActor, sale_id: SaleId, db: DB) -> FlashSaleStaffOut:
        async with committing(db) as session:
            sale = await flash.end_sale(session, actor, sale_id)
            code = await service.sku_code(session, sale.sku_id)
        return staff_out(sale, code)


def coupon_out(c: Coupon) -> CouponOut:
    return CouponOut(
        id=c.id,
        code=c.code,
        title=c.title,
        batch=c.batch,
        kind=c.kind,
        value=c.value,
        min_spend=c.min_spend,
        starts_at=c.starts_at,
        ends_at=c.ends_at,
        max_uses=c.max_uses,
        used=c.used,
        per_customer_limit=c.per_customer_limit,
        automatic=c.automatic,
        product_ids=list(c.product_ids or []),
        category_ids=list(c.category_ids or []),
        stackable=c.stackable,
        floor_exempt=c.floor_exempt,
        active=c.active,
    )


CouponId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
GroupId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


class StaffCouponController(Controller):
    path = "/api/v1/staff/coupons"
    tags = ["staff promotions"]
    dependencies = ACTOR
    guards = GUARDS

    @get(
        "/",
        opt={"role": "clerk"},
        dependencies={"paging": http.paging(per_page=100, most=1000, after="actor")},
    )
    async def list_coupons(
        self,
        actor: StaffActor,
        db: DB,
        *,
        batch: Annotated[str | None, QueryParameter(max_length=40)] = None,
        code: Annotated[str | None, QueryParameter(max_length=40)] = None,
        paging: PageOf,
    ) -> CouponPage:
        """Coupons, newest first; ``batch`` lists one generated batch (to print or send)."""
        actor.require("clerk")
        async with db.read() as session:
            rows, total = await service.coupon_page(
                session, batch=batch, code=code, page=paging.page, per_page=paging.per_page
            )
            return CouponPage([coupon_out(c) for c in rows], total)

    @post("/", status_code=201, opt={"role": "manager"})
    async def create(self, actor: StaffActor, data: JSONBody[CouponIn], db: DB) -> CouponPage:
        """One coupon (``code``) or a batch (``count`` codes starting with ``prefix``):
        ``amount_off`` (``value`` minor units above ``min_spend``), ``percent_off`` or
        ``free_shipping``; a window, caps, the products or categories it covers (none: all),
        whether it stacks with other coupons, and whether it may go under the price floor."""
        async with committing(db) as session:
            rows = await coupons.create(session, actor, data)
        return CouponPage([coupon_out(c) for c in rows], len(rows))

    @post("/{coupon_id:int}/disable", status_code=200, opt={"role": "manager"})
    async def disable(self, actor: StaffActor, coupon_id: CouponId, db: DB) -> CouponOut:
        async with committing(db) as session:
            coupon = await coupons.disable(session, actor, coupon_id)
        return coupon_out(coupon)


class StaffGroupBuyController(Controller):
    path = "/api/v1/staff/group-buys"
    tags = ["staff promotions"]
    dependencies = ACTOR
    guards = GUARDS

    @get("/", opt={"role": "clerk"})
    async def list_groups(self, actor: StaffActor, db: DB, settings: Conf) -> list[GroupBuyOut]:
        actor.require("clerk")
        async with db.read() as session:
            rows = await service.group_buys_list(session)
            return [await group_buys.view(session, settings, g) for g in rows]

    @post("/", status_code=201, opt={"role": "manager"})
    async def create(
        self, actor: StaffActor, data: JSONBody[GroupBuyIn], db: DB, settings: Conf
    ) -> GroupBuyOut:
        """A SKU at ``group_price`` once ``min_buyers`` have paid by ``ends_at``; joining
        closes at ``max_buyers``. Not under the price floor unless ``floor_exempt``."""
        async with committing(db) as session:
            group = await group_buys.create(session, settings, actor, data)
            return await group_buys.view(session, settings, group)

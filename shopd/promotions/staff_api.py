"""The back office's flash sales: list, set up (managers), stop early (managers)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody, PathParameter
from sqlalchemy import select

from shopd.catalog.models import Sku
from shopd.db import utcnow
from shopd.http import DB, Conf
from shopd.promotions import flash
from shopd.promotions.models import FlashSale
from shopd.promotions.schemas import FlashSaleIn, FlashSaleStaffOut
from shopd.staff.api import ACTOR, GUARDS, StaffActor

SaleId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


def sale_state(sale: FlashSale) -> str:
    now = utcnow()
    if now < sale.starts_at:
        return "scheduled"
    if now >= sale.ends_at:
        return "ended"
    return "running" if sale.sold < sale.quantity else "sold_out"


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
        sale_state(sale),
    )


class StaffFlashSaleController(Controller):
    path = "/api/v1/staff/flash-sales"
    tags = ["staff promotions"]
    dependencies = ACTOR
    guards = GUARDS

    @get("/")
    async def list_sales(self, actor: StaffActor, db: DB) -> list[FlashSaleStaffOut]:
        """Every sale, newest start first, with what it has sold."""
        actor.require("clerk")
        async with db.read() as session:
            rows = await session.execute(
                select(FlashSale, Sku.code)
                .join(Sku, Sku.id == FlashSale.sku_id)
                .order_by(FlashSale.starts_at.desc(), FlashSale.id.desc())
                .limit(500)
            )
            return [staff_out(sale, code) for sale, code in rows]

    @post("/", status_code=201)
    async def create(
        self, actor: StaffActor, data: JSONBody[FlashSaleIn], db: DB, settings: Conf
    ) -> FlashSaleStaffOut:
        """A SKU at ``sale_price`` from ``starts_at`` to ``ends_at`` (with offsets), for
        ``quantity`` units, ``per_customer_limit`` each; not under the price floor unless
        ``floor_exempt``; never overlapping another sale of the SKU."""
        async with db.write() as session:
            sale = await flash.create_sale(session, settings, actor, data)
            await session.commit()
            return staff_out(sale, data.sku)

    @post("/{sale_id:int}/end", status_code=200)
    async def end(self, actor: StaffActor, sale_id: SaleId, db: DB) -> FlashSaleStaffOut:
        async with db.write() as session:
            sale = await flash.end_sale(session, actor, sale_id)
            code = await session.scalar(select(Sku.code).where(Sku.id == sale.sku_id))
            await session.commit()
            return staff_out(sale, str(code))

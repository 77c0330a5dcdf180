"""Staff stock endpoints: levels, low stock, ledger, receipts, adjustments, stocktakes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import http
from shopd.db import Database
from shopd.http import DB, PageOf, write_then_read
from shopd.inventory import operations as ops
from shopd.inventory.models import Stocktake
from shopd.inventory.schemas import (
    AdjustIn,
    CountLineOut,
    CountsIn,
    LedgerOut,
    LevelOut,
    MovementOut,
    ReceiveIn,
    StockOut,
    StockPage,
    StocktakeOpenIn,
    StocktakeOut,
    ThresholdIn,
)
from shopd.staff.api import ACTOR, GUARDS, StaffActor
from shopd.unit_of_work import committing

SkuPath = Annotated[str, PathParameter(max_length=64)]
TakeId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


def stock_out(row: ops.StockRow) -> StockOut:
    return StockOut(
        sku=row.sku.code,
        product=row.product.name,
        product_slug=row.product.slug,
        attributes={str(k): str(v) for k, v in row.sku.attributes.items()},
        active=row.sku.active,
        on_hand=row.on_hand,
        reserved=row.reserved,
        available=row.available,
        threshold=row.threshold,
        low=row.low,
    )


async def stocktake_out(session: AsyncSession, take: Stocktake) -> StocktakeOut:
    return StocktakeOut(
        id=take.id,
        status=take.status,
        note=take.note,
        created_by=take.created_by,
        created_at=take.created_at,
        posted_by=take.posted_by,
        posted_at=take.posted_at,
        lines=[
            CountLineOut(r.code, r.counted, r.on_hand, r.difference)
            for r in await ops.review(session, take)
        ],
    )


async def _change(
    db: Database, take_id: int, change: Callable[[AsyncSession], Awaitable[object]]
) -> StocktakeOut:
    async def view(session: AsyncSession) -> StocktakeOut:
        return await stocktake_out(session, await ops.get_stocktake(session, take_id))

    return await write_then_read(db, change, view)


class StockController(Controller):
    path = "/api/v1/staff"
    tags = ["staff stock"]
    dependencies = ACTOR
    guards = GUARDS

    @get(
        "/stock",
        opt={"role": "clerk"},
        dependencies={"paging": http.paging(per_page=50, most=200, after="actor")},
    )
    async def levels(
        self,
        actor: StaffActor,
        db: DB,
        *,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        low: FromQuery[bool] = False,
        paging: PageOf,
    ) -> StockPage:
        """SKUs with on-hand, reserved, available and threshold; ``low=true`` for the
        low-stock list (available at or under the threshold), emptiest first."""
        actor.require("clerk")
        async with db.read() as session:
            rows, total = await ops.stock_list(
                session, q=q, low_only=low, page=paging.page, per_page=paging.per_page
            )
        return StockPage([stock_out(r) for r in rows], paging.page, paging.per_page, total)

    @get(
        "/stock/{sku:str}/ledger",
        opt={"role": "clerk"},
        dependencies={"paging": http.paging(per_page=50, most=200, after="actor")},
    )
    async def ledger(
        self,
        actor: StaffActor,
        sku: SkuPath,
        db: DB,
        paging: PageOf,
    ) -> LedgerOut:
        actor.require("clerk")
        async with db.read() as session:
            found, on_hand, rows, total, ledger_sum = await ops.history(
                session, sku, page=paging.page, per_page=paging.per_page
            )
        return LedgerOut(
            found.code,
            on_hand,
            ledger_sum,
            [
                MovementOut(m.created_at, m.delta, m.reason, m.actor, m.reference, m.on_hand_after)
                for m in rows
            ],
            paging.page,
            paging.per_page,
            total,
        )

    @post("/stock/{sku:str}/receipts", status_code=201, opt={"role": "clerk"})
    async def receive(
        self, actor: StaffActor, sku: SkuPath, data: JSONBody[ReceiveIn], db: DB
    ) -> LevelOut:
        """Goods delivered: adds to on-hand with a ``receipt`` ledger row."""
        async with committing(db) as session:
            on_hand = await ops.receive(
                session, actor, sku, data.quantity, reference=data.reference
            )
        return LevelOut(sku, on_hand)

    @post("/stock/{sku:str}/adjustments", status_code=201, opt={"role": "manager"})
    async def adjust(
        self, actor: StaffActor, sku: SkuPath, data: JSONBody[AdjustIn], db: DB
    ) -> LevelOut:
        """A manager's correction: ``damage``/``loss`` (negative), ``found`` (positive) or
        ``adjustment``."""
        async with committing(db) as session:
            on_hand = await ops.adjust(
                session, actor, sku, data.delta, reason=data.reason, note=data.note
            )
        return LevelOut(sku, on_hand)

    @put("/stock/{sku:str}/threshold", opt={"role": "manager"})
    async def threshold(
        self, actor: StaffActor, sku: SkuPath, data: JSONBody[ThresholdIn], db: DB
    ) -> ThresholdIn:
        async with committing(db) as session:
            value = await ops.set_threshold(session, actor, sku, data.threshold)
        return ThresholdIn(value)

    @get("/stocktakes", opt={"role": "clerk"})
    async def stocktakes(self, actor: StaffActor, db: DB) -> list[StocktakeOut]:
        actor.require("clerk")
        async with db.read() as session:
            return [
                await stocktake_out(session, await ops.get_stocktake(session, t.id))
                for t in await ops.list_stocktakes(session)
            ]

    @post("/stocktakes", status_code=201, opt={"role": "clerk"})
    async def open_stocktake(
        self, actor: StaffActor, data: JSONBody[StocktakeOpenIn], db: DB
    ) -> StocktakeOut:
        async with committing(db) as session:
            take = await ops.open_stocktake(session, actor, data.note)
            return await stocktake_out(session, take)

    @get("/stocktakes/{take_id:int}", opt={"role": "clerk"})
    async def stocktake(self, actor: StaffActor, take_id: TakeId, db: DB) -> StocktakeOut:
        """The counts against the books: each line's difference is what posting will write."""
        actor.require("clerk")
        async with db.read() as session:
            return await stocktake_out(session, await ops.get_stocktake(session, take_id))

    @put("/stocktakes/{take_id:int}/counts", opt={"role": "clerk"})
    async def counts(
        self, actor: StaffActor, take_id: TakeId, data: JSONBody[CountsIn], db: DB
    ) -> StocktakeOut:
        counted = {c.sku: c.counted for c in data.counts}
        return await _change(db, take_id, lambda s: ops.record_counts(s, actor, take_id, counted))

    @post("/stocktakes/{take_id:int}/post", status_code=200, opt={"role": "manager"})
    async def post_stocktake(self, actor: StaffActor, take_id: TakeId, db: DB) -> StocktakeOut:
        """Write the differences to the ledger (managers)."""
        return await _change(db, take_id, lambda s: ops.post_stocktake(s, actor, take_id))

    @post("/stocktakes/{take_id:int}/cancel", status_code=200, opt={"role": "clerk"})
    async def cancel_stocktake(self, actor: StaffActor, take_id: TakeId, db: DB) -> StocktakeOut:
        return await _change(db, take_id, lambda s: ops.cancel_stocktake(s, actor, take_id))

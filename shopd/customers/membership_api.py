"""Membership in the APIs: the shop's VIP ladder (managers set it), a customer's points and
level history (staff), and a customer's own standing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody, PathParameter

from shopd import http
from shopd.customers import membership
from shopd.customers.models import Customer
from shopd.errors import NotFound
from shopd.http import DB
from shopd.staff.api import ACTOR, GUARDS, StaffActor
from shopd.unit_of_work import committing
from shopd.validation import clean_text

CustomerId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


class LevelIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    min_spend: Annotated[int, msgspec.Meta(ge=0, le=10**12)]
    discount_percent: Annotated[int, msgspec.Meta(ge=0, le=90)]


class LevelOut(msgspec.Struct):
    name: str
    min_spend: int
    discount_percent: int


class LevelsIn(msgspec.Struct, forbid_unknown_fields=True):
    levels: Annotated[list[LevelIn], msgspec.Meta(max_length=membership.MAX_LEVELS)]


class PointsEntryOut(msgspec.Struct):
    at: dt.datetime
    reason: str
    delta: int
    balance_after: int
    order_number: str | None
    note: str


class LevelChangeOut(msgspec.Struct):
    at: dt.datetime
    from_level: str
    to_level: str
    lifetime_spend: int
    order_number: str | None


class StandingOut(msgspec.Struct):
    level: str
    discount_percent: int
    points: int
    lifetime_spend: int
    next_level: str | None
    next_level_at: int | None
    points_history: list[PointsEntryOut]
    level_history: list[LevelChangeOut]


class PointsAdjustIn(msgspec.Struct, forbid_unknown_fields=True):
    delta: Annotated[int, msgspec.Meta(ge=-(10**9), le=10**9)]
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


async def standing_out(session: Any, customer: Customer) -> StandingOut:
    s = await membership.standing(session, customer)
    points, levels = await membership.history(session, customer.id)
    return StandingOut(
        level=s.level,
        discount_percent=s.discount_percent,
        points=s.points,
        lifetime_spend=s.lifetime_spend,
        next_level=s.next_level,
        next_level_at=s.next_level_at,
        points_history=[
            PointsEntryOut(p.created_at, p.reason, p.delta, p.balance_after, p.order_number, p.note)
            for p in points
        ],
        level_history=[
            LevelChangeOut(c.created_at, c.from_level, c.to_level, c.lifetime_spend, c.order_number)
            for c in levels
        ],
    )


class StaffMembershipController(Controller):
    path = "/api/v1/staff"
    tags = ["staff customers"]
    dependencies = ACTOR
    guards = GUARDS

    @get("/membership/levels", opt={"role": "clerk"})
    async def levels(self, actor: StaffActor, db: DB) -> list[LevelOut]:
        actor.require("clerk")
        async with db.read() as session:
            return [
                LevelOut(lv.name, lv.min_spend, lv.discount_percent)
                for lv in await membership.levels(session)
            ]

    @put("/membership/levels", opt={"role": "manager"})
    async def set_levels(
        self, actor: StaffActor, data: JSONBody[LevelsIn], db: DB
    ) -> list[LevelOut]:
        """Replace the ladder: each level's lifetime-spend threshold and member discount;
        every customer is placed on the new ladder at once."""
        specs = [
            membership.LevelSpec(lv.name, lv.min_spend, lv.discount_percent) for lv in data.levels
        ]
        async with committing(db) as session:
            await membership.set_levels(session, actor, specs)
            return [
                LevelOut(lv.name, lv.min_spend, lv.discount_percent)
                for lv in await membership.levels(session)
            ]

    @get("/customers/{customer_id:int}/membership", opt={"role": "clerk"})
    async def customer_standing(
        self, actor: StaffActor, customer_id: CustomerId, db: DB
    ) -> StandingOut:
        actor.require("clerk")
        async with db.read() as session:
            customer = await session.get(Customer, customer_id)
            if customer is None:
                raise NotFound("no such customer", code="customer_not_found")
            return await standing_out(session, customer)

    @post("/customers/{customer_id:int}/points", status_code=200, opt={"role": "manager"})
    async def adjust_points(
        self, actor: StaffActor, customer_id: CustomerId, data: JSONBody[PointsAdjustIn], db: DB
    ) -> StandingOut:
        """A manager's correction of a customer's points, with the reason kept in the ledger."""
        note = clean_text(data.note, "note", max_length=200)
        async with committing(db) as session:
            customer = await membership.adjust_points(session, actor, customer_id, data.delta, note)
            return await standing_out(session, customer)


class MyMembershipController(Controller):
    path = "/api/v1/me/membership"
    tags = ["customers"]

    @get("/")
    async def mine(self, request: Request[Any, Any, Any], db: DB) -> StandingOut:
        """My level, member discount, points, what the next level needs, and the history."""
        me = await http.require_customer(request, db)
        async with db.read() as session:
            customer = await session.get(Customer, me.id)
            assert customer is not None
            return await standing_out(session, customer)

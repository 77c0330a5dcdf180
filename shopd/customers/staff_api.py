"""Staff customer endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import http
from shopd.customers import staff_service
from shopd.customers.models import Customer
from shopd.http import DB, PageOf
from shopd.staff.api import ACTOR, GUARDS, StaffActor
from shopd.unit_of_work import committing

CustomerId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


class StaffCustomerOut(msgspec.Struct):
    id: int
    email: str
    name: str
    phone: str | None
    active: bool
    flagged: bool
    flag_reason: str
    registered_at: dt.datetime


class CustomerPage(msgspec.Struct):
    items: list[StaffCustomerOut]
    page: int
    per_page: int
    total: int


class CustomerAddressOut(msgspec.Struct):
    recipient: str
    phone: str
    region: str
    city: str
    line1: str
    line2: str
    postcode: str
    country: str
    is_default: bool


class CustomerOrderOut(msgspec.Struct):
    number: str
    status: str
    placed_at: dt.datetime
    total: int
    currency: str


class CustomerNoteOut(msgspec.Struct):
    at: dt.datetime
    author: str
    body: str


class CustomerDetailOut(msgspec.Struct):
    customer: StaffCustomerOut
    addresses: list[CustomerAddressOut]
    orders: list[CustomerOrderOut]
    notes: list[CustomerNoteOut]


class CustomerNoteIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ActiveIn(msgspec.Struct, forbid_unknown_fields=True):
    active: bool


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    decision: Annotated[str, msgspec.Meta(max_length=16)]


def customer_out(c: Customer) -> StaffCustomerOut:
    return StaffCustomerOut(
        c.id, c.email, c.name, c.phone, c.active, c.flagged, c.flag_reason, c.created_at
    )


class StaffCustomerController(Controller):
    path = "/api/v1/staff/customers"
    tags = ["staff customers"]
    dependencies = ACTOR
    guards = GUARDS

    @get(
        "/",
        opt={"role": "clerk"},
        dependencies={"paging": http.paging(per_page=50, most=200, after="actor")},
    )
    async def customers(
        self,
        actor: StaffActor,
        db: DB,
        *,
        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
        flagged: FromQuery[bool | None] = None,
        paging: PageOf,
    ) -> CustomerPage:
        """Search by e-mail, name or phone; ``flagged=true`` is the review queue."""
        actor.require("clerk")
        async with db.read() as session:
            rows, total = await staff_service.search(
                session, q=q, flagged=flagged, page=paging.page, per_page=paging.per_page
            )
        return CustomerPage([customer_out(c) for c in rows], paging.page, paging.per_page, total)

    @get("/{customer_id:int}", opt={"role": "clerk"})
    async def customer(
        self, actor: StaffActor, customer_id: CustomerId, db: DB
    ) -> CustomerDetailOut:
        actor.require("clerk")
        async with db.read() as session:
            return await _detail(session, customer_id)

    @post("/{customer_id:int}/notes", status_code=201, opt={"role": "clerk"})
    async def note(
        self, actor: StaffActor, customer_id: CustomerId, data: JSONBody[CustomerNoteIn], db: DB
    ) -> CustomerDetailOut:
        async with committing(db) as session:
            await staff_service.add_note(session, actor, customer_id, data.body)
        async with db.read() as session:
            return await _detail(session, customer_id)

    @post("/{customer_id:int}/active", status_code=200, opt={"role": "manager"})
    async def active(
        self, actor: StaffActor, customer_id: CustomerId, data: JSONBody[ActiveIn], db: DB
    ) -> StaffCustomerOut:
        """Disable (managers): log-in is refused and open sessions end at once."""
        async with committing(db) as session:
            c = await staff_service.set_active(session, actor, customer_id, data.active)
        return customer_out(c)

    @post("/{customer_id:int}/review", status_code=200, opt={"role": "manager"})
    async def review(
        self, actor: StaffActor, customer_id: CustomerId, data: JSONBody[ReviewIn], db: DB
    ) -> StaffCustomerOut:
        """Decide on a flagged registration: ``approve`` or ``disable``."""
        async with committing(db) as session:
            c = await staff_service.review(session, actor, customer_id, data.decision)
        return customer_out(c)


async def _detail(session: AsyncSession, customer_id: int) -> CustomerDetailOut:
    c, addresses, orders, notes = await staff_service.details(session, customer_id)
    return CustomerDetailOut(
        customer_out(c),
        [
            CustomerAddressOut(
                a.recipient,
                a.phone,
                a.region,
                a.city,
                a.line1,
                a.line2,
                a.postcode,
                a.country,
                a.is_default,
            )
            for a in addresses
        ],
        [CustomerOrderOut(o.number, o.status, o.created_at, o.total, o.currency) for o in orders],
        [CustomerNoteOut(n.created_at, n.author, n.body) for n in notes],
    )

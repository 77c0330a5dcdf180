"""Customers as staff see them: search, details, notes, disabling, the review of flagged sign-ups."""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.customers.models import Address, Customer, CustomerNote, CustomerSession
from shopd.errors import InvalidInput, NotFound
from shopd.orders.models import Order
from shopd.staff.audit import Actor, record
from shopd.validation import clean_text, contains_pattern

DECISIONS = ("approve", "disable")


def _digits_of(column):  # type: ignore[no-untyped-def]
    return func.replace(func.replace(func.replace(column, " ", ""), "-", ""), "+", "")


async def search(
    session: AsyncSession,
    *,
    q: str | None = None,
    flagged: bool | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Customer], int]:
    query = select(Customer)
    if q:
        like = contains_pattern(q)
        matches = [
            Customer.email.like(like, escape="\\"),
            Customer.name.like(like, escape="\\"),
            Customer.phone.like(like, escape="\\"),
        ]
        # A phone is read out as digits and stored as typed ("+86 138-0013 8000"): compare
        # digits only, as the order search does.
        digits = "".join(ch for ch in q if ch.isdigit())
        if len(digits) >= 4:
            matches.append(_digits_of(Customer.phone).like(f"%{digits}%"))
        query = query.where(or_(*matches))
    if flagged is not None:
        query = query.where(Customer.flagged.is_(flagged))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(Customer.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return list(rows.scalars()), total


async def get(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("no such customer", code="customer_not_found")
    return customer


async def details(
    session: AsyncSession, customer_id: int
) -> tuple[Customer, list[Address], list[Order], list[CustomerNote]]:
    customer = await get(session, customer_id)
    addresses = list(
        (await session.execute(select(Address).where(Address.customer_id == customer_id))).scalars()
    )
    orders = list(
        (
            await session.execute(
                select(Order)
                .where(Order.customer_id == customer_id)
                .order_by(Order.id.desc())
                .limit(50)
            )
        ).scalars()
    )
    notes = list(
        (
            await session.execute(
                select(CustomerNote)
                .where(CustomerNote.customer_id == customer_id)
                .order_by(CustomerNote.id)
            )
        ).scalars()
    )
    return customer, addresses, orders, notes


async def add_note(session: AsyncSession, actor: Actor, customer_id: int, body: str) -> None:
    actor.require("clerk")
    await get(session, customer_id)
    body = clean_text(body, "note", max_length=2000)
    session.add(CustomerNote(customer_id=customer_id, author=actor.label, body=body))
    record(session, actor, "customer.note", "customer", customer_id, after={"note": body})
    await session.flush()


async def set_active(
    session: AsyncSession, actor: Actor, customer_id: int, active: bool
) -> Customer:
    """Disable (log-in refused, open sessions end at once) or enable an account."""
    actor.require("manager")
    customer = await get(session, customer_id)
    before = {"active": customer.active}
    customer.active = active
    if not active:
        await session.execute(
            delete(CustomerSession).where(CustomerSession.customer_id == customer_id)
        )
    record(
        session,
        actor,
        "customer.active",
        "customer",
        customer_id,
        before=before,
        after={"active": active},
    )
    await session.flush()
    return customer


async def review(session: AsyncSession, actor: Actor, customer_id: int, decision: str) -> Customer:
    """Clear a flagged registration (approve) or disable the account."""
    actor.require("manager")
    if decision not in DECISIONS:
        raise InvalidInput(
            "decision is approve or disable",
            code="invalid_decision",
            details={"allowed": list(DECISIONS)},
        )
    customer = await get(session, customer_id)
    before = {"flagged": customer.flagged, "active": customer.active}
    customer.flagged = False
    if decision == "disable":
        await set_active(session, actor, customer_id, False)
    record(
        session,
        actor,
        "customer.review",
        "customer",
        customer_id,
        before=before,
        after={"flagged": False, "active": customer.active, "decision": decision},
    )
    await session.flush()
    return customer

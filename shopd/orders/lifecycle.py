"""What staff do to orders along the state machine: pick, ship, deliver, cancel, note.

Which role and which state each action needs is stated once, in ``actions``; every service
here checks it before it writes. Every status change is one conditional UPDATE (``... WHERE
status = :from``) checked by row count, so two clerks acting on the same order at once cannot
both succeed, and an illegal change is refused before anything is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shopd.config import Settings
from shopd.customers import membership
from shopd.customers.service import AddressData
from shopd.db import utcnow
from shopd.errors import InvalidInput, InvalidTransition, NotFound
from shopd.inventory import service as inventory
from shopd.notifications import service as notify
from shopd.orders import actions, payments
from shopd.orders.models import Order, OrderNote, Refund
from shopd.orders.statuses import AWAITING_DISPATCH, STATUSES
from shopd.orders.statuses import TRANSITIONS as TRANSITIONS  # the state machine, read here
from shopd.orders.transitions import get_order, move
from shopd.promotions import coupons, group_buys
from shopd.staff.audit import SYSTEM, Actor, record
from shopd.validation import clean_text, escape_like, normalise_email, normalise_phone

LATE_AFTER = dt.timedelta(hours=24)
OVERDUE_AFTER = dt.timedelta(hours=48)
CARRIER_MAX = 64
TRACKING_MAX = 64


def dispatch_flag(order: Order, now: dt.datetime | None = None) -> str | None:
    """``late`` past 24 h ready and unshipped, ``overdue`` past 48 h, else None."""
    if order.ready_at is None or order.shipped_at is not None:
        return None
    if order.status not in AWAITING_DISPATCH:
        return None
    waited = (now or utcnow()) - order.ready_at
    if waited > OVERDUE_AFTER:
        return "overdue"
    if waited > LATE_AFTER:
        return "late"
    return None


async def start_picking(session: AsyncSession, actor: Actor, number: str) -> Order:
    actions.require_role(actor, "start_picking")
    order = await get_order(session, number)
    actions.check(order, actor, "start_picking")
    return await move(session, order, "picking", actor, action="order.start_picking")


async def mark_printed(session: AsyncSession, actor: Actor, number: str) -> Order:
    """The packing slip was printed: from now on the address on the parcel is fixed."""
    actions.require_role(actor, "print")
    order = await get_order(session, number)
    actions.check(order, actor, "print")
    if order.printed_at is None:
        order.printed_at = utcnow()
        record(session, actor, "order.print", "order", order.number, after={"printed": True})
        await session.flush()
    return order


async def ship(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    number: str,
    *,
    carrier: str,
    tracking_number: str,
    shipped_at: dt.datetime | None = None,
) -> Order:
    actions.require_role(actor, "ship")
    carrier = clean_text(carrier, "carrier", max_length=CARRIER_MAX)
    tracking = clean_text(tracking_number, "tracking_number", max_length=TRACKING_MAX)
    now = utcnow()
    when = shipped_at or now
    if when.tzinfo is None:
        raise InvalidInput("shipped_at needs a time zone", code="invalid_time")
    if when > now + dt.timedelta(minutes=5):
        raise InvalidInput("shipped_at cannot be in the future", code="invalid_time")
    order = await get_order(session, number)
    actions.check(order, actor, "ship")
    order = await move(
        session,
        order,
        "shipped",
        actor,
        values={
            "carrier": carrier,
            "tracking_number": tracking,
            "shipped_at": when.astimezone(dt.UTC),
            "printed_at": order.printed_at or now,
        },
        note=f"{carrier} {tracking}",
    )
    notify.enqueue(session, settings, order, "order_shipped")
    return order


async def deliver(session: AsyncSession, settings: Settings, actor: Actor, number: str) -> Order:
    actions.require_role(actor, "deliver")
    order = await get_order(session, number)
    actions.check(order, actor, "deliver")
    values: dict[str, object] = {"delivered_at": utcnow()}
    if order.payment_method == "cod" and order.paid_at is None and order.status == "shipped":
        # The courier collected the cash.
        await payments.record_cod_collected(session, order, actor)
        values["paid_at"] = utcnow()
    order = await move(session, order, "delivered", actor, values=values)
    if "paid_at" in values:
        await membership.order_paid(session, settings, order)
    return order


async def complete(session: AsyncSession, actor: Actor, number: str) -> Order:
    actions.require_role(actor, "complete")
    order = await get_order(session, number)
    actions.check(order, actor, "complete")
    return await move(session, order, "completed", actor)


async def cancel(
    session: AsyncSession, settings: Settings, actor: Actor, number: str, *, reason: str
) -> Order:
    """Cancel before shipping: the stock goes back, and a paid order gets a refund record."""
    actions.require_role(actor, "cancel")
    reason = clean_text(reason, "reason", max_length=500)
    order = await get_order(session, number)
    actions.check(order, actor, "cancel")
    order = await _cancel(session, settings, order, actor, reason)
    return order


async def _cancel(
    session: AsyncSession, settings: Settings, order: Order, actor: Actor, reason: str
) -> Order:
    order = await move(
        session, order, "cancelled", actor, note=reason, values={"cancelled_at": utcnow()}
    )
    for line in sorted(order.lines, key=lambda ln: ln.sku_id):
        await inventory.move_stock(
            session,
            line.sku_id,
            line.quantity,
            reason="cancel",
            actor=actor.label,
            reference=order.number,
            sku_code=line.sku_code,
        )
    if order.paid_at is None:
        # Nothing was paid: what the order took from campaigns and points goes back.
        await coupons.release(session, order.id)
        await membership.order_cancelled_unpaid(session, order)
        await group_buys.leave(session, order)
    else:
        owed = order.total - order.refunded_total
        if owed > 0:
            session.add(
                Refund(
                    order_id=order.id,
                    amount=owed,
                    currency=order.currency,
                    method=order.payment_method,
                    reason=f"order cancelled: {reason}",
                    status="pending",
                    created_by=actor.label,
                )
            )
    notify.enqueue(session, settings, order, "order_cancelled")
    await session.flush()
    return order


async def system_cancel(
    session: AsyncSession, settings: Settings, number: str, reason: str
) -> Order:
    """The shop itself cancels (a failed group buy, an unpaid order past its time)."""
    order = await get_order(session, number)
    return await _cancel(session, settings, order, SYSTEM, reason)


async def customer_cancel(
    session: AsyncSession, settings: Settings, customer_id: int, number: str
) -> Order:
    """A customer cancels their own order while it is still unpaid (paid orders need staff:
    the money has to go back)."""
    order = await get_order(session, number)
    if order.customer_id != customer_id:
        raise NotFound(f"no order {number!r}", code="order_not_found")
    if order.status != "pending_payment":
        raise InvalidTransition(
            "only an unpaid order can be cancelled here; contact us for this one",
            details={"from": order.status, "to": "cancelled"},
        )
    actor = Actor(username=str(customer_id), role="clerk", kind="customer")
    return await _cancel(session, settings, order, actor, "cancelled by the customer")


async def expire_unpaid(
    session: AsyncSession, settings: Settings, *, now: dt.datetime | None = None, limit: int = 100
) -> list[str]:
    """Cancel transfer and card orders left unpaid past the configured time; stock goes back."""
    cutoff = (now or utcnow()) - dt.timedelta(minutes=settings.unpaid_cancel_minutes)
    numbers = list(
        (
            await session.execute(
                select(Order.number)
                .where(
                    Order.status == "pending_payment",
                    Order.payment_method != "cod",
                    Order.created_at < cutoff,
                )
                .order_by(Order.id)
                .limit(limit)
            )
        ).scalars()
    )
    done = []
    for number in numbers:
        order = await get_order(session, number)
        try:
            await _cancel(
                session,
                settings,
                order,
                SYSTEM,
                f"not paid within {settings.unpaid_cancel_minutes} minutes",
            )
        except InvalidTransition:
            continue  # paid or cancelled by someone else a moment ago
        done.append(number)
    return done


async def add_note(session: AsyncSession, actor: Actor, number: str, body: str) -> OrderNote:
    actions.require_role(actor, "note")
    body = clean_text(body, "note", max_length=2000)
    order = await get_order(session, number)
    actions.check(order, actor, "note")
    note = OrderNote(order_id=order.id, author=actor.label, body=body)
    session.add(note)
    record(session, actor, "order.note", "order", order.number, after={"note": body})
    await session.flush()
    return note


@dataclass(slots=True)
class ContactChange:
    email: str | None = None
    phone: str | None = None
    address: AddressData | None = None


_SHIP_FIELDS = {
    "recipient": "ship_name",
    "phone": "ship_phone",
    "country": "ship_country",
    "region": "ship_region",
    "city": "ship_city",
    "line1": "ship_line1",
    "line2": "ship_line2",
    "postcode": "ship_postcode",
}


def contact_of(order: Order) -> dict[str, str]:
    return {"email": order.email, "phone": order.phone} | {
        key: getattr(order, column) for key, column in _SHIP_FIELDS.items()
    }


async def change_contact(
    session: AsyncSession, actor: Actor, number: str, change: ContactChange
) -> Order:
    """Address and contact changes, only until the packing slip is printed."""
    actions.require_role(actor, "edit_contact")
    order = await get_order(session, number, lock=True)
    actions.check(order, actor, "edit_contact")
    before = contact_of(order)
    if change.email is not None:
        order.email = normalise_email(change.email)
    if change.phone is not None:
        order.phone = normalise_phone(change.phone)
    if change.address is not None:
        cleaned = change.address.cleaned()
        for key, column in _SHIP_FIELDS.items():
            setattr(order, column, getattr(cleaned, key))
    after = contact_of(order)
    changed = {k: v for k, v in after.items() if before[k] != v}
    if not changed:
        return order
    record(
        session,
        actor,
        "order.contact",
        "order",
        order.number,
        before={k: before[k] for k in changed},
        after=changed,
    )
    await session.flush()
    return order


def _digits_of(column):  # type: ignore[no-untyped-def]
    # Phones are stored as typed ("+86 138-0013"); compare digits only.
    return func.replace(func.replace(func.replace(column, " ", ""), "-", ""), "+", "")


async def staff_list(
    session: AsyncSession,
    *,
    status: str | None = None,
    q: str | None = None,
    dispatch: str | None = None,
    page: int = 1,
    per_page: int = 50,
    now: dt.datetime | None = None,
) -> tuple[list[Order], int]:
    """Orders for the back office, newest first, paged on the server."""
    query = select(Order)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(
                "unknown status", code="invalid_filter", details={"allowed": list(STATUSES)}
            )
        query = query.where(Order.status == status)
    if dispatch:
        now = now or utcnow()
        query = query.where(
            Order.status.in_(AWAITING_DISPATCH),
            Order.ready_at.is_not(None),
            Order.shipped_at.is_(None),
        )
        if dispatch == "late":
            query = query.where(
                Order.ready_at < now - LATE_AFTER, Order.ready_at >= now - OVERDUE_AFTER
            )
        elif dispatch == "overdue":
            query = query.where(Order.ready_at < now - OVERDUE_AFTER)
        elif dispatch != "waiting":
            raise InvalidInput("dispatch is one of waiting, late, overdue", code="invalid_filter")
    if q:
        term = q.strip()
        digits = "".join(ch for ch in term if ch.isdigit())
        like = escape_like(term)
        conditions = [
            Order.number.like(f"{like.upper()}%", escape="\\"),
            Order.email.like(f"%{like}%", escape="\\"),
            Order.ship_name.like(f"%{like}%", escape="\\"),
        ]
        if len(digits) >= 4:
            conditions += [
                _digits_of(Order.phone).like(f"%{digits}%"),
                _digits_of(Order.ship_phone).like(f"%{digits}%"),
            ]
        query = query.where(or_(*conditions))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order_by = (
        [Order.ready_at.asc(), Order.id.asc()]
        if dispatch
        else [Order.created_at.desc(), Order.id.desc()]
    )
    rows = await session.execute(
        query.options(selectinload(Order.lines))
        .order_by(*order_by)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows.scalars()), total

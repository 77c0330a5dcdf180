"""How an order moves through its state machine (``shopd.orders.statuses.TRANSITIONS``): one
conditional update, an order event and an audit row. The lifecycle's actions, payments and
returns all find orders with :func:`get_order` and move them with :func:`move`."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shopd.db import utcnow
from shopd.errors import InvalidTransition, NotFound
from shopd.orders import actions
from shopd.orders.models import Order, OrderEvent
from shopd.staff.audit import Actor, record


def order_query():  # type: ignore[no-untyped-def]
    return select(Order).options(selectinload(Order.lines))


async def get_order(session: AsyncSession, number: str, *, lock: bool = False) -> Order:
    query = order_query().where(Order.number == number.strip().upper()[:32])
    if lock:
        query = query.with_for_update()
    order = await session.scalar(query)
    if order is None:
        raise NotFound(f"no order {number!r}", code="order_not_found")
    return order


async def move(
    session: AsyncSession,
    order: Order,
    to: str,
    actor: Actor,
    *,
    note: str = "",
    values: dict[str, object] | None = None,
    action: str | None = None,
) -> Order:
    """Change the order's status along a legal edge, with its event and audit rows."""
    src = order.status
    refused = actions.transition_refusal(order, to)
    if refused is not None:
        raise refused
    extra = dict(values or {})
    result = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == src)
        .values(status=to, updated_at=utcnow(), **extra)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        # Someone else changed it between our read and our write.
        raise InvalidTransition(
            "the order changed in the meantime; reload it and try again",
            details={"from": src, "to": to},
        )
    session.add(
        OrderEvent(order_id=order.id, from_status=src, status=to, actor=actor.label, note=note)
    )
    record(
        session,
        actor,
        action or f"order.{to}",
        "order",
        order.number,
        before={"status": src},
        after={"status": to, **extra} | ({"note": note} if note else {}),
    )
    await session.flush()
    await session.refresh(order)
    return order

"""Returns and refunds: full or partial (per line, per quantity), restock or write-off.

A return is requested (which units, why), received (each line restocked or written off), then
refunded by a manager; or rejected. An order never refunds more than was paid for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shopd.config import Settings
from shopd.customers import membership
from shopd.db import utcnow
from shopd.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from shopd.inventory import service as inventory
from shopd.notifications import service as notify
from shopd.orders import actions
from shopd.orders.models import Order, OrderLine, Refund, ReturnLine, ReturnRequest
from shopd.orders.transitions import get_order, move
from shopd.staff.audit import Actor, record
from shopd.validation import clean_text

DISPOSITIONS = ("restock", "writeoff")


@dataclass(frozen=True, slots=True)
class ReturnItem:
    sku: str
    quantity: int


async def open_return(session: AsyncSession, order: Order) -> ReturnRequest | None:
    return await session.scalar(
        select(ReturnRequest)
        .where(
            ReturnRequest.order_id == order.id, ReturnRequest.status.in_(("requested", "received"))
        )
        .options(selectinload(ReturnRequest.lines))
        .order_by(ReturnRequest.id.desc())
    )


async def returns_of(session: AsyncSession, order_id: int) -> list[ReturnRequest]:
    rows = await session.execute(
        select(ReturnRequest)
        .where(ReturnRequest.order_id == order_id)
        .options(selectinload(ReturnRequest.lines))
        .order_by(ReturnRequest.id)
    )
    return list(rows.scalars())


async def refunds_of(session: AsyncSession, order_id: int) -> list[Refund]:
    rows = await session.execute(
        select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)
    )
    return list(rows.scalars())


REFUND_STATUSES = ("pending", "completed")


async def refunds_by_status(
    session: AsyncSession, status: str, *, limit: int = 200
) -> list[tuple[Refund, str]]:
    """Refunds in one status with their order's number, oldest first: the pending ones are
    money the shop still owes, and the one owed longest comes first."""
    if status not in REFUND_STATUSES:
        raise InvalidInput(
            f"a refund's status is one of {', '.join(REFUND_STATUSES)}",
            code="invalid_status",
            details={"status": status},
        )
    rows = await session.execute(
        select(Refund, Order.number)
        .join(Order, Order.id == Refund.order_id)
        .where(Refund.status == status)
        .order_by(Refund.id)
        .limit(limit)
    )
    return [(r, n) for r, n in rows]


def _line_for(order: Order, sku: str) -> OrderLine:
    for line in order.lines:
        if line.sku_code == sku:
            return line
    raise InvalidInput(f"order {order.number} has no line {sku!r}", code="unknown_line")


async def request_return(
    session: AsyncSession,
    actor: Actor,
    number: str,
    items: list[ReturnItem] | None,
    *,
    reason: str,
) -> ReturnRequest:
    """Record what the customer sends back; ``items`` empty or None means everything left."""
    actions.require_role(actor, "request_return")
    reason = clean_text(reason, "reason", max_length=500)
    order = await get_order(session, number)
    actions.check(order, actor, "request_return")
    wanted: dict[int, int] = {}
    if items:
        for item in items:
            line = _line_for(order, item.sku)
            wanted[line.id] = wanted.get(line.id, 0) + item.quantity
    else:
        wanted = {ln.id: ln.quantity - ln.returned_quantity for ln in order.lines}
        wanted = {k: v for k, v in wanted.items() if v > 0}
    if not wanted or any(q <= 0 for q in wanted.values()):
        raise InvalidInput("return at least one unit of each line named", code="invalid_quantity")
    by_id = {ln.id: ln for ln in order.lines}
    for line_id, quantity in wanted.items():
        line = by_id[line_id]
        left = line.quantity - line.returned_quantity
        if quantity > left:
            raise InvalidInput(
                f"only {left} of {line.sku_code} can still be returned",
                code="invalid_quantity",
                details={"sku": line.sku_code, "returnable": left, "requested": quantity},
            )
    order = await move(session, order, "return_requested", actor, note=reason)
    ret = ReturnRequest(
        order_id=order.id, status="requested", reason=reason, created_by=actor.label
    )
    session.add(ret)
    await session.flush()
    for line_id, quantity in sorted(wanted.items()):
        # Conditional, so two concurrent requests cannot return the same unit twice.
        result = await session.execute(
            update(OrderLine)
            .where(
                OrderLine.id == line_id,
                OrderLine.quantity - OrderLine.returned_quantity >= quantity,
            )
            .values(returned_quantity=OrderLine.returned_quantity + quantity)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("the order changed in the meantime", code="invalid_transition")
        session.add(ReturnLine(return_id=ret.id, order_line_id=line_id, quantity=quantity))
    record(
        session,
        actor,
        "order.return_request",
        "order",
        order.number,
        after={"return": ret.id, "lines": {by_id[k].sku_code: v for k, v in wanted.items()}},
    )
    await session.flush()
    await session.refresh(ret, ["lines"])
    return ret


async def _current_return(session: AsyncSession, order: Order, status: str) -> ReturnRequest:
    ret = await open_return(session, order)
    if ret is None or ret.status != status:
        raise InvalidTransition(
            f"order {order.number} has no return that is {status}",
            details={"from": order.status},
        )
    return ret


async def receive_return(
    session: AsyncSession,
    actor: Actor,
    number: str,
    dispositions: dict[str, str],
    *,
    default: str = "restock",
) -> ReturnRequest:
    """The parcel came back: restocked units go back on the shelf (ledger rows), written-off
    units do not."""
    actions.require_role(actor, "receive_return")
    order = await get_order(session, number)
    actions.check(order, actor, "receive_return")
    ret = await _current_return(session, order, "requested")
    by_id = {ln.id: ln for ln in order.lines}
    known = {by_id[rl.order_line_id].sku_code for rl in ret.lines}
    for sku, how in {**dispositions, "": default}.items():
        if how not in DISPOSITIONS:
            raise InvalidInput(
                "each returned line is restocked or written off",
                code="invalid_disposition",
                details={"allowed": list(DISPOSITIONS)},
            )
        if sku and sku not in known:
            raise InvalidInput(f"the return has no line {sku!r}", code="unknown_line")
    await move(session, order, "returned", actor, action="order.return_receive")
    for rl in sorted(ret.lines, key=lambda r: by_id[r.order_line_id].sku_id):
        line = by_id[rl.order_line_id]
        rl.disposition = dispositions.get(line.sku_code, default)
        if rl.disposition == "restock":
            await inventory.move_stock(
                session,
                line.sku_id,
                rl.quantity,
                reason="return",
                actor=actor.label,
                reference=order.number,
                sku_code=line.sku_code,
            )
    ret.status, ret.received_at = "received", utcnow()
    record(
        session,
        actor,
        "order.return_dispositions",
        "order",
        order.number,
        after={by_id[rl.order_line_id].sku_code: rl.disposition for rl in ret.lines},
    )
    await session.flush()
    return ret


async def reject_return(session: AsyncSession, actor: Actor, number: str, *, reason: str) -> Order:
    actions.require_role(actor, "reject_return")
    reason = clean_text(reason, "reason", max_length=500)
    order = await get_order(session, number)
    actions.check(order, actor, "reject_return")
    ret = await _current_return(session, order, "requested")
    by_id = {ln.id: ln for ln in order.lines}
    for rl in ret.lines:
        by_id[rl.order_line_id].returned_quantity -= rl.quantity
    ret.status = "rejected"
    return await move(session, order, "completed", actor, note=reason, action="order.return_reject")


def returned_value(order: Order, ret: ReturnRequest) -> int:
    """What the returned units were charged: their share of each line's total, after the
    coupons and points spread onto it."""
    by_id = {ln.id: ln for ln in order.lines}

    def share(line: OrderLine, units: int) -> int:
        return line.line_total * units // line.quantity

    # Counted cumulatively, so the returns of one line add up to its total to the fen.
    total = 0
    for rl in ret.lines:
        line = by_id[rl.order_line_id]
        total += share(line, line.returned_quantity) - share(
            line, line.returned_quantity - rl.quantity
        )
    return total


async def refund(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    number: str,
    *,
    amount: int | None = None,
    reason: str,
) -> Refund:
    """Refund a received return: by default the value of the returned units; a manager may
    give a different amount (e.g. shipping too), never more than is left of what was paid."""
    actions.require_role(actor, "refund")
    reason = clean_text(reason, "reason", max_length=500)
    order = await get_order(session, number)
    actions.check(order, actor, "refund")
    ret = await _current_return(session, order, "received")
    refundable = order.total - order.refunded_total
    value = returned_value(order, ret) if amount is None else amount
    if not 0 < value <= refundable:
        raise InvalidInput(
            f"a refund is between 0.01 and the {refundable} still refundable",
            code="invalid_amount",
            details={"refundable": refundable, "requested": value},
        )
    before = order.refunded_total
    order = await move(
        session,
        order,
        "refunded",
        actor,
        note=reason,
        values={"refunded_total": order.refunded_total + value},
    )
    await membership.order_refunded(session, order, before, order.refunded_total)
    money_back = Refund(
        order_id=order.id,
        return_id=ret.id,
        amount=value,
        currency=order.currency,
        method=order.payment_method,
        reason=reason,
        status="completed",
        created_by=actor.label,
    )
    session.add(money_back)
    ret.status = "refunded"
    notify.enqueue(session, settings, order, "order_refunded", amount=value)
    await session.flush()
    return money_back


async def settle_refund(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    number: str,
    refund_id: int,
    *,
    gateway_refund: str | None = None,
) -> Refund:
    """A pending refund (a cancelled paid order, a late card payment) was paid out: by hand
    (a transfer, cash), or through the card gateway as ``gateway_refund``."""
    actions.require_role(actor, "settle_refund")
    order = await get_order(session, number)
    actions.check(order, actor, "settle_refund")
    row = await session.scalar(
        select(Refund).where(Refund.id == refund_id, Refund.order_id == order.id).with_for_update()
    )
    if row is None:
        raise NotFound("no such refund on this order", code="refund_not_found")
    if row.status != "pending":
        raise InvalidTransition("this refund is settled already", details={"from": row.status})
    row.status = "completed"
    before = order.refunded_total
    await session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(refunded_total=Order.refunded_total + row.amount)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(order)
    await membership.order_refunded(session, order, before, order.refunded_total)
    record(
        session,
        actor,
        "order.refund_settle",
        "order",
        order.number,
        before={"refund": row.id, "status": "pending"},
        after={"refund": row.id, "status": "completed", "amount": row.amount}
        | ({"gateway_refund": gateway_refund} if gateway_refund else {}),
    )
    notify.enqueue(session, settings, order, "order_refunded", amount=row.amount)
    await session.flush()
    return row

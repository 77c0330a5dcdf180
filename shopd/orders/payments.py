"""Payments: bank transfers confirmed by staff, card payments confirmed by the gateway's signed
webhook, cash collected on delivery. An order is paid only when the amount matches its total.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd import security
from shopd.config import Settings
from shopd.customers import membership
from shopd.db import Database, utcnow
from shopd.errors import Conflict, InvalidInput, NotFound
from shopd.notifications import service as notify
from shopd.orders import actions, gateway
from shopd.orders.models import GatewayEvent, Order, Payment, Refund
from shopd.orders.transitions import get_order, move
from shopd.promotions import group_buys
from shopd.staff.audit import GATEWAY, Actor, record
from shopd.unit_of_work import committing
from shopd.validation import clean_text


class AmountMismatch(Conflict):
    code = "amount_mismatch"


class WebhookEvent(msgspec.Struct):
    id: str
    type: str
    reference: str
    amount: int
    currency: str
    session: str = ""


def _payment_reference() -> str:
    return "PAY-" + security.new_token()[:24]


def _require_payable(order: Order, method: str, label: str) -> None:
    """Paid this way, and still waiting for the money."""
    refused = actions.payable_refusal(order, method, label)
    if refused is not None:
        raise refused


async def mark_paid(
    session: AsyncSession, settings: Settings, order: Order, actor: Actor, note: str = ""
) -> Order:
    now = utcnow()
    # A group-buy order is held: its dispatch clock starts when the group succeeds.
    held = await group_buys.is_held(session, order)
    order = await move(
        session,
        order,
        "paid",
        actor,
        note=note,
        values={"paid_at": now, "ready_at": None if held else now},
    )
    await membership.order_paid(session, settings, order)
    notify.enqueue(session, settings, order, "order_paid")
    return order


async def confirm_bank_transfer(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    number: str,
    *,
    amount: int,
    reference: str,
) -> Order:
    """Staff saw the transfer arrive. The amount must be the order's total to the fen."""
    actions.require_role(actor, "confirm_payment")
    reference = clean_text(reference, "reference", max_length=128)
    order = await get_order(session, number)
    actions.check(order, actor, "confirm_payment")
    if amount != order.total:
        raise AmountMismatch(
            "the amount received is not the order total",
            details={"expected": order.total, "received": amount, "currency": order.currency},
        )
    order = await mark_paid(session, settings, order, actor, note=f"bank transfer {reference}")
    session.add(
        Payment(
            order_id=order.id,
            method="bank_transfer",
            status="succeeded",
            amount=amount,
            currency=order.currency,
            reference=_payment_reference(),
            external_reference=reference,
            actor=actor.label,
            settled_at=order.paid_at,
        )
    )
    await session.flush()
    return order


async def record_cod_collected(session: AsyncSession, order: Order, actor: Actor) -> None:
    session.add(
        Payment(
            order_id=order.id,
            method="cod",
            status="succeeded",
            amount=order.total,
            currency=order.currency,
            reference=_payment_reference(),
            external_reference="collected on delivery",
            actor=actor.label,
            settled_at=utcnow(),
        )
    )


async def payments_of(session: AsyncSession, order_id: int) -> list[Payment]:
    rows = await session.execute(
        select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    )
    return list(rows.scalars())


async def begin_card_payment(session: AsyncSession, order: Order) -> tuple[Payment, bool]:
    """The payment row for a card order; returns it and whether it still needs a gateway
    session. Pressing "pay" twice reuses the open one."""
    _require_payable(order, "card", "card")
    open_payment = await session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id, Payment.status == "pending")
        .order_by(Payment.id.desc())
    )
    if open_payment is not None and open_payment.amount == order.total:
        return open_payment, open_payment.redirect_url is None
    payment = Payment(
        order_id=order.id,
        method="card",
        status="pending",
        amount=order.total,
        currency=order.currency,
        reference=_payment_reference(),
        actor=f"order:{order.number}",
    )
    session.add(payment)
    await session.flush()
    return payment, True


async def attach_gateway_session(
    session: AsyncSession, reference: str, gw: gateway.GatewaySession
) -> Payment:
    payment = await session.scalar(select(Payment).where(Payment.reference == reference))
    if payment is None:
        raise NotFound("no such payment", code="unknown_payment")
    payment.gateway_session, payment.redirect_url = gw.id, gw.url
    await session.flush()
    return payment


async def handle_webhook(
    session: AsyncSession, settings: Settings, body: bytes, signature: str | None
) -> str:
    """Apply one gateway event; returns ``processed`` or ``duplicate``. Raises (and changes
    nothing but the record of the event) on a bad signature, a bad body or a wrong amount."""
    gateway.verify(settings.payment_webhook_secret, body, signature)
    try:
        event = msgspec.json.decode(body, type=WebhookEvent)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"not a webhook event: {exc}", code="invalid_webhook") from None
    if not (0 < len(event.id) <= 128) or len(event.reference) > 64:
        raise InvalidInput("not a webhook event", code="invalid_webhook")
    if await session.get(GatewayEvent, event.id) is not None:
        return "duplicate"
    payment = await session.scalar(
        select(Payment).where(Payment.reference == event.reference).with_for_update()
    )
    if payment is None:
        raise NotFound("no payment with this reference", code="unknown_payment")
    outcome = await _apply(session, settings, payment, event)
    session.add(
        GatewayEvent(
            event_id=event.id, payment_reference=event.reference, kind=event.type, outcome=outcome
        )
    )
    await session.flush()
    return outcome


async def _apply(
    session: AsyncSession, settings: Settings, payment: Payment, event: WebhookEvent
) -> str:
    if payment.status != "pending":
        return f"ignored:{payment.status}"
    order = await session.get(Order, payment.order_id)
    assert order is not None
    if event.type == "payment.failed":
        payment.status = "failed"
        return "failed"
    if event.type != "payment.succeeded":
        return "ignored:type"
    if event.amount != payment.amount or event.currency.upper() != payment.currency:
        payment.status = "rejected"
        record(
            session,
            GATEWAY,
            "payment.amount_mismatch",
            "order",
            order.number,
            before={"amount": payment.amount, "currency": payment.currency},
            after={"amount": event.amount, "currency": event.currency},
        )
        return "amount_mismatch"
    payment.status, payment.settled_at = "succeeded", utcnow()
    payment.external_reference = event.session[:128]
    if order.status == "pending_payment":
        await mark_paid(session, settings, order, GATEWAY, note=f"card {payment.reference}")
    else:
        # The money came after the order was cancelled (e.g. it expired): it must go back.
        session.add(
            Refund(
                order_id=order.id,
                amount=payment.amount,
                currency=payment.currency,
                method="card",
                reason=f"payment arrived for an order that is {order.status}",
                status="pending",
                created_by=GATEWAY.label,
            )
        )
    return "processed"


async def card_checkout(
    db: Database,
    settings: Settings,
    find_order: Callable[[AsyncSession], Awaitable[Order]],
) -> Payment:
    """The payment with its gateway page for a card order. No transaction is held open while
    the gateway is called: the payment row is committed first, the session attached after."""
    if not settings.payment_gateway_url:
        raise gateway.GatewayUnavailable("card payments are not set up in this shop")
    async with committing(db) as session:
        order = await find_order(session)
        payment, needs_session = await begin_card_payment(session, order)
    if needs_session:
        public = settings.public_url.rstrip("/")
        client = gateway.GatewayClient(settings.payment_gateway_url, settings.payment_gateway_key)
        gw = await client.create_session(
            reference=payment.reference,
            amount=payment.amount,
            currency=payment.currency,
            return_url=f"{public}/payment/return?reference={payment.reference}",
            webhook_url=f"{public}/api/v1/payments/webhook",
            description=f"Order {order.number}",
        )
        async with committing(db) as session:
            payment = await attach_gateway_session(session, payment.reference, gw)
    return payment


async def pay_back_by_card(
    db: Database, settings: Settings, actor: Actor, number: str, refund_id: int
) -> str | None:
    """Before a pending card refund is settled: send the money back to the card through the
    gateway, and return the gateway's refund id (None when the refund is not a card's, or not
    pending, which settling then answers). No transaction is held open while the gateway is
    called; the refund's id is the gateway's idempotency key, so settling again after a failure
    never pays twice."""
    actions.require_role(actor, "settle_refund")
    async with db.read() as session:
        order = await get_order(session, number)
        actions.check(order, actor, "settle_refund")
        row = await session.scalar(
            select(Refund).where(Refund.id == refund_id, Refund.order_id == order.id)
        )
        if row is None or row.method != "card" or row.status != "pending":
            return None
        paid = await session.scalar(
            select(Payment)
            .where(
                Payment.order_id == order.id,
                Payment.method == "card",
                Payment.status == "succeeded",
                Payment.gateway_session.is_not(None),
            )
            .order_by(Payment.id.desc())
        )
    if paid is None or paid.gateway_session is None:
        raise Conflict(
            "this order has no card payment to refund to",
            code="no_card_payment",
            details={"refund": refund_id},
        )
    if not settings.payment_gateway_url:
        raise gateway.GatewayUnavailable("card payments are not set up in this shop")
    client = gateway.GatewayClient(settings.payment_gateway_url, settings.payment_gateway_key)
    return await client.refund(
        session=paid.gateway_session, amount=row.amount, reference=f"refund-{row.id}"
    )

"""What the customer is told, and when: the outbox rows written alongside order changes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shopd import security
from shopd.config import Settings
from shopd.formatting import format_money
from shopd.notifications.models import OutboxMessage
from shopd.orders.models import Order

KINDS = ("order_placed", "order_paid", "order_shipped", "order_refunded", "order_cancelled")


def order_url(settings: Settings, number: str) -> str:
    """The order's own page, which opens without logging in (``/orders/{number}?t=…``)."""
    token = security.order_token(settings.effective_secret_key(), number)
    return f"{settings.public_url.rstrip('/')}/orders/{number}?t={token}"


def render(
    settings: Settings, order: Order, kind: str, *, amount: int | None = None
) -> tuple[str, str]:
    """Subject and plain-text body, in Chinese and English like the rest of the shop."""
    shop = settings.shop_name
    link = order_url(settings, order.number)
    total = format_money(order.total, order.currency, code=True)
    if kind == "order_placed":
        subject = f"[{shop}] 订单已提交 Order {order.number} received"
        lines = [
            f"感谢您的订购！订单号 {order.number}，合计 {total}。",
            f"Thank you for your order {order.number}, total {total}.",
        ]
        if order.payment_method == "bank_transfer":
            lines.append(
                "请在订单备注中写上订单号完成转账。Please quote the order number with your transfer."
            )
    elif kind == "order_paid":
        subject = f"[{shop}] 已收到付款 Payment received for {order.number}"
        lines = [
            f"我们已收到订单 {order.number} 的付款 {total}，将在 24 小时内发货。",
            f"We received {total} for order {order.number}; it ships within 24 hours.",
        ]
    elif kind == "order_shipped":
        subject = f"[{shop}] 已发货 Order {order.number} shipped"
        lines = [
            f"订单 {order.number} 已由 {order.carrier} 发出，运单号 {order.tracking_number}。",
            f"Order {order.number} left with {order.carrier}, tracking number "
            f"{order.tracking_number}.",
        ]
    elif kind == "order_refunded":
        refunded = format_money(
            amount if amount is not None else order.refunded_total, order.currency, code=True
        )
        subject = f"[{shop}] 退款 Refund for {order.number}"
        lines = [
            f"订单 {order.number} 已退款 {refunded}。",
            f"We refunded {refunded} for order {order.number}.",
        ]
    elif kind == "order_cancelled":
        subject = f"[{shop}] 订单已取消 Order {order.number} cancelled"
        lines = [f"订单 {order.number} 已取消。", f"Order {order.number} was cancelled."]
    else:
        raise ValueError(f"unknown notification kind {kind!r}")
    lines += ["", f"{link}", f"{shop} · {settings.contact_email}"]
    return subject, "\n".join(lines) + "\n"


def enqueue(
    session: AsyncSession, settings: Settings, order: Order, kind: str, *, amount: int | None = None
) -> None:
    """Add the e-mail to the caller's transaction: it is sent only if the change commits."""
    subject, body = render(settings, order, kind, amount=amount)
    enqueue_mail(session, kind, order.email, subject, body, order_id=order.id)


def enqueue_mail(
    session: AsyncSession,
    kind: str,
    to: str,
    subject: str,
    body: str,
    *,
    order_id: int | None = None,
) -> None:
    session.add(OutboxMessage(kind=kind, order_id=order_id, to_addr=to, subject=subject, body=body))

"""What the customer is told, and when: the outbox rows written alongside order changes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from shopd import security, translations
from shopd.config import Settings
from shopd.formatting import format_money, format_number, shop_time
from shopd.notifications.models import OutboxMessage
from shopd.orders.models import Order

KINDS = ("order_placed", "order_paid", "order_shipped", "order_refunded", "order_cancelled")


def order_url(settings: Settings, number: str) -> str:
    """The order's own page, which opens without logging in (``/orders/{number}?t=…``)."""
    token = security.order_token(settings.effective_secret_key(), number)
    return f"{settings.public_url.rstrip('/')}/orders/{number}?t={token}"


def unpaid_deadline(settings: Settings, order: Order) -> dt.datetime:
    """When an unpaid order (transfer or card) is cancelled by the expiry job."""
    return order.created_at + dt.timedelta(minutes=settings.unpaid_cancel_minutes)


def render(
    settings: Settings,
    order: Order,
    kind: str,
    *,
    amount: int | None = None,
    bank_details: str = "",
) -> tuple[str, str]:
    """Subject and plain-text body in the language the order was placed in (else the shop's),
    amounts as money, times on the shop's clock with its zone."""
    language = translations.language_or(order.language, settings.language)
    _ = translations.translator(language)
    shop = settings.shop_name
    number = order.number
    link = order_url(settings, number)
    total = format_money(order.total, order.currency, language)
    if kind == "order_placed":
        subject = _("[{shop}] Order {number} received", shop=shop, number=number)
        lines = [
            _("Thank you for your order {number}, total {total}.", number=number, total=total),
            _("Placed: {when}", when=shop_time(order.created_at, settings.timezone, language)),
            _(
                "Payment method: {method}",
                method=translations.payment_method_name(order.payment_method, language),
            ),
        ]
        if order.payment_method == "bank_transfer":
            lines.append(_("Please quote the order number with your transfer."))
            if bank_details:
                lines += ["", _("Pay by bank transfer to:"), bank_details.strip(), ""]
            else:
                lines.append(
                    _("Write to {email} for the shop's bank details.", email=settings.contact_email)
                )
        if order.payment_method in ("bank_transfer", "card"):
            lines.append(
                _(
                    "An unpaid order is kept for {hours} hours, until {when}; after that it is"
                    " cancelled.",
                    hours=format_number(settings.unpaid_cancel_minutes / 60, language),
                    when=shop_time(unpaid_deadline(settings, order), settings.timezone, language),
                )
            )
    elif kind == "order_paid":
        subject = _("[{shop}] Payment received for {number}", shop=shop, number=number)
        lines = [
            _(
                "We received {total} for order {number}; it ships within 24 hours.",
                total=total,
                number=number,
            )
        ]
    elif kind == "order_shipped":
        subject = _("[{shop}] Order {number} shipped", shop=shop, number=number)
        lines = [
            _(
                "Order {number} left with {carrier}, tracking number {tracking}.",
                number=number,
                carrier=order.carrier,
                tracking=order.tracking_number,
            )
        ]
    elif kind == "order_refunded":
        refunded = format_money(
            amount if amount is not None else order.refunded_total, order.currency, language
        )
        subject = _("[{shop}] Refund for {number}", shop=shop, number=number)
        lines = [_("We refunded {amount} for order {number}.", amount=refunded, number=number)]
    elif kind == "order_cancelled":
        subject = _("[{shop}] Order {number} cancelled", shop=shop, number=number)
        lines = [_("Order {number} was cancelled.", number=number)]
    else:
        raise ValueError(f"unknown notification kind {kind!r}")
    lines += ["", _("Your order: {link}", link=link), f"{shop} · {settings.contact_email}"]
    return subject, "\n".join(lines) + "\n"


def enqueue(
    session: AsyncSession,
    settings: Settings,
    order: Order,
    kind: str,
    *,
    amount: int | None = None,
    bank_details: str = "",
) -> None:
    """Add the e-mail to the caller's transaction: it is sent only if the change commits."""
    subject, body = render(settings, order, kind, amount=amount, bank_details=bank_details)
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

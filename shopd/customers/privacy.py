"""A customer's own data: all of it to download, and erased on request.

Erasing keeps what the shop must keep for its accounts — each order with its lines, amounts,
dates and the region it went to — and removes or blanks everything that names or reaches the
person: the account's e-mail, name, phone and password, addresses, sessions, carts, staff notes,
the newsletter subscription, the recipient, phone and street of each order. Reviews and
guestbook messages stay, signed by nobody. While an order still needs its address (not yet
delivered, or a return under way) the account cannot be erased.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shopd import security
from shopd.cart.models import Cart, CartItem
from shopd.catalog.cache import version as catalog_version
from shopd.content.models import GuestbookEntry, Review, Subscriber
from shopd.customers.models import (
    Address,
    Customer,
    CustomerNote,
    CustomerSession,
    PasswordReset,
    PointsEntry,
)
from shopd.errors import Conflict, NotAuthenticated
from shopd.orders.models import Order

# Orders that still need the customer's address or contact.
STILL_NEEDED = ("pending_payment", "paid", "picking", "shipped", "return_requested", "returned")
ERASED_NAME = "(deleted)"


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def export(session: AsyncSession, customer: Customer) -> dict[str, Any]:
    addresses = await session.scalars(
        select(Address).where(Address.customer_id == customer.id).order_by(Address.id)
    )
    orders = await session.scalars(
        select(Order)
        .where(Order.customer_id == customer.id)
        .options(selectinload(Order.lines))
        .order_by(Order.id)
    )
    reviews = await session.scalars(
        select(Review).where(Review.customer_id == customer.id).order_by(Review.id)
    )
    messages = await session.scalars(
        select(GuestbookEntry)
        .where(GuestbookEntry.customer_id == customer.id)
        .order_by(GuestbookEntry.id)
    )
    points = await session.scalars(
        select(PointsEntry).where(PointsEntry.customer_id == customer.id).order_by(PointsEntry.id)
    )
    subscriber = await session.scalar(select(Subscriber).where(Subscriber.email == customer.email))
    return {
        "account": {
            "email": customer.email,
            "name": customer.name,
            "phone": customer.phone,
            "registered_at": _when(customer.created_at),
            "lifetime_spend": customer.lifetime_spend,
            "points": customer.points,
        },
        "addresses": [
            {
                "recipient": a.recipient,
                "phone": a.phone,
                "country": a.country,
                "region": a.region,
                "city": a.city,
                "line1": a.line1,
                "line2": a.line2,
                "postcode": a.postcode,
                "default": a.is_default,
            }
            for a in addresses
        ],
        "orders": [
            {
                "number": o.number,
                "placed_at": _when(o.created_at),
                "status": o.status,
                "total": o.total,
                "currency": o.currency,
                "email": o.email,
                "phone": o.phone,
                "ship_to": {
                    "name": o.ship_name,
                    "phone": o.ship_phone,
                    "country": o.ship_country,
                    "region": o.ship_region,
                    "city": o.ship_city,
                    "line1": o.ship_line1,
                    "line2": o.ship_line2,
                    "postcode": o.ship_postcode,
                },
                "note": o.note,
                "lines": [
                    {
                        "sku": ln.sku_code,
                        "product": ln.product_name,
                        "quantity": ln.quantity,
                        "unit_price": ln.unit_price,
                    }
                    for ln in o.lines
                ],
            }
            for o in orders
        ],
        "reviews": [
            {"product_id": r.product_id, "rating": r.rating, "body": r.body, "author": r.author}
            for r in reviews
        ],
        "guestbook": [{"topic": m.topic, "body": m.body, "author": m.author} for m in messages],
        "points": [
            {
                "delta": p.delta,
                "reason": p.reason,
                "order": p.order_number,
                "at": _when(p.created_at),
            }
            for p in points
        ],
        "newsletter": {"status": subscriber.status} if subscriber else None,
    }


async def erase(session: AsyncSession, customer: Customer, password: str) -> None:
    if not await security.verified(customer.password_hash, password):
        raise NotAuthenticated("the password is wrong", code="invalid_credentials")
    open_orders = list(
        await session.scalars(
            select(Order.number).where(
                Order.customer_id == customer.id, Order.status.in_(STILL_NEEDED)
            )
        )
    )
    if open_orders:
        raise Conflict(
            "these orders still need your address; ask again once they are delivered",
            code="orders_in_progress",
            details={"orders": open_orders},
        )
    placeholder = f"deleted-{customer.id}@deleted.invalid"
    await session.execute(delete(Subscriber).where(Subscriber.email == customer.email))
    carts = select(Cart.id).where(Cart.customer_id == customer.id)
    await session.execute(delete(CartItem).where(CartItem.cart_id.in_(carts)))
    for table in (Address, CustomerSession, PasswordReset, CustomerNote, Cart):
        await session.execute(delete(table).where(table.customer_id == customer.id))
    await session.execute(
        update(Order)
        .where(Order.customer_id == customer.id)
        .values(
            email=placeholder,
            phone="",
            ship_name=ERASED_NAME,
            ship_phone="",
            ship_line1="",
            ship_line2="",
            ship_postcode="",
            note="",
        )
    )
    erased = await session.execute(
        update(Review).where(Review.customer_id == customer.id).values(author=ERASED_NAME)
    )
    if erased.rowcount:  # type: ignore[attr-defined]
        await catalog_version.bump(session)  # product pages show the reviews' authors
    await session.execute(
        update(GuestbookEntry)
        .where(GuestbookEntry.customer_id == customer.id)
        .values(author=ERASED_NAME, customer_id=None)
    )
    customer.email = placeholder
    customer.name = ""
    customer.phone = None
    customer.registered_ip = ""
    customer.flag_reason = ""
    customer.password_hash = await security.hashed(security.new_token())
    customer.active = False
    await session.flush()

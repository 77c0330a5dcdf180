"""The price of checking out a cart now, for this buyer, with these coupons and points: the one
place where the database meets the pricing rules, used by the quote API, the checkout page
and checkout itself, so what a buyer is shown is what they are charged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shopd.cart import service as carts
from shopd.config import Settings
from shopd.customers.models import Customer
from shopd.errors import Conflict, InvalidInput
from shopd.promotions import coupons, pricing
from shopd.promotions.models import Coupon


@dataclass(slots=True)
class CartQuote:
    lines: list[carts.Line]
    quote: pricing.Quote
    coupons: list[Coupon]

    def receipt(self) -> list[dict[str, Any]]:
        """What made the price, as kept on the order and shown to the buyer."""
        out: list[dict[str, Any]] = []
        for line in self.lines:
            if line.priced_by != "none":
                saved = (line.regular_price - line.unit_price) * line.quantity
                out.append({"kind": line.priced_by, "code": line.sku.code, "amount": saved})
        out += [{"kind": a.kind, "code": a.code, "amount": a.amount} for a in self.quote.applied]
        return out


def price_lines(lines: list[carts.Line]) -> list[pricing.PriceLine]:
    return [
        pricing.PriceLine(
            sku=ln.sku.code,
            product_id=ln.product.id,
            category_id=ln.product.category_id,
            regular=ln.regular_price,
            unit=ln.unit_price,
            quantity=ln.quantity,
            exempt=ln.exempt,
        )
        for ln in lines
    ]


async def quote_cart(
    session: AsyncSession,
    settings: Settings,
    lines: list[carts.Line],
    *,
    codes: list[str],
    points: int,
    buyer: str,
    customer: Customer | None,
    now: dt.datetime,
) -> CartQuote:
    """Price ``lines`` (already at this buyer's unit prices) with coupons and points; refuses
    a coupon the buyer may not use, and points they do not have."""
    usable = await coupons.usable(session, codes, buyer, now)
    if points:
        if customer is None:
            raise InvalidInput("log in to spend points", code="points_need_account")
        if points > customer.points:
            raise Conflict(
                f"you have {max(customer.points, 0)} points",
                code="insufficient_points",
                details={"balance": customer.points, "requested": points},
            )
    quote = pricing.quote(
        price_lines(lines),
        floor_percent=settings.price_floor_percent,
        shipping_fee=lambda goods: carts.shipping_fee(
            goods, settings.shipping_fee, settings.free_shipping_over
        ),
        offers=[coupons.offer_of(c) for c in usable],
        points=points,
    )
    return CartQuote(lines, quote, usable)

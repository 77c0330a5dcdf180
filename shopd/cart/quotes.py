"""The price of checking out a cart now, for this buyer, with these coupons and points: the one
place where the database meets the pricing rules, used by the quote API, the checkout page
and checkout itself, so what a buyer is shown is what they are charged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shopd.cart import service as carts
from shopd.cart.models import Cart
from shopd.config import Settings
from shopd.customers.models import Customer
from shopd.db import utcnow
from shopd.errors import Conflict, InvalidInput
from shopd.promotions import coupons, flash, group_buys, pricing
from shopd.promotions.models import Coupon, GroupBuy


@dataclass(slots=True)
class CartQuote:
    lines: list[carts.Line]
    quote: pricing.Quote
    coupons: list[Coupon]
    group: GroupBuy | None = None

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


async def price_cart(
    session: AsyncSession,
    settings: Settings,
    cart: Cart | None,
    customer: Customer | None,
    *,
    buyer: str,
    codes: list[str],
    points: int,
    group_id: int | None,
    payment_method: str,
    now: dt.datetime,
) -> CartQuote:
    """The cart at this buyer's prices now (joining ``group_id`` when given), with coupons and
    points; refuses what checkout refuses: an empty cart, an item no longer for sale, a group
    order that breaks the group's rules, a coupon the buyer may not use, points they do not
    have."""
    group = await group_buys.joinable(session, group_id) if group_id else None
    lines = await carts.priced_lines(
        session, settings, cart, now, customer_id=customer.id if customer else None, group=group
    )
    if not lines:
        raise Conflict("the cart is empty", code="cart_empty")
    for line in lines:
        if not line.purchasable:
            raise Conflict(
                f"{line.sku.code} is no longer for sale; remove it from the cart",
                code="not_for_sale",
                details={"sku": line.sku.code},
            )
    if group is not None:
        group_buys.check_cart(group, lines, payment_method, codes)
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
    priced = price_lines(lines)

    def with_offers(chosen: list[Coupon]) -> pricing.Quote:
        return pricing.quote(
            priced,
            floor_percent=settings.price_floor_percent,
            shipping_fee=lambda goods: carts.shipping_fee(
                goods, settings.shipping_fee, settings.free_shipping_over
            ),
            offers=[coupons.offer_of(c) for c in chosen],
            points=points,
        )

    chosen = usable
    quote = with_offers(chosen)
    # A group buy has its own price and takes no coupon; otherwise the automatic promotion that
    # saves most is added to what was typed, where the stacking rules and its minimum spend let
    # it (a code the buyer typed is never dropped for one).
    if group is None:
        typed = {c.id for c in usable}
        for candidate in await coupons.automatic_now(session, buyer, now):
            if candidate.id in typed:
                continue
            try:
                better = with_offers([*usable, candidate])
            except Conflict:
                continue  # the cart does not qualify, or it does not stack with a typed code
            if better.total < quote.total:
                quote, chosen = better, [*usable, candidate]
    return CartQuote(lines, quote, chosen, group)


async def quote_for(
    session: AsyncSession,
    settings: Settings,
    owner: carts.CartOwner | None,
    customer: Customer | None,
    *,
    codes: list[str],
    points: int,
    group_id: int | None,
    payment_method: str = "bank_transfer",
) -> CartQuote:
    """What the owner's cart would cost now: the quote API and the checkout page."""
    cart = await carts.find_cart(session, owner) if owner else None
    # A guest's e-mail is known only at checkout; until then the cart stands for the buyer.
    buyer = flash.buyer_key(customer.id if customer else None, owner.scope if owner else "")
    return await price_cart(
        session,
        settings,
        cart,
        customer,
        buyer=buyer,
        codes=codes,
        points=points,
        group_id=group_id,
        payment_method=payment_method,
        now=utcnow(),
    )

"""Buyers' side of the campaigns: a group buy's progress, and the price of checking out now
with coupons and points."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, PathParameter

from shopd import http
from shopd.customers import membership
from shopd.http import DB, Conf
from shopd.promotions import group_buys, quotes
from shopd.promotions.schemas import AppliedOut, GroupBuyOut, QuoteIn, QuoteLineOut, QuoteOut

GroupId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


def quote_out(priced: quotes.CartQuote, currency: str, level: str, percent: int) -> QuoteOut:
    q = priced.quote
    return QuoteOut(
        items=[
            QuoteLineOut(
                sku=line.sku.code,
                quantity=line.quantity,
                regular_price=line.regular_price,
                unit_price=line.unit_price,
                discount=quoted.discount,
                line_total=quoted.total,
                priced_by=line.priced_by,
            )
            for line, quoted in zip(priced.lines, q.lines, strict=True)
        ],
        subtotal=q.subtotal,
        discount=q.discount,
        shipping_fee=q.shipping_fee,
        total=q.total,
        currency=currency,
        applied=[AppliedOut(a.kind, a.code, a.amount) for a in q.applied],
        points_used=q.points_used,
        member_level=level,
        member_discount_percent=percent,
    )


class PromotionController(Controller):
    path = "/api/v1"
    tags = ["promotions"]

    @get("/group-buys/{group_id:int}")
    async def group_buy(self, group_id: GroupId, db: DB, settings: Conf) -> GroupBuyOut:
        """A group buy's price, progress (joined, paid, needed) and state."""
        async with db.read() as session:
            return await group_buys.view(session, settings, await group_buys.get(session, group_id))

    @post("/cart/quote", status_code=200)
    async def quote(
        self, request: Request[Any, Any, Any], data: JSONBody[QuoteIn], db: DB, settings: Conf
    ) -> QuoteOut:
        """What checking out the cart now would charge with these coupons, points and (when
        joining one) group buy; refuses what checkout would refuse, with the same codes."""
        customer = await http.current_customer(request, db)
        owner = http.cart_owner(request, customer)
        async with db.read() as session:
            priced = await quotes.quote_for(
                session,
                settings,
                owner,
                customer,
                codes=data.coupons,
                points=data.points,
                group_id=data.group_buy,
            )
            level, percent = await membership.discount_of(
                session, customer.id if customer else None
            )
        return quote_out(priced, settings.currency, level, percent)

"""Buyers' side of the campaigns: a group buy's progress. (The price of checking out now with
coupons and points is the cart's: shopd.cart.api.CartQuoteController.)"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import PathParameter

from shopd.http import DB, Conf
from shopd.promotions import group_buys
from shopd.promotions.schemas import GroupBuyOut

GroupId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


class PromotionController(Controller):
    path = "/api/v1"
    tags = ["promotions"]

    @get("/group-buys/{group_id:int}")
    async def group_buy(self, group_id: GroupId, db: DB, settings: Conf) -> GroupBuyOut:
        """A group buy's price, progress (joined, paid, needed) and state."""
        async with db.read() as session:
            return await group_buys.view(session, settings, await group_buys.get(session, group_id))

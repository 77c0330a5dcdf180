"""Settling group buys, from the orders' side: promotions decides each due group
(shopd.promotions.group_buys.decide); here its members' orders follow. The paid orders of a
group that succeeded are released to dispatch; every other order of the group is cancelled,
as the shop cancels (the money owed back recorded as a refund, the buyer told by e-mail)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.config import Settings
from shopd.db import utcnow
from shopd.orders import lifecycle
from shopd.orders.models import Order
from shopd.promotions import group_buys
from shopd.promotions.models import GroupBuyMember


async def settle(
    session: AsyncSession, settings: Settings, *, now: dt.datetime | None = None
) -> list[tuple[int, str]]:
    """Decide every group whose deadline has passed, or which is full and fully paid, and
    carry the outcome to its orders. Returns (group id, outcome) pairs."""
    now = now or utcnow()
    done = []
    for group_id in await group_buys.due(session, now):
        decision = await group_buys.decide(session, group_id, now)
        if decision is None:
            continue
        group = decision.group
        members = (
            await session.execute(
                select(Order.id, Order.number, Order.paid_at)
                .join(GroupBuyMember, GroupBuyMember.order_id == Order.id)
                .where(GroupBuyMember.group_id == group.id, Order.status != "cancelled")
                .order_by(Order.id)
            )
        ).all()
        for order_id, number, paid_at in members:
            if decision.outcome == "succeeded" and paid_at is not None:
                # The 24/48-hour dispatch promise starts now that the goods can ship.
                await session.execute(
                    update(Order)
                    .where(Order.id == order_id)
                    .values(ready_at=now)
                    .execution_options(synchronize_session=False)
                )
                continue
            reason = (
                f"group buy {group.id} did not reach {group.min_buyers} paid buyers"
                if decision.outcome == "failed"
                else f"group buy {group.id} closed before this order was paid"
            )
            await lifecycle.system_cancel(session, settings, number, reason)
        group_buys.record_decision(session, decision, len(members))
        await session.flush()
        done.append((group.id, decision.outcome))
    return done

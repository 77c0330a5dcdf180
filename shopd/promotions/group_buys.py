"""Group buys: a SKU at a group price for everyone, once enough buyers have paid by the
deadline. Buyers join by checking out; their paid orders are held (not dispatched) until the
group is settled. Settling happens once, after the deadline (or as soon as a full group has
been paid for): a group with enough paid buyers succeeds and its orders go to dispatch; any
other group fails and every one of its orders is cancelled, with the money owed back recorded
as a refund and the buyer told by e-mail (the orders' side: shopd.orders.group_buy_settlement)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.models import Product, Sku
from shopd.config import Settings
from shopd.db import utcnow
from shopd.errors import Conflict, InvalidInput, NotFound
from shopd.orders.models import Order
from shopd.promotions import flash, pricing
from shopd.promotions.models import GroupBuy, GroupBuyMember
from shopd.promotions.schemas import GroupBuyIn, GroupBuyOut
from shopd.staff.audit import SYSTEM, Actor, record


class HasSku(Protocol):
    @property
    def sku(self) -> Sku: ...


def state_of(group: GroupBuy, now: dt.datetime) -> str:
    if group.status != "open":
        return group.status
    if now < group.starts_at:
        return "scheduled"
    if now >= group.ends_at:
        return "settling"  # the deadline passed; the next settling round decides
    if group.max_buyers is not None and group.joined >= group.max_buyers:
        return "full"
    return "open"


async def paid_members(session: AsyncSession, group_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(GroupBuyMember)
            .join(Order, Order.id == GroupBuyMember.order_id)
            .where(GroupBuyMember.group_id == group_id, Order.paid_at.is_not(None))
        )
        or 0
    )


async def view(session: AsyncSession, settings: Settings, group: GroupBuy) -> GroupBuyOut:
    sku, product = (
        await session.execute(
            select(Sku, Product)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id == group.sku_id)
        )
    ).one()
    regular = sku.effective_price(product)
    return GroupBuyOut(
        id=group.id,
        sku=sku.code,
        product=product.slug,
        title=group.title,
        group_price=unit_price(group, regular, settings),
        regular_price=regular,
        min_buyers=group.min_buyers,
        max_buyers=group.max_buyers,
        per_customer_limit=group.per_customer_limit,
        starts_at=group.starts_at,
        ends_at=group.ends_at,
        joined=group.joined,
        paid=await paid_members(session, group.id),
        state=state_of(group, utcnow()),
    )


def unit_price(group: GroupBuy, regular: int, settings: Settings) -> int:
    return pricing.campaign_price(
        group.group_price,
        regular,
        exempt=group.floor_exempt,
        floor_percent=settings.price_floor_percent,
    )


async def on_offer(
    session: AsyncSession, settings: Settings, sku_ids: list[int]
) -> list[GroupBuyOut]:
    """Groups of these SKUs a buyer can see now (joinable, or waiting to be settled), as the
    product page and the product API show them."""
    if not sku_ids:
        return []
    groups = await session.scalars(
        select(GroupBuy)
        .where(
            GroupBuy.sku_id.in_(sku_ids),
            GroupBuy.status == "open",
            GroupBuy.starts_at <= utcnow(),
        )
        .order_by(GroupBuy.ends_at)
    )
    return [await view(session, settings, g) for g in list(groups)]


async def get(session: AsyncSession, group_id: int) -> GroupBuy:
    group = await session.get(GroupBuy, group_id)
    if group is None:
        raise NotFound("no such group buy", code="group_buy_not_found")
    return group


async def joinable(session: AsyncSession, group_id: int) -> GroupBuy:
    group = await get(session, group_id)
    if state_of(group, utcnow()) != "open":
        raise Conflict(
            "this group buy is not open to join",
            code="group_buy_closed",
            details={"group_buy": group.id, "state": state_of(group, utcnow())},
        )
    return group


def check_cart(
    group: GroupBuy, lines: Sequence[HasSku], payment_method: str, coupons: list[str]
) -> None:
    """A group order holds the group's SKU alone, is paid in advance, and takes no coupon
    (the group price is the campaign)."""
    if len(lines) != 1 or lines[0].sku.id != group.sku_id:
        raise Conflict(
            "a group-buy order holds only the group's item; check the rest out separately",
            code="group_buy_cart",
            details={"group_buy": group.id},
        )
    if payment_method == "cod":
        raise InvalidInput(
            "a group buy is paid in advance (bank transfer or card)", code="group_buy_prepaid"
        )
    if coupons:
        raise Conflict("coupons cannot be used on a group buy", code="group_buy_no_coupons")


async def create(
    session: AsyncSession, settings: Settings, actor: Actor, spec: GroupBuyIn
) -> GroupBuy:
    actor.require("manager")
    sku, product = await flash.campaign_sku(session, spec.sku)
    starts, ends = spec.starts_at.astimezone(dt.UTC), spec.ends_at.astimezone(dt.UTC)
    if ends <= starts or ends <= utcnow() or ends - starts > flash.MAX_WINDOW:
        raise InvalidInput(
            "a group buy ends after it starts, in the future, within a year",
            code="invalid_window",
        )
    if spec.max_buyers is not None and spec.max_buyers < spec.min_buyers:
        raise InvalidInput("max_buyers cannot be below min_buyers", code="invalid_group_buy")
    flash.check_campaign_price(
        spec.group_price,
        sku.effective_price(product),
        exempt=spec.floor_exempt,
        settings=settings,
        what="group",
    )
    group = GroupBuy(
        sku_id=sku.id,
        title=spec.title,
        group_price=spec.group_price,
        min_buyers=spec.min_buyers,
        max_buyers=spec.max_buyers,
        per_customer_limit=spec.per_customer_limit,
        starts_at=starts,
        ends_at=ends,
        joined=0,
        floor_exempt=spec.floor_exempt,
        status="open",
        created_by=actor.label,
    )
    session.add(group)
    await session.flush()
    record(
        session,
        actor,
        "group_buy.create",
        "group_buy",
        group.id,
        after={
            "sku": sku.code,
            "group_price": spec.group_price,
            "min_buyers": spec.min_buyers,
            "max_buyers": spec.max_buyers,
            "ends_at": ends.isoformat(),
        },
    )
    return group


async def take_place(
    session: AsyncSession, group: GroupBuy, buyer: str, quantity: int, now: dt.datetime
) -> None:
    """Take a place in the group for a checkout, or refuse changing nothing. The conditional
    update guards the deadline and the size and serialises this group's joins.

    Call it before the order row is inserted: the order's foreign key to the group takes a
    shared lock on the group's row, and two checkouts each holding that shared lock and both
    wanting this update's exclusive one deadlock (MariaDB error 1213 under a rush)."""
    if quantity > group.per_customer_limit:
        raise Conflict(
            f"this group buy allows {group.per_customer_limit} per buyer",
            code="group_buy_limit",
            details={"limit": group.per_customer_limit},
        )
    taken = await session.execute(
        update(GroupBuy)
        .where(
            GroupBuy.id == group.id,
            GroupBuy.status == "open",
            GroupBuy.starts_at <= now,
            GroupBuy.ends_at > now,
            (GroupBuy.max_buyers.is_(None)) | (GroupBuy.joined < GroupBuy.max_buyers),
        )
        .values(joined=GroupBuy.joined + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "this group buy is closed: it is full or past its deadline",
            code="group_buy_closed",
            details={"group_buy": group.id},
        )
    # The group's row is locked from here on, so this look-up cannot race another join.
    already = await session.scalar(
        select(GroupBuyMember.id).where(
            GroupBuyMember.group_id == group.id, GroupBuyMember.buyer == buyer
        )
    )
    if already is not None:
        raise Conflict(
            "you have joined this group buy already",
            code="group_buy_joined",
            details={"group_buy": group.id},
        )


def add_member(session: AsyncSession, group: GroupBuy, buyer: str, order_id: int) -> None:
    """Record the order as the buyer's place, taken by ``take_place`` in this transaction."""
    session.add(GroupBuyMember(group_id=group.id, order_id=order_id, buyer=buyer))


async def leave(session: AsyncSession, order: Order) -> None:
    """An order of an open group was cancelled before payment: its place is free again."""
    if order.group_buy_id is None:
        return
    freed = await session.execute(
        update(GroupBuy)
        .where(GroupBuy.id == order.group_buy_id, GroupBuy.status == "open", GroupBuy.joined > 0)
        .values(joined=GroupBuy.joined - 1)
        .execution_options(synchronize_session=False)
    )
    if freed.rowcount:  # type: ignore[attr-defined]
        await session.execute(delete(GroupBuyMember).where(GroupBuyMember.order_id == order.id))


async def is_held(session: AsyncSession, order: Order) -> bool:
    """A group-buy order waits for its group before anything is dispatched."""
    if order.group_buy_id is None:
        return False
    status = await session.scalar(select(GroupBuy.status).where(GroupBuy.id == order.group_buy_id))
    return status != "succeeded"


@dataclass(slots=True)
class Decision:
    """A group decided by :func:`decide`: ``outcome`` is ``succeeded`` or ``failed``."""

    group: GroupBuy
    outcome: str
    paid: int


async def due(session: AsyncSession, now: dt.datetime) -> list[int]:
    """The open groups that have started, in id order: the ones a settling round looks at."""
    return list(
        await session.scalars(
            select(GroupBuy.id)
            .where(GroupBuy.status == "open", GroupBuy.starts_at <= now)
            .order_by(GroupBuy.id)
        )
    )


async def decide(session: AsyncSession, group_id: int, now: dt.datetime) -> Decision | None:
    """Decide one group under its row lock, once: after its deadline, or as soon as it is full
    and fully paid. None while it stays open. What happens to its members' orders is the
    orders area's business (shopd.orders.group_buy_settlement)."""
    group = await session.get(GroupBuy, group_id, with_for_update=True, populate_existing=True)
    if group is None or group.status != "open":
        return None
    paid = await paid_members(session, group.id)
    full_and_paid = group.max_buyers is not None and paid >= group.max_buyers
    if now < group.ends_at and not full_and_paid:
        return None
    outcome = "succeeded" if paid >= group.min_buyers else "failed"
    group.status = outcome
    group.settled_at = now
    await session.flush()
    return Decision(group, outcome, paid)


def record_decision(session: AsyncSession, decision: Decision, orders: int) -> None:
    group = decision.group
    record(
        session,
        SYSTEM,
        f"group_buy.{decision.outcome}",
        "group_buy",
        group.id,
        after={"paid": decision.paid, "min_buyers": group.min_buyers, "orders": orders},
    )

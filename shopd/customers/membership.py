"""Membership: VIP levels earned by spending, and points earned by paying and spent at checkout.

A customer's lifetime spend is what they paid less what was refunded; their level is the
highest whose threshold that reaches. Points are worth one minor unit each. Every change of
points is a ledger row with the balance after it, and every change of level a history row.
Balances change by conditional updates, never by reading and writing back in Python.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.cache import version as catalog_version
from shopd.config import Settings
from shopd.customers.models import Customer, LevelChange, MembershipLevel, PointsEntry
from shopd.errors import Conflict, InvalidInput, NotFound
from shopd.orders.models import Order
from shopd.staff.audit import Actor, record

BASE_LEVEL = "member"
MAX_LEVELS = 20


@dataclass(frozen=True, slots=True)
class LevelSpec:
    name: str
    min_spend: int
    discount_percent: int


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a customer stands: level, discount, points, and what the next level needs."""

    level: str
    discount_percent: int
    points: int
    lifetime_spend: int
    next_level: str | None
    next_level_at: int | None


async def levels(session: AsyncSession) -> list[MembershipLevel]:
    return list(await session.scalars(select(MembershipLevel).order_by(MembershipLevel.min_spend)))


def level_for(ladder: list[MembershipLevel], spend: int) -> MembershipLevel | None:
    reached = [lv for lv in ladder if lv.min_spend <= spend]
    return reached[-1] if reached else None


async def standing(session: AsyncSession, customer: Customer) -> Standing:
    ladder = await levels(session)
    current = level_for(ladder, customer.lifetime_spend)
    upcoming = next((lv for lv in ladder if lv.min_spend > customer.lifetime_spend), None)
    return Standing(
        level=current.name if current else BASE_LEVEL,
        discount_percent=current.discount_percent if current else 0,
        points=customer.points,
        lifetime_spend=customer.lifetime_spend,
        next_level=upcoming.name if upcoming else None,
        next_level_at=upcoming.min_spend if upcoming else None,
    )


async def discount_of(session: AsyncSession, customer_id: int | None) -> tuple[str, int]:
    """The level and member discount a customer has now, from their spend against the ladder
    as it stands (guests: none)."""
    if customer_id is None:
        return BASE_LEVEL, 0
    spend = await session.scalar(select(Customer.lifetime_spend).where(Customer.id == customer_id))
    level = level_for(await levels(session), spend or 0) if spend is not None else None
    return (level.name, level.discount_percent) if level else (BASE_LEVEL, 0)


async def _recorded_level(session: AsyncSession, customer_id: int) -> str:
    """The level last recorded for the customer (history compares against it)."""
    name = await session.scalar(
        select(MembershipLevel.name)
        .join(Customer, Customer.level_id == MembershipLevel.id)
        .where(Customer.id == customer_id)
    )
    return name or BASE_LEVEL


async def set_levels(session: AsyncSession, actor: Actor, specs: list[LevelSpec]) -> None:
    """Replace the ladder; every customer is placed on the new one (with a history row when
    their level changes)."""
    actor.require("manager")
    if len(specs) > MAX_LEVELS:
        raise InvalidInput(f"at most {MAX_LEVELS} levels", code="invalid_levels")
    names = [s.name.strip() for s in specs]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise InvalidInput("level names must be given and different", code="invalid_levels")
    if BASE_LEVEL in names:
        raise InvalidInput(f"{BASE_LEVEL!r} is the name of having no level", code="invalid_levels")
    ordered = sorted(specs, key=lambda s: s.min_spend)
    if len({s.min_spend for s in specs}) != len(specs) or any(
        a.discount_percent > b.discount_percent for a, b in itertools.pairwise(ordered)
    ):
        raise InvalidInput(
            "each level needs its own threshold, and a higher level never a smaller discount",
            code="invalid_levels",
        )
    before = [(lv.name, lv.min_spend, lv.discount_percent) for lv in await levels(session)]
    old_names = dict(
        (
            await session.execute(
                select(Customer.id, MembershipLevel.name).join(
                    MembershipLevel, MembershipLevel.id == Customer.level_id
                )
            )
        ).all()
    )
    await session.execute(update(Customer).values(level_id=None))
    await session.execute(delete(MembershipLevel))
    await catalog_version.bump(session)  # an emptied ladder adds no level for the flush to see
    await session.flush()
    for spec in ordered:
        session.add(
            MembershipLevel(
                name=spec.name.strip(),
                min_spend=spec.min_spend,
                discount_percent=spec.discount_percent,
            )
        )
    await session.flush()
    ladder = await levels(session)
    for customer in await session.scalars(select(Customer)):
        await _place(session, customer, ladder, old_names.get(customer.id, BASE_LEVEL), None)
    record(
        session,
        actor,
        "membership.levels",
        "membership",
        "levels",
        before={"levels": before},
        after={"levels": [(s.name, s.min_spend, s.discount_percent) for s in ordered]},
    )
    await session.flush()


async def _place(
    session: AsyncSession,
    customer: Customer,
    ladder: list[MembershipLevel],
    old_name: str,
    order_number: str | None,
) -> None:
    new = level_for(ladder, customer.lifetime_spend)
    new_name = new.name if new else BASE_LEVEL
    customer.level_id = new.id if new else None
    if new_name != old_name:
        session.add(
            LevelChange(
                customer_id=customer.id,
                from_level=old_name,
                to_level=new_name,
                lifetime_spend=customer.lifetime_spend,
                order_number=order_number,
            )
        )


async def _change_points(
    session: AsyncSession,
    customer_id: int,
    delta: int,
    reason: str,
    actor: str,
    *,
    order_number: str | None = None,
    note: str = "",
    spend: int = 0,
    covered: bool = False,
) -> None:
    """Add ``delta`` points (and ``spend`` to the lifetime spend), write the ledger row and
    move the customer to the level the new spend reaches. With ``covered`` the balance must
    cover a negative ``delta``, or nothing changes (``insufficient_points``)."""
    if delta == 0 and spend == 0:
        return
    changed = await session.execute(
        update(Customer)
        .where(Customer.id == customer_id, *([Customer.points + delta >= 0] if covered else []))
        .values(points=Customer.points + delta, lifetime_spend=Customer.lifetime_spend + spend)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("not enough points", code="insufficient_points")
    customer = await session.get(Customer, customer_id, populate_existing=True)
    assert customer is not None
    if delta:
        session.add(
            PointsEntry(
                customer_id=customer_id,
                reason=reason,
                delta=delta,
                balance_after=customer.points,
                order_number=order_number,
                note=note,
                actor=actor,
            )
        )
    if spend:
        old = await _recorded_level(session, customer_id)
        await _place(session, customer, await levels(session), old, order_number)
    await session.flush()


async def spend_points(
    session: AsyncSession, customer_id: int, points: int, order_number: str
) -> None:
    """Take ``points`` for an order, or refuse with nothing changed."""
    await _change_points(
        session,
        customer_id,
        -points,
        "spend",
        f"customer:{customer_id}",
        order_number=order_number,
        covered=True,
    )


def earned_for(settings: Settings, amount: int) -> int:
    return amount * settings.points_earn_percent // 100


async def order_paid(session: AsyncSession, settings: Settings, order: Order) -> None:
    """Points and spend for a paid order of a customer (guests earn nothing)."""
    if order.customer_id is None:
        return
    earned = earned_for(settings, order.total)
    await session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(points_earned=earned)
        .execution_options(synchronize_session=False)
    )
    order.points_earned = earned
    await _change_points(
        session,
        order.customer_id,
        earned,
        "earn",
        "shop",
        order_number=order.number,
        spend=order.total,
    )


async def order_refunded(session: AsyncSession, order: Order, before: int, after: int) -> None:
    """Money went back (``refunded_total`` from ``before`` to ``after``): the same share of the
    points the order earned is taken back, and of the points spent on it given back."""
    if order.customer_id is None or after <= before:
        return
    paid = order.total

    def share(points: int, refunded: int) -> int:
        return points if paid <= 0 else points * min(refunded, paid) // paid

    taken_back = share(order.points_earned, after) - share(order.points_earned, before)
    given_back = share(order.points_spent, after) - share(order.points_spent, before)
    refunded_spend = min(after, paid) - min(before, paid) if order.paid_at else 0
    if given_back:
        await _change_points(
            session,
            order.customer_id,
            given_back,
            "spend_returned",
            "shop",
            order_number=order.number,
        )
    await _change_points(
        session,
        order.customer_id,
        -taken_back,
        "earn_reversed",
        "shop",
        order_number=order.number,
        spend=-refunded_spend,
    )


async def order_cancelled_unpaid(session: AsyncSession, order: Order) -> None:
    """An order cancelled before payment gives back every point spent on it."""
    if order.customer_id is not None and order.points_spent:
        await _change_points(
            session,
            order.customer_id,
            order.points_spent,
            "spend_returned",
            "shop",
            order_number=order.number,
            note="order cancelled",
        )


async def adjust_points(
    session: AsyncSession, actor: Actor, customer_id: int, delta: int, note: str
) -> Customer:
    """A manager's correction (goodwill, a mistake), with the reason in the ledger."""
    actor.require("manager")
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("no such customer", code="customer_not_found")
    if delta == 0:
        raise InvalidInput("an adjustment changes the balance", code="invalid_quantity")
    await _change_points(session, customer_id, delta, "adjust", actor.label, note=note)
    record(
        session,
        actor,
        "customer.points",
        "customer",
        customer_id,
        after={"delta": delta, "note": note},
    )
    await session.flush()
    await session.refresh(customer)
    return customer


async def history(
    session: AsyncSession, customer_id: int, limit: int = 200
) -> tuple[list[PointsEntry], list[LevelChange]]:
    points = await session.scalars(
        select(PointsEntry)
        .where(PointsEntry.customer_id == customer_id)
        .order_by(PointsEntry.id.desc())
        .limit(limit)
    )
    changes = await session.scalars(
        select(LevelChange)
        .where(LevelChange.customer_id == customer_id)
        .order_by(LevelChange.id.desc())
        .limit(limit)
    )
    return list(points), list(changes)

"""Coupons: set up one code or a batch of generated codes; checked, and claimed inside the
checkout transaction with a conditional update, so a code's total and per-buyer caps hold
however many buyers use it at once. A coupon used by an order cancelled before payment is
given back."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.models import Category, Product
from shopd.db import utcnow
from shopd.errors import Conflict, InvalidInput, NotFound
from shopd.promotions import pricing
from shopd.promotions.models import Coupon, CouponRedemption
from shopd.promotions.schemas import CouponIn
from shopd.staff.audit import Actor, record

MAX_CODES_PER_ORDER = 5
# No 0/O or 1/I/L: codes get read aloud and typed from paper.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")
# A generated code is the prefix and 10 random characters, so it always matches _CODE.
_PREFIX = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,19}$")


def normalise_code(code: str) -> str:
    return code.strip().upper()


def offer_of(coupon: Coupon) -> pricing.Offer:
    return pricing.Offer(
        code=coupon.code,
        kind=coupon.kind,
        value=coupon.value,
        min_spend=coupon.min_spend,
        product_ids=frozenset(coupon.product_ids or ()),
        category_ids=frozenset(coupon.category_ids or ()),
        stackable=coupon.stackable,
        floor_exempt=coupon.floor_exempt,
    )


def _check_spec(spec: CouponIn) -> None:
    if spec.kind == "percent_off" and not 1 <= spec.value <= 90:
        raise InvalidInput("a percentage off is 1 to 90", code="invalid_coupon")
    if spec.kind == "amount_off" and spec.value < 1:
        raise InvalidInput("an amount off is at least 1", code="invalid_coupon")
    if spec.kind == "free_shipping" and spec.value != 0:
        raise InvalidInput("free shipping has no value", code="invalid_coupon")
    if spec.max_uses is not None and spec.max_uses < spec.per_customer_limit:
        raise InvalidInput("max_uses cannot be below per_customer_limit", code="invalid_coupon")
    if (spec.code is None) == (spec.count is None):
        raise InvalidInput(
            "give either a code, or a count of codes to generate", code="invalid_coupon"
        )
    if spec.automatic and spec.count is not None:
        raise InvalidInput("an automatic promotion is one code, not a batch", code="invalid_coupon")


async def _ids(
    session: AsyncSession, model: type[Product | Category], slugs: list[str]
) -> list[int]:
    if not slugs:
        return []
    found = dict(
        (await session.execute(select(model.slug, model.id).where(model.slug.in_(slugs)))).all()
    )
    unknown = sorted(set(slugs) - set(found))
    if unknown:
        what = "product" if model is Product else "category"
        raise NotFound(
            f"no {what} {unknown[0]!r}", code=f"{what}_not_found", details={"unknown": unknown}
        )
    return sorted(found.values())


def _generated(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(10))


async def create(session: AsyncSession, actor: Actor, spec: CouponIn) -> list[Coupon]:
    """One coupon with the given code, or ``count`` coupons with generated codes (one batch)."""
    actor.require("manager")
    _check_spec(spec)
    starts, ends = spec.starts_at.astimezone(dt.UTC), spec.ends_at.astimezone(dt.UTC)
    if ends <= starts or ends <= utcnow():
        raise InvalidInput("a coupon ends after it starts, in the future", code="invalid_window")
    product_ids = await _ids(session, Product, spec.products)
    category_ids = await _ids(session, Category, spec.categories)
    prefix = normalise_code(spec.prefix)
    if spec.code is not None:
        codes = [normalise_code(spec.code)]
        if not _CODE.match(codes[0]):
            raise InvalidInput(
                "a code is 3 to 40 letters, digits and dashes", code="invalid_coupon"
            )
        if await session.scalar(select(Coupon.id).where(Coupon.code == codes[0])):
            raise Conflict(f"coupon {codes[0]} exists already", code="coupon_exists")
    else:
        if prefix and not _PREFIX.match(prefix):
            raise InvalidInput("a prefix is letters, digits and dashes", code="invalid_coupon")
        wanted = spec.count or 0
        codes = list({_generated(prefix) for _ in range(wanted)})
        taken = set(await session.scalars(select(Coupon.code).where(Coupon.code.in_(codes))))
        codes = [c for c in codes if c not in taken]
        while len(codes) < wanted:  # 50 bits each: practically never runs
            code = _generated(prefix)
            if code not in codes and not await session.scalar(
                select(Coupon.id).where(Coupon.code == code)
            ):
                codes.append(code)
    batch = secrets.token_hex(6) if spec.count is not None else ""
    rows = [
        Coupon(
            code=code,
            title=spec.title,
            batch=batch,
            kind=spec.kind,
            value=spec.value,
            min_spend=spec.min_spend,
            starts_at=starts,
            ends_at=ends,
            max_uses=spec.max_uses,
            used=0,
            per_customer_limit=spec.per_customer_limit,
            product_ids=product_ids,
            category_ids=category_ids,
            stackable=spec.stackable,
            floor_exempt=spec.floor_exempt,
            automatic=spec.automatic,
            active=True,
            created_by=actor.label,
        )
        for code in codes
    ]
    session.add_all(rows)
    await session.flush()
    record(
        session,
        actor,
        "coupon.create",
        "coupon",
        batch or codes[0],
        after={
            "count": len(rows),
            "kind": spec.kind,
            "value": spec.value,
            "min_spend": spec.min_spend,
            "max_uses": spec.max_uses,
            "stackable": spec.stackable,
            "floor_exempt": spec.floor_exempt,
            "automatic": spec.automatic,
        },
    )
    return rows


async def disable(session: AsyncSession, actor: Actor, coupon_id: int) -> Coupon:
    actor.require("manager")
    coupon = await session.get(Coupon, coupon_id)
    if coupon is None:
        raise NotFound("no such coupon", code="coupon_not_found")
    if coupon.active:
        coupon.active = False
        record(session, actor, "coupon.disable", "coupon", coupon.code, after={"active": False})
        await session.flush()
    return coupon


async def usable(
    session: AsyncSession, codes: list[str], buyer: str, now: dt.datetime
) -> list[Coupon]:
    """The coupons behind ``codes`` if the buyer may use each of them now; otherwise the first
    reason why not, as a stable error code."""
    if len(codes) > MAX_CODES_PER_ORDER:
        raise InvalidInput(
            f"at most {MAX_CODES_PER_ORDER} coupons per order", code="too_many_coupons"
        )
    wanted = [normalise_code(c) for c in codes if c.strip()]
    if not wanted:
        return []
    found = {
        c.code: c for c in await session.scalars(select(Coupon).where(Coupon.code.in_(wanted)))
    }
    result = []
    for code in wanted:
        coupon = found.get(code)
        if coupon is None or not coupon.active:
            raise NotFound(
                f"coupon {code} does not exist or was withdrawn",
                code="coupon_not_found",
                details={"coupon": code},
            )
        if now < coupon.starts_at:
            raise Conflict(
                f"coupon {code} is valid from {coupon.starts_at.isoformat()}",
                code="coupon_not_started",
                details={"coupon": code, "starts_at": coupon.starts_at.isoformat()},
            )
        if now >= coupon.ends_at:
            raise Conflict(
                f"coupon {code} has expired",
                code="coupon_expired",
                details={"coupon": code, "ended_at": coupon.ends_at.isoformat()},
            )
        if coupon.max_uses is not None and coupon.used >= coupon.max_uses:
            raise _used_up(coupon)
        if await _uses_by(session, coupon.id, buyer) >= coupon.per_customer_limit:
            raise _limit(coupon)
        result.append(coupon)
    return result


async def automatic_now(session: AsyncSession, buyer: str, now: dt.datetime) -> list[Coupon]:
    """The automatic promotions this buyer could get now: running, not used up, within the
    buyer's limit. Whether the cart qualifies is the pricing's question."""
    running = await session.scalars(
        select(Coupon)
        .where(
            Coupon.automatic.is_(True),
            Coupon.active.is_(True),
            Coupon.starts_at <= now,
            Coupon.ends_at > now,
        )
        .order_by(Coupon.id)
    )
    found = []
    for coupon in running:
        if coupon.max_uses is not None and coupon.used >= coupon.max_uses:
            continue
        if await _uses_by(session, coupon.id, buyer) >= coupon.per_customer_limit:
            continue
        found.append(coupon)
    return found


async def _uses_by(session: AsyncSession, coupon_id: int, buyer: str, lock: bool = False) -> int:
    stmt = (
        select(func.count())
        .select_from(CouponRedemption)
        .where(
            CouponRedemption.coupon_id == coupon_id,
            CouponRedemption.buyer == buyer,
            CouponRedemption.released.is_(False),
        )
    )
    return int(await session.scalar(stmt.with_for_update() if lock else stmt) or 0)


def _used_up(coupon: Coupon) -> Conflict:
    return Conflict(
        f"coupon {coupon.code} has been used up",
        code="coupon_used_up",
        details={"coupon": coupon.code},
    )


def _limit(coupon: Coupon) -> Conflict:
    return Conflict(
        f"coupon {coupon.code} can be used {coupon.per_customer_limit} time(s) per customer",
        code="coupon_limit_reached",
        details={"coupon": coupon.code, "limit": coupon.per_customer_limit},
    )


async def claim(
    session: AsyncSession,
    coupon: Coupon,
    buyer: str,
    order_id: int,
    amount: int,
    now: dt.datetime,
) -> None:
    """One use of ``coupon`` for the order, or refuse: the conditional update guards the total
    cap and serialises this coupon's checkouts, so the buyer's count after it is exact."""
    taken = await session.execute(
        update(Coupon)
        .where(
            Coupon.id == coupon.id,
            Coupon.active.is_(True),
            Coupon.starts_at <= now,
            Coupon.ends_at > now,
            (Coupon.max_uses.is_(None)) | (Coupon.used < Coupon.max_uses),
        )
        .values(used=Coupon.used + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise _used_up(coupon)
    if await _uses_by(session, coupon.id, buyer, lock=True) >= coupon.per_customer_limit:
        raise _limit(coupon)
    session.add(
        CouponRedemption(coupon_id=coupon.id, order_id=order_id, buyer=buyer, amount=amount)
    )
    await session.flush()


async def release(session: AsyncSession, order_id: int) -> None:
    """Give back the coupons of an order cancelled before payment."""
    rows = list(
        await session.scalars(
            select(CouponRedemption)
            .where(CouponRedemption.order_id == order_id, CouponRedemption.released.is_(False))
            .order_by(CouponRedemption.coupon_id)
        )
    )
    for row in rows:
        row.released = True
        await session.execute(
            update(Coupon)
            .where(Coupon.id == row.coupon_id, Coupon.used > 0)
            .values(used=Coupon.used - 1)
            .execution_options(synchronize_session=False)
        )
    await session.flush()

"""Flash sales: the sale price applies exactly from the start second to the end second, decided
when a price is read; the sale quantity and each buyer's limit are claimed inside the checkout
transaction with conditional updates, so hundreds of buyers in the same second never get more
than the sale has."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.models import Product, Sku
from shopd.config import Settings
from shopd.db import utcnow
from shopd.errors import Conflict, InvalidInput, NotFound
from shopd.promotions import pricing
from shopd.promotions.models import FlashSale, FlashSaleBuyer
from shopd.promotions.schemas import FlashSaleIn
from shopd.staff.audit import Actor, record
from shopd.validation import limit_key

MAX_WINDOW = dt.timedelta(days=366)


def price_floor(regular: int, settings: Settings) -> int:
    """The least a line may be charged per unit: a share of the regular price, rounded up."""
    return pricing.floor_price(regular, settings.price_floor_percent)


def sale_unit_price(sale: FlashSale, regular: int, settings: Settings) -> int:
    return pricing.campaign_price(
        sale.sale_price,
        regular,
        exempt=sale.floor_exempt,
        floor_percent=settings.price_floor_percent,
    )


def best_price(
    regular: int, sale: FlashSale | None, member_percent: int, settings: Settings
) -> tuple[int, str]:
    """A running flash sale or the member price, whichever is lower (they never add up). A
    sold-out sale still decides when it is the lower, so its buyers hear it sold out rather
    than meet a higher price they did not see."""
    member = pricing.member_price(regular, member_percent, settings.price_floor_percent)
    if sale is not None:
        sale_price = sale_unit_price(sale, regular, settings)
        if sale_price <= member:
            return sale_price, "flash_sale"
    return member, "member" if member < regular else "none"


async def running_sales(
    session: AsyncSession, sku_ids: list[int], now: dt.datetime
) -> dict[int, FlashSale]:
    """The sale whose window is open now for each SKU that has one (sales of one SKU never
    overlap). A sold-out sale still counts until it ends: its buyers are told it sold out
    rather than charged the regular price they did not see."""
    if not sku_ids:
        return {}
    rows = await session.scalars(
        select(FlashSale).where(
            FlashSale.sku_id.in_(sku_ids),
            FlashSale.starts_at <= now,
            FlashSale.ends_at > now,
        )
    )
    return {sale.sku_id: sale for sale in rows}


def buyer_key(customer_id: int | None, email: str) -> str:
    return f"customer:{customer_id}" if customer_id is not None else f"email:{limit_key(email)}"


def refuse_early(sale: FlashSale, quantity: int) -> None:
    """Refuse what can be refused from the sale as read, before anything is written.

    Units sold never go back to a sale, so a sale read as sold out is sold out now: in a rush
    its late buyers are told so at once, without writing an order to roll back and without
    queueing for the sale's row behind the checkouts that took the last units."""
    if quantity > sale.per_customer_limit:
        raise _limit(sale)
    if sale.sold + quantity > sale.quantity:
        raise _sold_out(sale)


async def claim(
    session: AsyncSession, sale: FlashSale, buyer: str, quantity: int, now: dt.datetime
) -> None:
    """Take ``quantity`` sale units for ``buyer`` or refuse, changing nothing.

    The conditional update of the sale row is the guard against overselling; it also locks the
    row (MariaDB) or the database (SQLite), so the buyer's count below is read and written by
    one checkout of this sale at a time."""
    refuse_early(sale, quantity)
    taken = await session.execute(
        update(FlashSale)
        .where(
            FlashSale.id == sale.id,
            FlashSale.sold + quantity <= FlashSale.quantity,
            FlashSale.starts_at <= now,
            FlashSale.ends_at > now,
        )
        .values(sold=FlashSale.sold + quantity)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise _sold_out(sale)
    # A locking read: it sees rows other checkouts committed after this one began.
    bought = await session.scalar(
        select(FlashSaleBuyer.quantity)
        .where(FlashSaleBuyer.sale_id == sale.id, FlashSaleBuyer.buyer == buyer)
        .with_for_update()
    )
    if bought is None:
        session.add(FlashSaleBuyer(sale_id=sale.id, buyer=buyer, quantity=quantity))
    elif bought + quantity > sale.per_customer_limit:
        raise _limit(sale)
    else:
        await session.execute(
            update(FlashSaleBuyer)
            .where(FlashSaleBuyer.sale_id == sale.id, FlashSaleBuyer.buyer == buyer)
            .values(quantity=FlashSaleBuyer.quantity + quantity)
        )
    await session.flush()


def _sold_out(sale: FlashSale) -> Conflict:
    return Conflict(
        "the flash sale has sold out; the regular price applies again when the sale ends",
        code="sale_sold_out",
        details={"sale": sale.id},
    )


def _limit(sale: FlashSale) -> Conflict:
    return Conflict(
        f"this flash sale allows {sale.per_customer_limit} per customer",
        code="sale_limit_reached",
        details={"sale": sale.id, "limit": sale.per_customer_limit},
    )


async def campaign_sku(session: AsyncSession, code: str) -> tuple[Sku, Product]:
    """The SKU a campaign (flash sale, group buy) is set up for, with its product."""
    row = (
        await session.execute(
            select(Sku, Product).join(Product, Product.id == Sku.product_id).where(Sku.code == code)
        )
    ).first()
    if row is None:
        raise NotFound(f"no SKU {code!r}", code="sku_not_found")
    return row[0], row[1]


def check_campaign_price(
    price: int, regular: int, *, exempt: bool, settings: Settings, what: str
) -> None:
    """A campaign price is below the regular price and not under the floor unless the shop
    marks the campaign exempt."""
    if price >= regular:
        raise InvalidInput(
            f"the {what} price must be below the regular price",
            code=f"invalid_{what}_price",
            details={"regular_price": regular},
        )
    floor = price_floor(regular, settings)
    if price < floor and not exempt:
        raise InvalidInput(
            f"the {what} price is under the shop's floor of {settings.price_floor_percent}% "
            "of the regular price; mark it floor-exempt to allow it",
            code="below_price_floor",
            details={"floor": floor, "regular_price": regular},
        )


async def create_sale(
    session: AsyncSession, settings: Settings, actor: Actor, spec: FlashSaleIn
) -> FlashSale:
    actor.require("manager")
    sku, product = await campaign_sku(session, spec.sku)
    starts, ends = spec.starts_at.astimezone(dt.UTC), spec.ends_at.astimezone(dt.UTC)
    if ends <= starts or ends - starts > MAX_WINDOW:
        raise InvalidInput("a sale ends after it starts, within a year", code="invalid_sale_window")
    if ends <= utcnow():
        raise InvalidInput("this sale would be over already", code="invalid_sale_window")
    check_campaign_price(
        spec.sale_price,
        sku.effective_price(product),
        exempt=spec.floor_exempt,
        settings=settings,
        what="sale",
    )
    overlapping = await session.scalar(
        select(FlashSale.id).where(
            FlashSale.sku_id == sku.id, FlashSale.starts_at < ends, FlashSale.ends_at > starts
        )
    )
    if overlapping is not None:
        raise Conflict(
            "this SKU already has a sale in that time",
            code="sale_overlaps",
            details={"sale": overlapping},
        )
    sale = FlashSale(
        sku_id=sku.id,
        sale_price=spec.sale_price,
        starts_at=starts,
        ends_at=ends,
        quantity=spec.quantity,
        per_customer_limit=spec.per_customer_limit,
        floor_exempt=spec.floor_exempt,
        title=spec.title,
        created_by=actor.label,
    )
    session.add(sale)
    await session.flush()
    record(
        session,
        actor,
        "flash_sale.create",
        "flash_sale",
        sale.id,
        after={
            "sku": sku.code,
            "sale_price": spec.sale_price,
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
            "quantity": spec.quantity,
            "per_customer_limit": spec.per_customer_limit,
            "floor_exempt": spec.floor_exempt,
        },
    )
    return sale


async def end_sale(session: AsyncSession, actor: Actor, sale_id: int) -> FlashSale:
    """Stop a sale now (it keeps what it sold)."""
    actor.require("manager")
    sale = await session.get(FlashSale, sale_id, with_for_update=True)
    if sale is None:
        raise NotFound("no such flash sale", code="sale_not_found")
    now = utcnow()
    if sale.ends_at <= now:
        raise Conflict("this sale is over already", code="sale_over")
    before = {"starts_at": sale.starts_at.isoformat(), "ends_at": sale.ends_at.isoformat()}
    if now < sale.starts_at:
        # Called off before it began: an empty window that is already past.
        sale.starts_at = now - dt.timedelta(seconds=1)
    sale.ends_at = now
    record(
        session,
        actor,
        "flash_sale.end",
        "flash_sale",
        sale.id,
        before=before,
        after={"starts_at": sale.starts_at.isoformat(), "ends_at": sale.ends_at.isoformat()},
    )
    await session.flush()
    return sale

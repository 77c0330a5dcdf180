"""What staff do to stock: receive deliveries, adjust with a reason, set thresholds, count.

Every change goes through ``move_stock`` (a conditional UPDATE plus a ledger row), so the
ledger of a SKU always sums to its on-hand level.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.models import Product, Sku
from shopd.db import utcnow
from shopd.errors import InvalidInput, InvalidTransition, NotFound
from shopd.inventory.models import StockLevel, StockMovement, Stocktake, StocktakeLine
from shopd.inventory.service import move_stock
from shopd.staff.audit import Actor, record
from shopd.validation import clean_text, contains_pattern

ADJUST_REASONS = ("damage", "loss", "found", "adjustment")
MAX_UNITS = 1_000_000


@dataclass(slots=True)
class StockRow:
    sku: Sku
    product: Product
    on_hand: int
    reserved: int
    threshold: int

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)

    @property
    def low(self) -> bool:
        return self.available <= self.threshold


async def sku_by_code(session: AsyncSession, code: str) -> Sku:
    sku = await session.scalar(select(Sku).where(Sku.code == code[:64]))
    if sku is None:
        raise NotFound(f"no SKU {code!r}", code="unknown_sku")
    return sku


def _units(quantity: int, field: str = "quantity") -> int:
    if not 0 < quantity <= MAX_UNITS:
        raise InvalidInput(
            f"{field} must be between 1 and {MAX_UNITS}",
            code="invalid_quantity",
            details={"field": field},
        )
    return quantity


async def receive(
    session: AsyncSession, actor: Actor, code: str, quantity: int, *, reference: str = ""
) -> int:
    """Goods delivered by a supplier (the reference is the delivery note or purchase order)."""
    actor.require("clerk")
    _units(quantity)
    reference = clean_text(reference, "reference", max_length=64, required=False)
    sku = await sku_by_code(session, code)
    after = await move_stock(
        session,
        sku.id,
        quantity,
        reason="receipt",
        actor=actor.label,
        reference=reference or None,
        sku_code=sku.code,
    )
    record(
        session,
        actor,
        "stock.receive",
        "sku",
        sku.code,
        before={"on_hand": after - quantity},
        after={"on_hand": after, "reference": reference},
    )
    return after


async def adjust(
    session: AsyncSession, actor: Actor, code: str, delta: int, *, reason: str, note: str = ""
) -> int:
    """Damage, loss or found goods: a manager's correction with its reason."""
    actor.require("manager")
    if reason not in ADJUST_REASONS:
        raise InvalidInput(
            f"reason is one of {', '.join(ADJUST_REASONS)}",
            code="invalid_reason",
            details={"allowed": list(ADJUST_REASONS)},
        )
    if delta == 0 or abs(delta) > MAX_UNITS:
        raise InvalidInput(
            f"delta must be non-zero and at most {MAX_UNITS} either way", code="invalid_quantity"
        )
    if reason in ("damage", "loss") and delta > 0:
        raise InvalidInput(f"{reason} can only take stock away", code="invalid_quantity")
    if reason == "found" and delta < 0:
        raise InvalidInput("found stock can only be added", code="invalid_quantity")
    note = clean_text(note, "note", max_length=64, required=False)
    sku = await sku_by_code(session, code)
    after = await move_stock(
        session,
        sku.id,
        delta,
        reason=reason,
        actor=actor.label,
        reference=note or None,
        sku_code=sku.code,
        respect_reserved=False,
    )
    record(
        session,
        actor,
        "stock.adjust",
        "sku",
        sku.code,
        before={"on_hand": after - delta},
        after={"on_hand": after, "reason": reason, "note": note},
    )
    return after


async def set_threshold(session: AsyncSession, actor: Actor, code: str, threshold: int) -> int:
    actor.require("manager")
    if not 0 <= threshold <= MAX_UNITS:
        raise InvalidInput("threshold must be between 0 and 1000000", code="invalid_quantity")
    sku = await sku_by_code(session, code)
    level = await session.get(StockLevel, sku.id)
    if level is None:
        raise NotFound("no stock record for this SKU", code="unknown_sku")
    before = level.low_stock_threshold
    level.low_stock_threshold = threshold
    record(
        session,
        actor,
        "stock.threshold",
        "sku",
        sku.code,
        before={"threshold": before},
        after={"threshold": threshold},
    )
    await session.flush()
    return threshold


async def stock_list(
    session: AsyncSession,
    *,
    q: str | None = None,
    low_only: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[StockRow], int]:
    query = (
        select(Sku, Product, StockLevel)
        .join(Product, Product.id == Sku.product_id)
        .join(StockLevel, StockLevel.sku_id == Sku.id)
    )
    if q:
        like = contains_pattern(q)
        query = query.where(
            func.lower(Sku.code).like(like, escape="\\")
            | Product.search_text.like(like, escape="\\")
        )
    if low_only:
        query = query.where(
            StockLevel.on_hand - StockLevel.reserved <= StockLevel.low_stock_threshold,
            Sku.active.is_(True),
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = [(StockLevel.on_hand - StockLevel.reserved).asc(), Sku.code] if low_only else [Sku.code]
    rows = await session.execute(
        query.order_by(*order).limit(per_page).offset((page - 1) * per_page)
    )
    return [
        StockRow(sku, product, level.on_hand, level.reserved, level.low_stock_threshold)
        for sku, product, level in rows.all()
    ], total


async def history(
    session: AsyncSession, code: str, *, page: int = 1, per_page: int = 50
) -> tuple[Sku, int, list[StockMovement], int, int]:
    """A SKU's on-hand and ledger, newest first, with the row count and the ledger's sum."""
    sku = await sku_by_code(session, code)
    on_hand = await session.scalar(select(StockLevel.on_hand).where(StockLevel.sku_id == sku.id))
    total = await session.scalar(
        select(func.count()).select_from(StockMovement).where(StockMovement.sku_id == sku.id)
    )
    ledger_sum = await session.scalar(
        select(func.coalesce(func.sum(StockMovement.delta), 0)).where(
            StockMovement.sku_id == sku.id
        )
    )
    rows = await session.execute(
        select(StockMovement)
        .where(StockMovement.sku_id == sku.id)
        .order_by(StockMovement.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return sku, on_hand or 0, list(rows.scalars()), total or 0, int(ledger_sum or 0)


# Stocktakes ------------------------------------------------------------------------------


async def get_stocktake(
    session: AsyncSession, stocktake_id: int, *, lock: bool = False
) -> Stocktake:
    query = select(Stocktake).where(Stocktake.id == stocktake_id)
    if lock:
        query = query.with_for_update()
    take = await session.scalar(query)
    if take is None:
        raise NotFound("no such stocktake", code="stocktake_not_found")
    await session.refresh(take, ["lines"])
    return take


async def list_stocktakes(session: AsyncSession, *, limit: int = 50) -> list[Stocktake]:
    rows = await session.execute(select(Stocktake).order_by(Stocktake.id.desc()).limit(limit))
    return list(rows.scalars())


async def open_stocktake(session: AsyncSession, actor: Actor, note: str = "") -> Stocktake:
    actor.require("clerk")
    take = Stocktake(
        status="open",
        note=clean_text(note, "note", max_length=500, required=False),
        created_by=actor.label,
    )
    session.add(take)
    await session.flush()
    record(session, actor, "stocktake.open", "stocktake", take.id, after={"note": take.note})
    await session.refresh(take, ["lines"])
    return take


def _must_be_open(take: Stocktake) -> None:
    if take.status != "open":
        raise InvalidTransition(f"this stocktake is {take.status}", details={"from": take.status})


async def record_counts(
    session: AsyncSession, actor: Actor, stocktake_id: int, counts: dict[str, int]
) -> Stocktake:
    """Counted quantities per SKU code; counting a SKU again replaces its count."""
    actor.require("clerk")
    if not counts:
        raise InvalidInput("send at least one count", code="invalid_quantity")
    take = await get_stocktake(session, stocktake_id, lock=True)
    _must_be_open(take)
    existing = {line.sku_id: line for line in take.lines}
    for code, counted in counts.items():
        if not 0 <= counted <= MAX_UNITS:
            raise InvalidInput(
                f"a count is between 0 and {MAX_UNITS}",
                code="invalid_quantity",
                details={"sku": code},
            )
        sku = await sku_by_code(session, code)
        if sku.id in existing:
            existing[sku.id].counted = counted
            existing[sku.id].counted_by = actor.label
        else:
            line = StocktakeLine(
                stocktake_id=take.id, sku_id=sku.id, counted=counted, counted_by=actor.label
            )
            session.add(line)
            existing[sku.id] = line
    record(session, actor, "stocktake.count", "stocktake", take.id, after=dict(counts))
    await session.flush()
    await session.refresh(take, ["lines"])
    return take


@dataclass(slots=True)
class CountReview:
    code: str
    counted: int
    on_hand: int

    @property
    def difference(self) -> int:
        return self.counted - self.on_hand


async def review(session: AsyncSession, take: Stocktake) -> list[CountReview]:
    """Counted against the books now (for an open count) or at posting (for a posted one)."""
    if not take.lines:
        return []
    ids = [line.sku_id for line in take.lines]
    codes = dict((await session.execute(select(Sku.id, Sku.code).where(Sku.id.in_(ids)))).all())
    books = dict(
        (
            await session.execute(
                select(StockLevel.sku_id, StockLevel.on_hand).where(StockLevel.sku_id.in_(ids))
            )
        ).all()
    )
    return [
        CountReview(
            codes[line.sku_id],
            line.counted,
            line.expected if line.expected is not None else books.get(line.sku_id, 0),
        )
        for line in take.lines
    ]


async def post_stocktake(session: AsyncSession, actor: Actor, stocktake_id: int) -> Stocktake:
    """Write each difference between count and books as a ``stocktake`` ledger row. A manager
    posts: the differences are stock adjustments."""
    actor.require("manager")
    take = await get_stocktake(session, stocktake_id, lock=True)
    _must_be_open(take)
    if not take.lines:
        raise InvalidInput("nothing was counted", code="empty_stocktake")
    for line in sorted(take.lines, key=lambda ln: ln.sku_id):
        # Locked, so a sale cannot slip between reading the books and writing the difference.
        level = await session.scalar(
            select(StockLevel).where(StockLevel.sku_id == line.sku_id).with_for_update()
        )
        on_hand = level.on_hand if level else 0
        line.expected, line.delta = on_hand, line.counted - on_hand
        if line.delta:
            await move_stock(
                session,
                line.sku_id,
                line.delta,
                reason="stocktake",
                actor=actor.label,
                reference=f"stocktake-{take.id}",
                respect_reserved=False,
            )
    take.status, take.posted_by, take.posted_at = "posted", actor.label, utcnow()
    record(
        session,
        actor,
        "stocktake.post",
        "stocktake",
        take.id,
        after={"differences": {str(ln.sku_id): ln.delta for ln in take.lines if ln.delta}},
    )
    await session.flush()
    return take


async def cancel_stocktake(session: AsyncSession, actor: Actor, stocktake_id: int) -> Stocktake:
    actor.require("clerk")
    take = await get_stocktake(session, stocktake_id, lock=True)
    _must_be_open(take)
    take.status = "cancelled"
    record(session, actor, "stocktake.cancel", "stocktake", take.id)
    await session.flush()
    return take

"""Stock rules: stock never goes negative, every movement is in the ledger.

Changes are single conditional UPDATEs checked by row count, never read-then-write in Python,
so concurrent buyers cannot both take the last unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, String, Update, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.db import UTCDateTime, utcnow
from shopd.errors import InvalidInput, NotFound, OutOfStock
from shopd.inventory.models import StockLevel, StockMovement

REASONS = (
    "initial",
    "receipt",
    "sale",
    "cancel",
    "return",
    "adjustment",
    "damage",
    "loss",
    "found",
    "stocktake",
    "writeoff",
    "import",
)


@dataclass(frozen=True, slots=True)
class Level:
    sku_id: int
    on_hand: int
    reserved: int
    threshold: int

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)


# Every product page that misses the read cache asks this: a table-level statement built once
# costs less than half of building an ORM one per call and loading entities from it.
_LEVELS_TABLE = StockLevel.__table__
_LEVELS = select(
    _LEVELS_TABLE.c.sku_id,
    _LEVELS_TABLE.c.on_hand,
    _LEVELS_TABLE.c.reserved,
    _LEVELS_TABLE.c.low_stock_threshold,
).where(_LEVELS_TABLE.c.sku_id.in_(bindparam("ids", expanding=True)))


async def levels(session: AsyncSession, sku_ids: list[int]) -> dict[int, Level]:
    if not sku_ids:
        return {}
    rows = await session.execute(_LEVELS, {"ids": list(sku_ids)})
    return {sku_id: Level(sku_id, *rest) for sku_id, *rest in rows}


# A movement is two statements on every checkout line and stock operation: both are built once,
# table-level (an ORM update or insert costs several times as much to build and run).
_LEDGER_TABLE = StockMovement.__table__
_DELTA = bindparam("delta", type_=Integer)
_AFTER = _LEVELS_TABLE.c.on_hand + _DELTA


def _move(guard: ColumnElement[bool] | None) -> Update:
    stmt = (
        update(_LEVELS_TABLE)
        .where(_LEVELS_TABLE.c.sku_id == bindparam("sku", type_=Integer))
        .values(on_hand=_AFTER)
    )
    return stmt if guard is None else stmt.where(guard)


# Far above any shop's stock and below the INTEGER columns' 2,147,483,647: receipts past it
# were a MariaDB range error (a 500) after the first 2,147 receipts of a million units.
MAX_ON_HAND = 1_000_000_000

_MOVE = {
    "receive": _move(_AFTER <= MAX_ON_HAND),
    # A sale leaves reserved units alone; a count or write-off may break into them too.
    "sell": _move(_AFTER - _LEVELS_TABLE.c.reserved >= 0),
    "break": _move(_AFTER >= 0),
}
_RECORD = (
    insert(_LEDGER_TABLE)
    .from_select(
        ["sku_id", "delta", "reason", "actor", "reference", "created_at", "on_hand_after"],
        select(
            bindparam("sku", type_=Integer),
            _DELTA,
            bindparam("reason", type_=String),
            bindparam("actor", type_=String),
            bindparam("reference", type_=String),
            bindparam("at", type_=UTCDateTime),
            _LEVELS_TABLE.c.on_hand,
        ).where(_LEVELS_TABLE.c.sku_id == bindparam("sku", type_=Integer)),
    )
    .returning(_LEDGER_TABLE.c.on_hand_after)
)


async def move_stock(
    session: AsyncSession,
    sku_id: int,
    delta: int,
    *,
    reason: str,
    actor: str,
    reference: str | None = None,
    sku_code: str | None = None,
    respect_reserved: bool = True,
) -> int:
    """Apply ``delta`` to on-hand stock and write the ledger row; returns the new on-hand.

    A decrease only succeeds while enough unreserved stock remains (for a sale), or enough
    stock at all (a count or write-off: reserved units can be broken too); otherwise
    ``OutOfStock`` and nothing changes.
    """
    if reason not in REASONS:
        raise InvalidInput(f"unknown stock movement reason {reason!r}", code="invalid_reason")
    if delta == 0:
        raise InvalidInput("a stock movement must change the level", code="invalid_quantity")
    if session.new:  # table-level statements do not flush first: a new stock row must be in
        await session.flush()
    guard = "receive" if delta > 0 else "sell" if respect_reserved else "break"
    params = {"sku": sku_id, "delta": delta}
    if (await session.execute(_MOVE[guard], params)).rowcount != 1:  # type: ignore[attr-defined]
        level = (await levels(session, [sku_id])).get(sku_id)
        if level is None:
            raise NotFound("no stock record for this SKU", code="unknown_sku")
        if delta > 0:
            raise InvalidInput(
                f"{sku_code or sku_id} would hold more than {MAX_ON_HAND:,} units",
                code="stock_limit",
                details={"sku": sku_code, "on_hand": level.on_hand, "max_on_hand": MAX_ON_HAND},
            )
        raise OutOfStock(
            f"only {level.available} left of {sku_code or sku_id}",
            details={"sku": sku_code, "requested": -delta, "available": level.available},
        )
    # The ledger row takes the level this transaction has just written (its row is locked
    # until commit) and hands it back: one statement for what was a read and an insert.
    written = await session.execute(
        _RECORD,
        params | {"reason": reason, "actor": actor, "reference": reference, "at": utcnow()},
    )
    return int(written.scalar_one())


def open_stock(session: AsyncSession, sku_id: int, on_hand: int, *, actor: str) -> None:
    """A new SKU's stock level, with the ledger row that explains it (none when it starts at 0)."""
    session.add(StockLevel(sku_id=sku_id, on_hand=on_hand, reserved=0))
    if on_hand:
        session.add(
            StockMovement(
                sku_id=sku_id, delta=on_hand, reason="initial", actor=actor, on_hand_after=on_hand
            )
        )


async def ledger(session: AsyncSession, sku_id: int, limit: int = 100) -> list[StockMovement]:
    rows = await session.execute(
        select(StockMovement)
        .where(StockMovement.sku_id == sku_id)
        .order_by(StockMovement.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())

"""Stock levels per SKU and the ledger of every movement."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopd.db import Base, UTCDateTime, utcnow


class StockLevel(Base):
    __tablename__ = "stock_levels"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
    )

    sku_id: Mapped[int] = mapped_column(
        ForeignKey("skus.id"), primary_key=True, autoincrement=False
    )
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    # Held for orders or campaigns but not yet gone from the shelf.
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=5)


class StockMovement(Base):
    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(120))
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    on_hand_after: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Stocktake(Base):
    """A count session: counted quantities are recorded, reviewed, then posted as ledger rows."""

    __tablename__ = "stocktakes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # open → posted | cancelled
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    posted_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    lines: Mapped[list[StocktakeLine]] = relationship(order_by="StocktakeLine.sku_id")


class StocktakeLine(Base):
    __tablename__ = "stocktake_lines"

    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktakes.id"), primary_key=True)
    sku_id: Mapped[int] = mapped_column(
        ForeignKey("skus.id"), primary_key=True, autoincrement=False
    )
    counted: Mapped[int] = mapped_column(Integer)
    counted_by: Mapped[str] = mapped_column(String(120))
    # Filled in when posted: what the books said and the difference written to the ledger.
    expected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    delta: Mapped[int | None] = mapped_column(Integer, nullable=True)

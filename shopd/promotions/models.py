"""Flash sales and who bought how much in each."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from shopd.db import Base, UTCDateTime, utcnow


class FlashSale(Base):
    """A SKU at a sale price from ``starts_at`` (inclusive) to ``ends_at`` (exclusive), for
    ``quantity`` units at most. Whether it applies is decided from these times whenever a
    price is read: nothing has to start or stop it."""

    __tablename__ = "flash_sales"
    __table_args__ = (
        CheckConstraint("sold >= 0 AND sold <= quantity", name="sold_within_quantity"),
        CheckConstraint("starts_at < ends_at", name="window_not_empty"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    sale_price: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    per_customer_limit: Mapped[int] = mapped_column(Integer)
    # Allowed below the shop's price floor (a campaign the shop chose to run deeper).
    floor_exempt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    title: Mapped[str] = mapped_column(String(120), default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlashSaleBuyer(Base):
    """Units one buyer (a customer, or a guest by e-mail) has bought in one sale."""

    __tablename__ = "flash_sale_buyers"

    sale_id: Mapped[int] = mapped_column(ForeignKey("flash_sales.id"), primary_key=True)
    buyer: Mapped[str] = mapped_column(String(200), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)

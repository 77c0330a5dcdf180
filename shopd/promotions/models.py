"""Campaigns: flash sales, coupons and group buys, with who took part in each."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    text,
)
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


class Coupon(Base):
    """A code worth an amount off above a minimum spend, a percentage off, or free shipping;
    within a window, up to ``max_uses`` in all and ``per_customer_limit`` per buyer. Codes made
    in one batch share ``batch``."""

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("max_uses IS NULL OR used <= max_uses", name="used_within_max"),
        CheckConstraint("starts_at < ends_at", name="window_not_empty"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(120), default="")
    batch: Mapped[str] = mapped_column(String(40), default="", index=True)
    # amount_off | percent_off | free_shipping
    kind: Mapped[str] = mapped_column(String(16))
    # Minor units for amount_off, a percentage for percent_off, 0 for free_shipping.
    value: Mapped[int] = mapped_column(BigInteger)
    min_spend: Mapped[int] = mapped_column(BigInteger, default=0)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    used: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    per_customer_limit: Mapped[int] = mapped_column(Integer, default=1)
    # Empty lists: the whole shop.
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    category_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    stackable: Mapped[bool] = mapped_column(Boolean, default=False)
    floor_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("1"))
    # Applied without being typed whenever the cart qualifies (满减: spend X, save Y); of
    # several that qualify, the one that saves most (shopd.cart.quotes).
    automatic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CouponRedemption(Base):
    """One use of a coupon by one order; given back when the order is cancelled unpaid."""

    __tablename__ = "coupon_redemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    buyer: Mapped[str] = mapped_column(String(200), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    released: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupBuy(Base):
    """A SKU at ``group_price`` for everyone once ``min_buyers`` have paid before ``ends_at``.
    Joining closes at the deadline or when ``max_buyers`` have joined. Settled once:
    succeeded (held orders go to dispatch) or failed (every order cancelled and refunded)."""

    __tablename__ = "group_buys"
    __table_args__ = (
        CheckConstraint("max_buyers IS NULL OR joined <= max_buyers", name="joined_within_max"),
        CheckConstraint("starts_at < ends_at", name="window_not_empty"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    title: Mapped[str] = mapped_column(String(120), default="")
    group_price: Mapped[int] = mapped_column(BigInteger)
    min_buyers: Mapped[int] = mapped_column(Integer)
    max_buyers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    per_customer_limit: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    joined: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    floor_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    # open → succeeded | failed
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupBuyMember(Base):
    """One buyer's order in a group; a buyer joins a group once."""

    __tablename__ = "group_buy_members"
    __table_args__ = (UniqueConstraint("group_id", "buyer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("group_buys.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    buyer: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

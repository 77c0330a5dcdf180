"""Orders, their lines and their status history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopd.db import Base, UTCDateTime, utcnow


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("idempotency_scope", "idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id"), nullable=True, index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    payment_method: Mapped[str] = mapped_column(String(24))
    # The language the order was placed in (en, zh, es): its mails are written in it. Empty
    # for orders from before languages were kept: those get the shop's language.
    language: Mapped[str] = mapped_column(String(8), default="", server_default=text("''"))
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the 24/48-hour dispatch promise starts: payment, or placement for cash on delivery.
    ready_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    # A printed packing slip freezes the address and contact: the parcel is labelled.
    printed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    carrier: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tracking_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    shipping_fee: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger)
    refunded_total: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # What made the price: [{"kind": "coupon"|"points"|"free_shipping"|"member"|..., "code",
    # "amount"}], as shown to the buyer at checkout.
    promotions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    points_spent: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    points_earned: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # A group-buy order is held after payment until its group succeeds.
    group_buy_id: Mapped[int | None] = mapped_column(
        ForeignKey("group_buys.id"), nullable=True, index=True
    )
    ship_name: Mapped[str] = mapped_column(String(120))
    ship_phone: Mapped[str] = mapped_column(String(32))
    ship_country: Mapped[str] = mapped_column(String(2))
    ship_region: Mapped[str] = mapped_column(String(120))
    ship_city: Mapped[str] = mapped_column(String(120))
    ship_line1: Mapped[str] = mapped_column(String(255))
    ship_line2: Mapped[str] = mapped_column(String(255), default="")
    ship_postcode: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    idempotency_scope: Mapped[str | None] = mapped_column(String(80), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.id")


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    # Copies of what the customer saw: the catalog may change after the order.
    sku_code: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    # The price without promotions, and the coupons and points spread onto this line:
    # line_total = unit_price * quantity - discount.
    regular_price: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    quantity: Mapped[int] = mapped_column(Integer)
    discount: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    line_total: Mapped[int] = mapped_column(BigInteger)
    # Units taken back by return requests (requested or received); never above quantity.
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class OrderEvent(Base):
    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderNote(Base):
    """A staff note on an order ("customer asked to change the address to ...")."""

    __tablename__ = "order_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    author: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payment(Base):
    """Money received or expected for an order: a bank transfer confirmed by staff, a gateway
    payment confirmed by a signed webhook, or cash collected on delivery."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    method: Mapped[str] = mapped_column(String(24))
    # pending → succeeded | failed | rejected (amount mismatch)
    status: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # Our reference sent to the gateway, unique, not guessable.
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    gateway_session: Mapped[str | None] = mapped_column(String(128), nullable=True)
    redirect_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    external_reference: Mapped[str] = mapped_column(String(128), default="")
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class GatewayEvent(Base):
    """Every webhook event id seen once: a replayed event changes nothing."""

    __tablename__ = "gateway_events"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    payment_reference: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReturnRequest(Base):
    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # requested → received → refunded, or requested → rejected
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    lines: Mapped[list[ReturnLine]] = relationship(order_by="ReturnLine.id")


class ReturnLine(Base):
    __tablename__ = "return_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    # restock (back on the shelf) or writeoff (damaged, not sellable); set on receipt
    disposition: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"), nullable=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    # pending (owed, e.g. a cancelled paid order) → completed (money sent back)
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

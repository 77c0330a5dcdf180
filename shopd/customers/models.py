"""Customer accounts, their addresses and log-in sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shopd.catalog.cache.version import ShownInCatalog
from shopd.db import Base, UTCDateTime, utcnow


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-cased so uniqueness means the same on SQLite and MariaDB.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    # A disabled account cannot log in; its open sessions stop working at once.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("1"))
    # Registrations that look automated or abusive wait for a staff review.
    flagged: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("0"), index=True
    )
    flag_reason: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    registered_ip: Mapped[str] = mapped_column(String(45), default="", server_default=text("''"))
    # Membership: paid spending less refunds sets the VIP level; points are worth 1 minor unit
    # each. A refund can take back points already spent, so the balance may go below 0.
    lifetime_spend: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    points: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    level_id: Mapped[int | None] = mapped_column(ForeignKey("membership_levels.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2), default="CN")
    region: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(120))
    line1: Mapped[str] = mapped_column(String(255))
    line2: Mapped[str] = mapped_column(String(255), default="")
    postcode: Mapped[str] = mapped_column(String(20), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerSession(Base):
    __tablename__ = "customer_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CustomerNote(Base):
    __tablename__ = "customer_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    author: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MembershipLevel(Base, ShownInCatalog):
    """A VIP level the shop sets: reached at ``min_spend`` of lifetime spending (paid, less
    refunds), with a member discount on regular prices (which product pages show)."""

    __tablename__ = "membership_levels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    min_spend: Mapped[int] = mapped_column(BigInteger, unique=True)
    discount_percent: Mapped[int] = mapped_column(Integer)


class PointsEntry(Base):
    """Every change of a customer's points, with the balance after it."""

    __tablename__ = "points_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # earn | spend | spend_returned | earn_reversed | adjust
    reason: Mapped[str] = mapped_column(String(20))
    delta: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    order_number: Mapped[str | None] = mapped_column(String(24), nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LevelChange(Base):
    """A customer moving between VIP levels (up with spending, down after refunds)."""

    __tablename__ = "level_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    from_level: Mapped[str] = mapped_column(String(60))
    to_level: Mapped[str] = mapped_column(String(60))
    lifetime_spend: Mapped[int] = mapped_column(BigInteger)
    order_number: Mapped[str | None] = mapped_column(String(24), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PasswordReset(Base):
    """A password-reset link sent by e-mail: only its digest is kept; it works once, and only
    until it expires."""

    __tablename__ = "password_resets"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

"""Checkout in; orders and inquiries out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from shopd.customers.schemas import AddressIn, Email, Phone


class CheckoutIn(msgspec.Struct, forbid_unknown_fields=True):
    payment_method: Annotated[str, msgspec.Meta(max_length=24)]
    email: Email | None = None
    phone: Phone | None = None
    address: AddressIn | None = None
    address_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class OrderLineOut(msgspec.Struct):
    sku: str
    name: str
    attributes: dict[str, str]
    unit_price: int
    quantity: int
    line_total: int


class ShipToOut(msgspec.Struct):
    recipient: str
    phone: str
    country: str
    region: str
    city: str
    line1: str
    line2: str
    postcode: str


class OrderOut(msgspec.Struct):
    number: str
    status: str
    placed_at: dt.datetime
    payment_method: str
    paid: bool
    paid_at: dt.datetime | None
    shipped: bool
    shipped_at: dt.datetime | None
    carrier: str | None
    tracking_number: str | None
    email: str
    phone: str
    ship_to: ShipToOut
    items: list[OrderLineOut]
    subtotal: int
    shipping_fee: int
    discount: int
    total: int
    currency: str
    note: str


class OrderPage(msgspec.Struct):
    items: list[OrderOut]
    page: int
    per_page: int
    total: int


class InquiryItemOut(msgspec.Struct):
    name: str
    quantity: int


class InquiryOut(msgspec.Struct):
    """What a guest sees with the order number and contact: no address, no full contact."""

    number: str
    placed_at: dt.datetime
    status: str
    paid: bool
    paid_at: dt.datetime | None
    shipped: bool
    ship_date: dt.date | None
    carrier: str | None
    tracking_number: str | None
    items: list[InquiryItemOut]
    total: int
    currency: str


class PaymentMethodOut(msgspec.Struct):
    code: str
    name: str

"""Checkout in; orders and inquiries out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from shopd.customers.schemas import AddressIn, Email, Phone


class CheckoutIn(msgspec.Struct, forbid_unknown_fields=True):
    payment_method: Annotated[str, msgspec.Meta(max_length=24)]
    email: Email | None = None
    phone: Phone | None = None
    address: AddressIn | None = None
    address_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    coupons: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=5)
    ] = []
    points: Annotated[int, msgspec.Meta(ge=0, le=10**10)] = 0
    group_buy: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    # The total shown to the buyer; checkout refuses (price_changed) if it no longer holds.
    expected_total: Annotated[int, msgspec.Meta(ge=0, le=10**14)] | None = None
    # The language the order's mails are written in: en, zh or es (else the shop's).
    language: Literal["en", "zh", "es"] | None = None


class OrderLineOut(msgspec.Struct):
    sku: str
    name: str
    attributes: dict[str, str]
    unit_price: int
    quantity: int
    line_total: int
    regular_price: int
    # Coupons and points spread onto this line: line_total = unit_price * quantity - discount.
    discount: int


class PromotionOut(msgspec.Struct):
    """What made the price: flash_sale, group_buy or member (per SKU), coupon, free_shipping,
    points; ``amount`` is what it saved."""

    kind: str
    code: str
    amount: int


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
    promotions: list[PromotionOut]
    points_spent: int
    points_earned: int
    group_buy: int | None


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


# Staff side ---------------------------------------------------------------------------------

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Money = Annotated[int, msgspec.Meta(ge=0, le=10**12)]


class StaffLineOut(OrderLineOut):
    returned_quantity: int


class OrderEventOut(msgspec.Struct):
    at: dt.datetime
    from_status: str | None
    status: str
    actor: str
    note: str


class OrderNoteOut(msgspec.Struct):
    at: dt.datetime
    author: str
    body: str


class PaymentOut(msgspec.Struct):
    reference: str
    method: str
    status: str
    amount: int
    currency: str
    external_reference: str
    created_at: dt.datetime
    settled_at: dt.datetime | None


class ReturnLineOut(msgspec.Struct):
    sku: str
    quantity: int
    disposition: str | None


class ReturnOut(msgspec.Struct):
    id: int
    status: str
    reason: str
    created_by: str
    created_at: dt.datetime
    received_at: dt.datetime | None
    lines: list[ReturnLineOut]


class RefundOut(msgspec.Struct):
    id: int
    amount: int
    currency: str
    method: str
    reason: str
    status: str
    created_by: str
    created_at: dt.datetime


class OwedRefundOut(msgspec.Struct):
    """A refund in the list of refunds across orders, with the order it belongs to."""

    id: int
    order_number: str
    amount: int
    currency: str
    method: str
    reason: str
    status: str
    created_by: str
    created_at: dt.datetime


class RefusedActionOut(msgspec.Struct):
    """A staff action the order refuses to the calling staff member, with the error its
    endpoint answers with: ``code`` ``forbidden`` when the role is too low (the TUI hides
    it), else the order's state is why (``invalid_transition``, ``group_buy_pending``,
    ``order_locked``)."""

    action: Annotated[str, msgspec.Meta(description="the action, as in allowed_actions")]
    code: Annotated[
        str,
        msgspec.Meta(
            description="the error code its endpoint answers with: forbidden (the role), "
            "invalid_transition, group_buy_pending or order_locked (the order's state)"
        ),
    ]
    reason: Annotated[str, msgspec.Meta(description="the error message, for people")]


# What the calling staff member may do to the order now, and why not the rest.
AllowedActions = Annotated[
    list[str],
    msgspec.Meta(
        description="the actions (by name: ship, cancel, refund, …) the calling staff member "
        "may do to the order now"
    ),
]
RefusedActions = Annotated[
    list[RefusedActionOut],
    msgspec.Meta(description="every other action, with the error its endpoint answers with"),
]


class StaffOrderOut(msgspec.Struct):
    number: str
    status: str
    placed_at: dt.datetime
    payment_method: str
    paid_at: dt.datetime | None
    ready_at: dt.datetime | None
    printed_at: dt.datetime | None
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    carrier: str | None
    tracking_number: str | None
    dispatch_flag: str | None
    allowed_actions: AllowedActions
    refused_actions: RefusedActions
    customer_id: int | None
    email: str
    phone: str
    ship_to: ShipToOut
    items: list[StaffLineOut]
    subtotal: int
    shipping_fee: int
    discount: int
    total: int
    refunded_total: int
    currency: str
    note: str
    promotions: list[PromotionOut]
    points_spent: int
    points_earned: int
    group_buy: int | None
    notes: list[OrderNoteOut]
    events: list[OrderEventOut]
    payments: list[PaymentOut]
    returns: list[ReturnOut]
    refunds: list[RefundOut]


class StaffOrderSummary(msgspec.Struct):
    number: str
    status: str
    placed_at: dt.datetime
    payment_method: str
    paid: bool
    ready_at: dt.datetime | None
    dispatch_flag: str | None
    email: str
    phone: str
    recipient: str
    city: str
    item_count: int
    total: int
    refunded_total: int
    currency: str
    allowed_actions: AllowedActions
    refused_actions: RefusedActions


class StaffOrderPage(msgspec.Struct):
    items: list[StaffOrderSummary]
    page: int
    per_page: int
    total: int


class ConfirmPaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Money
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class ShipIn(msgspec.Struct, forbid_unknown_fields=True):
    carrier: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    tracking_number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    shipped_at: dt.datetime | None = None


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class NoteIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ContactIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email | None = None
    phone: Phone | None = None
    address: AddressIn | None = None


class ReturnItemIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]


class ReturnIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    items: Annotated[list[ReturnItemIn], msgspec.Meta(max_length=200)] = []


class ReceiveReturnIn(msgspec.Struct, forbid_unknown_fields=True):
    default: str = "restock"
    dispositions: dict[Annotated[str, msgspec.Meta(max_length=64)], str] = {}


class RefundIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    amount: Annotated[int, msgspec.Meta(ge=1, le=10**12)] | None = None


class ExpiredOut(msgspec.Struct):
    cancelled: list[str]


class PayIn(msgspec.Struct, forbid_unknown_fields=True):
    """A guest proves the order is theirs with the contact given at checkout."""

    email: Email | None = None
    phone: Phone | None = None


class PayOut(msgspec.Struct):
    reference: str
    redirect_url: str
    amount: int
    currency: str


class WebhookOut(msgspec.Struct):
    status: str


class DashboardOut(msgspec.Struct):
    today_orders: int
    today_sales: int
    to_ship: int
    late: int
    overdue: int
    low_stock: int
    month_sales: int
    month_target: int
    month_progress: float | None
    currency: str


class SettledOut(msgspec.Struct):
    group_buy: int
    outcome: str

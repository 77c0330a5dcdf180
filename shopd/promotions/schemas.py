"""Campaigns in and out of the APIs: flash sales, coupons, group buys, price quotes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from shopd.promotions.models import FlashSale

# Times must say their offset: a sale that starts "at 20:00" in the wrong zone is a costly bug.
Instant = Annotated[dt.datetime, msgspec.Meta(tz=True)]


class FlashSaleOut(msgspec.Struct):
    """A flash sale on now: its price holds until ``ends_at`` or until ``remaining`` is 0."""

    id: int
    title: str
    sale_price: int
    ends_at: dt.datetime
    remaining: int
    per_customer_limit: int


def sale_out(sale: FlashSale) -> FlashSaleOut:
    return FlashSaleOut(
        sale.id,
        sale.title,
        sale.sale_price,
        sale.ends_at,
        sale.quantity - sale.sold,
        sale.per_customer_limit,
    )


class FlashSaleIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    sale_price: Annotated[int, msgspec.Meta(ge=1, le=10**10)]
    starts_at: Instant
    ends_at: Instant
    quantity: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    per_customer_limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    floor_exempt: bool = False
    title: Annotated[str, msgspec.Meta(max_length=120)] = ""


class FlashSaleStaffOut(msgspec.Struct):
    id: int
    sku: str
    title: str
    sale_price: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    quantity: int
    sold: int
    per_customer_limit: int
    floor_exempt: bool
    created_by: str
    # scheduled | running | sold_out | ended, as of the moment of the response
    state: str


Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class CouponIn(msgspec.Struct, forbid_unknown_fields=True):
    """One coupon (``code``) or a batch of ``count`` generated codes starting with ``prefix``."""

    kind: Literal["amount_off", "percent_off", "free_shipping"]
    starts_at: Instant
    ends_at: Instant
    # Minor units off (amount_off), a percentage (percent_off), 0 (free_shipping).
    value: Annotated[int, msgspec.Meta(ge=0, le=10**10)] = 0
    min_spend: Annotated[int, msgspec.Meta(ge=0, le=10**12)] = 0
    code: Annotated[str, msgspec.Meta(min_length=3, max_length=40)] | None = None
    count: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    prefix: Annotated[str, msgspec.Meta(max_length=20)] = ""
    title: Annotated[str, msgspec.Meta(max_length=120)] = ""
    max_uses: Annotated[int, msgspec.Meta(ge=1, le=10**9)] | None = None
    per_customer_limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    products: Annotated[list[Slug], msgspec.Meta(max_length=500)] = []
    categories: Annotated[list[Slug], msgspec.Meta(max_length=500)] = []
    stackable: bool = False
    floor_exempt: bool = False
    # Applied without a code whenever the cart qualifies ("spend 200, save 30").
    automatic: bool = False


class CouponOut(msgspec.Struct):
    id: int
    code: str
    title: str
    batch: str
    kind: str
    value: int
    min_spend: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    max_uses: int | None
    used: int
    per_customer_limit: int
    product_ids: list[int]
    category_ids: list[int]
    stackable: bool
    floor_exempt: bool
    active: bool
    automatic: bool


class CouponPage(msgspec.Struct):
    items: list[CouponOut]
    total: int


class GroupBuyIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    group_price: Annotated[int, msgspec.Meta(ge=1, le=10**10)]
    min_buyers: Annotated[int, msgspec.Meta(ge=2, le=100_000)]
    starts_at: Instant
    ends_at: Instant
    max_buyers: Annotated[int, msgspec.Meta(ge=2, le=100_000)] | None = None
    per_customer_limit: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1
    floor_exempt: bool = False
    title: Annotated[str, msgspec.Meta(max_length=120)] = ""


class GroupBuyOut(msgspec.Struct):
    """A group buy as buyers see it: ``joined`` of ``min_buyers`` needed by ``ends_at``."""

    id: int
    sku: str
    product: str
    title: str
    group_price: int
    regular_price: int
    min_buyers: int
    max_buyers: int | None
    per_customer_limit: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    joined: int
    paid: int
    # scheduled | open | full | settling | succeeded | failed
    state: str


class QuoteIn(msgspec.Struct, forbid_unknown_fields=True):
    coupons: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=5)
    ] = []
    points: Annotated[int, msgspec.Meta(ge=0, le=10**10)] = 0
    group_buy: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None


class QuoteLineOut(msgspec.Struct):
    sku: str
    quantity: int
    regular_price: int
    unit_price: int
    discount: int
    line_total: int
    # flash_sale | group_buy | member | none: what set unit_price
    priced_by: str


class AppliedOut(msgspec.Struct):
    kind: str
    code: str
    amount: int


class QuoteOut(msgspec.Struct):
    """What checking out with these coupons and points would charge now."""

    items: list[QuoteLineOut]
    subtotal: int
    discount: int
    shipping_fee: int
    total: int
    currency: str
    applied: list[AppliedOut]
    points_used: int
    member_level: str
    member_discount_percent: int

"""Flash sales in and out of the staff API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

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
    # scheduled | running | sold_out | ended, as of the moment of the answer
    state: str

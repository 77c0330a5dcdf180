"""Stock levels, movements and stocktakes for the staff API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

Units = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
SkuCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class StockOut(msgspec.Struct):
    sku: str
    product: str
    product_slug: str
    attributes: dict[str, str]
    active: bool
    on_hand: int
    reserved: int
    available: int
    threshold: int
    low: bool


class StockPage(msgspec.Struct):
    items: list[StockOut]
    page: int
    per_page: int
    total: int


class MovementOut(msgspec.Struct):
    at: dt.datetime
    delta: int
    reason: str
    actor: str
    reference: str | None
    on_hand_after: int


class LedgerOut(msgspec.Struct):
    sku: str
    on_hand: int
    ledger_sum: int
    items: list[MovementOut]
    page: int
    per_page: int
    total: int


class ReceiveIn(msgspec.Struct, forbid_unknown_fields=True):
    quantity: Units
    reference: Annotated[str, msgspec.Meta(max_length=64)] = ""


class AdjustIn(msgspec.Struct, forbid_unknown_fields=True):
    delta: Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
    reason: Annotated[str, msgspec.Meta(max_length=16)]
    note: Annotated[str, msgspec.Meta(max_length=64)] = ""


class ThresholdIn(msgspec.Struct, forbid_unknown_fields=True):
    threshold: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


class LevelOut(msgspec.Struct):
    sku: str
    on_hand: int


class StocktakeOpenIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class CountIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: SkuCode
    counted: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


class CountsIn(msgspec.Struct, forbid_unknown_fields=True):
    counts: Annotated[list[CountIn], msgspec.Meta(min_length=1, max_length=2000)]


class CountLineOut(msgspec.Struct):
    sku: str
    counted: int
    on_hand: int
    difference: int


class StocktakeOut(msgspec.Struct):
    id: int
    status: str
    note: str
    created_by: str
    created_at: dt.datetime
    posted_by: str | None
    posted_at: dt.datetime | None
    lines: list[CountLineOut]

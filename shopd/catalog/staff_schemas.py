"""What the staff catalog endpoints take and give."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=160)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Position = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
Price = Annotated[int, msgspec.Meta(ge=0, le=10**10)]
Attributes = Annotated[
    dict[Annotated[str, msgspec.Meta(max_length=32)], Annotated[str, msgspec.Meta(max_length=64)]],
    msgspec.Meta(max_length=10),
]


# Texts in other languages than the row's own: {"es": {"name": …}, "en": {"description": …}}.
# A language given replaces what it had; an empty object removes it.
Translations = Annotated[
    dict[
        Annotated[str, msgspec.Meta(max_length=8)],
        Annotated[
            dict[Annotated[str, msgspec.Meta(max_length=16)], str], msgspec.Meta(max_length=4)
        ],
    ],
    msgspec.Meta(max_length=4),
]


class SeriesIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    name: Name
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    position: Position = 0


class SeriesPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    name_en: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    position: Position | None = None
    translations: Translations | None = None


class CategoryIn(msgspec.Struct, forbid_unknown_fields=True):
    series: Slug
    slug: Slug
    name: Name
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    position: Position = 0


class CategoryPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    name_en: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    position: Position | None = None
    series: Slug | None = None
    translations: Translations | None = None


class SeriesOut(msgspec.Struct):
    slug: str
    name: str
    name_en: str
    position: int
    translations: dict[str, dict[str, str]] = {}


class CategoryOut(msgspec.Struct):
    slug: str
    series: str
    name: str
    name_en: str
    position: int
    translations: dict[str, dict[str, str]] = {}


class SkuIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    attributes: Attributes = {}
    price: Price | None = None


class SkuPatch(msgspec.Struct, forbid_unknown_fields=True):
    attributes: Attributes | None = None
    active: bool | None = None


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    category: Slug
    name: Name
    list_price: Price
    name_en: Annotated[str, msgspec.Meta(max_length=200)] = ""
    description: Annotated[str, msgspec.Meta(max_length=20_000)] = ""
    skus: Annotated[list[SkuIn], msgspec.Meta(max_length=100)] = []


class ProductPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    name_en: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=20_000)] | None = None
    category: Slug | None = None
    translations: Translations | None = None


class PriceIn(msgspec.Struct, forbid_unknown_fields=True):
    price: Price | None
    sku: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class ApproveIn(msgspec.Struct, forbid_unknown_fields=True):
    list: bool = True


class StaffSkuOut(msgspec.Struct):
    code: str
    attributes: dict[str, str]
    price: int | None
    effective_price: int
    active: bool


class PriceChangeOut(msgspec.Struct):
    at: dt.datetime
    sku: str | None
    old_price: int | None
    new_price: int | None
    actor: str


class StaffProductOut(msgspec.Struct):
    slug: str
    name: str
    name_en: str
    description: str
    category: str
    list_price: int
    images: list[str]
    listed: bool
    review_state: str
    sold_count: int
    skus: list[StaffSkuOut]
    price_history: list[PriceChangeOut] = []
    translations: dict[str, dict[str, str]] = {}


class SkuSalesOut(msgspec.Struct):
    sku: str
    units: int
    revenue: int
    orders: int


class ProductSalesOut(msgspec.Struct):
    slug: str
    days: int
    since: dt.datetime
    units: int
    revenue: int
    orders: int
    currency: str
    skus: list[SkuSalesOut]


class StaffProductPage(msgspec.Struct):
    items: list[StaffProductOut]
    page: int
    per_page: int
    total: int


class ImportOut(msgspec.Struct):
    dry_run: bool
    created_products: int
    created_skus: int
    price_changes: int
    stock_changes: int
    threshold_changes: int


SynonymTerm = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]


class SynonymsIn(msgspec.Struct, forbid_unknown_fields=True):
    """Every synonym group, replacing those there are: a search for any word of a group finds
    what the others find."""

    groups: Annotated[
        list[Annotated[list[SynonymTerm], msgspec.Meta(min_length=2, max_length=20)]],
        msgspec.Meta(max_length=1000),
    ]


class SynonymsOut(msgspec.Struct):
    groups: list[list[str]]

"""What the catalog API returns."""

from __future__ import annotations

from typing import Literal

import msgspec

from shopd.promotions.schemas import FlashSaleOut, GroupBuyOut

StockStatus = Literal["in_stock", "low_stock", "sold_out"]


class CategoryOut(msgspec.Struct):
    slug: str
    name: str
    name_en: str
    product_count: int


class SeriesOut(msgspec.Struct):
    slug: str
    name: str
    name_en: str
    categories: list[CategoryOut]


class CategoryRef(msgspec.Struct):
    slug: str
    name: str
    name_en: str


class ProductSummaryOut(msgspec.Struct):
    slug: str
    name: str
    name_en: str
    price: int
    currency: str
    image: str | None
    category: str
    in_stock: bool


class ProductPage(msgspec.Struct):
    items: list[ProductSummaryOut]
    page: int
    per_page: int
    total: int
    pages: int


class SkuOut(msgspec.Struct):
    code: str
    attributes: dict[str, str]
    price: int
    available: int
    stock_status: StockStatus
    regular_price: int
    flash_sale: FlashSaleOut | None
    # What set price: none | flash_sale | member (the logged-in caller's level)
    priced_by: str


class ProductOut(msgspec.Struct):
    slug: str
    name: str
    name_en: str
    description: str
    list_price: int
    price_from: int
    currency: str
    images: list[str]
    category: CategoryRef
    series: CategoryRef
    skus: list[SkuOut]
    in_stock: bool
    group_buys: list[GroupBuyOut]
    # From orders: products bought in the same orders as this one, most often first.
    bought_together: list[ProductSummaryOut]
    # The same category's best sellers.
    related: list[ProductSummaryOut]

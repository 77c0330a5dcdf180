"""What the catalog API returns."""

from __future__ import annotations

from typing import Literal

import msgspec

from shopd.promotions.schemas import FlashSaleOut

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

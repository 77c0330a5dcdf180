"""The cart in and out."""

from __future__ import annotations

from typing import Annotated

import msgspec

from shopd.promotions.schemas import FlashSaleOut

SkuCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
# The schema bound keeps absurd numbers out early; the shop's own limit is checked by the service.
Quantity = Annotated[int, msgspec.Meta(ge=1, le=10_000)]


class CartItemIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: SkuCode
    quantity: Quantity = 1


class CartQuantityIn(msgspec.Struct, forbid_unknown_fields=True):
    quantity: Quantity


class CartLineOut(msgspec.Struct):
    sku: str
    product_slug: str
    name: str
    name_en: str
    attributes: dict[str, str]
    image: str | None
    unit_price: int
    quantity: int
    line_total: int
    available: int
    purchasable: bool
    regular_price: int
    flash_sale: FlashSaleOut | None
    # What set unit_price: none | flash_sale | member
    priced_by: str


class CartOut(msgspec.Struct):
    items: list[CartLineOut]
    item_count: int
    subtotal: int
    shipping_fee: int
    total: int
    currency: str

"""What an order's pages show beside the order row: its products' names in the reader's
language, the shop's bank details for a transfer, and how long an unpaid order is kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.catalog.models import Product, Sku
from shopd.config import Settings
from shopd.notifications.service import unpaid_deadline
from shopd.orders.models import Order
from shopd.staff import shop_settings


async def order_extras(session: AsyncSession, settings: Settings, order: Order) -> dict[str, Any]:
    """``products`` (SKU id → product, for its translated name; a line keeps the name it was
    bought under when the product is gone), ``bank_details`` (all languages; the page picks
    the reader's) for a transfer, ``unpaid_until`` for an order awaiting payment."""
    sku_ids = [line.sku_id for line in order.lines]
    rows = await session.execute(
        select(Sku.id, Product)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(sku_ids))
    )
    products = {sku_id: product for sku_id, product in rows.all()}
    bank: dict[str, str] = {}
    if order.payment_method == "bank_transfer":
        bank = await shop_settings.get(session, "bank_details") or {}
    until: dt.datetime | None = None
    if order.status == "pending_payment" and order.payment_method != "cod":
        until = unpaid_deadline(settings, order)
    return {"products": products, "bank_details": bank, "unpaid_until": until}

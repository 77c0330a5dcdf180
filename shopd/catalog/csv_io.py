"""CSV export and import of products, prices and stock for bulk work in a spreadsheet.

One row per SKU. An import is checked whole before anything is written: one bad row and
nothing changes, and the answer names every bad row by its line number.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shopd.catalog import staff_service
from shopd.catalog.models import Product, Sku
from shopd.errors import DomainError, InvalidInput
from shopd.inventory.models import StockLevel
from shopd.inventory.service import move_stock
from shopd.staff.audit import Actor, record

COLUMNS = [
    "sku",
    "product_slug",
    "product_name",
    "product_name_en",
    "category",
    "attributes",
    "list_price",
    "sku_price",
    "on_hand",
    "threshold",
    "active",
    "listed",
    "review_state",
]
MAX_ROWS = 20_000


async def export_csv(session: AsyncSession) -> str:
    rows = await session.execute(
        select(Sku, Product, StockLevel)
        .join(Product, Product.id == Sku.product_id)
        .join(StockLevel, StockLevel.sku_id == Sku.id, isouter=True)
        .options(selectinload(Product.category))
        .order_by(Product.id, Sku.id)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for sku, product, level in rows.all():
        writer.writerow(
            [
                sku.code,
                product.slug,
                product.name,
                product.name_en,
                product.category.slug,
                json.dumps(sku.attributes, ensure_ascii=False) if sku.attributes else "",
                product.list_price,
                "" if sku.price is None else sku.price,
                level.on_hand if level else 0,
                level.low_stock_threshold if level else 0,
                "yes" if sku.active else "no",
                "yes" if product.listed else "no",
                product.review_state,
            ]
        )
    return out.getvalue()


@dataclass(slots=True)
class ImportResult:
    created_products: int = 0
    created_skus: int = 0
    price_changes: int = 0
    stock_changes: int = 0
    threshold_changes: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)


def _int(value: str, column: str) -> int | None:
    value = value.strip()
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{column} must be a whole number", code="invalid_csv") from None


async def import_csv(
    session: AsyncSession, actor: Actor, text: str, *, dry_run: bool = False
) -> ImportResult:
    """Apply the rows: new products (as drafts) and SKUs, SKU prices, on-hand levels (the
    difference goes to the ledger as ``import``) and thresholds. Managers only: prices and
    stock change. The caller commits; on any error nothing is kept."""
    actor.require("manager")
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "sku" not in reader.fieldnames:
        raise InvalidInput(
            "the CSV needs a header row with at least a sku column", code="invalid_csv"
        )
    unknown = set(reader.fieldnames) - set(COLUMNS)
    if unknown:
        raise InvalidInput(
            f"unknown columns: {', '.join(sorted(unknown))}",
            code="invalid_csv",
            details={"allowed": COLUMNS},
        )
    result = ImportResult()
    for line_no, row in enumerate(reader, start=2):
        if line_no - 1 > MAX_ROWS:
            raise InvalidInput(f"at most {MAX_ROWS} rows per import", code="invalid_csv")
        try:
            async with session.begin_nested():
                await _apply_row(session, actor, row, result)
        except DomainError as exc:
            result.errors.append({"line": line_no, "code": exc.code, "message": exc.message})
    if result.errors:
        raise InvalidInput(
            f"{len(result.errors)} rows have problems; nothing was imported",
            code="invalid_csv",
            details={"errors": result.errors[:200]},
        )
    if not dry_run:
        record(
            session,
            actor,
            "catalog.import",
            "catalog",
            "csv",
            after={
                "created_products": result.created_products,
                "created_skus": result.created_skus,
                "price_changes": result.price_changes,
                "stock_changes": result.stock_changes,
            },
        )
    return result


async def _apply_row(
    session: AsyncSession, actor: Actor, row: dict[str, str | None], result: ImportResult
) -> None:
    def col(name: str) -> str:
        return (row.get(name) or "").strip()

    code = staff_service.check_sku_code(col("sku"))
    sku = await session.scalar(select(Sku).where(Sku.code == code))
    if sku is None:
        slug = col("product_slug")
        if not slug:
            raise InvalidInput(f"new SKU {code} needs a product_slug", code="invalid_csv")
        product = await session.scalar(select(Product).where(Product.slug == slug))
        if product is None:
            list_price = _int(col("list_price"), "list_price")
            if list_price is None or not col("product_name") or not col("category"):
                raise InvalidInput(
                    f"new product {slug} needs product_name, category and list_price",
                    code="invalid_csv",
                )
            product = await staff_service.create_product(
                session,
                actor,
                slug=slug,
                category=col("category"),
                name=col("product_name"),
                name_en=col("product_name_en"),
                list_price=list_price,
                skus=[staff_service.SkuSpec(code=code, attributes=_attributes(col("attributes")))],
            )
            result.created_products += 1
        else:
            await staff_service.add_sku(
                session, actor, slug, staff_service.SkuSpec(code, _attributes(col("attributes")))
            )
        result.created_skus += 1
        sku = await session.scalar(select(Sku).where(Sku.code == code))
        assert sku is not None
    product = await session.get(Product, sku.product_id)
    assert product is not None
    price = _int(col("sku_price"), "sku_price")
    if price is not None and price != sku.price:
        await staff_service.set_price(session, actor, product.slug, price=price, sku=code)
        result.price_changes += 1
    list_price = _int(col("list_price"), "list_price")
    if list_price is not None and list_price != product.list_price:
        await staff_service.set_price(session, actor, product.slug, price=list_price)
        result.price_changes += 1
    level = await session.get(StockLevel, sku.id)
    on_hand = _int(col("on_hand"), "on_hand")
    if on_hand is not None:
        if not 0 <= on_hand <= 1_000_000:
            raise InvalidInput("on_hand is between 0 and 1000000", code="invalid_csv")
        current = level.on_hand if level else 0
        if on_hand != current:
            await move_stock(
                session,
                sku.id,
                on_hand - current,
                reason="import",
                actor=actor.label,
                reference="csv-import",
                sku_code=code,
                respect_reserved=False,
            )
            result.stock_changes += 1
    threshold = _int(col("threshold"), "threshold")
    if threshold is not None and level is not None and threshold != level.low_stock_threshold:
        if not 0 <= threshold <= 1_000_000:
            raise InvalidInput("threshold is between 0 and 1000000", code="invalid_csv")
        level.low_stock_threshold = threshold
        result.threshold_changes += 1
    await session.flush()


def _attributes(raw: str) -> dict[str, str]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise InvalidInput("attributes must be a JSON object", code="invalid_csv") from None
    if not isinstance(value, dict):
        raise InvalidInput("attributes must be a JSON object", code="invalid_csv")
    return {str(k): str(v) for k, v in value.items()}

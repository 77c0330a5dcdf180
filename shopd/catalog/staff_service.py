"""Staff catalog work: series and categories, products and SKUs, prices, review, images.

A product a clerk creates or changes is a draft, not shown in the shop, until a manager approves
it; price changes are a manager's and every one is kept in the price history.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from shopd.catalog import media
from shopd.catalog.models import Category, PriceChange, Product, Series, Sku
from shopd.catalog.service import search_text_for
from shopd.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from shopd.inventory.service import open_stock
from shopd.staff.audit import ROLE_RANK, Actor, record
from shopd.validation import clean_text, contains_pattern

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,78}[a-z0-9]$|^[a-z0-9]$")
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_PRICE = 10**10
MAX_IMAGES = 12
IMAGE_TYPES = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpg",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
}


def check_slug(slug: str, what: str = "slug") -> str:
    if not _SLUG.match(slug):
        raise InvalidInput(
            f"a {what} is 1-80 lower-case letters, digits and dashes", code="invalid_slug"
        )
    return slug


def check_sku_code(code: str) -> str:
    if not _SKU.match(code):
        raise InvalidInput(
            "a SKU code is 1-64 letters, digits, '.', '_' or '-'", code="invalid_sku_code"
        )
    return code


def check_price(price: int, field: str = "price") -> int:
    if not 0 <= price <= MAX_PRICE:
        raise InvalidInput(
            f"{field} is in minor units between 0 and {MAX_PRICE}",
            code="invalid_price",
            details={"field": field},
        )
    return price


def _is_manager(actor: Actor) -> bool:
    return ROLE_RANK[actor.role] >= ROLE_RANK["manager"]


# Series and categories --------------------------------------------------------------------


async def series_by_slug(session: AsyncSession, slug: str) -> Series:
    found = await session.scalar(select(Series).where(Series.slug == slug))
    if found is None:
        raise NotFound(f"no series {slug!r}", code="series_not_found")
    return found


async def category_by_slug(session: AsyncSession, slug: str) -> Category:
    found = await session.scalar(
        select(Category).where(Category.slug == slug).options(selectinload(Category.series))
    )
    if found is None:
        raise NotFound(f"no category {slug!r}", code="category_not_found")
    return found


async def _slug_free(session: AsyncSession, model: Any, slug: str) -> None:
    if await session.scalar(select(model.id).where(model.slug == slug)):
        raise Conflict(f"{slug!r} is taken", code="slug_taken")


async def create_series(
    session: AsyncSession, actor: Actor, *, slug: str, name: str, name_en: str, position: int
) -> Series:
    actor.require("manager")
    await _slug_free(session, Series, check_slug(slug))
    series = Series(
        slug=slug,
        name=clean_text(name, "name", max_length=120),
        name_en=clean_text(name_en, "name_en", max_length=120, required=False),
        position=position,
    )
    session.add(series)
    await session.flush()
    record(session, actor, "series.create", "series", slug, after={"name": series.name})
    return series


async def update_series(
    session: AsyncSession,
    actor: Actor,
    slug: str,
    *,
    name: str | None,
    name_en: str | None,
    position: int | None,
    translations: dict[str, dict[str, str]] | None = None,
) -> Series:
    actor.require("manager")
    series = await series_by_slug(session, slug)

    def state() -> dict[str, Any]:
        return {
            "name": series.name,
            "name_en": series.name_en,
            "translations": series.translations or {},
            "position": series.position,
        }

    before = state()
    if name is not None:
        series.name = clean_text(name, "name", max_length=120)
    if name_en is not None:
        series.name_en = clean_text(name_en, "name_en", max_length=120, required=False)
    if position is not None:
        series.position = position
    if translations is not None:
        series.translations = translated(series.translations, translations, SERIES_FIELDS)
    after = state()
    record(session, actor, "series.update", "series", slug, before=before, after=after)
    await session.flush()
    return series


async def create_category(
    session: AsyncSession,
    actor: Actor,
    *,
    series: str,
    slug: str,
    name: str,
    name_en: str,
    position: int,
) -> Category:
    actor.require("manager")
    parent = await series_by_slug(session, series)
    await _slug_free(session, Category, check_slug(slug))
    category = Category(
        series_id=parent.id,
        slug=slug,
        name=clean_text(name, "name", max_length=120),
        name_en=clean_text(name_en, "name_en", max_length=120, required=False),
        position=position,
    )
    session.add(category)
    await session.flush()
    record(
        session, actor, "category.create", "category", slug, after={"series": series, "name": name}
    )
    return category


async def update_category(
    session: AsyncSession,
    actor: Actor,
    slug: str,
    *,
    name: str | None,
    name_en: str | None,
    position: int | None,
    series: str | None,
    translations: dict[str, dict[str, str]] | None = None,
) -> Category:
    """Rename (in any language), reorder, or move to another series."""
    actor.require("manager")
    category = await category_by_slug(session, slug)
    before = {
        "name": category.name,
        "name_en": category.name_en,
        "translations": category.translations or {},
        "position": category.position,
        "series": category.series.slug,
    }
    if translations is not None:
        category.translations = translated(category.translations, translations, SERIES_FIELDS)
    if name is not None:
        category.name = clean_text(name, "name", max_length=120)
    if name_en is not None:
        category.name_en = clean_text(name_en, "name_en", max_length=120, required=False)
    if position is not None:
        category.position = position
    if series is not None:
        parent = await series_by_slug(session, series)
        category.series_id, category.series = parent.id, parent
    after = {
        "name": category.name,
        "name_en": category.name_en,
        "translations": category.translations or {},
        "position": category.position,
        "series": category.series.slug,
    }
    await session.flush()
    await _reindex_category(session, category)
    record(session, actor, "category.update", "category", slug, before=before, after=after)
    return category


async def _reindex_category(session: AsyncSession, category: Category) -> None:
    rows = await session.execute(
        select(Product)
        .where(Product.category_id == category.id)
        .options(selectinload(Product.skus))
    )
    for product in rows.scalars():
        product.search_text = search_text_for(product, product.skus, category, category.series)


# Products and SKUs ------------------------------------------------------------------------


async def product_by_slug(session: AsyncSession, slug: str, *, lock: bool = False) -> Product:
    query = (
        select(Product)
        .where(Product.slug == slug[:160])
        .options(
            selectinload(Product.skus),
            selectinload(Product.category).selectinload(Category.series),
        )
    )
    if lock:
        query = query.with_for_update()
    product = await session.scalar(query)
    if product is None:
        raise NotFound(f"no product {slug!r}", code="product_not_found")
    return product


async def staff_products(
    session: AsyncSession,
    *,
    q: str | None = None,
    review_state: str | None = None,
    listed: bool | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Product], int]:
    """Every product, drafts and delisted ones too."""
    query = select(Product)
    if q:
        query = query.where(Product.search_text.like(contains_pattern(q), escape="\\"))
    if review_state:
        query = query.where(Product.review_state == review_state)
    if listed is not None:
        query = query.where(Product.listed.is_(listed))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.options(selectinload(Product.skus), selectinload(Product.category))
        .order_by(Product.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(rows.scalars()), total


# The languages a row's translations may hold (its own columns are the original's, zh) and
# the fields each kind of row translates, with their longest text.
TRANSLATED_LANGUAGES = ("en", "es")
SERIES_FIELDS = {"name": 120}
PRODUCT_FIELDS = {"name": 200, "description": 20_000}


def translated(
    current: dict[str, dict[str, str]] | None,
    given: dict[str, dict[str, str]],
    fields: dict[str, int],
) -> dict[str, dict[str, str]]:
    """``current`` with each language in ``given`` replaced (an empty one removed), every text
    checked as the row's own columns are."""
    out = {lang: dict(texts) for lang, texts in (current or {}).items()}
    for lang, texts in given.items():
        if lang not in TRANSLATED_LANGUAGES:
            raise InvalidInput(
                f"translations are for {', '.join(TRANSLATED_LANGUAGES)}",
                code="invalid_translation",
                details={"field": "translations", "language": lang},
            )
        unknown = sorted(set(texts) - set(fields))
        if unknown:
            raise InvalidInput(
                f"only {', '.join(fields)} are translated",
                code="invalid_translation",
                details={"field": "translations", "unknown": unknown},
            )
        kept = {
            key: clean_text(
                text, f"translations.{lang}.{key}", max_length=fields[key], required=False
            )
            for key, text in texts.items()
        }
        kept = {key: text for key, text in kept.items() if text}
        if kept:
            out[lang] = kept
        else:
            out.pop(lang, None)
    return out


def product_state(p: Product) -> dict[str, Any]:
    return {
        "name": p.name,
        "name_en": p.name_en,
        "translations": p.translations or {},
        "description": p.description,
        "category_id": p.category_id,
        "list_price": p.list_price,
        "images": list(p.images),
        "listed": p.listed,
        "review_state": p.review_state,
    }


def _reindex(product: Product) -> None:
    product.search_text = search_text_for(
        product, product.skus, product.category, product.category.series
    )


@dataclass(slots=True)
class SkuSpec:
    code: str
    attributes: dict[str, str] = field(default_factory=dict)
    price: int | None = None


def _check_attributes(attributes: dict[str, str]) -> dict[str, str]:
    if len(attributes) > 10:
        raise InvalidInput("at most 10 attributes per SKU", code="invalid_attributes")
    return {
        clean_text(k, "attribute name", max_length=32): clean_text(
            v, "attribute value", max_length=64
        )
        for k, v in attributes.items()
    }


async def create_product(
    session: AsyncSession,
    actor: Actor,
    *,
    slug: str,
    category: str,
    name: str,
    name_en: str = "",
    description: str = "",
    list_price: int,
    skus: list[SkuSpec],
) -> Product:
    """A new product is a draft, not listed, until a manager approves it."""
    actor.require("clerk")
    await _slug_free(session, Product, check_slug(slug, "product slug"))
    parent = await category_by_slug(session, category)
    product = Product(
        slug=slug,
        category_id=parent.id,
        name=clean_text(name, "name", max_length=200),
        name_en=clean_text(name_en, "name_en", max_length=200, required=False),
        description=clean_text(description, "description", max_length=20_000, required=False),
        list_price=check_price(list_price, "list_price"),
        images=[],
        listed=False,
        review_state="draft",
    )
    product.category = parent
    session.add(product)
    await session.flush()
    for spec in skus or [SkuSpec(code=slug.upper()[:64])]:
        await _add_sku(session, actor, product, spec)
    await session.refresh(product, ["skus"])
    _reindex(product)
    record(session, actor, "product.create", "product", slug, after=product_state(product))
    await session.flush()
    return product


async def _add_sku(session: AsyncSession, actor: Actor, product: Product, spec: SkuSpec) -> Sku:
    code = check_sku_code(spec.code)
    if await session.scalar(select(Sku.id).where(Sku.code == code)):
        raise Conflict(f"SKU {code!r} exists already", code="sku_exists")
    if spec.price is not None:
        actor.require("manager")
        check_price(spec.price)
    sku = Sku(
        product_id=product.id,
        code=code,
        attributes=_check_attributes(spec.attributes),
        price=spec.price,
        active=True,
    )
    session.add(sku)
    await session.flush()
    open_stock(session, sku.id, 0, actor=actor.label)
    return sku


async def add_sku(session: AsyncSession, actor: Actor, slug: str, spec: SkuSpec) -> Sku:
    actor.require("clerk")
    product = await product_by_slug(session, slug)
    sku = await _add_sku(session, actor, product, spec)
    await session.refresh(product, ["skus"])
    _reindex(product)
    record(session, actor, "sku.create", "sku", sku.code, after={"product": slug})
    await _needs_review(session, actor, product)
    return sku


async def update_sku(
    session: AsyncSession,
    actor: Actor,
    code: str,
    *,
    attributes: dict[str, str] | None,
    active: bool | None,
) -> Sku:
    actor.require("clerk")
    sku = await session.scalar(select(Sku).where(Sku.code == code[:64]))
    if sku is None:
        raise NotFound(f"no SKU {code!r}", code="unknown_sku")
    before = {"attributes": dict(sku.attributes), "active": sku.active}
    if attributes is not None:
        sku.attributes = _check_attributes(attributes)
    if active is not None:
        sku.active = active
    record(
        session,
        actor,
        "sku.update",
        "sku",
        sku.code,
        before=before,
        after={"attributes": dict(sku.attributes), "active": sku.active},
    )
    await session.flush()
    return sku


async def _needs_review(session: AsyncSession, actor: Actor, product: Product) -> None:
    # A manager's own change is approved by its author; anyone else's waits for one.
    if _is_manager(actor) or (product.review_state == "draft" and not product.listed):
        return
    product.review_state, product.listed = "draft", False
    record(
        session,
        actor,
        "product.to_review",
        "product",
        product.slug,
        after={"review_state": "draft", "listed": False},
    )
    await session.flush()


async def update_product(
    session: AsyncSession,
    actor: Actor,
    slug: str,
    *,
    name: str | None = None,
    name_en: str | None = None,
    description: str | None = None,
    category: str | None = None,
    translations: dict[str, dict[str, str]] | None = None,
) -> Product:
    actor.require("clerk")
    product = await product_by_slug(session, slug, lock=True)
    before = product_state(product)
    if translations is not None:
        product.translations = translated(product.translations, translations, PRODUCT_FIELDS)
    if name is not None:
        product.name = clean_text(name, "name", max_length=200)
    if name_en is not None:
        product.name_en = clean_text(name_en, "name_en", max_length=200, required=False)
    if description is not None:
        product.description = clean_text(
            description, "description", max_length=20_000, required=False
        )
    if category is not None:
        parent = await category_by_slug(session, category)
        product.category_id, product.category = parent.id, parent
    after = product_state(product)
    if after == before:
        return product
    _reindex(product)
    record(session, actor, "product.update", "product", slug, before=before, after=after)
    await _needs_review(session, actor, product)
    await session.flush()
    return product


async def approve(session: AsyncSession, actor: Actor, slug: str, *, list_now: bool) -> Product:
    actor.require("manager")
    product = await product_by_slug(session, slug, lock=True)
    before = product_state(product)
    product.review_state = "approved"
    if list_now:
        product.listed = True
    record(
        session,
        actor,
        "product.approve",
        "product",
        slug,
        before=before,
        after=product_state(product),
    )
    await session.flush()
    return product


async def set_listed(session: AsyncSession, actor: Actor, slug: str, listed: bool) -> Product:
    actor.require("manager")
    product = await product_by_slug(session, slug, lock=True)
    if listed and product.review_state != "approved":
        raise InvalidTransition(
            "a draft is listed only after it is approved",
            details={"review_state": product.review_state},
        )
    before = {"listed": product.listed}
    product.listed = listed
    record(
        session,
        actor,
        "product.list" if listed else "product.delist",
        "product",
        slug,
        before=before,
        after={"listed": listed},
    )
    await session.flush()
    return product


async def set_price(
    session: AsyncSession,
    actor: Actor,
    slug: str,
    *,
    price: int | None,
    sku: str | None = None,
) -> PriceChange:
    """Change the product's list price, or one SKU's price (``None`` for a SKU: back to the
    list price). Managers only; every change is kept."""
    actor.require("manager")
    product = await product_by_slug(session, slug, lock=True)
    if sku is None:
        if price is None:
            raise InvalidInput("a list price is required", code="invalid_price")
        old: int | None = product.list_price
        product.list_price = check_price(price, "list_price")
        target = None
    else:
        target = next((s for s in product.skus if s.code == sku), None)
        if target is None:
            raise NotFound(f"{slug} has no SKU {sku!r}", code="unknown_sku")
        old = target.price
        target.price = check_price(price) if price is not None else None
    change = PriceChange(
        product_id=product.id,
        sku_id=target.id if target else None,
        old_price=old,
        new_price=price,
        actor=actor.label,
    )
    session.add(change)
    record(
        session,
        actor,
        "price.change",
        "sku" if target else "product",
        target.code if target else slug,
        before={"price": old},
        after={"price": price},
    )
    await session.flush()
    return change


async def price_history(session: AsyncSession, product: Product) -> list[PriceChange]:
    rows = await session.execute(
        select(PriceChange)
        .where(PriceChange.product_id == product.id)
        .order_by(PriceChange.id.desc())
    )
    return list(rows.scalars())


def image_kind(data: bytes) -> str:
    for magic, kind in IMAGE_TYPES.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise InvalidInput(
        "only PNG, JPEG, GIF and WebP images can be uploaded", code="unsupported_image"
    )


async def add_image(
    session: AsyncSession, actor: Actor, slug: str, data: bytes, *, media_dir: Path, max_bytes: int
) -> Product:
    """Store the file under its content hash (the same image twice is one file) and append
    it to the product's images."""
    actor.require("clerk")
    if not data:
        raise InvalidInput("the upload is empty", code="unsupported_image")
    if len(data) > max_bytes:
        raise InvalidInput(f"an image is at most {max_bytes} bytes", code="image_too_large")
    kind = image_kind(data)
    product = await product_by_slug(session, slug, lock=True)
    if len(product.images) >= MAX_IMAGES:
        raise Conflict(f"a product has at most {MAX_IMAGES} images", code="too_many_images")
    name = f"products/{hashlib.sha256(data).hexdigest()[:32]}.{kind}"
    await media.store(session, name, data)
    media.write_copy(media_dir, name, data)
    url = f"/media/{name}"
    if url in product.images:
        return product
    return await _set_images(session, actor, product, [*product.images, url], "image_add")


async def remove_image(session: AsyncSession, actor: Actor, slug: str, url: str) -> Product:
    actor.require("clerk")
    product = await product_by_slug(session, slug, lock=True)
    if url not in product.images:
        raise NotFound("the product has no such image", code="image_not_found")
    return await _set_images(
        session, actor, product, [u for u in product.images if u != url], "image_remove"
    )


async def _set_images(
    session: AsyncSession, actor: Actor, product: Product, images: list[str], action: str
) -> Product:
    before = list(product.images)
    product.images = images
    record(
        session,
        actor,
        f"product.{action}",
        "product",
        product.slug,
        before={"images": before},
        after={"images": images},
    )
    await _needs_review(session, actor, product)
    await session.flush()
    return product

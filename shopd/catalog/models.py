"""Series (major classes) → categories (minor classes) → products → SKUs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopd.catalog.cache.version import ShownInCatalog
from shopd.db import Base, UTCDateTime, utcnow
from shopd.translations import Translated


class Series(Base, ShownInCatalog, Translated):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    translations: Mapped[dict[str, dict[str, str]] | None] = mapped_column(
        JSON, nullable=True, default=dict
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    categories: Mapped[list[Category]] = relationship(
        back_populates="series", order_by="Category.position"
    )


class Category(Base, ShownInCatalog, Translated):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    translations: Mapped[dict[str, dict[str, str]] | None] = mapped_column(
        JSON, nullable=True, default=dict
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    series: Mapped[Series] = relationship(back_populates="categories")


class Product(Base, ShownInCatalog, Translated):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    translations: Mapped[dict[str, dict[str, str]] | None] = mapped_column(
        JSON, nullable=True, default=dict
    )
    description: Mapped[str] = mapped_column(Text, default="")
    # Minor units (fen, cents) of the shop currency; a SKU may override it.
    list_price: Mapped[int] = mapped_column(BigInteger)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    listed: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    # draft (new or changed, waiting for a manager) or approved (may be listed).
    review_state: Mapped[str] = mapped_column(
        String(16), default="approved", server_default=text("'approved'")
    )
    # Lower-cased names, SKU codes and category names in one column, so one LIKE finds a
    # product by any of them; substring search works the same for Chinese and Latin text.
    search_text: Mapped[str] = mapped_column(Text, default="")
    sold_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship()
    skus: Mapped[list[Sku]] = relationship(back_populates="product", order_by="Sku.id")


class Sku(Base, ShownInCatalog):
    __tablename__ = "skus"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # Variant attributes such as {"size": "M", "colour": "藏青 Navy"}.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    product: Mapped[Product] = relationship(back_populates="skus")

    def effective_price(self, product: Product) -> int:
        return self.price if self.price is not None else product.list_price


class PriceChange(Base):
    """Every price change: of a product's list price (sku_id empty) or a SKU's override."""

    __tablename__ = "price_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"), nullable=True)
    old_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    new_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class MediaFile(Base):
    """An uploaded image, in the database so that every app server can answer for it and every
    backup holds it; each app server keeps a copy on its disk to serve (``catalog.media``)."""

    __tablename__ = "media_files"

    # products/<sha256 prefix>.<kind>: the path under /media/, content-addressed.
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    # MEDIUMBLOB on MariaDB (16 MiB): the largest upload config.max_image_bytes allows fits.
    data: Mapped[bytes] = mapped_column(
        LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchSynonym(Base, ShownInCatalog):
    """A group of words staff made equal for search (``hoody, hoodie``; ``茶壶, 紫砂壶``; the
    Spanish ``tetera, teapot``): a query for one finds what the others find. Shown in the
    catalog, so a change rebuilds every worker's search index (``shopd.catalog.search``)."""

    __tablename__ = "search_synonyms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CatalogVersion(Base):
    """One row: moves on with every change to what catalog pages show (``changes``)."""

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


# Schemas made from the models (tests, not migrations) get the one row too.
event.listen(
    CatalogVersion.__table__,
    "after_create",
    DDL("INSERT INTO catalog_version (id, version) VALUES (1, 0)"),
)

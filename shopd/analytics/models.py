"""What the visit counter keeps: views per day and thing seen, and each day's visitors as salted
hashes (nothing that names a person, and a hash that cannot be matched across days)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from shopd.db import Base

# What a view is counted against. A search counts its query; one that found nothing counts
# again under `search_empty`, so the shop sees what customers look for and cannot find.
KINDS = ("page", "topic", "category", "product", "search", "search_empty")
MAX_KEY = 200


class PageView(Base):
    __tablename__ = "page_views"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    views: Mapped[int] = mapped_column(BigInteger, default=0)


class DailyVisitor(Base):
    __tablename__ = "daily_visitors"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    visitor: Mapped[str] = mapped_column(String(32), primary_key=True)

"""Shop settings the admin changes at run time, with their defaults and checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shopd.errors import InvalidInput, NotFound
from shopd.staff.audit import Actor, record
from shopd.staff.models import ShopSetting


@dataclass(frozen=True, slots=True)
class Known:
    default: Any
    describe: str
    check: Callable[[Any], bool]


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _non_negative_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10**12


def _basis_points(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10_000


BANK_DETAILS_LANGUAGES = ("en", "zh", "es")
MAX_BANK_DETAILS = 1000


def _bank_details(v: Any) -> bool:
    """Per language, the text a customer pays a transfer with (account holder, bank, account
    number): ``{"en": "…", "zh": "…", "es": "…"}``, any of them."""
    return isinstance(v, dict) and all(
        k in BANK_DETAILS_LANGUAGES and isinstance(t, str) and len(t) <= MAX_BANK_DETAILS
        for k, t in v.items()
    )


def bank_details_in(value: dict[str, str], language: str, shop_language: str) -> str:
    """The bank details in ``language``, else in the shop's language, else in any given."""
    for candidate in (language, shop_language, *BANK_DETAILS_LANGUAGES):
        text = (value or {}).get(candidate, "").strip()
        if text:
            return text
    return ""


KNOWN: dict[str, Known] = {
    "bank_details": Known(
        {},
        'where customers send a bank transfer, per language: {"en": "…", "zh": "…", "es": "…"} '
        f"(each at most {MAX_BANK_DETAILS} characters)",
        _bank_details,
    ),
    "hide_sold_out": Known(
        False,
        "delist products with nothing available instead of showing them as sold out "
        "(they come back by themselves when stock returns)",
        _bool,
    ),
    "monthly_sales_target": Known(0, "sales target per month, minor units", _non_negative_int),
    "yearly_sales_target": Known(0, "sales target per year, minor units", _non_negative_int),
    "daily_orders_target": Known(0, "orders per day the shop plans for", _non_negative_int),
    "conversion_target_bp": Known(
        200, "orders per 10,000 visitors the shop plans for (200 is 2 %)", _basis_points
    ),
    "favourable_review_target_bp": Known(
        9850, "favourable reviews per 10,000 the shop aims at (9850 is 98.5 %)", _basis_points
    ),
}


async def get_all(session: AsyncSession) -> dict[str, Any]:
    values = {key: known.default for key, known in KNOWN.items()}
    rows = await session.execute(select(ShopSetting))
    for row in rows.scalars():
        if row.key in KNOWN:
            values[row.key] = row.value
    return values


async def get(session: AsyncSession, key: str) -> Any:
    row = await session.get(ShopSetting, key)
    return row.value if row is not None else KNOWN[key].default


async def put(session: AsyncSession, actor: Actor, key: str, value: Any) -> Any:
    actor.require("admin")
    known = KNOWN.get(key)
    if known is None:
        raise NotFound(
            f"no setting {key!r}", code="unknown_setting", details={"known": sorted(KNOWN)}
        )
    if not known.check(value):
        raise InvalidInput(f"not a valid value for {key}: {known.describe}", code="invalid_setting")
    row = await session.get(ShopSetting, key)
    before = row.value if row is not None else known.default
    if row is None:
        session.add(ShopSetting(key=key, value=value, updated_by=actor.label))
    else:
        row.value, row.updated_by = value, actor.label
    record(session, actor, "settings.put", "setting", key, before={key: before}, after={key: value})
    await session.flush()
    return value

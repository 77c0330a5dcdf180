"""Money, numbers and times as people read them, per language (en, zh, es), with Babel.

The storefront, the CLI reports and the staff TUI all format through here. Amounts are kept
in minor units (fen, cents) everywhere else and divided only here.

Money patterns: CLDR's per language, with the shop's own symbols. Babel's English data writes
the yuan ``CN¥``, while the shop has always written ``¥`` (a shop shows one currency, so the
narrow symbol is unambiguous); and the sign goes after the symbol (``¥-30.00``) in English and
Chinese, as the shop has always written it. Spanish follows CLDR (``1.234,50 ¥``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as format_date_babel
from babel.dates import format_datetime as format_datetime_babel
from babel.dates import format_time
from babel.numbers import NumberPattern, format_decimal, parse_pattern

DEFAULT_LANGUAGE = "en"
# The shop's languages and the Babel locale each formats in.
LOCALES = {"en": "en", "zh": "zh_Hans_CN", "es": "es"}
# The shop's symbols: CLDR's narrow ones for the currencies a shop here sells in. Any other
# currency is written with its ISO code (``GBP 12.00``).
SYMBOLS = {"CNY": "¥", "EUR": "€", "USD": "$"}
# Minor units to a major unit: the shop keeps every amount in hundredths.
MINOR_DIGITS = 2


@lru_cache(maxsize=8)
def _locale(language: str) -> Locale:
    return Locale.parse(LOCALES.get(language, LOCALES[DEFAULT_LANGUAGE]))


@lru_cache(maxsize=64)
def _money_pattern(language: str, currency: str, code: bool) -> NumberPattern:
    symbol = None if code else SYMBOLS.get(currency)
    # ``'¥'`` is the symbol as a literal; ``¤¤`` is Babel's ISO code (CNY).
    mark = f"'{symbol}'" if symbol else "¤¤"
    if language == "es":
        return parse_pattern(f"#,##0.00\xa0{mark};-#,##0.00\xa0{mark}")
    mark = mark if symbol else "¤¤ "
    return parse_pattern(f"{mark}#,##0.00;{mark}-#,##0.00")


def major_units(minor_units: int) -> float:
    """An amount in the currency's major unit, for a chart's axis (``12345`` → ``123.45``)."""
    return minor_units / 10**MINOR_DIGITS


# Prices repeat across a page and across pages: a formatted amount is cached, as Babel takes
# several times an f-string's time.
@lru_cache(maxsize=4096)
def format_money(
    minor_units: int, currency: str, language: str = DEFAULT_LANGUAGE, *, code: bool = False
) -> str:
    """``1234550`` CNY → ``¥12,345.50`` (en, zh), ``12.345,50 ¥`` (es); with ``code`` the ISO
    code instead of the symbol (``CNY 12,345.50``: the staff TUI)."""
    pattern = _money_pattern(language, currency, code)
    return pattern.apply(
        Decimal(minor_units).scaleb(-MINOR_DIGITS),
        _locale(language),
        currency=currency,
        currency_digits=False,
    )


def format_number(value: int | float | Decimal, language: str = DEFAULT_LANGUAGE) -> str:
    """A count with the language's grouping: ``12,345`` (en, zh), ``12.345`` (es)."""
    return format_decimal(value, format="#,##0.###", locale=_locale(language))


def format_datetime(moment: dt.datetime, timezone: str | ZoneInfo, *, seconds: bool = True) -> str:
    """A moment on the shop's clock, written the same in every language (``2026-03-04 13:06``,
    with ``:07`` seconds unless left out): staff and customers compare these across pages.
    The ISO form has nothing to localise, so it is written directly (Babel's pattern
    ``yyyy-MM-dd HH:mm:ss`` gives the same text in ten times the time)."""
    zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_date(day: dt.date) -> str:
    """A day as ``2026-03-04`` in every language."""
    return day.isoformat()


def shop_date(
    moment: dt.datetime, timezone: str | ZoneInfo, language: str = DEFAULT_LANGUAGE
) -> str:
    """The day of a moment on the shop's clock, per language: ``Dec 8, 2026``, ``2026年12月8日``,
    ``8 dic 2026`` (a ledger's or a guestbook's day, where the hour does not matter)."""
    zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return format_date_babel(moment.astimezone(zone), "medium", locale=_locale(language))


def shop_time(
    moment: dt.datetime, timezone: str | ZoneInfo, language: str = DEFAULT_LANGUAGE
) -> str:
    """A moment as a customer reads it, on the shop's clock with the zone named, per language:
    ``Dec 7, 2026 18:05 China Standard Time``, ``2026年12月7日 18:05 中国标准时间``,
    ``7 dic 2026 18:05 hora estándar de China``. The zone is named because a shopper abroad
    reads the shop's clock, not their own."""
    zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    if moment.tzinfo is None:  # the database's naive moments are UTC
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(zone)
    locale = _locale(language)
    day = format_date_babel(local, "medium", locale=locale)
    clock = format_time(local, "HH:mm", locale=locale)
    return f"{day} {clock} {format_datetime_babel(local, 'zzzz', tzinfo=zone, locale=locale)}"

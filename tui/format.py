"""How the TUI writes money and times: the shop's currency and the shop's clock, formatted by
the core's ``shopd.formatting`` (the TUI is in English and writes the currency's ISO code)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from shopd.formatting import format_datetime, format_money


def money(amount: int, currency: str) -> str:
    return format_money(amount, currency, code=True)


def when(iso: str | None, tz: ZoneInfo) -> str:
    if not iso:
        return ""
    return format_datetime(dt.datetime.fromisoformat(iso), tz, seconds=False)


def parse_money(text: str) -> int | None:
    """``"12.50"`` → 1250 fen; None when it is not an amount of money."""
    try:
        whole, _, frac = text.strip().partition(".")
        if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
            return None
        return int(whole) * 100 + int(frac.ljust(2, "0") or 0)
    except ValueError:
        return None

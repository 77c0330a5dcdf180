"""How the TUI writes money and times: the shop's currency and the shop's clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def money(amount: int, currency: str) -> str:
    return f"{currency} {amount / 100:,.2f}"


def when(iso: str | None, tz: ZoneInfo) -> str:
    if not iso:
        return ""
    return dt.datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def parse_money(text: str) -> int | None:
    """``"12.50"`` → 1250 fen; None when it is not an amount of money."""
    try:
        whole, _, frac = text.strip().partition(".")
        if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
            return None
        return int(whole) * 100 + int(frac.ljust(2, "0") or 0)
    except ValueError:
        return None

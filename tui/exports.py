"""Exports for the accountant: the orders placed between two days, and every SKU's stock, as
CSV files the user names (by default in the home directory). Amounts are written as decimals in
the shop's currency, times in the shop's time zone; the file starts with a byte-order mark so a
spreadsheet opens Chinese names right."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from textual.dom import DOMNode

from tui.client import ApiError, StaffClient
from tui.common import client_of, report, say
from tui.dialogs import ConfirmDialog, FormDialog

PAGE = 200  # the most the staff API pages by
ORDER_COLUMNS = (
    "number",
    "placed",
    "status",
    "payment",
    "paid",
    "items",
    "total",
    "refunded",
    "net",
    "currency",
    "email",
    "recipient",
    "city",
)
STOCK_COLUMNS = ("sku", "product", "on_hand", "reserved", "available", "threshold", "low")


class ExportError(Exception):
    pass


def decimal(amount: int) -> str:
    """Minor units as the decimal a spreadsheet sums: 8900 → 89.00."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ExportError(f"'{text}' is not a day like 2026-11-01") from None


def order_row(o: dict[str, Any], tz: ZoneInfo) -> list[str]:
    placed = dt.datetime.fromisoformat(o["placed_at"]).astimezone(tz)
    return [
        o["number"],
        f"{placed:%Y-%m-%d %H:%M}",
        o["status"],
        o["payment_method"],
        "yes" if o["paid"] else "no",
        str(o["item_count"]),
        decimal(o["total"]),
        decimal(o["refunded_total"]),
        decimal(o["total"] - o["refunded_total"]),
        o["currency"],
        o["email"],
        o["recipient"],
        o["city"],
    ]


async def orders_between(
    client: StaffClient, first: dt.date, last: dt.date
) -> list[dict[str, Any]]:
    """The orders placed from ``first`` to ``last`` (shop days, both included), oldest first.
    The list comes newest first: paging stops at the first order before ``first``."""
    tz = client.timezone
    start = dt.datetime.combine(first, dt.time(), tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        data = await client.orders(page=page, per_page=PAGE)
        for o in data["items"]:
            placed = dt.datetime.fromisoformat(o["placed_at"])
            if placed < start:
                return found[::-1]
            if placed < end:
                found.append(o)
        if page * PAGE >= data["total"]:
            return found[::-1]
        page += 1


async def all_stock(client: StaffClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        data = await client.stock(page=page, per_page=PAGE)
        items += data["items"]
        if page * PAGE >= data["total"]:
            return items
        page += 1


def write_csv(path: Path, header: Iterable[str], rows: Iterable[list[str]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        for row in rows:
            out.writerow(row)
            n += 1
    return n


def checked_path(raw: str) -> tuple[Path, bool]:
    """The file named, and whether it exists already; its folder must exist."""
    path = Path(raw).expanduser()
    if not path.parent.is_dir():
        raise ExportError(f"there is no folder {path.parent}")
    if path.is_dir():
        raise ExportError(f"{path} is a folder; name a file")
    return path, path.exists()


async def _target(node: DOMNode, raw: str) -> Path | None:
    """The file to write; an existing one is replaced only when the user says so."""
    path, exists = checked_path(raw)
    if exists and not await node.app.push_screen_wait(
        ConfirmDialog(f"{path} exists. Replace it?", ok="Replace")
    ):
        return None
    return path


async def _export_orders(node: DOMNode) -> None:
    client = client_of(node)
    today = dt.datetime.now(client.timezone).date()
    values = await node.app.push_screen_wait(
        FormDialog(
            "Export orders to CSV (placed from … to …, shop days)",
            [("first", "from, e.g. 2026-11-01"), ("last", "to"), ("path", "file")],
            ok="Export",
            values={
                "first": today.replace(day=1).isoformat(),
                "last": today.isoformat(),
                "path": f"~/shopd-orders-{today:%Y%m%d}.csv",
            },
        )
    )
    if not values:
        return
    try:
        first, last = day(values["first"]), day(values["last"])
        if last < first:
            raise ExportError("the last day is before the first")
        path = await _target(node, values["path"] or f"~/shopd-orders-{today:%Y%m%d}.csv")
        if path is None:
            return
        say(node, f"exporting orders {first} to {last}…")
        orders = await orders_between(client, first, last)
        rows = [order_row(o, client.timezone) for o in orders]
        n = await asyncio.to_thread(write_csv, path, ORDER_COLUMNS, rows)
    except ApiError as exc:
        report(node, exc, prefix="not exported: ")
        return
    except (ExportError, OSError) as exc:
        say(node, f"not exported: {exc}", error=True)
        return
    net = sum(o["total"] - o["refunded_total"] for o in orders)
    say(node, f"wrote {n} orders ({first} to {last}, net {decimal(net)}) to {path}")


async def _export_stock(node: DOMNode) -> None:
    client = client_of(node)
    today = dt.datetime.now(client.timezone).date()
    default = f"~/shopd-stock-{today:%Y%m%d}.csv"
    values = await node.app.push_screen_wait(
        FormDialog("Export stock to CSV", [("path", "file")], ok="Export", values={"path": default})
    )
    if not values:
        return
    try:
        path = await _target(node, values["path"] or default)
        if path is None:
            return
        items = await all_stock(client)
        rows = [
            [
                s["sku"],
                s["product"],
                str(s["on_hand"]),
                str(s["reserved"]),
                str(s["available"]),
                str(s["threshold"]),
                "yes" if s["low"] else "no",
            ]
            for s in items
        ]
        n = await asyncio.to_thread(write_csv, path, STOCK_COLUMNS, rows)
    except ApiError as exc:
        report(node, exc, prefix="not exported: ")
        return
    except (ExportError, OSError) as exc:
        say(node, f"not exported: {exc}", error=True)
        return
    say(node, f"wrote {n} SKUs to {path}")


def export_orders(node: DOMNode) -> None:
    # A worker: the dialogs wait for the user, the screen stays live.
    node.run_worker(_export_orders(node), group="export", exclusive=True)


def export_stock(node: DOMNode) -> None:
    node.run_worker(_export_stock(node), group="export", exclusive=True)

"""Packing slips and a picking list for chosen orders, as a text file or a PDF.

The picking list comes first (every SKU once, with the total to take off the shelf and the
orders it goes to), then one packing slip per order. Printing freezes each order's address on
the server, as a printed slip would."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from textual.dom import DOMNode

from tui.client import ApiError
from tui.common import client_of, report, say
from tui.dialogs import FormDialog
from tui.format import money, when

FORMATS = ("txt", "pdf")
DEFAULT_DIR = "~/shopd-prints"
# Tried in order; the first installed font that has every character of the document is used.
FONT_PATTERNS = ("Noto Sans Mono CJK SC", "monospace:lang=zh-cn", "monospace", "DejaVu Sans Mono")


# A slip's width in cells: a text slip prints on A4 in a monospaced font without wrapping.
WIDTH = 78
QTY, SKU, ITEM = 6, 16, 30  # the columns' widths in cells (the picking list's item column)


class PrintError(Exception):
    pass


def pad(text: str, width: int) -> str:
    """Left-justify by terminal cells, so Chinese names keep the columns straight."""
    return text + " " * max(width - cell_len(text), 0)


def _fits(text: str, width: int) -> int:
    """How many of the text's characters fit in ``width`` cells."""
    used = 0
    for n, ch in enumerate(text):
        used += cell_len(ch)
        if used > width:
            return n
    return len(text)


def cut(text: str, width: int) -> str:
    """The text in ``width`` cells, an ellipsis where it was cut."""
    if cell_len(text) <= width:
        return text
    return text[: _fits(text, width - 1)] + "…"


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` cells, broken at a space where there is one (Chinese has
    none: it breaks anywhere)."""
    out, rest = [], text.strip()
    while cell_len(rest) > width:
        n = _fits(rest, width)
        space = rest.rfind(" ", 0, n + 1)
        if space > 0:
            n = space
        out.append(rest[:n].rstrip())
        rest = rest[n:].lstrip()
    return [*out, rest]


def item_name(line: dict[str, Any]) -> str:
    return " ".join([line["name"], *line["attributes"].values()])


def picking_list(orders: list[dict[str, Any]], tz: ZoneInfo, now: dt.datetime) -> list[str]:
    totals: dict[str, tuple[str, int, list[str]]] = {}
    for o in orders:
        for line in o["items"]:
            name, qty, numbers = totals.get(line["sku"], (item_name(line), 0, []))
            totals[line["sku"]] = (name, qty + line["quantity"], [*numbers, o["number"]])
    out = [
        f"PICKING LIST  {now.astimezone(tz):%Y-%m-%d %H:%M}  {len(orders)} orders",
        "",
        f"{'qty':>4}  {pad('SKU', SKU)}{pad('item', ITEM)}orders",
    ]
    indent = " " * QTY
    for sku in sorted(totals):
        name, qty, numbers = totals[sku]
        # A long name wraps inside its column, so it never runs into the orders (the last
        # column, on the SKU's first line: the picker reads them with the total).
        names = wrap(name, ITEM - 2)
        out.append(
            f"{qty:>4}  {pad(cut(sku, SKU - 1), SKU)}{pad(names[0], ITEM)}{', '.join(numbers)}"
        )
        out += [indent + " " * SKU + more for more in names[1:]]
    out += ["", f"{sum(t[1] for t in totals.values())} units of {len(totals)} SKUs"]
    return out


def packing_slip(o: dict[str, Any], tz: ZoneInfo, shop: dict[str, str] | None = None) -> list[str]:
    to = o["ship_to"]
    cod = o["payment_method"] == "cod" and not o["paid_at"]
    paid = "paid" if o["paid_at"] else "to be paid on delivery" if cod else "unpaid"
    out = []
    if shop:
        out += [shop["name"]]
        if shop["return_address"]:
            out += [f"  returns to: {line}" for line in wrap(shop["return_address"], WIDTH - 14)]
        if shop["contact_email"]:
            out.append(f"  questions: {shop['contact_email']}")
        out.append("")
    out += [
        f"PACKING SLIP  {o['number']}"
        + (
            f"  (reprint: first printed {when(o['printed_at'], tz)})" if o.get("printed_at") else ""
        ),
        f"placed {when(o['placed_at'], tz)} · {o['payment_method']} ({paid})",
    ]
    if cod:
        # What the courier must collect, where the courier looks first.
        owed = o["total"] - o["refunded_total"]
        out += ["", f"*** CASH ON DELIVERY: COLLECT {money(owed, o['currency'])} ***"]
    out += ["", f"ship to: {to['recipient']}  {to['phone']}"]
    for part in (f"{to['region']} {to['city']}", f"{to['line1']} {to['line2']}", to["postcode"]):
        if part.strip():
            out += [" " * 9 + line for line in wrap(part, WIDTH - 9)]
    out += ["", f"{'qty':>4}  {pad('SKU', SKU)}item"]
    for line in o["items"]:
        names = wrap(item_name(line), WIDTH - QTY - SKU)
        out.append(f"{line['quantity']:>4}  {pad(cut(line['sku'], SKU - 1), SKU)}{names[0]}")
        out += [" " * (QTY + SKU) + more for more in names[1:]]
    out += ["", f"{sum(ln['quantity'] for ln in o['items'])} items"]
    if o["note"]:
        out += ["", *wrap(f"customer note: {o['note']}", WIDTH)]
    return out


def pages(
    orders: list[dict[str, Any]],
    tz: ZoneInfo,
    now: dt.datetime,
    shop: dict[str, str] | None = None,
) -> list[list[str]]:
    return [picking_list(orders, tz, now), *(packing_slip(o, tz, shop) for o in orders)]


def write_text(path: Path, doc: list[list[str]]) -> None:
    # A form feed between pages: `lp` and most printers start a new sheet there.
    path.write_text("\f".join("\n".join(p) + "\n" for p in doc), encoding="utf-8")


def _fc_match(pattern: str) -> tuple[str, int] | None:
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}|%{index}", pattern],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    file, _, index = out.partition("|")
    return (file, int(index or 0)) if file else None


def find_font(chars: Iterable[str]) -> tuple[str, int]:
    from fontTools.ttLib import TTFont

    needed = {ord(c) for c in chars if not c.isspace()}
    tried = []
    missing = needed
    for pattern in FONT_PATTERNS:
        found = _fc_match(pattern)
        if not found or found in tried:
            continue
        tried.append(found)
        cmap = TTFont(found[0], fontNumber=found[1], lazy=True).getBestCmap()
        if needed <= set(cmap):
            return found
        missing = needed - set(cmap)
    example = chr(min(missing)) if missing else "?"
    raise PrintError(
        f"no installed font can write every character (e.g. {example!r}); install "
        "fonts-noto-cjk, or print as text"
    )


def write_pdf(path: Path, doc: list[list[str]]) -> None:
    from fpdf import FPDF

    font, index = find_font("".join("".join(p) for p in doc))
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("slip", fname=font, collection_font_number=index)
    pdf.set_font("slip", size=10)
    pdf.set_title("packing slips")
    for page in doc:
        pdf.add_page()
        for line in page:
            pdf.multi_cell(0, 5, text=line or " ", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def write(doc: list[list[str]], folder_name: str, fmt: str, now: dt.datetime) -> Path:
    folder = Path(folder_name).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"packing-{now:%Y%m%d-%H%M%S}"
    path = folder / f"{stem}.{fmt}"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.{fmt}"
    (write_pdf if fmt == "pdf" else write_text)(path, doc)
    return path


async def print_orders(node: DOMNode, numbers: list[str]) -> tuple[str, bool] | None:
    """Ask for the format and folder, write the file, and mark the orders printed. Returns what
    to tell the user (and whether it is bad news); None when nothing was printed."""
    values = await node.app.push_screen_wait(
        FormDialog(
            f"Print {len(numbers)} packing slips and a picking list",
            [("format", "txt or pdf"), ("folder", "folder")],
            ok="Print",
            values={"format": "txt", "folder": DEFAULT_DIR},
        )
    )
    if not values:
        return None
    fmt = values["format"].lower() or "txt"
    if fmt not in FORMATS:
        say(node, "the format is txt or pdf", error=True)
        return None
    client = client_of(node)
    try:
        orders = [await client.order(n) for n in numbers]
        shop = await client.get("/shop")
    except ApiError as exc:
        report(node, exc, prefix="")
        return None
    now = dt.datetime.now(dt.UTC)
    try:
        # A PDF with an embedded font takes a moment: off the event loop, the screen stays live.
        path = await asyncio.to_thread(
            write, pages(orders, client.timezone, now, shop), values["folder"], fmt, now
        )
    except (PrintError, OSError) as exc:
        say(node, f"not printed: {exc}", error=True)
        return None
    refused, marked = [], 0
    for n in numbers:
        try:
            await client.order_action(n, "print")
            marked += 1
        except ApiError as exc:
            refused.append(f"{n} ({exc.message})")
    note = f"; not marked printed: {', '.join(refused)}" if refused else ""
    return f"wrote {path}; {marked} marked printed{note}", bool(refused)
